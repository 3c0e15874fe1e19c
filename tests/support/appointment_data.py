"""A small outpatient clinic's schedule for the appointment tests: a CBT
therapist in New York working weekdays 09:00-17:00 with a ten-minute buffer,
a psychiatrist in Los Angeles, and their patients.

Times are built as local wall-clock times in the provider's zone on dates a
few days (or months) ahead, so tests never depend on when they run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wellness_repo import (
    Appointment,
    AppointmentChange,
    AppointmentModality,
    AppointmentStatus,
    AppointmentType,
    Cancellation,
    CancelledBy,
    ProviderCalendar,
    Weekday,
    WorkingHours,
)
from wellness_repo.models.appointments import ChangeKind

THERAPIST = "therapist_456"
PSYCHIATRIST = "psychiatrist_789"
PATIENT = "patient_123"
OTHER_PATIENT = "patient_901"
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
WEEKDAYS = (
    Weekday.MONDAY,
    Weekday.TUESDAY,
    Weekday.WEDNESDAY,
    Weekday.THURSDAY,
    Weekday.FRIDAY,
)
AGENDA = ["Review thought records from the week", "Practise graded exposure plan"]
MONDAY_BEFORE_DST = date(2027, 3, 8)
"""The Monday before clocks in New York go forward (Sunday 14 March 2027)."""
MONDAY_AFTER_DST = date(2027, 3, 15)
"""The Monday after: 09:00 local is 13:00 UTC instead of 14:00."""


def weekday_calendar(
    provider_id: str = THERAPIST,
    *,
    zone: str = "America/New_York",
    buffer_minutes: int = 10,
) -> ProviderCalendar:
    """Weekdays 09:00-17:00 in ``zone``."""
    return ProviderCalendar(
        provider_id=provider_id,
        time_zone=zone,
        weekly_hours=[
            WorkingHours(weekday=day, start=time(9), end=time(17)) for day in WEEKDAYS
        ],
        buffer_minutes=buffer_minutes,
    )


def next_weekday(days_ahead: int = 7) -> date:
    """A Monday-to-Friday date at least ``days_ahead`` days from today."""
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def weekday_after(day: date) -> date:
    """The first Monday-to-Friday date after ``day``."""
    later = day + timedelta(days=1)
    while later.weekday() > 4:
        later += timedelta(days=1)
    return later


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    """``hour:minute`` wall-clock time on ``day`` in ``zone``, as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def therapy_session(start: datetime, **changes: Any) -> Appointment:
    """A 50-minute telehealth CBT session with the therapist."""
    values: dict[str, Any] = {
        "provider_id": THERAPIST,
        "patient_id": PATIENT,
        "appointment_type": AppointmentType.THERAPY_SESSION,
        "modality": AppointmentModality.TELEHEALTH,
        "scheduled_start": start,
        "duration_minutes": 50,
        "agenda": list(AGENDA),
        **changes,
    }
    return Appointment(**values)


def unchecked_session(start: datetime, **changes: Any) -> Appointment:
    """A session built without validation, to hand bad input to the repository."""
    values: dict[str, Any] = {
        "provider_id": THERAPIST,
        "patient_id": PATIENT,
        "appointment_type": AppointmentType.THERAPY_SESSION,
        "modality": AppointmentModality.TELEHEALTH,
        "scheduled_start": start,
        "duration_minutes": 50,
        "agenda": list(AGENDA),
        **changes,
    }
    return Appointment.model_construct(**values)


def cancelled_appointment() -> Appointment:
    """A telehealth session moved once and then cancelled: every encrypted
    field (agenda, link, reasons) filled, for the encryption-at-rest checks."""
    start = datetime(2027, 2, 1, 15, 0, tzinfo=UTC)
    return therapy_session(
        start,
        telehealth_link="https://video.example-clinic.org/room/8842-kestrel",
        status=AppointmentStatus.CANCELLED,
        history=[
            AppointmentChange(
                kind=ChangeKind.RESCHEDULED,
                changed_by=THERAPIST,
                previous_start=start - timedelta(days=2),
                previous_duration_minutes=50,
                new_start=start,
                new_duration_minutes=50,
                reason="Patient's shift at the pharmacy moved to mornings",
            )
        ],
        cancellation=Cancellation(
            reason="Admitted to inpatient unit after panic episodes worsened",
            cancelled_by=THERAPIST,
            cancelled_by_party=CancelledBy.PROVIDER,
            late=True,
            notice_minutes=180,
        ),
    )
