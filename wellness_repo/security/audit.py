"""The audit stage of the pipeline: every read and write is reported here, by ids,
counts and query shape, never by value."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from wellness_repo.models.types import utc_now
from wellness_repo.security.context import AccessContext
from wellness_repo.security.policy import Operation

__all__ = [
    "AccessEvent",
    "Auditor",
    "LoggingAuditor",
    "collecting_events",
    "record_event",
]

_collected: ContextVar[list[AccessEvent] | None] = ContextVar(
    "wellness_collected_access_events", default=None
)


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One repository call as the audit trail records it.

    Args:
        entity: the kind of record, e.g. ``"MoodEntry"``.
        operation: read, create, update or delete.
        context: who acted, in which role, for which purpose.
        record_ids: the ids returned or written.
        query_shape: the filter with its values replaced by type names.
        outcome: ``"ok"``, ``"denied"`` or ``"failed"``.
        changed_fields: for updates, the names (not values) of changed fields.
        patient_ids: the patients whose records the call touched, for the
            accounting of disclosures.
    """

    entity: str
    operation: Operation
    context: AccessContext
    record_ids: tuple[str, ...] = ()
    query_shape: str | None = None
    outcome: str = "ok"
    changed_fields: tuple[str, ...] = ()
    patient_ids: tuple[str, ...] = ()
    at: datetime = field(default_factory=utc_now)


class Auditor(Protocol):
    """Receives every access event the repositories produce."""

    async def record(self, event: AccessEvent) -> None:
        """Keep ``event``.

        Raises:
            RepositoryError: the event could not be kept. The repository call
                fails with it: an access that cannot be audited does not succeed.
        """
        ...


class LoggingAuditor:
    """Writes access events to the ``wellness_repo.audit`` logger at DEBUG.

    The tamper-evident audit collection replaces it as the default; this one stays
    useful where a deployment ships its logs to a SIEM.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("wellness_repo.audit")

    async def record(self, event: AccessEvent) -> None:
        if not self._logger.isEnabledFor(logging.DEBUG):
            return
        self._logger.debug(
            "%s %s by %s (%s, %s): %d record(s), outcome %s",
            event.operation.value,
            event.entity,
            event.context.actor_id,
            event.context.role.value,
            event.context.purpose.value,
            len(event.record_ids),
            event.outcome,
        )


async def record_event(auditor: Auditor, event: AccessEvent) -> None:
    """Give ``event`` to ``auditor``, and to the collection the call runs in."""
    await auditor.record(event)
    collected = _collected.get()
    if collected is not None:
        collected.append(event)


@contextmanager
def collecting_events() -> Iterator[list[AccessEvent]]:
    """Collect the access events recorded inside the block, in order.

    A cached read keeps them with its answer, to record them again each time the
    answer is served. Collections nest: an outer one receives the inner one's
    events too.
    """
    outer = _collected.get()
    events: list[AccessEvent] = []
    token = _collected.set(events)
    try:
        yield events
    finally:
        _collected.reset(token)
        if outer is not None:
            outer.extend(events)
