"""Mood goals: a target average over a period, its baseline, progress toward
it, and closing it when the period is over. Runs on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from wellness_repo import (
    DatabaseManager,
    MoodEntry,
    MoodEntryRepository,
    MoodGoal,
    MoodGoalRepository,
    MoodGoalStatus,
    MoodScale,
    ValidationError,
    create_mood_entry_repository,
    create_mood_goal_repository,
)

PATIENT = "patient_123"
CLINICIAN = "therapist_456"
FIRST_DAY = date(2026, 3, 2)
LAST_DAY = date(2026, 3, 15)  # two weeks
HALFWAY = datetime(2026, 3, 9, tzinfo=UTC)
AFTER_THE_PERIOD = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def goals(db: DatabaseManager) -> MoodGoalRepository:
    return create_mood_goal_repository(db)


@pytest.fixture
def moods(db: DatabaseManager) -> MoodEntryRepository:
    return create_mood_entry_repository(db)


def two_week_goal(**changes: Any) -> MoodGoal:
    """Average at least 7 out of 10 over the first two weeks of March."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "target_scale": MoodScale.ONE_TO_TEN,
        "target_average": 7.0,
        "period_start": FIRST_DAY,
        "period_end": LAST_DAY,
        "set_by": CLINICIAN,
    }
    values.update(changes)
    return MoodGoal(**values)


def check_in(day: date, rating: int, **changes: Any) -> MoodEntry:
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "mood_rating": rating,
        "created_at": datetime(day.year, day.month, day.day, 19, 0, tzinfo=UTC),
    }
    values.update(changes)
    return MoodEntry(**values)


def days_from(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


async def test_a_new_goal_records_the_mean_of_the_two_weeks_before_as_baseline(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    before = days_from(FIRST_DAY - timedelta(days=14), 14)
    await moods.create_many([check_in(day, 4) for day in before])
    await moods.create(check_in(FIRST_DAY - timedelta(days=15), 10))

    goal = await goals.set_mood_goal(two_week_goal())

    assert goal.baseline_average == pytest.approx(3 / 9)
    assert (await goals.get(goal.goal_id)).baseline_average == goal.baseline_average


async def test_a_patient_with_no_earlier_entries_starts_without_a_baseline(
    goals: MoodGoalRepository,
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())

    assert goal.baseline_average is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "achieved"}, "status"),
        ({"closed_at": datetime(2024, 3, 20, tzinfo=UTC)}, "closed_at"),
        ({"baseline_average": 0.99}, "baseline_average"),
    ],
    ids=["achieved", "closed_at", "baseline"],
)
async def test_a_goal_is_closed_and_its_baseline_set_only_by_its_methods(
    goals: MoodGoalRepository, changes: dict[str, Any], field: str
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())

    with pytest.raises(ValidationError) as raised:
        await goals.patch(goal.goal_id, changes)

    assert (raised.value.field, raised.value.rule) == (field, "managed_field")
    assert await goals.get(goal.goal_id) == goal


async def test_a_goals_target_can_be_edited(goals: MoodGoalRepository) -> None:
    goal = await goals.set_mood_goal(two_week_goal())

    edited = await goals.patch(goal.goal_id, {"target_average": 6.5})

    assert edited.target_average == 6.5


async def test_progress_runs_from_the_baseline_to_the_target(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    goal = await goals.set_mood_goal(two_week_goal(baseline_average=4 / 9))
    await moods.create_many([check_in(day, 6) for day in days_from(FIRST_DAY, 7)])

    progress = await goals.mood_goal_progress(goal.goal_id, as_of=HALFWAY)

    assert progress.entries == 7
    assert progress.current_average == pytest.approx(5 / 9)
    assert progress.progress == pytest.approx(0.5)
    assert progress.elapsed == pytest.approx(0.5)
    assert progress.expected_average == pytest.approx(5 / 9)
    assert progress.on_track


async def test_a_patient_below_the_steady_path_is_not_on_track(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    goal = await goals.set_mood_goal(two_week_goal(baseline_average=4 / 9))
    await moods.create_many([check_in(day, 5) for day in days_from(FIRST_DAY, 7)])

    progress = await goals.mood_goal_progress(goal.goal_id, as_of=HALFWAY)

    assert progress.progress == pytest.approx(0.0, abs=1e-12)
    assert not progress.on_track


async def test_a_goal_without_entries_yet_has_no_average_and_is_not_on_track(
    goals: MoodGoalRepository,
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())

    progress = await goals.mood_goal_progress(goal.goal_id, as_of=HALFWAY)

    assert (progress.current_average, progress.progress, progress.on_track) == (
        None,
        0.0,
        False,
    )


async def test_entries_outside_the_goal_period_do_not_count(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    goal = await goals.set_mood_goal(two_week_goal(baseline_average=0.2))
    await moods.create_many(
        [
            check_in(FIRST_DAY, 8),
            check_in(LAST_DAY + timedelta(days=1), 1),
            check_in(FIRST_DAY, 1, user_id="patient_456"),
        ]
    )

    progress = await goals.mood_goal_progress(goal.goal_id, as_of=AFTER_THE_PERIOD)

    assert progress.entries == 1
    assert progress.current_average == pytest.approx(7 / 9)


async def test_a_target_on_the_normalised_scale_is_compared_as_given(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    goal = await goals.set_mood_goal(
        two_week_goal(target_scale=None, target_average=0.75, baseline_average=0.25)
    )
    await moods.create(check_in(FIRST_DAY, 4, mood_scale=MoodScale.ONE_TO_FIVE))

    progress = await goals.mood_goal_progress(goal.goal_id, as_of=AFTER_THE_PERIOD)

    assert progress.target == 0.75
    assert progress.progress == 1.0


async def test_a_goal_whose_average_reached_the_target_closes_as_achieved(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())
    await moods.create_many([check_in(day, 7) for day in days_from(FIRST_DAY, 14)])

    closed = await goals.close_mood_goal(goal.goal_id, as_of=AFTER_THE_PERIOD)

    assert (closed.status, closed.closed_at) == (
        MoodGoalStatus.ACHIEVED,
        AFTER_THE_PERIOD,
    )


async def test_a_goal_short_of_its_target_closes_as_missed(
    goals: MoodGoalRepository, moods: MoodEntryRepository
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())
    await moods.create_many([check_in(day, 6) for day in days_from(FIRST_DAY, 14)])

    closed = await goals.close_mood_goal(goal.goal_id, as_of=AFTER_THE_PERIOD)

    assert closed.status is MoodGoalStatus.MISSED


async def test_a_goal_cannot_be_closed_before_its_period_ends(
    goals: MoodGoalRepository,
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())

    with pytest.raises(ValidationError) as raised:
        await goals.close_mood_goal(goal.goal_id, as_of=HALFWAY)

    assert (raised.value.field, raised.value.rule) == ("period_end", "period_not_over")
    assert (await goals.get(goal.goal_id)).status is MoodGoalStatus.ACTIVE


async def test_a_cancelled_goal_cannot_be_closed(goals: MoodGoalRepository) -> None:
    goal = await goals.set_mood_goal(two_week_goal())
    await goals.cancel_mood_goal(goal.goal_id)

    with pytest.raises(ValidationError) as raised:
        await goals.close_mood_goal(goal.goal_id, as_of=AFTER_THE_PERIOD)

    assert (raised.value.field, raised.value.rule) == ("status", "not_active")
    assert (await goals.get(goal.goal_id)).status is MoodGoalStatus.CANCELLED


async def test_active_goals_are_listed_soonest_to_end_first(
    goals: MoodGoalRepository,
) -> None:
    later = await goals.set_mood_goal(two_week_goal(period_end=date(2026, 3, 31)))
    sooner = await goals.set_mood_goal(two_week_goal())
    cancelled = await goals.set_mood_goal(two_week_goal())
    await goals.cancel_mood_goal(cancelled.goal_id)
    await goals.set_mood_goal(two_week_goal(user_id="patient_456"))

    active = await goals.active_goals(PATIENT)

    assert [goal.goal_id for goal in active] == [sooner.goal_id, later.goal_id]


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"target_average": 11.0}, "target_average", "target_range"),
        ({"target_average": 1.0}, "target_average", "target_range"),
        (
            {"target_scale": MoodScale.ONE_TO_FIVE, "target_average": 6.0},
            "target_average",
            "target_range",
        ),
        (
            {"target_scale": None, "target_average": 7.0},
            "target_average",
            "target_range",
        ),
        ({"target_scale": "one_to_hundred"}, "target_scale", "enum"),
        ({"period_end": date(2026, 3, 1)}, "period_end", "period_order"),
        ({"period_end": date(2027, 3, 3)}, "period_end", "period_length"),
        ({"baseline_average": 1.5}, "baseline_average", "less_than_equal"),
        ({"user_id": "patient 123"}, "user_id", "string_pattern_mismatch"),
    ],
)
async def test_bad_goals_are_refused_by_field_and_rule_and_nothing_is_written(
    db: DatabaseManager,
    goals: MoodGoalRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    values = dict(two_week_goal())
    values.update(changes)
    goal = MoodGoal.model_construct(**values)

    with pytest.raises(ValidationError) as raised:
        await goals.set_mood_goal(goal)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await db.collection(MoodGoal).count_documents({}) == 0


async def test_progress_as_of_a_moment_without_a_zone_is_refused(
    goals: MoodGoalRepository,
) -> None:
    goal = await goals.set_mood_goal(two_week_goal())

    with pytest.raises(ValidationError) as raised:
        await goals.mood_goal_progress(goal.goal_id, as_of=datetime(2026, 3, 9))

    assert (raised.value.field, raised.value.rule) == ("as_of", "timezone_required")
