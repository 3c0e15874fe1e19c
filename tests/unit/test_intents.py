"""Intent recognition over the way patients write to the check-in agent: each
intent from realistic phrasings, crisis winning over everything else, the mood
a message mentions, and what the confidence says."""

from __future__ import annotations

import pytest

from wellness_repo import CrisisType, Intent, MoodLabel, recognise_intent
from wellness_repo.analysis.intents import mood_labels_in, mood_rating_in

PHRASINGS: dict[Intent, tuple[str, ...]] = {
    Intent.GREETING: (
        "hi there",
        "Hello!",
        "good morning",
        "hey, how are you",
    ),
    Intent.MOOD_REPORT: (
        "my mood is about a 5 today",
        "feeling pretty down and lonely this evening",
        "I'd say I'm at a 3 out of 10",
        "honestly feel like a 7 today, work went ok",
        "I'm just so overwhelmed and frustrated with everything",
    ),
    Intent.ANXIETY: (
        "I'm feeling anxious today",
        "my heart is pounding and I can't stop worrying about the interview",
        "had a panic attack on the bus again",
        "so nervous about seeing my dad tomorrow, I'm on edge",
    ),
    Intent.SLEEP: (
        "couldn't sleep again last night",
        "lying awake every night till 3am",
        "I keep waking up at 4 and then I'm up all night",
        "the nightmares are back and I dread bedtime",
        "haven't slept properly in days",
        "didn't sleep at all",
    ),
    Intent.COPING_SKILL_REQUEST: (
        "can you give me a coping skill?",
        "what can I do when my thoughts start racing at work",
        "any tips for getting through a rough afternoon?",
        "how do I calm down before a meeting",
    ),
    Intent.GRATITUDE: (
        "I'm grateful my sister called me today",
        "feeling thankful for my friends this week",
        "one good thing that happened: my neighbour brought soup",
    ),
    Intent.GOODBYE: (
        "bye for now",
        "thanks for listening, I have to go now",
        "ok heading to bed, goodnight",
    ),
}
CASES = [(intent, text) for intent, texts in PHRASINGS.items() for text in texts]


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_each_intent_is_recognised_in_realistic_phrasings(
    expected: Intent, text: str
) -> None:
    result = recognise_intent(text)

    assert result.intent is expected


@pytest.mark.parametrize(
    "text",
    [
        "hi. couldn't sleep again and I just want to die",
        "good morning, I'm grateful for nothing, I'm going to kill myself tonight",
        "can you give me a coping skill, I keep cutting myself when it gets bad",
        "my mood is 2 and I have the pills saved up, I want to end my life",
        "bye. I won't be here tomorrow, I'm going to end my life",
    ],
)
def test_crisis_wins_over_every_other_intent(text: str) -> None:
    result = recognise_intent(text)

    assert result.intent is Intent.CRISIS
    assert result.is_crisis
    assert result.confidence >= 0.5


def test_crisis_signals_are_carried_for_the_care_team() -> None:
    result = recognise_intent("I can't see the point anymore and I want to die")

    types = {signal.crisis_type for signal in result.crisis_signals}
    assert CrisisType.SUICIDAL_IDEATION in types


def test_a_friends_risk_is_a_concern_not_the_patients_crisis() -> None:
    result = recognise_intent("My friend said she wants to die and I'm scared for her")

    assert result.intent is not Intent.CRISIS
    assert [signal.crisis_type for signal in result.crisis_signals] == [
        CrisisType.THIRD_PARTY_CONCERN
    ]


def test_the_patients_past_is_not_a_current_crisis() -> None:
    result = recognise_intent("I used to cut years ago, I'm in a much better place")

    assert result.intent is not Intent.CRISIS
    assert result.crisis_signals == ()


def test_idioms_are_not_read_as_crisis() -> None:
    result = recognise_intent("this deadline is killing me, so stressed")

    assert result.intent is not Intent.CRISIS


def test_a_negated_feeling_is_not_its_intent() -> None:
    result = recognise_intent("I'm not anxious today, just tired")

    assert result.intent is not Intent.ANXIETY
    assert MoodLabel.ANXIOUS not in result.mood_labels


def test_a_greeting_loses_to_what_is_said_with_it() -> None:
    result = recognise_intent("Hello! I've been so anxious all week")

    assert result.intent is Intent.ANXIETY


def test_a_message_without_any_cue_is_unknown_with_no_confidence() -> None:
    result = recognise_intent("the bus was late and the weather is strange")

    assert result.intent is Intent.UNKNOWN
    assert result.confidence == 0.0


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_confidence_is_a_probability(expected: Intent, text: str) -> None:
    result = recognise_intent(text)

    assert 0.0 < result.confidence <= 1.0


def test_a_clear_message_is_read_with_more_confidence_than_a_mixed_one() -> None:
    clear = recognise_intent("had a panic attack, so anxious, heart pounding")
    mixed = recognise_intent("a bit anxious and couldn't sleep")

    assert clear.confidence > mixed.confidence


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("my mood is 7", 7),
        ("I'd say about a 4 out of 10", 4),
        ("honestly feel like a 3 today", 3),
        ("today's a six out of ten", 6),
        ("mood 10/10, best day in ages", 10),
        ("I'm at a 2 right now", 2),
    ],
)
def test_a_mood_rating_is_read_from_the_message(text: str, rating: int) -> None:
    assert mood_rating_in(text) == rating


@pytest.mark.parametrize(
    "text",
    [
        "I'm 7 weeks into therapy",
        "slept 5 hours",
        "the meeting is at 3 pm",
        "I have 2 kids and a dog",
    ],
)
def test_numbers_that_are_not_ratings_are_left_alone(text: str) -> None:
    assert mood_rating_in(text) is None


def test_mood_words_become_labels_in_order_of_mention() -> None:
    labels = mood_labels_in("feeling lonely and sad, a bit anxious, and so tired")

    assert labels == (
        MoodLabel.LONELY,
        MoodLabel.SAD,
        MoodLabel.ANXIOUS,
        MoodLabel.TIRED,
    )


def test_a_negated_mood_word_is_not_a_label() -> None:
    labels = mood_labels_in("I'm not happy but I'm calm")

    assert labels == (MoodLabel.CALM,)


def test_a_greeting_is_not_a_good_mood() -> None:
    assert mood_labels_in("good morning") == ()


def test_a_mood_rating_makes_the_message_a_mood_report() -> None:
    result = recognise_intent("maybe a 6 today")

    assert result.intent is Intent.MOOD_REPORT
    assert result.mood_rating == 6
