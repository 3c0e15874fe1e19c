"""The conversational check-in agent's repository: conversations, their messages,
the agent's replies, crisis handling and per-conversation analytics.

Adding a message (``add_message``, ``generate_ai_response``) is one unit: the
conversation's counters move (which places the message: its ``sequence``), the
message is stored encrypted, and, for a patient's message, each current crisis
signal the detector finds is recorded as a crisis detection
(``source="conversation"``) with its outbox alert. On a replica set the unit is
one transaction, run again from the start when it loses a race; a failure to
record a detection fails the whole call (a crisis is never dropped quietly).
On the embedded backend the writes are grouped but not rolled back (README,
Known limitations).

A current risk to the patient's own safety (not a friend's, not their past)
switches the conversation to ``crisis_support`` and flags it. The agent's reply
to such a message is always :func:`~wellness_repo.analysis.check_in_responses.
crisis_response`, whatever generator is plugged in: the 988 Lifeline and the
steps of the patient's active safety plan, read as the caller. Detections are
recorded as ``system:crisis-detector``, as journals do: the patient may not
write crisis detections, yet their words must reach the care team.

Nothing a patient wrote is logged: log lines carry ids, intents and counts.
"""

from __future__ import annotations

from typing import Any

from wellness_repo.analysis.check_in_responses import (
    ResponseRequest,
    crisis_response,
)
from wellness_repo.analysis.intents import (
    IntentResult,
    recognise_intent,
)
from wellness_repo.errors import AccessDeniedError, ValidationError
from wellness_repo.models.conversations import (
    CheckInResponse,
    Conversation,
    ConversationAnalytics,
    ConversationMessage,
    ConversationStatus,
    ConversationType,
    MessageSender,
)
from wellness_repo.models.types import new_id, utc_now
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repositories.care import parse_argument
from wellness_repo.repositories.conversation_analytics import (
    analytics_of,
)
from wellness_repo.repositories.conversation_messages import (
    checked_content,
)
from wellness_repo.repositories.conversation_messaging import ConversationMessaging
from wellness_repo.repositories.conversation_replies import (
    generated_reply,
    safety_plan_steps,
)
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.security.context import UserRole

__all__ = ["ConversationRepository"]

# Kept by the repository; a caller's update may change the title only.
_MANAGED = (
    "user_id",
    "conversation_type",
    "initial_type",
    "status",
    "closed_at",
    "last_message_at",
    "message_count",
    "user_message_count",
    "assistant_message_count",
    "intents_seen",
    "mood_labels",
    "mood_ratings",
    "crisis_flagged",
    "crisis_types",
    "crisis_message_count",
    "first_crisis_at",
    "satisfaction_rating",
    "satisfaction_recorded_at",
)


class ConversationRepository(ConversationMessaging):
    """Check-in conversations with the agent.

    Attributes:
        messages: the conversations' messages (read-only from outside).
        detections: the crisis repository crisis messages are recorded through.
        safety_plans: where a patient's active safety plan is read.
        response_generator: writes the agent's replies to non-crisis messages;
            :class:`TemplateResponseGenerator` unless another is given.
    """

    # ------------------------------------------------------- conversations

    async def start_conversation(
        self,
        user_id: str,
        conversation_type: ConversationType | str = ConversationType.GENERAL,
        title: str | None = None,
    ) -> Conversation:
        """Start a check-in conversation for a patient.

        Raises:
            ValidationError: a malformed ``user_id``, an unknown
                ``conversation_type``, a blank or over-long ``title``; nothing
                is written.
        """
        return await self._started(new_id(), user_id, conversation_type, title)

    async def create(self, entity: Conversation) -> Conversation:
        """Store a new conversation as :meth:`start_conversation` would: active,
        its analytics empty, whatever values were handed in for them. The
        entity's id is kept (an import or the fixture seeder names its
        conversations); a second conversation with that id is a
        ``DuplicateError``."""
        self._check_type(entity)
        return await self._started(
            entity.id, entity.user_id, entity.conversation_type, entity.title
        )

    async def _started(
        self,
        conversation_id: str,
        user_id: str,
        conversation_type: ConversationType | str,
        title: str | None,
    ) -> Conversation:
        patient = checked_id(user_id, field="user_id")
        kind = parse_argument(
            ConversationType,
            conversation_type,
            field="conversation_type",
            entity=self._entity,
        )
        conversation = self._validated_from_fields(
            {
                "id": conversation_id,
                "user_id": patient,
                "conversation_type": kind,
                "initial_type": kind,
                "title": title,
            },
            "new",
        )
        stored = await super().create(conversation)
        self.logger.info(
            "conversation %s started (%s)", stored.id, stored.conversation_type.value
        )
        return stored

    async def update(self, entity: Conversation) -> Conversation:
        """Store a changed title (revision-guarded).

        Raises:
            ValidationError: a field the repository keeps was changed (the type,
                the status, the counters, the rating); nothing is written.
        """
        self._check_type(entity)
        stored = await self.get(entity.id)
        # A copy read before the latest message differs in its counters; that
        # is staleness (ConcurrencyError below, which patch retries), not an
        # edit of what the repository keeps.
        for name in _MANAGED if stored.revision == entity.revision else ():
            if getattr(entity, name) != getattr(stored, name):
                raise ValidationError(
                    f"{name} is kept by the conversation repository",
                    field=name,
                    rule="managed_field",
                    entity=self._entity,
                    entity_id=entity.id,
                )
        return await super().update(entity)

    async def close_conversation(self, conversation_id: str) -> Conversation:
        """End a conversation: it takes no more messages. Closing a closed
        conversation changes nothing.

        Raises:
            NotFoundError: no such conversation is visible.
        """
        self._check_id(conversation_id)
        now = utc_now()
        closed = await self._atomic_update(
            conversation_id,
            {"$set": {"status": ConversationStatus.CLOSED.value, "closed_at": now}},
            guard={"status": ConversationStatus.ACTIVE.value},
            changed=("status", "closed_at"),
        )
        if closed is None:
            return await self.get(conversation_id)
        self.logger.info("conversation %s closed", conversation_id)
        return closed

    async def record_satisfaction(
        self, conversation_id: str, rating: int
    ) -> Conversation:
        """Record how satisfied the patient was with the conversation, 1 (not
        at all) to 5 (very); a later rating replaces an earlier one.

        Raises:
            ValidationError: ``rating`` is not a whole number from 1 to 5;
                nothing is written.
            NotFoundError: no such conversation is visible.
        """
        self._check_id(conversation_id)
        if isinstance(rating, bool) or not isinstance(rating, int):
            raise ValidationError(
                "rating must be a whole number", field="rating", rule="type"
            )
        if not 1 <= rating <= 5:
            raise ValidationError(
                "rating must be from 1 to 5", field="rating", rule="range"
            )
        rated = await self._atomic_update(
            conversation_id,
            {
                "$set": {
                    "satisfaction_rating": rating,
                    "satisfaction_recorded_at": utc_now(),
                }
            },
            changed=("satisfaction_rating", "satisfaction_recorded_at"),
        )
        if rated is None:
            return await self.get(conversation_id)
        self.logger.info("conversation %s rated", conversation_id)
        return rated

    # ------------------------------------------------------------ messages

    async def add_message(
        self,
        conversation_id: str,
        content: str,
        sender: MessageSender | str = MessageSender.USER,
    ) -> ConversationMessage:
        """Add a message to an active conversation and return it as stored.

        A patient's message is read for its intent, mood and crisis language;
        a current crisis switches the conversation to crisis support and is
        recorded as a crisis detection with an alert, in the same transaction.
        A patient may add only their own (``user``) messages.

        Raises:
            ValidationError: blank or over-long content, an unknown sender, a
                conversation that is not visible, or closed (unless the
                patient's message carries a crisis, which opens it again);
                nothing is written.
            AccessDeniedError: a patient wrote as someone else.
        """
        conversation = checked_id(conversation_id, field="conversation_id")
        text = checked_content(content, field="content")
        who = parse_argument(
            MessageSender, sender, field="sender", entity="ConversationMessage"
        )
        if who is not MessageSender.USER and self._context().role is UserRole.PATIENT:
            raise AccessDeniedError(
                "a patient adds only their own messages", entity="ConversationMessage"
            )
        reading = recognise_intent(text) if who is MessageSender.USER else None
        return await self._append(conversation, text, who, reading)

    async def generate_ai_response(
        self, conversation_id: str, user_message: ConversationMessage | str
    ) -> CheckInResponse:
        """The agent's reply to a patient's message, stored in the conversation.

        ``user_message`` is either the text of a new message (stored first, as
        :meth:`add_message` stores it) or a message already added to this
        conversation. The intent is recognised with a confidence; a crisis is
        answered with 988 and the patient's active safety plan, anything else
        by the response generator (the templates unless another is plugged
        in; if it fails, the templates answer).

        Raises:
            ValidationError: blank or over-long text, a message of another
                conversation or not the patient's, a conversation not visible,
                or closed (unless the message carries a crisis, which opens it
                again); nothing is written.
        """
        conversation = checked_id(conversation_id, field="conversation_id")
        if isinstance(user_message, ConversationMessage):
            said = await self._stored_user_message(conversation, user_message)
            reading = recognise_intent(said.content)
        else:
            text = checked_content(user_message, field="user_message")
            reading = recognise_intent(text)
            said = await self._append(conversation, text, MessageSender.USER, reading)
        current = await self.get(conversation)
        plan_included = False
        if reading.is_crisis:
            plan = await self.safety_plans.active_plan(current.user_id)
            plan_included = plan is not None
            reply = crisis_response(
                None if plan is None else safety_plan_steps(plan)
            ).text
        else:
            reply = await self._generated(current, said, reading)
        answer = await self._append(
            conversation, reply, MessageSender.ASSISTANT, None, answered=(said, reading)
        )
        self.logger.info(
            "conversation %s answered message %s (intent %s, crisis %s)",
            conversation,
            said.id,
            reading.intent.value,
            reading.is_crisis,
        )
        return CheckInResponse(
            intent=reading.intent,
            confidence=reading.confidence,
            text=reply,
            crisis=reading.is_crisis,
            conversation_type=current.conversation_type,
            user_message=said,
            message=answer,
            crisis_detection_ids=tuple(said.crisis_detection_ids),
            safety_plan_included=plan_included,
        )

    # --------------------------------------------------------------- reads

    async def conversations_for_user(
        self,
        user_id: str,
        *,
        conversation_type: ConversationType | str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[Conversation]:
        """One page of a patient's conversations, newest first.

        Args:
            conversation_type: only conversations of this (current) type.
            after: the ``next_cursor`` of the previous page.
        """
        filters: dict[str, Any] = {"user_id": checked_id(user_id, field="user_id")}
        if conversation_type is not None:
            filters["conversation_type"] = conversation_type
        return await self.list_all(
            QueryOptions(
                filters=filters, order_by=["-created_at"], limit=limit, after=after
            )
        )

    async def transcript(
        self,
        conversation_id: str,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[ConversationMessage]:
        """One page of a conversation's messages, oldest first."""
        return await self.messages.transcript(conversation_id, limit=limit, after=after)

    async def conversation_analytics(
        self, conversation_id: str
    ) -> ConversationAnalytics:
        """Message counts, duration, intents seen, moods mentioned, crisis flags
        and the satisfaction rating of one conversation.

        Raises:
            NotFoundError: no such conversation is visible.
        """
        return analytics_of(await self.get(conversation_id))

    async def _generated(
        self,
        conversation: Conversation,
        said: ConversationMessage,
        reading: IntentResult,
    ) -> str:
        request = ResponseRequest(
            intent=reading.intent,
            confidence=reading.confidence,
            conversation_type=conversation.conversation_type.value,
            user_text=said.content,
            mood_rating=reading.mood_rating,
            mood_labels=reading.mood_labels,
            concern_for_someone_else=bool(reading.crisis_signals),
        )
        return await generated_reply(self.response_generator, request, self.logger)
