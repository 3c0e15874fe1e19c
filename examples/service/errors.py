"""The one place the package's errors become HTTP responses.

======================================  ======  ==================================
error                                   status  body adds
======================================  ======  ==================================
``ValidationError`` (and bad bodies)    422     ``field``, ``rule``, ``errors``
``NotFoundError``                       404     ``entity``, ``entity_id``
``DuplicateError``                      409     ``key`` (field names, no values)
``BookingConflictError``                409     ``conflict``: provider or patient
``ConcurrencyError``                    409     the record kept changing
``ConcurrencyError`` after ``If-Match`` 412     ``expected_revision``
``AccessDeniedError``                   403
no token, bad token, ended session      401     ``WWW-Authenticate: Bearer``
``AccountLockedError``                  423     ``locked_until``
``DataErasedError``                     410
``BackendCapabilityError``              501     ``capability``
database unreachable                    503
any other ``RepositoryError``           500
======================================  ======  ==================================

Messages come from the package, which never puts a field value in one; bodies
that failed validation are not echoed back, and log lines carry the error's
kind, entity and id only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pymongo import errors as driver_errors

from wellness_repo import (
    AccessDeniedError,
    AccountLockedError,
    AuthenticationError,
    BackendCapabilityError,
    BookingConflictError,
    ConcurrencyError,
    DataErasedError,
    DuplicateError,
    NotFoundError,
    RepositoryError,
    SessionExpiredError,
    ValidationError,
)

__all__ = ["NotSignedInError", "install_error_handlers", "validated"]

_log = logging.getLogger("wellness_service.errors")
_M = TypeVar("_M", bound=BaseModel)
_BEARER = {"WWW-Authenticate": "Bearer"}


class NotSignedInError(AccessDeniedError):
    """The request carries no bearer token, or one that is not ours.

    Args:
        rule: ``"missing_token"``, ``"invalid_token"``, ``"inactive_account"``
            or ``"mfa_required"``.
    """

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def validated(model: type[_M], values: Mapping[str, Any], *, entity: str) -> _M:
    """Build one of the package's records from request values, turning pydantic's
    complaint into the package's ``ValidationError`` (every field and rule, no
    input values)."""
    try:
        return model.model_validate(dict(values))
    except PydanticValidationError as exc:
        problems = _problems(exc.errors(include_url=False, include_input=False))
        # Stored ids are "_id"; the client knows the id by the platform's name.
        id_name = str(getattr(model, "ID_NAME", "id"))
        problems = [
            (id_name if field == "_id" else field, rule, message)
            for field, rule, message in problems
        ]
        field, rule, message = problems[0]
        raise ValidationError(
            message, field=field, rule=rule, errors=problems, entity=entity
        ) from None


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValidationError, _invalid)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(DuplicateError, _duplicate)
    app.add_exception_handler(BookingConflictError, _booking_conflict)
    app.add_exception_handler(ConcurrencyError, _conflict)
    app.add_exception_handler(AccessDeniedError, _denied)
    app.add_exception_handler(NotSignedInError, _not_signed_in)
    app.add_exception_handler(SessionExpiredError, _session_ended)
    app.add_exception_handler(AuthenticationError, _sign_in_refused)
    app.add_exception_handler(AccountLockedError, _locked)
    app.add_exception_handler(DataErasedError, _erased)
    app.add_exception_handler(BackendCapabilityError, _incapable)
    app.add_exception_handler(RepositoryError, _failed)


def _problems(errors: Sequence[Any]) -> list[tuple[str, str, str]]:
    problems = []
    for error in errors:
        field = ".".join(str(step) for step in error.get("loc", ()))
        problems.append((field or "body", str(error["type"]), str(error["msg"])))
    return problems or [("body", "invalid", "the request is not valid")]


def _body(
    status: int,
    kind: str,
    exc: RepositoryError,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    content: dict[str, Any] = {"error": kind, "message": exc.message}
    if exc.entity is not None:
        content["entity"] = exc.entity
    if exc.entity_id is not None:
        content["entity_id"] = exc.entity_id
    content.update(extra)
    level = logging.WARNING if status >= 500 else logging.INFO
    _log.log(
        level,
        "answered %d %s (%s %s)",
        status,
        kind,
        exc.entity or "-",
        exc.entity_id or "-",
    )
    return JSONResponse(content, status_code=status, headers=dict(headers or {}))


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = _problems(exc.errors())
    # FastAPI locates body errors as ("body", "mood_rating"); the field is the rest.
    problems = [
        (field.removeprefix("body.").removeprefix("query."), rule, message)
        for field, rule, message in problems
    ]
    field, rule, message = problems[0]
    error = ValidationError(message, field=field, rule=rule, errors=problems)
    return await _invalid(request, error)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    errors = [
        {"field": field, "rule": rule, "message": message}
        for field, rule, message in exc.errors
    ]
    return _body(
        422, "validation_error", exc, field=exc.field, rule=exc.rule, errors=errors
    )


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFoundError)
    return _body(404, "not_found", exc)


async def _duplicate(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DuplicateError)
    return _body(409, "duplicate", exc, key=list(exc.key))


async def _booking_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BookingConflictError)
    return _body(409, "booking_conflict", exc, conflict=exc.conflict)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConcurrencyError)
    if exc.expected_revision is not None:
        return _body(
            412,
            "precondition_failed",
            exc,
            expected_revision=exc.expected_revision,
        )
    return _body(409, "conflict", exc)


async def _denied(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccessDeniedError)
    return _body(403, "access_denied", exc)


async def _not_signed_in(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotSignedInError)
    return _body(401, "not_signed_in", exc, _BEARER, rule=exc.rule)


async def _session_ended(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SessionExpiredError)
    return _body(401, "session_ended", exc, _BEARER, rule=exc.reason)


async def _sign_in_refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationError)
    return _body(401, "sign_in_refused", exc, _BEARER)


async def _locked(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccountLockedError)
    until = exc.locked_until.isoformat()
    return _body(423, "account_locked", exc, locked_until=until)


async def _erased(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DataErasedError)
    return _body(410, "data_erased", exc)


async def _incapable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BackendCapabilityError)
    return _body(501, "backend_capability", exc, capability=exc.capability)


async def _failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RepositoryError)
    unreachable = (driver_errors.ConnectionFailure, driver_errors.AutoReconnect)
    if isinstance(exc.cause, unreachable):
        return _body(503, "database_unavailable", exc)
    return _body(500, "repository_error", exc)
