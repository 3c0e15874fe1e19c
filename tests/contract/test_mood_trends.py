"""Mood-trend analysis in the database, held to the plain-Python reference on
both backends.

The property draws mood histories (mixed scales, factors and triggers, another
patient's entries, entries before, inside and after the analysed periods, at
midnight boundaries), stores them through the repository, runs
``analyze_mood_trends`` and compares it with ``summarize_mood_trends`` over the
same entries. Runs are derandomized, as in ``test_query_properties``; set
``WELLNESS_MOOD_EXAMPLES`` to search wider (default 60).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, note, settings

from tests.support.mood_data import (
    AS_OF,
    OTHER_PATIENT,
    PATIENT,
    MoodHistory,
    assert_trends_agree,
    entry_days_ago,
    mood_histories,
    observation_of,
    observations_for,
)
from wellness_repo import (
    DatabaseManager,
    MoodEntry,
    MoodEntryRepository,
    MoodScale,
    MoodType,
    TrendDirection,
    TrendWindow,
    ValidationError,
    create_mood_entry_repository,
    summarize_mood_trends,
)

R = TypeVar("R")

EXAMPLES = int(os.environ.get("WELLNESS_MOOD_EXAMPLES", "60"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LOOP_TIMEOUT_SECONDS = 120


@pytest.fixture
def moods(db: DatabaseManager) -> MoodEntryRepository:
    return create_mood_entry_repository(db)


def on_loop(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, R]) -> R:
    """Run ``work`` on the test's event loop from the hypothesis thread."""
    return asyncio.run_coroutine_threadsafe(work, loop).result(LOOP_TIMEOUT_SECONDS)


async def store_only(
    db: DatabaseManager, moods: MoodEntryRepository, entries: list[MoodEntry]
) -> None:
    """Make ``entries`` the whole collection (emptying it is test scaffolding)."""
    await db.collection(MoodEntry).delete_many({})
    await moods.create_many(entries)


async def test_the_pipeline_agrees_with_the_reference_on_any_history(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    loop = asyncio.get_running_loop()

    @PROPERTY
    @given(history=mood_histories())
    def pipeline_matches_reference(history: MoodHistory) -> None:
        note(f"backend: {type(db.client).__name__}")
        on_loop(loop, store_only(db, moods, history.entries))
        window = TrendWindow.ending_at(AS_OF, history.days_back)
        expected = summarize_mood_trends(
            observations_for(history),
            window,
            min_label_entries=history.min_label_entries,
        )

        actual = on_loop(
            loop,
            moods.analyze_mood_trends(
                PATIENT,
                history.days_back,
                as_of=AS_OF,
                mood_type=history.mood_type,
                min_label_entries=history.min_label_entries,
            ),
        )

        assert_trends_agree(actual, expected)

    await asyncio.to_thread(pipeline_matches_reference)


async def test_a_month_of_improving_mood_is_reported_as_improving(
    moods: MoodEntryRepository,
) -> None:
    await moods.create_many(
        [entry_days_ago(day, rating=2 + (29 - day) // 4) for day in range(30)]
    )

    trends = await moods.analyze_mood_trends(PATIENT, 30, as_of=AS_OF)

    assert trends.direction is TrendDirection.IMPROVING
    assert trends.days_logged == 30
    assert trends.streaks.current_days == 30


async def test_entries_on_different_scales_are_averaged_on_the_normalised_scale(
    moods: MoodEntryRepository,
) -> None:
    await moods.create_many(
        [
            entry_days_ago(0.1, rating=10),
            entry_days_ago(0.2, rating=1, mood_scale=MoodScale.ONE_TO_FIVE),
            entry_days_ago(0.3, rating=4, mood_scale=MoodScale.EMOTIONAL_STATE),
        ]
    )

    trends = await moods.analyze_mood_trends(PATIENT, 1, as_of=AS_OF)

    assert trends.average == pytest.approx((1.0 + 0.0 + 0.5) / 3)


async def test_records_stored_before_schema_two_are_analysed_from_their_rating(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    older = AS_OF - timedelta(hours=2)
    await db.collection(MoodEntry).insert_one(
        {
            "_id": "mood_v1_0001",
            "_rev": 1,
            "_version": 1,
            "user_id": PATIENT,
            "mood_rating": 4,
            "tags": ["sleep"],
            "notes": None,
            "created_at": older,
            "updated_at": None,
            "deleted_at": None,
            "deleted_by": None,
        }
    )
    await moods.create(entry_days_ago(0, rating=10))

    trends = await moods.analyze_mood_trends(
        PATIENT, 1, as_of=AS_OF, mood_type=MoodType.GENERAL
    )

    assert trends.entries == 2
    assert trends.average == pytest.approx((3 / 9 + 1.0) / 2)


async def test_deleted_entries_and_other_patients_are_left_out(
    moods: MoodEntryRepository,
) -> None:
    kept = await moods.create(entry_days_ago(1, rating=8))
    removed = await moods.create(entry_days_ago(1, rating=1))
    await moods.create(entry_days_ago(1, rating=1, user_id=OTHER_PATIENT))
    await moods.delete(removed.id)

    trends = await moods.analyze_mood_trends(PATIENT, 7, as_of=AS_OF)

    assert trends.entries == 1
    assert trends.average == pytest.approx(kept.normalized_rating)


async def test_an_analysis_can_be_limited_to_one_mood_type(
    moods: MoodEntryRepository,
) -> None:
    await moods.create_many(
        [
            entry_days_ago(1, rating=3, mood_type=MoodType.ANXIETY),
            entry_days_ago(2, rating=9),
        ]
    )

    trends = await moods.analyze_mood_trends(
        PATIENT, 7, as_of=AS_OF, mood_type="anxiety"
    )

    assert trends.entries == 1
    assert trends.average == pytest.approx(2 / 9)


async def test_daily_averages_cover_the_recent_days_oldest_first(
    moods: MoodEntryRepository,
) -> None:
    entries = [
        entry_days_ago(0, rating=2),
        entry_days_ago(0.1, rating=4),
        entry_days_ago(2, rating=9),
        entry_days_ago(5, rating=10),
    ]
    await moods.create_many(entries)

    daily = await moods.recent_daily_averages(PATIENT, 3, as_of=AS_OF)

    assert [(day.day, day.entries) for day in daily] == [
        ((AS_OF - timedelta(days=2)).date(), 1),
        (AS_OF.date(), 2),
    ]
    assert daily[1].average == pytest.approx(
        (observation_of(entries[0]).rating + observation_of(entries[1]).rating) / 2
    )


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"user_id": "patient 123"}, "user_id", "format"),
        ({"days_back": 0}, "days_back", "range"),
        ({"days_back": 731}, "days_back", "range"),
        ({"days_back": "30"}, "days_back", "type"),
        ({"as_of": datetime(2026, 3, 18, 20, 30)}, "as_of", "timezone_required"),
        ({"mood_type": "euphoric"}, "mood_type", "enum"),
        ({"min_label_entries": 0}, "min_label_entries", "range"),
    ],
)
async def test_bad_analysis_arguments_are_refused_by_name(
    moods: MoodEntryRepository, arguments: dict[str, Any], field: str, rule: str
) -> None:
    call: dict[str, Any] = {"user_id": PATIENT, "days_back": 30, **arguments}

    with pytest.raises(ValidationError) as raised:
        await moods.analyze_mood_trends(**call)

    assert (raised.value.field, raised.value.rule) == (field, rule)
