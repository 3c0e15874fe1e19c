"""Login sessions and security events: who is signed in, from where, until when,
and every sign-in, lockout and MFA step as the security record (HIPAA 164.312(b)).

Neither holds free text. A session stores only the SHA-256 hash of its bearer
token; a security event names what happened with fixed codes, so no patient's
words, name or email can enter either collection.
"""

from __future__ import annotations

import hashlib
import ipaddress
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.types import ID_PATTERN, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "SECURITY_EVENT_MODELS",
    "AccountId",
    "IpAddress",
    "SecurityEvent",
    "SecurityEventDetail",
    "SecurityEventType",
    "SessionEndReason",
    "UserSession",
    "hash_session_token",
]

AccountId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""A user account's id. The id pattern keeps an email address (PHI) from being
passed where an account id belongs."""


def _normalise_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise PydanticCustomError("ip_address", "not an IPv4 or IPv6 address") from None


IpAddress = Annotated[str, AfterValidator(_normalise_ip)]
"""The client's IP address, checked with ``ipaddress`` and stored in its
canonical form (``2001:db8::1``, not ``2001:0DB8:0:0::1``), so one client is
always one key."""


def hash_session_token(token: str) -> str:
    """The stored form of a session's bearer token: its SHA-256, in hex.

    A token carries 256 random bits, so its hash cannot be reversed by guessing;
    whoever reads the sessions collection learns nothing they could sign in with.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionEndReason(StrEnum):
    """Why a login session was ended before it expired."""

    LOGOUT = "logout"
    """The user signed out."""
    PASSWORD_CHANGED = "password_changed"
    """The password changed: every session signed in with the old one ends."""
    ACCOUNT_LOCKED = "account_locked"
    """The account was locked after repeated failures or by an administrator."""
    ACCOUNT_DEACTIVATED = "account_deactivated"
    """The account was closed (staff leaving, patient discharged from the app)."""
    MFA_RESET = "mfa_reset"
    """The second factor was re-enrolled or removed."""
    ADMIN_REVOKED = "admin_revoked"
    """An administrator ended the session."""
    SUSPECTED_COMPROMISE = "suspected_compromise"
    """Security staff ended it on suspicion the token was stolen."""


class UserSession(WellnessDocument):
    """One signed-in session of a user account, identified by its bearer token.

    A session ends at ``expires_at`` (absolute), at ``idle_expires_at`` (moved
    forward each time it is used, never past ``expires_at``), or when revoked.
    """

    ID_NAME: ClassVar[str] = "session_id"
    PATIENT_FIELD: ClassVar[str | None] = None
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.ACCOUNT, owner_field="user_id")

    user_id: AccountId
    token_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    last_seen_at: UtcDatetime = Field(default_factory=utc_now)
    expires_at: UtcDatetime
    idle_timeout_seconds: int = Field(ge=1)
    """How long the session may go unused; each use moves ``idle_expires_at``."""
    idle_expires_at: UtcDatetime
    revoked_at: UtcDatetime | None = None
    revoked_reason: SessionEndReason | None = None
    ip_address: IpAddress | None = None
    mfa_verified: StrictBool = False

    class Settings:
        name = "user_sessions"

    @property
    def session_id(self) -> str:
        """The platform's name for this session's id."""
        return self.id

    @property
    def is_revoked(self) -> bool:
        """Whether the session was ended before it expired."""
        return self.revoked_at is not None

    @field_validator("expires_at")
    @classmethod
    def _expires_after_creation(cls, expires_at: Any, info: ValidationInfo) -> Any:
        created_at = info.data.get("created_at")
        if created_at is not None and expires_at <= created_at:
            raise PydanticCustomError(
                "expires_before_created", "a session must expire after it starts"
            )
        return expires_at

    @field_validator("idle_expires_at")
    @classmethod
    def _idle_within_lifetime(cls, idle_expires_at: Any, info: ValidationInfo) -> Any:
        expires_at = info.data.get("expires_at")
        if expires_at is not None and idle_expires_at > expires_at:
            raise PydanticCustomError(
                "idle_after_expiry",
                "the idle deadline cannot lie beyond the session's expiry",
            )
        return idle_expires_at

    @field_validator("revoked_reason")
    @classmethod
    def _revocation_complete(cls, reason: Any, info: ValidationInfo) -> Any:
        if (reason is None) != (info.data.get("revoked_at") is None):
            raise PydanticCustomError(
                "revocation_incomplete",
                "a revoked session records both when and why it was revoked",
            )
        return reason


class SecurityEventType(StrEnum):
    """What happened to an account or a session."""

    LOGIN_ATTEMPT = "login_attempt"
    LOGIN_SUCCESS = "login_success"
    LOGIN_FAILURE = "login_failure"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    PASSWORD_CHANGED = "password_changed"
    MFA_ENROLLED = "mfa_enrolled"
    MFA_DISABLED = "mfa_disabled"
    MFA_SUCCESS = "mfa_success"
    MFA_FAILURE = "mfa_failure"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    SESSION_CREATED = "session_created"
    SESSION_REVOKED = "session_revoked"
    """Ended early; ``detail`` says why (a ``SessionEndReason``, e.g. logout)."""
    ACCESS_DENIED = "access_denied"
    BREAK_GLASS = "break_glass"
    """Emergency access to records outside the usual policy was taken."""


# Event types that state their own outcome: ``success`` must agree with them.
_SUCCEEDED = frozenset({SecurityEventType.LOGIN_SUCCESS, SecurityEventType.MFA_SUCCESS})
_FAILED = frozenset(
    {
        SecurityEventType.LOGIN_FAILURE,
        SecurityEventType.MFA_FAILURE,
        SecurityEventType.ACCESS_DENIED,
    }
)


class SecurityEventDetail(StrEnum):
    """Why an event came out as it did, as a fixed code (never free text)."""

    WRONG_PASSWORD = "wrong_password"
    UNKNOWN_ACCOUNT = "unknown_account"
    ACCOUNT_IS_LOCKED = "account_is_locked"
    ACCOUNT_INACTIVE = "account_inactive"
    MFA_REQUIRED = "mfa_required"
    WRONG_MFA_CODE = "wrong_mfa_code"
    REPLAYED_MFA_CODE = "replayed_mfa_code"
    WRONG_RECOVERY_CODE = "wrong_recovery_code"
    TOO_MANY_FAILURES = "too_many_failures"
    LOCKOUT_ELAPSED = "lockout_elapsed"
    UNLOCKED_BY_ADMIN = "unlocked_by_admin"
    PASSWORD_REHASHED = "password_rehashed"
    SESSION_EXPIRED = "session_expired"
    SESSION_IDLE = "session_idle"
    UNKNOWN_SESSION = "unknown_session"
    POLICY_DENIED = "policy_denied"


class SecurityEvent(WellnessDocument):
    """One entry of the security record: a sign-in, a lockout, an MFA step.

    Kept at least six years (no expiry index) and never changed once written.
    ``user_id`` is ``None`` when no account matched (a sign-in with an unknown
    email): the email itself is never recorded.
    """

    ID_NAME: ClassVar[str] = "event_id"
    PATIENT_FIELD: ClassVar[str | None] = None
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.SECURITY_RECORD, owner_field="user_id"
    )

    user_id: AccountId | None = None
    event_type: SecurityEventType
    success: StrictBool
    ip_address: IpAddress | None = None
    occurred_at: UtcDatetime = Field(default_factory=utc_now)
    detail: SecurityEventDetail | SessionEndReason | None = None

    class Settings:
        name = "security_events"

    @property
    def event_id(self) -> str:
        """The platform's name for this event's id."""
        return self.id

    @field_validator("success")
    @classmethod
    def _outcome_matches_type(cls, success: bool, info: ValidationInfo) -> bool:
        event_type = info.data.get("event_type")
        if (event_type in _SUCCEEDED and not success) or (
            event_type in _FAILED and success
        ):
            raise PydanticCustomError(
                "contradicts_event_type",
                "success contradicts the outcome the event type states",
            )
        return success

    @field_validator("detail", mode="before")
    @classmethod
    def _known_detail_code(cls, detail: Any) -> Any:
        # One error naming the field, instead of one per enum of the union.
        if detail is None or isinstance(detail, SecurityEventDetail | SessionEndReason):
            return detail
        for codes in (SecurityEventDetail, SessionEndReason):
            if isinstance(detail, str) and detail in codes._value2member_map_:
                return codes(detail)
        raise PydanticCustomError(
            "detail_code",
            "detail must be a SecurityEventDetail or SessionEndReason code",
        )


SECURITY_EVENT_MODELS: tuple[type[WellnessDocument], ...] = (UserSession, SecurityEvent)
"""The documents of this module, for the model registry."""
