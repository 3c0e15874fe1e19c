"""Adherence on both backends: a known week worked out by hand, the report's
rows, patterns and trend, a schedule across a daylight-saving change, and the
database's dose tally held to the plain-Python reference (hypothesis)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.medication_data import (
    PATIENT,
    SKIP_REASON,
    as_needed,
    days_back,
    local_instant,
    sertraline,
    twice_daily,
)
from wellness_repo import (
    AdherenceTrend,
    DatabaseManager,
    DoseStatus,
    Medication,
    MedicationRepository,
    ValidationError,
)
from wellness_repo.analysis.adherence import LoggedDose, tally_doses

R = TypeVar("R")

START = days_back(9)
END = START + timedelta(days=6)
AFTER_END = local_instant(END, "23:59")
CLOCKS = ("08:00", "20:00")


@pytest.fixture
def repo(db: DatabaseManager) -> MedicationRepository:
    return MedicationRepository(db)


async def take(
    repo: MedicationRepository, med: Medication, day: date, clock: str
) -> None:
    slot = local_instant(day, clock)
    await repo.record_dose(med.id, DoseStatus.TAKEN, scheduled_for=slot, taken_at=slot)


async def the_known_week(repo: MedicationRepository) -> tuple[Medication, Medication]:
    """Lamotrigine at 08:00 and 20:00 for seven days: taken 11 of 14 times
    (not Tuesday-of-the-week evening, nor all of day 4); hydroxyzine PRN twice."""
    med = await repo.create(twice_daily(start_date=START))
    prn = await repo.create(as_needed(start_date=START))
    not_taken = {(1, "20:00"), (3, "08:00"), (3, "20:00")}
    for offset in range(7):
        for clock in CLOCKS:
            if (offset, clock) not in not_taken:
                await take(repo, med, START + timedelta(days=offset), clock)
    for clock in ("10:15", "22:40"):
        await repo.record_dose(
            prn.id, "taken", taken_at=local_instant(START + timedelta(days=2), clock)
        )
    return med, prn


async def test_a_known_week_gives_the_numbers_worked_out_by_hand(
    repo: MedicationRepository,
) -> None:
    med, prn = await the_known_week(repo)

    adherence = await repo.calculate_adherence(PATIENT, period_days=7, as_of=AFTER_END)

    row = adherence.for_medication(med.id)
    assert row is not None
    # 14 doses due, 11 taken: 78.6 %. Days 2 and 4 lack a dose: 5 of 7 covered.
    assert (row.doses_taken, row.doses_scheduled) == (11, 14)
    assert row.dose_rate == pytest.approx(0.7857, abs=1e-4)
    assert (row.days_covered, row.days_due) == (5, 7)
    prn_row = adherence.for_medication(prn.id)
    assert prn_row is not None
    assert (prn_row.as_needed, prn_row.as_needed_doses) == (True, 2)
    assert (adherence.doses_taken, adherence.doses_scheduled) == (11, 14)
    assert adherence.pdc == pytest.approx(5 / 7)
    assert (adherence.start_date, adherence.end_date) == (START, END)


async def test_the_report_shows_where_and_when_doses_were_missed(
    repo: MedicationRepository,
) -> None:
    med, _ = await the_known_week(repo)

    report = await repo.generate_adherence_report(PATIENT, START, END, as_of=AFTER_END)

    row = report.row(med.id)
    assert row is not None
    assert row.medication_name == "Lamotrigine"
    assert row.missed_patterns.by_time_of_day == {
        "night": 0, "morning": 1, "afternoon": 0, "evening": 2,
    }  # fmt: skip
    day_two = START + timedelta(days=1)
    day_four = START + timedelta(days=3)
    assert row.missed_patterns.by_weekday[day_two.strftime("%A").lower()] >= 1
    assert row.missed_patterns.by_weekday[day_four.strftime("%A").lower()] >= 2
    assert report.missed_patterns.total == 3
    assert len(report.rows) == 2


async def test_the_trend_compares_with_the_previous_week(
    repo: MedicationRepository,
) -> None:
    earlier = START - timedelta(days=7)
    med = await repo.create(twice_daily(start_date=earlier))
    second_week_misses = {(8, "20:00"), (10, "08:00"), (10, "20:00")}
    for offset in range(14):
        for clock in CLOCKS:
            if (offset, clock) not in second_week_misses:
                await take(repo, med, earlier + timedelta(days=offset), clock)

    report = await repo.generate_adherence_report(PATIENT, START, END, as_of=AFTER_END)

    row = report.row(med.id)
    assert row is not None
    assert row.previous is not None
    assert row.previous.dose_rate == 1.0
    assert row.trend is AdherenceTrend.DECLINING
    assert report.trend is AdherenceTrend.DECLINING
    assert (report.previous_start_date, report.previous_end_date) == (
        earlier,
        START - timedelta(days=1),
    )


async def test_eight_oclock_daily_counts_right_across_a_daylight_saving_change(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=date(2026, 3, 7)))
    for day in (date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)):
        await take(repo, med, day, "08:00")

    report = await repo.generate_adherence_report(
        PATIENT, date(2026, 3, 7), date(2026, 3, 9)
    )

    row = report.row(med.id)
    assert row is not None
    assert (row.current.doses_taken, row.current.doses_scheduled) == (3, 3)
    assert row.current.pdc == 1.0


async def test_doses_not_yet_due_do_not_count_against_the_patient(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(twice_daily(start_date=START))
    await take(repo, med, START, "08:00")

    morning = await repo.calculate_adherence(
        PATIENT, 1, as_of=local_instant(START, "11:00")
    )

    row = morning.for_medication(med.id)
    assert row is not None
    assert (row.doses_taken, row.doses_scheduled) == (1, 1)


@pytest.mark.parametrize(
    ("period_days", "rule"), [(0, "range"), (400, "range"), ("30", "int_type")]
)
async def test_a_bad_period_is_refused(
    repo: MedicationRepository, period_days: Any, rule: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        await repo.calculate_adherence(PATIENT, period_days)

    assert (raised.value.field, raised.value.rule) == ("period_days", rule)


async def test_a_report_ending_before_it_starts_is_refused(
    repo: MedicationRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await repo.generate_adherence_report(PATIENT, END, START)

    assert (raised.value.field, raised.value.rule) == ("end_date", "date_range")


async def test_a_naive_as_of_is_refused(repo: MedicationRepository) -> None:
    with pytest.raises(ValidationError) as raised:
        await repo.calculate_adherence(PATIENT, 7, as_of=datetime(2026, 3, 1, 12))

    assert (raised.value.field, raised.value.rule) == ("as_of", "timezone_required")


# ------------------------------------------------ pipeline against reference

week_of_logs = st.dictionaries(
    keys=st.tuples(st.integers(0, 6), st.sampled_from(CLOCKS)),
    values=st.sampled_from(list(DoseStatus)),
    max_size=14,
)


def on_loop(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, R]) -> R:
    """Run ``work`` on the test's event loop from the hypothesis thread."""
    return asyncio.run_coroutine_threadsafe(work, loop).result(60)


async def test_the_database_tally_matches_the_reference_tally(
    db: DatabaseManager, repo: MedicationRepository
) -> None:
    med = await repo.create(twice_daily(start_date=START))
    prn = await repo.create(as_needed(start_date=START))
    loop = asyncio.get_running_loop()

    async def store(logged: dict[tuple[int, str], DoseStatus]) -> list[LoggedDose]:
        await db.database["dose_logs"].delete_many({})
        stored = []
        for (offset, clock), status in sorted(logged.items()):
            day = START + timedelta(days=offset)
            slot = local_instant(day, clock)
            taken = slot if status in (DoseStatus.TAKEN, DoseStatus.LATE) else None
            reason = SKIP_REASON if status is DoseStatus.SKIPPED else None
            log = await repo.record_dose(
                med.id, status, scheduled_for=slot, taken_at=taken, reason=reason
            )
            stored.append(
                LoggedDose(med.id, log.local_date, log.local_time, log.status)
            )
            if offset % 3 == 0 and clock == "08:00":
                prn_log = await repo.record_dose(
                    prn.id, "taken", taken_at=local_instant(day, "13:00")
                )
                stored.append(
                    LoggedDose(prn.id, prn_log.local_date, None, prn_log.status)
                )
        return stored

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(logged=week_of_logs)
    def pipeline_counts_like_the_reference(
        logged: dict[tuple[int, str], DoseStatus],
    ) -> None:
        stored = on_loop(loop, store(logged))

        counted = on_loop(loop, repo.doses.dose_tally(PATIENT, START, END, AFTER_END))

        assert counted == tally_doses(stored)

    await asyncio.to_thread(pipeline_counts_like_the_reference)
