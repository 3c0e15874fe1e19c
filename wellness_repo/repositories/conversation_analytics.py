"""Conversation analytics: what one check-in conversation amounted to, read from
the counters and label sets its messages keep on it (see
``models.conversations``), so no message is read or decrypted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from wellness_repo.analysis.intents import IntentResult, own_crisis_signals
from wellness_repo.models.conversations import (
    Conversation,
    ConversationAnalytics,
    ConversationType,
    MessageSender,
)
from wellness_repo.models.types import utc_now

__all__ = ["analytics_of", "counter_update"]

_MAX_MOOD_RATINGS = 100
_COUNTER_OF = {
    MessageSender.USER: "user_message_count",
    MessageSender.ASSISTANT: "assistant_message_count",
}


def analytics_of(conversation: Conversation) -> ConversationAnalytics:
    """The analytics of ``conversation`` as it is stored now."""
    ends = [
        moment
        for moment in (conversation.last_message_at, conversation.closed_at)
        if moment is not None
    ]
    duration = max(ends) - conversation.created_at if ends else timedelta(0)
    ratings = tuple(conversation.mood_ratings)
    return ConversationAnalytics(
        conversation_id=conversation.conversation_id,
        user_id=conversation.user_id,
        conversation_type=conversation.conversation_type,
        initial_type=conversation.initial_type,
        status=conversation.status,
        message_count=conversation.message_count,
        user_message_count=conversation.user_message_count,
        assistant_message_count=conversation.assistant_message_count,
        started_at=conversation.created_at,
        last_message_at=conversation.last_message_at,
        duration=max(duration, timedelta(0)),
        intents_seen=tuple(conversation.intents_seen),
        mood_labels=tuple(conversation.mood_labels),
        mood_ratings=ratings,
        mean_mood_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        crisis_flagged=conversation.crisis_flagged,
        crisis_types=tuple(conversation.crisis_types),
        crisis_message_count=conversation.crisis_message_count,
        first_crisis_at=conversation.first_crisis_at,
        satisfaction_rating=conversation.satisfaction_rating,
    )


def counter_update(
    conversation: Conversation, sender: MessageSender, reading: IntentResult | None
) -> dict[str, Any]:
    """The conversation's analytics after one more message, as one update."""
    now = utc_now()
    increments: dict[str, int] = {"message_count": 1}
    if sender in _COUNTER_OF:
        increments[_COUNTER_OF[sender]] = 1
    changes: dict[str, Any] = {"last_message_at": now}
    update: dict[str, Any] = {"$inc": increments, "$set": changes}
    if reading is None:
        return update
    labels = [label.value for label in reading.mood_labels]
    update["$addToSet"] = {
        "intents_seen": reading.intent.value,
        "mood_labels": {"$each": labels},
        "crisis_types": {
            "$each": [signal.crisis_type.value for signal in reading.crisis_signals]
        },
    }
    if reading.mood_rating is not None:
        update["$push"] = {
            "mood_ratings": {
                "$each": [reading.mood_rating],
                "$slice": -_MAX_MOOD_RATINGS,
            }
        }
    if own_crisis_signals(reading.crisis_signals):
        increments["crisis_message_count"] = 1
        changes["crisis_flagged"] = True
        changes["conversation_type"] = ConversationType.CRISIS_SUPPORT.value
        if conversation.first_crisis_at is None:
            changes["first_crisis_at"] = now
    return update
