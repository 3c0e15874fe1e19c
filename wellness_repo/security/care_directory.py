"""Which patients each clinician is caring for now: the lookup behind the role
policy's "in care" reach.

A clinician cares for a patient while they hold an active (or paused) therapeutic
relationship with them as therapist, or serve on the patient's active care team
(as an active member or as its primary provider). Ended, pending and deleted
relationships, closed or deleted teams, and memberships that ended grant nothing.

The lookup reads the two collections directly, under the pipeline (it is part of
the pipeline), and keeps each clinician's answer in a per-process cache:

- a write through this process to either collection (``DatabaseManager
  .write_generation``) invalidates every cached answer at once, so revoking a
  relationship or a membership here takes effect on the very next call;
- writes by other processes are seen once an answer is older than
  ``Settings.access_cache_seconds`` (30 s by default): that is the staleness
  bound for revocations made elsewhere; 0 turns the cache off;
- answers read inside a transaction are neither cached nor served from the cache,
  since the transaction may still be rolled back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wellness_repo.database.transactions import current_session, in_transaction
from wellness_repo.errors import RepositoryError, translate_driver_error
from wellness_repo.models.care import CareTeam, CareTeamStatus
from wellness_repo.models.clinical import RelationshipStatus, TherapeuticRelationship

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = ["CARING_RELATIONSHIP_STATUSES", "CareDirectory"]

CARING_RELATIONSHIP_STATUSES = (RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED)
"""Relationship statuses under which the therapist is caring for the patient. A
paused relationship (a hospital stay, a leave) is still the therapist's case;
pending means therapy has not begun, ended means it is over."""

_log = logging.getLogger("wellness_repo.security")
# Distinct clinicians remembered at once; beyond it the oldest answer goes.
_MAX_ENTRIES = 4_096


@dataclass(frozen=True, slots=True)
class _Answer:
    patients: frozenset[str]
    generation: tuple[Any, ...]
    fresh_until: float


class CareDirectory:
    """Answers "whose records may this clinician reach?" for the role policy.

    Args:
        ttl_seconds: how long an answer is reused; defaults to
            ``Settings.access_cache_seconds`` of the database it is attached to.
        clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds is not None and ttl_seconds < 0:
            raise ValueError("ttl_seconds cannot be negative")
        self._ttl = ttl_seconds
        self._clock = clock
        self._db: DatabaseManager | None = None
        self._answers: dict[str, _Answer] = {}
        self.lookups = 0
        """How many times the collections were read (for tests and metrics)."""

    async def attach(self, db: DatabaseManager) -> None:
        """Bind to the database whose relationships and care teams decide."""
        self._db = db
        if self._ttl is None:
            self._ttl = db.settings.access_cache_seconds
        self._answers.clear()

    async def close(self) -> None:
        """Forget every cached answer."""
        self._answers.clear()

    def forget(self, provider_id: str | None = None) -> None:
        """Drop the cached answer for one clinician, or for all of them."""
        if provider_id is None:
            self._answers.clear()
        else:
            self._answers.pop(provider_id, None)

    def generation(self) -> tuple[Any, ...]:
        """A value that changes whenever this process writes a relationship or a
        care team, i.e. whenever any clinician's patients may have changed."""
        db = self._attached()
        return (
            db.write_generation(TherapeuticRelationship.collection_name()),
            db.write_generation(CareTeam.collection_name()),
        )

    async def patients_of(self, provider_id: str) -> frozenset[str]:
        """The ids of the patients ``provider_id`` is caring for now."""
        generation = self.generation()
        ttl = self._ttl or 0.0
        cacheable = ttl > 0 and not in_transaction()
        now = self._clock()
        if cacheable:
            cached = self._answers.get(provider_id)
            if (
                cached is not None
                and cached.generation == generation
                and cached.fresh_until > now
            ):
                return cached.patients
        # The generation was taken before the read: a revocation noted while the
        # read is under way makes this answer stale at once, never current.
        patients = await self._look_up(provider_id)
        if cacheable:
            self._remember(provider_id, _Answer(patients, generation, now + ttl))
        return patients

    def _remember(self, provider_id: str, answer: _Answer) -> None:
        self._answers.pop(provider_id, None)
        if len(self._answers) >= _MAX_ENTRIES:
            del self._answers[next(iter(self._answers))]
        self._answers[provider_id] = answer

    async def _look_up(self, provider_id: str) -> frozenset[str]:
        db = self._attached()
        started = time.perf_counter()
        session = current_session()
        options: dict[str, Any] = {"projection": {"patient_id": 1, "_id": 0}}
        if session is not None:
            options["session"] = session
        options["max_time_ms"] = db.settings.query_timeout_ms
        relationships = db.collection(TherapeuticRelationship).find(
            relationships_caring_for(provider_id), **options
        )
        teams = db.collection(CareTeam).find(teams_caring_for(provider_id), **options)
        try:
            found = await relationships.to_list(None) + await teams.to_list(None)
        except Exception as exc:
            raise translate_driver_error(exc, entity="CareDirectory") from None
        self.lookups += 1
        patients = frozenset(str(row["patient_id"]) for row in found)
        _log.debug(
            "care directory: provider %s cares for %d patient(s) (%.1f ms)",
            provider_id,
            len(patients),
            (time.perf_counter() - started) * 1000,
        )
        return patients

    def _attached(self) -> DatabaseManager:
        if self._db is None:
            raise RepositoryError(
                "the care directory is not attached to a database; pass the policy "
                "to connect(policy=...)"
            )
        return self._db


def relationships_caring_for(provider_id: str) -> dict[str, Any]:
    """The filter selecting a therapist's relationships that grant care."""
    return {
        "therapist_id": provider_id,
        "relationship_status": {
            "$in": [status.value for status in CARING_RELATIONSHIP_STATUSES]
        },
        "deleted_at": None,
    }


def teams_caring_for(provider_id: str) -> dict[str, Any]:
    """The filter selecting the active care teams a provider leads or serves on."""
    return {
        "status": CareTeamStatus.ACTIVE.value,
        "deleted_at": None,
        "$or": [
            {"primary_provider_id": provider_id},
            {"members": {"$elemMatch": {"provider_id": provider_id, "active": True}}},
        ],
    }
