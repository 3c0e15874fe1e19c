"""The fixture generators: deterministic for a seed, scaled by the patient count,
with realistic weekly mood rhythm, realistic medication adherence, appointments
inside working hours, and journals and conversations free of crisis language."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from datetime import date, timedelta
from typing import Any

from wellness_repo.analysis.adherence import TAKEN_STATUSES, DoseStatus
from wellness_repo.analysis.availability import BusyInterval, check_slot
from wellness_repo.analysis.crisis_language import assess_text
from wellness_repo.analysis.intents import recognise_intent
from wellness_repo.models.appointments import AppointmentStatus
from wellness_repo.models.types import ID_PATTERN
from wellness_repo.security.passwords import hash_password
from wellness_repo.seeding import SEED_UNITS, FixtureWorld
from wellness_repo.seeding.generators.conversations import (
    CONVERSATION_SCRIPTS,
    conversations,
)
from wellness_repo.seeding.generators.engagement import (
    daily_moods,
    journal_entries,
    mood_entries,
)
from wellness_repo.seeding.generators.medications import dose_logs, medications
from wellness_repo.seeding.generators.people import patient_accounts, providers
from wellness_repo.seeding.generators.scheduling import (
    US_TIME_ZONES,
    appointments,
    provider_calendars,
)

AS_OF = date(2026, 11, 30)
HASH = hash_password("fixture-account-password-not-for-production")


def world(seed: int = 11, patients: int = 60, days: int = 90) -> FixtureWorld:
    return FixtureWorld(
        seed=seed, patients=patients, as_of=AS_OF, history_days=days, password_hash=HASH
    )


def every_record(fixtures: FixtureWorld) -> list[dict[str, Any]]:
    return [
        record.model_dump(by_alias=True)
        for unit in SEED_UNITS
        for group in unit.generate(fixtures)
        for record in group
    ]


def test_the_same_seed_and_scale_generate_identical_records() -> None:
    first = every_record(world())

    second = every_record(world())

    assert first == second


def test_another_seed_generates_other_ids_and_people() -> None:
    first = [record["_id"] for record in every_record(world(seed=11))]

    second = [record["_id"] for record in every_record(world(seed=12))]

    assert not set(first) & set(second)


def test_ids_are_unique_per_kind_and_follow_the_platform_id_format() -> None:
    fixtures = world()

    for unit in SEED_UNITS:
        ids = [record.id for group in unit.generate(fixtures) for record in group]

        assert len(ids) == len(set(ids)), unit.name
        assert all(re.fullmatch(ID_PATTERN, record_id) for record_id in ids)


def test_one_provider_is_seeded_per_twenty_five_patients() -> None:
    fixtures = world(patients=101)

    seeded = [provider for group in providers(fixtures) for provider in group]

    assert len(seeded) == math.ceil(101 / 25)


def test_patient_usernames_are_unique_and_mark_the_seed() -> None:
    fixtures = world(patients=300)

    accounts = [account for group in patient_accounts(fixtures) for account in group]

    assert len({account.username for account in accounts}) == 300
    assert all(".s11p" in account.username for account in accounts)
    assert all(account.email.endswith("@fixtures.example.org") for account in accounts)


def test_moods_are_lowest_on_mondays_and_highest_at_weekends() -> None:
    fixtures = world(patients=200)
    by_weekday: dict[int, list[int]] = {day: [] for day in range(7)}

    for group in mood_entries(fixtures):
        for entry in group:
            by_weekday[entry.created_at.weekday()].append(entry.mood_rating)

    means = {day: statistics.mean(ratings) for day, ratings in by_weekday.items()}
    assert means[0] == min(means.values())
    assert max(means[5], means[6]) == max(means.values())


def test_moods_improve_over_the_first_months_of_treatment() -> None:
    fixtures = world(patients=200, days=120)
    gains = []

    for index in range(fixtures.patients):
        profile = fixtures.profile(index)
        start = profile.treatment_start
        if start is None or start < fixtures.first_day + timedelta(days=14):
            continue
        moods = daily_moods(fixtures, profile)
        before = [mood for day, mood in moods.items() if day < start]
        late = [mood for day, mood in moods.items() if day >= start + timedelta(70)]
        if before and late:
            gains.append(statistics.mean(late) - statistics.mean(before))

    assert len(gains) >= 20
    assert statistics.mean(gains) > 0.5


def test_most_patients_log_their_mood_on_most_days() -> None:
    fixtures = world(patients=100, days=60)

    counts = [len(group) for group in mood_entries(fixtures)]

    assert 0.4 * 60 < statistics.median(counts) < 1.1 * 60


def test_seeded_journals_carry_no_crisis_language() -> None:
    fixtures = world(patients=300)

    entries = [entry for group in journal_entries(fixtures) for entry in group]

    assert len(entries) > 500
    assert not [entry.id for entry in entries if assess_text(entry.written_text)]


def test_splitting_the_work_over_workers_yields_the_same_records() -> None:
    whole = every_record(world(patients=40))

    split = [
        record
        for part in range(3)
        for record in every_record(
            FixtureWorld(
                seed=11,
                patients=40,
                as_of=AS_OF,
                history_days=90,
                password_hash=HASH,
                part=part,
                parts=3,
            )
        )
    ]

    def key(record: dict[str, Any]) -> str:
        return f"{record['_id']}:{record.get('username', '')}"

    assert sorted(split, key=key) == sorted(whole, key=key)


def test_most_patients_take_70_to_95_percent_of_doses_and_some_far_fewer() -> None:
    fixtures = world(patients=300)
    rates = []

    for group in dose_logs(fixtures):
        if len(group) >= 20:
            taken = [log for log in group if log.status in TAKEN_STATUSES]
            rates.append(len(taken) / len(group))

    assert len(rates) > 100
    share_typical = sum(0.65 <= rate <= 0.97 for rate in rates) / len(rates)
    share_poor = sum(rate < 0.65 for rate in rates) / len(rates)
    assert share_typical > 0.6
    assert 0.05 < share_poor < 0.3
    assert 0.7 < statistics.median(rates) < 0.95


def test_missed_doses_cluster_on_evenings_and_weekends() -> None:
    fixtures = world(patients=300)
    doses = [log for group in dose_logs(fixtures) for log in group]

    def missed_share(chosen: list[Any]) -> float:
        missed = [log for log in chosen if log.status not in TAKEN_STATUSES]
        return len(missed) / len(chosen)

    evening = [log for log in doses if log.local_time >= "18:00"]
    morning = [log for log in doses if log.local_time < "12:00"]
    weekend = [log for log in doses if log.weekday >= 6]
    weekday = [log for log in doses if log.weekday <= 5]
    assert missed_share(evening) > 1.4 * missed_share(morning)
    assert missed_share(weekend) > 1.3 * missed_share(weekday)


def test_doses_sit_on_their_medications_schedule_and_skips_carry_reasons() -> None:
    fixtures = world(patients=80)
    schedules = {
        medication.id: medication
        for group in medications(fixtures)
        for medication in group
    }

    for group in dose_logs(fixtures):
        for log in group:
            medication = schedules[log.medication_id]
            assert log.local_time in medication.schedule.times
            assert medication.start_date <= log.local_date < AS_OF
            assert log.patient_id == medication.patient_id
            if log.status is DoseStatus.SKIPPED:
                assert log.reason


def test_clinicians_work_eight_weekday_hours_in_a_us_time_zone() -> None:
    fixtures = world(patients=200)

    calendars = [item for group in provider_calendars(fixtures) for item in group]

    assert len(calendars) == fixtures.providers
    assert {item.time_zone for item in calendars} <= {zone for zone, _ in US_TIME_ZONES}
    assert all(len(item.weekly_hours) == 5 for item in calendars)


def test_appointments_fall_in_working_hours_without_overlaps() -> None:
    fixtures = world(patients=200, days=60)
    rules = {
        item.provider_id: item.rules()
        for group in provider_calendars(fixtures)
        for item in group
    }
    busy: dict[str, list[BusyInterval]] = {}

    for group in appointments(fixtures):
        for visit in group:
            provider = rules[visit.provider_id]
            taken = busy.setdefault(visit.provider_id, [])
            verdict = check_slot(
                provider, taken, visit.scheduled_start, visit.duration_minutes
            )
            assert verdict.available, (visit.id, verdict.reason)
            taken.append(BusyInterval(visit.scheduled_start, visit.scheduled_end))


def test_past_visits_have_ended_and_upcoming_ones_are_booked() -> None:
    fixtures = world(patients=200, days=60)
    visits = [visit for group in appointments(fixtures) for visit in group]
    edge = fixtures.at(AS_OF, 0)

    past = [visit for visit in visits if visit.scheduled_start < edge]
    ahead = [visit for visit in visits if visit.scheduled_start >= edge]
    outcomes = Counter(visit.status for visit in past)

    assert {visit.status for visit in ahead} <= {
        AppointmentStatus.SCHEDULED,
        AppointmentStatus.CONFIRMED,
    }
    assert outcomes[AppointmentStatus.COMPLETED] > 0.75 * len(past)
    assert outcomes[AppointmentStatus.NO_SHOW] > 0
    assert outcomes[AppointmentStatus.CANCELLED] > 0
    assert len(ahead) > 100


def test_seeded_conversations_carry_no_crisis_language() -> None:
    fixtures = world(patients=300)
    seeded = [item for group in conversations(fixtures) for item in group]
    scripts = [
        text
        for kind in CONVERSATION_SCRIPTS.values()
        for lines in kind
        for text in lines
    ]

    texts = [text for item in seeded for text in item.messages]

    assert len(seeded) > 200
    assert not [text for text in texts + scripts if assess_text(text)]
    assert not [text for text in texts if recognise_intent(text).is_crisis]
