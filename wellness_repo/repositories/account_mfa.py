"""The second factor of an account: enrolling an authenticator app, checking its
one-time codes at sign-in (each accepted once), recovery codes for a lost
device, and switching MFA off. ``UserAccountRepository`` offers these methods.
"""

from __future__ import annotations

from typing import Any, NoReturn

from wellness_repo.errors import AuthenticationError, ValidationError
from wellness_repo.models.administration import UserAccount
from wellness_repo.models.security_events import SessionEndReason
from wellness_repo.repositories.account_base import (
    CODE_REFUSED,
    AccountRepositoryBase,
    Detail,
    Event,
)
from wellness_repo.repository.records import REVISION_KEY
from wellness_repo.security.mfa import (
    check_totp_format,
    hash_recovery_code,
    matching_recovery_code,
    matching_time_step,
    new_recovery_codes,
    new_totp_secret,
    provisioning_uri,
)

__all__ = ["MfaAccountRepository"]

_MFA_FIELDS = (
    "mfa_enabled",
    "totp_last_step",
    "recovery_code_hashes",
    "mfa_enrolled_at",
)


class MfaAccountRepository(AccountRepositoryBase):
    """User accounts' multi-factor authentication (TOTP, RFC 6238)."""

    async def begin_mfa_enrollment(self, user_id: str) -> tuple[str, str]:
        """Start enrolling an authenticator app for an account.

        Returns the new secret and its ``otpauth://`` provisioning URI (shown to
        the user as a QR code, once). MFA is not on until
        :meth:`confirm_mfa_enrollment` receives a first code from the app;
        beginning again replaces an unconfirmed secret.

        Raises:
            ValidationError: MFA is already enabled (disable it first).
        """
        account = await self.get(self._account_id(user_id))
        if account.mfa_enabled:
            raise self._mfa_state("MFA is already enabled", "already_enabled", account)
        secret = new_totp_secret()
        # A whole-record write, not an atomic update: the secret is an encrypted
        # field and whole-record writes are where the cipher encrypts it.
        await self._store_checked(
            account, {"totp_secret": secret, "totp_last_step": None}
        )
        uri = provisioning_uri(secret, account.username, self.db.settings.totp_issuer)
        self.logger.info("MFA enrollment begun for account %s", account.id)
        return secret, uri

    async def confirm_mfa_enrollment(self, user_id: str, code: str) -> list[str]:
        """Turn MFA on once the authenticator app shows a valid code.

        Returns ten recovery codes, in plaintext this once; only their hashes
        are kept.

        Raises:
            ValidationError: a malformed code (field ``code``, rule
                ``totp_format``), a code that does not match (rule
                ``totp_mismatch``), or no enrollment under way; nothing is
                written.
        """
        typed = check_totp_format(code)
        account = await self.get(self._account_id(user_id))
        if account.mfa_enabled:
            raise self._mfa_state("MFA is already enabled", "already_enabled", account)
        if account.totp_secret is None:
            raise self._mfa_state(
                "no MFA enrollment has begun", "not_enrolling", account
            )
        step = matching_time_step(account.totp_secret, typed, self._now())
        if step is None:
            raise ValidationError(
                "the code does not match the authenticator; check the device clock",
                field="code",
                rule="totp_mismatch",
                entity=self._entity,
                entity_id=account.id,
            )
        codes = new_recovery_codes()
        enrolled = await self._atomic_update(
            account.id,
            {
                "$set": {
                    "mfa_enabled": True,
                    "totp_last_step": step,
                    "recovery_code_hashes": [hash_recovery_code(c) for c in codes],
                    "mfa_enrolled_at": self._now(),
                }
            },
            guard={REVISION_KEY: account.revision, "mfa_enabled": False},
            changed=_MFA_FIELDS,
        )
        if enrolled is None:
            raise self._moved_on(account.id)
        await self._record(account.id, Event.MFA_ENROLLED, None, success=True)
        self.logger.info("MFA enabled for account %s", account.id)
        return codes

    async def verify_mfa(
        self, user_id: str, code: str, *, ip_address: str | None = None
    ) -> UserAccount:
        """Check a one-time code: the second factor that completes a sign-in.

        A code is accepted once; the same code (or one from an earlier time
        step) is refused afterwards. Wrong and replayed codes count toward the
        lockout.

        Raises:
            ValidationError: a malformed code, or MFA not enabled; nothing is
                written.
            AuthenticationError: a wrong or already used code.
            AccountLockedError: the account is locked.
        """
        client = self._client_address(ip_address)
        typed = check_totp_format(code)
        account = await self._enabled_account(user_id, client)
        return await self._accept_totp(account, typed, client)

    async def use_recovery_code(
        self, user_id: str, code: str, *, ip_address: str | None = None
    ) -> UserAccount:
        """Complete a sign-in with a recovery code instead of the app.

        Each code works once; ``recovery_codes_left`` on the returned account
        says how many remain. Wrong codes count toward the lockout.

        Raises:
            ValidationError: a malformed code, or MFA not enabled.
            AuthenticationError: a wrong or already used code.
            AccountLockedError: the account is locked.
        """
        client = self._client_address(ip_address)
        code_hash = hash_recovery_code(code)
        account = await self._enabled_account(user_id, client)
        matched = matching_recovery_code(code_hash, account.recovery_code_hashes)
        if matched is None:
            await self._count_failure(
                account,
                Event.RECOVERY_CODE_USED,
                client,
                Detail.WRONG_RECOVERY_CODE,
                CODE_REFUSED,
            )
        signed_in = await self._complete_sign_in(
            account,
            Event.RECOVERY_CODE_USED,
            client,
            changes={"$pull": {"recovery_code_hashes": matched}},
            guard={"recovery_code_hashes": matched},
        )
        if signed_in is None:
            # Another request used this very code a moment ago: a double
            # submit, refused like a replayed one-time code and not counted.
            await self._record(
                account.id,
                Event.RECOVERY_CODE_USED,
                client,
                Detail.WRONG_RECOVERY_CODE,
            )
            raise AuthenticationError(CODE_REFUSED, entity=self._entity)
        await self._record(account.id, Event.RECOVERY_CODE_USED, client, success=True)
        self.logger.info(
            "recovery code used for account %s, %d left",
            account.id,
            signed_in.recovery_codes_left,
        )
        return signed_in

    async def disable_mfa(
        self, user_id: str, code: str, *, ip_address: str | None = None
    ) -> UserAccount:
        """Switch MFA off, proven by a current one-time code; the secret and
        recovery codes are deleted and the account's sessions end.

        Raises:
            ValidationError: a malformed code, or MFA not enabled.
            AuthenticationError: a wrong or already used code.
        """
        client = self._client_address(ip_address)
        typed = check_totp_format(code)
        account = await self._enabled_account(user_id, client)
        step = await self._matching_step(account, typed, client)
        disabled = await self._atomic_update(
            account.id,
            {
                "$set": {
                    "mfa_enabled": False,
                    "totp_secret": None,
                    "totp_last_step": None,
                    "recovery_code_hashes": [],
                    "mfa_enrolled_at": None,
                }
            },
            guard={"mfa_enabled": True, **_unused_step(step)},
            changed=(*_MFA_FIELDS, "totp_secret"),
        )
        if disabled is None:
            await self._refuse_replay(account, client)
        await self._sessions.revoke_all_sessions(
            account.id, reason=SessionEndReason.MFA_RESET
        )
        await self._record(account.id, Event.MFA_DISABLED, client, success=True)
        self.logger.info("MFA disabled for account %s", account.id)
        return disabled

    # --------------------------------------------------------------- private

    async def _enabled_account(self, user_id: str, client: str | None) -> UserAccount:
        account = await self.get(self._account_id(user_id))
        if not account.mfa_enabled or account.totp_secret is None:
            raise self._mfa_state("MFA is not enabled", "not_enabled", account)
        if self._locked(account):
            await self._refuse_locked(account, Event.MFA_FAILURE, client)
        if not account.is_active:
            await self._record(
                account.id, Event.MFA_FAILURE, client, Detail.ACCOUNT_INACTIVE
            )
            raise AuthenticationError(CODE_REFUSED, entity=self._entity)
        return account

    async def _accept_totp(
        self, account: UserAccount, code: str, client: str | None
    ) -> UserAccount:
        step = await self._matching_step(account, code, client)
        signed_in = await self._complete_sign_in(
            account,
            Event.MFA_FAILURE,
            client,
            changes={"$set": {"totp_last_step": step}},
            guard=_unused_step(step),
        )
        if signed_in is None:
            await self._refuse_replay(account, client)
        await self._record(account.id, Event.MFA_SUCCESS, client, success=True)
        return signed_in

    async def _matching_step(
        self, account: UserAccount, code: str, client: str | None
    ) -> int:
        assert account.totp_secret is not None
        step = matching_time_step(account.totp_secret, code, self._now())
        if step is None:
            await self._count_failure(
                account, Event.MFA_FAILURE, client, Detail.WRONG_MFA_CODE, CODE_REFUSED
            )
        return step

    async def _refuse_replay(
        self, account: UserAccount, client: str | None
    ) -> NoReturn:
        # Not counted toward the lockout: a replay is a code that was right a
        # moment ago (a double submit, or one seen over a shoulder), not a guess.
        await self._record(
            account.id, Event.MFA_FAILURE, client, Detail.REPLAYED_MFA_CODE
        )
        raise AuthenticationError(
            "this code was already used; wait for the next one", entity=self._entity
        )

    def _mfa_state(
        self, message: str, rule: str, account: UserAccount
    ) -> ValidationError:
        return ValidationError(
            message,
            field="mfa_enabled",
            rule=rule,
            entity=self._entity,
            entity_id=account.id,
        )


def _unused_step(step: int) -> dict[str, Any]:
    """A guard: no code of ``step`` or a later time step was accepted yet."""
    return {"$or": [{"totp_last_step": None}, {"totp_last_step": {"$lt": step}}]}
