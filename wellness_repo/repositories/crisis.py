"""The crisis detection repository: the response lifecycle (acknowledge,
escalate, resolve, false positive) with the alerts escalation writes, and the
overdue, crisis-board, patient-history and response-time queries. Recording
detections (duplicate suppression, clinical signals) is in
``repositories.crisis_recording``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NoReturn

from wellness_repo.analysis.response_times import ResponseTimeStatistics
from wellness_repo.errors import ValidationError
from wellness_repo.models.crisis import (
    ACTIVE_DETECTION_STATUSES,
    DETECTION_TRANSITIONS,
    CrisisDetection,
    DetectionStatus,
    NotificationKind,
)
from wellness_repo.models.types import UtcDatetime, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import every_match, parse_argument
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.crisis_metrics import (
    read_statistics,
    response_time_pipeline,
)
from wellness_repo.repositories.crisis_recording import (
    ATTEMPTS,
    SESSION_RISK_CRISIS_TYPE,
    CrisisRecordingRepository,
)
from wellness_repo.repositories.lifecycle import checked_id, checked_note
from wellness_repo.repository.records import printable_id

__all__ = ["SESSION_RISK_CRISIS_TYPE", "CrisisDetectionRepository"]

_MAX_LEVEL = 10


class CrisisDetectionRepository(CrisisRecordingRepository):
    """Crisis detections and the clinical response to them.

    A detection changes only through the clinical acts here (acknowledge,
    escalate, resolve, mark a false positive) and through repeats folded into
    it; it is never edited wholesale or deleted. ``outbox`` is the alert outbox
    the acts write to.
    """

    model = CrisisDetection

    # ---------------------------------------------------------- the response

    async def acknowledge(self, detection_id: str, by: str) -> CrisisDetection:
        """Record that clinician ``by`` has taken on an open crisis.

        Raises:
            ValidationError: the detection is no longer open
                (``invalid_transition``); a malformed id.
            NotFoundError: no such detection.
        """
        clinician = checked_id(by, field="by")
        acknowledged = await self._transition(
            detection_id,
            DetectionStatus.ACKNOWLEDGED,
            lambda current: {
                "acknowledged_at": utc_now(),
                "acknowledged_by": clinician,
            },
        )
        self.logger.info("crisis detection %s acknowledged", detection_id)
        return acknowledged

    async def escalate_crisis(
        self,
        detection_id: str,
        escalated_to: str,
        escalation_reason: str,
        *,
        level: int | None = None,
        notified: Iterable[str] = (),
        by: str | None = None,
    ) -> CrisisDetection:
        """Hand a crisis up to ``escalated_to`` (a crisis team, an on-call
        psychiatrist, emergency services) and alert them.

        The escalation is added to the history with its level (by default one
        above the last), the encrypted reason, who else was ``notified``, and
        who escalated (``by``, by default the acting user). An open detection is
        acknowledged by the same act. The alert to ``escalated_to`` and
        ``notified`` goes to the outbox in the same transaction.

        Raises:
            ValidationError: the detection is closed (``invalid_transition``);
                a blank reason, a malformed id, a level outside 1..10.
            NotFoundError: no such detection.
        """
        target = checked_id(escalated_to, field="escalated_to")
        reason = checked_note(
            escalation_reason, field="escalation_reason", required=True
        )
        told = _checked_ids(notified, field="notified")
        clinician = checked_id(by if by is not None else self._actor(), field="by")
        chosen = _checked_level(level)

        def escalation(current: CrisisDetection) -> dict[str, Any]:
            now = utc_now()
            previous = max((step.level for step in current.escalations), default=0)
            entry = {
                "level": chosen or min(previous + 1, _MAX_LEVEL),
                "escalated_to": target,
                "escalation_reason": reason,
                "notified": told,
                "escalated_at": now,
                "escalated_by": clinician,
            }
            return {
                **_implicit_acknowledgment(current, clinician, now),
                "escalations": [*current.model_dump()["escalations"], entry],
                "escalated_at": current.escalated_at or now,
            }

        async def escalate() -> CrisisDetection:
            updated = await self._transition(
                detection_id, DetectionStatus.ESCALATED, escalation
            )
            await self.outbox.enqueue(
                updated,
                NotificationKind.ESCALATION,
                recipients=[target, *told],
                escalation_level=updated.escalations[-1].level,
            )
            return updated

        escalated = await self._in_transaction(escalate)
        self.logger.info(
            "crisis detection %s escalated to level %d",
            detection_id,
            escalated.escalations[-1].level,
        )
        return escalated

    async def resolve(
        self, detection_id: str, by: str, resolution: str
    ) -> CrisisDetection:
        """Close a crisis as resolved, with the clinician's account of how
        (encrypted). An open detection is acknowledged by the same act.

        Raises:
            ValidationError: already closed (``invalid_transition``); a blank
                resolution; a malformed id.
            NotFoundError: no such detection.
        """
        note = checked_note(resolution, field="resolution", required=True)
        return await self._close(detection_id, DetectionStatus.RESOLVED, by, note)

    async def mark_false_positive(
        self, detection_id: str, by: str, reason: str | None = None
    ) -> CrisisDetection:
        """Close a detection reviewed and found not to be a crisis (a quoted
        song lyric, a figure of speech the detector missed).

        Raises:
            ValidationError: already closed (``invalid_transition``); a
                malformed id.
            NotFoundError: no such detection.
        """
        note = checked_note(reason, field="reason", required=False)
        return await self._close(detection_id, DetectionStatus.FALSE_POSITIVE, by, note)

    # ---------------------------------------------------------------- queries

    async def overdue_crises(
        self, now: datetime | None = None
    ) -> list[CrisisDetection]:
        """Active crises past their response target, most overdue first: open
        ones not acknowledged in time, acknowledged ones not escalated or closed
        in time, escalated ones not closed in time (``RESPONSE_TARGETS``).

        Args:
            now: the instant to judge against (timezone-aware); defaults to now.
        """
        instant = parse_argument(
            UtcDatetime,
            utc_now() if now is None else now,
            field="now",
            entity=self._entity,
        )
        return await every_match(
            self,
            QueryOptions(
                filters={
                    "status__in": list(ACTIVE_DETECTION_STATUSES),
                    "response_due_at__lt": instant,
                },
                order_by=["response_due_at"],
            ),
        )

    async def active_crises(self) -> list[CrisisDetection]:
        """Every crisis someone still has to act on, most severe first, then
        longest waiting: the crisis team's board."""
        return await every_match(
            self,
            QueryOptions(
                filters={"status__in": list(ACTIVE_DETECTION_STATUSES)},
                order_by=["-severity_rank", "detected_at"],
            ),
        )

    async def detections_for_patient(self, patient_id: str) -> list[CrisisDetection]:
        """A patient's crisis history, newest first."""
        patient = checked_id(patient_id, field="patient_id")
        return await every_match(
            self,
            QueryOptions(
                filters={"patient_id": patient}, order_by=["-detected_at", "-id"]
            ),
        )

    async def response_time_statistics(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        team_id: str | None = None,
        provider_ids: Iterable[str] | None = None,
    ) -> ResponseTimeStatistics:
        """How fast a team responded to the crises it acknowledged, detected in
        ``[since, until)``: time to acknowledge, escalate and close (count,
        mean, median, 90th percentile, how many within target), overall and per
        acknowledging clinician. Computed in the database.

        Args:
            team_id: a care team: its lead and current members.
            provider_ids: the clinicians, when not a care team; give exactly one
                of the two.
        """
        providers = await self._team_providers(team_id, provider_ids)
        start = parse_argument(UtcDatetime, since, field="since", entity=self._entity)
        end = parse_argument(
            UtcDatetime,
            utc_now() if until is None else until,
            field="until",
            entity=self._entity,
        )
        if end <= start:
            raise ValidationError(
                "until must lie after since",
                field="until",
                rule="date_order",
                entity=self._entity,
            )
        rows = await self._aggregate(
            response_time_pipeline(),
            match={
                "acknowledged_by": {"$in": sorted(providers)},
                "detected_at": {"$gte": start, "$lt": end},
            },
        )
        return read_statistics(rows)

    # ------------------------------------------------------- refused writes

    async def update(self, entity: CrisisDetection) -> NoReturn:
        """Refused: a detection changes only through its clinical acts, which
        keep its timeline and alerts."""
        raise ValidationError(
            "a crisis detection changes only through acknowledge, escalate_crisis, "
            "resolve and mark_false_positive",
            field="status",
            rule="managed_by_workflow",
            entity=self._entity,
            entity_id=printable_id(getattr(entity, "id", None)),
        )

    async def delete(self, entity_id: str) -> NoReturn:
        """Refused: a crisis detection is part of the clinical record; close it
        with ``resolve`` or ``mark_false_positive`` instead."""
        raise ValidationError(
            "crisis detections are never deleted; close them instead",
            field="id",
            rule="never_deleted",
            entity=self._entity,
            entity_id=printable_id(entity_id),
        )

    # -------------------------------------------------------------- internals

    async def _close(
        self, detection_id: str, target: DetectionStatus, by: str, note: str | None
    ) -> CrisisDetection:
        clinician = checked_id(by, field="by")

        def closing(current: CrisisDetection) -> dict[str, Any]:
            now = utc_now()
            return {
                **_implicit_acknowledgment(current, clinician, now),
                "resolved_at": now,
                "resolved_by": clinician,
                "resolution": note,
                "open_episode_key": None,
            }

        closed = await self._transition(detection_id, target, closing)
        self.logger.info("crisis detection %s closed as %s", detection_id, target.value)
        return closed

    async def _transition(
        self,
        detection_id: str,
        target: DetectionStatus,
        changes: Callable[[CrisisDetection], dict[str, Any]],
    ) -> CrisisDetection:
        """Move a detection to ``target`` with ``changes``, re-applied to the
        newest revision when a repeat or another act got in first."""
        self._check_id(detection_id)
        for attempt in range(1, ATTEMPTS + 1):
            current = await self.get(detection_id)
            if target not in DETECTION_TRANSITIONS[current.status]:
                raise ValidationError(
                    f"a {current.status.value} crisis detection cannot become "
                    f"{target.value}",
                    field="status",
                    rule="invalid_transition",
                    entity=self._entity,
                    entity_id=detection_id,
                )
            moved = await self._apply(current, {"status": target, **changes(current)})
            if moved is not None:
                return moved
            await asyncio.sleep(random.uniform(0, 0.002 * attempt))
        raise self._kept_changing(detection_id)

    async def _team_providers(
        self, team_id: str | None, provider_ids: Iterable[str] | None
    ) -> set[str]:
        if (team_id is None) == (provider_ids is None):
            raise ValidationError(
                "give exactly one of team_id or provider_ids",
                field="team_id",
                rule="exactly_one",
                entity=self._entity,
            )
        if team_id is not None:
            teams = CareTeamRepository(self.db, self.logger)
            team = await teams.get(checked_id(team_id, field="team_id"))
            members = {member.provider_id for member in team.active_members}
            return {team.primary_provider_id, *members}
        providers = set(_checked_ids(provider_ids or (), field="provider_ids"))
        if not providers:
            raise ValidationError(
                "provider_ids must name at least one clinician",
                field="provider_ids",
                rule="required",
                entity=self._entity,
            )
        return providers

    def _actor(self) -> str:
        return self._context().actor_id


def _implicit_acknowledgment(
    current: CrisisDetection, clinician: str, now: datetime
) -> dict[str, Any]:
    """Acting on an open crisis acknowledges it at the same moment."""
    if current.acknowledged_at is not None:
        return {}
    return {"acknowledged_at": now, "acknowledged_by": clinician}


def _checked_ids(values: Any, *, field: str) -> list[str]:
    # A lone string is iterable too, and would be read as one id per character.
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{field} must be a list of ids", field=field, rule="type"
        )
    return list(dict.fromkeys(checked_id(value, field=field) for value in values))


def _checked_level(level: Any) -> int | None:
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, int):
        raise ValidationError(
            "level must be a whole number", field="level", rule="type"
        )
    if not 1 <= level <= _MAX_LEVEL:
        raise ValidationError(
            f"level must be from 1 to {_MAX_LEVEL}", field="level", rule="range"
        )
    return level
