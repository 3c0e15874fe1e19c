"""The message-adding half of the conversation repository (see
:class:`~wellness_repo.repositories.conversations.ConversationRepository`, which
is the one to use): placing a message, counting it on the conversation and
recording its crisis signals, as one transaction run again when it loses a race.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from wellness_repo.analysis.check_in_responses import (
    ResponseGenerator,
    TemplateResponseGenerator,
)
from wellness_repo.analysis.intents import IntentResult
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.database.transactions import in_transaction
from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.models.conversations import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    MessageSender,
)
from wellness_repo.models.crisis import DetectionSource
from wellness_repo.repositories.conversation_analytics import counter_update
from wellness_repo.repositories.conversation_messages import (
    ConversationMessageRepository,
    message_fields,
)
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.crisis_recording import back_off, record_signals
from wellness_repo.repositories.safety_plans import SafetyPlanRepository
from wellness_repo.repository.base import AsyncBaseRepository

__all__ = ["ConversationMessaging", "closed_conversation"]

_WRITE_ATTEMPTS = 24
"""How often adding a message is tried when it keeps losing races: a burst of
a dozen messages to one conversation lands in turn; refusing a patient's
message (perhaps a crisis) is the worst outcome."""


class ConversationMessaging(AsyncBaseRepository[Conversation]):
    """Adds messages to conversations; the base of the conversation
    repository, which holds the public methods."""

    model = Conversation

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[Conversation] | None = None,
        response_generator: ResponseGenerator | None = None,
    ) -> None:
        super().__init__(db_manager, logger, model=model)
        self.messages = ConversationMessageRepository(self.db, self.logger)
        self.detections = CrisisDetectionRepository(self.db, self.logger)
        self.safety_plans = SafetyPlanRepository(self.db, self.logger)
        self.response_generator: ResponseGenerator = (
            response_generator or TemplateResponseGenerator()
        )

    # ------------------------------------------------------------- private

    async def _append(
        self,
        conversation_id: str,
        text: str,
        sender: MessageSender,
        reading: IntentResult | None,
        *,
        answered: tuple[ConversationMessage, IntentResult] | None = None,
    ) -> ConversationMessage:
        """Count, place and store one message, recording its crisis signals."""
        signals = reading.crisis_signals if reading is not None else ()
        # A patient who writes about a crisis into a conversation she closed is
        # heard: the conversation opens again rather than refusing her words,
        # and the crisis reply (988, her safety plan) reaches her the same way.
        # Such a message is written whatever the status is by then, so a close
        # landing between the read and the write cannot refuse it either.
        urgent = (sender is MessageSender.USER and bool(signals)) or (
            answered is not None and answered[1].is_crisis
        )
        conversation = await self._open(conversation_id, allow_closed=urgent)
        candidate = self.messages._validated_from_fields(
            message_fields(conversation, text, sender, reading, answered),
            "new",
        )
        update = counter_update(conversation, sender, reading)
        guard: dict[str, Any] = {"status": ConversationStatus.ACTIVE.value}
        if urgent:
            update["$set"].update(
                status=ConversationStatus.ACTIVE.value, closed_at=None
            )
            guard = {}

        async def write() -> ConversationMessage:
            # Detections first: the conversation is the one document every
            # message of it updates, so its write comes as late as it can.
            detections = await record_signals(
                self.detections,
                conversation.user_id,
                DetectionSource.CONVERSATION,
                candidate.id,
                signals,
            )
            counted = await self._atomic_update(
                conversation.id,
                update,
                guard=guard,
                changed=tuple(sorted({*update["$set"], *update["$inc"]})),
            )
            if counted is None:
                raise closed_conversation(conversation.id)
            placed = candidate.model_copy(
                update={
                    "sequence": counted.message_count,
                    "crisis_detection_ids": [found.id for found in detections],
                }
            )
            # The base insert, past the message repository's refusal of
            # writes that skip the crisis detector.
            return await AsyncBaseRepository.create(self.messages, placed)

        stored = await self._in_transaction(write)
        self.logger.info(
            "conversation %s: %s message %s added at %d",
            conversation.id,
            sender.value,
            stored.id,
            stored.sequence,
        )
        return stored

    async def _in_transaction(
        self, work: Callable[[], Awaitable[ConversationMessage]]
    ) -> ConversationMessage:
        """``work`` in one transaction, run again from the start when it lost a
        race (as ``with_detections`` does, with more attempts: a burst of
        messages all move one conversation's counters)."""
        if in_transaction():
            return await work()
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                async with self.db.transaction():
                    return await work()
            except ConcurrencyError:
                if not self.db.supports_transactions or attempt == _WRITE_ATTEMPTS:
                    raise
                await back_off(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _open(
        self, conversation_id: str, *, allow_closed: bool = False
    ) -> Conversation:
        conversation = await self.get_by_id(conversation_id)
        if conversation is None:
            raise ValidationError(
                "no such conversation is visible",
                field="conversation_id",
                rule="not_found",
                entity=self._entity,
                entity_id=conversation_id,
            )
        if not conversation.is_active and not allow_closed:
            raise closed_conversation(conversation_id)
        return conversation

    async def _stored_user_message(
        self, conversation_id: str, message: ConversationMessage
    ) -> ConversationMessage:
        if message.conversation_id != conversation_id:
            raise ValidationError(
                "the message belongs to another conversation",
                field="user_message",
                rule="other_conversation",
                entity="ConversationMessage",
                entity_id=message.id,
            )
        stored = await self.messages.get_by_id(message.id)
        if stored is None or stored.sender is not MessageSender.USER:
            raise ValidationError(
                "not a stored message of the patient; pass its text instead",
                field="user_message",
                rule="not_a_stored_user_message",
                entity="ConversationMessage",
                entity_id=message.id,
            )
        await self._open(conversation_id)
        return stored


def closed_conversation(conversation_id: str) -> ValidationError:
    """The error for a message to a conversation that is closed."""
    return ValidationError(
        "the conversation is closed; start a new one",
        field="conversation_id",
        rule="conversation_closed",
        entity="Conversation",
        entity_id=conversation_id,
    )
