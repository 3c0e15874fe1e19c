"""Mood trends of one patient, computed in plain Python: the reference the
database pipeline of ``MoodEntryRepository.analyze_mood_trends`` is checked
against (DESIGN.md rule 2).

It takes plain observations (when, the normalised rating, the labels) and
computes every part of :class:`~wellness_repo.analysis.mood_trend_results.MoodTrends`
directly: daily and ISO-week means, the least-squares slope through the daily
means (centred form), the population standard deviation of the daily means, the
mean of the daily means per weekday, and, per factor and trigger, the mean rating
of the entries with and without it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from wellness_repo.analysis.mood_trend_results import (
    MIN_LABEL_ENTRIES,
    DailyMood,
    LabelAssociation,
    MoodAverage,
    MoodTrends,
    TrendWindow,
    WeekdayMood,
    WeeklyMood,
)

__all__ = ["MoodObservation", "daily_means", "summarize_mood_trends"]

_LabelsOf = Callable[["MoodObservation"], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class MoodObservation:
    """One mood entry as the analysis sees it."""

    at: datetime
    """When the mood was felt (timezone-aware)."""
    rating: float
    """The normalised rating, 0..1."""
    factors: tuple[str, ...] = field(default=())
    triggers: tuple[str, ...] = field(default=())


def daily_means(observations: Iterable[MoodObservation]) -> list[DailyMood]:
    """The mean normalised rating of each UTC day with entries, in day order."""
    by_day: dict[date, list[float]] = defaultdict(list)
    for observation in observations:
        by_day[observation.at.astimezone(UTC).date()].append(observation.rating)
    return [
        DailyMood(day=day, average=statistics.fmean(values), entries=len(values))
        for day, values in sorted(by_day.items())
    ]


def summarize_mood_trends(
    observations: Iterable[MoodObservation],
    window: TrendWindow,
    *,
    min_label_entries: int = MIN_LABEL_ENTRIES,
) -> MoodTrends:
    """The mood trends of ``observations`` over ``window``.

    Observations outside the window and its previous period are ignored.
    """
    everything = list(observations)
    current = [o for o in everything if window.start <= o.at < window.end]
    previous = [o for o in everything if window.previous_start <= o.at < window.start]
    daily = daily_means(current)
    return MoodTrends.assemble(
        window,
        current=_mean(current),
        previous=_mean(previous),
        previous_days_logged=len(daily_means(previous)),
        daily=daily,
        weekly=_weekly(current),
        weekdays=_weekdays(daily),
        slope_per_day=_slope(daily, window),
        volatility=_spread(daily),
        factors=_associations(current, lambda o: o.factors),
        triggers=_associations(current, lambda o: o.triggers),
        min_label_entries=min_label_entries,
    )


def _mean(observations: Sequence[MoodObservation]) -> MoodAverage:
    if not observations:
        return MoodAverage(average=None, entries=0)
    ratings = [o.rating for o in observations]
    return MoodAverage(average=statistics.fmean(ratings), entries=len(ratings))


def _weekly(observations: Sequence[MoodObservation]) -> list[WeeklyMood]:
    by_week: dict[str, list[float]] = defaultdict(list)
    for observation in observations:
        year, week, _ = observation.at.astimezone(UTC).isocalendar()
        by_week[f"{year:04d}-W{week:02d}"].append(observation.rating)
    return [
        WeeklyMood(week=week, average=statistics.fmean(values), entries=len(values))
        for week, values in by_week.items()
    ]


def _weekdays(daily: Sequence[DailyMood]) -> list[WeekdayMood]:
    by_weekday: dict[int, list[float]] = defaultdict(list)
    for day in daily:
        by_weekday[day.day.isoweekday()].append(day.average)
    return [
        WeekdayMood(weekday=weekday, average=statistics.fmean(values), days=len(values))
        for weekday, values in by_weekday.items()
    ]


def _slope(daily: Sequence[DailyMood], window: TrendWindow) -> float | None:
    if len(daily) < 2:
        return None
    xs = [window.day_index(day.day) for day in daily]
    ys = [day.average for day in daily]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    across = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    spread = sum((x - mean_x) ** 2 for x in xs)
    return across / spread


def _spread(daily: Sequence[DailyMood]) -> float | None:
    if len(daily) < 2:
        return None
    return statistics.pstdev(day.average for day in daily)


def _associations(
    observations: Sequence[MoodObservation],
    labels_of: _LabelsOf,
) -> list[LabelAssociation]:
    seen = {label for o in observations for label in labels_of(o)}
    found = []
    for label in seen:
        with_label = [o.rating for o in observations if label in labels_of(o)]
        without = [o.rating for o in observations if label not in labels_of(o)]
        if not without:
            continue
        found.append(
            LabelAssociation(
                label=label,
                entries_with=len(with_label),
                entries_without=len(without),
                average_with=statistics.fmean(with_label),
                average_without=statistics.fmean(without),
            )
        )
    return found
