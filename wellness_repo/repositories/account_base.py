"""What every account operation shares: the clock, counting failed attempts
toward the lockout, finishing a sign-in, and writing the security record.

``UserAccountRepository`` (``repositories.accounts``) is the public class; this
base and the MFA methods (``repositories.account_mfa``) are split out only to keep
each module to one concern.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import (
    AccountLockedError,
    AuthenticationError,
    ConcurrencyError,
    NotFoundError,
    ValidationError,
)
from wellness_repo.models.administration import UserAccount
from wellness_repo.models.security_events import (
    AccountId,
    IpAddress,
    SecurityEventDetail,
    SecurityEventType,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.care import (
    ProviderRepository,
    parse_argument,
    refuse_managed_changes,
)
from wellness_repo.repositories.security_events import (
    SecurityEventRepository,
    UserSessionRepository,
)
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.security.passwords import HashingParameters, verify_password

__all__ = ["SECURITY_FIELDS", "AccountRepositoryBase"]

R = TypeVar("R")

REFUSED = "the email or password is not correct"
CODE_REFUSED = "the code was not accepted"
# Passwords set here are at most 128 characters; imported hashes may hide
# somewhat longer ones, so sign-in allows more before refusing outright.
_LONGEST_PASSWORD_TRIED = 1024
_LOCKED = "the account is locked after repeated failed sign-ins; try again later"
Event = SecurityEventType
Detail = SecurityEventDetail
SECURITY_FIELDS = (
    "password_hash",
    "password_changed_at",
    "failed_login_count",
    "locked_until",
    "last_login_at",
    "totp_secret",
    "mfa_enabled",
    "totp_last_step",
    "recovery_code_hashes",
    "mfa_enrolled_at",
)
"""Account fields that change only through the account's own methods, each of
which asks for its proof first: the current password, a one-time code, or an
administrator."""


class AccountRepositoryBase(AsyncBaseRepository[UserAccount]):
    """User accounts, with the steps every sign-in and MFA check shares.

    Args:
        db_manager: the connection from :func:`wellness_repo.connect`.
        logger: where account events go (ids and outcomes only).
        clock: the current UTC time; tests give a fixed or moving clock to
            step through lockouts and one-time-code time steps.
    """

    model = UserAccount

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[UserAccount] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(db_manager, logger, model=model)
        settings = db_manager.settings
        self._hashing = HashingParameters(
            time_cost=settings.password_time_cost,
            memory_kib=settings.password_memory_kib,
            parallelism=settings.password_parallelism,
        )
        self._now = clock
        self._events = SecurityEventRepository(db_manager, logger)
        self._sessions = UserSessionRepository(db_manager, logger)
        self._providers = ProviderRepository(db_manager, logger)

    async def update(self, entity: UserAccount) -> UserAccount:
        """Store other changes to an account (its username, email, role).

        The password, the lockout and MFA change only through
        ``change_password``, ``unlock_account`` and the MFA methods, which ask
        for the current password, a code or an administrator; a plain update
        (or ``patch``) would skip that proof. An account is closed only by
        ``deactivate_user``, which also ends its sessions; an administrator
        may reopen one by an update.

        Raises:
            ValidationError: ``managed_field`` when one of those differs from
                the stored account; nothing is written.
            ConcurrencyError: the account changed since it was read.
        """
        self._check_type(entity)
        # Closing goes through deactivate_user, which also ends the account's
        # sessions; an edit would leave them signed in. Reopening is an edit.
        closing = () if entity.is_active else ("is_active",)
        await refuse_managed_changes(self, entity, (*SECURITY_FIELDS, *closing))
        return await super().update(entity)

    async def _store_checked(
        self, account: UserAccount, changes: dict[str, Any]
    ) -> UserAccount:
        """Write security fields an account method has checked the proof for,
        if the account is still at ``account``'s revision."""
        merged = {**account.model_dump(by_alias=False), **changes}
        candidate = self._validated_from_fields(merged, account.id)
        return await AsyncBaseRepository.update(self, candidate)

    async def _verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(verify_password, password_hash, password)

    async def _complete_sign_in(
        self,
        account: UserAccount,
        event: SecurityEventType,
        client: str | None,
        *,
        changes: dict[str, Any] | None = None,
        guard: dict[str, Any] | None = None,
    ) -> UserAccount | None:
        """Reset the failure count and stamp the sign-in, in one step.

        ``changes`` and ``guard`` add to the update and to its condition (a code
        not used before). Returns ``None`` when ``guard`` no longer holds; a lock
        that landed meanwhile raises ``AccountLockedError`` instead.
        """
        now = self._now()
        update = dict(changes or {})
        update["$set"] = {
            **update.get("$set", {}),
            "failed_login_count": 0,
            "locked_until": None,
            "last_login_at": now,
        }
        signed_in = await self._atomic_update(
            account.id,
            update,
            guard={"$and": [not_locked(now), guard]} if guard else not_locked(now),
            changed=tuple(update["$set"]),
        )
        if signed_in is None:
            current = await self.get(account.id)
            if self._locked(current):
                await self._refuse_locked(current, event, client)
        return signed_in

    async def _count_failure(
        self,
        account: UserAccount,
        event: SecurityEventType,
        client: str | None,
        detail: SecurityEventDetail,
        message: str,
    ) -> NoReturn:
        """Count a failed attempt, lock the account at the threshold, and raise.

        Failures are counted only while the account is not locked, and the lock
        is set only by the attempt that finds it unlocked, so a burst of
        concurrent failures locks the account once.
        """
        now = self._now()
        counted = await self._atomic_update(
            account.id,
            {"$inc": {"failed_login_count": 1}},
            guard=not_locked(now),
            changed=("failed_login_count",),
        )
        if counted is None:
            await self._refuse_locked(await self.get(account.id), event, client)
        await self._record(account.id, event, client, detail)
        threshold = self.db.settings.lockout_threshold
        if counted.failed_login_count < threshold:
            raise AuthenticationError(message, entity=self._entity)
        until = now + timedelta(minutes=self.db.settings.lockout_minutes)
        # The count restarts with the lock, so when it ends the person gets the
        # full number of attempts again.
        locked = await self._atomic_update(
            account.id,
            {"$set": {"locked_until": until, "failed_login_count": 0}},
            guard={"failed_login_count": {"$gte": threshold}, **not_locked(now)},
            changed=("locked_until", "failed_login_count"),
        )
        if locked is None:
            current = await self.get(account.id)
            until = current.locked_until or until
        else:
            await self._record(
                account.id,
                Event.ACCOUNT_LOCKED,
                client,
                Detail.TOO_MANY_FAILURES,
                success=True,
            )
            self.logger.warning(
                "account %s locked after %d failed attempts", account.id, threshold
            )
        raise AccountLockedError(
            _LOCKED, locked_until=until, entity=self._entity, entity_id=account.id
        )

    def _locked(self, account: UserAccount) -> bool:
        return account.locked_until is not None and account.locked_until > self._now()

    async def _refuse_locked(
        self, account: UserAccount, event: SecurityEventType, client: str | None
    ) -> NoReturn:
        await self._record(account.id, event, client, Detail.ACCOUNT_IS_LOCKED)
        assert account.locked_until is not None
        raise AccountLockedError(
            _LOCKED,
            locked_until=account.locked_until,
            entity=self._entity,
            entity_id=account.id,
        )

    async def _record(
        self,
        user_id: str | None,
        event: SecurityEventType,
        client: str | None,
        detail: SecurityEventDetail | None = None,
        *,
        success: bool = False,
    ) -> None:
        await self._events.log_security_event(
            user_id, event, success, client, detail=detail
        )

    async def _require_provider(self, provider_id: str) -> None:
        if await self._providers.get_by_id(provider_id) is None:
            raise ValidationError(
                "no provider record with this id",
                field="provider_id",
                rule="unknown_provider",
                entity=self._entity,
            )

    async def _as_one_unit(self, work: Callable[[], Awaitable[R]]) -> R:
        # Where the server offers transactions, a password change and the end
        # of the old sessions happen together or not at all.
        if self.db.supports_transactions:
            return await self.db.run_in_transaction(work)
        return await work()

    def _client_address(self, ip_address: str | None) -> str | None:
        if ip_address is None:
            return None
        address: str = parse_argument(
            IpAddress, ip_address, field="ip_address", entity=self._entity
        )
        return address

    def _account_id(self, user_id: Any) -> str:
        account: str = parse_argument(
            AccountId, user_id, field="user_id", entity=self._entity, strict=True
        )
        return account

    async def _set_fields(self, account_id: str, values: dict[str, Any]) -> UserAccount:
        """Set some fields of an account in one step (an administrator's act)."""
        changed = await self._atomic_update(
            account_id, {"$set": values}, changed=tuple(values)
        )
        if changed is None:
            raise NotFoundError(
                f"no {self._entity} with this id",
                entity=self._entity,
                entity_id=account_id,
            )
        return changed

    def _moved_on(self, account_id: str) -> ConcurrencyError:
        return ConcurrencyError(
            "the account changed meanwhile; nothing was written",
            entity=self._entity,
            entity_id=account_id,
        )


def not_locked(now: datetime) -> dict[str, Any]:
    """A guard matching accounts that are not locked at ``now``."""
    return {"$or": [{"locked_until": None}, {"locked_until": {"$lte": now}}]}


def require_text(value: Any, field: str) -> None:
    """Refuse a password argument that is not text, or far longer than any
    password the platform accepts (hashing megabytes on request is a cheap
    way to load the server), naming the field."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", field=field, rule="type")
    if len(value) > _LONGEST_PASSWORD_TRIED:
        raise ValidationError(
            f"{field} is longer than any password the platform accepts",
            field=field,
            rule="max_length",
        )
