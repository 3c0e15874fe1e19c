"""Bursts of failed sign-ins: accounts, or client addresses, with many failed
attempts in a window, the trace password guessing and credential stuffing leave.

Plain functions over plain values (DESIGN.md rule 2). The security-event
repository finds the same bursts with an aggregation in the database; the tests
check it against :func:`find_login_bursts` over the same events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, NamedTuple, Protocol

from wellness_repo.errors import ValidationError

__all__ = [
    "BURST_KEYS",
    "FAILED_SIGN_IN_TYPES",
    "BurstKey",
    "LoginBurst",
    "SignInRecord",
    "find_login_bursts",
    "is_failed_sign_in",
]

FAILED_SIGN_IN_TYPES: tuple[str, ...] = (
    "login_attempt",
    "login_failure",
    "mfa_failure",
    "recovery_code_used",
)
"""Event types that count as a failed sign-in when they did not succeed: a wrong
password, a wrong one-time code and a wrong recovery code are all guesses."""

BurstKey = Literal["user_id", "ip_address"]
BURST_KEYS: tuple[BurstKey, ...] = ("user_id", "ip_address")
"""What failures are grouped by: the account attacked, or the address attacking."""


class LoginBurst(NamedTuple):
    """Failed sign-ins of one account (or from one address) since a moment."""

    key: str
    """The account id or IP address the failures share."""
    failures: int
    """How many failed sign-ins (named so as not to hide ``tuple.count``)."""
    first_at: datetime
    last_at: datetime


class SignInRecord(Protocol):
    """What burst detection reads of a security event."""

    @property
    def user_id(self) -> str | None:
        """The account, if one matched."""
        ...

    @property
    def ip_address(self) -> str | None:
        """The client's address, if known."""
        ...

    @property
    def event_type(self) -> str:
        """What happened, as a ``SecurityEventType`` value."""
        ...

    @property
    def success(self) -> bool:
        """Whether it succeeded."""
        ...

    @property
    def occurred_at(self) -> datetime:
        """When it happened (UTC)."""
        ...


def is_failed_sign_in(event_type: str, success: bool) -> bool:
    """Whether an event is a failed attempt to sign in (password or second factor)."""
    return not success and event_type in FAILED_SIGN_IN_TYPES


def find_login_bursts(
    events: Iterable[SignInRecord],
    *,
    since: datetime,
    threshold: int,
    by: BurstKey = "user_id",
) -> list[LoginBurst]:
    """Keys with at least ``threshold`` failed sign-ins at or after ``since``.

    Events without the key (no account matched, no address known) are left out.
    The busiest key comes first; ties go to the most recent burst, then the key.

    Raises:
        ValidationError: ``threshold`` below 1, or ``by`` not a burst key.
    """
    if by not in BURST_KEYS:
        raise ValidationError(
            "bursts are grouped by user_id or ip_address", field="by", rule="choice"
        )
    if threshold < 1:
        raise ValidationError(
            "threshold must be at least 1", field="threshold", rule="minimum"
        )
    found: dict[str, list[datetime]] = {}
    for event in events:
        key = event.user_id if by == "user_id" else event.ip_address
        if key is None or event.occurred_at < since:
            continue
        if is_failed_sign_in(event.event_type, event.success):
            found.setdefault(key, []).append(event.occurred_at)
    bursts = [
        LoginBurst(key, len(times), min(times), max(times))
        for key, times in found.items()
        if len(times) >= threshold
    ]
    bursts.sort(key=lambda burst: burst.key)
    bursts.sort(key=lambda burst: (burst.failures, burst.last_at), reverse=True)
    return bursts
