"""Every query the journal repository sends is served by an index on the real
server over a seeded journal: no collection scan, no in-memory sort across many
patients' entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import (
    CBTTechnique,
    DatabaseManager,
    JournalEntry,
    JournalRepository,
)

pytestmark = pytest.mark.integration

PATIENTS = [f"patient_{number:03d}" for number in range(40)]
START = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)
TECHNIQUES = [CBTTechnique.GRATITUDE, CBTTechnique.MINDFULNESS, None]
TAGS = [["sleep"], ["work", "anxiety"], []]
JOURNAL_COMMANDS = ("find", "aggregate", "count", "findAndModify", "update", "delete")


def a_month_of_entries() -> list[JournalEntry]:
    """Forty patients writing one short entry every evening for thirty days."""
    return [
        JournalEntry(
            user_id=patient,
            content=f"Evening check-in number {day}: a walk, dinner, an early night.",
            cbt_technique=TECHNIQUES[(day + index) % 3],
            tags=TAGS[(day * 2 + index) % 3],
            mood_before=1 + (day + index) % 10,
            created_at=START + timedelta(days=day),
        )
        for index, patient in enumerate(PATIENTS)
        for day in range(30)
    ]


def on_journals(command: dict[str, Any]) -> bool:
    return any(command.get(name) == "journal_entries" for name in JOURNAL_COMMANDS)


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes the command's cost grow with the whole journal: a collection
    scan, an unpinned in-memory sort, or an index walked end to end."""
    found = await unindexed_stages(db, command)
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    for stage in plan_stages(explained["queryPlanner"]["winningPlan"]):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
    return found


async def test_journal_queries_never_scan_or_sort_in_memory(mongodb_uri: str) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        journals = JournalRepository(db)
        await journals.create_many(a_month_of_entries())
        mine = await journals.entries_for_user("patient_007", limit=1)
        entry_id = mine.items[0].entry_id
        recorder.recording = True

        first = await journals.entries_for_user("patient_007", limit=10)
        await journals.entries_for_user(
            "patient_007", limit=10, after=first.next_cursor
        )
        await journals.entries_for_user("patient_007", tag="anxiety", limit=10)
        await journals.entries_for_user(
            "patient_007", technique=CBTTechnique.MINDFULNESS, limit=10
        )
        await journals.entries_for_user("patient_007", shared_only=True)
        await journals.suggest_prompt("patient_007")
        await journals.share_with_care_team(entry_id)
        await journals.unshare_from_care_team(entry_id)
        await journals.analyze_sentiment(entry_id)
        await journals.patch(entry_id, {"tags": ["sleep", "gratitude"]})
        await journals.delete(entry_id)
        recorder.recording = False

        commands = [command for command in recorder.commands if on_journals(command)]
        assert len(commands) >= 12
        for command in commands:
            assert await scan_problems(db, command) == [], command


async def test_a_patients_timeline_is_read_through_the_timeline_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        journals = JournalRepository(db)
        await journals.create_many(a_month_of_entries())
        recorder.recording = True

        await journals.entries_for_user("patient_021", limit=10)
        recorder.recording = False

        (command,) = [c for c in recorder.commands if on_journals(c)]
        explained = await db.database.command(
            {"explain": command, "verbosity": "queryPlanner"}
        )
        used = {
            stage["indexName"]
            for stage in plan_stages(explained["queryPlanner"]["winningPlan"])
            if stage["stage"] == "IXSCAN"
        }
        assert used == {"user_timeline"}
