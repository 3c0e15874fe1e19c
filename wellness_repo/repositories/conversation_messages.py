"""The messages of check-in conversations: read in order, written only by the
conversation repository.

Every message a patient sends must pass the crisis detector, so the ordinary
writes (``create``, ``create_many``, ``update``, ``patch``) are refused here:
messages are added with
:meth:`~wellness_repo.repositories.conversations.ConversationRepository.add_message`
or ``generate_ai_response``, which read them, count them on the conversation and
record any crisis in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from wellness_repo.analysis.intents import IntentResult
from wellness_repo.errors import ValidationError
from wellness_repo.models.conversations import (
    MAX_MESSAGE_LENGTH,
    Conversation,
    ConversationMessage,
    MessageSender,
)
from wellness_repo.models.types import new_id
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository

__all__ = ["ConversationMessageRepository", "checked_content", "message_fields"]


class ConversationMessageRepository(AsyncBaseRepository[ConversationMessage]):
    """Check-in messages: the transcript of a conversation, oldest first."""

    model = ConversationMessage

    async def transcript(
        self,
        conversation_id: str,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[ConversationMessage]:
        """One page of a conversation's messages in the order they were added.

        Args:
            after: the ``next_cursor`` of the previous page.
        """
        conversation = checked_id(conversation_id, field="conversation_id")
        return await self.list_all(
            QueryOptions(
                filters={"conversation_id": conversation},
                order_by=["sequence"],
                limit=limit,
                after=after,
            )
        )

    async def create(self, entity: ConversationMessage) -> ConversationMessage:
        """Refused: add messages through the conversation repository."""
        self._refuse()

    async def create_many(
        self, entities: Sequence[ConversationMessage]
    ) -> list[ConversationMessage]:
        """Refused: add messages through the conversation repository."""
        self._refuse()

    async def update(self, entity: ConversationMessage) -> ConversationMessage:
        """Refused: a message is kept as it was sent."""
        self._refuse()

    async def patch(
        self,
        entity_id: str,
        changes: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
    ) -> ConversationMessage:
        """Refused: a message is kept as it was sent."""
        self._refuse()

    def _refuse(self) -> NoReturn:
        raise ValidationError(
            "messages are added with ConversationRepository.add_message or "
            "generate_ai_response, which read them for crisis language",
            field="entity",
            rule="use_add_message",
            entity=self._entity,
        )


def checked_content(content: Any, *, field: str) -> str:
    """A message's text as given, if it is text of an allowed length."""
    if not isinstance(content, str):
        raise ValidationError(
            "a message is text", field=field, rule="type", entity="ConversationMessage"
        )
    if not content.strip():
        raise ValidationError(
            "a message must have some text, not only spaces",
            field=field,
            rule="blank",
            entity="ConversationMessage",
        )
    if len(content) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            f"a message may be at most {MAX_MESSAGE_LENGTH} characters",
            field=field,
            rule="max_length",
            entity="ConversationMessage",
        )
    return content


def message_fields(
    conversation: Conversation,
    text: str,
    sender: MessageSender,
    reading: IntentResult | None,
    answered: tuple[ConversationMessage, IntentResult] | None,
) -> dict[str, Any]:
    """The fields of a new message, with what was read in it (or in the
    message it answers); its place is set when it is stored."""
    fields: dict[str, Any] = {
        "id": new_id(),
        "conversation_id": conversation.id,
        "user_id": conversation.user_id,
        "sequence": 1,
        "sender": sender,
        "content": text,
    }
    if reading is not None:
        fields.update(
            intent=reading.intent,
            intent_confidence=reading.confidence,
            mood_rating=reading.mood_rating,
            mood_labels=list(reading.mood_labels),
            crisis_types=[signal.crisis_type for signal in reading.crisis_signals],
        )
    if answered is not None:
        message, answered_reading = answered
        fields.update(
            responds_to=message.id,
            intent=answered_reading.intent,
            intent_confidence=answered_reading.confidence,
        )
    return fields
