"""The repository of patients' mood goals and their progress."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.analysis.mood_goals import (
    MoodGoalProgress,
    elapsed_fraction,
    goal_progress,
)
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.models.mood_goals import MoodGoal, MoodGoalStatus
from wellness_repo.models.types import is_aware, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import refuse_managed_changes
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id, validation_error

__all__ = ["MoodGoalRepository"]


_MANAGED = ("status", "closed_at", "baseline_average")


class MoodGoalRepository(AsyncBaseRepository[MoodGoal]):
    """Mood goals: setting one, following its progress, closing it.

    Averages come from the patient's mood entries through the mood-entry
    repository, so they are computed in the database under the same access
    rules as any read of those entries.
    """

    model = MoodGoal

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        **options: Any,
    ) -> None:
        super().__init__(db_manager, logger, **options)
        self.entries = MoodEntryRepository(db_manager, logger)

    async def set_mood_goal(self, goal: MoodGoal) -> MoodGoal:
        """Store a new goal, recording its baseline when none is given: the mean
        of the patient's entries over the equal-length period just before it."""
        self._check_type(goal)
        try:
            # Checked as it stands before anything is read for it.
            goal = MoodGoal.model_validate(goal)
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity, printable_id(goal.id)) from None
        if goal.baseline_average is None:
            start = _midnight(goal.period_start)
            length = _midnight(goal.period_end) + timedelta(days=1) - start
            before = await self.entries.mood_average_between(
                goal.user_id, start - length, start
            )
            goal = goal.model_copy(update={"baseline_average": before.average})
        stored = await self.create(goal)
        self.logger.info("mood goal %s set for %s", stored.id, stored.user_id)
        return stored

    async def update(self, entity: MoodGoal) -> MoodGoal:
        """Store other changes to a goal (its target, its period).

        Its status and closing time change only through
        :meth:`close_mood_goal` (which checks the period is over and the
        target reached) and :meth:`cancel_mood_goal`; the baseline is worked
        out when the goal is set.

        Raises:
            ValidationError: ``managed_field`` when one of those differs from
                the stored goal; nothing is written.
            ConcurrencyError: the goal changed since it was read.
        """
        self._check_type(entity)
        await refuse_managed_changes(self, entity, _MANAGED)
        return await super().update(entity)

    async def mood_goal_progress(
        self, goal_id: str, *, as_of: datetime | None = None
    ) -> MoodGoalProgress:
        """How far the patient has come toward the goal, as of now (or ``as_of``).

        The current average covers the goal period's entries so far; progress
        and the on-track flag are explained in
        :mod:`wellness_repo.analysis.mood_goals`.
        """
        moment = _checked_moment(as_of)
        goal = await self.get(goal_id)
        start = _midnight(goal.period_start)
        end = _midnight(goal.period_end) + timedelta(days=1)
        current = await self.entries.mood_average_between(goal.user_id, start, end)
        return goal_progress(
            goal.id,
            target=goal.normalized_target,
            baseline=goal.baseline_average,
            current=current,
            elapsed=elapsed_fraction(goal.period_start, goal.period_end, moment),
        )

    async def active_goals(self, user_id: str) -> list[MoodGoal]:
        """A patient's active goals, the soonest to end first."""
        if not isinstance(user_id, str) or printable_id(user_id) is None:
            raise ValidationError(
                "user_id must be a patient id", field="user_id", rule="format"
            )
        page = await self.list_all(
            QueryOptions(
                filters={"user_id": user_id, "status": MoodGoalStatus.ACTIVE},
                order_by=["period_end", "id"],
            )
        )
        return page.items

    async def close_mood_goal(
        self, goal_id: str, *, as_of: datetime | None = None
    ) -> MoodGoal:
        """Close an active goal whose period is over: achieved when the period's
        average reached the target, missed otherwise.

        Raises:
            ValidationError: the period has not ended yet (``period_not_over``)
                or the goal is not active (``not_active``).
        """
        moment = _checked_moment(as_of)
        progress = await self.mood_goal_progress(goal_id, as_of=moment)
        if progress.elapsed < 1.0:
            raise ValidationError(
                "a goal is closed once its period is over",
                field="period_end",
                rule="period_not_over",
                entity=self._entity,
                entity_id=goal_id,
            )
        reached = progress.target_reached
        status = MoodGoalStatus.ACHIEVED if reached else MoodGoalStatus.MISSED
        closed = await self._finish(goal_id, status, moment)
        self.logger.info("mood goal %s closed: %s", goal_id, status.value)
        return closed

    async def cancel_mood_goal(self, goal_id: str) -> MoodGoal:
        """Cancel an active goal (the patient and clinician set it aside)."""
        cancelled = await self._finish(goal_id, MoodGoalStatus.CANCELLED, utc_now())
        self.logger.info("mood goal %s cancelled", goal_id)
        return cancelled

    async def _finish(
        self, goal_id: str, status: MoodGoalStatus, moment: datetime
    ) -> MoodGoal:
        updated = await self._atomic_update(
            goal_id,
            {"$set": {"status": status.value, "closed_at": _stored_instant(moment)}},
            guard={"status": MoodGoalStatus.ACTIVE.value},
            changed=("status", "closed_at"),
        )
        if updated is not None:
            return updated
        goal = await self.get(goal_id)
        if goal.status is MoodGoalStatus.ACTIVE:
            raise ConcurrencyError(
                "the goal changed while it was being closed; try again",
                entity=self._entity,
                entity_id=goal_id,
            )
        raise ValidationError(
            "only an active goal can be closed or cancelled",
            field="status",
            rule="not_active",
            entity=self._entity,
            entity_id=goal_id,
        )


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _stored_instant(moment: datetime) -> datetime:
    # What UtcDatetime keeps: UTC, to MongoDB's millisecond.
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000)


def _checked_moment(value: Any) -> datetime:
    if value is None:
        return utc_now()
    if not is_aware(value):
        raise ValidationError(
            "as_of must be a timezone-aware datetime, e.g. tzinfo=UTC",
            field="as_of",
            rule="timezone_required",
        )
    moment: datetime = value
    return moment
