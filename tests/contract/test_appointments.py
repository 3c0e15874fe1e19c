"""Appointments on both backends: booking against the provider's calendar,
conflicts refused with nothing left behind, availability and free slots,
daylight-saving time, rescheduling and cancelling with history, the status
workflow, bad input, and who may read a patient's appointments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from tests.conftest import BACKENDS
from tests.support.access_data import (
    OUTSIDE_THERAPIST,
    actor_context,
    clinic_database_on,
    reseeded,
)
from tests.support.access_data import PATIENT as CLINIC_PATIENT
from tests.support.access_data import THERAPIST as CLINIC_THERAPIST
from tests.support.appointment_data import (
    LOS_ANGELES,
    MONDAY_AFTER_DST,
    MONDAY_BEFORE_DST,
    NEW_YORK,
    OTHER_PATIENT,
    PATIENT,
    PSYCHIATRIST,
    THERAPIST,
    local,
    next_weekday,
    therapy_session,
    unchecked_session,
    weekday_calendar,
)
from wellness_repo import (
    Appointment,
    AppointmentModality,
    AppointmentRepository,
    AppointmentStatus,
    AppointmentType,
    BookingConflictError,
    CalendarExceptionKind,
    CancelledBy,
    ConcurrencyError,
    DatabaseManager,
    NotFoundError,
    ProviderCalendarRepository,
    ValidationError,
    acting_as,
    create_appointment_repository,
    create_provider_calendar_repository,
)
from wellness_repo.models.appointment_slots import SlotReservation

DAY = next_weekday()


@pytest.fixture
async def appointments(db: DatabaseManager) -> AppointmentRepository:
    calendars = create_provider_calendar_repository(db)
    await calendars.create(weekday_calendar(THERAPIST))
    await calendars.create(
        weekday_calendar(PSYCHIATRIST, zone="America/Los_Angeles", buffer_minutes=0)
    )
    return create_appointment_repository(db)


async def stored_appointments(db: DatabaseManager) -> int:
    return int(await db.collection(Appointment).count_documents({}))


async def active_reservations(db: DatabaseManager) -> int:
    return int(await db.collection(SlotReservation).count_documents({"active": True}))


# ------------------------------------------------------------------ booking


async def test_booking_stores_the_appointment_under_its_id_in_utc(
    appointments: AppointmentRepository,
) -> None:
    start = local(DAY, 10).astimezone(NEW_YORK)

    booked = await appointments.create(therapy_session(start))

    stored = await appointments.get(booked.appointment_id)
    assert stored.scheduled_start == local(DAY, 10)
    assert stored.scheduled_start.utcoffset() == timedelta(0)
    assert stored.status is AppointmentStatus.SCHEDULED
    assert stored.agenda == booked.agenda
    assert stored.booked_by == "system:tests"


async def test_a_bulk_insert_of_appointments_is_refused_so_no_booking_skips_its_slots(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    sessions = [therapy_session(local(DAY, 10)), therapy_session(local(DAY, 10))]

    with pytest.raises(ValidationError) as refused:
        await appointments.create_many(sessions)

    assert (refused.value.field, refused.value.rule) == (
        "entities",
        "book_through_create",
    )
    assert await stored_appointments(db) == 0
    assert await active_reservations(db) == 0


async def test_a_booking_reserves_the_providers_time_with_buffer_and_the_patients(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    await appointments.create(therapy_session(local(DAY, 10)))

    # 50 minutes + 10 buffer of the therapist, 50 of the patient, 5-minute grid.
    assert await active_reservations(db) == 12 + 10


async def test_an_overlapping_booking_for_the_provider_is_refused_leaving_nothing(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    await appointments.create(therapy_session(local(DAY, 10)))
    before = await active_reservations(db)

    with pytest.raises(BookingConflictError) as refused:
        await appointments.create(
            therapy_session(local(DAY, 10, 30), patient_id=OTHER_PATIENT)
        )

    assert refused.value.conflict == "provider"
    assert await stored_appointments(db) == 1
    assert await active_reservations(db) == before


async def test_a_booking_inside_the_providers_buffer_is_refused(
    appointments: AppointmentRepository,
) -> None:
    await appointments.create(therapy_session(local(DAY, 10)))

    with pytest.raises(BookingConflictError):
        await appointments.create(
            therapy_session(local(DAY, 10, 55), patient_id=OTHER_PATIENT)
        )


async def test_a_booking_right_after_the_buffer_is_accepted(
    appointments: AppointmentRepository,
) -> None:
    await appointments.create(therapy_session(local(DAY, 10)))

    later = await appointments.create(
        therapy_session(local(DAY, 11), patient_id=OTHER_PATIENT)
    )

    assert later.scheduled_start == local(DAY, 11)


async def test_a_patient_cannot_be_double_booked_with_another_provider(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    await appointments.create(therapy_session(local(DAY, 13)))

    with pytest.raises(BookingConflictError) as refused:
        await appointments.create(
            therapy_session(
                local(DAY, 13, 30),
                provider_id=PSYCHIATRIST,
                appointment_type=AppointmentType.MEDICATION_MANAGEMENT,
                duration_minutes=30,
            )
        )

    assert refused.value.conflict == "patient"
    assert await stored_appointments(db) == 1


# ------------------------------------------------------- bad input, refused


@pytest.mark.parametrize(
    ("start", "rule"),
    [
        (local(DAY, 7, 30), "outside_working_hours"),
        (local(DAY, 16, 30), "outside_working_hours"),
        (datetime.now(UTC).replace(microsecond=0) - timedelta(days=1), "not_in_past"),
        (local(DAY, 10, 3), "slot_grid"),
    ],
)
async def test_a_booking_at_a_bad_time_is_refused_naming_the_rule(
    db: DatabaseManager,
    appointments: AppointmentRepository,
    start: datetime,
    rule: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.create(therapy_session(start))

    assert (refused.value.field, refused.value.rule) == ("scheduled_start", rule)
    assert await stored_appointments(db) == 0
    assert await active_reservations(db) == 0


@pytest.mark.parametrize("minutes", [0, -50, 481, 52])
async def test_a_bad_duration_is_refused_before_anything_is_written(
    db: DatabaseManager, appointments: AppointmentRepository, minutes: int
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.create(
            unchecked_session(local(DAY, 10), duration_minutes=minutes)
        )

    assert refused.value.field == "duration_minutes"
    assert await stored_appointments(db) == 0


async def test_a_naive_start_is_refused_when_the_appointment_is_built() -> None:
    with pytest.raises(PydanticValidationError) as refused:
        therapy_session(datetime(2027, 1, 11, 10, 0))

    assert refused.value.errors()[0]["type"] == "timezone_required"


async def test_checking_availability_with_a_naive_time_names_the_field(
    appointments: AppointmentRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.check_availability(THERAPIST, datetime(2027, 1, 11, 10), 50)

    assert (refused.value.field, refused.value.rule) == (
        "start_time",
        "timezone_required",
    )


async def test_an_in_person_visit_without_a_location_is_refused(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.create(
            unchecked_session(local(DAY, 10), modality=AppointmentModality.IN_PERSON)
        )

    assert (refused.value.field, refused.value.rule) == (
        "location",
        "location_required",
    )
    assert await stored_appointments(db) == 0


async def test_a_telehealth_link_must_be_https() -> None:
    with pytest.raises(PydanticValidationError) as refused:
        therapy_session(local(DAY, 10), telehealth_link="http://video.example/r/1")

    assert refused.value.errors()[0]["type"] == "https_url"


async def test_a_provider_without_a_calendar_cannot_be_booked(
    appointments: AppointmentRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.create(
            therapy_session(local(DAY, 10), provider_id="therapist_unlisted")
        )

    assert refused.value.rule == "no_calendar"


# --------------------------------------------------- availability and slots


async def test_availability_respects_hours_bookings_buffers_and_vacation(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    await appointments.create(therapy_session(local(DAY, 10)))
    await ProviderCalendarRepository(db).add_exception(
        THERAPIST, CalendarExceptionKind.VACATION, local(DAY, 14), local(DAY, 17)
    )

    free = appointments.check_availability

    assert await free(THERAPIST, local(DAY, 11), 50) is True
    assert await free(THERAPIST, local(DAY, 10, 30), 50) is False
    assert await free(THERAPIST, local(DAY, 10, 55), 50) is False
    assert await free(THERAPIST, local(DAY, 8), 50) is False
    assert await free(THERAPIST, local(DAY, 14, 30), 50) is False


async def test_a_booking_during_a_vacation_is_refused(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    await ProviderCalendarRepository(db).add_exception(
        THERAPIST, CalendarExceptionKind.VACATION, local(DAY, 0), local(DAY, 23)
    )

    with pytest.raises(ValidationError) as refused:
        await appointments.create(therapy_session(local(DAY, 10)))

    assert refused.value.rule == "provider_unavailable"


async def test_free_slots_skip_booked_time_and_its_buffer(
    appointments: AppointmentRepository,
) -> None:
    await appointments.create(therapy_session(local(DAY, 10)))

    slots = await appointments.find_free_slots(
        THERAPIST, local(DAY, 0), local(DAY, 23), 50
    )

    hours = [slot.astimezone(NEW_YORK).strftime("%H:%M") for slot in slots]
    assert hours == ["09:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


async def test_free_slot_search_is_limited_to_a_month(
    appointments: AppointmentRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.find_free_slots(
            THERAPIST, local(DAY, 0), local(DAY, 0) + timedelta(days=40), 50
        )

    assert (refused.value.field, refused.value.rule) == ("range_end", "range")


# ------------------------------------------------------------ daylight saving


async def test_a_booking_after_the_spring_change_lands_at_nine_local(
    appointments: AppointmentRepository,
) -> None:
    before = await appointments.create(therapy_session(local(MONDAY_BEFORE_DST, 9)))
    after = await appointments.create(therapy_session(local(MONDAY_AFTER_DST, 9)))

    assert before.scheduled_start.hour == 14
    assert after.scheduled_start.hour == 13
    assert after.scheduled_start.astimezone(NEW_YORK).hour == 9


async def test_availability_after_the_change_follows_the_new_offset(
    appointments: AppointmentRepository,
) -> None:
    eight_local_after = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
    nine_local_after = datetime(2027, 3, 15, 13, 0, tzinfo=UTC)

    assert await appointments.check_availability(THERAPIST, nine_local_after, 50)
    assert not await appointments.check_availability(THERAPIST, eight_local_after, 50)
    with pytest.raises(ValidationError) as refused:
        await appointments.create(therapy_session(eight_local_after))
    assert refused.value.rule == "outside_working_hours"


async def test_working_hours_are_read_in_the_providers_own_zone(
    appointments: AppointmentRepository,
) -> None:
    nine_in_los_angeles = local(DAY, 9, zone=LOS_ANGELES)

    assert await appointments.check_availability(PSYCHIATRIST, nine_in_los_angeles, 30)
    assert not await appointments.check_availability(PSYCHIATRIST, local(DAY, 9), 30)


# ------------------------------------------------------ reschedule and cancel


async def test_rescheduling_keeps_the_old_time_in_history_and_frees_it(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    moved = await appointments.reschedule(
        booked.id, local(DAY, 14), reason="Patient has a work shift change"
    )

    assert moved.status is AppointmentStatus.RESCHEDULED
    assert moved.scheduled_start == local(DAY, 14)
    assert [change.previous_start for change in moved.history] == [local(DAY, 10)]
    assert moved.history[0].reason == "Patient has a work shift change"
    assert await appointments.check_availability(THERAPIST, local(DAY, 10), 50)
    assert not await appointments.check_availability(THERAPIST, local(DAY, 14), 50)


async def test_moving_by_half_an_hour_reuses_the_overlapping_slots(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    await appointments.reschedule(booked.id, local(DAY, 10, 30))

    assert await active_reservations(db) == 12 + 10


async def test_rescheduling_onto_a_taken_time_keeps_the_old_booking(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))
    await appointments.create(therapy_session(local(DAY, 14), patient_id=OTHER_PATIENT))

    with pytest.raises(BookingConflictError):
        await appointments.reschedule(booked.id, local(DAY, 14, 15))

    kept = await appointments.get(booked.id)
    assert kept.scheduled_start == local(DAY, 10)
    assert kept.history == []
    assert await active_reservations(db) == 2 * (12 + 10)


async def test_a_reschedule_from_a_copy_edited_meanwhile_is_stale_at_once(
    db: DatabaseManager,
    appointments: AppointmentRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))
    calendar_of = appointments._rules_of
    holds = 0

    async def agenda_edited_after_the_read(provider_id: str) -> Any:
        await appointments.patch(booked.id, {"agenda": ["Sleep since the new shift"]})
        monkeypatch.setattr(appointments, "_rules_of", calendar_of)
        return await calendar_of(provider_id)

    async def counted_hold(*args: Any) -> None:
        nonlocal holds
        holds += 1
        await hold(*args)

    hold = appointments._hold
    monkeypatch.setattr(appointments, "_rules_of", agenda_edited_after_the_read)
    monkeypatch.setattr(appointments, "_hold", counted_hold)

    with pytest.raises(ConcurrencyError):
        await appointments.reschedule(booked.id, local(DAY, 14))

    assert holds == 1
    kept = await appointments.get(booked.id)
    assert (kept.scheduled_start, kept.agenda) == (
        local(DAY, 10),
        ["Sleep since the new shift"],
    )
    assert await active_reservations(db) == 12 + 10


@pytest.mark.parametrize(
    "field", ["confirmed_at", "checked_in_at", "completed_at", "booked_by"]
)
async def test_the_stamps_of_each_act_are_set_only_by_the_act(
    appointments: AppointmentRepository, field: str
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))
    forged = "someone_else" if field == "booked_by" else local(DAY, 9)

    with pytest.raises(ValidationError) as raised:
        await appointments.patch(booked.id, {field: forged})

    assert (raised.value.field, raised.value.rule) == (field, "managed_field")
    assert await appointments.get(booked.id) == booked


async def test_cancelling_records_reason_party_and_frees_the_time(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    cancelled = await appointments.cancel(
        booked.id, "Admitted to hospital", cancelled_by=CancelledBy.PATIENT
    )

    assert cancelled.status is AppointmentStatus.CANCELLED
    assert cancelled.cancellation is not None
    assert cancelled.cancellation.reason == "Admitted to hospital"
    assert cancelled.cancellation.cancelled_by_party is CancelledBy.PATIENT
    assert cancelled.cancellation.late is False
    assert [change.kind.value for change in cancelled.history] == ["cancelled"]
    assert await active_reservations(db) == 0
    rebooked = await appointments.create(
        therapy_session(local(DAY, 10), patient_id=OTHER_PATIENT)
    )
    assert rebooked.scheduled_start == local(DAY, 10)


async def test_a_cancellation_inside_the_late_window_is_marked_late(
    db: DatabaseManager,
    appointments: AppointmentRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))
    monkeypatch.setattr(db.settings, "appointment_late_cancel_hours", 24 * 14)

    cancelled = await appointments.cancel(booked.id, "Childcare fell through")

    assert cancelled.cancellation is not None
    assert cancelled.cancellation.late is True


async def test_a_cancelled_appointment_cannot_be_cancelled_again(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))
    await appointments.cancel(booked.id, "Feeling better, wants a break")

    with pytest.raises(ValidationError) as refused:
        await appointments.cancel(booked.id, "Duplicate request")

    assert refused.value.rule == "invalid_transition"


# ------------------------------------------------------------------ workflow


async def test_an_in_person_visit_is_confirmed_checked_in_and_completed(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(
        therapy_session(
            local(DAY, 10),
            modality=AppointmentModality.IN_PERSON,
            location="Suite 210, 40 Elm Street",
        )
    )

    await appointments.confirm(booked.id)
    await appointments.check_in(booked.id)
    done = await appointments.complete(booked.id)

    assert done.status is AppointmentStatus.COMPLETED
    assert done.confirmed_at is not None
    assert done.completed_at is not None


async def test_a_telehealth_visit_needs_its_link_to_be_confirmed(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    with pytest.raises(ValidationError) as refused:
        await appointments.confirm(booked.id)

    assert refused.value.rule == "telehealth_link_required"


async def test_a_confirmed_telehealth_visit_keeps_a_link(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))
    room = "https://video.example-clinic.org/room/8842-kestrel"
    await appointments.patch(booked.id, {"telehealth_link": room})
    confirmed = await appointments.confirm(booked.id)

    with pytest.raises(ValidationError) as cleared:
        await appointments.patch(booked.id, {"telehealth_link": None})
    moved_room = await appointments.patch(booked.id, {"telehealth_link": room + "-b"})

    assert (cleared.value.field, cleared.value.rule) == (
        "telehealth_link",
        "telehealth_link_required",
    )
    assert moved_room.telehealth_link == room + "-b"
    assert moved_room.confirmed_at == confirmed.confirmed_at


async def test_a_visit_cannot_be_completed_before_check_in(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    with pytest.raises(ValidationError) as refused:
        await appointments.complete(booked.id)

    assert refused.value.rule == "invalid_transition"


async def test_a_no_show_is_not_recorded_before_the_start(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    with pytest.raises(ValidationError) as refused:
        await appointments.mark_no_show(booked.id)

    assert refused.value.rule == "not_yet_started"


async def test_a_plain_update_may_edit_the_agenda_but_not_the_status(
    appointments: AppointmentRepository,
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    edited = await appointments.update(
        booked.model_copy(update={"agenda": ["Relapse prevention plan"]})
    )
    with pytest.raises(ValidationError) as refused:
        await appointments.update(
            edited.model_copy(update={"status": AppointmentStatus.COMPLETED})
        )

    assert edited.agenda == ["Relapse prevention plan"]
    assert (refused.value.field, refused.value.rule) == ("status", "managed_field")


async def test_deleting_an_appointment_entered_in_error_frees_its_time(
    db: DatabaseManager, appointments: AppointmentRepository
) -> None:
    booked = await appointments.create(therapy_session(local(DAY, 10)))

    assert await appointments.delete(booked.id)

    assert await active_reservations(db) == 0
    assert await appointments.check_availability(THERAPIST, local(DAY, 10), 50)


# --------------------------------------------------------------------- reads


async def test_a_patients_appointments_come_in_time_order_within_a_window(
    appointments: AppointmentRepository,
) -> None:
    for hour in (15, 9, 12):
        await appointments.create(therapy_session(local(DAY, hour)))
    await appointments.create(therapy_session(local(DAY, 10), patient_id=OTHER_PATIENT))

    page = await appointments.appointments_for_patient(
        PATIENT, start=local(DAY, 10), end=local(DAY, 23)
    )

    assert [item.scheduled_start for item in page.items] == [
        local(DAY, 12),
        local(DAY, 15),
    ]


async def test_a_providers_schedule_pages_by_start_time(
    appointments: AppointmentRepository,
) -> None:
    for hour, patient in ((9, PATIENT), (11, OTHER_PATIENT), (13, "patient_777")):
        await appointments.create(therapy_session(local(DAY, hour), patient_id=patient))

    first = await appointments.provider_schedule(
        THERAPIST, local(DAY, 0), local(DAY, 23), limit=2
    )
    rest = await appointments.provider_schedule(
        THERAPIST, local(DAY, 0), local(DAY, 23), limit=2, after=first.next_cursor
    )

    assert [item.patient_id for item in first.items + rest.items] == [
        PATIENT,
        OTHER_PATIENT,
        "patient_777",
    ]


# -------------------------------------------------------------------- access


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_clinician_not_caring_for_the_patient_cannot_read_appointments(
    backend: str, mongodb_uri: str
) -> None:
    async with clinic_database_on(backend, mongodb_uri) as database:
        clinic = await reseeded(database)
        await ProviderCalendarRepository(clinic.db).create(
            weekday_calendar(CLINIC_THERAPIST)
        )
        appointments = AppointmentRepository(clinic.db)
        with acting_as(actor_context("therapist")):
            booked = await appointments.create(
                therapy_session(
                    local(DAY, 10),
                    provider_id=CLINIC_THERAPIST,
                    patient_id=CLINIC_PATIENT,
                )
            )

        with acting_as(actor_context("outside_therapist")):
            with pytest.raises(NotFoundError):
                await appointments.get(booked.id)
            page = await appointments.appointments_for_patient(CLINIC_PATIENT)
        with acting_as(actor_context("patient")):
            own = await appointments.get(booked.id)

    assert OUTSIDE_THERAPIST != CLINIC_THERAPIST
    assert page.items == []
    assert own.appointment_id == booked.id
