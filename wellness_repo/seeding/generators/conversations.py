"""Check-in conversations with the agent: a few per patient, each with two or
three messages from the patient that the agent answers.

The conversations go through the conversation repository (a conversation is
started, each patient message is added and answered, finished ones are
closed), so counters, intents and moods on the conversation are the
repository's own. None of the patients' wording uses crisis language: a seeded
conversation must not raise a crisis detection (seeded crises are written as
detections of their own).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from wellness_repo.models.conversations import Conversation, ConversationType
from wellness_repo.seeding.world import FixtureWorld

__all__ = ["CONVERSATION_SCRIPTS", "SeededConversation", "conversations"]

_T = ConversationType
CONVERSATION_SCRIPTS: dict[ConversationType, tuple[tuple[str, ...], ...]] = {
    _T.MOOD_CHECK_IN: (
        (
            "Checking in: I would rate my mood about {mood} out of 10 today.",
            "Work was busy but I managed a walk at lunch.",
            "Thanks, I will try the breathing exercise before bed.",
        ),
        (
            "Evening check-in, mood is around {mood} out of 10.",
            "I slept badly last night so I felt tired and flat this afternoon.",
        ),
        (
            "Feeling a bit better than yesterday, maybe {mood} out of 10.",
            "I had coffee with a friend and it lifted my energy.",
        ),
    ),
    _T.CBT_EXERCISE: (
        (
            "I want to work on a thought that keeps coming up about my presentation.",
            "The thought is that everyone will notice I am nervous.",
            "Looking at the evidence, most people were kind the last time.",
        ),
        (
            "Can we do a thought record about the argument with my brother?",
            "I keep thinking I always say the wrong thing.",
        ),
    ),
    _T.PSYCHOEDUCATION: (
        (
            "Can you explain how sleep affects anxiety?",
            "That makes sense. What is a good wind-down routine?",
        ),
        (
            "What is behavioral activation and why does it help with low mood?",
            "I will plan two small activities for this week.",
        ),
    ),
    _T.GENERAL: (
        (
            "Hi, I had a fairly calm weekend.",
            "I finished the homework from my last session.",
        ),
    ),
}
"""The patients' sides of the seeded conversations, by type; ``{mood}`` is
the patient's mood rating that day."""
_TITLES = {
    _T.MOOD_CHECK_IN: "Daily check-in",
    _T.CBT_EXERCISE: "Thought record practice",
    _T.PSYCHOEDUCATION: "Learning about sleep and mood",
    _T.GENERAL: "Weekend update",
}
_TYPES = (
    (_T.MOOD_CHECK_IN, 6),
    (_T.CBT_EXERCISE, 2),
    (_T.PSYCHOEDUCATION, 1),
    (_T.GENERAL, 1),
)


class SeededConversation(BaseModel):
    """A conversation to seed and the patient's messages in it, in order (the
    agent answers each); ``closed`` ones are closed after the last answer."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str = Field(alias="_id")
    conversation: Conversation
    messages: tuple[str, ...]
    closed: bool = True


def conversations(world: FixtureWorld) -> Iterator[list[SeededConversation]]:
    """Up to three conversations per patient in treatment (about one in three
    has none); the most recent one of some patients is still open."""
    for index in world.patient_indices():
        profile = world.profile(index)
        rng = world.random("conversations", index)
        if profile.treatment_start is None or rng.random() < 0.35:
            yield []
            continue
        count = rng.randint(1, 3)
        seeded = []
        for number in range(count):
            kind = rng.choices(
                [kind for kind, _ in _TYPES], [weight for _, weight in _TYPES]
            )[0]
            script = rng.choice(CONVERSATION_SCRIPTS[kind])
            mood = max(2, min(9, round(profile.baseline + profile.improvement)))
            conversation_id = world.id("conversation", f"{index}:{number}")
            seeded.append(
                SeededConversation(
                    id=conversation_id,
                    conversation=Conversation(
                        id=conversation_id,
                        user_id=profile.patient_id,
                        conversation_type=kind,
                        title=_TITLES[kind],
                        created_at=world.at(world.as_of, 0),
                    ),
                    messages=tuple(text.format(mood=mood) for text in script),
                    closed=number < count - 1 or rng.random() < 0.5,
                )
            )
        yield seeded
