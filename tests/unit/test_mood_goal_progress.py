"""Progress toward a mood goal, from plain values: the starting level, the
steady path to the target, and the share of the period that has passed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from wellness_repo import MoodAverage
from wellness_repo.analysis.mood_goals import elapsed_fraction, goal_progress

FIRST_DAY = date(2026, 3, 2)
LAST_DAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("moment", "fraction"),
    [
        (datetime(2026, 2, 20, tzinfo=UTC), 0.0),
        (datetime(2026, 3, 2, tzinfo=UTC), 0.0),
        (datetime(2026, 3, 5, 12, tzinfo=UTC), 0.25),
        (datetime(2026, 3, 16, tzinfo=UTC), 1.0),
        (datetime(2026, 4, 1, tzinfo=UTC), 1.0),
    ],
)
def test_the_elapsed_share_counts_whole_days_and_stays_within_the_period(
    moment: datetime, fraction: float
) -> None:
    found = elapsed_fraction(FIRST_DAY, LAST_DAY, moment)

    assert found == pytest.approx(fraction)


def test_without_a_baseline_progress_starts_from_the_bottom_of_the_scale() -> None:
    progress = goal_progress(
        "goal_1",
        target=0.8,
        baseline=None,
        current=MoodAverage(average=0.4, entries=6),
        elapsed=0.5,
    )

    assert (progress.starting_level, progress.progress) == (0.0, 0.5)
    assert progress.expected_average == pytest.approx(0.4)
    assert progress.on_track


def test_an_average_past_the_target_counts_as_full_progress() -> None:
    progress = goal_progress(
        "goal_1",
        target=0.6,
        baseline=0.3,
        current=MoodAverage(average=0.9, entries=10),
        elapsed=0.2,
    )

    assert (progress.progress, progress.target_reached) == (1.0, True)


def test_a_target_already_below_the_baseline_is_reached_only_at_the_target() -> None:
    holding = MoodAverage(average=0.55, entries=4)
    slipping = MoodAverage(average=0.45, entries=4)

    kept = goal_progress(
        "goal_1", target=0.5, baseline=0.7, current=holding, elapsed=0.5
    )
    lost = goal_progress(
        "goal_1", target=0.5, baseline=0.7, current=slipping, elapsed=0.5
    )

    assert (kept.progress, kept.on_track) == (1.0, True)
    assert (lost.progress, lost.on_track) == (0.0, False)
