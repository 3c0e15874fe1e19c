"""Progress toward a mood goal, from plain values (DESIGN.md rule 2).

Progress runs from the goal's starting level to its target: the baseline (the
mean of the equal-length period before the goal), or the bottom of the scale
when no baseline was recorded. A patient is on track when the period's average
so far has reached the level a straight line from starting level to target
would have reached by now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from wellness_repo.analysis.mood_trend_results import TIE_TOLERANCE, MoodAverage

__all__ = ["MoodGoalProgress", "elapsed_fraction", "goal_progress"]


@dataclass(frozen=True, slots=True)
class MoodGoalProgress:
    """How far a patient has come toward a mood goal (all levels normalised)."""

    goal_id: str
    current_average: float | None
    """The mean of the goal period's entries so far; ``None`` without entries."""
    entries: int
    target: float
    starting_level: float
    """The baseline, or 0.0 (the bottom of the scale) without one."""
    progress: float
    """0.0 at the starting level, 1.0 at (or past) the target."""
    elapsed: float
    """The share of the goal's period that has passed, 0.0 to 1.0."""
    expected_average: float
    """The level a steady path from starting level to target reaches by now."""
    on_track: bool
    target_reached: bool
    """Whether the average so far is at or above the target."""


def elapsed_fraction(first_day: date, last_day: date, moment: datetime) -> float:
    """The share of the days ``first_day``..``last_day`` (both included) that
    has passed at ``moment``."""
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    passed = (moment - start) / (end - start)
    return min(max(passed, 0.0), 1.0)


def goal_progress(
    goal_id: str,
    *,
    target: float,
    baseline: float | None,
    current: MoodAverage,
    elapsed: float,
) -> MoodGoalProgress:
    """Progress toward ``target`` of a period whose entries average ``current``.

    A target at or below the starting level counts as reached once the average
    is at the target, and as not reached before.
    """
    starting = baseline if baseline is not None else 0.0
    climb = target - starting
    expected = starting + climb * elapsed if climb > 0 else target
    average = current.average
    if average is None:
        progress = 0.0
    elif climb > 0:
        progress = min(max((average - starting) / climb, 0.0), 1.0)
    else:
        progress = 1.0 if average >= target - TIE_TOLERANCE else 0.0
    return MoodGoalProgress(
        goal_id=goal_id,
        current_average=average,
        entries=current.entries,
        target=target,
        starting_level=starting,
        progress=progress,
        elapsed=elapsed,
        expected_average=expected,
        on_track=average is not None and average >= expected - TIE_TOLERANCE,
        target_reached=average is not None and average >= target - TIE_TOLERANCE,
    )
