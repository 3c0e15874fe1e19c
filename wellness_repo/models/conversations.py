"""Check-in conversations with the platform's conversational agent: the
conversation, its messages, and the typed result of an agent reply.

Messages are a separate collection (``conversation_messages``), not embedded in
the conversation:

- a conversation has no natural end: a patient may come back to a daily
  check-in for months, and embedding would grow one document towards
  MongoDB's 16 MB limit and rewrite (and re-encrypt) more of it with every turn;
- every message is PHI and encrypted on its own; a conversation list (the
  patient's history, newest first) then reads no message at all;
- adding a message is an insert plus one atomic counter update on the
  conversation (``$inc`` of ``message_count``), which hands out the message's
  ``sequence``; a unique index on ``(conversation_id, sequence)`` backs it, so
  racing writers can never interleave two messages at one place.

What the analytics need (message counts, intents seen, moods mentioned, crisis
flags, satisfaction) is kept on the conversation as counters and label sets,
updated in the same step as each message, so analytics read one document.

Message content and the conversation title are encrypted at rest. Intents, mood
labels and crisis types are labels from fixed vocabularies (never the patient's
words) and stay queryable. Conversations are patient-authored: the patient owns
them; clinicians caring for the patient read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.crisis_language import CrisisType
from wellness_repo.analysis.intents import Intent, MoodLabel
from wellness_repo.models.base import SoftDeletableDocument, WellnessDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import Encrypted, UtcDatetime
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "CONVERSATION_MODELS",
    "MAX_MESSAGE_LENGTH",
    "CheckInResponse",
    "Conversation",
    "ConversationAnalytics",
    "ConversationMessage",
    "ConversationStatus",
    "ConversationType",
    "MessageSender",
]

MAX_MESSAGE_LENGTH = 4_000
"""The longest message, in characters (a long chat message, about a page)."""
_MAX_MOOD_RATINGS = 100
"""Mood ratings kept on a conversation for its analytics (the latest)."""

MoodRating = Annotated[int, Field(ge=1, le=10)]


class ConversationType(StrEnum):
    """What a check-in conversation is for."""

    MOOD_CHECK_IN = "mood_check_in"
    CBT_EXERCISE = "cbt_exercise"
    CRISIS_SUPPORT = "crisis_support"
    """Set by the agent when a patient's message carries a current crisis."""
    PSYCHOEDUCATION = "psychoeducation"
    GENERAL = "general"


class ConversationStatus(StrEnum):
    """Whether a conversation still takes messages."""

    ACTIVE = "active"
    CLOSED = "closed"


class MessageSender(StrEnum):
    """Who wrote a message."""

    USER = "user"
    """The patient."""
    ASSISTANT = "assistant"
    """The conversational agent."""
    CLINICIAN = "clinician"
    """A clinician joining the conversation (written by a system service)."""
    SYSTEM = "system"
    """A platform notice (a session timed out, a clinician joined)."""


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise PydanticCustomError("blank", "must have some text, not only spaces")
    return value


class Conversation(SoftDeletableDocument):
    """A patient's check-in conversation with the agent, with the running
    analytics its messages update.

    Every field below ``title`` is maintained by the conversation repository.
    """

    ID_NAME: ClassVar[str] = "conversation_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PATIENT_AUTHORED)

    user_id: PersonId
    conversation_type: ConversationType
    title: Annotated[str | None, Encrypted(), Field(min_length=1, max_length=200)] = (
        None
    )
    initial_type: ConversationType | None = None
    """The type the conversation was started with (a crisis changes
    ``conversation_type``, never this)."""
    status: ConversationStatus = ConversationStatus.ACTIVE
    closed_at: UtcDatetime | None = None
    last_message_at: UtcDatetime | None = None
    message_count: int = Field(default=0, ge=0)
    user_message_count: int = Field(default=0, ge=0)
    assistant_message_count: int = Field(default=0, ge=0)
    intents_seen: list[Intent] = Field(default_factory=list, max_length=20)
    mood_labels: list[MoodLabel] = Field(default_factory=list, max_length=20)
    """The moods mentioned, as labels, each once."""
    mood_ratings: list[MoodRating] = Field(
        default_factory=list, max_length=_MAX_MOOD_RATINGS
    )
    """The 1-10 ratings the patient gave, oldest first (the latest 100)."""
    crisis_flagged: bool = False
    """A message carried a current risk to the patient."""
    crisis_types: list[CrisisType] = Field(default_factory=list, max_length=10)
    crisis_message_count: int = Field(default=0, ge=0)
    first_crisis_at: UtcDatetime | None = None
    satisfaction_rating: int | None = Field(default=None, ge=1, le=5)
    satisfaction_recorded_at: UtcDatetime | None = None

    class Settings:
        name = "conversations"

    _blank = field_validator("title")(_not_blank)

    @property
    def conversation_id(self) -> str:
        """The platform's name for this conversation's id."""
        return self.id

    @property
    def started_at(self) -> datetime:
        """When the conversation was started."""
        return self.created_at

    @property
    def is_active(self) -> bool:
        """Whether the conversation still takes messages."""
        return self.status is ConversationStatus.ACTIVE


class ConversationMessage(WellnessDocument):
    """One message of a check-in conversation, in its place (``sequence``).

    A patient's message carries what the agent read in it: the intent and its
    confidence, a mood rating and mood labels, crisis types and the crisis
    detections it raised. An agent's reply carries the intent it answered and
    the message it answers (``responds_to``).
    """

    ID_NAME: ClassVar[str] = "message_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PATIENT_AUTHORED)

    conversation_id: PersonId
    user_id: PersonId
    """The patient whose conversation this is (whoever wrote the message)."""
    sequence: int = Field(ge=1)
    """The message's place in the conversation, from 1."""
    sender: MessageSender
    content: Annotated[
        str, Encrypted(), Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)
    ]
    intent: Intent | None = None
    intent_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0, allow_inf_nan=False
    )
    mood_rating: MoodRating | None = None
    mood_labels: list[MoodLabel] = Field(default_factory=list, max_length=20)
    crisis_types: list[CrisisType] = Field(default_factory=list, max_length=10)
    crisis_detection_ids: list[PersonId] = Field(default_factory=list, max_length=10)
    responds_to: PersonId | None = None

    class Settings:
        name = "conversation_messages"

    _blank = field_validator("content")(_not_blank)

    @property
    def message_id(self) -> str:
        """The platform's name for this message's id."""
        return self.id

    @property
    def sent_at(self) -> datetime:
        """When the message was stored."""
        return self.created_at


@dataclass(frozen=True, slots=True)
class CheckInResponse:
    """What :meth:`ConversationRepository.generate_ai_response` returns.

    Attributes:
        intent: the intent recognised in the patient's message.
        confidence: 0..1, how sure that reading is.
        text: the agent's reply (also stored as ``message``).
        crisis: the message carried a current risk to the patient; the reply
            then gives 988 and the patient's active safety plan.
        conversation_type: the conversation's type after the message
            (``crisis_support`` once a crisis was found).
        user_message: the patient's message, as stored.
        message: the agent's reply, as stored.
        crisis_detection_ids: the crisis detections the message raised.
        safety_plan_included: the reply lists an active safety plan's steps.
    """

    intent: Intent
    confidence: float
    text: str
    crisis: bool
    conversation_type: ConversationType
    user_message: ConversationMessage
    message: ConversationMessage
    crisis_detection_ids: tuple[str, ...] = ()
    safety_plan_included: bool = False

    @property
    def conversation_id(self) -> str:
        """The conversation the reply belongs to."""
        return self.message.conversation_id


@dataclass(frozen=True, slots=True)
class ConversationAnalytics:
    """The analytics of one conversation.

    Attributes:
        duration: from the start to the last message (or the close, if later).
        mood_labels: the moods mentioned, as labels.
        mood_ratings: the 1-10 ratings given, oldest first; ``mean_mood_rating``
            is their mean.
        crisis_flagged: a message carried a current risk to the patient;
            ``crisis_types`` and ``crisis_message_count`` say which and how many.
    """

    conversation_id: str
    user_id: str
    conversation_type: ConversationType
    initial_type: ConversationType | None
    status: ConversationStatus
    message_count: int
    user_message_count: int
    assistant_message_count: int
    started_at: datetime
    last_message_at: datetime | None
    duration: timedelta
    intents_seen: tuple[Intent, ...]
    mood_labels: tuple[MoodLabel, ...]
    mood_ratings: tuple[int, ...]
    mean_mood_rating: float | None
    crisis_flagged: bool
    crisis_types: tuple[CrisisType, ...]
    crisis_message_count: int
    first_crisis_at: datetime | None
    satisfaction_rating: int | None


CONVERSATION_MODELS: tuple[type[WellnessDocument], ...] = (
    Conversation,
    ConversationMessage,
)
"""The document models of this module, for the registry."""
