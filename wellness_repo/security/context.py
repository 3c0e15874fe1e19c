"""Who is acting, in what role, and why: the access context every call runs under.

A service sets the context once per request with :func:`acting_as`; a script gives a
system context once, when it connects. A repository call with no context raises
``AccessDeniedError``: there is no silent default.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from wellness_repo.errors import AccessDeniedError, ValidationError

__all__ = [
    "AccessContext",
    "PurposeOfUse",
    "UserRole",
    "acting_as",
    "current_context",
]


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
        emergency_reason: why break-glass access was taken; required for emergencies.
        expires_at: when an emergency grant stops working (UTC).
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
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValidationError(
                "expiry must be timezone-aware", field="expires_at", rule="aware"
            )

    @classmethod
    def system(cls, name: str) -> AccessContext:
        """A context for scripts, fixtures and deploy steps, named for the audit."""
        return cls(
            actor_id=f"system:{name}",
            role=UserRole.SYSTEM,
            purpose=PurposeOfUse.OPERATIONS,
        )

    @property
    def is_system(self) -> bool:
        """Whether this is a script's context rather than a person's."""
        return self.role is UserRole.SYSTEM

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether a time-limited grant has run out."""
        if self.expires_at is None:
            return False
        return (now or datetime.now(UTC)) >= self.expires_at


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
