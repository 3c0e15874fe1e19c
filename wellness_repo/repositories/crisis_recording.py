"""Recording crisis detections: duplicate suppression, the alert each new
detection (or higher severity) writes to the outbox, and turning clinical signals
from therapy sessions into detections.

A new detection and its alert are written in one transaction on a replica set;
called inside a caller's transaction (a journal entry being saved) they join it.
On the embedded backend the two writes are grouped but not rolled back together
(README, Known limitations). The lifecycle and queries are in
``repositories.crisis``.

Other repositories raise detections from what they store (a journal entry's
words, a PHQ-9's item 9, a mood log's fall) with :func:`record_signals`, inside
:func:`with_detections`: the record and its detections are written in one
transaction, run again from the start when a detection loses a race.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.analysis.crisis_language import (
    CrisisAssessment,
    CrisisSeverity,
    CrisisType,
)
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.database.transactions import in_transaction
from wellness_repo.errors import ConcurrencyError, DuplicateError, ValidationError
from wellness_repo.models.crisis import (
    CrisisDetection,
    DetectionSource,
    NotificationKind,
    episode_key,
    severity_rank,
)
from wellness_repo.models.sessions import ClinicalSignal, RiskLevel
from wellness_repo.models.types import new_id
from wellness_repo.repositories.care import parse_argument
from wellness_repo.repositories.clinical_signals import ClinicalSignalRepository
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repositories.notifications import CrisisNotificationRepository
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id, validation_error
from wellness_repo.security.context import AccessContext, acting_as

__all__ = [
    "CRISIS_DETECTOR",
    "SESSION_RISK_CRISIS_TYPE",
    "CrisisRecordingRepository",
    "back_off",
    "record_signals",
    "with_detections",
]

R = TypeVar("R")

ATTEMPTS = 16
"""How often a crisis write is tried when it keeps losing races: enough for
every one of a dozen writers of one episode to land in turn, since refusing to
record a crisis is the worst outcome."""
CRISIS_DETECTOR = AccessContext.system("crisis-detector")
"""Who records the detections other records raise: the patient who wrote a
journal entry or logged a mood may not write (or read) crisis detections, yet
what they wrote must reach the care team."""
_HOOK_ATTEMPTS = 12
_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.25
_MAX_KEYWORDS = 100
_MAX_RELATED = 100
# Derived on validation; written with every change that may move them.
_DERIVED = (
    "severity_rank",
    "requires_immediate_attention",
    "last_seen_at",
    "response_due_at",
)
SESSION_RISK_CRISIS_TYPE = CrisisType.SUICIDAL_IDEATION
"""The crisis type a therapy session's high or imminent risk rating is recorded
as: the session form's risk assessment rates the risk of suicide and self-harm.
The detection's source (``session``) tells reviewers it was a clinician's rating,
not matched words."""
_SEVERITY_OF_RISK = {
    RiskLevel.HIGH: CrisisSeverity.HIGH,
    RiskLevel.IMMINENT: CrisisSeverity.IMMINENT,
}


class CrisisRecordingRepository(AsyncBaseRepository[CrisisDetection]):
    """The recording half of the crisis repository (see
    :class:`~wellness_repo.repositories.crisis.CrisisDetectionRepository`, which
    is the one to use). ``outbox`` is the alert outbox it writes to.
    """

    model = CrisisDetection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox = CrisisNotificationRepository(self.db, self.logger)

    # ---------------------------------------------------------- recording

    async def record_detection(
        self,
        patient_id: str,
        source: DetectionSource | str,
        source_id: str | None,
        assessment: CrisisAssessment,
    ) -> CrisisDetection:
        """Record a crisis found for a patient, or fold it into the open one.

        A detection of the same patient, source and crisis type that is still
        active and was first detected within ``crisis_duplicate_window_minutes``
        takes the repeat instead: its occurrence count and last-seen time move
        on, its severity rises to the higher of the two, the matched phrases are
        merged. A new detection, or a higher severity, writes an outbox alert in
        the same transaction. Racing writers of one episode leave one detection.

        Raises:
            ValidationError: a malformed id, an unknown source, crisis type or
                severity, a confidence outside 0..1; nothing is written.
            ConcurrencyError: inside a caller's transaction, another writer
                recorded the same episode first; run the transaction again.
        """
        candidate = self._candidate(patient_id, source, source_id, assessment)
        return await self._in_transaction(lambda: self._record(candidate))

    async def create(self, entity: CrisisDetection) -> CrisisDetection:
        """Record a detection built by the caller, with the same duplicate
        suppression and alert as :meth:`record_detection`: a repeat of an
        episode still open returns that detection, updated. A detection stored
        already closed (a past crisis brought over from another system) raises
        no alert."""
        self._check_type(entity)
        candidate = self._validated(
            entity.model_dump(by_alias=False, warnings=False), entity.id
        )
        return await self._in_transaction(lambda: self._record(candidate))

    async def create_many(
        self, entities: Sequence[CrisisDetection]
    ) -> list[CrisisDetection]:
        """Record several detections one after another (each as :meth:`create`)."""
        for entity in entities:
            self._check_type(entity)
        return [await self.create(entity) for entity in entities]

    async def process_clinical_signals(
        self,
        worker_id: str,
        *,
        limit: int = 50,
        stalled_after: timedelta | None = timedelta(minutes=5),
    ) -> list[CrisisDetection]:
        """Turn pending clinical signals (high-risk therapy sessions) into crisis
        detections; returns the detections recorded or updated.

        Each signal is claimed for ``worker_id`` (signals another worker claims
        first are skipped), recorded, and marked processed in the same
        transaction as its detection. Claims older than ``stalled_after`` are
        first returned to the queue, so a crashed worker strands nothing; a
        signal whose recording fails (the error is raised) stays claimed until
        then.
        """
        worker = checked_id(worker_id, field="worker_id")
        signals = ClinicalSignalRepository(self.db, self.logger)
        if stalled_after is not None:
            await signals.release_stalled_claims(stalled_after)
        recorded = []
        for signal in await signals.pending_signals(limit):
            try:
                await signals.claim_signal(signal.id, worker)
            except ValidationError:
                continue
            recorded.append(await self._process_signal(signals, signal, worker))
        self.logger.info(
            "%s turned %d clinical signals into crisis detections",
            worker,
            len(recorded),
        )
        return recorded

    # -------------------------------------------------------------- internals

    def _candidate(
        self,
        patient_id: Any,
        source: Any,
        source_id: Any,
        assessment: Any,
    ) -> CrisisDetection:
        if not isinstance(assessment, CrisisAssessment):
            raise ValidationError(
                "assessment must be a CrisisAssessment",
                field="assessment",
                rule="type",
                entity=self._entity,
            )
        return self._validated(
            {
                "id": new_id(),
                "patient_id": checked_id(patient_id, field="patient_id"),
                "detection_source": parse_argument(
                    DetectionSource, source, field="source", entity=self._entity
                ),
                "source_id": (
                    None
                    if source_id is None
                    else checked_id(source_id, field="source_id")
                ),
                "crisis_type": assessment.crisis_type,
                "severity_level": assessment.severity,
                "confidence_score": assessment.confidence,
                "detected_keywords": list(assessment.matched_phrases),
                "requires_immediate_attention": (
                    assessment.requires_immediate_attention
                ),
            },
            None,
        )

    def _validated(self, values: dict[str, Any], entity_id: Any) -> CrisisDetection:
        try:
            detection: CrisisDetection = CrisisDetection.model_validate(values)
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity, printable_id(entity_id)) from None
        return detection

    async def _record(self, candidate: CrisisDetection) -> CrisisDetection:
        """Fold ``candidate`` into its open episode or store it as a new one.
        Runs inside a transaction."""
        if not candidate.is_active:
            return await super().create(candidate)
        key = episode_key(candidate.detection_source, candidate.crisis_type)
        held = await self.find_one_by(
            patient_id=candidate.patient_id, open_episode_key=key
        )
        window = timedelta(minutes=self.db.settings.crisis_duplicate_window_minutes)
        if held is not None and candidate.detected_at - held.detected_at <= window:
            return await self._fold(held, candidate)
        if held is not None:
            # The held episode is older than the window: it stays active, and a
            # fresh detection (with a fresh alert) starts the new episode.
            await self._apply_or_retry(held, {"open_episode_key": None})
        try:
            created = await super().create(
                candidate.model_copy(update={"open_episode_key": key})
            )
        except DuplicateError as exc:
            raise ConcurrencyError(
                "another writer recorded the same crisis episode at the same time; "
                "run again to fold this detection into it",
                entity=self._entity,
                cause=exc,
            ) from None
        await self.outbox.enqueue(created, NotificationKind.NEW_DETECTION)
        self.logger.info(
            "crisis detection %s recorded at %s severity",
            created.id,
            created.severity_level.value,
        )
        return created

    async def _fold(
        self, held: CrisisDetection, repeat: CrisisDetection
    ) -> CrisisDetection:
        """Count ``repeat`` as another occurrence of the active ``held``."""
        severity = max(held.severity_level, repeat.severity_level, key=severity_rank)
        related = list(held.related_source_ids)
        new_source = repeat.source_id
        if new_source is not None and new_source not in (held.source_id, *related):
            related = [*related, new_source][:_MAX_RELATED]
        changes = {
            "severity_level": severity,
            "detected_keywords": list(
                dict.fromkeys([*held.detected_keywords, *repeat.detected_keywords])
            )[:_MAX_KEYWORDS],
            "related_source_ids": related,
            "confidence_score": max(held.confidence_score, repeat.confidence_score),
            "requires_immediate_attention": (
                held.requires_immediate_attention or repeat.requires_immediate_attention
            ),
            "last_seen_at": max(
                held.last_seen_at or held.detected_at, repeat.detected_at
            ),
            "occurrence_count": held.occurrence_count + 1,
        }
        folded = await self._apply_or_retry(held, changes)
        if severity_rank(severity) > held.severity_rank:
            await self.outbox.enqueue(folded, NotificationKind.SEVERITY_RAISED)
        self.logger.info(
            "crisis detection %s repeated (occurrence %d)",
            folded.id,
            folded.occurrence_count,
        )
        return folded

    async def _apply(
        self, current: CrisisDetection, changes: dict[str, Any]
    ) -> CrisisDetection | None:
        """Store ``changes`` to ``current`` if it is still the stored revision;
        ``None`` if it is not. The changed record is validated first, and the
        fields it derives are written with it."""
        candidate = self._validated_from_fields(
            {**current.model_dump(by_alias=False), **changes}, current.id
        )
        names = {*changes, *_DERIVED}
        document = candidate.model_dump(by_alias=True, include={*names, "patient_id"})
        stored = await self._encrypt(document)
        stored.pop("patient_id")
        return await self._atomic_update(
            current.id,
            {"$set": stored},
            guard={"_rev": current.revision},
            changed=tuple(sorted(names)),
        )

    async def _apply_or_retry(
        self, current: CrisisDetection, changes: dict[str, Any]
    ) -> CrisisDetection:
        """``_apply``, where a lost race restarts the enclosing transaction."""
        applied = await self._apply(current, changes)
        if applied is None:
            raise self._kept_changing(current.id)
        return applied

    async def _in_transaction(self, work: Callable[[], Awaitable[R]]) -> R:
        """Run ``work`` in a transaction, again from the start when it loses a
        race; inside a caller's transaction, once (the caller retries it)."""
        if in_transaction():
            return await work()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.transaction():
                    return await work()
            except ConcurrencyError:
                if attempt == ATTEMPTS:
                    raise
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _process_signal(
        self, signals: ClinicalSignalRepository, signal: ClinicalSignal, worker: str
    ) -> CrisisDetection:
        assessment = CrisisAssessment(
            crisis_type=SESSION_RISK_CRISIS_TYPE,
            severity=_SEVERITY_OF_RISK[signal.risk_level],
            confidence=1.0,
            matched_phrases=(),
            requires_immediate_attention=True,
        )
        candidate = self._candidate(
            signal.patient_id, DetectionSource.SESSION, signal.source_id, assessment
        )

        async def record_and_mark() -> CrisisDetection:
            detection = await self._record(candidate)
            await signals.mark_signal_processed(signal.id, detection.id, worker=worker)
            return detection

        return await self._in_transaction(record_and_mark)

    def _kept_changing(self, detection_id: str) -> ConcurrencyError:
        return ConcurrencyError(
            "the crisis detection kept changing; the change was not applied",
            entity=self._entity,
            entity_id=detection_id,
        )


async def record_signals(
    detections: CrisisRecordingRepository,
    patient_id: str,
    source: DetectionSource,
    source_id: str,
    signals: Sequence[CrisisAssessment],
) -> list[CrisisDetection]:
    """Record each crisis signal a stored record raised, as
    :data:`CRISIS_DETECTOR`; the record itself was written as the caller.

    Args:
        detections: the crisis repository to record through.
        source_id: the record that raised the signals (an entry, a plan).
    """
    recorded = []
    for signal in signals:
        with acting_as(CRISIS_DETECTOR):
            detection = await detections.record_detection(
                patient_id=patient_id,
                source=source,
                source_id=source_id,
                assessment=signal,
            )
        detections.logger.info(
            "%s %s raised crisis detection %s", source.value, source_id, detection.id
        )
        recorded.append(detection)
    return recorded


async def with_detections(
    db: DatabaseManager,
    work: Callable[[], Awaitable[R]],
    *,
    stale_entity: str | None = None,
) -> R:
    """Run ``work`` (write a record, record its detections) in one transaction;
    again from the start when it lost a race, since the aborted transaction kept
    nothing. Inside a caller's transaction it runs once, and the caller retries.

    Args:
        stale_entity: the entity whose ``ConcurrencyError`` means the caller's
            copy is stale (a revision-guarded update): raised at once, since
            running again cannot help.

    Raises:
        ConcurrencyError: the races kept being lost, or the record is stale;
            without real transactions (the embedded backend) a race is raised
            at once, since running again would write the record twice.
    """
    if in_transaction():
        return await work()
    for attempt in range(1, _HOOK_ATTEMPTS + 1):
        try:
            async with db.transaction():
                return await work()
        except ConcurrencyError as conflict:
            if (
                (stale_entity is not None and conflict.entity == stale_entity)
                or not db.supports_transactions
                or attempt == _HOOK_ATTEMPTS
            ):
                raise
            await back_off(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


async def back_off(attempt: int) -> None:
    """Wait before running again a write that lost its ``attempt``-th race: a
    random time whose ceiling doubles each attempt (capped), so writers racing
    for one record spread out."""
    ceiling = min(_MAX_BACKOFF, _FIRST_BACKOFF * 2**attempt)
    await asyncio.sleep(random.uniform(0, ceiling))
