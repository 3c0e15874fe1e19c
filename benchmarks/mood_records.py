"""The mood entries both sides of every comparison store and read.

Realistic check-ins of ``PATIENTS`` patients over 90 days, on the three rating
scales, with tags, contributing factors and one to three sentences of notes
(the field stored encrypted under the secure defaults).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from wellness_repo import MoodEntry, MoodScale

PATIENTS = 50
LIST_SIZE = 1000
"""Entries of the one busy patient whose newest page ``list_all`` reads."""
SINGLE_CALLS = 200
"""Sequential calls timed together by the per-call rows."""
BUSY_PATIENT = "patient-busy"

TAGS = (
    "sleep", "anxiety", "work", "family", "exercise", "medication",
    "social", "therapy", "appetite", "energy",
)  # fmt: skip
FACTORS = (
    "Good sleep", "Work stress", "Time outdoors", "Conflict at home",
    "Skipped meals", "Saw a friend",
)  # fmt: skip
NOTE_PHRASES = (
    "Slept badly again and woke up around four.",
    "Felt calmer after the breathing exercise from Tuesday's session.",
    "Long day at work, skipped lunch.",
    "Walked for half an hour with my sister.",
    "Racing thoughts in the evening, used the grounding technique.",
    "Took the evening dose late.",
    "Good conversation with a friend, felt lighter afterwards.",
    "Low energy most of the afternoon.",
)
# Most check-ins use the 1-10 scale; the app offers the other two as well.
SCALES = (MoodScale.ONE_TO_TEN,) * 6 + (
    MoodScale.ONE_TO_FIVE,
    MoodScale.EMOTIONAL_STATE,
)


def mood_entries(
    count: int, rng: random.Random, user_id: str | None = None
) -> list[MoodEntry]:
    """``count`` realistic mood entries over the last 90 days.

    Spread across ``PATIENTS`` patients, or all for ``user_id`` when given.
    """
    now = datetime.now(UTC)
    entries = []
    for _ in range(count):
        patient = user_id or f"patient-{rng.randrange(1, PATIENTS + 1):04d}"
        scale = rng.choice(SCALES)
        notes = " ".join(rng.sample(NOTE_PHRASES, rng.randint(1, 3)))
        entries.append(
            MoodEntry(
                user_id=patient,
                mood_scale=scale,
                mood_rating=rng.randint(scale.lowest, scale.highest),
                contributing_factors=rng.sample(FACTORS, rng.randint(0, 2)),
                energy_level=rng.choice((None, rng.randint(1, 10))),
                tags=rng.sample(TAGS, rng.randint(0, 3)),
                notes=notes,
                created_at=now - timedelta(seconds=rng.randrange(90 * 86_400)),
            )
        )
    return entries


def stored_form(entries: Sequence[MoodEntry]) -> list[dict[str, Any]]:
    """The documents the repository stores for ``entries`` (before any field
    encryption), built ahead of time for the raw side."""
    documents = []
    for entry in entries:
        document = entry.model_dump(by_alias=True)
        document["_rev"] = 1
        document["_version"] = MoodEntry.SCHEMA_VERSION
        documents.append(document)
    return documents
