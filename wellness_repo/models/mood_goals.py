"""Mood goals: a target average mood a patient works toward over a period, such
as "an average of at least 6 out of 10 through March"."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import SoftDeletableDocument
from wellness_repo.models.engagement import MoodScale
from wellness_repo.models.types import ID_PATTERN, CalendarDate, UtcDatetime
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = ["MAX_GOAL_DAYS", "MoodGoal", "MoodGoalStatus"]

MAX_GOAL_DAYS = 366
"""The longest a goal's period may run; longer aims are broken into steps."""

PatientId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ActorName = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MoodGoalStatus(StrEnum):
    """Where a mood goal stands."""

    ACTIVE = "active"
    ACHIEVED = "achieved"
    MISSED = "missed"
    CANCELLED = "cancelled"


class MoodGoal(SoftDeletableDocument):
    """A target average mood for a patient over a period of UTC days.

    Fields:
        target_average: the mean to reach, on ``target_scale`` (e.g. 6.0 on
            ``ONE_TO_TEN``), or on the normalised 0..1 scale when
            ``target_scale`` is ``None``.
        period_start, period_end: the first and last day of the goal, both
            included, at most ``MAX_GOAL_DAYS`` apart.
        baseline_average: the normalised mean of the equal-length period just
            before the start; ``set_mood_goal`` records it, and progress is
            measured from it.
        set_by: who set the goal (the patient, or a clinician with them).
    """

    ID_NAME: ClassVar[str] = "goal_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PATIENT_AUTHORED)

    user_id: PatientId
    target_scale: MoodScale | None = None
    target_average: float
    period_start: CalendarDate
    period_end: CalendarDate
    baseline_average: float | None = Field(default=None, ge=0.0, le=1.0)
    status: MoodGoalStatus = MoodGoalStatus.ACTIVE
    set_by: ActorName | None = None
    closed_at: UtcDatetime | None = None

    class Settings:
        name = "mood_goals"

    @property
    def goal_id(self) -> str:
        """The platform's name for this goal's id."""
        return self.id

    @property
    def normalized_target(self) -> float:
        """The target on the normalised 0..1 scale mood entries are averaged on."""
        if self.target_scale is None:
            return self.target_average
        return self.target_scale.normalize(self.target_average)

    @field_validator("target_average")
    @classmethod
    def _target_on_its_scale(cls, value: float, info: ValidationInfo) -> float:
        if "target_scale" not in info.data:
            return value
        scale: MoodScale | None = info.data["target_scale"]
        lowest, highest = (0.0, 1.0) if scale is None else (scale.lowest, scale.highest)
        if not lowest < value <= highest:
            raise PydanticCustomError(
                "target_range",
                "target_average must be above {lowest} and at most {highest}",
                {"lowest": lowest, "highest": highest},
            )
        return value

    @field_validator("period_end")
    @classmethod
    def _period_in_order(cls, value: Any, info: ValidationInfo) -> Any:
        start = info.data.get("period_start")
        if not isinstance(start, date) or not isinstance(value, date):
            return value
        if value < start:
            raise PydanticCustomError(
                "period_order", "period_end must not be before period_start"
            )
        if (value - start).days + 1 > MAX_GOAL_DAYS:
            raise PydanticCustomError(
                "period_length",
                "a goal's period may span at most {days} days",
                {"days": MAX_GOAL_DAYS},
            )
        return value
