"""The checks every dose log passes before it is stored, however it arrives
(``record_dose``, ``create``, the batched ``create_many``): where the dose sits
in the patient's day, that a scheduled dose names one of the schedule's slots,
that nothing is logged in the future, and that the dose falls inside the
prescription's dates. Pure functions of the dose and its medication; the
repository looks the medication up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wellness_repo.analysis.adherence import DoseStatus, expand_schedule
from wellness_repo.errors import ValidationError
from wellness_repo.models.dose_logs import DoseLog
from wellness_repo.models.medications import Medication, MedicationStatus
from wellness_repo.models.types import utc_now

__all__ = [
    "LATE_AFTER",
    "check_active",
    "check_log_matches",
    "check_within_prescription",
    "dose_placement",
    "dose_status",
]

LATE_AFTER = timedelta(hours=2)
"""A dose logged taken more than this after its scheduled time is stored as
late; adherence counts a scheduled dose only once this long has passed."""
_CLOCK_SKEW = timedelta(minutes=5)


def dose_status(value: Any) -> DoseStatus:
    """``value`` as a dose status, or ``ValidationError`` (field ``status``)."""
    try:
        return DoseStatus(value)
    except ValueError:
        raise ValidationError(
            "status must be one of taken, late, missed, skipped",
            field="status",
            rule="enum",
            entity=DoseLog.entity_name(),
        ) from None


def check_active(medication: Medication, *, field: str = "medication_id") -> None:
    """Refuse doses of a paused or discontinued medication."""
    if medication.status is not MedicationStatus.ACTIVE:
        raise ValidationError(
            f"doses are recorded only for active medications, not "
            f"{medication.status.value} ones",
            field=field,
            rule="medication_not_active",
            entity=DoseLog.entity_name(),
            entity_id=medication.id,
        )


def check_log_matches(
    log: DoseLog, medication: Medication, *, prefix: str = ""
) -> None:
    """Refuse a ready-made log whose patient, local date, slot time or weekday
    are not what its medication's schedule gives (``schedule_mismatch``), or
    that breaks a rule of :func:`dose_placement`. ``prefix`` goes before the
    field name in the error (``entities.3.``)."""
    try:
        expected = dose_placement(medication, log.scheduled_for, log.taken_at)
    except ValidationError as exc:
        if prefix and exc.field:
            exc.field = prefix + exc.field
            exc.errors = [(exc.field, exc.rule or "", exc.message)]
        raise
    for name, value in expected.items():
        if name != "status" and getattr(log, name) != value:
            raise ValidationError(
                f"{name} does not match the medication's schedule",
                field=prefix + name,
                rule="schedule_mismatch",
                entity=DoseLog.entity_name(),
                entity_id=log.id,
            )
    if log.patient_id != medication.patient_id:
        raise ValidationError(
            "patient_id must be the medication's patient",
            field=prefix + "patient_id",
            rule="schedule_mismatch",
            entity=DoseLog.entity_name(),
            entity_id=log.id,
        )


def check_within_prescription(
    log: DoseLog, medication: Medication, *, prefix: str = ""
) -> None:
    """Refuse a dose outside the prescription's start and end dates."""
    if (
        not medication.start_date
        <= log.local_date
        <= (medication.end_date or log.local_date)
    ):
        raise ValidationError(
            "the dose falls outside the prescription's start and end dates",
            field=prefix + ("scheduled_for" if log.scheduled_for else "taken_at"),
            rule="outside_prescription",
            entity=DoseLog.entity_name(),
            entity_id=medication.id,
        )


def dose_placement(
    medication: Medication,
    scheduled_for: datetime | None,
    taken_at: datetime | None,
) -> dict[str, Any]:
    """Where a dose sits in the patient's day: local date, slot time, weekday;
    and ``status`` late when a taken dose came well after its slot."""
    entity = DoseLog.entity_name()
    schedule = medication.schedule
    zone = ZoneInfo(schedule.time_zone)
    if schedule.as_needed:
        if scheduled_for is not None:
            raise ValidationError(
                "an as-needed medication has no scheduled doses",
                field="scheduled_for",
                rule="as_needed",
                entity=entity,
                entity_id=medication.id,
            )
        if taken_at is None:
            raise ValidationError(
                "an as-needed dose is logged when taken, with taken_at",
                field="taken_at",
                rule="as_needed",
                entity=entity,
                entity_id=medication.id,
            )
        _not_in_future(taken_at, "taken_at")
        day = taken_at.astimezone(zone).date()
        return {"local_date": day, "local_time": None, "weekday": day.isoweekday()}
    if scheduled_for is None:
        raise ValidationError(
            "a scheduled medication's dose names its scheduled time",
            field="scheduled_for",
            rule="required",
            entity=entity,
            entity_id=medication.id,
        )
    # A dose may be logged taken a little before its time.
    _not_in_future(scheduled_for, "scheduled_for", allowance=LATE_AFTER)
    if taken_at is not None:
        _not_in_future(taken_at, "taken_at")
    near = scheduled_for.astimezone(zone).date()
    slot = next(
        (
            dose
            for dose in expand_schedule(
                medication.id,
                schedule.times,
                schedule.time_zone,
                near - timedelta(days=1),
                near + timedelta(days=1),
            )
            if dose.scheduled_for == scheduled_for
        ),
        None,
    )
    if slot is None:
        raise ValidationError(
            "scheduled_for is not one of the schedule's dose times",
            field="scheduled_for",
            rule="not_a_scheduled_time",
            entity=entity,
            entity_id=medication.id,
        )
    placed: dict[str, Any] = {
        "local_date": slot.local_date,
        "local_time": slot.local_time,
        "weekday": slot.weekday,
    }
    if taken_at is not None and taken_at - scheduled_for > LATE_AFTER:
        placed["status"] = DoseStatus.LATE
    return placed


def _not_in_future(
    value: datetime, field: str, *, allowance: timedelta = _CLOCK_SKEW
) -> None:
    if value > utc_now() + allowance:
        raise ValidationError(
            f"{field} may not be in the future",
            field=field,
            rule="future",
            entity=DoseLog.entity_name(),
        )
