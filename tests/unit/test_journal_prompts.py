"""Choosing a patient's next journal prompt from their recent entries."""

from __future__ import annotations

from typing import Any

import pytest

from wellness_repo import (
    CBTTechnique,
    EntrySummary,
    JournalType,
    PromptReason,
    ValidationError,
)
from wellness_repo.analysis.journal_prompts import suggest_prompt

GRATITUDE = CBTTechnique.GRATITUDE
THOUGHT_RECORD = CBTTechnique.THOUGHT_RECORD


def test_a_patient_with_no_entries_gets_a_first_prompt() -> None:
    prompt = suggest_prompt([])

    assert prompt.reason is PromptReason.FIRST_ENTRY
    assert prompt.journal_type is JournalType.FREE_WRITING


def test_a_recent_crisis_signal_gets_a_safety_prompt_before_anything_else() -> None:
    recent = [
        EntrySummary(technique=THOUGHT_RECORD, unfinished_thought_record=True),
        EntrySummary(crisis_signal=True),
    ]

    prompt = suggest_prompt(recent)

    assert prompt.reason is PromptReason.SAFETY_FIRST
    assert prompt.technique is None
    assert "988" in prompt.text


def test_a_crisis_signal_older_than_the_last_three_entries_no_longer_decides() -> None:
    recent = [EntrySummary(technique=GRATITUDE)] * 3 + [
        EntrySummary(crisis_signal=True)
    ]

    assert suggest_prompt(recent).reason is not PromptReason.SAFETY_FIRST


def test_an_unfinished_thought_record_is_finished_next() -> None:
    recent = [EntrySummary(technique=THOUGHT_RECORD, unfinished_thought_record=True)]

    prompt = suggest_prompt(recent)

    assert prompt.reason is PromptReason.FINISH_THOUGHT_RECORD
    assert prompt.technique is THOUGHT_RECORD


def test_three_entries_of_low_tone_get_behavioural_activation() -> None:
    recent = [
        EntrySummary(technique=GRATITUDE, sentiment_compound=-0.6),
        EntrySummary(sentiment_compound=-0.4),
        EntrySummary(sentiment_compound=-0.2),
    ]

    prompt = suggest_prompt(recent)

    assert prompt.technique is CBTTechnique.BEHAVIORAL_ACTIVATION
    assert prompt.reason is PromptReason.LOW_TONE


def test_low_tone_needs_three_scored_entries() -> None:
    recent = [EntrySummary(sentiment_compound=-0.9), EntrySummary()]

    assert suggest_prompt(recent).reason is not PromptReason.LOW_TONE


def test_a_technique_after_which_mood_rose_is_suggested_again() -> None:
    recent = [
        EntrySummary(technique=CBTTechnique.MINDFULNESS, mood_before=5, mood_after=5),
        EntrySummary(technique=GRATITUDE, mood_before=4, mood_after=7),
    ]

    prompt = suggest_prompt(recent)

    assert prompt.technique is GRATITUDE
    assert prompt.journal_type is JournalType.GRATITUDE
    assert prompt.reason is PromptReason.HELPED_BEFORE


def test_a_frequent_tag_gets_its_matching_technique() -> None:
    recent = [
        EntrySummary(technique=GRATITUDE, tags=("anxiety",)),
        EntrySummary(tags=("Anxiety", "work")),
    ]

    prompt = suggest_prompt(recent)

    assert prompt.technique is CBTTechnique.WORRY_TIME
    assert prompt.reason is PromptReason.RECURRING_TOPIC


def test_a_topic_technique_just_used_is_not_suggested_twice_in_a_row() -> None:
    recent = [EntrySummary(technique=CBTTechnique.WORRY_TIME, tags=("worry",))]

    assert suggest_prompt(recent).technique is not CBTTechnique.WORRY_TIME


def test_otherwise_a_core_technique_not_yet_tried_comes_next() -> None:
    recent = [EntrySummary(technique=THOUGHT_RECORD)]

    prompt = suggest_prompt(recent)

    assert prompt.technique is CBTTechnique.BEHAVIORAL_ACTIVATION
    assert prompt.reason is PromptReason.ROTATION


def test_with_every_core_technique_tried_the_least_recent_comes_next() -> None:
    order = [
        CBTTechnique.SELF_COMPASSION,
        CBTTechnique.PROBLEM_SOLVING,
        CBTTechnique.MINDFULNESS,
        GRATITUDE,
        CBTTechnique.BEHAVIORAL_ACTIVATION,
        THOUGHT_RECORD,
    ]

    prompt = suggest_prompt([EntrySummary(technique=t) for t in order])

    assert prompt.technique is THOUGHT_RECORD


def test_something_other_than_summaries_is_refused() -> None:
    not_summaries: Any = [{"technique": "gratitude"}]

    with pytest.raises(ValidationError) as raised:
        suggest_prompt(not_summaries)

    assert (raised.value.field, raised.value.rule) == ("recent", "type")
