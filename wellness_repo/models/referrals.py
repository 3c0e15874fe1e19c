"""Referrals between providers: priority and the due date it sets, the status
lifecycle with its history, authorization, and the documented outcome."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import EmbeddedModel, SoftDeletableDocument
from wellness_repo.models.types import CalendarDate, Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "OPEN_REFERRAL_STATUSES",
    "REFERRAL_RESPONSE_WINDOWS",
    "REFERRAL_TRANSITIONS",
    "AuthorizationNumber",
    "CareNote",
    "PersonId",
    "Referral",
    "ReferralOutcome",
    "ReferralPriority",
    "ReferralResult",
    "ReferralStatus",
    "ReferralStatusChange",
    "referral_due_at",
]

PersonId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
"""The id of a patient, a provider, or the person who made a change."""

CareNote = Annotated[str | None, Encrypted(), Field(max_length=10_000)]
"""Free text a clinician writes about a patient's care; random-encrypted, so it
can be read back but never searched or sorted on."""


class ReferralPriority(StrEnum):
    """How soon the referred patient must be seen."""

    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENT = "emergent"


class ReferralStatus(StrEnum):
    """Where a referral stands, from being written to being closed."""

    PENDING = "pending"
    """Written by the referring provider; not yet answered or sent outside."""
    SENT = "sent"
    """With the receiving provider, awaiting their answer."""
    ACCEPTED = "accepted"
    """The receiving provider will see the patient; no appointment yet."""
    DECLINED = "declined"
    """The receiving provider will not see the patient; closed."""
    SCHEDULED = "scheduled"
    """An appointment with the receiving provider is booked."""
    COMPLETED = "completed"
    """The patient was seen; closed."""
    CANCELLED = "cancelled"
    """Withdrawn before completion; closed."""
    EXPIRED = "expired"
    """Lapsed unanswered or unscheduled; closed."""


class ReferralResult(StrEnum):
    """What came of a completed referral, for the referring provider and reports."""

    TREATMENT_STARTED = "treatment_started"
    """The receiving provider took the patient on for ongoing care."""
    CONSULTATION_RETURNED = "consultation_returned"
    """Evaluated and handed back to the referring provider with recommendations."""
    NO_TREATMENT_INDICATED = "no_treatment_indicated"
    """Evaluated; no care from the receiving provider is needed."""
    REFERRED_ONWARD = "referred_onward"
    """Evaluated and referred on to another service."""


REFERRAL_RESPONSE_WINDOWS: Mapping[ReferralPriority, timedelta] = MappingProxyType(
    {
        # A psychiatric emergency (acute risk, severe decompensation) needs a
        # same-day or next-day assessment.
        ReferralPriority.EMERGENT: timedelta(hours=24),
        # Worsening symptoms without immediate risk: seen within three days, the
        # usual access standard for urgent behavioural-health care.
        ReferralPriority.URGENT: timedelta(hours=72),
        # A routine evaluation (medication review, specialist therapy): within
        # two weeks, the common access standard for routine appointments.
        ReferralPriority.ROUTINE: timedelta(days=14),
    }
)
"""How long after a referral is written it is due, per priority."""

REFERRAL_TRANSITIONS: Mapping[ReferralStatus, frozenset[ReferralStatus]] = (
    MappingProxyType(
        {
            # A referral written on the platform is visible to the receiving
            # provider at once, who may answer it before anyone marks it sent;
            # "sent" records handing it to a provider outside the platform.
            ReferralStatus.PENDING: frozenset(
                {
                    ReferralStatus.SENT,
                    ReferralStatus.ACCEPTED,
                    ReferralStatus.DECLINED,
                    ReferralStatus.CANCELLED,
                    ReferralStatus.EXPIRED,
                }
            ),
            ReferralStatus.SENT: frozenset(
                {
                    ReferralStatus.ACCEPTED,
                    ReferralStatus.DECLINED,
                    ReferralStatus.CANCELLED,
                    ReferralStatus.EXPIRED,
                }
            ),
            ReferralStatus.ACCEPTED: frozenset(
                {
                    ReferralStatus.SCHEDULED,
                    ReferralStatus.CANCELLED,
                    ReferralStatus.EXPIRED,
                }
            ),
            # A booked appointment is kept or cancelled; it does not lapse.
            ReferralStatus.SCHEDULED: frozenset(
                {ReferralStatus.COMPLETED, ReferralStatus.CANCELLED}
            ),
            ReferralStatus.DECLINED: frozenset(),
            ReferralStatus.COMPLETED: frozenset(),
            ReferralStatus.CANCELLED: frozenset(),
            ReferralStatus.EXPIRED: frozenset(),
        }
    )
)
"""The statuses each status may move to; closed statuses move nowhere."""

OPEN_REFERRAL_STATUSES: tuple[ReferralStatus, ...] = (
    ReferralStatus.PENDING,
    ReferralStatus.SENT,
    ReferralStatus.ACCEPTED,
)
"""Statuses in which the patient is still waiting for an appointment: a referral
in one of them past its due date is overdue. A scheduled referral has met its
due date's purpose (the patient has an appointment)."""

AuthorizationNumber = Annotated[
    Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    | None,
    Encrypted(),
]
"""A payer's prior-authorization number: an identifier tied to one patient's
coverage, so it is stored encrypted."""


def referral_due_at(priority: ReferralPriority, written_at: datetime) -> datetime:
    """When a referral of ``priority`` written at ``written_at`` is due."""
    return written_at + REFERRAL_RESPONSE_WINDOWS[priority]


class ReferralStatusChange(EmbeddedModel):
    """One step of a referral's status history: who moved it, when, from what to
    what, and why."""

    from_status: ReferralStatus | None
    """``None`` for the entry that records the referral being written."""
    to_status: ReferralStatus
    changed_at: UtcDatetime
    changed_by: PersonId
    notes: CareNote = None


class ReferralOutcome(EmbeddedModel):
    """What the receiving provider found and did, documented once the patient
    was seen."""

    result: ReferralResult
    summary: CareNote = None
    documented_at: UtcDatetime
    documented_by: PersonId


class Referral(SoftDeletableDocument):
    """A request from one provider to another to see a patient.

    ``due_at`` defaults to the creation time plus the priority's window in
    ``REFERRAL_RESPONSE_WINDOWS``. ``status`` always equals the end of
    ``status_history``, whose every step is one of ``REFERRAL_TRANSITIONS``.
    """

    ID_NAME: ClassVar[str] = "referral_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    # The receiving provider sees and answers the referral before taking the
    # patient into care.
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.CLINICAL,
        provider_fields=("referring_provider_id", "receiving_provider_id"),
    )

    patient_id: PersonId
    referring_provider_id: PersonId
    receiving_provider_id: PersonId
    referral_reason: Annotated[
        str,
        Encrypted(),
        StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
    ]
    priority: ReferralPriority = ReferralPriority.ROUTINE
    status: ReferralStatus = ReferralStatus.PENDING
    due_at: UtcDatetime
    status_history: list[ReferralStatusChange] = Field(
        default_factory=list, max_length=100
    )
    authorization_number: AuthorizationNumber = None
    authorization_expires_on: CalendarDate | None = None
    outcome: ReferralOutcome | None = None

    class Settings:
        name = "referrals"

    @property
    def referral_id(self) -> str:
        """The platform's name for this referral's id."""
        return self.id

    @property
    def is_open(self) -> bool:
        """Whether the patient is still waiting for an appointment."""
        return self.status in OPEN_REFERRAL_STATUSES

    @model_validator(mode="before")
    @classmethod
    def _default_due_date(cls, data: Any) -> Any:
        # Fills in the priority's due date when none is given; anything it cannot
        # read is left for the field validators to report.
        if not isinstance(data, dict) or data.get("due_at") is not None:
            return data
        filled = dict(data)
        written_at = filled.setdefault("created_at", utc_now())
        try:
            priority = ReferralPriority(
                filled.get("priority", ReferralPriority.ROUTINE)
            )
        except ValueError:
            return data
        if isinstance(written_at, datetime) and written_at.utcoffset() is not None:
            filled["due_at"] = referral_due_at(priority, written_at)
        return filled

    @field_validator("receiving_provider_id")
    @classmethod
    def _not_self_referral(cls, receiving: str, info: ValidationInfo) -> str:
        if receiving == info.data.get("referring_provider_id"):
            raise PydanticCustomError(
                "self_referral", "a provider cannot refer a patient to themselves"
            )
        return receiving

    @field_validator("status_history")
    @classmethod
    def _history_reaches_status(
        cls, history: list[ReferralStatusChange], info: ValidationInfo
    ) -> list[ReferralStatusChange]:
        reached: ReferralStatus | None = None
        for change in history:
            allowed = (
                {ReferralStatus.PENDING}
                if reached is None
                else REFERRAL_TRANSITIONS[reached]
            )
            if change.from_status != reached or change.to_status not in allowed:
                raise PydanticCustomError(
                    "invalid_transition",
                    "the status history contains a step the lifecycle does not allow",
                )
            reached = change.to_status
        if (reached or ReferralStatus.PENDING) != info.data.get("status"):
            raise PydanticCustomError(
                "status_mismatch", "status must be where the status history ends"
            )
        return history

    @field_validator("authorization_expires_on")
    @classmethod
    def _expiry_needs_authorization(cls, expires_on: Any, info: ValidationInfo) -> Any:
        if expires_on is not None and info.data.get("authorization_number") is None:
            raise PydanticCustomError(
                "authorization_required",
                "an authorization expiry needs an authorization number",
            )
        return expires_on

    @field_validator("outcome")
    @classmethod
    def _outcome_after_completion(
        cls, outcome: ReferralOutcome | None, info: ValidationInfo
    ) -> ReferralOutcome | None:
        if outcome is not None and info.data.get("status") != ReferralStatus.COMPLETED:
            raise PydanticCustomError(
                "not_completed",
                "an outcome is documented once the referral is completed",
            )
        return outcome
