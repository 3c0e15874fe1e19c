"""Administration: the accounts people sign in with (patients, clinicians,
administrators, auditors), with their role, password hash, lockout state and
second factor. Login sessions and security events are in
``wellness_repo.models.security_events``."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import SoftDeletableDocument, WellnessDocument
from wellness_repo.models.types import (
    ID_PATTERN,
    Encrypted,
    EncryptionAlgorithm,
    UtcDatetime,
    utc_now,
)
from wellness_repo.security.access_rules import (
    CLINICIAN_ROLES,
    AccessRule,
    RecordKind,
)
from wellness_repo.security.context import UserRole
from wellness_repo.security.passwords import is_argon2id_hash

__all__ = [
    "ACCOUNT_MODELS",
    "EmailAddress",
    "PasswordHash",
    "UserAccount",
    "Username",
]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
# A pragmatic address check (RFC 5321 sizes, one @, a dotted domain with a
# letter TLD); whether the mailbox exists is for a confirmation email to show.
_EMAIL_LOCAL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
)
_EMAIL_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL_TLD = re.compile(r"^[a-z]{2,63}$")


def _username(value: str) -> str:
    # Case never tells two accounts apart: "John.Doe" signs in as "john.doe".
    normalised = value.strip().lower()
    if not _USERNAME.match(normalised):
        raise PydanticCustomError(
            "username_format",
            "a username is 3 to 64 letters, digits, '.', '_' or '-', starting and "
            "ending with a letter or digit",
        )
    return normalised


def _email(value: str) -> str:
    normalised = value.strip().lower()
    local, at, domain = normalised.rpartition("@")
    labels = domain.split(".")
    valid = (
        bool(at)
        and len(normalised) <= 254
        and 0 < len(local) <= 64
        and _EMAIL_LOCAL.match(local) is not None
        and len(labels) >= 2
        and all(_EMAIL_LABEL.match(label) for label in labels)
        and _EMAIL_TLD.match(labels[-1]) is not None
    )
    if not valid:
        raise PydanticCustomError(
            "email_format", "expected an email address such as name@example.org"
        )
    return normalised


def _argon2id(value: str) -> str:
    if not is_argon2id_hash(value):
        raise PydanticCustomError(
            "hash_format",
            "expected an argon2id hash string ($argon2id$v=19$m=...,t=...,p=...$...)",
        )
    return value


Username = Annotated[str, AfterValidator(_username)]
"""An account's sign-in name, stored trimmed and in lower case."""
EmailAddress = Annotated[str, AfterValidator(_email)]
"""An email address, stored trimmed and in lower case so uniqueness ignores case."""
PasswordHash = Annotated[str, AfterValidator(_argon2id)]
"""An argon2id password hash with its parameters and salt; never the password."""


class UserAccount(SoftDeletableDocument):
    """An account someone signs in with, in one role.

    The password is kept only as an argon2id hash. A clinician's account may be
    linked to their record in the provider network (``provider_id``), where
    licences are managed. The email is stored encrypted with the deterministic
    algorithm, so it stays unique and can still be looked up by equality.

    Lockout: ``failed_login_count`` counts failed sign-ins since the last
    success; at the configured threshold the account is locked until
    ``locked_until``. MFA: ``totp_secret`` is set when enrollment begins and
    ``mfa_enabled`` once a first code confirms it; ``totp_last_step`` is the time
    step of the last accepted code, so no code is accepted twice.
    """

    ID_NAME: ClassVar[str] = "user_id"
    PATIENT_FIELD: ClassVar[str | None] = None
    # Owners maintain their own account but cannot change their role or provider,
    # nor close or reopen it.
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.ACCOUNT,
        owner_field="_id",
        pinned_fields=("role", "provider_id"),
        admin_fields=("is_active",),
    )

    username: Username = Field(repr=False)
    email: Annotated[EmailAddress, Encrypted(EncryptionAlgorithm.DETERMINISTIC)] = (
        Field(repr=False)
    )
    role: UserRole
    provider_id: str | None = Field(default=None, pattern=ID_PATTERN)
    password_hash: PasswordHash = Field(repr=False)
    is_active: bool = True
    failed_login_count: int = Field(default=0, ge=0)
    locked_until: UtcDatetime | None = None
    last_login_at: UtcDatetime | None = None
    password_changed_at: UtcDatetime = Field(default_factory=utc_now)
    totp_secret: Annotated[str | None, Encrypted()] = Field(default=None, repr=False)
    mfa_enabled: bool = False
    totp_last_step: int | None = Field(default=None, ge=0)
    recovery_code_hashes: list[str] = Field(
        default_factory=list, repr=False, max_length=20
    )
    mfa_enrolled_at: UtcDatetime | None = None

    class Settings:
        name = "user_accounts"

    @property
    def user_id(self) -> str:
        """The platform's name for this account's id."""
        return self.id

    @property
    def recovery_codes_left(self) -> int:
        """How many unused recovery codes the account still has."""
        return len(self.recovery_code_hashes)

    @field_validator("provider_id")
    @classmethod
    def _provider_link_needs_a_clinician(
        cls, value: str | None, info: ValidationInfo
    ) -> str | None:
        if value is not None and info.data.get("role") not in CLINICIAN_ROLES:
            raise PydanticCustomError(
                "provider_link_role",
                "only a clinician's account can be linked to a provider record",
            )
        return value

    @field_validator("mfa_enabled")
    @classmethod
    def _mfa_needs_a_secret(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("totp_secret") is None:
            raise PydanticCustomError(
                "mfa_secret_required", "MFA cannot be enabled without a secret"
            )
        return value


ACCOUNT_MODELS: tuple[type[WellnessDocument], ...] = (UserAccount,)
"""The documents of this module, for the model registry."""
