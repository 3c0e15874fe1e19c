"""Steps 5 and 6 of the demo's pathway: the operational side of care, a
follow-up booked on the therapist's calendar and the patient's medication
adherence reviewed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.demo.pathway import Cast
from wellness_repo.demo.printing import PathwayPrinter
from wellness_repo.errors import BookingConflictError
from wellness_repo.factories import (
    create_appointment_repository,
    create_medication_repository,
    create_provider_calendar_repository,
)
from wellness_repo.models.appointments import (
    Appointment,
    AppointmentModality,
    AppointmentType,
)
from wellness_repo.models.dose_logs import DoseStatus
from wellness_repo.models.medications import DoseSchedule, Medication
from wellness_repo.models.provider_calendars import (
    ProviderCalendar,
    Weekday,
    WorkingHours,
)
from wellness_repo.security.context import acting_as

__all__ = ["book_follow_up", "review_medication"]

# The clinic and the patient are in New York: working hours and dose times are
# local wall-clock times there, whatever the server's zone.
CLINIC_ZONE = "America/New_York"
# Days (ago) on which the patient missed her morning dose: more of them in the
# last two weeks, so the report shows adherence falling.
MISSED_DOSE_DAYS = frozenset({2, 3, 9, 10, 16, 23, 24})


async def book_follow_up(
    db: DatabaseManager, printer: PathwayPrinter, cast: Cast
) -> None:
    """Step 5: the therapist's calendar, a booking, a conflicting one refused."""
    printer.section("An appointment booked, a conflicting booking refused")
    zone = ZoneInfo(CLINIC_ZONE)
    await create_provider_calendar_repository(db).create(
        ProviderCalendar(
            provider_id=cast.therapist_id,
            time_zone=CLINIC_ZONE,
            weekly_hours=[
                WorkingHours(weekday=day, start=time(9), end=time(17))
                for day in list(Weekday)[:5]
            ],
            buffer_minutes=10,
        )
    )
    day = datetime.now(zone).date() + timedelta(days=7)
    while day.weekday() > 4:
        day += timedelta(days=1)
    start = datetime.combine(day, time(10), tzinfo=zone)
    appointments = create_appointment_repository(db)
    with acting_as(cast.therapist):
        free = await appointments.check_availability(cast.therapist_id, start, 50)
        booked = await appointments.create(
            Appointment(
                provider_id=cast.therapist_id,
                patient_id=cast.patient_id,
                appointment_type=AppointmentType.THERAPY_SESSION,
                modality=AppointmentModality.TELEHEALTH,
                scheduled_start=start,
                duration_minutes=50,
                agenda=["Review the safety plan", "Sleep routine"],
            )
        )
        overlapping = booked.model_copy(
            update={
                "id": f"{booked.id}-double",
                "scheduled_start": start + timedelta(minutes=30),
            }
        )
        try:
            await appointments.create(overlapping)
            refused = "booked (unexpected)"
        except BookingConflictError as conflict:
            refused = f"refused: the {conflict.conflict} is already booked"
        reminders = await appointments.send_appointment_reminders(
            booked.appointment_id, ["email", "sms"]
        )
    local = booked.scheduled_start.astimezone(zone)
    printer.table(
        ("appointment", "local time (New York)", "stored (UTC)", "status"),
        [
            (
                booked.appointment_id,
                local.strftime("%a %d %b %H:%M"),
                booked.scheduled_start.strftime("%H:%M"),
                booked.status,
            )
        ],
    )
    printer.fact(f"the slot was free before booking: {free}")
    printer.fact(f"a second booking 30 minutes later: {refused}")
    printer.fact(f"{len(reminders)} reminders queued (24 h and 1 h before)")


async def review_medication(
    db: DatabaseManager, printer: PathwayPrinter, cast: Cast
) -> None:
    """Step 6: a prescription, four weeks of doses, the adherence report."""
    printer.section("Medication adherence")
    zone = ZoneInfo(CLINIC_ZONE)
    today = datetime.now(zone).date()
    medications = create_medication_repository(db)
    with acting_as(cast.therapist):
        sertraline = await medications.create(
            Medication(
                patient_id=cast.patient_id,
                medication_name="Sertraline",
                strength="50mg",
                prescribed_dosage="50mg once daily, in the morning",
                prescriber_id="psychiatrist_0042",
                start_date=today - timedelta(days=35),
                indication="Major depressive disorder",
                schedule=DoseSchedule(times_per_day=1, time_zone=CLINIC_ZONE),
                days_supply=30,
                refills_remaining=2,
                last_filled_on=today - timedelta(days=5),
            )
        )
    with acting_as(cast.patient):
        for days_ago in range(1, 29):
            day = today - timedelta(days=days_ago)
            slot = datetime.combine(day, time(8), tzinfo=zone)
            missed = days_ago in MISSED_DOSE_DAYS
            await medications.record_dose(
                sertraline.medication_id,
                DoseStatus.MISSED if missed else DoseStatus.TAKEN,
                scheduled_for=slot,
                taken_at=None if missed else slot + timedelta(minutes=15),
            )
    with acting_as(cast.therapist):
        report = await medications.generate_adherence_report(
            cast.patient_id, today - timedelta(days=13), today
        )
    printer.table(
        ("medication", "doses taken", "days covered", "previous 2 weeks", "trend"),
        [
            (
                f"{row.medication_name} {row.strength or ''}".strip(),
                f"{row.current.doses_taken}/{row.current.doses_scheduled}",
                f"{row.current.days_covered}/{row.current.days_due}",
                _rate(row.previous.dose_rate if row.previous else None),
                row.trend,
            )
            for row in report.rows
        ],
    )
    by_weekday = report.missed_patterns.by_weekday
    missed_on = ", ".join(f"{day} {n}" for day, n in by_weekday.items() if n)
    printer.fact(f"missed doses by weekday: {missed_on or 'none'}")


def _rate(rate: float | None) -> str:
    """A proportion as a percentage, or a dash when nothing was due."""
    return "-" if rate is None else f"{rate:.0%}"
