"""Repositories for therapy sessions and the clinical signals they raise.

The crisis hook: a session stored at high or imminent risk (created so, or raised
to it by an update) writes a ``ClinicalSignal`` in the same transaction, so the
assessment and the request for crisis follow-up are stored together or not at
all. The crisis workflow then claims pending signals one worker at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.analysis.attendance import AttendanceStatistics
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.sessions import (
    ClinicalSignal,
    HomeworkItem,
    RiskLevel,
    SessionStatus,
    SignalSource,
    SignalStatus,
    TherapySession,
)
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id, validation_error

__all__ = ["ClinicalSignalRepository", "TherapySessionRepository"]

D = TypeVar("D", bound=WellnessDocument)

# Read-modify-write attempts before a homework review gives up to a busier writer.
_REVIEW_ATTEMPTS = 5
# The status each workflow step starts from.
_WORKFLOW_STEPS = {
    SignalStatus.CLAIMED: SignalStatus.PENDING,
    SignalStatus.PROCESSED: SignalStatus.CLAIMED,
}
_REVIEW_RULES = {
    "same_session": "a session cannot review its own homework",
    "not_attended": "homework is reviewed only in an attended session",
    "different_patient": "the earlier session is another patient's",
    "later_session": "the earlier session is dated after the review",
    "no_homework": "the earlier session assigned no homework",
    "unknown_item": "an item id is not among the earlier session's homework",
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
        return await super().create(_revalidated(entity))

    async def create_many(
        self, entities: Sequence[ClinicalSignal]
    ) -> list[ClinicalSignal]:
        """Raise several signals in one round trip."""
        for entity in entities:
            self._check_type(entity)
        return await super().create_many([_revalidated(e) for e in entities])

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
                    "source_id": _checked_id(session_id, "session_id"),
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
        changes = {"claimed_by": _checked_id(worker, "worker"), "claimed_at": utc_now()}
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
            "detection_id": _checked_id(detection_id, "detection_id"),
        }
        guard = {} if worker is None else {"claimed_by": _checked_id(worker, "worker")}
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


class TherapySessionRepository(AsyncBaseRepository[TherapySession]):
    """Documented therapy sessions, with the crisis hook on their risk level.

    ``signals`` is the clinical-signal repository the hook writes through.
    """

    model = TherapySession

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[TherapySession] | None = None,
    ) -> None:
        super().__init__(db_manager, logger, model=model)
        self.signals = ClinicalSignalRepository(self.db, self.logger)

    # ------------------------------------------------- writes, with the hook

    async def create(self, entity: TherapySession) -> TherapySession:
        """Document a session; at high or imminent risk, raise a clinical signal
        in the same transaction."""
        self._check_type(entity)
        session = _revalidated(entity)
        signal = self._signal_for(session, revision=1)
        if signal is None:
            return await super().create(session)
        async with self.db.transaction():
            stored = await super().create(session)
            await self._raise(signal)
        return stored

    async def create_many(
        self, entities: Sequence[TherapySession]
    ) -> list[TherapySession]:
        """Document several sessions; each high-risk one raises its signal.

        A batch holding a high-risk session is written in one transaction, so on
        a replica set a duplicate stores none of it.
        """
        for entity in entities:
            self._check_type(entity)
        sessions = [_revalidated(entity) for entity in entities]
        signals = [self._signal_for(session, revision=1) for session in sessions]
        raised = [signal for signal in signals if signal is not None]
        if not raised:
            return await super().create_many(sessions)
        async with self.db.transaction():
            stored = await super().create_many(sessions)
            await self.signals.create_many(raised)
        self._log_raised(raised)
        return stored

    async def update(self, entity: TherapySession) -> TherapySession:
        """Store a changed session (revision-guarded). Raising its risk to high or
        imminent raises a signal in the same transaction; keeping or lowering a
        level does not."""
        self._check_type(entity)
        session = _revalidated(entity)
        signal = self._signal_for(session, revision=session.revision + 1)
        if signal is None:
            return await super().update(session)
        async with self.db.transaction():
            before = await self._stored_risk(session.id)
            stored = await super().update(session)
            if before is None or signal.risk_level.rank > before.rank:
                await self._raise(signal)
        return stored

    async def record_risk_assessment(
        self, session_id: str, risk_level: RiskLevel | str
    ) -> TherapySession:
        """Record (or revise) the risk level assessed in a session."""
        return await self.patch(session_id, {"risk_assessment": risk_level})

    async def record_homework_review(
        self,
        session_id: str,
        previous_session_id: str,
        completed_item_ids: Iterable[str],
        *,
        review_notes: Mapping[str, str] | None = None,
    ) -> TherapySession:
        """Record, in session ``session_id``, the review of the homework assigned
        in ``previous_session_id``; returns that earlier session as updated.

        Every item of the earlier session is marked reviewed in this session;
        the listed ones completed, the others not (a review can correct an
        earlier one).

        Args:
            completed_item_ids: ``item_id`` of each item the patient completed.
            review_notes: a note per ``item_id``, replacing the item's note.
        """
        completed = _checked_item_ids(completed_item_ids)
        notes = dict(review_notes or {})
        if previous_session_id == session_id:
            raise self._invalid("previous_session_id", "same_session", session_id)
        reviewing = await self.get(session_id)
        if reviewing.status is not SessionStatus.ATTENDED:
            raise self._invalid("session_id", "not_attended", session_id)
        for _attempt in range(_REVIEW_ATTEMPTS):
            previous = await self.get(previous_session_id)
            self._check_review(reviewing, previous, completed, notes)
            reviewed_at = utc_now()
            items = [
                _reviewed(item, session_id, reviewed_at, completed, notes)
                for item in previous.homework_assigned
            ]
            values = previous.model_dump()
            values["homework_assigned"] = items
            candidate = self._validated_from_fields(values, previous.id)
            try:
                stored = await super().update(candidate)
            except ConcurrencyError:
                continue
            self.logger.info(
                "homework of therapy session %s reviewed in session %s: %d of %d done",
                previous.id,
                session_id,
                len(completed),
                len(items),
            )
            return stored
        raise ConcurrencyError(
            "the earlier session kept changing; the review was not recorded",
            entity=self._entity,
            entity_id=previous_session_id,
        )

    # ----------------------------------------------------------------- reads

    async def patient_sessions(
        self, patient_id: str, *, limit: int | None = None, after: str | None = None
    ) -> QueryResult[TherapySession]:
        """One page of a patient's sessions, most recent first."""
        return await self._timeline("patient_id", patient_id, limit, after)

    async def sessions_for_relationship(
        self,
        relationship_id: str,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[TherapySession]:
        """One page of the sessions of a therapeutic relationship, most recent
        first."""
        return await self._timeline("relationship_id", relationship_id, limit, after)

    async def sessions_between(
        self,
        *,
        start: date,
        end: date,
        patient_id: str | None = None,
        therapist_id: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[TherapySession]:
        """One page of a patient's, or a therapist's, sessions dated from
        ``start`` to ``end`` (both included), in date order."""
        field, owner = _one_owner(patient_id=patient_id, therapist_id=therapist_id)
        first, last = _checked_range(start, end, required=True)
        return await self.list_all(
            QueryOptions(
                filters={
                    field: owner,
                    "session_date__gte": first,
                    "session_date__lte": last,
                },
                order_by=["session_date", "id"],
                limit=limit,
                after=after,
            )
        )

    async def attendance_statistics(
        self,
        *,
        patient_id: str | None = None,
        relationship_id: str | None = None,
        therapist_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> AttendanceStatistics:
        """Attended, cancelled and missed sessions of a patient, a relationship or
        a therapist's caseload, optionally within dates (both included)."""
        field, owner = _one_owner(
            patient_id=patient_id,
            relationship_id=relationship_id,
            therapist_id=therapist_id,
        )
        first, last = _checked_range(start, end, required=False)
        match: dict[str, Any] = {field: owner}
        dates: dict[str, str] = {}
        if first is not None:
            dates["$gte"] = first.isoformat()
        if last is not None:
            dates["$lte"] = last.isoformat()
        if dates:
            match["session_date"] = dates
        rows = await self._aggregate(
            [{"$group": {"_id": "$status", "sessions": {"$sum": 1}}}], match=match
        )
        counts = {str(row["_id"]): int(row["sessions"]) for row in rows}
        return AttendanceStatistics.from_counts(counts)

    # --------------------------------------------------------------- private

    async def _timeline(
        self, field: str, owner: str, limit: int | None, after: str | None
    ) -> QueryResult[TherapySession]:
        return await self.list_all(
            QueryOptions(
                filters={field: _checked_id(owner, field)},
                order_by=["-session_date", "-id"],
                limit=limit,
                after=after,
            )
        )

    def _signal_for(
        self, session: TherapySession, *, revision: int
    ) -> ClinicalSignal | None:
        """The signal this write of ``session`` would raise, built (and so
        validated) before anything is written."""
        level = session.risk_assessment
        if level is None or not level.requires_crisis_follow_up:
            return None
        return ClinicalSignal(
            patient_id=session.patient_id,
            source=SignalSource.SESSION,
            source_id=session.id,
            source_revision=revision,
            risk_level=level,
            raised_by=self._context().actor_id,
        )

    async def _raise(self, signal: ClinicalSignal) -> None:
        await self.signals.create(signal)
        self._log_raised([signal])

    def _log_raised(self, signals: Sequence[ClinicalSignal]) -> None:
        for signal in signals:
            self.logger.info(
                "therapy session %s raised clinical signal %s",
                signal.source_id,
                signal.id,
            )

    async def _stored_risk(self, session_id: str) -> RiskLevel | None:
        page = await self.list_all(
            QueryOptions(filters={"id": session_id}, fields=["risk_assessment"])
        )
        return page.items[0].risk_assessment if page.items else None

    def _check_review(
        self,
        reviewing: TherapySession,
        previous: TherapySession,
        completed: frozenset[str],
        notes: Mapping[str, str],
    ) -> None:
        if previous.patient_id != reviewing.patient_id:
            raise self._invalid("previous_session_id", "different_patient", previous.id)
        if previous.session_date > reviewing.session_date:
            raise self._invalid("previous_session_id", "later_session", previous.id)
        if not previous.homework_assigned:
            raise self._invalid("previous_session_id", "no_homework", previous.id)
        known = {item.item_id for item in previous.homework_assigned}
        if not completed <= known:
            raise self._invalid("completed_item_ids", "unknown_item", previous.id)
        if not set(notes) <= known:
            raise self._invalid("review_notes", "unknown_item", previous.id)

    def _invalid(self, field: str, rule: str, entity_id: str) -> ValidationError:
        return ValidationError(
            _REVIEW_RULES[rule],
            field=field,
            rule=rule,
            entity=self._entity,
            entity_id=entity_id,
        )


def _revalidated(entity: D) -> D:
    """``entity`` validated afresh, so derived fields (``mood_change``,
    ``urgency``) are right even if it was built with ``model_copy`` or
    ``model_construct``, which skip validation."""
    model = type(entity)
    try:
        # Serializer warnings would quote the offending values; validation below
        # reports the same problems by field and rule only.
        document = entity.model_dump(by_alias=True, warnings=False)
        fresh: D = model.model_validate(document)
    except PydanticValidationError as exc:
        raise validation_error(
            exc, model.entity_name(), printable_id(entity.id)
        ) from None
    return fresh


def _reviewed(
    item: HomeworkItem,
    session_id: str,
    reviewed_at: datetime,
    completed: frozenset[str],
    notes: Mapping[str, str],
) -> dict[str, Any]:
    done = item.item_id in completed
    values = item.model_dump()
    values.update(
        completed=done,
        completed_at=(item.completed_at or reviewed_at) if done else None,
        reviewed_in_session_id=session_id,
        reviewed_at=reviewed_at,
        notes=notes.get(item.item_id, item.notes),
    )
    return values


def _checked_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{field} must be a non-empty string", field=field, rule="type"
        )
    if printable_id(value) is None:
        raise ValidationError(
            f"{field} is not a valid id: at most 64 letters, digits or _ . : -",
            field=field,
            rule="format",
        )
    return value


def _checked_item_ids(values: Any) -> frozenset[str]:
    # A lone string is iterable too, and would be read as one id per character.
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            "completed_item_ids must be a list of item ids",
            field="completed_item_ids",
            rule="type",
        )
    return frozenset(_checked_id(value, "completed_item_ids") for value in values)


def _one_owner(**owners: str | None) -> tuple[str, str]:
    given = [(field, value) for field, value in owners.items() if value is not None]
    if len(given) != 1:
        names = " or ".join(owners)
        raise ValidationError(
            f"give exactly one of {names}",
            field=next(iter(owners)),
            rule="exactly_one",
        )
    field, value = given[0]
    return field, _checked_id(value, field)


def _checked_range(
    start: Any, end: Any, *, required: bool
) -> tuple[date | None, date | None]:
    for name, value in (("start", start), ("end", end)):
        if value is None and not required:
            continue
        # A datetime is a date too, but which calendar day it means depends on a
        # time zone the caller did not state.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError(
                f"{name} must be a calendar date", field=name, rule="calendar_date"
            )
    if start is not None and end is not None and start > end:
        raise ValidationError("end lies before start", field="end", rule="date_order")
    return start, end
