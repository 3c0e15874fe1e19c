"""Dose logs written in batches (imports, the fixture seeder) on both backends:
the same rules as one dose at a time, one insert and one audit entry per batch,
and a bad or duplicate dose refusing the whole batch."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.medication_data import (
    PATIENT,
    SKIP_REASON,
    days_back,
    local_instant,
    sertraline,
    twice_daily,
)
from wellness_repo import (
    DatabaseManager,
    DoseLog,
    DoseStatus,
    DuplicateError,
    Medication,
    MedicationRepository,
    NotFoundError,
    ValidationError,
)
from wellness_repo.models.audit import AuditLog


@pytest.fixture
def repo(db: DatabaseManager) -> MedicationRepository:
    return MedicationRepository(db)


def dose(
    med: Medication,
    day: date,
    clock: str = "08:00",
    status: DoseStatus = DoseStatus.TAKEN,
    **changes: object,
) -> DoseLog:
    slot = local_instant(day, clock)
    values: dict[str, object] = {
        "patient_id": PATIENT,
        "medication_id": med.id,
        "status": status,
        "scheduled_for": slot,
        "taken_at": slot if status is DoseStatus.TAKEN else None,
        "local_date": day,
        "local_time": clock,
        "weekday": day.isoweekday(),
        "recorded_by": PATIENT,
    }
    values.update(changes)
    return DoseLog.model_validate(values)


def month_of_doses(med: Medication) -> list[DoseLog]:
    """Thirty days of twice-daily doses: mornings taken, some evenings missed."""
    logs = []
    for back in range(30, 0, -1):
        day = days_back(back)
        logs.append(dose(med, day, "08:00"))
        evening = DoseStatus.MISSED if back % 4 == 0 else DoseStatus.TAKEN
        logs.append(dose(med, day, "20:00", evening))
    return logs


async def test_a_batch_of_two_medications_is_stored_and_audited_once(
    db: DatabaseManager, repo: MedicationRepository
) -> None:
    lamotrigine = await repo.create(twice_daily(start_date=days_back(40)))
    sertra = await repo.create(sertraline(start_date=days_back(40)))
    batch = month_of_doses(lamotrigine) + [
        dose(sertra, days_back(back)) for back in range(30, 0, -1)
    ]

    stored = await repo.doses.create_many(batch)

    assert [log.id for log in stored] == [log.id for log in batch]
    assert await repo.doses.count() == 90
    assert await repo.doses.count(medication_id=sertra.id) == 30
    entries = await db.collection(AuditLog).find({}).to_list()
    writes = [entry for entry in entries if batch[0].id in entry["resource_ids"]]
    assert len(writes) == 1
    assert set(writes[0]["resource_ids"]) == {log.id for log in batch}


async def test_batched_doses_feed_adherence_as_single_doses_do(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(twice_daily(start_date=days_back(40)))
    await repo.doses.create_many(month_of_doses(med))

    summary = await repo.calculate_adherence(PATIENT, 30)

    # Thirty days back hold 53 taken doses; the window may leave the first out.
    assert 51 <= summary.doses_taken <= 53
    assert summary.dose_rate is not None
    assert 0.8 < summary.dose_rate < 0.95


async def test_a_dose_off_the_schedule_refuses_the_batch_naming_its_place(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(twice_daily(start_date=days_back(40)))
    batch = month_of_doses(med)
    wrong = local_instant(days_back(3), "09:15")
    batch[7] = dose(med, days_back(3), "09:15", scheduled_for=wrong, taken_at=wrong)

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create_many(batch)

    assert (raised.value.field, raised.value.rule) == (
        "entities.7.scheduled_for",
        "not_a_scheduled_time",
    )
    assert await repo.doses.count() == 0


async def test_a_dose_before_the_prescription_started_refuses_the_batch(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(twice_daily(start_date=days_back(10)))

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create_many(month_of_doses(med))

    assert (raised.value.field, raised.value.rule) == (
        "entities.0.scheduled_for",
        "outside_prescription",
    )
    assert await repo.doses.count() == 0


async def test_a_dose_of_a_paused_medication_refuses_the_batch(
    repo: MedicationRepository,
) -> None:
    active = await repo.create(sertraline(start_date=days_back(40)))
    paused = await repo.create(twice_daily(start_date=days_back(40)))
    await repo.pause_medication(paused.id, "Held during lithium level check")
    batch = [dose(active, days_back(2)), dose(paused, days_back(2))]

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create_many(batch)

    assert (raised.value.field, raised.value.rule) == (
        "entities.1.medication_id",
        "medication_not_active",
    )
    assert await repo.doses.count() == 0


async def test_a_skipped_dose_without_its_reason_is_refused_before_any_write(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(40)))
    # Built without validation, as a careless import would hand it over.
    values = dict(dose(med, days_back(1), status=DoseStatus.MISSED))
    values["status"] = DoseStatus.SKIPPED
    unexplained = DoseLog.model_construct(**values)

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create_many([dose(med, days_back(2)), unexplained])

    assert raised.value.rule == "reason_required"
    assert await repo.doses.count() == 0


async def test_a_skipped_dose_with_its_reason_is_stored_in_a_batch(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(40)))
    skipped = dose(med, days_back(1), status=DoseStatus.SKIPPED, reason=SKIP_REASON)

    await repo.doses.create_many([dose(med, days_back(2)), skipped])

    assert (await repo.doses.get(skipped.id)).reason == SKIP_REASON


async def test_a_wrong_weekday_or_patient_is_refused_as_a_schedule_mismatch(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(40)))
    day = days_back(2)
    other = dose(med, day, patient_id="patient_901")

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create_many([dose(med, days_back(3)), other])

    assert (raised.value.field, raised.value.rule) == (
        "entities.1.patient_id",
        "schedule_mismatch",
    )


async def test_the_same_dose_twice_in_one_batch_is_refused(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(40)))
    first = dose(med, days_back(2))
    again = dose(med, days_back(2), status=DoseStatus.MISSED)

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create_many([first, again])

    assert (raised.value.field, raised.value.rule) == (
        "entities.1.scheduled_for",
        "duplicate_in_batch",
    )
    assert await repo.doses.count() == 0


async def test_a_batch_repeating_a_stored_dose_is_refused_and_writes_nothing(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(40)))
    slot = local_instant(days_back(5), "08:00")
    await repo.record_dose(med.id, "taken", scheduled_for=slot, taken_at=slot)
    batch = [dose(med, days_back(back)) for back in (7, 6, 5, 4)]

    with pytest.raises(DuplicateError) as raised:
        await repo.doses.create_many(batch)

    assert raised.value.key == ("medication_id", "scheduled_for")
    assert await repo.doses.count() == 1


async def test_other_medications_doses_at_the_same_times_are_no_duplicates(
    repo: MedicationRepository,
) -> None:
    first = await repo.create(sertraline(start_date=days_back(40)))
    second = await repo.create(twice_daily(start_date=days_back(40)))
    await repo.doses.create_many([dose(first, days_back(back)) for back in (3, 2)])

    await repo.doses.create_many([dose(second, days_back(back)) for back in (3, 2)])

    assert await repo.doses.count() == 4


async def test_a_dose_of_an_unknown_medication_is_not_found(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(40)))
    stray = dose(med, days_back(2), medication_id="medication_unknown_1")

    with pytest.raises(NotFoundError):
        await repo.doses.create_many([dose(med, days_back(3)), stray])

    assert await repo.doses.count() == 0
