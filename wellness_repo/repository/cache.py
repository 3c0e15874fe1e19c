"""``cache_result``: short-lived caching of a repository's read methods.

A cached answer is served only to the same actor, in the same role and for the
same purpose, and only while no write has reached the repository's collection
through this process since the answer was read. Writes from other processes are
not seen: the time-to-live bounds how stale an answer can be.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.database.transactions import in_transaction
from wellness_repo.security.context import AccessContext

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
            try:
                key = (
                    method.__name__,
                    _identity(context),
                    args,
                    frozenset(kwargs.items()),
                )
                hash(key)
            except TypeError:
                return await method(self, *args, **kwargs)
            store: dict[Any, tuple[float, Any, Any]] = self.__dict__.setdefault(
                "_result_cache", {}
            )
            # A cached answer also goes stale when the caller's reach changes
            # (a relationship ended, a care team closed).
            generation = (
                self.db.write_generation(self._collection_name),
                _access_version(self.db.policy, context),
            )
            hit = store.get(key)
            now = time.monotonic()
            if hit is not None and hit[0] > now and hit[1] == generation:
                return copy.deepcopy(hit[2])  # type: ignore[no-any-return]
            value = await method(self, *args, **kwargs)
            if len(store) >= _MAX_ENTRIES:
                store.clear()
            store[key] = (now + ttl, generation, value)
            return copy.deepcopy(value)

        return cached  # type: ignore[return-value]

    return decorate


def _identity(context: AccessContext) -> tuple[str, str, str]:
    return (context.actor_id, context.role.value, context.purpose.value)


def _access_version(policy: object, context: AccessContext) -> Any:
    version = getattr(policy, "access_version", None)
    return version(context) if version is not None else None
