"""Mood check-ins for the mood tests: the platform's own example entry, a
patient's realistic month of entries, hypothesis strategies for mood histories,
and the comparison of two trend analyses within floating-point tolerance."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from wellness_repo import (
    MoodEntry,
    MoodObservation,
    MoodScale,
    MoodTrends,
    MoodType,
    TrendWindow,
)
from wellness_repo.analysis.mood_trend_results import STABLE_SLOPE_PER_DAY

PATIENT = "patient_123"
OTHER_PATIENT = "patient_456"
AS_OF = datetime(2026, 3, 18, 20, 30, tzinfo=UTC)
"""A Wednesday evening: the moment the analyses in these tests are made."""
FACTORS = ("Good sleep", "Exercise", "Time with friends", "Took medication")
TRIGGERS = ("Work stress", "Argument with partner", "Poor sleep", "Loneliness")
SEED_NOTE = "Feeling more balanced today"
AVERAGE_TOLERANCE = 1e-9
SPREAD_TOLERANCE = 1e-7


def seed_mood_entry(**changes: Any) -> MoodEntry:
    """The platform's example check-in, a good day on the 1-10 scale."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "mood_scale": MoodScale.ONE_TO_TEN,
        "mood_rating": 7,
        "mood_type": MoodType.GENERAL,
        "contributing_factors": ["Good sleep", "Exercise"],
        "triggers": ["Work stress"],
        "notes": SEED_NOTE,
    }
    values.update(changes)
    return MoodEntry(**values)


def entry_days_ago(days: float, rating: int, **changes: Any) -> MoodEntry:
    """A 1-10 check-in ``days`` days before ``AS_OF``."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "mood_rating": rating,
        "created_at": AS_OF - timedelta(days=days),
    }
    values.update(changes)
    return MoodEntry(**values)


def observation_of(entry: MoodEntry) -> MoodObservation:
    """What the reference analysis reads of an entry."""
    return MoodObservation(
        at=entry.created_at,
        rating=entry.normalized_rating,
        factors=tuple(entry.contributing_factors),
        triggers=tuple(entry.triggers),
    )


@dataclass(frozen=True)
class MoodHistory:
    """Generated check-ins, and the analysis to run over them."""

    entries: list[MoodEntry]
    days_back: int
    mood_type: MoodType | None
    min_label_entries: int


@st.composite
def moments(draw: st.DrawFn, days_back: int) -> datetime:
    """A moment from before the previous period to the end of the analysed
    period's last day; often a UTC midnight, or the millisecond before one,
    where entries change day, week and period."""
    window = TrendWindow.ending_at(AS_OF, days_back)
    earliest = window.previous_start - timedelta(days=2)
    if draw(st.booleans()):
        midnight = earliest + timedelta(days=draw(st.integers(0, 2 * days_back + 2)))
        return midnight - timedelta(milliseconds=draw(st.sampled_from([0, 1])))
    span = int((window.end - earliest).total_seconds() * 1000) - 1
    return earliest + timedelta(milliseconds=draw(st.integers(0, span)))


@st.composite
def mood_entries(draw: st.DrawFn, days_back: int) -> MoodEntry:
    """One check-in of ``PATIENT`` (sometimes another patient's)."""
    scale = draw(st.sampled_from(MoodScale))
    return MoodEntry(
        user_id=draw(st.sampled_from([PATIENT] * 6 + [OTHER_PATIENT])),
        mood_scale=scale,
        mood_rating=draw(st.integers(scale.lowest, scale.highest)),
        mood_type=draw(st.sampled_from([MoodType.GENERAL, MoodType.ANXIETY])),
        contributing_factors=draw(st.lists(st.sampled_from(FACTORS), max_size=3)),
        triggers=draw(st.lists(st.sampled_from(TRIGGERS), max_size=2)),
        created_at=draw(moments(days_back)),
    )


@st.composite
def mood_histories(draw: st.DrawFn) -> MoodHistory:
    """A patient's check-ins over a few weeks, with the analysis to run."""
    days_back = draw(st.integers(1, 21))
    entries = draw(st.lists(mood_entries(days_back), max_size=45))
    return MoodHistory(
        entries=entries,
        days_back=days_back,
        mood_type=draw(
            st.none() | st.sampled_from([MoodType.GENERAL, MoodType.ANXIETY])
        ),
        min_label_entries=draw(st.integers(1, 4)),
    )


def observations_for(history: MoodHistory) -> list[MoodObservation]:
    """The observations the reference analyses: the patient's, of the type."""
    return [
        observation_of(entry)
        for entry in history.entries
        if entry.user_id == PATIENT
        and (history.mood_type is None or entry.mood_type is history.mood_type)
    ]


def close(actual: float | None, expected: float | None, tolerance: float) -> bool:
    """Whether two optional numbers agree within ``tolerance``."""
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) <= tolerance


def assert_trends_agree(actual: MoodTrends, expected: MoodTrends) -> None:
    """Fail unless two analyses agree: counts exactly, means within rounding."""
    tol = AVERAGE_TOLERANCE
    assert actual.window == expected.window
    assert (actual.entries, actual.days_logged) == (
        expected.entries,
        expected.days_logged,
    )
    assert close(actual.average, expected.average, tol)
    _assert_rows_agree(actual.daily, expected.daily, "day", "entries")
    _assert_rows_agree(actual.weekly, expected.weekly, "week", "entries")
    _assert_rows_agree(actual.weekdays, expected.weekdays, "weekday", "days")
    assert close(actual.slope_per_day, expected.slope_per_day, tol)
    if not _on_threshold(expected.slope_per_day):
        assert actual.direction is expected.direction
    assert close(actual.volatility, expected.volatility, SPREAD_TOLERANCE)
    assert _weekday(actual.best_weekday) == _weekday(expected.best_weekday)
    assert _weekday(actual.worst_weekday) == _weekday(expected.worst_weekday)
    _assert_labels_agree(actual.factors, expected.factors)
    _assert_labels_agree(actual.triggers, expected.triggers)
    assert actual.streaks == expected.streaks
    now, then = actual.comparison, expected.comparison
    assert (now.previous_entries, now.previous_days_logged) == (
        then.previous_entries,
        then.previous_days_logged,
    )
    assert close(now.previous_average, then.previous_average, tol)
    assert close(now.change, then.change, tol)


def _assert_rows_agree(
    actual: tuple[Any, ...], expected: tuple[Any, ...], key: str, count: str
) -> None:
    assert [(getattr(r, key), getattr(r, count)) for r in actual] == [
        (getattr(r, key), getattr(r, count)) for r in expected
    ]
    for mine, theirs in zip(actual, expected, strict=True):
        assert close(mine.average, theirs.average, AVERAGE_TOLERANCE)


def _assert_labels_agree(actual: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    mine = {item.label: item for item in actual}
    theirs = {item.label: item for item in expected}
    assert sorted(mine) == sorted(theirs)
    for label, item in mine.items():
        other = theirs[label]
        assert (item.entries_with, item.entries_without) == (
            other.entries_with,
            other.entries_without,
        )
        assert close(item.average_with, other.average_with, AVERAGE_TOLERANCE)
        assert close(item.average_without, other.average_without, AVERAGE_TOLERANCE)
    differences = [item.difference for item in actual]
    assert all(
        later <= earlier + AVERAGE_TOLERANCE
        for earlier, later in itertools.pairwise(differences)
    )


def _on_threshold(slope: float | None) -> bool:
    # A slope within rounding of the threshold may fall either side of it.
    return slope is not None and abs(abs(slope) - STABLE_SLOPE_PER_DAY) < 1e-9


def _weekday(found: Any) -> int | None:
    return None if found is None else int(found.weekday)
