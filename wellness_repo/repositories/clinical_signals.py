"""The queue of clinical signals: requests for crisis follow-up that a therapy
session at high or imminent risk raises (``TherapySessionRepository``), which crisis
workers claim one at a time and turn into crisis detections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NoReturn

from wellness_repo.errors import ValidationError
from wellness_repo.models.sessions import (
    ClinicalSignal,
    SignalSource,
    SignalStatus,
)
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id, revalidated

__all__ = ["ClinicalSignalRepository"]

# The status each workflow step starts from.
_WORKFLOW_STEPS = {
    SignalStatus.CLAIMED: SignalStatus.PENDING,
    SignalStatus.PROCESSED: SignalStatus.CLAIMED,
}


class ClinicalSignalRepository(AsyncBaseRepository[ClinicalSignal]):
    """The queue of clinical signals awaiting crisis follow-up.

    A signal moves pending -> claimed (by exactly one worker) -> processed (into
    a crisis detection). Signals are never deleted and never rewritten wholesale:
    only the workflow methods here change them.
    """

    model = ClinicalSignal

    async def create(self, entity: ClinicalSignal) -> ClinicalSignal:
        """Raise a signal (its derived ``urgency`` recomputed first)."""
        self._check_type(entity)
        return await super().create(revalidated(entity))

    async def create_many(
        self, entities: Sequence[ClinicalSignal]
    ) -> list[ClinicalSignal]:
        """Raise several signals in one round trip."""
        for entity in entities:
            self._check_type(entity)
        return await super().create_many([revalidated(e) for e in entities])

    async def update(self, entity: ClinicalSignal) -> NoReturn:
        """Refused: a signal changes only by being claimed, released or
        processed, so no edit can take a crisis out of the queue."""
        raise ValidationError(
            "a clinical signal changes only through claim, release and processing",
            field="status",
            rule="managed_by_workflow",
            entity=self._entity,
            entity_id=printable_id(getattr(entity, "id", None)),
        )

    async def delete(self, entity_id: str) -> NoReturn:
        """Refused: a signal is a durable record of a crisis assessment."""
        raise ValidationError(
            "clinical signals are never deleted; process them instead",
            field="id",
            rule="never_deleted",
            entity=self._entity,
            entity_id=printable_id(entity_id),
        )

    async def pending_signals(self, limit: int = 50) -> list[ClinicalSignal]:
        """Signals awaiting a crisis worker, most urgent first, then oldest."""
        page = await self.list_all(
            QueryOptions(
                filters={"status": SignalStatus.PENDING},
                order_by=["-urgency", "raised_at"],
                limit=limit,
            )
        )
        return page.items

    async def signals_for_session(self, session_id: str) -> list[ClinicalSignal]:
        """Every signal one therapy session raised, in the order it raised them."""
        page = await self.list_all(
            QueryOptions(
                filters={
                    "source": SignalSource.SESSION,
                    "source_id": checked_id(session_id, field="session_id"),
                },
                order_by=["source_revision"],
            )
        )
        return page.items

    async def claim_signal(self, signal_id: str, worker: str) -> ClinicalSignal:
        """Take a pending signal for processing; of racing workers exactly one wins.

        Raises:
            ValidationError: the signal is no longer pending (rule
                ``invalid_transition``): another worker has it or it is done.
            NotFoundError: no such signal.
        """
        changes = {
            "claimed_by": checked_id(worker, field="worker"),
            "claimed_at": utc_now(),
        }
        claimed = await self._move(signal_id, SignalStatus.CLAIMED, changes, {})
        self.logger.info("clinical signal %s claimed by %s", signal_id, worker)
        return claimed

    async def mark_signal_processed(
        self, signal_id: str, detection_id: str, *, worker: str | None = None
    ) -> ClinicalSignal:
        """Record that a claimed signal became the crisis detection ``detection_id``.

        Args:
            worker: if given, only this worker's claim may be completed, so a
                worker whose stalled claim was released cannot finish it late.

        Raises:
            ValidationError: the signal is not claimed (by ``worker``).
            NotFoundError: no such signal.
        """
        changes = {
            "processed_at": utc_now(),
            "detection_id": checked_id(detection_id, field="detection_id"),
        }
        guard = (
            {} if worker is None else {"claimed_by": checked_id(worker, field="worker")}
        )
        processed = await self._move(signal_id, SignalStatus.PROCESSED, changes, guard)
        self.logger.info(
            "clinical signal %s processed into detection %s", signal_id, detection_id
        )
        return processed

    async def release_stalled_claims(self, older_than: timedelta) -> int:
        """Return to the queue signals claimed longer ago than ``older_than``, so a
        crashed worker cannot strand a crisis; returns how many were released.

        Releases at most one page of claims per call.
        """
        if not isinstance(older_than, timedelta) or older_than <= timedelta(0):
            raise ValidationError(
                "older_than must be a positive timedelta",
                field="older_than",
                rule="positive_duration",
                entity=self._entity,
            )
        cutoff = utc_now() - older_than
        stalled = await self.list_all(
            QueryOptions(
                filters={"status": SignalStatus.CLAIMED, "claimed_at__lt": cutoff},
                order_by=["claimed_at"],
            )
        )
        released = 0
        for signal in stalled:
            # Guarded on the very claim seen: a claim completed meanwhile stays.
            claim = {"claimed_by": signal.claimed_by, "claimed_at": signal.claimed_at}
            released_claim = {
                "status": SignalStatus.PENDING.value,
                **dict.fromkeys(claim),
            }
            back = await self._atomic_update(
                signal.id,
                {"$set": released_claim},
                guard={"status": SignalStatus.CLAIMED.value, **claim},
                changed=("status", *claim),
            )
            if back is not None:
                released += 1
        self.logger.info("released %d stalled clinical signal claims", released)
        return released

    async def _move(
        self,
        signal_id: str,
        target: SignalStatus,
        changes: dict[str, Any],
        guard: dict[str, Any],
    ) -> ClinicalSignal:
        """One step of pending -> claimed -> processed, atomic and guarded on the
        status it starts from, so two racing steps cannot both apply."""
        source = _WORKFLOW_STEPS[target]
        moved = await self._atomic_update(
            signal_id,
            {"$set": {"status": target.value, **changes}},
            guard={"status": source.value, **guard},
            changed=("status", *changes),
        )
        if moved is None:
            current = await self.get(signal_id)
            raise ValidationError(
                f"a {current.status.value} signal cannot become {target.value}",
                field="status",
                rule="invalid_transition",
                entity=self._entity,
                entity_id=signal_id,
            )
        return moved
