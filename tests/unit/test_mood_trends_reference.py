"""The plain-Python mood-trend analysis, on small histories worked out by hand.

These pin down the definitions the database pipeline is then held to: UTC days,
ISO weeks, the slope and spread of daily means, weekday means, factor and
trigger associations, streaks and the previous-period comparison.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from wellness_repo import (
    MoodObservation,
    TrendDirection,
    TrendWindow,
    summarize_mood_trends,
)
from wellness_repo.analysis.mood_trend_results import (
    STABLE_SLOPE_PER_DAY,
    LoggingStreaks,
    logging_streaks,
    trend_direction,
)

LAST_DAY = date(2026, 3, 18)  # a Wednesday
WEEK = TrendWindow(last_day=LAST_DAY, days=7)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on ``day``, UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def days_before_last(days: int) -> date:
    return LAST_DAY - timedelta(days=days)


def seen(
    day: date,
    rating: float,
    *,
    factors: tuple[str, ...] = (),
    triggers: tuple[str, ...] = (),
    hour: int = 12,
) -> MoodObservation:
    return MoodObservation(at(day, hour), rating, factors, triggers)


def test_the_window_covers_whole_utc_days_ending_with_the_day_of_the_moment() -> None:
    window = TrendWindow.ending_at(datetime(2026, 3, 18, 23, 59, tzinfo=UTC), 7)

    assert (window.first_day, window.last_day) == (date(2026, 3, 12), LAST_DAY)
    assert window.start == datetime(2026, 3, 12, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 19, tzinfo=UTC)
    assert window.previous_start == datetime(2026, 3, 5, tzinfo=UTC)


def test_entries_are_grouped_by_their_utc_day_whatever_zone_they_were_given_in() -> (
    None
):
    new_york = timezone(timedelta(hours=-5))
    late_evening_in_new_york = datetime(2026, 3, 16, 21, 0, tzinfo=new_york)
    observations = [
        seen(days_before_last(1), 0.2, hour=23),
        MoodObservation(late_evening_in_new_york, 0.6),
    ]

    trends = summarize_mood_trends(observations, WEEK)

    assert [(d.day, d.entries) for d in trends.daily] == [(date(2026, 3, 17), 2)]
    assert trends.daily[0].average == pytest.approx(0.4)


def test_weekly_means_follow_iso_weeks_across_the_new_year() -> None:
    window = TrendWindow(last_day=date(2026, 1, 4), days=14)
    observations = [
        seen(date(2025, 12, 28), 0.1),  # Sunday of 2025-W52
        seen(date(2025, 12, 31), 0.5),  # Wednesday of 2026-W01
        seen(date(2026, 1, 2), 0.7),
    ]

    trends = summarize_mood_trends(observations, window)

    assert [(w.week, w.entries) for w in trends.weekly] == [
        ("2025-W52", 1),
        ("2026-W01", 2),
    ]
    assert trends.weekly[1].average == pytest.approx(0.6)


def test_the_slope_is_the_least_squares_line_through_daily_means_per_day() -> None:
    observations = [
        seen(days_before_last(4), 0.2),
        seen(days_before_last(4), 0.4),  # that day's mean is 0.3
        seen(days_before_last(2), 0.5),
        seen(days_before_last(0), 0.7),
    ]

    trends = summarize_mood_trends(observations, WEEK)

    assert trends.slope_per_day == pytest.approx(0.1)
    assert trends.direction is TrendDirection.IMPROVING


@pytest.mark.parametrize(
    ("slope", "direction"),
    [
        (STABLE_SLOPE_PER_DAY * 0.9, TrendDirection.STABLE),
        (-STABLE_SLOPE_PER_DAY * 0.9, TrendDirection.STABLE),
        (STABLE_SLOPE_PER_DAY * 1.1, TrendDirection.IMPROVING),
        (-STABLE_SLOPE_PER_DAY * 1.1, TrendDirection.DECLINING),
        (None, TrendDirection.INSUFFICIENT_DATA),
    ],
)
def test_a_slope_within_the_threshold_either_way_is_stable(
    slope: float | None, direction: TrendDirection
) -> None:
    found = trend_direction(slope)

    assert found is direction


def test_one_logged_day_gives_no_slope_and_no_volatility() -> None:
    observations = [seen(LAST_DAY, 0.3), seen(LAST_DAY, 0.9, hour=18)]

    trends = summarize_mood_trends(observations, WEEK)

    assert (trends.slope_per_day, trends.volatility) == (None, None)
    assert trends.direction is TrendDirection.INSUFFICIENT_DATA


def test_volatility_is_the_population_deviation_of_daily_means_not_of_entries() -> None:
    observations = [
        seen(days_before_last(1), 0.0),
        seen(days_before_last(1), 0.4, hour=20),  # mean 0.2
        seen(LAST_DAY, 0.6),
    ]

    trends = summarize_mood_trends(observations, WEEK)

    assert trends.volatility == pytest.approx(0.2)


def test_best_and_worst_weekday_compare_the_means_of_daily_means() -> None:
    window = TrendWindow(last_day=LAST_DAY, days=14)
    observations = [
        seen(date(2026, 3, 9), 0.9),  # Monday
        seen(date(2026, 3, 16), 0.5),  # Monday: Mondays average 0.7
        seen(date(2026, 3, 10), 0.2),  # Tuesday
        seen(date(2026, 3, 10), 1.0, hour=21),  # Tuesday's mean 0.6
        seen(date(2026, 3, 18), 0.1),  # Wednesday
    ]

    trends = summarize_mood_trends(observations, window)

    assert trends.best_weekday is not None
    assert trends.worst_weekday is not None
    assert (trends.best_weekday.name, trends.best_weekday.days) == ("Monday", 2)
    assert trends.best_weekday.average == pytest.approx(0.7)
    assert trends.worst_weekday.name == "Wednesday"


def test_tied_weekdays_resolve_to_the_earliest_in_the_week() -> None:
    observations = [
        seen(date(2026, 3, 13), 0.5),  # Friday
        seen(date(2026, 3, 16), 0.5),  # Monday
    ]

    trends = summarize_mood_trends(observations, WEEK)

    assert trends.best_weekday is not None
    assert trends.worst_weekday is not None
    assert (trends.best_weekday.name, trends.worst_weekday.name) == (
        "Monday",
        "Monday",
    )


def test_a_single_weekday_logged_names_no_best_or_worst() -> None:
    observations = [seen(LAST_DAY, 0.4)]

    trends = summarize_mood_trends(observations, WEEK)

    assert (trends.best_weekday, trends.worst_weekday) == (None, None)


def test_a_factor_is_compared_by_mean_rating_with_and_without_it() -> None:
    observations = [
        seen(days_before_last(day), rating, factors=factors)
        for day, rating, factors in [
            (0, 0.8, ("Exercise",)),
            (1, 0.6, ("Exercise",)),
            (2, 0.4, ()),
            (3, 0.2, ()),
        ]
    ]

    trends = summarize_mood_trends(observations, WEEK, min_label_entries=2)

    (exercise,) = trends.factors
    assert (exercise.entries_with, exercise.entries_without) == (2, 2)
    assert exercise.average_with == pytest.approx(0.7)
    assert exercise.average_without == pytest.approx(0.3)
    assert exercise.difference == pytest.approx(0.4)
    assert trends.higher_mood_factors == (exercise,)
    assert trends.lower_mood_factors == ()


def test_labels_seen_too_rarely_on_either_side_are_not_compared() -> None:
    observations = [
        seen(days_before_last(0), 0.2, triggers=("Work stress", "Poor sleep")),
        seen(days_before_last(1), 0.3, triggers=("Work stress",)),
        seen(days_before_last(2), 0.9, triggers=("Work stress",)),
        seen(days_before_last(3), 0.8),
    ]

    trends = summarize_mood_trends(observations, WEEK, min_label_entries=2)

    assert trends.triggers == ()


def test_lower_mood_triggers_list_the_strongest_drop_first() -> None:
    observations = [
        seen(days_before_last(0), 0.1, triggers=("Argument with partner",)),
        seen(days_before_last(1), 0.3, triggers=("Work stress",)),
        seen(days_before_last(2), 0.8),
    ]

    trends = summarize_mood_trends(observations, WEEK, min_label_entries=1)

    assert [item.label for item in trends.lower_mood_triggers] == [
        "Argument with partner",
        "Work stress",
    ]


def test_the_current_streak_runs_back_from_the_last_day() -> None:
    logged = [LAST_DAY - timedelta(days=n) for n in (0, 1, 2, 4, 5)]

    streaks = logging_streaks(logged, WEEK)

    assert streaks == LoggingStreaks(current_days=3, longest_days=3)


def test_the_current_streak_survives_a_last_day_not_yet_logged() -> None:
    logged = [LAST_DAY - timedelta(days=n) for n in (1, 2)]

    streaks = logging_streaks(logged, WEEK)

    assert streaks.current_days == 2


def test_a_missed_day_before_the_last_ends_the_current_streak() -> None:
    logged = [LAST_DAY - timedelta(days=n) for n in (2, 3, 4, 5)]

    streaks = logging_streaks(logged, WEEK)

    assert streaks == LoggingStreaks(current_days=0, longest_days=4)


def test_the_previous_period_of_equal_length_is_compared() -> None:
    observations = [
        seen(days_before_last(8), 0.2),  # previous week
        seen(days_before_last(10), 0.4),  # previous week
        seen(days_before_last(1), 0.7),
    ]

    trends = summarize_mood_trends(observations, WEEK)

    comparison = trends.comparison
    assert (comparison.previous_entries, comparison.previous_days_logged) == (2, 2)
    assert comparison.previous_average == pytest.approx(0.3)
    assert comparison.change == pytest.approx(0.4)


def test_the_window_includes_its_first_midnight_and_excludes_the_next_period() -> None:
    observations = [
        MoodObservation(WEEK.start, 0.5),
        MoodObservation(WEEK.end, 0.9),
        MoodObservation(WEEK.previous_start, 0.1),
        MoodObservation(WEEK.previous_start - timedelta(milliseconds=1), 0.3),
    ]

    trends = summarize_mood_trends(observations, WEEK)

    assert (trends.entries, trends.average) == (1, 0.5)
    assert trends.comparison.previous_entries == 1
    assert trends.comparison.change == pytest.approx(0.4)


def test_no_entries_give_an_empty_analysis_rather_than_zeros() -> None:
    trends = summarize_mood_trends([], WEEK)

    assert (trends.entries, trends.days_logged, trends.average) == (0, 0, None)
    assert trends.comparison.change is None
    assert trends.streaks == LoggingStreaks(current_days=0, longest_days=0)
