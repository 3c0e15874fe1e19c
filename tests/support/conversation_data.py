"""Check-in conversations for the conversation tests: a patient in CBT for
depression and anxiety, writing to the agent the way people write in chat
(informal, lower-case, run-on), as the platform's own example does."""

from __future__ import annotations

from typing import Any

from wellness_repo import Conversation, ConversationMessage, ConversationType

PATIENT = "patient_123"
OTHER_PATIENT = "patient_901"
CHECK_IN_TITLE = "Daily Check-in"
PRIVATE_TITLE = "Talking through the custody hearing on Friday"

ANXIOUS_MESSAGE = "I'm feeling anxious today"
LOW_MOOD_MESSAGE = (
    "honestly I'd say my mood is about a 3 out of 10, everything feels heavy"
)
GOOD_MOOD_MESSAGE = (
    "Feeling pretty good today, mood is 8, the walk with my sister helped"
)
SLEEP_MESSAGE = (
    "couldn't sleep again, lay awake till 4am replaying the argument with Mum"
)
COPING_MESSAGE = "can you give me a coping skill for when my chest gets tight at work?"
GRATITUDE_MESSAGE = "I'm really grateful my neighbour checked in on me this morning"
GREETING_MESSAGE = "hi there, good morning"
GOODBYE_MESSAGE = "thanks for listening, I have to go now, bye"
CRISIS_MESSAGE = (
    "I can't do this anymore. I have the pills saved up and I want to kill myself."
)
QUIET_CRISIS_MESSAGE = (
    "hi. couldn't sleep again and honestly I just want to die, nobody would notice"
)
FRIEND_MESSAGE = "My friend said she wants to die and I don't know how to help her."
HISTORY_MESSAGE = (
    "Therapy brought up when I used to cut years ago. I'm much better now."
)


def seed_conversation(**changes: Any) -> Conversation:
    """A conversation built as a caller of ``create`` would build one."""
    values: dict[str, Any] = {
        "user_id": PATIENT,
        "conversation_type": ConversationType.MOOD_CHECK_IN,
        "title": PRIVATE_TITLE,
    }
    values.update(changes)
    return Conversation(**values)


def stored_message(conversation_id: str, **changes: Any) -> ConversationMessage:
    """A patient's message with every field filled, as the repository stores it
    (for the encryption checks)."""
    values: dict[str, Any] = {
        "conversation_id": conversation_id,
        "user_id": PATIENT,
        "sequence": 1,
        "sender": "user",
        "content": LOW_MOOD_MESSAGE,
        "intent": "mood_report",
        "intent_confidence": 0.95,
        "mood_rating": 3,
        "mood_labels": ["sad"],
    }
    values.update(changes)
    return ConversationMessage(**values)
