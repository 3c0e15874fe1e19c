"""The synchronous facade: blocking calls over the async repositories.

Nothing is written twice: a ``SyncDatabaseManager`` runs the async manager on a
private event loop in its own thread (which also owns the client), and a
``BaseRepository`` forwards each call of its async repository to that loop,
carrying the caller's access context across.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, TypeVar

from wellness_repo.database.manager import DatabaseManager, HealthReport, connect
from wellness_repo.models.base import WellnessDocument
from wellness_repo.security.context import acting_as, peek_context

__all__ = ["BaseRepository", "SyncDatabaseManager", "connect_sync"]

R = TypeVar("R")
T = TypeVar("T", bound=WellnessDocument)


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="wellness-repo-loop", daemon=True
        )
        self._thread.start()

    def run(self, work: Callable[[], Awaitable[R]]) -> R:
        if threading.current_thread() is self._thread:
            raise RuntimeError("a blocking call was made from inside the event loop")
        context = peek_context()

        async def carried() -> R:
            if context is None:
                return await work()
            with acting_as(context):
                return await work()

        return asyncio.run_coroutine_threadsafe(carried(), self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class SyncDatabaseManager:
    """A blocking ``DatabaseManager`` for scripts and synchronous services.

    Create it with :func:`connect_sync`; close it with :meth:`close` or ``with``.
    The async manager stays reachable as ``.manager``.
    """

    def __init__(self, manager: DatabaseManager, runner: _LoopThread) -> None:
        self.manager = manager
        self._runner = runner

    def run(self, work: Callable[[], Coroutine[Any, Any, R]]) -> R:
        """Run an async callable on the manager's loop and wait for its result."""
        return self._runner.run(work)

    def health(self) -> HealthReport:
        """Ping the server and report version, backend, latency and capabilities."""
        return self._runner.run(self.manager.health)

    def close(self) -> None:
        """Close the client and stop the loop thread; safe to call twice."""
        if self._runner.loop.is_closed():
            return
        self._runner.run(self.manager.close)
        self._runner.stop()

    def __enter__(self) -> SyncDatabaseManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect_sync(*args: Any, **kwargs: Any) -> SyncDatabaseManager:
    """The blocking form of :func:`wellness_repo.connect`; same arguments."""
    runner = _LoopThread()
    try:
        manager = runner.run(lambda: connect(*args, **kwargs))
    except BaseException:
        runner.stop()
        raise
    return SyncDatabaseManager(manager, runner)


class BaseRepository(Generic[T]):
    """The blocking form of an async repository: every coroutine method of the
    async repository becomes a plain method with the same arguments.

    The async repository stays reachable as ``.aio``.
    """

    def __init__(self, repository: Any, db_manager: SyncDatabaseManager) -> None:
        self.aio = repository
        self._db = db_manager

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.aio, name)
        if not asyncio.iscoroutinefunction(attribute):
            return attribute

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._db.run(lambda: attribute(*args, **kwargs))

        blocking.__name__ = name
        blocking.__doc__ = attribute.__doc__
        return blocking

    def __repr__(self) -> str:
        return f"BaseRepository({type(self.aio).__name__})"
