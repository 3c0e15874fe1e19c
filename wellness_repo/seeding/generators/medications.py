"""Medications and months of dose logs.

Most patients in treatment are prescribed an antidepressant or anxiolytic a
couple of weeks after therapy starts, some a second, bedtime medication. Each
patient has an adherence level: most take 70-95% of their doses, some (about
one in six) under 65%, a few nearly all. Missed doses cluster where they do in
practice: evening doses are missed more than morning ones, weekend doses more
than weekday ones. Taken doses are logged a few minutes around their time,
now and then hours late; a few misses are logged as skipped, with a reason.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from wellness_repo.models.dose_logs import DoseLog, DoseStatus
from wellness_repo.models.medications import (
    DoseSchedule,
    Medication,
    MedicationForm,
    ScheduleKind,
)
from wellness_repo.seeding.generators.scheduling import provider_zone
from wellness_repo.seeding.world import FixtureWorld, PatientProfile

__all__ = [
    "EVENING_MISS_FACTOR",
    "WEEKEND_MISS_FACTOR",
    "dose_logs",
    "medications",
    "patient_adherence",
]

EVENING_MISS_FACTOR = 1.6
"""How much likelier an evening dose (18:00 or later) is missed than a morning
one."""
WEEKEND_MISS_FACTOR = 1.5
"""How much likelier a Saturday or Sunday dose is missed than a weekday one."""
_DAYS_BEFORE_PRESCRIBING = 14
_SKIP_REASONS = (
    "Felt nauseous after breakfast and held the dose",
    "Ran out before the pharmacy refill was ready",
    "Held on the pharmacist's advice until the next appointment",
    "Stomach upset, took it the next morning instead",
)


@dataclass(frozen=True, slots=True)
class _Drug:
    name: str
    strength: str
    dosage: str
    times: tuple[str, ...]
    indication: str
    form: MedicationForm = MedicationForm.TABLET


_FIRST_LINE = {
    "F32.1": (
        _Drug("Sertraline", "50mg", "50mg once daily", ("08:00",), "Depression"),
        _Drug("Escitalopram", "10mg", "10mg once daily", ("08:00",), "Depression"),
        _Drug("Bupropion XL", "150mg", "150mg once daily", ("08:00",), "Depression"),
    ),
    "F41.1": (
        _Drug("Escitalopram", "10mg", "10mg once daily", ("08:00",), "Anxiety"),
        _Drug("Buspirone", "10mg", "10mg twice daily", ("08:00", "20:00"), "Anxiety"),
    ),
    "F33.0": (
        _Drug("Sertraline", "100mg", "100mg once daily", ("08:00",), "Depression"),
    ),
    "F43.12": (_Drug("Sertraline", "50mg", "50mg once daily", ("08:00",), "PTSD"),),
    "F40.10": (
        _Drug("Escitalopram", "10mg", "10mg once daily", ("08:00",), "Social anxiety"),
    ),
    "F43.23": (
        _Drug("Buspirone", "7.5mg", "7.5mg twice daily", ("08:00", "20:00"), "Anxiety"),
    ),
}
_BEDTIME = (
    _Drug("Trazodone", "50mg", "50mg at bedtime", ("22:00",), "Insomnia"),
    _Drug("Prazosin", "1mg", "1mg at bedtime", ("21:00",), "Trauma nightmares"),
)


def patient_adherence(world: FixtureWorld, index: int) -> float:
    """Patient ``index``'s usual share of doses taken: 70-95% for most, under
    65% for about one in six, 95-99% for about one in twelve."""
    rng = world.random("medication-adherence", index)
    roll = rng.random()
    if roll < 0.16:
        return rng.uniform(0.35, 0.65)
    if roll < 0.24:
        return rng.uniform(0.95, 0.99)
    return rng.uniform(0.70, 0.95)


def _prescribed(world: FixtureWorld, profile: PatientProfile) -> list[_Drug]:
    start = profile.treatment_start
    if start is None or start + timedelta(days=_DAYS_BEFORE_PRESCRIBING) >= (
        world.as_of
    ):
        return []
    rng = world.random("medications", profile.index)
    if rng.random() >= 0.7:
        return []
    drugs = [rng.choice(_FIRST_LINE[profile.diagnosis.code])]
    if rng.random() < 0.25:
        drugs.append(_BEDTIME[1] if profile.diagnosis.code == "F43.12" else _BEDTIME[0])
    return drugs


def _start_date(world: FixtureWorld, profile: PatientProfile, number: int) -> date:
    assert profile.treatment_start is not None
    return profile.treatment_start + timedelta(
        days=_DAYS_BEFORE_PRESCRIBING + 7 * number
    )


def medications(world: FixtureWorld) -> Iterator[list[Medication]]:
    """Each patient's active prescriptions, from their clinician, in the time
    zone of their clinic."""
    for index in world.patient_indices():
        yield _patient_medications(world, index)


def dose_logs(world: FixtureWorld) -> Iterator[list[DoseLog]]:
    """Every scheduled dose of each medication from its start (or the first
    day of history) to two days before ``as_of``: taken, late, missed or
    skipped, as the patient's adherence and the time of the dose make likely."""
    for index in world.patient_indices():
        adherence = patient_adherence(world, index)
        yield [
            dose
            for medication in _patient_medications(world, index)
            for dose in _doses_of(world, medication, adherence)
        ]


def _patient_medications(world: FixtureWorld, index: int) -> list[Medication]:
    profile = world.profile(index)
    zone = provider_zone(world, profile.provider_index)
    group = []
    for number, drug in enumerate(_prescribed(world, profile)):
        started = _start_date(world, profile, number)
        if started >= world.as_of:
            continue
        group.append(
            Medication(
                id=world.id("medication", f"{index}:{number}"),
                patient_id=profile.patient_id,
                medication_name=drug.name,
                strength=drug.strength,
                form=drug.form,
                prescribed_dosage=drug.dosage,
                schedule=DoseSchedule(
                    kind=ScheduleKind.SPECIFIC_TIMES,
                    times=list(drug.times),
                    time_zone=zone,
                ),
                prescriber_id=profile.provider_id,
                start_date=started,
                indication=drug.indication,
                days_supply=30,
                refills_remaining=5,
                last_filled_on=started,
                created_at=world.at(started, 15),
            )
        )
    return group


def _doses_of(
    world: FixtureWorld, medication: Medication, adherence: float
) -> list[DoseLog]:
    rng = world.random("dose-logs", medication.id)
    base_miss = 1.0 - adherence
    zone = ZoneInfo(medication.schedule.time_zone)
    logs = []
    day = max(medication.start_date, world.first_day)
    # Up to two days before as_of: even a late evening dose in Los Angeles,
    # logged hours after its time, then lies before as_of (UTC).
    while day < world.as_of - timedelta(days=1):
        weekend = day.weekday() >= 5
        for clock in medication.schedule.times:
            hour, minute = (int(part) for part in clock.split(":"))
            local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            slot = local.astimezone(UTC)
            # The weights keep the overall miss rate near 1 - adherence.
            weight = (EVENING_MISS_FACTOR if hour >= 18 else 0.8) * (
                WEEKEND_MISS_FACTOR if weekend else 0.85
            )
            missed = rng.random() < min(0.97, base_miss * weight)
            logs.append(_dose(world, medication, rng, day, clock, slot, missed))
        day += timedelta(days=1)
    return logs


def _dose(
    world: FixtureWorld,
    medication: Medication,
    rng: random.Random,
    day: date,
    clock: str,
    slot: datetime,
    missed: bool,
) -> DoseLog:
    status = DoseStatus.TAKEN
    taken_at: datetime | None = slot + timedelta(minutes=rng.randint(-20, 45))
    reason = None
    if missed:
        taken_at = None
        status = DoseStatus.MISSED
        if rng.random() < 0.15:
            status = DoseStatus.SKIPPED
            reason = rng.choice(_SKIP_REASONS)
    elif rng.random() < 0.04:
        status = DoseStatus.LATE
        taken_at = slot + timedelta(minutes=rng.randint(135, 300))
    recorded = (taken_at or slot) + timedelta(minutes=rng.randint(1, 90))
    return DoseLog(
        id=world.id("dose", f"{medication.id}:{slot.isoformat()}"),
        patient_id=medication.patient_id,
        medication_id=medication.id,
        status=status,
        scheduled_for=slot,
        taken_at=taken_at,
        local_date=day,
        local_time=clock,
        weekday=day.isoweekday(),
        reason=reason,
        recorded_at=recorded,
        recorded_by=medication.patient_id,
        created_at=recorded,
    )
