"""Journal writes racing each other on the real server: crisis entries written
at once by one patient fold into one detection with every entry kept, and tone
scores computed while the entry is being edited never describe old text."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.journal_data import PATIENT, crisis_entry, gratitude_entry
from wellness_repo import (
    CrisisType,
    DatabaseManager,
    JournalEntry,
    JournalRepository,
    create_crisis_detection_repository,
    score_sentiment,
)

pytestmark = pytest.mark.integration

RACERS = 8


async def test_crisis_entries_written_at_once_fold_into_one_detection(
    mongo_db: DatabaseManager,
) -> None:
    journals = JournalRepository(mongo_db)

    written = await asyncio.gather(
        *(journals.create(crisis_entry()) for _ in range(RACERS))
    )

    crises = await create_crisis_detection_repository(mongo_db).find_by(
        crisis_type=CrisisType.SUICIDAL_IDEATION
    )
    assert await mongo_db.collection(JournalEntry).count_documents({}) == RACERS
    (detection,) = crises
    assert detection.occurrence_count == RACERS
    sources = {detection.source_id, *detection.related_source_ids}
    assert sources == {entry.entry_id for entry in written}


async def test_sentiment_analysed_during_edits_describes_the_stored_text(
    mongo_db: DatabaseManager,
) -> None:
    journals = JournalRepository(mongo_db)
    entry = await journals.create(gratitude_entry())
    edits = [
        f"Day {number}: tired but I went for a walk and felt a little better."
        for number in range(RACERS)
    ]

    await asyncio.gather(
        *(journals.patch(entry.entry_id, {"content": text}) for text in edits),
        *(journals.analyze_sentiment(entry.entry_id) for _ in range(RACERS)),
    )

    final = await journals.get(entry.entry_id)
    assert final.user_id == PATIENT
    assert final.sentiment is not None
    assert final.sentiment.compound == score_sentiment(final.written_text).compound
