"""Every query the conversation repository sends is served by an index on the
real server over a seeded month of check-ins: no collection scan, no in-memory
sort, no index walked end to end; the timeline and transcript use the indexes
declared for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import (
    Conversation,
    ConversationMessage,
    ConversationRepository,
    ConversationType,
    DatabaseManager,
)
from wellness_repo.repository.base import AsyncBaseRepository

pytestmark = pytest.mark.integration

PATIENTS = [f"patient_{number:03d}" for number in range(30)]
START = datetime(2026, 2, 2, 20, 30, tzinfo=UTC)
TYPES = [
    ConversationType.MOOD_CHECK_IN,
    ConversationType.CBT_EXERCISE,
    ConversationType.GENERAL,
]
COMMANDS = ("find", "aggregate", "count", "findAndModify", "update", "delete")
COLLECTIONS = ("conversations", "conversation_messages")


def a_month_of_check_ins() -> tuple[list[Conversation], list[ConversationMessage]]:
    """Thirty patients with a short check-in every evening for twenty days,
    four messages each."""
    conversations, messages = [], []
    for index, patient in enumerate(PATIENTS):
        for day in range(20):
            kind = TYPES[(day + index) % 3]
            conversation = Conversation(
                user_id=patient,
                conversation_type=kind,
                initial_type=kind,
                message_count=4,
                created_at=START + timedelta(days=day),
            )
            conversations.append(conversation)
            messages.extend(
                ConversationMessage(
                    conversation_id=conversation.id,
                    user_id=patient,
                    sequence=sequence,
                    sender="user" if sequence % 2 else "assistant",
                    content=f"Evening check-in {day}, turn {sequence}.",
                )
                for sequence in range(1, 5)
            )
    return conversations, messages


async def seeded(db: DatabaseManager) -> ConversationRepository:
    conversations, messages = a_month_of_check_ins()
    await AsyncBaseRepository(db, model=Conversation).create_many(conversations)
    await AsyncBaseRepository(db, model=ConversationMessage).create_many(messages)
    return ConversationRepository(db)


def on_conversations(command: dict[str, Any]) -> bool:
    return any(command.get(name) in COLLECTIONS for name in COMMANDS)


async def winning_plan(db: DatabaseManager, command: dict[str, Any]) -> Any:
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    return explained["queryPlanner"]["winningPlan"]


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes the command's cost grow with all patients' conversations."""
    found = await unindexed_stages(db, command)
    for stage in plan_stages(await winning_plan(db, command)):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
        if stage["stage"] == "SORT":
            found.append("SORT")
    return found


async def indexes_used(db: DatabaseManager, command: dict[str, Any]) -> set[str]:
    return {
        stage["indexName"]
        for stage in plan_stages(await winning_plan(db, command))
        if stage["stage"] == "IXSCAN"
    }


async def test_conversation_queries_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        conversations = await seeded(db)
        page = await conversations.conversations_for_user("patient_007", limit=1)
        conversation_id = page.items[0].conversation_id
        recorder.recording = True

        first = await conversations.conversations_for_user("patient_007", limit=5)
        await conversations.conversations_for_user(
            "patient_007", limit=5, after=first.next_cursor
        )
        await conversations.conversations_for_user(
            "patient_007", conversation_type=ConversationType.CBT_EXERCISE, limit=5
        )
        opening = await conversations.transcript(conversation_id, limit=2)
        await conversations.transcript(
            conversation_id, limit=2, after=opening.next_cursor
        )
        await conversations.generate_ai_response(
            conversation_id, "I'm feeling anxious about tomorrow"
        )
        await conversations.conversation_analytics(conversation_id)
        await conversations.record_satisfaction(conversation_id, 4)
        await conversations.close_conversation(conversation_id)
        recorder.recording = False

        commands = [c for c in recorder.commands if on_conversations(c)]
        assert len(commands) >= 12
        for command in commands:
            assert await scan_problems(db, command) == [], command


async def test_a_patients_list_is_read_through_the_timeline_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        conversations = await seeded(db)
        recorder.recording = True

        await conversations.conversations_for_user("patient_021", limit=10)
        recorder.recording = False

        (command,) = [c for c in recorder.commands if on_conversations(c)]
        assert await indexes_used(db, command) == {"user_timeline"}


async def test_a_list_by_type_is_read_through_the_type_timeline_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        conversations = await seeded(db)
        recorder.recording = True

        await conversations.conversations_for_user(
            "patient_021", conversation_type=ConversationType.GENERAL, limit=10
        )
        recorder.recording = False

        (command,) = [c for c in recorder.commands if on_conversations(c)]
        assert await indexes_used(db, command) == {"user_type_timeline"}


async def test_a_transcript_is_read_through_the_transcript_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        conversations = await seeded(db)
        page = await conversations.conversations_for_user("patient_003", limit=1)
        recorder.recording = True

        await conversations.transcript(page.items[0].conversation_id, limit=50)
        recorder.recording = False

        (command,) = [c for c in recorder.commands if on_conversations(c)]
        assert await indexes_used(db, command) == {"transcript"}
