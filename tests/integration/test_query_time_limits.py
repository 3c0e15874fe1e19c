"""Every read a caller's filter drives runs under the server's time limit
(``maxTimeMS``), counts included: a costly filter (a backtracking regex) is
cut off by the server instead of scanning without end."""

from __future__ import annotations

import pytest

from tests.support.explain import recorded_database
from wellness_repo import MoodEntry, QueryOptions, create_mood_entry_repository

pytestmark = pytest.mark.integration


async def test_a_page_its_count_and_count_all_carry_the_time_limit(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        repo = create_mood_entry_repository(db)
        await repo.create(MoodEntry(user_id="patient_123", mood_rating=6))
        limit = db.settings.query_timeout_ms
        recorder.recording = True
        page = await repo.list_all(
            QueryOptions(filters={"user_id": "patient_123"}, include_count=True)
        )
        counted = await repo.count(user_id="patient_123")
        recorder.recording = False

    reads = [
        command
        for command in recorder.commands
        if "mood_entries" in (command.get("find"), command.get("aggregate"))
    ]
    assert (page.total_count, counted) == (1, 1)
    assert len(reads) == 3
    assert [command.get("maxTimeMS") for command in reads] == [limit] * 3
