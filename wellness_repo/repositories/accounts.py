"""User accounts: sign-up, sign-in with lockout, password changes, the second
factor (TOTP and recovery codes), and an administrator's lock, unlock and
deactivation.

Every sign-in attempt, successful or not, is written to the security record
through ``SecurityEventRepository``; a password change, an administrator's lock
and a deactivation end the account's sessions through ``UserSessionRepository``.
Hashing runs on a worker thread: argon2id deliberately takes tens of
milliseconds, which would otherwise stall every other request on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import (
    AccessDeniedError,
    AuthenticationError,
    ValidationError,
)
from wellness_repo.models.administration import EmailAddress, UserAccount, Username
from wellness_repo.models.security_events import SessionEndReason
from wellness_repo.models.types import UtcDatetime
from wellness_repo.repositories.account_base import (
    REFUSED,
    Detail,
    Event,
    require_text,
)
from wellness_repo.repositories.account_mfa import MfaAccountRepository
from wellness_repo.repositories.care import parse_argument
from wellness_repo.repository.records import validation_error
from wellness_repo.security.context import UserRole
from wellness_repo.security.passwords import (
    check_password_strength,
    dummy_hash,
    hash_password,
    needs_rehash,
)
from wellness_repo.security.policy import Operation

__all__ = ["AuthenticationResult", "UserAccountRepository"]


@dataclass(frozen=True, slots=True)
class AuthenticationResult:
    """The outcome of a correct password.

    When ``mfa_required`` is true the person has passed only the first factor:
    the service must call :meth:`UserAccountRepository.verify_mfa` (or
    ``use_recovery_code``) before it opens a session. Until then the account's
    failed-attempt count is not reset, so a known password does not buy
    unlimited guesses at the one-time code.
    """

    account: UserAccount
    mfa_required: bool

    @property
    def user_id(self) -> str:
        """The id of the account that signed in."""
        return self.account.id


class UserAccountRepository(MfaAccountRepository):
    """The accounts patients and staff sign in with: credentials, lockout, MFA.

    Construct it with the connection (and optionally a logger and a ``clock``);
    the MFA methods come from :class:`MfaAccountRepository`.
    """

    # --------------------------------------------------------------- sign-up

    async def create_user(
        self,
        username: str,
        email: str,
        password: str | None = None,
        password_hash: str | None = None,
        *,
        role: UserRole | str,
        provider_id: str | None = None,
    ) -> UserAccount:
        """Open an account for a patient or a member of staff.

        Give exactly one of ``password`` (checked against the strength rules and
        hashed with argon2id) or ``password_hash`` (an argon2id hash brought from
        another system; rehashed at the first login if its cost is lower).

        Args:
            username: the sign-in name; stored in lower case, unique.
            email: stored trimmed and in lower case; unique regardless of case.
            role: a ``UserRole`` or its value.
            provider_id: for a clinician, their record in the provider network.

        Raises:
            ValidationError: a malformed username, email, role or hash, a weak
                password, both or neither password arguments, an unknown
                provider; nothing is written.
            DuplicateError: the email, username or provider is already taken;
                ``key`` names the field.
        """
        if (password is None) == (password_hash is None):
            raise ValidationError(
                "give either a password or a password hash, not both or neither",
                field="password",
                rule="exactly_one",
                entity=self._entity,
            )
        name: str = parse_argument(
            Username, username, field="username", entity=self._entity
        )
        address: str = parse_argument(
            EmailAddress, email, field="email", entity=self._entity
        )
        parse_argument(UserRole, role, field="role", entity=self._entity)
        if password is not None:
            check_password_strength(password, username=name, email=address)
            password_hash = await asyncio.to_thread(
                hash_password, password, self._hashing
            )
        try:
            account = UserAccount(
                username=name,
                email=address,
                role=role,
                provider_id=provider_id,
                password_hash=password_hash,
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity) from None
        if account.provider_id is not None:
            await self._require_provider(account.provider_id)
        stored = await self.create(account)
        self.logger.info("opened %s account %s", stored.role.value, stored.id)
        return stored

    async def find_by_email(self, email: str) -> UserAccount | None:
        """The live account with this email (any case), or ``None``.

        The lookup is an equality on the stored, deterministically encrypted
        email, so it is served by the unique index.
        """
        address: str = parse_argument(
            EmailAddress, email, field="email", entity=self._entity
        )
        return await self.find_one_by(email=address)

    # --------------------------------------------------------------- sign-in

    async def authenticate_user(
        self, email: str, password: str, *, ip_address: str | None = None
    ) -> AuthenticationResult:
        """Check an email and password: the first factor of signing in.

        An unknown email costs the same hashing time as a wrong password and
        gets the same error; every refusal takes at least
        ``Settings.failed_sign_in_floor_ms``, so the number of writes behind it
        does not show in its timing either. After ``Settings.lockout_threshold``
        failures in a row the account is locked for
        ``Settings.lockout_minutes``; while locked even the right password is
        refused. A hash made with an older cost is replaced on success.

        Returns:
            the account, and whether a second factor is still required.

        Raises:
            AuthenticationError: unknown email, wrong password, or a deactivated
                account (one message for all three).
            AccountLockedError: the account is locked; ``locked_until`` says until
                when.
            ValidationError: a malformed email or IP address; nothing is written.
        """
        started = time.monotonic()
        try:
            return await self._check_first_factor(email, password, ip_address)
        except AuthenticationError:
            # Unknown, wrong and locked differ in how many writes they make; a
            # refusal that ends no sooner than the floor hides which one it was.
            floor = self.db.settings.failed_sign_in_floor_ms / 1000
            await asyncio.sleep(max(0.0, floor - (time.monotonic() - started)))
            raise

    async def _check_first_factor(
        self, email: str, password: str, ip_address: str | None
    ) -> AuthenticationResult:
        client = self._client_address(ip_address)
        require_text(password, "password")
        account = await self.find_by_email(email)
        if account is None:
            await self._verify(dummy_hash(self._hashing), password)
            await self._record(
                None, Event.LOGIN_FAILURE, client, Detail.UNKNOWN_ACCOUNT
            )
            raise AuthenticationError(REFUSED, entity=self._entity)
        if self._locked(account):
            await self._verify(dummy_hash(self._hashing), password)
            await self._refuse_locked(account, Event.LOGIN_FAILURE, client)
        correct = await self._verify(account.password_hash, password)
        if not account.is_active:
            await self._record(
                account.id, Event.LOGIN_FAILURE, client, Detail.ACCOUNT_INACTIVE
            )
            raise AuthenticationError(REFUSED, entity=self._entity)
        if not correct:
            await self._count_failure(
                account, Event.LOGIN_FAILURE, client, Detail.WRONG_PASSWORD, REFUSED
            )
        await self._rehash_if_outdated(account, password)
        if account.mfa_enabled:
            await self._record(
                account.id,
                Event.LOGIN_ATTEMPT,
                client,
                Detail.MFA_REQUIRED,
                success=True,
            )
            return AuthenticationResult(account, mfa_required=True)
        signed_in = await self._complete_sign_in(account, Event.LOGIN_FAILURE, client)
        if signed_in is None:
            raise AuthenticationError(REFUSED, entity=self._entity)
        await self._record(signed_in.id, Event.LOGIN_SUCCESS, client, success=True)
        return AuthenticationResult(signed_in, mfa_required=False)

    async def change_password(
        self,
        user_id: str,
        current_password: str,
        new_password: str,
        *,
        ip_address: str | None = None,
    ) -> UserAccount:
        """Replace an account's password and end all of its sessions.

        A wrong current password counts toward the lockout like a failed
        sign-in.

        Raises:
            ValidationError: the new password breaks a strength rule; nothing is
                written.
            AuthenticationError: the current password is wrong.
            AccountLockedError: the account is locked.
            ConcurrencyError: the password changed meanwhile; nothing is written.
        """
        client = self._client_address(ip_address)
        require_text(current_password, "current_password")
        account = await self.get(self._account_id(user_id))
        check_password_strength(
            new_password, username=account.username, email=account.email
        )
        if self._locked(account):
            await self._refuse_locked(account, Event.LOGIN_FAILURE, client)
        if not await self._verify(account.password_hash, current_password):
            await self._count_failure(
                account, Event.LOGIN_FAILURE, client, Detail.WRONG_PASSWORD, REFUSED
            )
        new_hash = await asyncio.to_thread(hash_password, new_password, self._hashing)

        async def replace_and_revoke() -> UserAccount:
            changed = await self._atomic_update(
                account.id,
                {
                    "$set": {
                        "password_hash": new_hash,
                        "password_changed_at": self._now(),
                        "failed_login_count": 0,
                    }
                },
                guard={"password_hash": account.password_hash},
                changed=("password_hash", "password_changed_at", "failed_login_count"),
            )
            if changed is None:
                raise self._moved_on(account.id)
            await self._sessions.revoke_all_sessions(
                account.id, reason=SessionEndReason.PASSWORD_CHANGED
            )
            return changed

        changed = await self._as_one_unit(replace_and_revoke)
        await self._record(account.id, Event.PASSWORD_CHANGED, client, success=True)
        self.logger.info("password changed for account %s", account.id)
        return changed

    # ------------------------------------------------------ administration

    async def lock_account(
        self, user_id: str, *, until: datetime | None = None
    ) -> UserAccount:
        """Lock an account (an administrator's action) and end its sessions.

        Args:
            until: when the lock ends (timezone-aware, in the future); defaults
                to ``Settings.lockout_minutes`` from now.
        """
        account_id = self._account_id(user_id)
        await self._require_administrator(account_id, "lock an account")
        now = self._now()
        ends = now + timedelta(minutes=self.db.settings.lockout_minutes)
        if until is not None:
            ends = parse_argument(
                UtcDatetime, until, field="until", entity=self._entity
            )
            if ends <= now:
                raise ValidationError(
                    "a lock must end in the future",
                    field="until",
                    rule="in_future",
                    entity=self._entity,
                    entity_id=account_id,
                )
        locked = await self._set_fields(account_id, {"locked_until": ends})
        await self._sessions.revoke_all_sessions(
            account_id, reason=SessionEndReason.ACCOUNT_LOCKED
        )
        await self._record(account_id, Event.ACCOUNT_LOCKED, None, success=True)
        self.logger.info("account %s locked by an administrator", account_id)
        return locked

    async def unlock_account(self, user_id: str) -> UserAccount:
        """Lift a lock now and clear the count of failed sign-ins (an
        administrator's action)."""
        account_id = self._account_id(user_id)
        await self._require_administrator(account_id, "unlock an account")
        unlocked = await self._set_fields(
            account_id, {"locked_until": None, "failed_login_count": 0}
        )
        await self._record(
            account_id,
            Event.ACCOUNT_UNLOCKED,
            None,
            Detail.UNLOCKED_BY_ADMIN,
            success=True,
        )
        self.logger.info("account %s unlocked by an administrator", account_id)
        return unlocked

    async def deactivate_user(self, user_id: str) -> UserAccount:
        """Close an account (staff leaving, a patient leaving the platform): it
        can no longer sign in and its sessions end. The record is kept.

        Raises:
            AccessDeniedError: the caller is neither an administrator nor a
                system context (an owner cannot close, lock or unlock their own
                account through these acts).
        """
        account_id = self._account_id(user_id)
        await self._require_administrator(account_id, "deactivate an account")
        closed = await self._set_fields(account_id, {"is_active": False})
        await self._sessions.revoke_all_sessions(
            account_id, reason=SessionEndReason.ACCOUNT_DEACTIVATED
        )
        self.logger.info("account %s deactivated", account_id)
        return closed

    async def _require_administrator(self, account_id: str, act: str) -> None:
        context = self._context()
        if context.role in (UserRole.ADMIN, UserRole.SYSTEM):
            return
        await self._audit(context, Operation.UPDATE, (account_id,), outcome="denied")
        raise AccessDeniedError(
            f"only an administrator may {act}",
            entity=self._entity,
            entity_id=account_id,
        )

    async def _rehash_if_outdated(self, account: UserAccount, password: str) -> None:
        if not needs_rehash(account.password_hash, self._hashing):
            return
        fresh = await asyncio.to_thread(hash_password, password, self._hashing)
        # Guarded by the old hash: a password changed meanwhile is not undone.
        rehashed = await self._atomic_update(
            account.id,
            {"$set": {"password_hash": fresh}},
            guard={"password_hash": account.password_hash},
            changed=("password_hash",),
        )
        if rehashed is not None:
            self.logger.info("password hash of account %s upgraded", account.id)
