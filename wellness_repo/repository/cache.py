"""``cache_result``: short-lived caching of a repository's read methods.

A cached answer is served only to the same actor, in the same role and for the
same purpose, and only while no write has reached the repository's collection
through this process since the answer was read. Writes from other processes are
not seen: the time-to-live bounds how stale an answer can be.

Serving an answer discloses the records again, so the audit trail gets the
caller's read events of the call that produced it once more, under the caller's
current context (an emergency grant's reason included) and the current time.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.database.transactions import in_transaction
from wellness_repo.models.types import utc_now
from wellness_repo.security.audit import AccessEvent, collecting_events, record_event
from wellness_repo.security.context import AccessContext
from wellness_repo.security.policy import Operation

__all__ = ["cache_result"]

P = ParamSpec("P")
R = TypeVar("R")
_MAX_ENTRIES = 1024


class _CachingRepository(Protocol):
    db: DatabaseManager
    _collection_name: str

    def _context(self) -> AccessContext: ...


Method = Callable[Concatenate[Any, P], Awaitable[R]]


def cache_result(ttl: float = 300.0) -> Callable[[Method[P, R]], Method[P, R]]:
    """Cache an async read method of a repository for ``ttl`` seconds.

    Arguments must be hashable (otherwise the call simply is not cached).
    Callers get a copy of the cached value, so changing it changes nothing else.
    """
    if ttl <= 0:
        raise ValueError("ttl must be positive")

    def decorate(method: Method[P, R]) -> Method[P, R]:
        @functools.wraps(method)
        async def cached(
            self: _CachingRepository, *args: P.args, **kwargs: P.kwargs
        ) -> R:
            # The repository's own check: no context, or an expired grant, is
            # refused here exactly as an uncached call would be.
            context = self._context()
            if in_transaction():
                # Inside a transaction a read may see writes that are later
                # rolled back: never serve it from, or keep it in, the cache.
                return await method(self, *args, **kwargs)
            caller = _identity(context)
            try:
                key = (
                    method.__name__,
                    caller,
                    args,
                    frozenset(kwargs.items()),
                )
                hash(key)
            except TypeError:
                return await method(self, *args, **kwargs)
            store: dict[Any, _Entry] = self.__dict__.setdefault("_result_cache", {})
            # A cached answer also goes stale when the caller's reach changes
            # (a relationship ended, a care team closed).
            generation = (
                self.db.write_generation(self._collection_name),
                _access_version(self.db.policy, context),
            )
            hit = store.get(key)
            now = time.monotonic()
            if hit is not None and hit.expires > now and hit.generation == generation:
                await _audit_again(self.db, hit.events, context)
                return copy.deepcopy(hit.value)  # type: ignore[no-any-return]
            with collecting_events() as events:
                value = await method(self, *args, **kwargs)
            if len(store) >= _MAX_ENTRIES:
                store.clear()
            # What serving the answer again discloses: the caller's own reads.
            # A step the method ran under another context (a system lookup) or
            # a write it made does not happen again.
            reads = tuple(
                event
                for event in events
                if event.operation is Operation.READ
                and _identity(event.context) == caller
            )
            store[key] = _Entry(now + ttl, generation, value, reads)
            return copy.deepcopy(value)

        return cached  # type: ignore[return-value]

    return decorate


@dataclasses.dataclass(frozen=True, slots=True)
class _Entry:
    expires: float
    generation: Any
    value: Any
    events: tuple[AccessEvent, ...]


async def _audit_again(
    db: DatabaseManager, events: tuple[AccessEvent, ...], context: AccessContext
) -> None:
    at = utc_now()
    for event in events:
        await record_event(
            db.auditor, dataclasses.replace(event, context=context, at=at)
        )


def _identity(context: AccessContext) -> tuple[str, str, str]:
    return (context.actor_id, context.role.value, context.purpose.value)


def _access_version(policy: object, context: AccessContext) -> Any:
    version = getattr(policy, "access_version", None)
    return version(context) if version is not None else None
