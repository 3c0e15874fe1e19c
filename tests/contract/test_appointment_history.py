"""Importing past appointments (a migration from another system, fixtures) on
both backends: system contexts only, every record still checked against the
provider's calendar and the grid, the visits' time reserved, all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.access_data import actor_context
from tests.support.appointment_data import (
    LOS_ANGELES,
    PATIENT,
    PSYCHIATRIST,
    THERAPIST,
    local,
    therapy_session,
    weekday_calendar,
)
from wellness_repo import (
    AccessDeniedError,
    Appointment,
    AppointmentStatus,
    BookingConflictError,
    Cancellation,
    CancelledBy,
    DatabaseManager,
    ValidationError,
    acting_as,
)
from wellness_repo.repositories.appointments import AppointmentRepository
from wellness_repo.repositories.provider_calendars import ProviderCalendarRepository


def past_weekday(weeks_back: int) -> date:
    """A Monday-to-Friday date about ``weeks_back`` weeks ago."""
    day = datetime.now(UTC).date() - timedelta(weeks=weeks_back)
    while day.weekday() > 4:
        day -= timedelta(days=1)
    return day


def completed(weeks_back: int, hour: int = 10, **changes: object) -> Appointment:
    start = local(past_weekday(weeks_back), hour)
    values: dict[str, object] = {
        "status": AppointmentStatus.COMPLETED,
        "checked_in_at": start - timedelta(minutes=5),
        "completed_at": start + timedelta(minutes=50),
    }
    values.update(changes)
    return therapy_session(start, **values)


def cancelled(weeks_back: int) -> Appointment:
    start = local(past_weekday(weeks_back), 11)
    return therapy_session(
        start,
        status=AppointmentStatus.CANCELLED,
        cancellation=Cancellation(
            reason="Childcare fell through",
            cancelled_by=PATIENT,
            cancelled_by_party=CancelledBy.PATIENT,
            cancelled_at=start - timedelta(hours=30),
            late=False,
            notice_minutes=30 * 60,
        ),
    )


@pytest.fixture
async def appointments(db: DatabaseManager) -> AppointmentRepository:
    calendars = ProviderCalendarRepository(db)
    await calendars.create(weekday_calendar(THERAPIST))
    await calendars.create(
        weekday_calendar(PSYCHIATRIST, zone="America/Los_Angeles", buffer_minutes=0)
    )
    return AppointmentRepository(db)


async def test_past_visits_are_imported_with_their_outcomes(
    appointments: AppointmentRepository,
) -> None:
    history = [
        completed(6),
        completed(5),
        cancelled(4),
        completed(3, status=AppointmentStatus.NO_SHOW, checked_in_at=None,
                  completed_at=None),
    ]  # fmt: skip

    stored = await appointments.import_history(history)

    assert [visit.id for visit in stored] == [visit.id for visit in history]
    found = await appointments.appointments_for_patient(PATIENT)
    assert [visit.status for visit in found.items] == [
        AppointmentStatus.COMPLETED,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    ]
    assert all(visit.booked_by == "system:tests" for visit in stored)


async def test_a_cancelled_visit_holds_no_time_so_may_overlap_another(
    appointments: AppointmentRepository,
) -> None:
    called_off = cancelled(2)
    visit = completed(2, hour=11, scheduled_start=called_off.scheduled_start)

    stored = await appointments.import_history([called_off, visit])

    assert len(stored) == 2


async def test_overlapping_visits_of_one_patient_are_refused_together(
    appointments: AppointmentRepository,
) -> None:
    # 12:00-12:50 in New York and 09:30 in Los Angeles (12:30 in New York).
    first = completed(3, hour=12)
    start = local(past_weekday(3), 9, 30, zone=LOS_ANGELES)
    other = completed(
        3,
        provider_id=PSYCHIATRIST,
        scheduled_start=start,
        completed_at=start + timedelta(minutes=50),
    )

    with pytest.raises(BookingConflictError) as raised:
        await appointments.import_history([first, other])

    assert raised.value.conflict == "patient"
    assert await appointments.count() == 0


async def test_overlapping_visits_of_one_provider_are_refused_together(
    appointments: AppointmentRepository,
) -> None:
    first = completed(3)
    other = completed(
        3, patient_id="patient_901", scheduled_start=first.scheduled_start
    )

    with pytest.raises(BookingConflictError) as raised:
        await appointments.import_history([first, other])

    assert raised.value.conflict == "provider"
    assert await appointments.count() == 0


async def test_a_visit_still_ahead_is_refused_naming_its_place(
    appointments: AppointmentRepository,
) -> None:
    ahead = local(datetime.now(UTC).date() + timedelta(days=9), 10)
    future = completed(1, scheduled_start=ahead, completed_at=ahead)

    with pytest.raises(ValidationError) as raised:
        await appointments.import_history([completed(2), future])

    assert (raised.value.field, raised.value.rule) == (
        "appointments.1.scheduled_start",
        "not_in_past",
    )
    assert await appointments.count() == 0


async def test_a_visit_that_has_not_ended_is_refused(
    appointments: AppointmentRepository,
) -> None:
    still_booked = therapy_session(local(past_weekday(2), 10))

    with pytest.raises(ValidationError) as raised:
        await appointments.import_history([still_booked])

    assert (raised.value.field, raised.value.rule) == (
        "appointments.0.status",
        "not_ended",
    )


async def test_a_visit_outside_working_hours_is_refused(
    appointments: AppointmentRepository,
) -> None:
    evening = completed(2, hour=19)

    with pytest.raises(ValidationError) as raised:
        await appointments.import_history([evening])

    assert (raised.value.field, raised.value.rule) == (
        "appointments.0.scheduled_start",
        "outside_working_hours",
    )


async def test_working_hours_are_read_in_the_providers_zone(
    appointments: AppointmentRepository,
) -> None:
    # 09:30 in Los Angeles is 12:30 in New York: inside the psychiatrist's day.
    start = local(past_weekday(2), 9, 30, zone=LOS_ANGELES)
    visit = completed(
        2,
        provider_id=PSYCHIATRIST,
        scheduled_start=start,
        completed_at=start + timedelta(minutes=50),
    )

    stored = await appointments.import_history([visit])

    assert stored[0].provider_id == PSYCHIATRIST


async def test_a_completed_visit_needs_its_completion_time(
    appointments: AppointmentRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await appointments.import_history([completed(2, completed_at=None)])

    assert raised.value.rule == "required"
    assert raised.value.field == "appointments.0.completed_at"


async def test_only_a_system_context_may_import_history(
    appointments: AppointmentRepository,
) -> None:
    with acting_as(actor_context("therapist")), pytest.raises(AccessDeniedError):
        await appointments.import_history([completed(2)])

    assert await appointments.count() == 0
