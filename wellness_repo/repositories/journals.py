"""The journal repository: patients' entries, read for crisis language and tone
whenever they are written, shared with the care team by the patient's choice.

The crisis hook: creating or changing an entry runs the crisis detector
(``analysis.crisis_language``) over everything the patient wrote in it. Each
current signal is recorded as a crisis detection (``source="journal_entry"``),
in the same transaction as the entry on a replica set, so the entry and the
alert are stored together or not at all. An edit records only what is new or
more severe than the entry's stored summary, so fixing a typo does not raise
the alarm again. Signals told as the patient's past are noted in the entry's
summary but raise no detection.

Detections are recorded under the system context ``system:crisis-detector``:
the patient who wrote the entry may not write (or read) crisis detections, yet
their words must reach the care team. The entry itself is written, authorized
and audited as the caller first; the detection is only ever derived from it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.analysis.crisis_language import CrisisAssessment, assess_text
from wellness_repo.analysis.journal_prompts import (
    CBTTechnique,
    EntrySummary,
    JournalPrompt,
    suggest_prompt,
)
from wellness_repo.analysis.sentiment import score_sentiment
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import ConcurrencyError, NotFoundError
from wellness_repo.models.crisis import DetectionSource
from wellness_repo.models.journals import CrisisSummary, JournalEntry, SentimentRecord
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.crisis_recording import (
    back_off,
    record_signals,
    with_detections,
)
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id, validation_error

__all__ = ["JournalRepository"]

R = TypeVar("R")

_SENTIMENT_ATTEMPTS = 10
_PROMPT_HISTORY = 10
_SUMMARY_FIELDS = (
    "cbt_technique",
    "tags",
    "mood_before",
    "mood_after",
    "sentiment",
    "thought_record",
    "crisis_summary",
    "created_at",
)


class JournalRepository(AsyncBaseRepository[JournalEntry]):
    """Patients' journal entries, with the crisis hook and tone scores.

    ``detections`` is the crisis repository the hook records through.
    """

    model = JournalEntry

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[JournalEntry] | None = None,
    ) -> None:
        super().__init__(db_manager, logger, model=model)
        self.detections = CrisisDetectionRepository(self.db, self.logger)

    # ------------------------------------------------- writes, with the hook

    async def create(self, entity: JournalEntry) -> JournalEntry:
        """Store a new entry, its tone scores and crisis summary; each current
        crisis signal in it is recorded as a crisis detection in the same
        transaction.

        Raises:
            ValidationError: the entry is invalid (an unknown technique, a mood
                outside 1..10, a thought-record entry without its record, blank
                content); nothing is written, and no detection.
        """
        entry, signals = self._read(entity)
        if not signals:
            return await super().create(entry)
        return await self._with_detections(
            lambda: super(JournalRepository, self).create(entry), signals
        )

    async def create_many(self, entities: Sequence[JournalEntry]) -> list[JournalEntry]:
        """Store several entries; a batch with crisis signals is written in one
        transaction with their detections."""
        read = [self._read(entity) for entity in entities]
        entries = [entry for entry, _ in read]
        if not any(signals for _, signals in read):
            return await super().create_many(entries)

        async def write_all() -> list[JournalEntry]:
            stored = await super(JournalRepository, self).create_many(entries)
            for entry, signals in read:
                await self._record(entry, signals)
            return stored

        return await self._in_transaction(write_all)

    async def update(self, entity: JournalEntry) -> JournalEntry:
        """Store a changed entry (revision-guarded), with fresh tone scores and
        crisis summary. A crisis signal the stored entry did not carry, or now
        more severe, is recorded as a detection in the same transaction."""
        entry, signals = self._read(entity)
        if not signals:
            return await super().update(entry)

        async def write() -> JournalEntry:
            before = await self.get(entry.id)
            stored = await super(JournalRepository, self).update(entry)
            await self._record(stored, _new_or_raised(signals, before.crisis_summary))
            return stored

        return await self._in_transaction(write)

    # ------------------------------------------------------ clinical acts

    async def analyze_sentiment(self, entry_id: str) -> SentimentRecord:
        """Score the tone of an entry with VADER, store the scores on it, and
        return them.

        Raises:
            NotFoundError: no such entry is visible.
        """
        started = utc_now()
        for attempt in range(1, _SENTIMENT_ATTEMPTS + 1):
            entry = await self.get(entry_id)
            if entry.sentiment is not None and entry.sentiment.analysed_at > started:
                # A write since this call began scored its own text, as every
                # write does: those scores are current.
                return entry.sentiment
            stored = await self._atomic_update(
                entry.id,
                {"$set": {"sentiment": _tone_of(entry).model_dump()}},
                guard={"_rev": entry.revision},
                changed=("sentiment",),
            )
            if stored is not None and stored.sentiment is not None:
                self.logger.info("journal entry %s sentiment analysed", entry.id)
                return stored.sentiment
            await back_off(attempt)
        raise ConcurrencyError(
            "the entry kept changing; its sentiment was not stored",
            entity=self._entity,
            entity_id=entry_id,
        )

    async def share_with_care_team(self, entry_id: str) -> JournalEntry:
        """Share an entry with the patient's care team, from now until it is
        unshared. Sharing a shared entry changes nothing.

        Raises:
            NotFoundError: no such entry is visible.
        """
        return await self._set_sharing(entry_id, shared=True)

    async def unshare_from_care_team(self, entry_id: str) -> JournalEntry:
        """Make a shared entry private to the patient again.

        Raises:
            NotFoundError: no such entry is visible.
        """
        return await self._set_sharing(entry_id, shared=False)

    # ----------------------------------------------------------------- reads

    async def entries_for_user(
        self,
        user_id: str,
        *,
        tag: str | None = None,
        technique: CBTTechnique | str | None = None,
        shared_only: bool = False,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[JournalEntry]:
        """One page of a patient's entries, newest first.

        Args:
            tag: only entries carrying this tag.
            technique: only entries practising this CBT technique.
            shared_only: only entries shared with the care team.
            after: the ``next_cursor`` of the previous page.
        """
        filters: dict[str, Any] = {"user_id": checked_id(user_id, field="user_id")}
        if tag is not None:
            filters["tags"] = tag
        if technique is not None:
            filters["cbt_technique"] = technique
        if shared_only:
            filters["shared_with_care_team"] = True
        return await self.list_all(
            QueryOptions(
                filters=filters, order_by=["-created_at"], limit=limit, after=after
            )
        )

    async def suggest_prompt(self, user_id: str) -> JournalPrompt:
        """The next journal prompt for a patient, from their recent entries (see
        ``analysis.journal_prompts``)."""
        page = await self.list_all(
            QueryOptions(
                filters={"user_id": checked_id(user_id, field="user_id")},
                order_by=["-created_at"],
                limit=_PROMPT_HISTORY,
                fields=_SUMMARY_FIELDS,
            )
        )
        return suggest_prompt([_summary(entry) for entry in page.items])

    # --------------------------------------------------------------- private

    def _read(
        self, entity: JournalEntry
    ) -> tuple[JournalEntry, list[CrisisAssessment]]:
        """The entry as it will be stored, with its derived tone and crisis
        summary, and its current crisis signals. Validates before anything is
        read or written."""
        self._check_type(entity)
        entry = _revalidated(entity)
        found = assess_text(entry.written_text)
        derived = entry.model_copy(
            update={
                "sentiment": _tone_of(entry),
                "crisis_summary": _summary_of(found),
            }
        )
        return derived, [found_one for found_one in found if not found_one.historical]

    async def _record(
        self, entry: JournalEntry, signals: Sequence[CrisisAssessment]
    ) -> None:
        await record_signals(
            self.detections,
            entry.user_id,
            DetectionSource.JOURNAL_ENTRY,
            entry.id,
            signals,
        )

    async def _with_detections(
        self,
        write: Callable[[], Awaitable[JournalEntry]],
        signals: Sequence[CrisisAssessment],
    ) -> JournalEntry:
        async def write_and_record() -> JournalEntry:
            stored = await write()
            await self._record(stored, signals)
            return stored

        return await self._in_transaction(write_and_record)

    async def _in_transaction(self, work: Callable[[], Awaitable[R]]) -> R:
        """``work`` with its detections in one transaction; a stale entry stays
        stale, so its conflict is raised at once."""
        return await with_detections(self.db, work, stale_entity=self._entity)

    async def _set_sharing(self, entry_id: str, *, shared: bool) -> JournalEntry:
        self._check_id(entry_id)
        changes: dict[str, Any] = {
            "shared_with_care_team": shared,
            "shared_at": utc_now() if shared else None,
        }
        changed = await self._atomic_update(
            entry_id,
            {"$set": changes},
            guard={"shared_with_care_team": not shared},
            changed=tuple(changes),
        )
        if changed is None:
            current = await self.get_by_id(entry_id)
            if current is None:
                raise NotFoundError(
                    "no JournalEntry with this id",
                    entity=self._entity,
                    entity_id=entry_id,
                )
            return current
        self.logger.info(
            "journal entry %s %s", entry_id, "shared" if shared else "unshared"
        )
        return changed


def _revalidated(entity: JournalEntry) -> JournalEntry:
    """``entity`` as it stands, validated again (it may have been built with
    ``model_construct`` or changed in place)."""
    try:
        fresh: JournalEntry = JournalEntry.__pydantic_validator__.validate_python(
            entity
        )
    except PydanticValidationError as exc:
        raise validation_error(
            exc, JournalEntry.entity_name(), printable_id(getattr(entity, "id", None))
        ) from None
    return fresh


def _tone_of(entry: JournalEntry) -> SentimentRecord:
    """VADER's scores of everything the patient wrote in the entry, now."""
    scores = score_sentiment(entry.written_text)
    return SentimentRecord(
        compound=scores.compound,
        positive=scores.positive,
        neutral=scores.neutral,
        negative=scores.negative,
    )


def _summary_of(found: Sequence[CrisisAssessment]) -> CrisisSummary:
    current = [assessment for assessment in found if not assessment.historical]
    return CrisisSummary(
        crisis_types=[assessment.crisis_type for assessment in current],
        highest_severity=current[0].severity if current else None,
        requires_immediate_attention=any(
            assessment.requires_immediate_attention for assessment in current
        ),
        history_types=[
            assessment.crisis_type for assessment in found if assessment.historical
        ],
    )


def _new_or_raised(
    signals: Sequence[CrisisAssessment], before: CrisisSummary | None
) -> list[CrisisAssessment]:
    """The signals an edit adds: a crisis type the stored entry did not carry,
    or any, when the edit raises the entry's highest severity."""
    if before is None or before.highest_severity is None:
        return list(signals)
    known = set(before.crisis_types)
    floor = before.highest_severity.rank
    return [
        signal
        for signal in signals
        if signal.crisis_type not in known or signal.severity.rank > floor
    ]


def _summary(entry: JournalEntry) -> EntrySummary:
    record = entry.thought_record
    crisis = entry.crisis_summary
    return EntrySummary(
        technique=entry.cbt_technique,
        tags=tuple(entry.tags),
        mood_before=entry.mood_before,
        mood_after=entry.mood_after,
        sentiment_compound=(
            entry.sentiment.compound if entry.sentiment is not None else None
        ),
        unfinished_thought_record=record is not None and not record.is_complete,
        crisis_signal=crisis is not None and crisis.highest_severity is not None,
    )
