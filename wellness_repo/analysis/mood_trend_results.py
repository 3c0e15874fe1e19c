"""What a mood-trend analysis reports about a patient, and the small rules both
ways of computing it share: the analysed window, trend direction, best and worst
weekday, ranking of factors and triggers, and logging streaks.

The mood-entry repository computes the averages and sums in the database and
the reference in :mod:`wellness_repo.analysis.mood_trends` computes them from
plain values; both then assemble a :class:`MoodTrends` through
:meth:`MoodTrends.assemble`, so the rules here are applied the same way.

Every average is on the normalised 0..1 scale (``MoodEntry.normalized_rating``),
so entries rated on different scales mix; ``MoodScale.denormalize`` shows one on
a patient's own scale.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

__all__ = [
    "MIN_LABEL_ENTRIES",
    "STABLE_SLOPE_PER_DAY",
    "TIE_TOLERANCE",
    "TOP_LABELS",
    "DailyMood",
    "LabelAssociation",
    "LoggingStreaks",
    "MoodAverage",
    "MoodTrends",
    "PeriodComparison",
    "TrendDirection",
    "TrendWindow",
    "WeekdayMood",
    "WeeklyMood",
    "logging_streaks",
    "trend_direction",
]

STABLE_SLOPE_PER_DAY = 0.005
"""A trend flatter than this (normalised units per day, either way) is stable.
0.005 a day is 0.15 over thirty days: about 1.4 points a month on a 1-10 scale,
the smallest monthly change clinicians usually treat as real."""
MIN_LABEL_ENTRIES = 3
"""A factor or trigger is compared only when at least this many entries of the
period carry it and at least this many do not."""
TOP_LABELS = 5
"""How many factors or triggers each "most associated" list names."""
TIE_TOLERANCE = 1e-9
"""Averages closer than this are equal: the database and Python add in different
orders, and a rounding difference must not change which weekday is best."""


class TrendDirection(StrEnum):
    """Which way a patient's daily mood is heading over the period."""

    IMPROVING = "improving"
    DECLINING = "declining"
    STABLE = "stable"
    INSUFFICIENT_DATA = "insufficient_data"
    """Fewer than two days with entries: no line can be drawn."""


def trend_direction(slope_per_day: float | None) -> TrendDirection:
    """The direction a least-squares slope (normalised units a day) indicates."""
    if slope_per_day is None:
        return TrendDirection.INSUFFICIENT_DATA
    if slope_per_day > STABLE_SLOPE_PER_DAY:
        return TrendDirection.IMPROVING
    if slope_per_day < -STABLE_SLOPE_PER_DAY:
        return TrendDirection.DECLINING
    return TrendDirection.STABLE


@dataclass(frozen=True, slots=True)
class TrendWindow:
    """The analysed period: ``days`` whole UTC days ending with ``last_day``, and
    the previous period of the same length just before it."""

    last_day: date
    days: int

    @classmethod
    def ending_at(cls, moment: datetime, days: int) -> TrendWindow:
        """The window of ``days`` days whose last day contains ``moment``."""
        return cls(moment.astimezone(UTC).date(), days)

    @property
    def first_day(self) -> date:
        """The first day of the period."""
        return self.last_day - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        """Midnight UTC at the start of the first day (included)."""
        return datetime.combine(self.first_day, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Midnight UTC after the last day (excluded)."""
        return self.start + timedelta(days=self.days)

    @property
    def previous_start(self) -> datetime:
        """Start of the previous period, which ends where this one starts."""
        return self.start - timedelta(days=self.days)

    def day_index(self, day: date) -> int:
        """The day's position in the period: 0 for the first day."""
        return (day - self.first_day).days


@dataclass(frozen=True, slots=True)
class MoodAverage:
    """The mean normalised rating of a set of entries, and how many there were."""

    average: float | None
    entries: int


@dataclass(frozen=True, slots=True)
class DailyMood:
    """The mean of one UTC day's entries."""

    day: date
    average: float
    entries: int


@dataclass(frozen=True, slots=True)
class WeeklyMood:
    """The mean of the period's entries in one ISO week (``"2026-W07"``)."""

    week: str
    average: float
    entries: int


@dataclass(frozen=True, slots=True)
class WeekdayMood:
    """The mean of the daily averages falling on one weekday (ISO: 1 = Monday)."""

    weekday: int
    average: float
    days: int

    @property
    def name(self) -> str:
        """The weekday's English name."""
        return calendar.day_name[self.weekday - 1]


@dataclass(frozen=True, slots=True)
class LabelAssociation:
    """How mood differs between entries with and without one factor or trigger."""

    label: str
    entries_with: int
    entries_without: int
    average_with: float
    average_without: float

    @property
    def difference(self) -> float:
        """Mean normalised rating with the label minus without it."""
        return self.average_with - self.average_without


@dataclass(frozen=True, slots=True)
class LoggingStreaks:
    """Runs of consecutive UTC days with at least one entry, within the period.

    ``current_days`` is the run ending on the period's last day, or on the day
    before when nothing has been logged yet on the last day (it is not over).
    """

    current_days: int
    longest_days: int


def logging_streaks(days_logged: Iterable[date], window: TrendWindow) -> LoggingStreaks:
    """The current and longest logging streaks of the days within ``window``."""
    logged = {day for day in days_logged if window.first_day <= day <= window.last_day}
    longest = run = 0
    previous: date | None = None
    for day in sorted(logged):
        run = run + 1 if previous == day - timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    day = window.last_day
    if day not in logged:
        day -= timedelta(days=1)
    while day in logged:
        current += 1
        day -= timedelta(days=1)
    return LoggingStreaks(current_days=current, longest_days=longest)


@dataclass(frozen=True, slots=True)
class PeriodComparison:
    """The previous period of equal length, against the analysed one."""

    previous_average: float | None
    previous_entries: int
    previous_days_logged: int
    change: float | None
    """Current mean minus previous mean; ``None`` when either has no entries."""


@dataclass(frozen=True, slots=True)
class MoodTrends:
    """A patient's mood over a period, from ``analyze_mood_trends``.

    Averages are normalised (0..1). Volatility is the population standard
    deviation of the daily averages; the slope is the least-squares line through
    the daily averages against the day's position, in normalised units per day.
    Both are ``None`` with fewer than two days logged. Factors and triggers are
    listed with every comparison that met ``MIN_LABEL_ENTRIES``, largest
    difference first.
    """

    window: TrendWindow
    entries: int
    days_logged: int
    average: float | None
    daily: tuple[DailyMood, ...]
    weekly: tuple[WeeklyMood, ...]
    slope_per_day: float | None
    direction: TrendDirection
    volatility: float | None
    weekdays: tuple[WeekdayMood, ...]
    best_weekday: WeekdayMood | None
    worst_weekday: WeekdayMood | None
    factors: tuple[LabelAssociation, ...]
    triggers: tuple[LabelAssociation, ...]
    streaks: LoggingStreaks
    comparison: PeriodComparison

    @classmethod
    def assemble(
        cls,
        window: TrendWindow,
        *,
        current: MoodAverage,
        previous: MoodAverage,
        previous_days_logged: int,
        daily: Sequence[DailyMood],
        weekly: Sequence[WeeklyMood],
        weekdays: Sequence[WeekdayMood],
        slope_per_day: float | None,
        volatility: float | None,
        factors: Iterable[LabelAssociation],
        triggers: Iterable[LabelAssociation],
        min_label_entries: int = MIN_LABEL_ENTRIES,
    ) -> MoodTrends:
        """The analysis from its computed parts, applying the shared rules.

        ``factors`` and ``triggers`` may hold every label seen; those with fewer
        than ``min_label_entries`` entries on either side are left out.
        """
        change = None
        if current.average is not None and previous.average is not None:
            change = current.average - previous.average
        ordered_weekdays = tuple(sorted(weekdays, key=lambda item: item.weekday))
        best, worst = _best_and_worst(ordered_weekdays)
        return cls(
            window=window,
            entries=current.entries,
            days_logged=len(daily),
            average=current.average,
            daily=tuple(sorted(daily, key=lambda item: item.day)),
            weekly=tuple(sorted(weekly, key=lambda item: item.week)),
            slope_per_day=slope_per_day,
            direction=trend_direction(slope_per_day),
            volatility=volatility,
            weekdays=ordered_weekdays,
            best_weekday=best,
            worst_weekday=worst,
            factors=_ranked(factors, min_label_entries),
            triggers=_ranked(triggers, min_label_entries),
            streaks=logging_streaks((item.day for item in daily), window),
            comparison=PeriodComparison(
                previous_average=previous.average,
                previous_entries=previous.entries,
                previous_days_logged=previous_days_logged,
                change=change,
            ),
        )

    @property
    def higher_mood_factors(self) -> tuple[LabelAssociation, ...]:
        """The factors most associated with better mood, strongest first."""
        return _lifting(self.factors)

    @property
    def lower_mood_factors(self) -> tuple[LabelAssociation, ...]:
        """The factors most associated with worse mood, strongest first."""
        return _dampening(self.factors)

    @property
    def higher_mood_triggers(self) -> tuple[LabelAssociation, ...]:
        """The triggers whose entries were, on average, the least low."""
        return _lifting(self.triggers)

    @property
    def lower_mood_triggers(self) -> tuple[LabelAssociation, ...]:
        """The triggers most associated with worse mood, strongest first."""
        return _dampening(self.triggers)


def _best_and_worst(
    weekdays: Sequence[WeekdayMood],
) -> tuple[WeekdayMood | None, WeekdayMood | None]:
    # With one weekday logged there is nothing to compare; ties go to the
    # earliest weekday, so both ways of computing pick the same one.
    if len(weekdays) < 2:
        return None, None
    highest = max(item.average for item in weekdays)
    lowest = min(item.average for item in weekdays)
    best = next(i for i in weekdays if i.average >= highest - TIE_TOLERANCE)
    worst = next(i for i in weekdays if i.average <= lowest + TIE_TOLERANCE)
    return best, worst


def _ranked(
    found: Iterable[LabelAssociation], minimum: int
) -> tuple[LabelAssociation, ...]:
    kept = [
        item
        for item in found
        if item.entries_with >= minimum and item.entries_without >= minimum
    ]
    return tuple(sorted(kept, key=lambda item: (-item.difference, item.label)))


def _lifting(ranked: Sequence[LabelAssociation]) -> tuple[LabelAssociation, ...]:
    return tuple(item for item in ranked if item.difference > 0)[:TOP_LABELS]


def _dampening(ranked: Sequence[LabelAssociation]) -> tuple[LabelAssociation, ...]:
    lowering = [item for item in ranked if item.difference < 0]
    lowering.sort(key=lambda item: (item.difference, item.label))
    return tuple(lowering[:TOP_LABELS])
