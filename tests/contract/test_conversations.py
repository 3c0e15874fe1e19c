"""Check-in conversations on both backends: the platform's example, intents and
replies, the crisis path (crisis support, 988 and the active safety plan, a
crisis detection with its outbox alert), analytics, satisfaction, paging, the
pluggable reply generator, access under the role policy, and bad input."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS, SYSTEM
from tests.support.access_data import (
    ClinicDb,
    actor_context,
    clinic_database_on,
    reseeded,
)
from tests.support.conversation_data import (
    ANXIOUS_MESSAGE,
    CHECK_IN_TITLE,
    COPING_MESSAGE,
    CRISIS_MESSAGE,
    FRIEND_MESSAGE,
    GOOD_MOOD_MESSAGE,
    GOODBYE_MESSAGE,
    GRATITUDE_MESSAGE,
    GREETING_MESSAGE,
    HISTORY_MESSAGE,
    LOW_MOOD_MESSAGE,
    OTHER_PATIENT,
    PATIENT,
    QUIET_CRISIS_MESSAGE,
    SLEEP_MESSAGE,
    seed_conversation,
    stored_message,
)
from tests.support.safety_plan_data import full_plan
from wellness_repo import (
    AccessDeniedError,
    BaseRepository,
    ConcurrencyError,
    Conversation,
    ConversationMessage,
    ConversationRepository,
    ConversationStatus,
    ConversationType,
    CrisisDetection,
    CrisisNotification,
    CrisisType,
    DatabaseManager,
    DetectionSource,
    Intent,
    MessageSender,
    MoodLabel,
    NotFoundError,
    ResponseRequest,
    SyncDatabaseManager,
    ValidationError,
    acting_as,
    connect_sync,
    create_conversation_repository,
    create_safety_plan_repository,
)
from wellness_repo.models.conversations import MAX_MESSAGE_LENGTH
from wellness_repo.repositories.crisis_recording import CrisisRecordingRepository
from wellness_repo.repository.base import AsyncBaseRepository


@pytest.fixture
def conversations(db: DatabaseManager) -> ConversationRepository:
    return create_conversation_repository(db)


@pytest.fixture
def sync_db(backend: str, mongodb_uri: str) -> Iterator[SyncDatabaseManager]:
    manager = connect_sync(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
    )
    try:
        yield manager
    finally:
        name = manager.manager.database_name
        manager.run(lambda: manager.manager.client.drop_database(name))
        manager.close()


async def stored_count(db: DatabaseManager, model: type[Any]) -> int:
    return int(await db.collection(model).count_documents({}))


async def crisis_records(db: DatabaseManager) -> tuple[int, int]:
    return (
        await stored_count(db, CrisisDetection),
        await stored_count(db, CrisisNotification),
    )


# ------------------------------------------------------------------ example


def test_the_platforms_example_runs_on_the_sync_facade(
    sync_db: SyncDatabaseManager,
) -> None:
    repo = create_conversation_repository(sync_db)

    conversation = repo.start_conversation(
        user_id="patient_123",
        conversation_type=ConversationType.MOOD_CHECK_IN,
        title="Daily Check-in",
    )
    message = repo.add_message(
        conversation_id=conversation.conversation_id,
        content="I'm feeling anxious today",
        sender=MessageSender.USER,
    )
    response = repo.generate_ai_response(
        conversation_id=conversation.conversation_id, user_message=message
    )

    assert isinstance(repo, BaseRepository)
    assert message.intent is Intent.ANXIETY
    assert response.intent is Intent.ANXIETY
    assert response.message.responds_to == message.message_id
    assert "5-4-3-2-1" in response.text


async def test_a_conversation_starts_active_and_empty(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(
        PATIENT, "mood_check_in", CHECK_IN_TITLE
    )

    found = await conversations.get(started.conversation_id)
    assert found.status is ConversationStatus.ACTIVE
    assert found.conversation_type is ConversationType.MOOD_CHECK_IN
    assert found.initial_type is ConversationType.MOOD_CHECK_IN
    assert found.title == CHECK_IN_TITLE
    assert found.message_count == 0


async def test_create_starts_a_conversation_whatever_analytics_were_given(
    conversations: ConversationRepository,
) -> None:
    created = await conversations.create(
        seed_conversation(message_count=40, crisis_flagged=True)
    )

    assert created.message_count == 0
    assert created.crisis_flagged is False


# ----------------------------------------------------------------- messages


async def test_messages_are_placed_in_order_with_what_was_read_in_them(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "mood_check_in")

    await conversations.add_message(started.conversation_id, LOW_MOOD_MESSAGE)
    await conversations.add_message(started.conversation_id, SLEEP_MESSAGE)
    page = await conversations.transcript(started.conversation_id)

    first, second = page.items
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.intent is Intent.MOOD_REPORT
    assert first.mood_rating == 3
    assert second.intent is Intent.SLEEP
    assert second.content == SLEEP_MESSAGE


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (ANXIOUS_MESSAGE, Intent.ANXIETY),
        (SLEEP_MESSAGE, Intent.SLEEP),
        (COPING_MESSAGE, Intent.COPING_SKILL_REQUEST),
        (GRATITUDE_MESSAGE, Intent.GRATITUDE),
        (GOODBYE_MESSAGE, Intent.GOODBYE),
        (GOOD_MOOD_MESSAGE, Intent.MOOD_REPORT),
    ],
)
async def test_the_reply_answers_the_recognised_intent(
    conversations: ConversationRepository, text: str, intent: Intent
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    response = await conversations.generate_ai_response(started.conversation_id, text)

    assert response.intent is intent
    assert 0.0 < response.confidence <= 1.0
    assert response.crisis is False
    assert response.message.sender is MessageSender.ASSISTANT
    assert response.message.intent is intent
    assert response.message.content == response.text
    assert response.user_message.content == text


async def test_a_reply_to_text_stores_both_messages(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    await conversations.generate_ai_response(started.conversation_id, ANXIOUS_MESSAGE)

    page = await conversations.transcript(started.conversation_id)
    assert [item.sender for item in page.items] == [
        MessageSender.USER,
        MessageSender.ASSISTANT,
    ]


async def test_a_reply_to_a_stored_message_does_not_store_it_again(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    said = await conversations.add_message(started.conversation_id, SLEEP_MESSAGE)

    await conversations.generate_ai_response(started.conversation_id, said)

    found = await conversations.get(started.conversation_id)
    assert found.message_count == 2


async def test_the_transcript_pages_in_order(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    for text in (ANXIOUS_MESSAGE, SLEEP_MESSAGE, GRATITUDE_MESSAGE):
        await conversations.add_message(started.conversation_id, text)

    first = await conversations.transcript(started.conversation_id, limit=2)
    rest = await conversations.transcript(
        started.conversation_id, limit=2, after=first.next_cursor
    )

    assert [m.sequence for m in first.items + rest.items] == [1, 2, 3]
    assert rest.has_more is False


# ------------------------------------------------------------------- crisis


async def test_a_crisis_gets_crisis_support_988_and_the_active_safety_plan(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    plan = await create_safety_plan_repository(db).create(full_plan())
    started = await conversations.start_conversation(PATIENT, "mood_check_in")

    response = await conversations.generate_ai_response(
        started.conversation_id, CRISIS_MESSAGE
    )

    assert response.intent is Intent.CRISIS
    assert response.crisis is True
    assert response.conversation_type is ConversationType.CRISIS_SUPPORT
    assert "call or text 988" in response.text
    assert response.safety_plan_included is True
    for step in (*plan.coping_strategies, *plan.reasons_to_live):
        assert step in response.text
    for contact in (*plan.social_contacts, *plan.professional_contacts):
        assert contact.phone in response.text


async def test_a_crisis_is_recorded_as_a_detection_with_an_outbox_alert(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "mood_check_in")

    response = await conversations.generate_ai_response(
        started.conversation_id, CRISIS_MESSAGE
    )

    detections = await conversations.detections.detections_for_patient(PATIENT)
    outbox = await AsyncBaseRepository(db, model=CrisisNotification).list_all()
    assert {d.detection_id for d in detections} == set(response.crisis_detection_ids)
    assert all(
        d.detection_source is DetectionSource.CONVERSATION
        and d.source_id == response.user_message.message_id
        for d in detections
    )
    assert CrisisType.SUICIDAL_IDEATION in {d.crisis_type for d in detections}
    assert {n.detection_id for n in outbox.items} == set(response.crisis_detection_ids)


async def test_a_crisis_added_as_a_message_switches_the_conversation(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "cbt_exercise")

    said = await conversations.add_message(
        started.conversation_id, QUIET_CRISIS_MESSAGE, "user"
    )

    found = await conversations.get(started.conversation_id)
    assert found.conversation_type is ConversationType.CRISIS_SUPPORT
    assert found.initial_type is ConversationType.CBT_EXERCISE
    assert found.crisis_flagged is True
    assert said.intent is Intent.CRISIS
    assert len(said.crisis_detection_ids) >= 1
    assert await crisis_records(db) == (
        len(said.crisis_detection_ids),
        len(said.crisis_detection_ids),
    )


async def test_without_a_safety_plan_the_crisis_reply_still_gives_988(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    response = await conversations.generate_ai_response(
        started.conversation_id, CRISIS_MESSAGE
    )

    assert response.safety_plan_included is False
    assert "call or text 988" in response.text


async def test_a_plugged_in_generator_never_answers_a_crisis(
    db: DatabaseManager,
) -> None:
    generator = RecordingGenerator("Let's talk about something else.")
    conversations = create_conversation_repository(db, response_generator=generator)
    started = await conversations.start_conversation(PATIENT, "general")

    response = await conversations.generate_ai_response(
        started.conversation_id, CRISIS_MESSAGE
    )

    assert generator.requests == []
    assert "988" in response.text


async def test_a_friends_risk_is_recorded_without_switching_the_conversation(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "mood_check_in")

    response = await conversations.generate_ai_response(
        started.conversation_id, FRIEND_MESSAGE
    )

    found = await conversations.get(started.conversation_id)
    assert response.crisis is False
    assert "988" in response.text
    assert found.conversation_type is ConversationType.MOOD_CHECK_IN
    assert found.crisis_flagged is False
    assert await crisis_records(db) == (1, 1)


async def test_a_failed_detection_fails_the_message_and_is_not_swallowed(
    conversations: ConversationRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    async def broken(*args: Any, **kwargs: Any) -> CrisisDetection:
        raise RuntimeError("crisis store unavailable")

    monkeypatch.setattr(CrisisRecordingRepository, "record_detection", broken)

    with pytest.raises(RuntimeError):
        await conversations.generate_ai_response(
            started.conversation_id, CRISIS_MESSAGE
        )


@pytest.mark.integration
async def test_on_a_replica_set_a_failed_detection_leaves_nothing_written(
    mongo_db: DatabaseManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversations = create_conversation_repository(mongo_db)
    started = await conversations.start_conversation(PATIENT, "general")

    async def broken(*args: Any, **kwargs: Any) -> CrisisDetection:
        raise RuntimeError("crisis store unavailable")

    monkeypatch.setattr(CrisisRecordingRepository, "record_detection", broken)
    with pytest.raises(RuntimeError):
        await conversations.add_message(started.conversation_id, CRISIS_MESSAGE)

    found = await conversations.get(started.conversation_id)
    assert found.message_count == 0
    assert found.crisis_flagged is False
    assert await stored_count(mongo_db, ConversationMessage) == 0


async def test_the_patients_past_raises_no_detection(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    response = await conversations.generate_ai_response(
        started.conversation_id, HISTORY_MESSAGE
    )

    assert response.crisis is False
    assert await crisis_records(db) == (0, 0)


@pytest.mark.integration
async def test_racing_messages_each_get_their_own_place(
    mongo_db: DatabaseManager,
) -> None:
    conversations = create_conversation_repository(mongo_db)
    started = await conversations.start_conversation(PATIENT, "mood_check_in")
    texts = [GREETING_MESSAGE, ANXIOUS_MESSAGE, SLEEP_MESSAGE, GRATITUDE_MESSAGE] * 3

    added = await asyncio.gather(
        *(conversations.add_message(started.conversation_id, t) for t in texts)
    )

    found = await conversations.get(started.conversation_id)
    assert sorted(m.sequence for m in added) == list(range(1, 13))
    assert found.message_count == found.user_message_count == 12
    assert await stored_count(mongo_db, ConversationMessage) == 12


@pytest.mark.integration
async def test_racing_crisis_messages_all_reach_the_care_team(
    mongo_db: DatabaseManager,
) -> None:
    conversations = create_conversation_repository(mongo_db)
    started = await conversations.start_conversation(PATIENT, "general")

    added = await asyncio.gather(
        *(
            conversations.add_message(started.conversation_id, CRISIS_MESSAGE)
            for _ in range(8)
        )
    )

    found = await conversations.get(started.conversation_id)
    detections = await conversations.detections.detections_for_patient(PATIENT)
    assert found.crisis_message_count == 8
    assert all(message.crisis_detection_ids for message in added)
    assert {d for m in added for d in m.crisis_detection_ids} == {
        d.detection_id for d in detections
    }


# ---------------------------------------------------------------- generator


class RecordingGenerator:
    """A stand-in for a language model: answers with fixed text, keeps the
    requests it was given."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.requests: list[ResponseRequest] = []

    async def generate(self, request: ResponseRequest) -> str:
        self.requests.append(request)
        return self.reply


class BrokenGenerator:
    """A generator whose service is down."""

    async def generate(self, request: ResponseRequest) -> str:
        raise ConnectionError("model endpoint unreachable")


async def test_a_plugged_in_generator_writes_the_reply(db: DatabaseManager) -> None:
    generator = RecordingGenerator("Tell me more about the tightness in your chest.")
    conversations = create_conversation_repository(db, response_generator=generator)
    started = await conversations.start_conversation(PATIENT, "cbt_exercise")

    response = await conversations.generate_ai_response(
        started.conversation_id, ANXIOUS_MESSAGE
    )

    assert response.text == generator.reply
    (seen,) = generator.requests
    assert seen.intent is Intent.ANXIETY
    assert seen.user_text == ANXIOUS_MESSAGE
    assert seen.conversation_type == "cbt_exercise"


async def test_when_the_generator_fails_the_template_replies(
    db: DatabaseManager,
) -> None:
    conversations = ConversationRepository(db, response_generator=BrokenGenerator())
    started = await conversations.start_conversation(PATIENT, "general")

    response = await conversations.generate_ai_response(
        started.conversation_id, SLEEP_MESSAGE
    )

    assert "twenty minutes" in response.text


# ---------------------------------------------------------------- analytics


async def test_analytics_count_messages_intents_moods_and_crises(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "mood_check_in")
    conversation_id = started.conversation_id
    await conversations.generate_ai_response(conversation_id, LOW_MOOD_MESSAGE)
    await conversations.generate_ai_response(conversation_id, GOOD_MOOD_MESSAGE)
    await conversations.generate_ai_response(conversation_id, ANXIOUS_MESSAGE)
    await conversations.generate_ai_response(conversation_id, CRISIS_MESSAGE)

    analytics = await conversations.conversation_analytics(conversation_id)

    assert analytics.message_count == 8
    assert analytics.user_message_count == 4
    assert analytics.assistant_message_count == 4
    assert set(analytics.intents_seen) == {
        Intent.MOOD_REPORT,
        Intent.ANXIETY,
        Intent.CRISIS,
    }
    assert analytics.mood_ratings == (3, 8)
    assert analytics.mean_mood_rating == 5.5
    assert {MoodLabel.HAPPY, MoodLabel.ANXIOUS} <= set(analytics.mood_labels)
    assert analytics.crisis_flagged is True
    assert analytics.crisis_message_count == 1
    assert CrisisType.SUICIDAL_IDEATION in analytics.crisis_types
    assert analytics.conversation_type is ConversationType.CRISIS_SUPPORT
    assert analytics.initial_type is ConversationType.MOOD_CHECK_IN
    assert analytics.last_message_at is not None
    assert analytics.duration == analytics.last_message_at - analytics.started_at


async def test_a_satisfaction_rating_is_recorded_and_replaced(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    await conversations.record_satisfaction(started.conversation_id, 2)
    rated = await conversations.record_satisfaction(started.conversation_id, 4)

    analytics = await conversations.conversation_analytics(started.conversation_id)
    assert rated.satisfaction_recorded_at is not None
    assert analytics.satisfaction_rating == 4


async def test_a_closed_conversation_can_still_be_rated(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    await conversations.close_conversation(started.conversation_id)

    rated = await conversations.record_satisfaction(started.conversation_id, 5)

    assert rated.satisfaction_rating == 5
    assert rated.status is ConversationStatus.CLOSED


async def test_a_patients_conversations_are_listed_newest_first_in_pages(
    conversations: ConversationRepository,
) -> None:
    started = [
        await conversations.start_conversation(PATIENT, kind)
        for kind in ("mood_check_in", "cbt_exercise", "general")
    ]
    await conversations.start_conversation(OTHER_PATIENT, "general")

    first = await conversations.conversations_for_user(PATIENT, limit=2)
    rest = await conversations.conversations_for_user(
        PATIENT, limit=2, after=first.next_cursor
    )

    listed = [c.conversation_id for c in first.items + rest.items]
    assert sorted(listed) == sorted(c.conversation_id for c in started)
    moments = [c.created_at for c in first.items + rest.items]
    assert moments == sorted(moments, reverse=True)


async def test_a_patients_conversations_can_be_listed_by_type(
    conversations: ConversationRepository,
) -> None:
    await conversations.start_conversation(PATIENT, "mood_check_in")
    crisis = await conversations.start_conversation(PATIENT, "general")
    await conversations.add_message(crisis.conversation_id, CRISIS_MESSAGE)

    page = await conversations.conversations_for_user(
        PATIENT, conversation_type=ConversationType.CRISIS_SUPPORT
    )

    assert [c.conversation_id for c in page.items] == [crisis.conversation_id]


async def test_closing_is_idempotent_and_ends_the_conversation(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    closed = await conversations.close_conversation(started.conversation_id)
    again = await conversations.close_conversation(started.conversation_id)

    assert closed.status is ConversationStatus.CLOSED
    assert again.closed_at == closed.closed_at


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "rule"),
    [("", "blank"), ("   \n", "blank"), ("x" * (MAX_MESSAGE_LENGTH + 1), "max_length")],
)
async def test_empty_or_over_long_content_is_refused_and_nothing_written(
    conversations: ConversationRepository,
    db: DatabaseManager,
    content: str,
    rule: str,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    with pytest.raises(ValidationError) as refused:
        await conversations.add_message(started.conversation_id, content)

    assert (refused.value.field, refused.value.rule) == ("content", rule)
    assert await stored_count(db, ConversationMessage) == 0
    assert (await conversations.get(started.conversation_id)).message_count == 0


async def test_an_unknown_sender_is_refused(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    with pytest.raises(ValidationError) as refused:
        await conversations.add_message(
            started.conversation_id, ANXIOUS_MESSAGE, "chatbot"
        )

    assert refused.value.field == "sender"
    assert await stored_count(db, ConversationMessage) == 0


async def test_an_unknown_conversation_type_is_refused(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    with pytest.raises(ValidationError) as refused:
        await conversations.start_conversation(PATIENT, "small_talk")

    assert refused.value.field == "conversation_type"
    assert await stored_count(db, type(seed_conversation())) == 0


async def test_a_blank_title_is_refused(
    conversations: ConversationRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await conversations.start_conversation(PATIENT, "general", "   ")

    assert refused.value.field == "title"


@pytest.mark.parametrize("rating", [0, 6, -1, True, 4.5, "5"])
async def test_a_rating_outside_one_to_five_is_refused(
    conversations: ConversationRepository, rating: Any
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    with pytest.raises(ValidationError) as refused:
        await conversations.record_satisfaction(started.conversation_id, rating)

    assert refused.value.field == "rating"
    found = await conversations.get(started.conversation_id)
    assert found.satisfaction_rating is None


async def test_a_message_to_a_closed_conversation_is_refused(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    await conversations.close_conversation(started.conversation_id)

    with pytest.raises(ValidationError) as refused:
        await conversations.generate_ai_response(
            started.conversation_id, ANXIOUS_MESSAGE
        )

    assert (refused.value.field, refused.value.rule) == (
        "conversation_id",
        "conversation_closed",
    )
    assert await stored_count(db, ConversationMessage) == 0


async def test_a_crisis_written_into_a_closed_conversation_opens_it_again(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    await conversations.close_conversation(started.conversation_id)

    response = await conversations.generate_ai_response(
        started.conversation_id, CRISIS_MESSAGE
    )

    found = await conversations.get(started.conversation_id)
    assert found.status is ConversationStatus.ACTIVE
    assert found.closed_at is None
    assert found.conversation_type is ConversationType.CRISIS_SUPPORT
    assert "988" in response.text
    assert await stored_count(db, CrisisDetection) >= 1
    assert await stored_count(db, ConversationMessage) == 2


async def test_a_crisis_sent_as_the_conversation_is_being_closed_is_recorded(
    conversations: ConversationRepository,
    db: DatabaseManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    read_before_the_close = conversations._open

    async def closed_right_after_the_read(
        conversation_id: str, *, allow_closed: bool = False
    ) -> Conversation:
        seen = await read_before_the_close(conversation_id, allow_closed=allow_closed)
        await conversations.close_conversation(conversation_id)
        return seen

    monkeypatch.setattr(conversations, "_open", closed_right_after_the_read)

    said = await conversations.add_message(started.conversation_id, CRISIS_MESSAGE)

    found = await conversations.get(started.conversation_id)
    assert found.status is ConversationStatus.ACTIVE
    detections = await conversations.detections.detections_for_patient(PATIENT)
    outbox = await AsyncBaseRepository(db, model=CrisisNotification).list_all()
    assert said.crisis_detection_ids
    assert {d.detection_id for d in detections} == set(said.crisis_detection_ids)
    assert {n.detection_id for n in outbox.items} == set(said.crisis_detection_ids)


async def test_the_crisis_reply_reaches_a_conversation_closed_after_the_message(
    conversations: ConversationRepository,
    db: DatabaseManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    find_plan = conversations.safety_plans.active_plan

    async def closed_while_the_plan_is_looked_up(patient_id: str) -> Any:
        await conversations.close_conversation(started.conversation_id)
        return await find_plan(patient_id)

    monkeypatch.setattr(
        conversations.safety_plans, "active_plan", closed_while_the_plan_is_looked_up
    )

    response = await conversations.generate_ai_response(
        started.conversation_id, CRISIS_MESSAGE
    )

    transcript = await conversations.transcript(started.conversation_id)
    assert [message.sender for message in transcript.items] == [
        MessageSender.USER,
        MessageSender.ASSISTANT,
    ]
    assert transcript.items[1].content == response.text
    assert "988" in response.text
    assert (await conversations.get(started.conversation_id)).is_active


async def test_a_message_to_an_unknown_conversation_is_refused(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    with pytest.raises(ValidationError) as refused:
        await conversations.add_message("conversation_404", ANXIOUS_MESSAGE)

    assert (refused.value.field, refused.value.rule) == (
        "conversation_id",
        "not_found",
    )
    assert await stored_count(db, ConversationMessage) == 0


async def test_a_message_of_another_conversation_is_not_answered(
    conversations: ConversationRepository,
) -> None:
    first = await conversations.start_conversation(PATIENT, "general")
    second = await conversations.start_conversation(PATIENT, "general")
    said = await conversations.add_message(first.conversation_id, ANXIOUS_MESSAGE)

    with pytest.raises(ValidationError) as refused:
        await conversations.generate_ai_response(second.conversation_id, said)

    assert refused.value.rule == "other_conversation"


async def test_messages_cannot_be_written_around_the_crisis_detector(
    conversations: ConversationRepository, db: DatabaseManager
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    with pytest.raises(ValidationError) as refused:
        await conversations.messages.create(
            stored_message(started.conversation_id, content=CRISIS_MESSAGE)
        )

    assert refused.value.rule == "use_add_message"
    assert await crisis_records(db) == (0, 0)


async def test_the_analytics_cannot_be_rewritten_by_an_update(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    with pytest.raises(ValidationError) as refused:
        await conversations.update(started.model_copy(update={"message_count": 9}))

    assert (refused.value.field, refused.value.rule) == (
        "message_count",
        "managed_field",
    )


async def test_the_title_can_be_changed(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")

    renamed = await conversations.update(
        started.model_copy(update={"title": "Sunday evening"})
    )

    assert renamed.title == "Sunday evening"


async def test_a_title_edited_from_a_copy_before_the_latest_message_is_stale(
    conversations: ConversationRepository,
) -> None:
    started = await conversations.start_conversation(PATIENT, "general")
    await conversations.add_message(started.conversation_id, ANXIOUS_MESSAGE)

    with pytest.raises(ConcurrencyError):
        await conversations.update(started.model_copy(update={"title": "Sunday"}))
    renamed = await conversations.patch(started.conversation_id, {"title": "Sunday"})

    assert (renamed.title, renamed.message_count) == ("Sunday", 1)


# ------------------------------------------------------------------- access


@pytest.fixture(params=BACKENDS)
async def clinic(
    request: pytest.FixtureRequest, mongodb_uri: str
) -> AsyncIterator[ClinicDb]:
    """The seeded clinic under the role policy: the therapist cares for the
    patient; the outside therapist does not."""
    async with clinic_database_on(request.param, mongodb_uri) as database:
        yield await reseeded(database)


async def patients_check_in(conversations: ConversationRepository) -> str:
    with acting_as(actor_context("patient")):
        started = await conversations.start_conversation(PATIENT, "mood_check_in")
        await conversations.generate_ai_response(
            started.conversation_id, LOW_MOOD_MESSAGE
        )
    return started.conversation_id


async def test_the_patient_owns_her_conversations(clinic: ClinicDb) -> None:
    conversations = ConversationRepository(clinic.db)
    conversation_id = await patients_check_in(conversations)

    with acting_as(actor_context("patient")):
        page = await conversations.conversations_for_user(PATIENT)
        transcript = await conversations.transcript(conversation_id)

    assert [c.conversation_id for c in page.items] == [conversation_id]
    assert len(transcript.items) == 2


async def test_her_therapist_reads_her_conversations(clinic: ClinicDb) -> None:
    conversations = ConversationRepository(clinic.db)
    conversation_id = await patients_check_in(conversations)

    with acting_as(actor_context("therapist")):
        page = await conversations.conversations_for_user(PATIENT)
        transcript = await conversations.transcript(conversation_id)

    assert [c.conversation_id for c in page.items] == [conversation_id]
    assert transcript.items[0].content == LOW_MOOD_MESSAGE


async def test_an_unrelated_clinician_reads_nothing(clinic: ClinicDb) -> None:
    conversations = ConversationRepository(clinic.db)
    conversation_id = await patients_check_in(conversations)

    with acting_as(actor_context("outside_therapist")):
        page = await conversations.conversations_for_user(PATIENT)
        transcript = await conversations.transcript(conversation_id)
        with pytest.raises(NotFoundError):
            await conversations.get(conversation_id)

    assert page.items == []
    assert transcript.items == []


async def test_her_therapist_cannot_write_in_her_conversation(
    clinic: ClinicDb,
) -> None:
    conversations = ConversationRepository(clinic.db)
    conversation_id = await patients_check_in(conversations)

    with acting_as(actor_context("therapist")), pytest.raises(AccessDeniedError):
        await conversations.start_conversation(PATIENT, "general")
    with (
        acting_as(actor_context("therapist")),
        pytest.raises((AccessDeniedError, ValidationError)),
    ):
        await conversations.add_message(conversation_id, GOODBYE_MESSAGE)


async def test_a_patient_cannot_write_as_the_agent(clinic: ClinicDb) -> None:
    conversations = ConversationRepository(clinic.db)
    conversation_id = await patients_check_in(conversations)

    with acting_as(actor_context("patient")), pytest.raises(AccessDeniedError):
        await conversations.add_message(conversation_id, GOODBYE_MESSAGE, "assistant")


async def test_her_crisis_reaches_the_care_team_though_she_may_not_write_alerts(
    clinic: ClinicDb,
) -> None:
    conversations = ConversationRepository(clinic.db)
    with acting_as(actor_context("patient")):
        started = await conversations.start_conversation(PATIENT, "general")
        response = await conversations.generate_ai_response(
            started.conversation_id, CRISIS_MESSAGE
        )

    with acting_as(actor_context("therapist")):
        detections = await conversations.detections.detections_for_patient(PATIENT)

    assert response.conversation_type is ConversationType.CRISIS_SUPPORT
    assert {d.detection_id for d in detections} == set(response.crisis_detection_ids)
