"""The appointment reminder outbox, and the dispatcher that delivers it.

``schedule`` writes one reminder per channel and lead time (a day and an hour
before, by default), each due at the appointment's start minus its lead. A
dispatcher (:class:`ReminderDispatcher`) claims the reminders that are due
under a lease, hands each to a :class:`Notifier`, and records the outcome: sent
with the notifier's receipt, or back to pending after an exponential backoff,
or failed for good after ``Settings.appointment_reminder_max_attempts`` tries.
A dispatcher that dies holding a claim loses it when the lease ends. Cancelling
or moving an appointment cancels its open reminders (a move then schedules
fresh ones), so a patient is never reminded of a visit that is not happening.

Delivery is at least once: a dispatcher that stalls past its lease and then
sends anyway may repeat a reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn, Protocol

from wellness_repo.errors import DuplicateError, ValidationError
from wellness_repo.models.appointments import Appointment
from wellness_repo.models.reminders import (
    DEFAULT_LEAD_MINUTES,
    ERROR_CODE,
    AppointmentReminder,
    ReminderStatus,
    ReminderType,
)
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id

__all__ = [
    "AppointmentReminderRepository",
    "DeliveryError",
    "DispatchReport",
    "LoggingNotifier",
    "Notifier",
    "ReminderDispatcher",
    "checked_reminder_types",
]

_CLAIMABLE = [ReminderStatus.PENDING.value, ReminderStatus.CLAIMED.value]
_LONGEST_LEASE = timedelta(hours=1)
_MAX_LEAD_MINUTES = 14 * 24 * 60


def checked_reminder_types(values: Any) -> list[ReminderType]:
    """The reminder channels asked for, each known, without repeats.

    Raises:
        ValidationError: not a list of channels, empty, or an unknown channel
            (``reminder_types``, rule ``unknown_reminder_type``).
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            "reminder_types must be a list of reminder types",
            field="reminder_types",
            rule="type",
        )
    chosen: list[ReminderType] = []
    for value in values:
        try:
            kind = ReminderType(value)
        except ValueError:
            raise ValidationError(
                "unknown reminder type; expected one of "
                + ", ".join(kind.value for kind in ReminderType),
                field="reminder_types",
                rule="unknown_reminder_type",
            ) from None
        if kind not in chosen:
            chosen.append(kind)
    if not chosen:
        raise ValidationError(
            "name at least one reminder type", field="reminder_types", rule="required"
        )
    return chosen


def _checked_leads(values: Iterable[int] | None) -> list[int]:
    leads = list(DEFAULT_LEAD_MINUTES if values is None else values)
    for lead in leads:
        if isinstance(lead, bool) or not isinstance(lead, int):
            raise ValidationError(
                "lead times are whole minutes", field="lead_minutes", rule="type"
            )
        if not 0 <= lead <= _MAX_LEAD_MINUTES:
            raise ValidationError(
                "a lead time is 0 to 20160 minutes (two weeks)",
                field="lead_minutes",
                rule="range",
            )
    if not leads:
        raise ValidationError(
            "name at least one lead time", field="lead_minutes", rule="required"
        )
    return sorted(set(leads), reverse=True)


class AppointmentReminderRepository(AsyncBaseRepository[AppointmentReminder]):
    """The outbox of appointment reminders: schedule, claim, mark sent or failed.

    Reminders change only through these methods; ``update`` and ``delete`` are
    refused, so each one's delivery history stays whole.
    """

    model = AppointmentReminder

    async def schedule(
        self,
        appointment: Appointment,
        reminder_types: Sequence[ReminderType],
        lead_minutes: Iterable[int] | None = None,
    ) -> list[AppointmentReminder]:
        """Queue reminders of ``appointment``: one per channel and lead time
        whose due time is still ahead. Asking again for a reminder that is
        already queued returns the queued one rather than a second.

        Raises:
            ValidationError: a lead time outside 0..20160 minutes.
        """
        leads = _checked_leads(lead_minutes)
        now = utc_now()
        queued: list[AppointmentReminder] = []
        for kind in reminder_types:
            for lead in leads:
                due = appointment.scheduled_start - timedelta(minutes=lead)
                if due <= now:
                    continue
                queued.append(await self._queue_one(appointment, kind, lead, due))
        self.logger.info(
            "appointment %s: %d reminders queued", appointment.id, len(queued)
        )
        return queued

    async def cancel_open(self, appointment_id: str) -> list[AppointmentReminder]:
        """Cancel an appointment's reminders not yet sent; returns those
        cancelled (their channel and lead time, to schedule again after a move)."""
        open_ones = await self.find_by(appointment_id=appointment_id, is_open=True)
        if not open_ones:
            return []
        now = utc_now()
        await self._update_many(
            {"appointment_id": appointment_id, "is_open": True},
            {
                "$set": {
                    "status": ReminderStatus.CANCELLED.value,
                    "is_open": False,
                    "closed_at": now,
                    "claimed_by": None,
                }
            },
            changed=("status", "is_open", "closed_at", "claimed_by"),
        )
        self.logger.info(
            "appointment %s: %d reminders cancelled", appointment_id, len(open_ones)
        )
        return open_ones

    async def reminders_for_appointment(
        self, appointment_id: str
    ) -> list[AppointmentReminder]:
        """Every reminder of one appointment, earliest due first."""
        page = await self.list_all(
            QueryOptions(
                filters={
                    "appointment_id": checked_id(appointment_id, field="appointment_id")
                },
                order_by=["due_at"],
            )
        )
        return page.items

    async def due(self, limit: int = 50) -> list[AppointmentReminder]:
        """Reminders a dispatcher may claim now, longest waiting first: pending
        ones that are due and claimed ones whose lease has ended."""
        page = await self.list_all(
            QueryOptions(
                filters={"status__in": _CLAIMABLE, "available_at__lte": utc_now()},
                order_by=["available_at"],
                limit=limit,
            )
        )
        return page.items

    async def claim(
        self, worker_id: str, lease: timedelta, *, limit: int = 20
    ) -> list[AppointmentReminder]:
        """Take up to ``limit`` due reminders for ``worker_id`` to send within
        ``lease``; of racing dispatchers exactly one gets each reminder.

        Raises:
            ValidationError: a malformed worker id, or a lease that is not
                above zero and at most an hour.
        """
        worker = checked_id(worker_id, field="worker_id")
        if not isinstance(lease, timedelta) or not (
            timedelta(0) < lease <= _LONGEST_LEASE
        ):
            raise ValidationError(
                "lease must be a timedelta above zero and at most one hour",
                field="lease",
                rule="range",
                entity=self._entity,
            )
        claimed = []
        for candidate in await self.due(limit):
            now = utc_now()
            taken = await self._atomic_update(
                candidate.id,
                {
                    "$set": {
                        "status": ReminderStatus.CLAIMED.value,
                        "claimed_by": worker,
                        "claimed_at": now,
                        "available_at": now + lease,
                    },
                    "$inc": {"attempts": 1},
                },
                guard={"_rev": candidate.revision, "is_open": True},
                changed=("status", "claimed_by", "claimed_at", "available_at"),
            )
            if taken is not None:
                claimed.append(taken)
        return claimed

    async def mark_sent(
        self, reminder_id: str, receipt: str | None, *, worker_id: str
    ) -> AppointmentReminder | None:
        """Record that a claimed reminder was delivered; ``None`` when the claim
        was lost meanwhile (the lease ended, or the appointment was cancelled).
        """
        return await self._atomic_update(
            reminder_id,
            {
                "$set": {
                    "status": ReminderStatus.SENT.value,
                    "is_open": False,
                    "sent_at": utc_now(),
                    "closed_at": utc_now(),
                    "delivery_receipt": _storable_receipt(receipt),
                }
            },
            guard=self._claim_guard(worker_id),
            changed=("status", "is_open", "sent_at", "delivery_receipt"),
        )

    async def mark_failed(
        self, reminder: AppointmentReminder, error_code: str, *, worker_id: str
    ) -> AppointmentReminder | None:
        """Return a claimed reminder whose send failed to the queue, due again
        after an exponential backoff, or mark it failed for good after the most
        tries allowed; ``None`` when the claim was lost meanwhile."""
        code = _checked_code(error_code, "error_code")
        settings = self.db.settings
        now = utc_now()
        changes: dict[str, Any] = {"last_error_code": code, "claimed_by": None}
        if reminder.attempts >= settings.appointment_reminder_max_attempts:
            changes |= {
                "status": ReminderStatus.FAILED.value,
                "is_open": False,
                "closed_at": now,
            }
        else:
            changes |= {
                "status": ReminderStatus.PENDING.value,
                "available_at": now + self.backoff(reminder.attempts),
            }
        return await self._atomic_update(
            reminder.id,
            {"$set": changes},
            guard=self._claim_guard(worker_id),
            changed=tuple(changes),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next try after ``attempts`` failed tries:
        doubling from ``appointment_reminder_retry_seconds`` up to the cap."""
        settings = self.db.settings
        exponent = min(max(attempts - 1, 0), 30)
        seconds = settings.appointment_reminder_retry_seconds * 2**exponent
        return timedelta(
            seconds=min(seconds, settings.appointment_reminder_max_retry_seconds)
        )

    async def update(self, entity: AppointmentReminder) -> NoReturn:
        """Refused: a reminder changes only by being claimed, sent or failed."""
        raise ValidationError(
            "a reminder changes only through claim, mark_sent, mark_failed "
            "and the appointment's cancellation",
            field="status",
            rule="managed_by_workflow",
            entity=self._entity,
            entity_id=printable_id(getattr(entity, "id", None)),
        )

    async def delete(self, entity_id: str) -> NoReturn:
        """Refused: reminders are cancelled, never deleted."""
        raise ValidationError(
            "reminders are cancelled with their appointment, never deleted",
            field="id",
            rule="never_deleted",
            entity=self._entity,
            entity_id=printable_id(entity_id),
        )

    async def _queue_one(
        self, appointment: Appointment, kind: ReminderType, lead: int, due: Any
    ) -> AppointmentReminder:
        reminder = AppointmentReminder(
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            provider_id=appointment.provider_id,
            reminder_type=kind,
            lead_minutes=lead,
            due_at=due,
            available_at=due,
        )
        try:
            return await self.create(reminder)
        except DuplicateError:
            # Already queued (an open reminder per appointment, channel, lead).
            existing = await self.find_one_by(
                appointment_id=appointment.id,
                reminder_type=kind,
                lead_minutes=lead,
                is_open=True,
            )
            if existing is None:
                raise
            return existing

    def _claim_guard(self, worker_id: str) -> dict[str, Any]:
        return {
            "status": ReminderStatus.CLAIMED.value,
            "claimed_by": checked_id(worker_id, field="worker_id"),
        }


def _storable_receipt(value: Any) -> str | None:
    # A gateway's receipt is kept only in the code form; anything else (which
    # might echo an address) is dropped rather than failing a delivered send.
    if isinstance(value, str) and ERROR_CODE.fullmatch(value):
        return value
    return None


def _checked_code(value: Any, field: str) -> str:
    if not isinstance(value, str) or ERROR_CODE.fullmatch(value) is None:
        raise ValidationError(
            f"{field} must be a short machine-readable code (letters, digits, "
            "_ . : -), never message text",
            field=field,
            rule="format",
        )
    return value


class DeliveryError(Exception):
    """Raised by a notifier when a reminder could not be delivered.

    Args:
        code: a machine-readable reason (``sms_gateway_503``), never text that
            could hold the patient's details.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Notifier(Protocol):
    """Delivers one reminder on its channel (email, SMS, push...).

    Looks up the patient's address itself, from the ids on the reminder, so the
    outbox never stores contact details. Returns a delivery receipt id, or
    ``None``; raises :class:`DeliveryError` when the send failed.
    """

    async def deliver(self, reminder: AppointmentReminder) -> str | None:
        """Send ``reminder``; return the gateway's receipt id, if any."""
        ...


class LoggingNotifier:
    """The default notifier: writes one log line per reminder (ids, channel and
    lead time only) and reports it delivered. For development and demos."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("wellness_repo.appointments")

    async def deliver(self, reminder: AppointmentReminder) -> str | None:
        """Log the reminder as sent."""
        self.logger.info(
            "reminder %s of appointment %s via %s, %d minutes ahead",
            reminder.id,
            reminder.appointment_id,
            reminder.reminder_type.value,
            reminder.lead_minutes,
        )
        return f"log-{reminder.id}"


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatch round did."""

    claimed: int
    sent: int
    retrying: int
    failed: int
    lost: int
    """Claims that ended (lease, cancellation) before the outcome was stored."""


class ReminderDispatcher:
    """Sends the reminders that are due through a :class:`Notifier`.

    Args:
        reminders: the outbox to claim from.
        notifier: where reminders go; defaults to :class:`LoggingNotifier`.
        worker_id: this dispatcher's id, recorded on its claims.
        lease: how long a claim is held before another dispatcher may take it.
    """

    def __init__(
        self,
        reminders: AppointmentReminderRepository,
        notifier: Notifier | None = None,
        *,
        worker_id: str = "reminder-dispatcher",
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.reminders = reminders
        self.notifier = notifier or LoggingNotifier()
        self.worker_id = checked_id(worker_id, field="worker_id")
        self.lease = lease
        self.logger = logging.getLogger("wellness_repo.appointments")

    async def dispatch_due(self, limit: int = 20) -> DispatchReport:
        """Claim up to ``limit`` due reminders, deliver each, record each outcome."""
        claimed = await self.reminders.claim(self.worker_id, self.lease, limit=limit)
        sent = retrying = failed = lost = 0
        for reminder in claimed:
            try:
                receipt = await self.notifier.deliver(reminder)
            except DeliveryError as failure:
                after = await self.reminders.mark_failed(
                    reminder, failure.code, worker_id=self.worker_id
                )
                if after is None:
                    lost += 1
                elif after.status is ReminderStatus.FAILED:
                    failed += 1
                else:
                    retrying += 1
                continue
            done = await self.reminders.mark_sent(
                reminder.id, receipt, worker_id=self.worker_id
            )
            sent += done is not None
            lost += done is None
        report = DispatchReport(len(claimed), sent, retrying, failed, lost)
        self.logger.info(
            "%s dispatched reminders: %d claimed, %d sent, %d retrying, "
            "%d failed, %d lost",
            self.worker_id,
            *(report.claimed, report.sent, report.retrying, report.failed),
            report.lost,
        )
        return report
