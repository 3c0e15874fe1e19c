"""Realistic prescriptions and dose histories for the medication tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wellness_repo import (
    DoseLog,
    DoseSchedule,
    DoseStatus,
    InteractionAcknowledgment,
    InteractionSeverity,
    InteractionWarning,
    Medication,
    MedicationForm,
    MedicationStatus,
    ScheduleKind,
    SideEffect,
    SideEffectSeverity,
)
from wellness_repo.models.medications import StatusChange

PATIENT = "patient_123"
OTHER_PATIENT = "patient_901"
PRESCRIBER = "psychiatrist_789"
NEW_YORK = "America/New_York"
INDICATION = "Major depressive disorder, recurrent"
SKIP_REASON = "Nausea after breakfast, held on pharmacist advice"


def sertraline(**changes: Any) -> Medication:
    """Sertraline 50 mg once daily at 08:00 New York time."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "medication_name": "Sertraline",
        "strength": "50mg",
        "form": MedicationForm.TABLET,
        "prescribed_dosage": "50mg once daily",
        "schedule": DoseSchedule(times_per_day=1, time_zone=NEW_YORK),
        "prescriber_id": PRESCRIBER,
        "start_date": date(2026, 1, 1),
        "indication": INDICATION,
    }
    values.update(changes)
    return Medication(**values)


def twice_daily(name: str = "Lamotrigine", **changes: Any) -> Medication:
    """A twice-daily prescription at 08:00 and 20:00 New York time."""
    values: dict[str, Any] = {
        "medication_name": name,
        "strength": "100mg",
        "prescribed_dosage": "100mg twice daily",
        "schedule": DoseSchedule(
            kind=ScheduleKind.SPECIFIC_TIMES,
            times=["08:00", "20:00"],
            time_zone=NEW_YORK,
        ),
        "indication": "Bipolar II disorder, maintenance",
    }
    values.update(changes)
    return sertraline(**values)


def as_needed(name: str = "Hydroxyzine", **changes: Any) -> Medication:
    """An as-needed anxiolytic, at most three doses a day."""
    values: dict[str, Any] = {
        "medication_name": name,
        "strength": "25mg",
        "prescribed_dosage": "25mg as needed for anxiety, max 3 a day",
        "schedule": DoseSchedule(
            kind=ScheduleKind.AS_NEEDED, max_doses_per_day=3, time_zone=NEW_YORK
        ),
        "indication": "Generalised anxiety disorder",
    }
    values.update(changes)
    return sertraline(**values)


def local_instant(day: date, clock: str, zone: str = NEW_YORK) -> datetime:
    """A local clock time on a day, as a UTC instant."""
    hour, minute = (int(part) for part in clock.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def days_back(count: int, *, zone: str = NEW_YORK) -> date:
    """The local date ``count`` days before today in ``zone``."""
    return datetime.now(ZoneInfo(zone)).date() - timedelta(days=count)


def documented_medication() -> Medication:
    """A medication with every encrypted part filled: a paused and resumed
    history with reasons, side effects, an interaction warning and the
    prescriber's acknowledgment of it. The ids inside encrypted parts appear
    nowhere in plain text, so the at-rest scan can treat them as secrets."""
    now = datetime.now(UTC)
    return sertraline(
        medication_name="Phenelzine sulfate",
        status_reason="Resumed after the cardiology review",
        status_history=[
            StatusChange(
                status=MedicationStatus.PAUSED,
                changed_at=now - timedelta(days=3),
                changed_by=PRESCRIBER,
                reason="Held for hypertensive episode work-up",
            ),
        ],
        side_effects=[
            SideEffect(
                effect="Orthostatic dizziness",
                severity=SideEffectSeverity.MODERATE,
                onset=date(2026, 1, 9),
                reported_at=now,
                reported_by="patient_app_7731",
                notes="Worse on standing in the mornings",
            )
        ],
        interaction_warnings=[
            InteractionWarning(
                other_medication_id="medication_ssri_77",
                other_drug="sertraline",
                severity=InteractionSeverity.CONTRAINDICATED,
                effect="Serotonin syndrome risk with the SSRI",
                management="Washout of two weeks before starting",
                source="Zoloft US prescribing information",
            )
        ],
        interaction_acknowledgment=InteractionAcknowledgment(
            acknowledged_by="psychiatrist_ack_555",
            reason="Supervised cross-taper on the inpatient unit",
        ),
    )


def skipped_dose() -> DoseLog:
    """A dose the patient skipped, with her reason."""
    day = date(2026, 1, 12)
    return DoseLog(
        patient_id=PATIENT,
        medication_id="medication_0001",
        status=DoseStatus.SKIPPED,
        scheduled_for=local_instant(day, "08:00"),
        local_date=day,
        local_time="08:00",
        weekday=day.isoweekday(),
        reason=SKIP_REASON,
        recorded_by=PATIENT,
    )
