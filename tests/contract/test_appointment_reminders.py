"""Appointment reminders on both backends: queueing them with their due times,
refusing unknown channels, delivering the due ones through a notifier, retrying
failures with backoff, and never reminding anyone of a cancelled visit."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.appointment_data import (
    THERAPIST,
    local,
    next_weekday,
    therapy_session,
    weekday_calendar,
)
from wellness_repo import (
    Appointment,
    AppointmentReminder,
    AppointmentRepository,
    DatabaseManager,
    DeliveryError,
    LoggingNotifier,
    ReminderDispatcher,
    ReminderStatus,
    ReminderType,
    ValidationError,
    create_appointment_repository,
    create_provider_calendar_repository,
)

DAY = next_weekday()


class FlakyGateway:
    """An SMS gateway that is down for the first ``failures`` sends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.delivered: list[str] = []

    async def deliver(self, reminder: AppointmentReminder) -> str | None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("sms_gateway_503")
        self.delivered.append(reminder.id)
        return f"sms-{len(self.delivered)}"


@pytest.fixture
async def appointments(db: DatabaseManager) -> AppointmentRepository:
    await create_provider_calendar_repository(db).create(weekday_calendar())
    return create_appointment_repository(db)


@pytest.fixture
async def booked(appointments: AppointmentRepository) -> Appointment:
    return await appointments.create(therapy_session(local(DAY, 10)))


async def make_due(db: DatabaseManager) -> None:
    """Move the clock on: every open reminder is due now."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    await db.collection(AppointmentReminder).update_many(
        {"is_open": True}, {"$set": {"available_at": past}}
    )


async def test_reminders_are_queued_a_day_and_an_hour_before_on_each_channel(
    appointments: AppointmentRepository, booked: Appointment
) -> None:
    queued = await appointments.send_appointment_reminders(
        appointment_id=booked.appointment_id,
        reminder_types=[ReminderType.EMAIL, ReminderType.SMS],
    )

    due = {(item.reminder_type, item.due_at) for item in queued}
    start = booked.scheduled_start
    assert due == {
        (ReminderType.EMAIL, start - timedelta(hours=24)),
        (ReminderType.EMAIL, start - timedelta(hours=1)),
        (ReminderType.SMS, start - timedelta(hours=24)),
        (ReminderType.SMS, start - timedelta(hours=1)),
    }
    assert all(item.status is ReminderStatus.PENDING for item in queued)


async def test_asking_again_does_not_double_the_reminders(
    appointments: AppointmentRepository, booked: Appointment
) -> None:
    first = await appointments.send_appointment_reminders(booked.id, ["sms"])

    again = await appointments.send_appointment_reminders(booked.id, ["sms"])

    assert {item.id for item in again} == {item.id for item in first}
    assert len(await appointments.reminders.reminders_for_appointment(booked.id)) == 2


async def test_an_unknown_reminder_type_is_refused_and_nothing_is_queued(
    db: DatabaseManager, appointments: AppointmentRepository, booked: Appointment
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.send_appointment_reminders(
            booked.id, ["sms", "carrier_pigeon"]
        )

    assert (refused.value.field, refused.value.rule) == (
        "reminder_types",
        "unknown_reminder_type",
    )
    assert await db.collection(AppointmentReminder).count_documents({}) == 0


async def test_a_lead_time_beyond_two_weeks_is_refused(
    appointments: AppointmentRepository, booked: Appointment
) -> None:
    with pytest.raises(ValidationError) as refused:
        await appointments.send_appointment_reminders(
            booked.id, [ReminderType.EMAIL], lead_minutes=[30 * 24 * 60]
        )

    assert (refused.value.field, refused.value.rule) == ("lead_minutes", "range")


async def test_reminders_not_yet_due_are_not_sent(
    appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.send_appointment_reminders(booked.id, [ReminderType.EMAIL])
    gateway = FlakyGateway(failures=0)

    report = await ReminderDispatcher(appointments.reminders, gateway).dispatch_due()

    assert report.claimed == 0
    assert gateway.delivered == []


async def test_due_reminders_are_delivered_and_recorded_as_sent(
    db: DatabaseManager, appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.send_appointment_reminders(booked.id, [ReminderType.SMS])
    await make_due(db)
    gateway = FlakyGateway(failures=0)

    report = await ReminderDispatcher(appointments.reminders, gateway).dispatch_due()

    stored = await appointments.reminders.reminders_for_appointment(booked.id)
    assert report.sent == 2
    assert {item.status for item in stored} == {ReminderStatus.SENT}
    assert {item.delivery_receipt for item in stored} == {"sms-1", "sms-2"}
    assert all(item.sent_at is not None for item in stored)


async def test_a_failed_send_is_retried_after_an_exponential_backoff(
    db: DatabaseManager, appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.send_appointment_reminders(
        booked.id, [ReminderType.SMS], lead_minutes=[60]
    )
    await make_due(db)
    gateway = FlakyGateway(failures=2)
    dispatcher = ReminderDispatcher(appointments.reminders, gateway)

    first = await dispatcher.dispatch_due()
    (after_one,) = await appointments.reminders.reminders_for_appointment(booked.id)
    await make_due(db)
    await dispatcher.dispatch_due()
    (after_two,) = await appointments.reminders.reminders_for_appointment(booked.id)
    await make_due(db)
    third = await dispatcher.dispatch_due()

    assert first.retrying == 1
    assert third.sent == 1
    assert after_one.last_error_code == "sms_gateway_503"
    assert after_one.updated_at is not None
    assert after_two.updated_at is not None
    first_wait = after_one.available_at - after_one.updated_at
    second_wait = after_two.available_at - after_two.updated_at
    assert timedelta(seconds=59) < first_wait <= timedelta(seconds=60)
    assert timedelta(seconds=119) < second_wait <= timedelta(seconds=120)


async def test_a_reminder_is_given_up_after_the_most_tries(
    db: DatabaseManager,
    appointments: AppointmentRepository,
    booked: Appointment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db.settings, "appointment_reminder_max_attempts", 2)
    await appointments.send_appointment_reminders(
        booked.id, [ReminderType.PUSH], lead_minutes=[60]
    )
    dispatcher = ReminderDispatcher(appointments.reminders, FlakyGateway(failures=9))

    for _ in range(2):
        await make_due(db)
        report = await dispatcher.dispatch_due()

    (reminder,) = await appointments.reminders.reminders_for_appointment(booked.id)
    assert report.failed == 1
    assert reminder.status is ReminderStatus.FAILED
    assert reminder.attempts == 2


async def test_cancelling_the_appointment_cancels_its_pending_reminders(
    db: DatabaseManager, appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.send_appointment_reminders(booked.id, [ReminderType.EMAIL])

    await appointments.cancel(booked.id, "Starting inpatient programme")
    await make_due(db)
    gateway = FlakyGateway(failures=0)
    await ReminderDispatcher(appointments.reminders, gateway).dispatch_due()

    stored = await appointments.reminders.reminders_for_appointment(booked.id)
    assert {item.status for item in stored} == {ReminderStatus.CANCELLED}
    assert gateway.delivered == []


async def test_a_cancelled_appointment_gets_no_new_reminders(
    appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.cancel(booked.id, "Moving out of state")

    with pytest.raises(ValidationError) as refused:
        await appointments.send_appointment_reminders(booked.id, ["email"])

    assert refused.value.rule == "not_active"


async def test_rescheduling_moves_the_reminders_to_the_new_time(
    appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.send_appointment_reminders(booked.id, [ReminderType.SMS])

    await appointments.reschedule(booked.id, local(DAY, 15))

    stored = await appointments.reminders.reminders_for_appointment(booked.id)
    pending = sorted(
        item.due_at for item in stored if item.status is ReminderStatus.PENDING
    )
    assert pending == [
        local(DAY, 15) - timedelta(hours=24),
        local(DAY, 15) - timedelta(hours=1),
    ]
    assert sum(item.status is ReminderStatus.CANCELLED for item in stored) == 2


async def test_racing_dispatchers_send_each_reminder_once(
    db: DatabaseManager, appointments: AppointmentRepository, booked: Appointment
) -> None:
    await appointments.send_appointment_reminders(
        booked.id, [ReminderType.EMAIL, ReminderType.SMS, ReminderType.PUSH]
    )
    await make_due(db)
    gateways = [FlakyGateway(failures=0) for _ in range(4)]
    dispatchers = [
        ReminderDispatcher(appointments.reminders, gateway, worker_id=f"worker-{n}")
        for n, gateway in enumerate(gateways)
    ]

    await asyncio.gather(*(dispatcher.dispatch_due() for dispatcher in dispatchers))

    delivered = [rid for gateway in gateways for rid in gateway.delivered]
    assert len(delivered) == len(set(delivered)) == 6


async def test_the_logging_notifier_logs_ids_and_channel_only(
    db: DatabaseManager,
    appointments: AppointmentRepository,
    booked: Appointment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await appointments.send_appointment_reminders(
        booked.id, ["email"], lead_minutes=[60]
    )
    await make_due(db)

    with caplog.at_level(logging.INFO, logger="wellness_repo.appointments"):
        await ReminderDispatcher(
            appointments.reminders, LoggingNotifier()
        ).dispatch_due()

    lines = [r.getMessage() for r in caplog.records if "via email" in r.getMessage()]
    assert len(lines) == 1
    assert booked.id in lines[0]
    assert THERAPIST not in lines[0]
    assert "thought records" not in lines[0]
