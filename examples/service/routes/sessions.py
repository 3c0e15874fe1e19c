"""Signing in and out: a bearer token for an email and password, and ending the
session it belongs to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, SecretStr

from wellness_repo import SessionEndReason, acting_as

from ..auth import SignedIn, signed_in
from ..errors import NotSignedInError
from ..state import ServiceState, service_state

__all__ = ["SignInRequest", "router"]

router = APIRouter(prefix="/sessions", tags=["sessions"])
State = Annotated[ServiceState, Depends(service_state)]


class SignInRequest(BaseModel):
    """An email and password. The password is kept secret in reprs and never
    echoed back, even when the request is refused."""

    model_config = ConfigDict(extra="forbid")

    email: str
    password: SecretStr


@router.post("", status_code=status.HTTP_201_CREATED)
async def sign_in(
    body: SignInRequest, request: Request, state: State
) -> dict[str, Any]:
    """Check the password and open a login session; the token in the answer is
    shown once and goes in ``Authorization: Bearer <token>`` from then on.

    Accounts with a second factor are refused here (401, rule
    ``mfa_required``): this example does not take one-time codes.
    """
    address = request.client.host if request.client else None
    with acting_as(state.system):
        result = await state.accounts.authenticate_user(
            body.email, body.password.get_secret_value(), ip_address=address
        )
        if result.mfa_required:
            raise NotSignedInError(
                "this account needs its second factor, which this example does "
                "not take",
                rule="mfa_required",
            )
        session, token = await state.sessions.create_session(
            result.user_id, ip_address=address
        )
    return {
        "token": token,
        "token_type": "bearer",
        "session_id": session.session_id,
        "user_id": result.user_id,
        "expires_at": session.expires_at,
    }


@router.delete("/current", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(
    caller: Annotated[SignedIn, Depends(signed_in)], state: State
) -> None:
    """End the session the request's token belongs to."""
    with acting_as(caller.context):
        await state.sessions.revoke_session(
            caller.session.session_id, SessionEndReason.LOGOUT
        )
