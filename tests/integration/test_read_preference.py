"""Reading from secondaries on the real replica set: ordinary collections follow
``WELLNESS_READ_PREFERENCE``, while transactions and the safety-critical
collections (crisis detections, audit, accounts) always read the primary."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo.read_preferences import Primary, SecondaryPreferred

from tests.conftest import SYSTEM, cipher_for
from wellness_repo import (
    CrisisDetection,
    DatabaseManager,
    MoodEntry,
    Settings,
    connect,
    create_mood_entry_repository,
)
from wellness_repo.security.policy import PermitAllPolicy

pytestmark = pytest.mark.integration


@pytest.fixture
async def secondary_reads(mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    name = f"test_readpref_{uuid.uuid4().hex[:12]}"
    db = await connect(
        mongodb_uri,
        name,
        settings=Settings(read_preference="secondaryPreferred"),
        policy=PermitAllPolicy(),
        cipher=cipher_for(name),
        context=SYSTEM,
        apply_indexes=True,
    )
    try:
        yield db
    finally:
        await db.client.drop_database(name)
        await db.close()


async def test_mood_entries_follow_the_configured_read_preference(
    secondary_reads: DatabaseManager,
) -> None:
    collection = secondary_reads.collection(MoodEntry)

    assert isinstance(collection.read_preference, SecondaryPreferred)


async def test_crisis_detections_are_always_read_from_the_primary(
    secondary_reads: DatabaseManager,
) -> None:
    collection = secondary_reads.collection(CrisisDetection)

    assert isinstance(collection.read_preference, Primary)


async def test_a_transaction_reads_from_the_primary_under_secondary_reads(
    secondary_reads: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(secondary_reads)

    async with secondary_reads.transaction():
        await moods.create(MoodEntry(user_id="patient_rp_01", mood_rating=6))
        counted = await moods.count(user_id="patient_rp_01")

    assert counted == 1
