"""Who is calling: the access context of each request, from its bearer token.

A token is one the package's login sessions handed out at sign-in
(``POST /sessions``). Each request checks it with ``validate_session``, which
refuses a revoked, expired or idle session and slides the idle deadline; the
account behind it gives the context (``context_for_account``): a patient acts as
their patient id, a clinician as their provider id, under the role policy.

The check itself runs under the service's system context, since nobody is known
until it succeeds; the request's own work runs under the caller's context,
which routes enter with ``acting_as(caller)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    UserSession,
    ValidationError,
    acting_as,
    context_for_account,
)

from .errors import NotSignedInError
from .state import ServiceState, service_state

__all__ = ["Caller", "SignedIn", "current_caller", "signed_in"]

_log = logging.getLogger("wellness_service.auth")
_bearer = HTTPBearer(auto_error=False, description="a token from POST /sessions")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A checked request: the caller's context and the session it came with."""

    context: AccessContext
    session: UserSession


async def signed_in(
    state: Annotated[ServiceState, Depends(service_state)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SignedIn:
    """The signed-in caller of this request.

    Raises:
        NotSignedInError: no bearer token, a malformed one, or an inactive
            account.
        AccessDeniedError: the account cannot act on records (a clinician's
            account without its provider record).
        SessionExpiredError: the session was revoked, expired or idle, or the
            token matches no session.
    """
    if credentials is None or not credentials.credentials:
        raise NotSignedInError(
            "sign in and send the bearer token", rule="missing_token"
        )
    with acting_as(state.system):
        try:
            session = await state.sessions.validate_session(credentials.credentials)
        except ValidationError:
            raise NotSignedInError(
                "the bearer token is not one this service issued",
                rule="invalid_token",
            ) from None
        account = await state.accounts.get_by_id(session.user_id)
    if account is None or not account.is_active:
        raise NotSignedInError("the account is not active", rule="inactive_account")
    try:
        context = context_for_account(account)
    except ValidationError:
        # A clinician's account without its provider record cannot act on
        # patients' records; that is the account's set-up, not the request.
        _log.warning("account %s has no usable access context", account.id)
        raise AccessDeniedError(
            "this account cannot act on patients' records", entity="UserAccount"
        ) from None
    return SignedIn(context, session)


async def current_caller(
    caller: Annotated[SignedIn, Depends(signed_in)],
) -> AccessContext:
    """The access context the request's repository calls run under."""
    return caller.context


Caller = Annotated[AccessContext, Depends(current_caller)]
"""A route parameter of this type is the signed-in caller's access context."""
