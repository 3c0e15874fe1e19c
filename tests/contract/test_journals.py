"""Journal entries on both backends: the platform's example, the crisis hook that
turns a patient's words into a crisis detection with an alert, tone scores,
sharing with the care team, prompts, paging, and bad input."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SYSTEM
from tests.support.journal_data import (
    CRISIS_CONTENT,
    EXERCISE_CONTENT,
    FRIEND_CONTENT,
    HISTORY_CONTENT,
    PATIENT,
    PLAN_AND_MEANS,
    crisis_entry,
    gratitude_entry,
    seed_entry,
    thought_record,
    unchecked_entry,
)
from wellness_repo import (
    BaseRepository,
    CBTTechnique,
    CrisisDetection,
    CrisisNotification,
    CrisisSeverity,
    CrisisType,
    DatabaseManager,
    DetectionStatus,
    JournalEntry,
    JournalRepository,
    NotFoundError,
    PromptReason,
    SentimentRecord,
    SyncDatabaseManager,
    ValidationError,
    connect_sync,
    create_crisis_detection_repository,
    create_journal_entry_repository,
    score_sentiment,
)

SI = CrisisType.SUICIDAL_IDEATION


@pytest.fixture
def journals(db: DatabaseManager) -> JournalRepository:
    return create_journal_entry_repository(db)


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


async def detections(db: DatabaseManager) -> list[CrisisDetection]:
    return await create_crisis_detection_repository(db).find_by()


async def alerts(db: DatabaseManager) -> list[CrisisNotification]:
    return await create_crisis_detection_repository(db).outbox.find_by()


async def stored_count(db: DatabaseManager, model: type[Any]) -> int:
    return int(await db.collection(model).count_documents({}))


# -------------------------------------------------------------- the entries


async def test_the_platform_example_entry_reads_back_as_written(
    journals: JournalRepository,
) -> None:
    entry = seed_entry()

    stored = await journals.create(entry)
    read = await journals.get(stored.entry_id)

    assert read.content == EXERCISE_CONTENT
    assert read.cbt_technique is CBTTechnique.THOUGHT_RECORD
    assert read.thought_record == entry.thought_record
    assert read.insights == ["I can control my thoughts"]
    assert read.tags == ["anxiety", "thought-challenging"]
    assert read.mood_change == 3


def test_the_platform_example_runs_through_the_blocking_facade(
    sync_db: SyncDatabaseManager,
) -> None:
    repo: BaseRepository[JournalEntry] = create_journal_entry_repository(sync_db)
    journal_entry = seed_entry()

    entry = repo.create(journal_entry)
    sentiment = repo.analyze_sentiment(entry.entry_id)

    assert isinstance(sentiment, SentimentRecord)
    assert repo.get(entry.entry_id).sentiment == sentiment


async def test_a_new_entry_is_private_to_the_patient(
    journals: JournalRepository,
) -> None:
    stored = await journals.create(seed_entry())

    assert stored.shared_with_care_team is False
    assert stored.shared_at is None


async def test_writing_an_entry_stores_the_tone_of_everything_written(
    journals: JournalRepository,
) -> None:
    entry = seed_entry()

    stored = await journals.create(entry)

    assert stored.sentiment is not None
    assert stored.sentiment.compound == score_sentiment(entry.written_text).compound


async def test_analyze_sentiment_stores_the_scores_and_returns_them(
    journals: JournalRepository,
) -> None:
    entry = await journals.create(gratitude_entry())

    scores = await journals.analyze_sentiment(entry.entry_id)

    stored = await journals.get(entry.entry_id)
    assert stored.sentiment == scores
    assert scores.compound > 0.05
    assert entry.sentiment is not None
    assert scores.analysed_at >= entry.sentiment.analysed_at


async def test_analyze_sentiment_of_an_unknown_entry_is_not_found(
    journals: JournalRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await journals.analyze_sentiment("entry_that_never_was")


# ---------------------------------------------------------- the crisis hook


async def test_suicidal_ideation_in_an_entry_opens_a_high_detection_with_an_alert(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(crisis_entry())

    (detection,) = [d for d in await detections(db) if d.crisis_type is SI]
    (alert,) = [a for a in await alerts(db) if a.detection_id == detection.id]
    assert detection.status is DetectionStatus.OPEN
    assert detection.severity_level is CrisisSeverity.HIGH
    assert detection.requires_immediate_attention
    assert (detection.patient_id, detection.source_id) == (PATIENT, entry.entry_id)
    assert detection.detection_source.value == "journal_entry"
    assert alert.severity_level is CrisisSeverity.HIGH


async def test_the_entry_keeps_a_summary_of_its_crisis_signals_without_the_words(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(crisis_entry())

    raw = await db.collection(JournalEntry).find_one({"_id": entry.entry_id})
    assert entry.crisis_summary is not None
    assert entry.crisis_summary.crisis_types[0] is SI
    assert entry.crisis_summary.highest_severity is CrisisSeverity.HIGH
    assert entry.crisis_summary.requires_immediate_attention
    assert "kill myself" not in repr(raw["crisis_summary"])


async def test_an_ordinary_entry_raises_no_detection(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(gratitude_entry())

    assert entry.crisis_summary is not None
    assert entry.crisis_summary.crisis_types == []
    assert await detections(db) == []


async def test_history_told_in_an_entry_is_noted_but_raises_no_detection(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(gratitude_entry(content=HISTORY_CONTENT))

    assert entry.crisis_summary is not None
    assert entry.crisis_summary.history_types == [CrisisType.SELF_HARM]
    assert entry.crisis_summary.highest_severity is None
    assert await detections(db) == []


async def test_a_friends_risk_is_recorded_as_a_third_party_concern(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    await journals.create(gratitude_entry(content=FRIEND_CONTENT))

    (detection,) = await detections(db)
    assert detection.crisis_type is CrisisType.THIRD_PARTY_CONCERN
    assert detection.severity_level is CrisisSeverity.MODERATE


async def test_a_crisis_in_the_thought_record_is_read_too(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    record = thought_record(automatic_thought="Everyone would be better off without me")

    await journals.create(seed_entry(thought_record=record))

    assert SI in {d.crisis_type for d in await detections(db)}


async def test_an_edit_that_keeps_the_same_crisis_raises_no_new_alert(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(crisis_entry())
    alerts_before = len(await alerts(db))

    await journals.patch(entry.entry_id, {"title": "Can't sleep again"})

    assert len(await alerts(db)) == alerts_before
    assert all(d.occurrence_count == 1 for d in await detections(db))


async def test_an_edit_adding_a_plan_and_the_means_raises_the_detection_to_imminent(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(crisis_entry())

    changed = await journals.patch(
        entry.entry_id, {"content": CRISIS_CONTENT + PLAN_AND_MEANS}
    )

    (detection,) = [d for d in await detections(db) if d.crisis_type is SI]
    assert detection.severity_level is CrisisSeverity.IMMINENT
    assert changed.crisis_summary is not None
    assert changed.crisis_summary.highest_severity is CrisisSeverity.IMMINENT
    raised = [a for a in await alerts(db) if a.detection_id == detection.id]
    assert [a.severity_level for a in raised] == [
        CrisisSeverity.HIGH,
        CrisisSeverity.IMMINENT,
    ]


async def test_a_batch_with_one_crisis_entry_raises_its_detection(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    stored = await journals.create_many([gratitude_entry(), crisis_entry()])

    assert {d.source_id for d in await detections(db)} == {stored[1].entry_id}


# ---------------------------------------------------------------- sharing


async def test_sharing_an_entry_with_the_care_team_dates_it(
    journals: JournalRepository,
) -> None:
    entry = await journals.create(seed_entry())

    shared = await journals.share_with_care_team(entry.entry_id)

    assert shared.shared_with_care_team is True
    assert shared.shared_at is not None


async def test_sharing_a_shared_entry_keeps_the_first_date(
    journals: JournalRepository,
) -> None:
    entry = await journals.create(seed_entry())
    first = await journals.share_with_care_team(entry.entry_id)

    again = await journals.share_with_care_team(entry.entry_id)

    assert again.shared_at == first.shared_at
    assert again.revision == first.revision


async def test_unsharing_makes_the_entry_private_again(
    journals: JournalRepository,
) -> None:
    entry = await journals.create(seed_entry())
    await journals.share_with_care_team(entry.entry_id)

    private = await journals.unshare_from_care_team(entry.entry_id)

    assert private.shared_with_care_team is False
    assert private.shared_at is None


async def test_sharing_an_unknown_entry_is_not_found(
    journals: JournalRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await journals.share_with_care_team("entry_that_never_was")


# ---------------------------------------------------------- reads and prompts


async def test_entries_for_user_pages_newest_first_without_gaps(
    journals: JournalRepository,
) -> None:
    await journals.create_many([gratitude_entry(day) for day in range(5)])

    first = await journals.entries_for_user(PATIENT, limit=2)
    second = await journals.entries_for_user(PATIENT, limit=2, after=first.next_cursor)
    third = await journals.entries_for_user(PATIENT, limit=2, after=second.next_cursor)

    pages = [*first.items, *second.items, *third.items]
    days = [entry.created_at.day for entry in pages]
    assert days == [6, 5, 4, 3, 2]
    assert third.has_more is False


async def test_entries_for_user_filter_by_tag_technique_and_sharing(
    journals: JournalRepository,
) -> None:
    exercise = await journals.create(seed_entry())
    await journals.create(gratitude_entry())
    await journals.share_with_care_team(exercise.entry_id)

    by_tag = await journals.entries_for_user(PATIENT, tag="anxiety")
    by_technique = await journals.entries_for_user(
        PATIENT, technique=CBTTechnique.GRATITUDE
    )
    shared = await journals.entries_for_user(PATIENT, shared_only=True)

    assert [e.entry_id for e in by_tag.items] == [exercise.entry_id]
    assert [e.cbt_technique for e in by_technique.items] == [CBTTechnique.GRATITUDE]
    assert [e.entry_id for e in shared.items] == [exercise.entry_id]


async def test_after_a_crisis_entry_the_next_prompt_puts_safety_first(
    journals: JournalRepository,
) -> None:
    await journals.create(gratitude_entry())
    await journals.create(crisis_entry())

    prompt = await journals.suggest_prompt(PATIENT)

    assert prompt.reason is PromptReason.SAFETY_FIRST


async def test_an_unfinished_thought_record_is_the_next_prompt(
    journals: JournalRepository,
) -> None:
    await journals.create(
        seed_entry(thought_record=thought_record(balanced_thought=None))
    )

    prompt = await journals.suggest_prompt(PATIENT)

    assert prompt.reason is PromptReason.FINISH_THOUGHT_RECORD


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"cbt_technique": "astrology"}, "cbt_technique", "enum"),
        ({"mood_before": 11}, "mood_before", "less_than_equal"),
        ({"mood_after": 0}, "mood_after", "greater_than_equal"),
        (
            {"cbt_technique": "thought_record", "thought_record": None},
            "thought_record",
            "thought_record_required",
        ),
        ({"content": ""}, "content", "string_too_short"),
        ({"content": "  \n  "}, "content", "blank"),
        (
            {"thought_record": {"situation": "x", "automatic_thought": "y"}},
            "thought_record.emotion",
            "missing",
        ),
        ({"journal_type": "diary"}, "journal_type", "enum"),
    ],
)
async def test_bad_entries_are_refused_by_field_and_rule_and_nothing_is_written(
    db: DatabaseManager,
    journals: JournalRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    entry = unchecked_entry(**changes)

    with pytest.raises(ValidationError) as raised:
        await journals.create(entry)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await stored_count(db, JournalEntry) == 0
    assert await stored_count(db, CrisisDetection) == 0


async def test_an_update_refused_as_invalid_changes_nothing(
    db: DatabaseManager, journals: JournalRepository
) -> None:
    entry = await journals.create(gratitude_entry())

    with pytest.raises(ValidationError) as raised:
        await journals.patch(
            entry.entry_id, {"content": CRISIS_CONTENT, "mood_after": 12}
        )

    assert raised.value.field == "mood_after"
    assert (await journals.get(entry.entry_id)).content == entry.content
    assert await stored_count(db, CrisisDetection) == 0


async def test_a_refused_entry_does_not_repeat_what_the_patient_wrote(
    journals: JournalRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await journals.create(unchecked_entry(mood_before=11))

    assert "kill myself" not in str(raised.value)
    assert "kill myself" not in repr(raised.value.errors)
