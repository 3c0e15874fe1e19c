"""The repository of therapy sessions, with the crisis hook on their risk level.

The crisis hook: a session stored at high or imminent risk (created so, or raised
to it by an update) writes a ``ClinicalSignal`` in the same transaction, so the
assessment and the request for crisis follow-up are stored together or not at
all. The crisis workflow then claims pending signals one worker at a time
(``ClinicalSignalRepository``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

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
    TherapySession,
)
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repositories.clinical_signals import ClinicalSignalRepository
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id, revalidated

__all__ = ["TherapySessionRepository"]

D = TypeVar("D", bound=WellnessDocument)

_REVIEW_FIELDS = ("reviewed_in_session_id", "reviewed_at")
"""How an assigned item was reviewed: written by record_homework_review only."""
# Read-modify-write attempts before a homework review gives up to a busier writer.
_REVIEW_ATTEMPTS = 5
_REVIEW_RULES = {
    "same_session": "a session cannot review its own homework",
    "not_attended": "homework is reviewed only in an attended session",
    "different_patient": "the earlier session is another patient's",
    "later_session": "the earlier session is dated after the review",
    "no_homework": "the earlier session assigned no homework",
    "unknown_item": "an item id is not among the earlier session's homework",
}


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
        session = revalidated(entity)
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
        sessions = [revalidated(entity) for entity in entities]
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
        session = revalidated(entity)
        await self._refuse_review_changes(session)
        signal = self._signal_for(session, revision=session.revision + 1)
        if signal is None:
            return await super().update(session)
        async with self.db.transaction():
            before = await self._stored_risk(session.id)
            stored = await super().update(session)
            if before is None or signal.risk_level.rank > before.rank:
                await self._raise(signal)
        return stored

    async def _refuse_review_changes(self, session: TherapySession) -> None:
        """Refuse an edit of how homework was reviewed: that is
        :meth:`record_homework_review`'s, which checks the reviewing session
        was attended and is another one of the same patient. Items added or
        dropped, and their other fields, are the edit's to change."""
        stored = await self.get_by_id(session.id)
        if stored is None or stored.revision != session.revision:
            return  # the base update says what is wrong
        before = {item.item_id: item for item in stored.homework_assigned}
        for item in session.homework_assigned:
            earlier = before.get(item.item_id)
            for name in _REVIEW_FIELDS:
                # A new item has not been reviewed yet.
                kept = getattr(earlier, name) if earlier else None
                if getattr(item, name) != kept:
                    raise ValidationError(
                        f"homework_assigned.{name} changes only through "
                        "record_homework_review",
                        field=f"homework_assigned.{item.item_id}.{name}",
                        rule="managed_field",
                        entity=self._entity,
                        entity_id=session.id,
                    )

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
