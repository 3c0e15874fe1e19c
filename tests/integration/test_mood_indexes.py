"""Every query of mood analytics and mood goals is served by an index on the real
server: the trend aggregation, daily averages, goal baselines and progress,
listing and closing goals. No collection scan, no unbounded in-memory sort."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import (
    DatabaseManager,
    MoodEntry,
    MoodGoal,
    MoodScale,
    MoodType,
    create_mood_entry_repository,
    create_mood_goal_repository,
)

pytestmark = pytest.mark.integration

PATIENTS = [f"patient_{number:03d}" for number in range(40)]
AS_OF = datetime(2026, 3, 18, 20, 30, tzinfo=UTC)
FACTORS = ["Good sleep", "Exercise", "Time with friends"]


def two_months_of_check_ins() -> list[MoodEntry]:
    """Forty patients, one or two check-ins a day for sixty days."""
    return [
        MoodEntry(
            user_id=patient,
            mood_scale=list(MoodScale)[(day + index) % 3],
            mood_rating=1 + (day * 3 + index + extra) % 5,
            mood_type=[MoodType.GENERAL, MoodType.ANXIETY][(day + extra) % 2],
            contributing_factors=FACTORS[: (day + index) % 4],
            triggers=["Work stress"] if day % 3 == 0 else [],
            created_at=AS_OF - timedelta(days=day, hours=3 * extra),
        )
        for index, patient in enumerate(PATIENTS)
        for day in range(60)
        for extra in range(1 + day % 2)
    ]


async def indexes_used(db: DatabaseManager, command: dict[str, Any]) -> set[str]:
    """The names of the indexes the winning plan scans."""
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    planner = explained.get("queryPlanner") or next(
        stage["$cursor"]["queryPlanner"]
        for stage in explained["stages"]
        if "$cursor" in stage
    )
    return {
        stage["indexName"]
        for stage in plan_stages(planner["winningPlan"])
        if stage["stage"] == "IXSCAN"
    }


async def test_mood_analytics_and_goal_queries_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        moods = create_mood_entry_repository(db)
        goals = create_mood_goal_repository(db)
        await moods.create_many(two_months_of_check_ins())
        february = await goals.create_many(
            [
                MoodGoal(
                    user_id=patient,
                    target_scale=MoodScale.ONE_TO_TEN,
                    target_average=7.0,
                    period_start=date(2026, 2, 1),
                    period_end=date(2026, 2, 28),
                    baseline_average=0.4,
                )
                for patient in PATIENTS
            ]
        )
        recorder.recording = True

        await moods.analyze_mood_trends("patient_007", 30, as_of=AS_OF)
        await moods.analyze_mood_trends(
            "patient_007", 14, as_of=AS_OF, mood_type=MoodType.ANXIETY
        )
        await moods.recent_daily_averages("patient_007", 7, as_of=AS_OF)
        goal = await goals.set_mood_goal(
            MoodGoal(
                user_id="patient_007",
                target_average=6.0,
                target_scale=MoodScale.ONE_TO_TEN,
                period_start=date(2026, 3, 1),
                period_end=date(2026, 3, 31),
            )
        )
        await goals.mood_goal_progress(goal.goal_id, as_of=AS_OF)
        await goals.active_goals("patient_007")
        await goals.cancel_mood_goal(goal.goal_id)
        await goals.close_mood_goal(february[7].goal_id, as_of=AS_OF)
        recorder.recording = False

        assert len(recorder.commands) >= 10
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command


async def test_the_trend_aggregation_reads_one_patient_through_the_timeline(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        moods = create_mood_entry_repository(db)
        await moods.create_many(two_months_of_check_ins())
        recorder.recording = True

        await moods.analyze_mood_trends("patient_021", 30, as_of=AS_OF)
        recorder.recording = False

        (command,) = recorder.commands
        assert await indexes_used(db, command) == {"user_timeline"}


async def test_the_crisis_hook_of_a_new_entry_never_scans_or_sorts_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        moods = create_mood_entry_repository(db)
        await moods.create_many(two_months_of_check_ins())
        await moods.create_many(
            [MoodEntry(user_id="patient_new", mood_rating=9, created_at=AS_OF)]
        )
        recorder.recording = True

        await moods.create(
            MoodEntry(
                user_id="patient_new",
                mood_rating=1,
                created_at=AS_OF + timedelta(days=1),
            )
        )
        recorder.recording = False

        assert await moods.detections.find_by(patient_id="patient_new")
        assert len(recorder.commands) >= 2
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command
