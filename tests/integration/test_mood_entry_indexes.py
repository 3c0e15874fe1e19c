"""Every query the mood-entry repository sends is served by an index on the real
server: no collection scan, no in-memory sort."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.explain import recorded_database, unindexed_stages
from wellness_repo import MoodEntry, Q, QueryOptions, create_mood_entry_repository

PATIENTS = [f"patient_{number:03d}" for number in range(40)]


async def test_patient_queries_never_scan_or_sort_in_memory(mongodb_uri: str) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        repo = create_mood_entry_repository(db)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        await repo.create_many(
            [
                MoodEntry(
                    user_id=patient,
                    mood_rating=1 + (day * 7 + index) % 10,
                    tags=["sleep", "work", "anxiety"][: (day + index) % 4],
                    created_at=start + timedelta(days=day),
                )
                for index, patient in enumerate(PATIENTS)
                for day in range(30)
            ]
        )
        recorder.recording = True

        await repo.list_all(
            QueryOptions(
                filters={"user_id": "patient_007", "mood_rating__gte": 7},
                order_by=["-created_at"],
                include_count=True,
            )
        )
        await repo.list_all(
            QueryOptions(filters={"user_id": "patient_007"}, order_by=["mood_rating"])
        )
        await repo.find_by(user_id="patient_007", tags__contains="sleep")
        await repo.count(Q(user_id="patient_007") & Q(tags__all=["sleep", "work"]))
        await repo.recent_entries("patient_007", days=400)
        recorder.recording = False

        assert len(recorder.commands) >= 6
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command


async def test_index_check_flags_a_query_across_all_patients(mongodb_uri: str) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        repo = create_mood_entry_repository(db)
        await repo.create(MoodEntry(user_id="patient_001", mood_rating=5))
        recorder.recording = True

        await repo.list_all(
            QueryOptions(filters={"mood_rating__gte": 7}, order_by=["-created_at"])
        )
        recorder.recording = False

        found = await unindexed_stages(db, recorder.commands[0])
        assert sorted(found) == ["COLLSCAN", "SORT"]
