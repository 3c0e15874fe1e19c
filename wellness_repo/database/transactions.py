"""The session the current task's writes belong to, when they run in a transaction.

Repositories read it from here instead of taking a ``session`` argument on every
method, so code inside ``async with db.transaction():`` needs no change.
"""

from __future__ import annotations

import contextvars
from typing import Any

__all__ = ["current_session", "in_transaction"]

_session: contextvars.ContextVar[Any | None] = contextvars.ContextVar(
    "wellness_repo_session", default=None
)
# The embedded backend has no sessions; this marks its transaction blocks instead.
_embedded_block: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "wellness_repo_embedded_transaction", default=False
)


def in_transaction() -> bool:
    """Whether the current task runs inside a ``transaction()`` block."""
    return _session.get() is not None or _embedded_block.get()


def mark_embedded_block() -> contextvars.Token[bool]:
    """Note that an embedded transaction block has begun in this task."""
    return _embedded_block.set(True)


def unmark_embedded_block(token: contextvars.Token[bool]) -> None:
    """Note that the embedded transaction block has ended."""
    _embedded_block.reset(token)


def current_session() -> Any | None:
    """The driver session of the enclosing transaction, or ``None`` outside one."""
    return _session.get()


def bind_session(session: Any | None) -> contextvars.Token[Any | None]:
    """Make ``session`` the current one; returns the token to undo it."""
    return _session.set(session)


def unbind_session(token: contextvars.Token[Any | None]) -> None:
    """Restore the session that was current before ``bind_session``."""
    _session.reset(token)
