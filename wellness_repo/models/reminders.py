"""Appointment reminders: an outbox of messages due before an appointment, one
record per channel and lead time, delivered by a dispatcher.

A reminder carries ids, the channel, when it is due and how delivery went;
never the message text, the patient's address or phone number (the notifier
looks those up at send time). It belongs to the patient's record
(``RecordKind.CLINICAL``): the patient reads their own reminders, their
clinicians and the appointment's provider read them, and the dispatcher (a
system context) claims and completes them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "DEFAULT_LEAD_MINUTES",
    "ERROR_CODE",
    "REMINDER_MODELS",
    "AppointmentReminder",
    "ReminderStatus",
    "ReminderType",
]

DEFAULT_LEAD_MINUTES = (24 * 60, 60)
"""When reminders go out unless asked otherwise: a day and an hour before."""
CODE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
ERROR_CODE = re.compile(CODE_PATTERN)
"""A notifier's failure code: machine-readable, never message text."""


class ReminderType(StrEnum):
    """The channel a reminder goes out on."""

    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"
    PHONE_CALL = "phone_call"


class ReminderStatus(StrEnum):
    """Where a reminder's delivery stands."""

    PENDING = "pending"
    """Waiting until it is due (or due again after a failed try)."""
    CLAIMED = "claimed"
    """A dispatcher is sending it, under a lease."""
    SENT = "sent"
    FAILED = "failed"
    """Given up after the most tries allowed."""
    CANCELLED = "cancelled"
    """The appointment was cancelled or moved before it went out."""


OPEN_STATUSES = frozenset({ReminderStatus.PENDING, ReminderStatus.CLAIMED})


class AppointmentReminder(WellnessDocument):
    """One reminder of one appointment on one channel, due ``lead_minutes``
    before the start.

    ``available_at`` is when a dispatcher may next take it: the due time, a
    retry time after a failure, or the end of a claim's lease.
    """

    ID_NAME: ClassVar[str] = "reminder_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.CLINICAL, provider_fields=("provider_id",)
    )

    appointment_id: PersonId
    patient_id: PersonId
    provider_id: PersonId
    reminder_type: ReminderType
    lead_minutes: int = Field(ge=0, le=14 * 24 * 60)
    due_at: UtcDatetime
    status: ReminderStatus = ReminderStatus.PENDING
    is_open: bool = True
    """True while pending or claimed; one open reminder per appointment, channel
    and lead time (a unique index over open ones)."""
    available_at: UtcDatetime
    attempts: int = Field(default=0, ge=0)
    claimed_by: PersonId | None = None
    claimed_at: UtcDatetime | None = None
    sent_at: UtcDatetime | None = None
    delivery_receipt: Annotated[str | None, StringConstraints(pattern=CODE_PATTERN)] = (
        None
    )
    last_error_code: Annotated[str | None, StringConstraints(pattern=CODE_PATTERN)] = (
        None
    )
    closed_at: UtcDatetime | None = None
    queued_at: UtcDatetime = Field(default_factory=utc_now)

    class Settings:
        name = "appointment_reminders"

    @property
    def reminder_id(self) -> str:
        """The platform's name for this reminder's id."""
        return self.id


REMINDER_MODELS: tuple[type[WellnessDocument], ...] = (AppointmentReminder,)
"""The document models of this module, for the registry."""
