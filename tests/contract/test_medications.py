"""The medication repository on both backends: prescribing with the interaction
check, the status lifecycle, side effects, refills, dose logging with its
guards, and who may read and write what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.support.access_data import (
    ClinicDb,
    actor_context,
    clinic_database_on,
    reseeded,
)
from tests.support.encryption import is_ciphertext, raw_document
from tests.support.medication_data import (
    INDICATION,
    PATIENT,
    SKIP_REASON,
    as_needed,
    days_back,
    local_instant,
    sertraline,
    twice_daily,
)
from wellness_repo import (
    AccessDeniedError,
    DatabaseManager,
    DoseLog,
    DoseStatus,
    DuplicateError,
    InteractionAcknowledgment,
    InteractionSeverity,
    Medication,
    MedicationRepository,
    MedicationStatus,
    NotFoundError,
    SideEffectSeverity,
    ValidationError,
    acting_as,
)


@pytest.fixture
def repo(db: DatabaseManager) -> MedicationRepository:
    return MedicationRepository(db)


async def dose_count(repo: MedicationRepository) -> int:
    return await repo.doses.count()


# ------------------------------------------------------------- prescribing


async def test_the_seed_example_adds_a_once_daily_active_medication(
    repo: MedicationRepository,
) -> None:
    medication = Medication(
        patient_id="patient_123",
        medication_name="Sertraline",
        strength="50mg",
        prescribed_dosage="50mg once daily",
        start_date=date.today(),
        indication="Major Depressive Disorder",
    )

    med = await repo.create(medication)

    assert med.medication_id == med.id
    assert med.status is MedicationStatus.ACTIVE
    assert med.schedule.times == ["08:00"]
    assert [step.status for step in med.status_history] == [MedicationStatus.ACTIVE]
    assert (await repo.get(med.medication_id)).medication_name == "Sertraline"


async def test_drug_name_and_indication_are_stored_encrypted(
    db: DatabaseManager, repo: MedicationRepository
) -> None:
    med = await repo.create(sertraline())

    raw = await raw_document(db, Medication, med.id)

    assert is_ciphertext(raw["medication_name"])
    assert is_ciphertext(raw["indication"])
    assert INDICATION not in str(raw)


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"end_date": date(2025, 12, 1)}, "", "end_before_start"),
        ({"schedule": {"times_per_day": 2, "time_zone": "Mars/Olympus"}},
         "schedule.time_zone", "time_zone"),
        ({"schedule": {"kind": "as_needed", "times": ["08:00"]}},
         "schedule", "as_needed_schedule"),
        ({"schedule": {"kind": "specific_times", "times": ["8am"]}},
         "schedule.times.0", "string_pattern_mismatch"),
        ({"days_supply": 0}, "days_supply", "greater_than_equal"),
    ],
)  # fmt: skip
async def test_bad_prescriptions_name_field_and_rule_and_write_nothing(
    repo: MedicationRepository, changes: dict[str, Any], field: str, rule: str
) -> None:
    values = sertraline().model_dump(by_alias=False, exclude={"next_refill_on"})
    values.update(changes)

    with pytest.raises(ValidationError) as raised:
        await repo.create(repo._validated_from_fields(values, "new"))

    assert (raised.value.field or "", raised.value.rule) == (field, rule)
    assert await repo.count() == 0


async def test_a_contraindicated_combination_is_refused_and_nothing_written(
    repo: MedicationRepository,
) -> None:
    await repo.create(sertraline())

    with pytest.raises(ValidationError) as raised:
        await repo.create(sertraline(medication_name="Phenelzine"))

    assert raised.value.field == "interaction_acknowledgment"
    assert raised.value.rule == "contraindicated_interaction"
    assert await repo.count() == 1


async def test_an_acknowledged_contraindication_is_stored_with_its_warning(
    repo: MedicationRepository,
) -> None:
    ssri = await repo.create(sertraline())
    acknowledgment = InteractionAcknowledgment(
        acknowledged_by="psychiatrist_789",
        reason="Cross-taper under inpatient supervision",
    )

    maoi = await repo.create(
        sertraline(medication_name="Nardil", interaction_acknowledgment=acknowledgment)
    )

    (warning,) = maoi.interaction_warnings
    assert warning.other_medication_id == ssri.id
    assert warning.severity is InteractionSeverity.CONTRAINDICATED
    assert "prescribing information" in warning.source


async def test_major_interactions_are_warned_about_not_refused(
    repo: MedicationRepository,
) -> None:
    await repo.create(sertraline(medication_name="Lithium carbonate", strength="300mg"))

    nsaid = await repo.create(sertraline(medication_name="Ibuprofen", strength="400mg"))

    assert [w.severity for w in nsaid.interaction_warnings] == [
        InteractionSeverity.MAJOR
    ]
    assert nsaid.interaction_warnings[0].other_drug == "lithium carbonate"


async def test_discontinued_medications_no_longer_interact(
    repo: MedicationRepository,
) -> None:
    ssri = await repo.create(sertraline())
    await repo.discontinue_medication(ssri.id, "Switching to an MAOI after washout")

    warnings = await repo.check_interactions(PATIENT, "Phenelzine")

    assert warnings == []


# --------------------------------------------------------------- lifecycle


async def test_pause_resume_and_discontinue_are_kept_in_the_history(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline())

    await repo.pause_medication(med.id, "Held before ECT course")
    await repo.resume_medication(med.id)
    stopped = await repo.discontinue_medication(med.id, "Remission for 12 months")

    assert [step.status for step in stopped.status_history] == [
        MedicationStatus.ACTIVE,
        MedicationStatus.PAUSED,
        MedicationStatus.ACTIVE,
        MedicationStatus.DISCONTINUED,
    ]
    assert stopped.status_reason == "Remission for 12 months"


async def test_a_discontinued_medication_cannot_be_resumed(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline())
    await repo.discontinue_medication(med.id, "Hyponatraemia")

    with pytest.raises(ValidationError) as raised:
        await repo.resume_medication(med.id)

    assert (raised.value.field, raised.value.rule) == ("status", "invalid_transition")


async def test_discontinuing_needs_a_reason(repo: MedicationRepository) -> None:
    med = await repo.create(sertraline())

    with pytest.raises(ValidationError) as raised:
        await repo.discontinue_medication(med.id, "  ")

    assert (raised.value.field, raised.value.rule) == ("reason", "required")
    assert (await repo.get(med.id)).status is MedicationStatus.ACTIVE


async def test_a_plain_update_cannot_change_the_status(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline())

    with pytest.raises(ValidationError) as raised:
        await repo.patch(med.id, {"status": MedicationStatus.DISCONTINUED})

    assert (raised.value.field, raised.value.rule) == ("status", "managed_field")


async def test_an_edit_cannot_swap_the_drug_past_the_interaction_check(
    repo: MedicationRepository,
) -> None:
    await repo.create(sertraline())
    other = await repo.create(twice_daily())

    with pytest.raises(ValidationError) as raised:
        await repo.patch(other.id, {"medication_name": "Phenelzine"})

    assert (raised.value.field, raised.value.rule) == (
        "medication_name",
        "managed_field",
    )
    stored = await repo.get(other.id)
    assert (stored.medication_name, stored.interaction_warnings) == ("Lamotrigine", [])


async def test_an_edit_cannot_move_a_medication_to_another_patient(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline())

    with pytest.raises(ValidationError) as raised:
        await repo.patch(med.id, {"patient_id": "patient_901"})

    assert (raised.value.field, raised.value.rule) == ("patient_id", "managed_field")
    assert (await repo.get(med.id)).patient_id == med.patient_id


async def test_side_effects_are_reported_onto_the_medication(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline())

    updated = await repo.report_side_effect(
        med.id, "Nausea", SideEffectSeverity.MILD, days_back(3)
    )

    (effect,) = updated.side_effects
    assert (effect.effect, effect.severity) == ("Nausea", SideEffectSeverity.MILD)
    assert effect.reported_by == "system:tests"


async def test_a_side_effect_with_an_unknown_severity_is_refused(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline())

    with pytest.raises(ValidationError) as raised:
        await repo.report_side_effect(med.id, "Tremor", "catastrophic", days_back(1))

    assert raised.value.field == "side_effect"
    assert (await repo.get(med.id)).side_effects == []


# ----------------------------------------------------------------- refills


async def test_a_refill_sets_the_next_refill_date_and_uses_a_refill(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(refills_remaining=2))

    filled = await repo.record_refill(med.id, date(2026, 3, 1), days_supply=30)

    assert filled.next_refill_on == date(2026, 3, 31)
    assert filled.refills_remaining == 1


async def test_no_refill_is_recorded_once_none_remain(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(refills_remaining=0, days_supply=30))

    with pytest.raises(ValidationError) as raised:
        await repo.record_refill(med.id, date(2026, 3, 1))

    assert raised.value.rule == "no_refills_remaining"


async def test_refills_due_lists_active_medications_due_soonest_first(
    repo: MedicationRepository,
) -> None:
    today = date(2026, 3, 10)
    later = await repo.create(
        sertraline(last_filled_on=date(2026, 2, 14), days_supply=30)
    )
    overdue = await repo.create(
        twice_daily(last_filled_on=date(2026, 2, 1), days_supply=30)
    )
    await repo.create(as_needed(last_filled_on=date(2026, 3, 5), days_supply=30))
    stopped = await repo.create(
        sertraline(medication_name="Mirtazapine", last_filled_on=date(2026, 2, 1),
                   days_supply=30)
    )  # fmt: skip
    await repo.discontinue_medication(stopped.id, "Weight gain")

    due = await repo.refills_due(7, today=today)

    assert [med.id for med in due] == [overdue.id, later.id]


async def test_refills_due_refuses_a_negative_window(
    repo: MedicationRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await repo.refills_due(-1)

    assert (raised.value.field, raised.value.rule) == ("within_days", "range")


# -------------------------------------------------------------------- doses


async def test_a_dose_of_a_discontinued_medication_is_refused(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))
    await repo.discontinue_medication(med.id, "Switched to escitalopram")

    with pytest.raises(ValidationError) as raised:
        await repo.record_dose(
            med.id, "taken", scheduled_for=local_instant(days_back(1), "08:00")
        )

    assert raised.value.rule == "medication_not_active"
    assert await dose_count(repo) == 0


async def test_a_dose_of_a_paused_medication_is_refused_even_through_create(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))
    slot = local_instant(days_back(1), "08:00")
    await repo.pause_medication(med.id, "Held during lithium level check")
    log = DoseLog(
        patient_id=PATIENT,
        medication_id=med.id,
        status=DoseStatus.TAKEN,
        scheduled_for=slot,
        taken_at=slot,
        local_date=days_back(1),
        local_time="08:00",
        weekday=days_back(1).isoweekday(),
        recorded_by=PATIENT,
    )

    with pytest.raises(ValidationError) as raised:
        await repo.doses.create(log)

    assert raised.value.rule == "medication_not_active"
    assert await dose_count(repo) == 0


async def test_a_skipped_dose_needs_its_reason(repo: MedicationRepository) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))

    with pytest.raises(ValidationError) as raised:
        await repo.record_dose(
            med.id, "skipped", scheduled_for=local_instant(days_back(1), "08:00")
        )

    assert raised.value.rule == "reason_required"
    assert await dose_count(repo) == 0


async def test_a_skipped_dose_keeps_its_reason_encrypted(
    db: DatabaseManager, repo: MedicationRepository
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))

    log = await repo.record_dose(
        med.id,
        DoseStatus.SKIPPED,
        scheduled_for=local_instant(days_back(1), "08:00"),
        reason=SKIP_REASON,
    )

    assert log.reason == SKIP_REASON
    assert is_ciphertext((await raw_document(db, DoseLog, log.id))["reason"])


async def test_logging_the_same_dose_twice_keeps_one_log(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))
    slot = local_instant(days_back(1), "08:00")

    first = await repo.record_dose(med.id, "taken", scheduled_for=slot, taken_at=slot)
    again = await repo.record_dose(med.id, "taken", scheduled_for=slot, taken_at=slot)

    assert again.dose_id == first.dose_id
    with pytest.raises(DuplicateError):
        await repo.record_dose(med.id, "missed", scheduled_for=slot)
    assert await dose_count(repo) == 1


async def test_a_dose_log_corrected_by_an_edit_is_checked_like_a_new_one(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))
    slot = local_instant(days_back(1), "08:00")
    log = await repo.record_dose(med.id, "missed", scheduled_for=slot)

    with pytest.raises(ValidationError) as moved:
        await repo.doses.patch(log.id, {"scheduled_for": slot - timedelta(days=400)})
    corrected = await repo.doses.patch(
        log.id, {"status": "taken", "taken_at": slot + timedelta(hours=9)}
    )
    await repo.discontinue_medication(med.id, "Switched to escitalopram")
    with pytest.raises(ValidationError) as after_discontinuing:
        await repo.doses.patch(log.id, {"status": "missed", "taken_at": None})

    assert (moved.value.field, moved.value.rule) == ("scheduled_for", "managed_field")
    assert corrected.status is DoseStatus.LATE
    assert (corrected.local_date, corrected.scheduled_for) == (log.local_date, slot)
    assert after_discontinuing.value.rule == "medication_not_active"
    assert (await repo.doses.get(log.id)).status is DoseStatus.LATE


async def test_a_dose_at_no_scheduled_time_is_refused(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))

    with pytest.raises(ValidationError) as raised:
        await repo.record_dose(
            med.id, "taken", scheduled_for=local_instant(days_back(1), "09:15")
        )

    assert (raised.value.field, raised.value.rule) == (
        "scheduled_for",
        "not_a_scheduled_time",
    )


async def test_a_dose_taken_hours_after_its_time_is_stored_as_late(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(sertraline(start_date=days_back(10)))
    day = days_back(2)

    log = await repo.record_dose(
        med.id,
        "taken",
        scheduled_for=local_instant(day, "08:00"),
        taken_at=local_instant(day, "13:30"),
    )

    assert log.status is DoseStatus.LATE
    assert (log.local_date, log.local_time, log.weekday) == (
        day,
        "08:00",
        day.isoweekday(),
    )


async def test_an_as_needed_dose_has_no_scheduled_time(
    repo: MedicationRepository,
) -> None:
    prn = await repo.create(as_needed(start_date=days_back(10)))

    with pytest.raises(ValidationError) as raised:
        await repo.record_dose(
            prn.id, "taken", scheduled_for=local_instant(days_back(1), "08:00")
        )
    log = await repo.record_dose(
        prn.id, "taken", taken_at=local_instant(days_back(1), "22:10")
    )

    assert raised.value.rule == "as_needed"
    assert (log.local_date, log.local_time) == (days_back(1), None)


async def test_doses_for_a_medication_come_back_oldest_first(
    repo: MedicationRepository,
) -> None:
    med = await repo.create(twice_daily(start_date=days_back(10)))
    for day, clock in ((3, "20:00"), (3, "08:00"), (5, "08:00")):
        slot = local_instant(days_back(day), clock)
        await repo.record_dose(med.id, "taken", scheduled_for=slot, taken_at=slot)

    logs = await repo.doses.doses_for_medication(med.id, days_back(4), days_back(0))

    assert [(log.local_date, log.local_time) for log in logs] == [
        (days_back(3), "08:00"),
        (days_back(3), "20:00"),
    ]


# ------------------------------------------------------------------ access


@pytest.fixture(params=BACKENDS)
async def clinic(
    request: pytest.FixtureRequest, mongodb_uri: str
) -> AsyncIterator[ClinicDb]:
    """The clinic under the role policy, on each backend."""
    async with clinic_database_on(request.param, mongodb_uri) as database:
        yield await reseeded(database)


async def test_an_unrelated_clinician_cannot_read_anothers_patients_medications(
    clinic: ClinicDb,
) -> None:
    repo = MedicationRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        med = await repo.create(sertraline())

    with acting_as(actor_context("outside_therapist")):
        seen = await repo.medications_for_patient(PATIENT)
        with pytest.raises(NotFoundError):
            await repo.get(med.id)

    assert seen == []


async def test_the_patient_reads_her_medications_but_cannot_prescribe(
    clinic: ClinicDb,
) -> None:
    repo = MedicationRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        await repo.create(sertraline())

    with acting_as(actor_context("patient")):
        mine = await repo.active_medications(PATIENT)
        with pytest.raises(AccessDeniedError):
            await repo.create(sertraline(medication_name="Bupropion"))

    assert [med.medication_name for med in mine] == ["Sertraline"]


async def test_the_patient_logs_her_doses_and_her_clinician_reads_them(
    clinic: ClinicDb,
) -> None:
    repo = MedicationRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        med = await repo.create(sertraline(start_date=days_back(5)))
    slot = local_instant(days_back(1), "08:00")

    with acting_as(actor_context("patient")):
        log = await repo.record_dose(med.id, "taken", scheduled_for=slot)
    with acting_as(actor_context("therapist")):
        seen = await repo.doses.doses_for_patient(PATIENT, days_back(2), days_back(0))
        with pytest.raises(AccessDeniedError):
            await repo.record_dose(med.id, "missed", scheduled_for=slot)

    assert [item.dose_id for item in seen] == [log.dose_id]


async def test_the_patient_reports_a_side_effect_of_her_own_medication(
    clinic: ClinicDb,
) -> None:
    repo = MedicationRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        med = await repo.create(sertraline())

    with acting_as(actor_context("patient")):
        updated = await repo.report_side_effect(
            med.id, "Insomnia", SideEffectSeverity.MODERATE, days_back(2)
        )

    (effect,) = updated.side_effects
    assert effect.reported_by == PATIENT
    assert effect.severity is SideEffectSeverity.MODERATE


async def test_a_patient_cannot_report_on_someone_elses_medication(
    clinic: ClinicDb,
) -> None:
    repo = MedicationRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        med = await repo.create(sertraline())

    with acting_as(actor_context("other_patient")), pytest.raises(NotFoundError):
        await repo.report_side_effect(med.id, "Rash", "mild", days_back(1))

    assert (await repo.get(med.id)).side_effects == []
