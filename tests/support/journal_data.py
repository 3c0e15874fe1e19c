"""Journal entries for the journal tests: a patient in CBT for depression and
anxiety, writing the way the platform's own example writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wellness_repo import JournalEntry, ThoughtRecord

PATIENT = "patient_123"
OTHER_PATIENT = "patient_901"
FIRST_DAY = datetime(2026, 3, 2, 21, 15, tzinfo=UTC)

EXERCISE_CONTENT = "Today I practiced questioning my negative thoughts..."
CRISIS_CONTENT = (
    "Another night of not sleeping. I can't see the point anymore and I want to "
    "kill myself."
)
PLAN_AND_MEANS = " I have the pills saved up and I know how I would do it."
HISTORY_CONTENT = (
    "Therapy brought up when I used to cut years ago. I'm in a much better place."
)
FRIEND_CONTENT = "My friend said she wants to die and I don't know how to help her."


def thought_record(**changes: Any) -> ThoughtRecord:
    """A completed record of a moment at work."""
    values: dict[str, Any] = {
        "situation": "Manager asked to see me at the end of the day",
        "automatic_thought": "I'm going to be fired because I'm useless",
        "emotion": "anxiety",
        "emotion_intensity": 85,
        "evidence_for": "I missed a deadline last month",
        "evidence_against": "My last review said my work is reliable",
        "balanced_thought": "One meeting does not mean I am failing at my job",
        "rerated_intensity": 40,
    }
    values.update(changes)
    return ThoughtRecord(**values)


def seed_entry(**changes: Any) -> JournalEntry:
    """The platform's example entry, with the thought record the technique needs."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "title": "Thought Challenging Exercise",
        "content": EXERCISE_CONTENT,
        "journal_type": "therapeutic",
        "cbt_technique": "thought_record",
        "thought_record": thought_record(),
        "mood_before": 4,
        "mood_after": 7,
        "insights": ["I can control my thoughts"],
        "tags": ["anxiety", "thought-challenging"],
    }
    values.update(changes)
    return JournalEntry(**values)


def gratitude_entry(day: int = 0, **changes: Any) -> JournalEntry:
    """An evening gratitude entry, ``day`` days after the first one."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "title": "Three good things",
        "content": "Coffee with my sister, a walk by the river, and a quiet evening.",
        "journal_type": "gratitude",
        "cbt_technique": "gratitude",
        "mood_before": 5,
        "mood_after": 6,
        "tags": ["gratitude"],
        "created_at": FIRST_DAY + timedelta(days=day),
    }
    values.update(changes)
    return JournalEntry(**values)


def crisis_entry(**changes: Any) -> JournalEntry:
    """A late-night entry expressing suicidal ideation."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "title": "Can't sleep",
        "content": CRISIS_CONTENT,
        "journal_type": "free_writing",
        "mood_before": 2,
        "tags": ["insomnia"],
    }
    values.update(changes)
    return JournalEntry(**values)


def unchecked_entry(**changes: Any) -> JournalEntry:
    """A crisis entry built without validation, as a buggy caller could build one:
    if it were stored, it would raise a crisis detection too."""
    values = dict(crisis_entry())
    values.update(changes)
    entry: JournalEntry = JournalEntry.model_construct(**values)
    return entry
