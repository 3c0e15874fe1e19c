"""The errors a caller of wellness-repo can meet, and the one place driver errors
are translated into them.

Every error raised by the package derives from ``RepositoryError``::

    RepositoryError                  anything the data layer could not do
     +-- ValidationError             bad input: names the field and the rule broken
     +-- NotFoundError               no record with that id (or not visible)
     +-- DuplicateError              a unique rule would be broken (email, licence)
     |    +-- BookingConflictError  the provider or patient is already booked then
     +-- ConcurrencyError            the record changed since it was read
     +-- AccessDeniedError           the access context may not do this
     |    +-- SessionExpiredError   a login session is revoked, expired or idle
     |    +-- AuthenticationError   a sign-in or second factor was not accepted
     |         +-- AccountLockedError  too many failures: locked until a set time
     +-- BackendCapabilityError      the embedded backend cannot do this
     +-- DataErasedError             a patient's data key was erased (crypto-shredding)

Each error carries the entity name and the record id where there is one, and the
original exception as ``cause``, which is not chained as ``__cause__``: a driver's
own message can quote values. Nothing an error shows (``str``, ``repr``, its
traceback) ever carries a field *value*: messages end up in logs, and values may
be PHI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import errors as driver_errors

__all__ = [
    "AccessDeniedError",
    "AccountLockedError",
    "AuthenticationError",
    "BackendCapabilityError",
    "BookingConflictError",
    "ConcurrencyError",
    "DataErasedError",
    "DuplicateError",
    "NotFoundError",
    "RepositoryError",
    "SessionExpiredError",
    "ValidationError",
    "translate_driver_error",
]


class RepositoryError(Exception):
    """Base of every error the data layer raises.

    Args:
        message: what went wrong, without any field values.
        entity: the entity name, e.g. ``"MoodEntry"``.
        entity_id: the record's id, when the error concerns one record.
        cause: the underlying exception, kept so nothing is lost in translation.
            A driver's or pydantic's own message can quote document values, so
            it is not chained as ``__cause__`` (tracebacks and
            ``logger.exception`` leave it out); log ``cause`` itself only where
            such values may appear.
    """

    def __init__(
        self,
        message: str,
        *,
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.entity = entity
        self.entity_id = entity_id
        self.cause = cause

    def __str__(self) -> str:
        where = ""
        if self.entity is not None:
            where = self.entity
            if self.entity_id is not None:
                where += f" {self.entity_id}"
            where = f" [{where}]"
        return f"{self.message}{where}"


class ValidationError(RepositoryError, ValueError):
    """Input broke a rule; nothing was written.

    Args:
        field: the field (or filter key, or argument) at fault, dotted for nested
            paths, e.g. ``"goals.0.progress"``.
        rule: a short machine-readable name of the rule, e.g. ``"max_length"``.
        errors: every (field, rule, message) found, when more than one was.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        errors: list[tuple[str, str, str]] | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, entity=entity, entity_id=entity_id, cause=cause)
        self.field = field
        self.rule = rule
        self.errors = errors or ([(field or "", rule or "", message)] if field else [])

    def __str__(self) -> str:
        prefix = f"{self.field}: " if self.field else ""
        suffix = f" (rule: {self.rule})" if self.rule else ""
        return f"{prefix}{super().__str__()}{suffix}"


class NotFoundError(RepositoryError, LookupError):
    """No record with that id exists, or none is visible to the caller."""


class DuplicateError(RepositoryError):
    """The write would break a uniqueness rule.

    Args:
        key: the names of the fields under the unique index, never their values.
    """

    def __init__(
        self,
        message: str,
        *,
        key: tuple[str, ...] = (),
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, entity=entity, entity_id=entity_id, cause=cause)
        self.key = key


class BookingConflictError(DuplicateError):
    """An appointment would overlap one the provider (with their buffer) or the
    patient already holds; nothing was booked.

    Args:
        conflict: whose time is taken: ``"provider"`` or ``"patient"``.
    """

    def __init__(
        self,
        message: str,
        *,
        conflict: str,
        key: tuple[str, ...] = (),
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(
            message, key=key, entity=entity, entity_id=entity_id, cause=cause
        )
        self.conflict = conflict


class ConcurrencyError(RepositoryError):
    """The record changed after the caller read it; the stale write was refused.

    Args:
        expected_revision: the revision the caller based its change on.
    """

    def __init__(
        self,
        message: str,
        *,
        expected_revision: int | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, entity=entity, entity_id=entity_id, cause=cause)
        self.expected_revision = expected_revision


class AccessDeniedError(RepositoryError, PermissionError):
    """The current access context may not perform this operation."""


class AuthenticationError(AccessDeniedError):
    """A sign-in (password, one-time code or recovery code) was not accepted.

    The message is the same whether or not the account exists.
    """


class AccountLockedError(AuthenticationError):
    """The account is locked after repeated failed sign-ins.

    Args:
        locked_until: when the lock ends (UTC); sign-in is refused until then,
            even with the right password.
    """

    def __init__(
        self,
        message: str,
        *,
        locked_until: datetime,
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, entity=entity, entity_id=entity_id, cause=cause)
        self.locked_until = locked_until


class SessionExpiredError(AccessDeniedError):
    """A login session can no longer be used; the user must sign in again.

    Args:
        reason: ``"revoked"`` (signed out, or ended by a password change),
            ``"expired"`` (past its absolute lifetime), ``"idle"`` (unused for
            longer than the idle timeout) or ``"unknown"`` (the token matches no
            session: never issued, or removed long after it ended).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        entity: str | None = None,
        entity_id: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, entity=entity, entity_id=entity_id, cause=cause)
        self.reason = reason


class DataErasedError(RepositoryError):
    """The record's encrypted fields belong to a patient whose data key was erased
    (crypto-shredding): the ciphertext is still stored, but nobody can read it.

    ``entity`` and ``entity_id`` name the first such record met; other patients'
    records stay readable.
    """


class BackendCapabilityError(RepositoryError, NotImplementedError):
    """The backend in use lacks a capability this call needs.

    Args:
        capability: the missing capability, e.g. ``"$text search"``.
        backend: which backend lacks it; most often the embedded one.
    """

    def __init__(
        self,
        capability: str,
        *,
        backend: str = "the embedded backend",
        entity: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(
            f"{backend} cannot do {capability}; use a MongoDB replica set for this",
            entity=entity,
            cause=cause,
        )
        self.capability = capability
        self.backend = backend


def _duplicate_key_fields(details: Any) -> tuple[str, ...]:
    pattern = details.get("keyPattern") if isinstance(details, dict) else None
    if isinstance(pattern, dict):
        return tuple(str(name) for name in pattern)
    return ()


def _first_duplicate(exc: driver_errors.BulkWriteError) -> dict[str, Any] | None:
    details: Any = exc.details or {}
    for write_error in details.get("writeErrors", []):
        if write_error.get("code") == 11000:
            return dict(write_error)
    return None


def _duplicate(
    details: Any, exc: BaseException, entity: str, entity_id: str | None
) -> DuplicateError:
    fields = _duplicate_key_fields(details)
    named = ", ".join(fields) if fields else "unique key"
    return DuplicateError(
        f"a record with the same {named} already exists",
        key=fields,
        entity=entity,
        entity_id=entity_id,
        cause=exc,
    )


def translate_driver_error(
    exc: BaseException,
    *,
    entity: str,
    entity_id: str | None = None,
) -> RepositoryError:
    """Turn a driver (or mongomock) exception into the package's own error.

    This is the only place driver errors are interpreted. The message names the
    kind of failure and the entity; the driver's own message, which can echo
    document values, stays on ``cause`` and out of ``str(error)``.
    """
    if isinstance(exc, RepositoryError):
        return exc
    if isinstance(exc, NotImplementedError):
        # mongomock's way of saying the embedded backend lacks a feature; its
        # messages name the feature, never a document value.
        detail = str(exc).split("\n")[0] or type(exc).__name__
        return BackendCapabilityError(
            f"this operation ({detail})", entity=entity, cause=exc
        )
    if isinstance(exc, driver_errors.DuplicateKeyError) or _is_mock_duplicate(exc):
        return _duplicate(getattr(exc, "details", None), exc, entity, entity_id)
    if isinstance(exc, driver_errors.BulkWriteError):
        duplicate = _first_duplicate(exc)
        if duplicate is not None:
            return _duplicate(duplicate, exc, entity, entity_id)
    if isinstance(exc, driver_errors.PyMongoError) and exc.has_error_label(
        "TransientTransactionError"
    ):
        # A transaction cut off by a failover or an outage is as safe to run
        # again as one that lost a race; the message says which happened.
        reason = (
            "the database could not be reached"
            if isinstance(exc, driver_errors.ConnectionFailure)
            else "the transaction conflicted with another write"
        )
        return ConcurrencyError(
            f"{reason} and the transaction was aborted; run it again",
            entity=entity,
            entity_id=entity_id,
            cause=exc,
        )
    if isinstance(exc, driver_errors.OperationFailure) and exc.code == 121:
        return ValidationError(
            "the server's schema validation rejected the document",
            rule="server_schema",
            entity=entity,
            entity_id=entity_id,
            cause=exc,
        )
    if isinstance(exc, driver_errors.ConnectionFailure | driver_errors.AutoReconnect):
        return RepositoryError(
            "the database could not be reached; the operation may not have run",
            entity=entity,
            entity_id=entity_id,
            cause=exc,
        )
    if isinstance(exc, driver_errors.PyMongoError):
        code = getattr(exc, "code", None)
        label = f" (server code {code})" if code is not None else ""
        return RepositoryError(
            f"the database refused the operation{label}",
            entity=entity,
            entity_id=entity_id,
            cause=exc,
        )
    return RepositoryError(
        f"unexpected failure: {type(exc).__name__}",
        entity=entity,
        entity_id=entity_id,
        cause=exc,
    )


def _is_mock_duplicate(exc: BaseException) -> bool:
    # mongomock raises its own DuplicateKeyError, not pymongo's subclass.
    return type(exc).__name__ == "DuplicateKeyError"
