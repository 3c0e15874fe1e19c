"""The index-coverage cases of the operational repositories: appointments and
their availability, reservations and reminders, providers' calendars,
medications and adherence, dose logs, conversations and their messages.

Each row is ``(repository factory, method, arguments)`` over the clinic of
``tests.support.index_coverage_clinic``; ``tests.support.index_coverage`` turns
them into its :data:`~tests.support.index_coverage.CASES`. Rows run in order on
one clinic, so the writes that change what later rows read come last in their
area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from tests.support.appointment_data import local, therapy_session
from tests.support.index_coverage_clinic import NOW, PATIENT, THERAPIST, TODAY, Seeded
from tests.support.index_coverage_operations import business_days
from tests.support.medication_data import days_back, local_instant
from wellness_repo import (
    AppointmentStatus,
    CalendarExceptionKind,
    ConversationType,
    DatabaseManager,
    ReminderType,
    Weekday,
    WorkingHours,
    create_appointment_reminder_repository,
    create_appointment_repository,
    create_conversation_repository,
    create_dose_log_repository,
    create_medication_repository,
    create_provider_calendar_repository,
)
from wellness_repo.models.appointment_slots import holder_of_provider

Row = tuple[
    Callable[[DatabaseManager], Any], str, Callable[[Seeded], Mapping[str, Any]]
]

appointments_ = create_appointment_repository
reminders_ = create_appointment_reminder_repository
calendars_ = create_provider_calendar_repository
medications_ = create_medication_repository
doses_ = create_dose_log_repository
conversations_ = create_conversation_repository
HELD = "appointment_coverage_hold"
"""The appointment id the reservation rows hold slots for and release."""


def slots_(db: DatabaseManager) -> Any:
    """The reservations behind booking, as the appointment repository uses them."""
    return create_appointment_repository(db).slots


def messages_(db: DatabaseManager) -> Any:
    """A conversation's messages, as the conversation repository reads them."""
    return create_conversation_repository(db).messages


def _free_day(seeded: Seeded) -> date:
    return date.fromisoformat(seeded.ids["free_day"])


def _free_hour(seeded: Seeded, hour: int) -> datetime:
    """An hour on the last seeded booking day; the therapist's one booking that
    day is at 10:00."""
    return local(_free_day(seeded), hour)


def _long_ago() -> date:
    """A weekday before every seeded visit."""
    return business_days(TODAY - timedelta(days=60), 1)[0]


def _past_visit(_: Seeded) -> Mapping[str, Any]:
    start = local(_long_ago(), 10)
    return {
        "appointments": [
            therapy_session(
                start,
                provider_id=THERAPIST,
                patient_id="patient_imported_0001",
                status=AppointmentStatus.COMPLETED,
                completed_at=start + timedelta(minutes=50),
            )
        ]
    }


def _medication(seeded: Seeded, name: str = "Lamotrigine") -> str:
    return seeded.ids[f"medication_{name}"]


OPERATION_CASES: tuple[Row, ...] = (
    # Appointments: availability, timelines, history, reminders.
    (
        appointments_,
        "check_availability",
        lambda s: {
            "provider_id": THERAPIST,
            "start_time": _free_hour(s, 14),
            "duration_minutes": 50,
        },
    ),
    (
        appointments_,
        "find_free_slots",
        lambda s: {
            "provider_id": THERAPIST,
            "range_start": local(TODAY, 0),
            "range_end": local(_free_day(s), 23),
            "duration_minutes": 50,
        },
    ),
    (
        appointments_,
        "appointments_for_patient",
        lambda _: {"patient_id": PATIENT, "start": NOW - timedelta(days=60)},
    ),
    (
        appointments_,
        "appointments_for_patient",
        lambda _: {"patient_id": PATIENT, "limit": 1, "after": None},
    ),
    (
        appointments_,
        "provider_schedule",
        lambda _: {
            "provider_id": THERAPIST,
            "start": NOW - timedelta(days=45),
            "end": NOW + timedelta(days=30),
        },
    ),
    (appointments_, "import_history", _past_visit),
    (
        appointments_,
        "send_appointment_reminders",
        lambda s: {
            "appointment_id": s.ids["appointment"],
            "reminder_types": [ReminderType.EMAIL, ReminderType.SMS],
        },
    ),
    # Asked again: each reminder is found open already (its unique rule).
    (
        reminders_,
        "schedule",
        lambda s: {
            "appointment": s.records["appointment"],
            "reminder_types": [ReminderType.EMAIL],
        },
    ),
    (
        reminders_,
        "reminders_for_appointment",
        lambda s: {"appointment_id": s.ids["appointment"]},
    ),
    (reminders_, "due", lambda _: {"limit": 50}),
    (
        reminders_,
        "claim",
        lambda _: {"worker_id": "reminder-worker-1", "lease": timedelta(minutes=2)},
    ),
    (
        reminders_,
        "cancel_open",
        lambda s: {"appointment_id": s.ids["appointment"]},
    ),
    (
        appointments_,
        "reschedule",
        lambda s: {
            "appointment_id": s.ids["appointment_to_move"],
            "new_start": _free_hour(s, 15),
        },
    ),
    # Reservations: the booking path's shortcut check, its reads and releases.
    (
        slots_,
        "hold",
        lambda s: {
            "appointment_id": HELD,
            "holder": holder_of_provider(THERAPIST),
            "slots": [_free_hour(s, 16)],
            "conflict": "provider",
        },
    ),
    (
        slots_,
        "held_slots",
        lambda s: {
            "appointment_id": s.ids["appointment"],
            "holder": holder_of_provider(THERAPIST),
        },
    ),
    (
        slots_,
        "release",
        lambda s: {
            "appointment_id": HELD,
            "holder": holder_of_provider(THERAPIST),
            "slots": [_free_hour(s, 16)],
        },
    ),
    (slots_, "release", lambda _: {"appointment_id": HELD}),
    # Providers' calendars (their writes select the calendar by provider id).
    (calendars_, "calendar_for", lambda _: {"provider_id": THERAPIST}),
    (
        calendars_,
        "add_exception",
        lambda _: {
            "provider_id": THERAPIST,
            "kind": CalendarExceptionKind.TRAINING,
            "starts_at": local(TODAY + timedelta(days=40), 9),
            "ends_at": local(TODAY + timedelta(days=40), 17),
        },
    ),
    (
        calendars_,
        "set_working_hours",
        lambda _: {
            "provider_id": THERAPIST,
            "weekly_hours": [
                WorkingHours(weekday=day, start=time(8), end=time(16))
                for day in (Weekday.MONDAY, Weekday.WEDNESDAY, Weekday.FRIDAY)
            ],
        },
    ),
    # Medications: lists, the interaction check, refills, adherence.
    (medications_, "medications_for_patient", lambda _: {"patient_id": PATIENT}),
    (medications_, "active_medications", lambda _: {"patient_id": PATIENT}),
    (
        medications_,
        "check_interactions",
        lambda _: {"patient_id": PATIENT, "medication_name": "Phenelzine"},
    ),
    (medications_, "refills_due", lambda _: {"within_days": 14}),
    (
        medications_,
        "refills_due",
        lambda _: {"within_days": 365, "patient_id": PATIENT},
    ),
    (
        medications_,
        "calculate_adherence",
        lambda _: {"patient_id": PATIENT, "period_days": 30},
    ),
    (
        medications_,
        "generate_adherence_report",
        lambda _: {
            "patient_id": PATIENT,
            "start_date": days_back(7),
            "end_date": days_back(1),
        },
    ),
    # Dose logs: by medication, by patient, the tally, and logging (a retry of
    # a logged dose reads the first log by its unique key).
    (
        doses_,
        "doses_for_medication",
        lambda s: {
            "medication_id": _medication(s),
            "start_date": days_back(6),
            "end_date": days_back(3),
        },
    ),
    (doses_, "doses_for_medication", lambda s: {"medication_id": _medication(s)}),
    (
        doses_,
        "doses_for_patient",
        lambda _: {
            "patient_id": PATIENT,
            "start_date": days_back(6),
            "end_date": days_back(3),
        },
    ),
    (
        doses_,
        "dose_tally",
        lambda _: {
            "patient_id": PATIENT,
            "first_day": days_back(10),
            "last_day": days_back(1),
            "due_by": NOW,
        },
    ),
    (
        doses_,
        "record_dose",
        lambda s: {
            "medication_id": _medication(s),
            "status": "taken",
            "scheduled_for": local_instant(days_back(1), "08:00"),
        },
    ),
    (
        medications_,
        "record_dose",
        lambda s: {
            "medication_id": _medication(s),
            "status": "taken",
            "scheduled_for": local_instant(days_back(1), "08:00"),
        },
    ),
    # Conversations: the patient's list, a transcript, the agent's reply.
    (
        conversations_,
        "conversations_for_user",
        lambda _: {"user_id": PATIENT, "limit": 5},
    ),
    (
        conversations_,
        "conversations_for_user",
        lambda _: {
            "user_id": PATIENT,
            "conversation_type": ConversationType.CBT_EXERCISE,
            "limit": 5,
        },
    ),
    (
        conversations_,
        "transcript",
        lambda s: {"conversation_id": s.ids["conversation"], "limit": 2},
    ),
    (
        messages_,
        "transcript",
        lambda s: {"conversation_id": s.ids["conversation"]},
    ),
    (
        conversations_,
        "conversation_analytics",
        lambda s: {"conversation_id": s.ids["conversation"]},
    ),
    (
        conversations_,
        "add_message",
        lambda s: {
            "conversation_id": s.ids["conversation"],
            "content": "couldn't sleep again, lay awake till 4am",
        },
    ),
    (
        conversations_,
        "generate_ai_response",
        lambda s: {
            "conversation_id": s.ids["conversation"],
            "user_message": "I'm feeling anxious about tomorrow",
        },
    ),
)
"""The operational repositories' query methods, one row per call."""
