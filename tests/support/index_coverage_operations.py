"""The operational records of the index-coverage clinic: the therapists'
calendars, appointments (past visits and bookings) across every patient,
reminders, medications with a fortnight of dose logs, and check-in
conversations with their messages.

Bulk rows go in through the repositories' batch paths (``import_history``,
``create_many``) so seeding stays quick; the records a case names are booked,
scheduled or started through the public methods."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.appointment_data import local, therapy_session, weekday_calendar
from tests.support.medication_data import (
    as_needed,
    days_back,
    local_instant,
    sertraline,
    twice_daily,
)
from wellness_repo import (
    AppointmentStatus,
    Conversation,
    ConversationMessage,
    ConversationType,
    DatabaseManager,
    DoseLog,
    ReminderType,
    create_appointment_repository,
    create_medication_repository,
    create_provider_calendar_repository,
)
from wellness_repo.repository.base import AsyncBaseRepository

DOSE_DAYS = 10
CONVERSATION_TYPES = (
    ConversationType.MOOD_CHECK_IN,
    ConversationType.CBT_EXERCISE,
    ConversationType.GENERAL,
)


def business_days(first: date, count: int) -> list[date]:
    """The first ``count`` Monday-to-Friday dates from ``first`` on."""
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


async def seed_operations(
    db: DatabaseManager,
    ids: dict[str, str],
    records: dict[str, Any],
    patients: list[str],
    therapists: list[str],
    patient: str,
    today: date,
) -> None:
    """Calendars, appointments, reminders, medications, dose logs and
    conversations for every patient; the ids the cases name go in ``ids``,
    the records they pass whole in ``records``."""
    await _seed_appointments(db, ids, records, patients, therapists, patient, today)
    await _seed_medications(db, ids, patients, patient)
    await _seed_conversations(db, ids, patients, patient, today)


async def _seed_appointments(
    db: DatabaseManager,
    ids: dict[str, str],
    records: dict[str, Any],
    patients: list[str],
    therapists: list[str],
    patient: str,
    today: date,
) -> None:
    calendars = create_provider_calendar_repository(db)
    await calendars.create_many([weekday_calendar(t) for t in therapists])
    appointments = create_appointment_repository(db)
    # Two past visits per patient, a week apart, each at the patient's hour.
    past_days = business_days(today - timedelta(days=30), 10)
    visits = []
    for index, someone in enumerate(patients):
        therapist = therapists[index % len(therapists)]
        slot = index // len(therapists)
        for week in (0, 5):
            start = local(past_days[slot % 5 + week], 9 + slot % 8)
            visits.append(
                therapy_session(
                    start,
                    provider_id=therapist,
                    patient_id=someone,
                    status=AppointmentStatus.COMPLETED,
                    completed_at=start + timedelta(minutes=50),
                )
            )
    await appointments.import_history(visits)
    # One booking per patient over the next two weeks, through the booking path.
    future_days = business_days(today + timedelta(days=3), 10)
    for index, someone in enumerate(patients):
        slot = index // len(therapists)
        booked = await appointments.create(
            therapy_session(
                local(future_days[slot], 9 + slot % 8),
                provider_id=therapists[index % len(therapists)],
                patient_id=someone,
            )
        )
        if someone == patient:
            ids["appointment"] = booked.id
            records["appointment"] = booked
        if index % 3 == 0:
            await appointments.send_appointment_reminders(
                booked.id, [ReminderType.EMAIL, ReminderType.SMS]
            )
        if index == len(patients) - 1:
            ids["appointment_to_move"] = booked.id
    ids["free_day"] = future_days[-1].isoformat()


async def _seed_medications(
    db: DatabaseManager, ids: dict[str, str], patients: list[str], patient: str
) -> None:
    medications = create_medication_repository(db)
    start = days_back(DOSE_DAYS + 2)
    stored = await medications.create_many(
        [
            prescription
            for index, someone in enumerate(patients)
            for prescription in (
                sertraline(
                    patient_id=someone,
                    start_date=start,
                    last_filled_on=start + timedelta(days=index % 20),
                    days_supply=30,
                ),
                twice_daily(patient_id=someone, start_date=start),
                as_needed(patient_id=someone, start_date=start),
            )
        ]
    )
    logs = []
    for medication in stored:
        if medication.patient_id == patient:
            ids[f"medication_{medication.medication_name}"] = medication.id
        if medication.as_needed or medication.schedule.times_per_day != 2:
            continue
        for offset in range(DOSE_DAYS):
            day = start + timedelta(days=offset)
            for clock in ("08:00", "20:00"):
                slot = local_instant(day, clock)
                taken = (offset + int(clock[:2])) % 4 != 0
                logs.append(
                    DoseLog(
                        patient_id=medication.patient_id,
                        medication_id=medication.id,
                        status="taken" if taken else "skipped",
                        scheduled_for=slot,
                        taken_at=slot if taken else None,
                        reason=None if taken else "Slept through the alarm",
                        local_date=day,
                        local_time=clock,
                        weekday=day.isoweekday(),
                        recorded_by=medication.patient_id,
                    )
                )
    # Straight through the shared pipeline: the dose repository's checks of
    # each log read its medication, which the coverage cases explain anyway.
    await AsyncBaseRepository(db, model=DoseLog).create_many(logs)


async def _seed_conversations(
    db: DatabaseManager,
    ids: dict[str, str],
    patients: list[str],
    patient: str,
    today: date,
) -> None:
    conversations: list[Conversation] = []
    messages: list[ConversationMessage] = []
    for index, someone in enumerate(patients):
        for day in range(5):
            kind = CONVERSATION_TYPES[(day + index) % 3]
            conversation = Conversation(
                user_id=someone,
                conversation_type=kind,
                initial_type=kind,
                message_count=4,
                created_at=local(today - timedelta(days=day * 3), 20),
            )
            conversations.append(conversation)
            messages.extend(
                ConversationMessage(
                    conversation_id=conversation.id,
                    user_id=someone,
                    sequence=sequence,
                    sender="user" if sequence % 2 else "assistant",
                    content=f"Evening check-in, turn {sequence}: slept badly again.",
                )
                for sequence in range(1, 5)
            )
            if someone == patient:
                ids.setdefault("conversation", conversation.id)
    await AsyncBaseRepository(db, model=Conversation).create_many(conversations)
    await AsyncBaseRepository(db, model=ConversationMessage).create_many(messages)
