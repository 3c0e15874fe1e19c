"""Login sessions: opening them with a bearer token handed out once, checking and
sliding them on every request, and ending them one by one or all at once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, NoReturn

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import ConcurrencyError, SessionExpiredError, ValidationError
from wellness_repo.models.security_events import (
    AccountId,
    SessionEndReason,
    UserSession,
    hash_session_token,
)
from wellness_repo.models.types import utc_now
from wellness_repo.query.compiler import compile_filters
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import every_match, parse_argument
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import validation_error

__all__ = ["UserSessionRepository"]
# Bearer tokens are 43 characters; anything far longer is not one of ours and is
# refused before it is hashed.
_LONGEST_TOKEN = 256
_TOKEN_BYTES = 32
_REVOCATION = ("revoked_at", "revoked_reason")


class UserSessionRepository(AsyncBaseRepository[UserSession]):
    """Signed-in sessions of user accounts, found by the hash of their token.

    The token is handed to the caller once, by :meth:`create_session`; only its
    SHA-256 is stored, and it never appears in a log line or an error.
    """

    model = UserSession

    async def create_session(
        self,
        user_id: str,
        *,
        ip_address: str | None = None,
        mfa_verified: bool = False,
        lifetime: timedelta | None = None,
        idle_timeout: timedelta | None = None,
    ) -> tuple[UserSession, str]:
        """Open a session for a user who has just signed in.

        Args:
            user_id: the account signing in.
            ip_address: the client's address, if known.
            mfa_verified: whether the sign-in passed a second factor.
            lifetime: how long the session may live at most; defaults to (and may
                not exceed) ``Settings.session_lifetime_minutes``.
            idle_timeout: how long it may go unused; defaults to (and may not
                exceed) ``Settings.session_idle_minutes``.

        Returns:
            The stored session and its bearer token. The token is not kept
            anywhere: hand it to the client and forget it.

        Raises:
            ValidationError: a malformed account id or IP address, a limit that is
                not a positive ``timedelta`` or exceeds the configured one.
        """
        settings = self.db.settings
        live_for = self._limit(lifetime, "lifetime", settings.session_lifetime_minutes)
        idle_for = self._limit(
            idle_timeout, "idle_timeout", settings.session_idle_minutes
        )
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        now = utc_now()
        expires_at = now + live_for
        try:
            session = UserSession(
                user_id=user_id,
                token_hash=hash_session_token(token),
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                idle_timeout_seconds=int(idle_for.total_seconds()),
                idle_expires_at=min(now + idle_for, expires_at),
                ip_address=ip_address,
                mfa_verified=mfa_verified,
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity) from None
        created = await self.create(session)
        self.logger.info("session %s opened for user %s", created.id, created.user_id)
        return created, token

    async def validate_session(self, token: str) -> UserSession:
        """The live session a bearer token belongs to, with its idle deadline moved
        forward: call it on every request the token comes with.

        The idle deadline moves to now plus the session's idle timeout (never past
        its expiry) in one guarded write, so a session revoked a moment earlier is
        not revived.

        Raises:
            SessionExpiredError: the session was revoked, has expired, was idle too
                long, or the token matches no session; ``reason`` says which.
            ValidationError: the token is not a non-empty string of sane length.
        """
        digest = self._digest(token)
        session = await self.find_one_by(token_hash=digest)
        if session is None:
            raise self._ended("unknown")
        now = utc_now()
        self._require_live(session, now)
        idle_until = min(
            now + timedelta(seconds=session.idle_timeout_seconds), session.expires_at
        )
        slid = await self._atomic_update(
            session.id,
            # $max: of two requests racing, the later deadline stays.
            {"$max": {"last_seen_at": now, "idle_expires_at": idle_until}},
            # The token hash is the shard key: the write targets one shard.
            guard={**_live_at(now), "token_hash": digest},
            changed=("last_seen_at", "idle_expires_at"),
        )
        if slid is not None:
            return slid
        current = await self.get_by_id(session.id)
        if current is None:
            raise self._ended("unknown", session.id)
        self._require_live(current, now)
        raise ConcurrencyError(
            "the session changed while it was checked; check it again",
            entity=self._entity,
            entity_id=session.id,
        )

    async def revoke_session(
        self, session_id: str, reason: SessionEndReason | str
    ) -> UserSession:
        """End one session now (sign-out, or an administrator's decision).

        Ending an already ended session changes nothing and returns it as it was
        ended, with its original time and reason.

        Raises:
            ValidationError: ``reason`` is not a ``SessionEndReason``.
            NotFoundError: no such session.
        """
        why = self._reason(reason, session_id)
        revoked = await self._revoke(session_id, why, utc_now())
        if revoked is None:
            return await self.get(session_id)
        self.logger.info("session %s revoked (%s)", session_id, why)
        return revoked

    async def revoke_all_sessions(
        self, user_id: str, reason: SessionEndReason | str
    ) -> int:
        """End every live session of one user (a password change, a lockout);
        returns how many were ended. Other users' sessions are untouched.

        Raises:
            ValidationError: a malformed account id or an unknown reason.
        """
        why = self._reason(reason, None)
        account = self._account(user_id)
        now = utc_now()
        ended = await self._update_many(
            compile_filters(UserSession, _live_filter(account, now)).filter,
            {"$set": {"revoked_at": now, "revoked_reason": why.value}},
            changed=_REVOCATION,
        )
        self.logger.info("revoked %d session(s) of user %s (%s)", ended, account, why)
        return ended

    async def active_sessions(self, user_id: str) -> list[UserSession]:
        """One user's live sessions, most recently used first ("where am I signed
        in"): not revoked, not expired, not idle too long."""
        account = self._account(user_id)
        return await every_match(
            self,
            QueryOptions(
                filters=_live_filter(account, utc_now()), order_by=["-last_seen_at"]
            ),
        )

    async def update(self, entity: UserSession) -> NoReturn:
        """Refused: a session changes only by being used
        (:meth:`validate_session`) or ended (:meth:`revoke_session`,
        :meth:`revoke_all_sessions`). An edit could push its expiry out,
        restore a revoked session or mark it MFA-verified. ``patch`` ends here
        too.

        Raises:
            ValidationError: always (rule ``managed_by_workflow``); nothing is
                written.
        """
        self._check_type(entity)
        raise ValidationError(
            "a session changes only by being used or revoked",
            field="session_id",
            rule="managed_by_workflow",
            entity=self._entity,
            entity_id=entity.id,
        )

    # --------------------------------------------------------------- private

    async def _revoke(
        self, session_id: str, why: SessionEndReason, now: datetime
    ) -> UserSession | None:
        return await self._atomic_update(
            session_id,
            {"$set": {"revoked_at": now, "revoked_reason": why.value}},
            guard={"revoked_at": None},
            changed=_REVOCATION,
        )

    def _require_live(self, session: UserSession, now: datetime) -> None:
        if session.revoked_at is not None:
            raise self._ended("revoked", session.id)
        if session.expires_at <= now:
            raise self._ended("expired", session.id)
        if session.idle_expires_at <= now:
            raise self._ended("idle", session.id)

    def _ended(self, reason: str, session_id: str | None = None) -> SessionExpiredError:
        messages = {
            "revoked": "the session was revoked; sign in again",
            "expired": "the session has expired; sign in again",
            "idle": "the session ended after being idle; sign in again",
            "unknown": "no session matches this token; sign in again",
        }
        return SessionExpiredError(
            messages[reason], reason=reason, entity=self._entity, entity_id=session_id
        )

    def _digest(self, token: Any) -> str:
        if not isinstance(token, str):
            raise ValidationError(
                "a session token is a string", field="token", rule="type"
            )
        if not token:
            raise ValidationError(
                "a session token is required", field="token", rule="required"
            )
        if len(token) > _LONGEST_TOKEN:
            raise ValidationError(
                f"a session token has at most {_LONGEST_TOKEN} characters",
                field="token",
                rule="max_length",
            )
        return hash_session_token(token)

    def _limit(self, value: Any, field: str, configured_minutes: int) -> timedelta:
        configured = timedelta(minutes=configured_minutes)
        if value is None:
            return configured
        if not isinstance(value, timedelta):
            raise ValidationError(
                f"{field} must be a timedelta", field=field, rule="type"
            )
        if value < timedelta(seconds=1):
            raise ValidationError(
                f"{field} must be at least one second", field=field, rule="minimum"
            )
        if value > configured:
            raise ValidationError(
                f"{field} may be at most the configured {configured_minutes} minutes",
                field=field,
                rule="maximum",
            )
        return value

    def _reason(self, reason: Any, session_id: str | None) -> SessionEndReason:
        why: SessionEndReason = parse_argument(
            SessionEndReason,
            reason,
            field="reason",
            entity=self._entity,
            entity_id=session_id,
        )
        return why

    def _account(self, user_id: Any) -> str:
        account: str = parse_argument(
            AccountId, user_id, field="user_id", entity=self._entity, strict=True
        )
        return account


def _live_at(now: datetime) -> dict[str, Any]:
    return {
        "revoked_at": None,
        "expires_at": {"$gt": now},
        "idle_expires_at": {"$gt": now},
    }


def _live_filter(user_id: str, now: datetime) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "revoked_at__isnull": True,
        "expires_at__gt": now,
        "idle_expires_at__gt": now,
    }
