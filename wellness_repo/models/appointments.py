"""Appointments between a patient and a provider: what kind of visit, how it
happens (in person, telehealth, phone), when, and what became of it.

An appointment is part of the patient's clinical record (``RecordKind.CLINICAL``):
the clinicians caring for the patient book and change it, the patient reads it,
and the provider it is booked with reads and updates it even before the patient
is formally in their care (``provider_fields``).

The status moves only along :data:`ALLOWED_TRANSITIONS`, through the
appointment repository's named acts (confirm, check in, complete, cancel,
reschedule, record a no-show). Every reschedule and cancellation is appended to
``history``, so the record shows each time the visit moved and why. Free text
(the agenda, reasons, the telehealth link) is stored encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import EmbeddedModel, SoftDeletableDocument
from wellness_repo.models.clinical_fields import ActorId, ClinicalNote, PersonId
from wellness_repo.models.types import Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "ACTIVE_STATUSES",
    "ALLOWED_TRANSITIONS",
    "APPOINTMENT_MODELS",
    "MAX_DURATION_MINUTES",
    "Appointment",
    "AppointmentChange",
    "AppointmentModality",
    "AppointmentStatus",
    "AppointmentType",
    "Cancellation",
    "CancelledBy",
    "ChangeKind",
]

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 480
"""The longest bookable visit: an eight-hour intensive outpatient day."""
MAX_HISTORY = 100


class AppointmentType(StrEnum):
    """What the visit is for."""

    INTAKE_ASSESSMENT = "intake_assessment"
    THERAPY_SESSION = "therapy_session"
    PSYCHIATRIC_EVALUATION = "psychiatric_evaluation"
    MEDICATION_MANAGEMENT = "medication_management"
    GROUP_SESSION = "group_session"
    FAMILY_SESSION = "family_session"
    CRISIS_FOLLOW_UP = "crisis_follow_up"
    FOLLOW_UP = "follow_up"


class AppointmentModality(StrEnum):
    """How the patient and provider meet."""

    IN_PERSON = "in_person"
    TELEHEALTH = "telehealth"
    PHONE = "phone"


class AppointmentStatus(StrEnum):
    """Where an appointment stands. ``rescheduled`` is a booked appointment whose
    time moved and is not yet confirmed again."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"


_S = AppointmentStatus
ALLOWED_TRANSITIONS: Mapping[AppointmentStatus, frozenset[AppointmentStatus]] = {
    _S.SCHEDULED: frozenset(
        {_S.CONFIRMED, _S.CHECKED_IN, _S.CANCELLED, _S.NO_SHOW, _S.RESCHEDULED}
    ),
    _S.CONFIRMED: frozenset({_S.CHECKED_IN, _S.CANCELLED, _S.NO_SHOW, _S.RESCHEDULED}),
    _S.RESCHEDULED: frozenset(
        {_S.CONFIRMED, _S.CHECKED_IN, _S.CANCELLED, _S.NO_SHOW, _S.RESCHEDULED}
    ),
    _S.CHECKED_IN: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.NO_SHOW: frozenset(),
}
"""Which status each status may move to; the last three end the appointment."""

ACTIVE_STATUSES = frozenset({_S.SCHEDULED, _S.CONFIRMED, _S.RESCHEDULED, _S.CHECKED_IN})
"""Statuses that hold the provider's and the patient's time."""


class CancelledBy(StrEnum):
    """Which side called the appointment off."""

    PATIENT = "patient"
    PROVIDER = "provider"
    CLINIC = "clinic"
    SYSTEM = "system"


class ChangeKind(StrEnum):
    """What a history entry records."""

    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


AgendaItem = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]
Location = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]


class Cancellation(EmbeddedModel):
    """Why and by whom an appointment was called off, and whether it was late:
    with less notice than ``Settings.appointment_late_cancel_hours``."""

    reason: ClinicalNote = None
    cancelled_by: ActorId
    cancelled_by_party: CancelledBy
    cancelled_at: UtcDatetime = Field(default_factory=utc_now)
    late: bool
    notice_minutes: int
    """How long before the scheduled start it was cancelled (negative: after)."""


class AppointmentChange(EmbeddedModel):
    """One entry of an appointment's history: a move or a cancellation."""

    kind: ChangeKind
    changed_at: UtcDatetime = Field(default_factory=utc_now)
    changed_by: ActorId
    previous_start: UtcDatetime
    previous_duration_minutes: int
    new_start: UtcDatetime | None = None
    new_duration_minutes: int | None = None
    reason: ClinicalNote = None


def _checked_link(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise PydanticCustomError(
            "https_url", "a telehealth link must be an https:// address"
        )
    return value


class Appointment(SoftDeletableDocument):
    """One booked visit between a patient and a provider.

    ``scheduled_start`` must be timezone-aware (stored in UTC). An in-person
    visit needs its ``location``; a telehealth visit may be booked before its
    link exists, but needs the ``telehealth_link`` to be confirmed. Each
    modality carries only its own kind of place.
    """

    ID_NAME: ClassVar[str] = "appointment_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.CLINICAL, provider_fields=("provider_id",)
    )

    provider_id: PersonId
    patient_id: PersonId
    appointment_type: AppointmentType
    modality: AppointmentModality
    scheduled_start: UtcDatetime
    duration_minutes: int = Field(
        default=50, ge=MIN_DURATION_MINUTES, le=MAX_DURATION_MINUTES
    )
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    agenda: Annotated[list[AgendaItem], Encrypted(), Field(max_length=20)] = Field(
        default_factory=list
    )
    location: Location | None = Field(default=None, validate_default=True)
    telehealth_link: Annotated[
        str | None, Encrypted(), Field(min_length=9, max_length=2_000)
    ] = Field(default=None, validate_default=True)
    cancellation: Cancellation | None = Field(default=None, validate_default=True)
    history: Annotated[list[AppointmentChange], Field(max_length=MAX_HISTORY)] = Field(
        default_factory=list
    )
    confirmed_at: UtcDatetime | None = None
    checked_in_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    booked_by: ActorId | None = None

    class Settings:
        name = "appointments"

    @property
    def appointment_id(self) -> str:
        """The platform's name for this appointment's id."""
        return self.id

    @property
    def scheduled_end(self) -> datetime:
        """When the visit is due to end (UTC)."""
        return self.scheduled_start + timedelta(minutes=self.duration_minutes)

    @property
    def is_active(self) -> bool:
        """Whether the appointment still holds the provider's and patient's time."""
        return self.status in ACTIVE_STATUSES

    @field_validator("location")
    @classmethod
    def _location_fits_modality(cls, value: Any, info: ValidationInfo) -> Any:
        modality = info.data.get("modality")
        if modality is AppointmentModality.IN_PERSON and value is None:
            raise PydanticCustomError(
                "location_required", "an in-person appointment needs its location"
            )
        if modality is not AppointmentModality.IN_PERSON and value is not None:
            raise PydanticCustomError(
                "in_person_only", "only an in-person appointment has a location"
            )
        return value

    @field_validator("telehealth_link")
    @classmethod
    def _link_fits_modality(cls, value: Any, info: ValidationInfo) -> Any:
        modality = info.data.get("modality")
        if value is not None and modality is not AppointmentModality.TELEHEALTH:
            raise PydanticCustomError(
                "telehealth_only", "only a telehealth appointment has a link"
            )
        return _checked_link(value)

    @field_validator("cancellation")
    @classmethod
    def _cancelled_carries_cancellation(cls, value: Any, info: ValidationInfo) -> Any:
        cancelled = info.data.get("status") is AppointmentStatus.CANCELLED
        if cancelled != (value is not None):
            raise PydanticCustomError(
                "cancellation_mismatch",
                "a cancelled appointment, and only one, carries its cancellation",
            )
        return value


APPOINTMENT_MODELS: tuple[type[SoftDeletableDocument], ...] = (Appointment,)
"""The document models of this module, for the registry."""
