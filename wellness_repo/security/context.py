"""Who is acting, in what role, and why: the access context every call runs under.

A service sets the context once per request with :func:`acting_as`; a script gives a
system context once, when it connects. A repository call with no context raises
``AccessDeniedError``: there is no silent default.

Identity convention: a patient acts under their patient id (the value records hold
in their ``PATIENT_FIELD``: ``MoodEntry.user_id``, ``TherapySession.patient_id``);
a clinician acts under their provider id (``TherapeuticRelationship.therapist_id``,
a care-team member's ``provider_id``); admins and auditors act under their account
id. :func:`context_for_account` builds the context from a sign-in account that way
and keeps the account id beside it, for the account's own records.

Break-glass: a clinician may take emergency access (purpose ``EMERGENCY``) with a
reason and an expiry at most ``Settings.break_glass_max_minutes`` ahead; the
context refuses to exist otherwise, and the pipeline refuses it once expired.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from wellness_repo.config import Settings
from wellness_repo.errors import AccessDeniedError, ValidationError
from wellness_repo.models.types import ID_PATTERN

__all__ = [
    "AccessContext",
    "AccountIdentity",
    "PurposeOfUse",
    "UserRole",
    "acting_as",
    "break_glass_limit",
    "context_for_account",
    "current_context",
]

# Longest emergency reason kept with a grant; a reason is a sentence, not a note.
_REASON_MAX_LENGTH = 500
_ACCOUNT_ID = "account_id"
_PROVIDER_ID = "provider_id"
_ACTOR_ID = re.compile(ID_PATTERN)


class UserRole(StrEnum):
    """The role an account acts in; it decides what the account may see."""

    PATIENT = "patient"
    THERAPIST = "therapist"
    PSYCHIATRIST = "psychiatrist"
    NURSE = "nurse"
    CARE_COORDINATOR = "care_coordinator"
    ADMIN = "admin"
    AUDITOR = "auditor"
    SYSTEM = "system"


_TREATING_ROLES = frozenset(
    {
        UserRole.THERAPIST,
        UserRole.PSYCHIATRIST,
        UserRole.NURSE,
        UserRole.CARE_COORDINATOR,
    }
)


class PurposeOfUse(StrEnum):
    """Why the data is being accessed (HIPAA purpose of use)."""

    TREATMENT = "treatment"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    PATIENT_REQUEST = "patient_request"
    EMERGENCY = "emergency"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class AccessContext:
    """The identity behind a repository call.

    Args:
        actor_id: the acting user's id (a patient's, a provider's, or a script's name).
        role: the role the actor acts in.
        purpose: the purpose of use recorded with every audited access.
        emergency_reason: why break-glass access was taken; required for
            emergencies and only for them. It may describe the patient's
            situation, so it is never logged.
        expires_at: when an emergency grant stops working (UTC); required for
            emergencies, at most ``Settings.break_glass_max_minutes`` ahead.
        attributes: further facts about the actor as ``(name, value)`` pairs:
            ``account_id`` (the sign-in account, when the actor id is a provider
            id) and ``provider_id``.

    Raises:
        ValidationError: a blank actor, a naive expiry, or a break-glass grant
            without a reason, without an expiry, too long, or for a role that
            does not treat patients; the field and rule are named.
    """

    actor_id: str
    role: UserRole
    purpose: PurposeOfUse = PurposeOfUse.TREATMENT
    emergency_reason: str | None = None
    expires_at: datetime | None = None
    attributes: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.actor_id or not self.actor_id.strip():
            raise ValidationError(
                "an access context needs an actor id", field="actor_id", rule="required"
            )
        if not _ACTOR_ID.fullmatch(self.actor_id):
            # The actor id goes into every audit entry and log line, so it is an
            # id (an email or a name there would be PHI), and refused here, not
            # at the first audited call.
            raise ValidationError(
                "an actor id is up to 64 letters, digits and _ . : -",
                field="actor_id",
                rule="format",
            )
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValidationError(
                "expiry must be timezone-aware", field="expires_at", rule="aware"
            )
        if self.purpose is PurposeOfUse.EMERGENCY:
            self._check_break_glass()
        elif self.emergency_reason is not None:
            raise ValidationError(
                "an emergency reason is given only with the emergency purpose",
                field="emergency_reason",
                rule="emergency_only",
            )

    def _check_break_glass(self) -> None:
        if self.role not in _TREATING_ROLES:
            raise ValidationError(
                "break-glass access is for clinicians treating a patient",
                field="role",
                rule="clinicians_only",
            )
        reason = self.emergency_reason
        if reason is None or not reason.strip():
            raise ValidationError(
                "break-glass access needs the reason for the emergency",
                field="emergency_reason",
                rule="required",
            )
        if len(reason) > _REASON_MAX_LENGTH:
            raise ValidationError(
                f"an emergency reason is at most {_REASON_MAX_LENGTH} characters",
                field="emergency_reason",
                rule="max_length",
            )
        if self.expires_at is None:
            raise ValidationError(
                "break-glass access needs an expiry",
                field="expires_at",
                rule="required",
            )
        limit = break_glass_limit()
        if self.expires_at - datetime.now(UTC) > limit:
            raise ValidationError(
                f"break-glass access lasts at most {limit.total_seconds() / 60:g} "
                "minutes",
                field="expires_at",
                rule="maximum",
            )

    @classmethod
    def system(cls, name: str) -> AccessContext:
        """A context for scripts, fixtures and deploy steps, named for the audit."""
        return cls(
            actor_id=f"system:{name}",
            role=UserRole.SYSTEM,
            purpose=PurposeOfUse.OPERATIONS,
        )

    @classmethod
    def break_glass(
        cls,
        actor_id: str,
        role: UserRole,
        reason: str,
        *,
        minutes: float | None = None,
        attributes: tuple[tuple[str, str], ...] = (),
    ) -> AccessContext:
        """Emergency access for a clinician, from now for ``minutes`` (default and
        maximum: ``Settings.break_glass_max_minutes``).

        Raises:
            ValidationError: no reason, too long, or not a clinician's role.
        """
        limit = break_glass_limit()
        span = limit if minutes is None else timedelta(minutes=minutes)
        if span <= timedelta(0):
            raise ValidationError(
                "break-glass access lasts a positive time",
                field="minutes",
                rule="positive",
            )
        return cls(
            actor_id=actor_id,
            role=role,
            purpose=PurposeOfUse.EMERGENCY,
            emergency_reason=reason,
            expires_at=datetime.now(UTC) + span,
            attributes=attributes,
        )

    @property
    def is_system(self) -> bool:
        """Whether this is a script's context rather than a person's."""
        return self.role is UserRole.SYSTEM

    @property
    def is_break_glass(self) -> bool:
        """Whether this is an emergency grant, which the audit trail flags."""
        return self.purpose is PurposeOfUse.EMERGENCY

    @property
    def account_id(self) -> str:
        """The sign-in account acting: the ``account_id`` attribute if given,
        else the actor id (patients, admins and auditors act as their account)."""
        return self.attribute(_ACCOUNT_ID) or self.actor_id

    @property
    def provider_id(self) -> str | None:
        """The provider a clinician acts as (their actor id); ``None`` for
        other roles."""
        if self.role not in _TREATING_ROLES:
            return None
        return self.attribute(_PROVIDER_ID) or self.actor_id

    def attribute(self, name: str) -> str | None:
        """The value of one of :attr:`attributes`, or ``None``."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether a time-limited grant has run out."""
        if self.expires_at is None:
            return False
        return (now or datetime.now(UTC)) >= self.expires_at


class AccountIdentity(Protocol):
    """What a sign-in account tells about who is acting (``UserAccount``)."""

    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> UserRole | str: ...

    @property
    def provider_id(self) -> str | None: ...


def context_for_account(
    account: AccountIdentity,
    *,
    purpose: PurposeOfUse = PurposeOfUse.TREATMENT,
) -> AccessContext:
    """The access context a signed-in account acts under, by the identity
    convention: a patient as their patient id (their account id), a clinician as
    their provider id, an admin or auditor as their account id.

    Raises:
        ValidationError: an unknown role, a clinician's account with no provider
            record, a provider linked to an account that is not a clinician's,
            or a system account (scripts use :meth:`AccessContext.system`).
    """
    role = _role(account.role)
    user_id, provider_id = account.user_id, account.provider_id
    if role is UserRole.SYSTEM:
        raise ValidationError(
            "system contexts are given by scripts at connect, not by accounts",
            field="role",
            rule="not_for_accounts",
        )
    if role in _TREATING_ROLES:
        if not provider_id:
            raise ValidationError(
                "a clinician's account needs its provider record to act on "
                "patients' records",
                field="provider_id",
                rule="required_for_clinicians",
            )
        return AccessContext(
            actor_id=provider_id,
            role=role,
            purpose=purpose,
            attributes=((_ACCOUNT_ID, user_id), (_PROVIDER_ID, provider_id)),
        )
    if provider_id:
        raise ValidationError(
            "only a clinician's account is linked to a provider record",
            field="provider_id",
            rule="clinicians_only",
        )
    return AccessContext(
        actor_id=user_id,
        role=role,
        purpose=purpose,
        attributes=((_ACCOUNT_ID, user_id),),
    )


def break_glass_limit() -> timedelta:
    """The longest break-glass grant, from ``Settings.break_glass_max_minutes``.

    Read from the environment each time an emergency context is made (rarely),
    so a deployment's setting is always the one in force.
    """
    return timedelta(minutes=Settings().break_glass_max_minutes)


def _role(value: UserRole | str) -> UserRole:
    try:
        return UserRole(value)
    except ValueError:
        raise ValidationError("not a known role", field="role", rule="enum") from None


_current: contextvars.ContextVar[AccessContext | None] = contextvars.ContextVar(
    "wellness_repo_access_context", default=None
)


def current_context(default: AccessContext | None = None) -> AccessContext:
    """The context in force: the innermost :func:`acting_as`, else ``default``.

    Raises:
        AccessDeniedError: when neither is set.
    """
    context = _current.get() or default
    if context is None:
        raise AccessDeniedError(
            "no access context: wrap the call in acting_as(...) or connect with "
            "a system context"
        )
    return context


def peek_context() -> AccessContext | None:
    """The context set in this task, if any, without raising."""
    return _current.get()


@contextmanager
def acting_as(context: AccessContext) -> Iterator[AccessContext]:
    """Run the enclosed calls under ``context`` (per request, per task)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
