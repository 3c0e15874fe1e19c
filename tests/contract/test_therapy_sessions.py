"""The therapy-session contract, on the embedded backend and a real server alike:
documenting sessions, the crisis hook that turns a high-risk assessment into a
durable clinical signal, the signal workflow, homework review, the session
queries and attendance statistics. Bad input is refused by field and rule with
nothing written.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import SYSTEM
from tests.support.sessions_data import (
    FIRST_SESSION_DAY,
    PATIENT,
    RELATIONSHIP,
    THERAPIST,
    missed_session,
    seed_session,
    unchecked_session,
)
from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from wellness_repo.analysis.attendance import (
    AttendanceStatistics,
    summarize_attendance,
)
from wellness_repo.models.sessions import (
    ClinicalSignal,
    DapNote,
    FreeTextNote,
    HomeworkItem,
    RiskLevel,
    SessionStatus,
    SignalSource,
    SignalStatus,
    SoapNote,
    TherapySession,
)
from wellness_repo.repositories.sessions import (
    ClinicalSignalRepository,
    TherapySessionRepository,
)

DISCLOSURE = "Disclosed a plan to overdose on stored sertraline after the funeral"


@pytest.fixture
def sessions(db: DatabaseManager) -> TherapySessionRepository:
    return TherapySessionRepository(db)


@pytest.fixture
def signals(sessions: TherapySessionRepository) -> ClinicalSignalRepository:
    return sessions.signals


async def stored_sessions(db: DatabaseManager) -> int:
    return int(await db.collection(TherapySession).count_documents({}))


async def stored_signals(db: DatabaseManager) -> int:
    return int(await db.collection(ClinicalSignal).count_documents({}))


def pending_signal(**changes: Any) -> ClinicalSignal:
    """A signal as a high-risk session raises it."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "source": SignalSource.SESSION,
        "source_id": "session_0001",
        "source_revision": 1,
        "risk_level": RiskLevel.HIGH,
        "raised_by": THERAPIST,
    }
    values.update(changes)
    return ClinicalSignal(**values)


# ------------------------------------------------------------ documenting


async def test_the_platform_example_session_is_documented_as_written(
    sessions: TherapySessionRepository,
) -> None:
    session = seed_session()

    stored = await sessions.create(session)

    assert stored.session_id == session.id
    assert stored.session_notes == FreeTextNote(
        text="Patient showed significant progress in thought challenging"
    )
    descriptions = [item.description for item in stored.homework_assigned]
    assert descriptions == ["Daily thought record", "Mood tracking"]
    assert stored.risk_assessment is RiskLevel.LOW
    assert await sessions.get(session.id) == stored


async def test_homework_is_assigned_as_items_with_due_dates(
    sessions: TherapySessionRepository,
) -> None:
    due = FIRST_SESSION_DAY + timedelta(days=6)
    exposure = HomeworkItem(
        description="Ride the bus two stops and rate anxiety every minute",
        due_date=due,
    )

    stored = await sessions.create(seed_session(homework_assigned=[exposure]))

    (item,) = (await sessions.get(stored.id)).homework_assigned
    assert (item.item_id, item.due_date, item.completed) == (
        exposure.item_id,
        due,
        False,
    )
    assert item.assigned_at == exposure.assigned_at


async def test_the_mood_change_is_stored_for_analytics(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    session = seed_session(patient_mood_start=3, patient_mood_end=8)

    await sessions.create(session)

    raw = await db.collection(TherapySession).find_one({"_id": session.id})
    assert raw["mood_change"] == 5


async def test_a_mood_change_given_by_the_caller_is_replaced_by_the_derived_one(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    stale = seed_session().model_copy(update={"patient_mood_end": 9})

    stored = await sessions.create(stale)

    raw = await db.collection(TherapySession).find_one({"_id": stale.id})
    assert (stored.mood_change, raw["mood_change"]) == (5, 5)


async def test_a_soap_note_is_stored_section_by_section(
    sessions: TherapySessionRepository,
) -> None:
    note = SoapNote(
        subjective="Reports sleeping five hours; less rumination at night",
        objective="Good eye contact, affect brighter than last week",
        assessment="Depressive symptoms easing; PHQ-9 down from 17 to 12",
        plan="Continue behavioural activation; add a sleep diary",
    )

    stored = await sessions.create(seed_session(session_notes=note))

    assert (await sessions.get(stored.id)).session_notes == note


async def test_a_dap_note_is_stored_section_by_section(
    sessions: TherapySessionRepository,
) -> None:
    note = DapNote(
        data="Completed three activity-scheduling entries",
        assessment="Engaging well with behavioural activation",
        plan="Increase to five scheduled activities",
    )

    stored = await sessions.create(seed_session(session_notes=note))

    assert (await sessions.get(stored.id)).session_notes == note


async def test_psychotherapy_notes_are_kept_apart_with_their_author(
    sessions: TherapySessionRepository,
) -> None:
    session = seed_session(
        psychotherapy_notes="Countertransference: irritation when she minimises",
        psychotherapy_notes_author_id=THERAPIST,
    )

    stored = await sessions.create(session)

    assert stored.psychotherapy_notes_author_id == THERAPIST
    assert stored.session_notes != stored.psychotherapy_notes


async def test_a_cancelled_session_is_documented_without_encounter_details(
    sessions: TherapySessionRepository,
) -> None:
    cancelled = missed_session(1, status="cancelled", session_notes="Called in sick")

    stored = await sessions.create(cancelled)

    assert stored.status is SessionStatus.CANCELLED
    assert stored.duration_minutes is None


BAD_SESSIONS = [
    pytest.param(
        {"patient_mood_start": 11}, "patient_mood_start", "less_than_equal", id="mood"
    ),
    pytest.param(
        {"patient_mood_end": 0}, "patient_mood_end", "greater_than_equal", id="end0"
    ),
    pytest.param(
        {"patient_mood_start": None},
        "patient_mood_end",
        "requires_patient_mood_start",
        id="end-mood-without-start",
    ),
    pytest.param(
        {"duration_minutes": -50},
        "duration_minutes",
        "greater_than_equal",
        id="negative-duration",
    ),
    pytest.param(
        {"duration_minutes": 3000},
        "duration_minutes",
        "less_than_equal",
        id="absurd-duration",
    ),
    pytest.param(
        {"duration_minutes": None},
        "duration_minutes",
        "required_when_attended",
        id="attended-without-duration",
    ),
    pytest.param(
        {"status": SessionStatus.NO_SHOW},
        "duration_minutes",
        "only_when_attended",
        id="no-show-with-duration",
    ),
    pytest.param(
        {"risk_assessment": "extreme"}, "risk_assessment", "enum", id="risk-level"
    ),
    pytest.param(
        {"session_type": "hypnosis"}, "session_type", "enum", id="session-type"
    ),
    pytest.param(
        {"created_at": datetime(2025, 3, 3, 10, 0)},
        "created_at",
        "timezone_required",
        id="naive-datetime",
    ),
    pytest.param(
        {"session_notes": SoapNote.model_construct(format="soap")},
        "session_notes.soap",
        "empty_note",
        id="empty-note",
    ),
    pytest.param(
        {"psychotherapy_notes": DISCLOSURE},
        "psychotherapy_notes_author_id",
        "required_with_psychotherapy_notes",
        id="psychotherapy-notes-without-author",
    ),
    pytest.param(
        {
            "homework_assigned": [
                HomeworkItem.model_construct(
                    item_id="hw1",
                    description="Thought record",
                    assigned_at=datetime(2025, 3, 3, 10, 0),
                    completed=False,
                )
            ]
        },
        "homework_assigned.0.assigned_at",
        "timezone_required",
        id="naive-homework-datetime",
    ),
    pytest.param(
        {
            "homework_assigned": [
                HomeworkItem.model_construct(
                    item_id="hw1",
                    description="Thought record",
                    assigned_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
                    completed=True,
                    completed_at=None,
                )
            ]
        },
        "homework_assigned.0.completed_at",
        "required_when_completed",
        id="completed-homework-without-date",
    ),
]


@pytest.mark.parametrize(("changes", "field", "rule"), BAD_SESSIONS)
async def test_create_refuses_an_invalid_session_and_writes_nothing(
    db: DatabaseManager,
    sessions: TherapySessionRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    # High risk, so that a signal would be raised if anything were written.
    session = unchecked_session(**{"risk_assessment": RiskLevel.HIGH, **changes})

    with pytest.raises(ValidationError) as raised:
        await sessions.create(session)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert (await stored_sessions(db), await stored_signals(db)) == (0, 0)


@pytest.mark.parametrize(("changes", "field", "rule"), BAD_SESSIONS)
async def test_update_refuses_an_invalid_session_and_changes_nothing(
    db: DatabaseManager,
    sessions: TherapySessionRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    stored = await sessions.create(seed_session())
    before = await db.collection(TherapySession).find_one({"_id": stored.id})
    changed = TherapySession.model_construct(
        **{**dict(stored), "risk_assessment": RiskLevel.IMMINENT, **changes}
    )

    with pytest.raises(ValidationError) as raised:
        await sessions.update(changed)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    after = await db.collection(TherapySession).find_one({"_id": stored.id})
    assert (after, await stored_signals(db)) == (before, 0)


async def test_create_many_with_one_invalid_session_writes_nothing(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    batch = [
        seed_session(risk_assessment="high"),
        unchecked_session(duration_minutes=0),
    ]

    with pytest.raises(ValidationError) as raised:
        await sessions.create_many(batch)

    assert (raised.value.field, raised.value.rule) == (
        "duration_minutes",
        "greater_than_equal",
    )
    assert (await stored_sessions(db), await stored_signals(db)) == (0, 0)


async def test_an_invalid_error_never_repeats_the_note_it_refused(
    sessions: TherapySessionRepository,
) -> None:
    session = unchecked_session(psychotherapy_notes=DISCLOSURE)

    with pytest.raises(ValidationError) as raised:
        await sessions.create(session)

    assert DISCLOSURE not in str(raised.value)


# ------------------------------------------------------- the crisis hook


async def test_a_high_risk_session_raises_a_pending_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    session = seed_session(risk_assessment="high", session_notes=DISCLOSURE)

    await sessions.create(session)

    (signal,) = await signals.signals_for_session(session.id)
    assert (signal.patient_id, signal.source, signal.source_revision) == (
        PATIENT,
        SignalSource.SESSION,
        1,
    )
    assert (signal.risk_level, signal.status) == (RiskLevel.HIGH, SignalStatus.PENDING)
    assert signal.raised_by == SYSTEM.actor_id


async def test_an_imminent_risk_session_raises_the_most_urgent_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    session = seed_session(risk_assessment="imminent")

    await sessions.create(session)

    (signal,) = await signals.signals_for_session(session.id)
    assert signal.urgency == RiskLevel.IMMINENT.rank == 4


@pytest.mark.parametrize("level", [None, "none", "low", "moderate"])
async def test_a_session_below_high_risk_raises_no_signal(
    db: DatabaseManager, sessions: TherapySessionRepository, level: str | None
) -> None:
    await sessions.create(seed_session(risk_assessment=level))

    assert await stored_signals(db) == 0


async def test_create_many_raises_a_signal_for_each_high_risk_session_only(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    calm, worrying, acute = (
        seed_session(risk_assessment="low"),
        seed_session(risk_assessment="high"),
        seed_session(risk_assessment="imminent"),
    )

    await sessions.create_many([calm, worrying, acute])

    raised = await signals.pending_signals()
    assert [signal.source_id for signal in raised] == [acute.id, worrying.id]


async def test_a_session_with_a_taken_id_raises_no_signal(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    first = await sessions.create(seed_session())

    with pytest.raises(DuplicateError):
        await sessions.create(seed_session(id=first.id, risk_assessment="imminent"))

    assert await stored_signals(db) == 0
    assert (await sessions.get(first.id)).risk_assessment is RiskLevel.LOW


async def test_raising_the_risk_by_update_raises_a_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="low"))
    stored.risk_assessment = RiskLevel.HIGH

    updated = await sessions.update(stored)

    (signal,) = await signals.signals_for_session(stored.id)
    assert (signal.risk_level, signal.source_revision) == (
        RiskLevel.HIGH,
        updated.revision,
    )


async def test_raising_the_risk_by_patch_raises_a_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="moderate"))

    await sessions.patch(stored.id, {"risk_assessment": "imminent"})

    (signal,) = await signals.signals_for_session(stored.id)
    assert signal.risk_level is RiskLevel.IMMINENT


async def test_recording_a_risk_assessment_raises_a_signal_at_high_risk(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment=None))

    recorded = await sessions.record_risk_assessment(stored.id, RiskLevel.HIGH)

    assert recorded.risk_assessment is RiskLevel.HIGH
    assert len(await signals.signals_for_session(stored.id)) == 1


async def test_recording_an_unknown_risk_level_is_refused_and_changes_nothing(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    stored = await sessions.create(seed_session())

    with pytest.raises(ValidationError) as raised:
        await sessions.record_risk_assessment(stored.id, "severe")

    assert (raised.value.field, raised.value.rule) == ("risk_assessment", "enum")
    assert (await sessions.get(stored.id)).revision == stored.revision


async def test_resaving_a_high_risk_session_raises_no_second_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="high"))
    stored.interventions_used = ["Safety planning", "Means restriction counselling"]

    await sessions.update(stored)

    assert len(await signals.signals_for_session(stored.id)) == 1


async def test_lowering_the_risk_raises_no_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="imminent"))

    await sessions.record_risk_assessment(stored.id, "high")
    await sessions.record_risk_assessment(stored.id, "low")

    assert [s.risk_level for s in await signals.signals_for_session(stored.id)] == [
        RiskLevel.IMMINENT
    ]


async def test_escalating_from_high_to_imminent_raises_a_new_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="high"))

    await sessions.record_risk_assessment(stored.id, "imminent")

    raised = await signals.signals_for_session(stored.id)
    assert [s.risk_level for s in raised] == [RiskLevel.HIGH, RiskLevel.IMMINENT]


async def test_raising_the_risk_again_after_lowering_it_raises_anew(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="high"))
    await sessions.record_risk_assessment(stored.id, "low")

    await sessions.record_risk_assessment(stored.id, "high")

    raised = await signals.signals_for_session(stored.id)
    assert [s.source_revision for s in raised] == [1, 3]


async def test_a_stale_high_risk_update_writes_neither_session_nor_signal(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="low"))
    await sessions.patch(stored.id, {"duration_minutes": 55})
    stored.risk_assessment = RiskLevel.HIGH

    with pytest.raises(ConcurrencyError):
        await sessions.update(stored)

    assert await stored_signals(db) == 0
    assert (await sessions.get(stored.id)).risk_assessment is RiskLevel.LOW


async def test_a_failed_signal_write_undoes_the_session_only_with_transactions(
    db: DatabaseManager,
    sessions: TherapySessionRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def signal_store_down(signal: ClinicalSignal) -> ClinicalSignal:
        raise ConnectionError("signal store unreachable")

    monkeypatch.setattr(sessions.signals, "create", signal_store_down)

    with pytest.raises(ConnectionError):
        await sessions.create(seed_session(risk_assessment="imminent"))

    # Documented: the embedded backend groups a transaction's writes but cannot
    # roll them back; a replica set undoes the session write.
    expected = 0 if db.supports_transactions else 1
    assert await stored_sessions(db) == expected


class ReferralLineDownError(Exception):
    """A failure later in the same clinical workflow."""


async def test_a_callers_failed_transaction_keeps_session_and_signal_together(
    db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    async def admit_and_refer() -> None:
        async with db.transaction():
            await sessions.create(seed_session(risk_assessment="high"))
            raise ReferralLineDownError

    with pytest.raises(ReferralLineDownError):
        await admit_and_refer()

    # Documented: the embedded backend groups a transaction's writes but cannot
    # roll them back; a replica set undoes both.
    kept = 0 if db.supports_transactions else 1
    assert (await stored_sessions(db), await stored_signals(db)) == (kept, kept)


async def test_deleting_a_high_risk_session_keeps_its_signal(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    stored = await sessions.create(seed_session(risk_assessment="high"))

    assert await sessions.delete(stored.id) is True

    assert len(await signals.pending_signals()) == 1


async def test_the_session_workflow_logs_no_clinical_words(
    sessions: TherapySessionRepository,
    signals: ClinicalSignalRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    private_words = (DISCLOSURE, "sertraline", "Margaret", "Call her sister")
    assigning = await sessions.create(
        seed_session(
            session_notes=DISCLOSURE,
            psychotherapy_notes="Margaret's grief echoes my own loss",
            psychotherapy_notes_author_id=THERAPIST,
            homework_assigned=["Call her sister Margaret on Sunday"],
        )
    )
    reviewing = await sessions.create(
        seed_session(session_date=FIRST_SESSION_DAY + timedelta(weeks=1))
    )
    await sessions.record_risk_assessment(assigning.id, "imminent")
    item = assigning.homework_assigned[0].item_id
    await sessions.record_homework_review(
        reviewing.id, assigning.id, [item], review_notes={item: DISCLOSURE}
    )
    (signal,) = await signals.pending_signals()
    await signals.claim_signal(signal.id, "crisis-worker-1")
    await signals.mark_signal_processed(signal.id, "detection_789")
    with pytest.raises(ValidationError):
        await sessions.create(unchecked_session(session_notes=DISCLOSURE, status="x"))

    logged = "\n".join(
        record.getMessage() + (record.exc_text or "") for record in caplog.records
    )
    assert signal.id in logged
    for words in private_words:
        assert words not in logged


# ---------------------------------------------------- the signal workflow


async def test_pending_signals_come_most_urgent_first_then_oldest_first(
    signals: ClinicalSignalRepository,
) -> None:
    now = datetime.now(UTC)
    older_high = pending_signal(source_id="s1", raised_at=now - timedelta(hours=2))
    newer_high = pending_signal(source_id="s2", raised_at=now - timedelta(hours=1))
    imminent = pending_signal(source_id="s3", risk_level=RiskLevel.IMMINENT)
    await signals.create_many([newer_high, imminent, older_high])

    queue = await signals.pending_signals(limit=2)

    assert [signal.source_id for signal in queue] == ["s3", "s1"]


async def test_claiming_a_signal_records_the_worker(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())

    claimed = await signals.claim_signal(signal.id, "crisis-worker-1")

    assert (claimed.status, claimed.claimed_by) == (
        SignalStatus.CLAIMED,
        "crisis-worker-1",
    )
    assert claimed.claimed_at is not None
    assert await signals.pending_signals() == []


async def test_a_claimed_signal_cannot_be_claimed_again(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())
    await signals.claim_signal(signal.id, "crisis-worker-1")

    with pytest.raises(ValidationError) as raised:
        await signals.claim_signal(signal.id, "crisis-worker-2")

    assert (raised.value.field, raised.value.rule) == ("status", "invalid_transition")
    assert (await signals.get(signal.id)).claimed_by == "crisis-worker-1"


async def test_claiming_a_missing_signal_is_not_found(
    signals: ClinicalSignalRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await signals.claim_signal("no_such_signal", "crisis-worker-1")


async def test_claiming_without_a_worker_name_is_refused(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())

    with pytest.raises(ValidationError) as raised:
        await signals.claim_signal(signal.id, " ")

    assert (raised.value.field, raised.value.rule) == ("worker", "format")
    assert (await signals.get(signal.id)).status is SignalStatus.PENDING


async def test_a_processed_signal_names_its_crisis_detection(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())
    await signals.claim_signal(signal.id, "crisis-worker-1")

    processed = await signals.mark_signal_processed(
        signal.id, "detection_789", worker="crisis-worker-1"
    )

    assert (processed.status, processed.detection_id) == (
        SignalStatus.PROCESSED,
        "detection_789",
    )
    assert processed.processed_at is not None


async def test_an_unclaimed_signal_cannot_be_marked_processed(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())

    with pytest.raises(ValidationError) as raised:
        await signals.mark_signal_processed(signal.id, "detection_789")

    assert raised.value.rule == "invalid_transition"
    assert (await signals.get(signal.id)).status is SignalStatus.PENDING


async def test_only_the_claiming_worker_may_complete_its_claim(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())
    await signals.claim_signal(signal.id, "crisis-worker-1")

    with pytest.raises(ValidationError) as raised:
        await signals.mark_signal_processed(
            signal.id, "detection_789", worker="crisis-worker-2"
        )

    assert raised.value.rule == "invalid_transition"
    assert (await signals.get(signal.id)).status is SignalStatus.CLAIMED


async def test_a_stalled_claim_returns_to_the_queue(
    signals: ClinicalSignalRepository,
) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    stalled = pending_signal(
        status=SignalStatus.CLAIMED, claimed_by="crashed-worker", claimed_at=long_ago
    )
    await signals.create(stalled)
    fresh = await signals.create(pending_signal(source_id="session_0002"))
    await signals.claim_signal(fresh.id, "busy-worker")

    released = await signals.release_stalled_claims(timedelta(minutes=10))

    assert released == 1
    assert [signal.id for signal in await signals.pending_signals()] == [stalled.id]
    assert (await signals.get(fresh.id)).claimed_by == "busy-worker"


@pytest.mark.parametrize("older_than", [timedelta(0), timedelta(minutes=-5), 600])
async def test_releasing_claims_needs_a_positive_age(
    signals: ClinicalSignalRepository, older_than: Any
) -> None:
    with pytest.raises(ValidationError) as raised:
        await signals.release_stalled_claims(older_than)

    assert (raised.value.field, raised.value.rule) == (
        "older_than",
        "positive_duration",
    )


async def test_a_signal_is_never_deleted(
    db: DatabaseManager, signals: ClinicalSignalRepository
) -> None:
    signal = await signals.create(pending_signal())

    with pytest.raises(ValidationError) as raised:
        await signals.delete(signal.id)

    assert raised.value.rule == "never_deleted"
    assert await stored_signals(db) == 1


async def test_a_signal_cannot_be_edited_out_of_the_queue(
    signals: ClinicalSignalRepository,
) -> None:
    signal = await signals.create(pending_signal())

    with pytest.raises(ValidationError) as raised:
        await signals.patch(
            signal.id,
            {
                "status": SignalStatus.PROCESSED,
                "claimed_by": "someone",
                "claimed_at": datetime.now(UTC),
                "processed_at": datetime.now(UTC),
                "detection_id": "detection_000",
            },
        )

    assert raised.value.rule == "managed_by_workflow"
    assert (await signals.get(signal.id)).status is SignalStatus.PENDING


async def test_one_session_write_raises_at_most_one_signal(
    signals: ClinicalSignalRepository,
) -> None:
    await signals.create(pending_signal())

    with pytest.raises(DuplicateError):
        await signals.create(pending_signal(risk_level=RiskLevel.IMMINENT))

    assert len(await signals.signals_for_session("session_0001")) == 1


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"risk_level": RiskLevel.MODERATE}, "risk_level", "below_crisis_threshold"),
        ({"status": SignalStatus.CLAIMED}, "claimed_by", "required_for_status"),
        ({"claimed_by": "worker-1"}, "claimed_by", "not_for_status"),
        ({"raised_at": datetime(2025, 3, 3, 9)}, "raised_at", "timezone_required"),
        ({"source_revision": 0}, "source_revision", "greater_than_equal"),
    ],
)
async def test_an_invalid_signal_is_refused_and_nothing_written(
    db: DatabaseManager,
    signals: ClinicalSignalRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    signal = ClinicalSignal.model_construct(**{**dict(pending_signal()), **changes})

    with pytest.raises(ValidationError) as raised:
        await signals.create(signal)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await stored_signals(db) == 0


# --------------------------------------------------------- homework review


async def two_sessions(
    sessions: TherapySessionRepository,
) -> tuple[TherapySession, TherapySession]:
    """Week one assigns homework; week two reviews it."""
    assigning = await sessions.create(seed_session())
    reviewing = await sessions.create(
        seed_session(
            session_date=FIRST_SESSION_DAY + timedelta(weeks=1),
            homework_assigned=["Behavioural activation diary"],
        )
    )
    return assigning, reviewing


async def test_a_homework_review_marks_completed_and_missed_items(
    sessions: TherapySessionRepository,
) -> None:
    assigning, reviewing = await two_sessions(sessions)
    thought_record, mood_tracking = assigning.homework_assigned

    reviewed = await sessions.record_homework_review(
        reviewing.id,
        assigning.id,
        [thought_record.item_id],
        review_notes={mood_tracking.item_id: "Forgot after a night shift"},
    )

    done, missed = reviewed.homework_assigned
    assert (done.completed, missed.completed) == (True, False)
    assert done.completed_at is not None
    assert missed.completed_at is None
    assert {done.reviewed_in_session_id, missed.reviewed_in_session_id} == {
        reviewing.id
    }
    assert missed.notes == "Forgot after a night shift"
    assert (await sessions.get(assigning.id)).homework_assigned == [done, missed]


async def test_a_homework_review_is_recorded_only_through_its_method(
    sessions: TherapySessionRepository,
) -> None:
    assigning, reviewing = await two_sessions(sessions)
    item = assigning.homework_assigned[0]
    forged = item.model_copy(
        update={
            "reviewed_in_session_id": reviewing.id,
            "reviewed_at": datetime.now(UTC),
        }
    )

    with pytest.raises(ValidationError) as raised:
        await sessions.update(
            assigning.model_copy(
                update={"homework_assigned": [forged, *assigning.homework_assigned[1:]]}
            )
        )

    assert raised.value.rule == "managed_field"
    assert (
        raised.value.field == f"homework_assigned.{item.item_id}.reviewed_in_session_id"
    )
    assert (await sessions.get(assigning.id)).homework_assigned[0] == item


async def test_a_later_review_can_correct_an_earlier_one(
    sessions: TherapySessionRepository,
) -> None:
    assigning, reviewing = await two_sessions(sessions)
    thought_record, mood_tracking = assigning.homework_assigned
    first = await sessions.record_homework_review(
        reviewing.id, assigning.id, [thought_record.item_id]
    )

    second = await sessions.record_homework_review(
        reviewing.id,
        assigning.id,
        [thought_record.item_id, mood_tracking.item_id],
    )

    assert [item.completed for item in second.homework_assigned] == [True, True]
    assert (
        second.homework_assigned[0].completed_at
        == first.homework_assigned[0].completed_at
    )


@pytest.mark.parametrize(
    ("case", "field", "rule"),
    [
        ("unknown_item", "completed_item_ids", "unknown_item"),
        ("note_for_unknown_item", "review_notes", "unknown_item"),
        ("same_session", "previous_session_id", "same_session"),
        ("review_before_assignment", "previous_session_id", "later_session"),
        ("another_patient", "previous_session_id", "different_patient"),
        ("nothing_assigned", "previous_session_id", "no_homework"),
        ("reviewed_at_a_missed_session", "session_id", "not_attended"),
        ("ids_as_one_string", "completed_item_ids", "type"),
    ],
)
async def test_an_impossible_homework_review_is_refused_and_changes_nothing(
    db: DatabaseManager,
    sessions: TherapySessionRepository,
    case: str,
    field: str,
    rule: str,
) -> None:
    assigning, reviewing = await two_sessions(sessions)
    item_id = assigning.homework_assigned[0].item_id
    arguments: dict[str, Any] = {
        "session_id": reviewing.id,
        "previous_session_id": assigning.id,
        "completed_item_ids": [item_id],
    }
    if case == "unknown_item":
        arguments["completed_item_ids"] = ["hw_from_another_session"]
    elif case == "note_for_unknown_item":
        arguments["review_notes"] = {"hw_from_another_session": "Done"}
    elif case == "same_session":
        arguments["previous_session_id"] = reviewing.id
    elif case == "review_before_assignment":
        arguments.update(session_id=assigning.id, previous_session_id=reviewing.id)
    elif case == "another_patient":
        other = await sessions.create(seed_session(patient_id="patient_999"))
        arguments["previous_session_id"] = other.id
    elif case == "nothing_assigned":
        bare = await sessions.create(seed_session(homework_assigned=[]))
        arguments["previous_session_id"] = bare.id
    elif case == "reviewed_at_a_missed_session":
        arguments["session_id"] = (await sessions.create(missed_session(2))).id
    elif case == "ids_as_one_string":
        arguments["completed_item_ids"] = item_id
    before = await db.collection(TherapySession).find_one({"_id": assigning.id})

    with pytest.raises(ValidationError) as raised:
        await sessions.record_homework_review(**arguments)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    after = await db.collection(TherapySession).find_one({"_id": assigning.id})
    assert after == before


async def test_reviewing_homework_of_a_missing_session_is_not_found(
    sessions: TherapySessionRepository,
) -> None:
    _, reviewing = await two_sessions(sessions)

    with pytest.raises(NotFoundError):
        await sessions.record_homework_review(reviewing.id, "no_such_session", [])


# ---------------------------------------------------------------- queries


async def weekly_course(sessions: TherapySessionRepository) -> list[TherapySession]:
    """Eight weekly sessions of one patient, two of them missed, plus another
    patient's sessions with another therapist on the same days."""
    course = []
    for week in range(8):
        day = FIRST_SESSION_DAY + timedelta(weeks=week)
        if week in (3, 6):
            course.append(missed_session(week))
        else:
            course.append(seed_session(session_date=day))
        course.append(
            seed_session(
                session_date=day,
                patient_id="patient_777",
                therapist_id="therapist_888",
                relationship_id="relationship_dbt_0007",
            )
        )
    return await sessions.create_many(course)


async def test_a_patients_sessions_come_most_recent_first_page_by_page(
    sessions: TherapySessionRepository,
) -> None:
    course = await weekly_course(sessions)
    expected = [s.id for s in reversed(course) if s.patient_id == PATIENT]

    first = await sessions.patient_sessions(PATIENT, limit=5)
    second = await sessions.patient_sessions(PATIENT, limit=5, after=first.next_cursor)

    assert [s.id for s in first] + [s.id for s in second] == expected
    assert (first.has_more, second.has_more) == (True, False)


async def test_a_relationships_sessions_come_most_recent_first(
    sessions: TherapySessionRepository,
) -> None:
    course = await weekly_course(sessions)

    found = await sessions.sessions_for_relationship(RELATIONSHIP)

    expected = [s.id for s in reversed(course) if s.relationship_id == RELATIONSHIP]
    assert [s.id for s in found] == expected


async def test_sessions_between_two_dates_include_both_ends(
    sessions: TherapySessionRepository,
) -> None:
    course = await weekly_course(sessions)
    start = FIRST_SESSION_DAY + timedelta(weeks=2)
    end = FIRST_SESSION_DAY + timedelta(weeks=4)

    found = await sessions.sessions_between(patient_id=PATIENT, start=start, end=end)

    expected = [
        s.id
        for s in course
        if s.patient_id == PATIENT and start <= s.session_date <= end
    ]
    assert [s.id for s in found] == expected
    assert len(expected) == 3


async def test_a_therapists_sessions_between_two_dates(
    sessions: TherapySessionRepository,
) -> None:
    await weekly_course(sessions)
    day = FIRST_SESSION_DAY + timedelta(weeks=5)

    found = await sessions.sessions_between(
        therapist_id="therapist_888", start=day, end=day
    )

    assert [(s.patient_id, s.session_date) for s in found] == [("patient_777", day)]


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        (
            {"patient_id": PATIENT, "therapist_id": THERAPIST},
            "patient_id",
            "exactly_one",
        ),
        ({}, "patient_id", "exactly_one"),
        ({"patient_id": ""}, "patient_id", "type"),
        (
            {"patient_id": PATIENT, "start": datetime(2025, 3, 3, tzinfo=UTC)},
            "start",
            "calendar_date",
        ),
        ({"patient_id": PATIENT, "end": "2025-04-30"}, "end", "calendar_date"),
        ({"patient_id": PATIENT, "end": date(2025, 2, 1)}, "end", "date_order"),
    ],
)
async def test_sessions_between_refuses_unclear_questions(
    sessions: TherapySessionRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    window = {"start": date(2025, 3, 1), "end": date(2025, 3, 31)}

    with pytest.raises(ValidationError) as raised:
        await sessions.sessions_between(**{**window, **arguments})

    assert (raised.value.field, raised.value.rule) == (field, rule)


BAD_IDS = pytest.mark.parametrize(
    "bad_id", ["", {"$ne": None}, "x" * 300], ids=["empty", "operator", "long"]
)


@BAD_IDS
async def test_every_session_call_refuses_a_bad_id_and_changes_nothing(
    db: DatabaseManager, sessions: TherapySessionRepository, bad_id: Any
) -> None:
    assigning, reviewing = await two_sessions(sessions)
    before = await db.collection(TherapySession).find().to_list(None)
    window = {"start": date(2025, 3, 1), "end": date(2025, 3, 31)}
    calls = [
        sessions.patient_sessions(bad_id),
        sessions.sessions_for_relationship(bad_id),
        sessions.sessions_between(patient_id=bad_id, **window),
        sessions.sessions_between(therapist_id=bad_id, **window),
        sessions.attendance_statistics(patient_id=bad_id),
        sessions.attendance_statistics(relationship_id=bad_id),
        sessions.attendance_statistics(therapist_id=bad_id),
        sessions.record_risk_assessment(bad_id, "imminent"),
        sessions.record_homework_review(bad_id, assigning.id, []),
        sessions.record_homework_review(reviewing.id, bad_id, []),
        sessions.record_homework_review(reviewing.id, assigning.id, [bad_id]),
    ]

    for call in calls:
        with pytest.raises(ValidationError):
            await call

    assert await db.collection(TherapySession).find().to_list(None) == before
    assert await stored_signals(db) == 0


@BAD_IDS
async def test_every_signal_call_refuses_a_bad_id_and_changes_nothing(
    signals: ClinicalSignalRepository, bad_id: Any
) -> None:
    signal = await signals.create(pending_signal())
    calls = [
        signals.signals_for_session(bad_id),
        signals.claim_signal(bad_id, "crisis-worker-1"),
        signals.claim_signal(signal.id, bad_id),
        signals.mark_signal_processed(bad_id, "detection_789"),
        signals.mark_signal_processed(signal.id, bad_id),
        signals.mark_signal_processed(signal.id, "detection_789", worker=bad_id),
    ]

    for call in calls:
        with pytest.raises(ValidationError):
            await call

    assert await signals.get(signal.id) == signal


async def test_listings_refuse_a_page_of_no_records(
    sessions: TherapySessionRepository, signals: ClinicalSignalRepository
) -> None:
    calls = [
        signals.pending_signals(limit=0),
        sessions.patient_sessions(PATIENT, limit=0),
        sessions.sessions_for_relationship(RELATIONSHIP, limit=0),
    ]

    for call in calls:
        with pytest.raises(ValidationError) as raised:
            await call
        assert (raised.value.field, raised.value.rule) == ("limit", "minimum")


# ------------------------------------------------------------- attendance


@pytest.mark.parametrize(
    "scope",
    [
        {"patient_id": PATIENT},
        {"relationship_id": RELATIONSHIP},
        {"therapist_id": THERAPIST},
        {"patient_id": "patient_777"},
        {
            "patient_id": PATIENT,
            "start": FIRST_SESSION_DAY + timedelta(weeks=2),
            "end": FIRST_SESSION_DAY + timedelta(weeks=5),
        },
        {"relationship_id": RELATIONSHIP, "start": FIRST_SESSION_DAY + timedelta(7)},
    ],
)
async def test_attendance_statistics_match_counting_the_sessions_by_hand(
    sessions: TherapySessionRepository, scope: dict[str, Any]
) -> None:
    course = await weekly_course(sessions)
    course += await sessions.create_many(
        [missed_session(9, status="cancelled"), missed_session(10, status="scheduled")]
    )
    withdrawn = await sessions.create(missed_session(11))
    await sessions.delete(withdrawn.id)

    statistics = await sessions.attendance_statistics(**scope)

    expected = summarize_attendance(s.status for s in course if _in_scope(s, scope))
    assert statistics == expected
    assert statistics.total > 0


def _in_scope(session: TherapySession, scope: dict[str, Any]) -> bool:
    owner = {k: v for k, v in scope.items() if k.endswith("_id")}
    if any(getattr(session, k) != v for k, v in owner.items()):
        return False
    start, end = scope.get("start"), scope.get("end")
    return (start is None or session.session_date >= start) and (
        end is None or session.session_date <= end
    )


async def test_attendance_of_a_patient_without_sessions_has_no_rates(
    sessions: TherapySessionRepository,
) -> None:
    statistics = await sessions.attendance_statistics(patient_id="patient_new_001")

    assert statistics == AttendanceStatistics(attended=0, cancelled=0, no_show=0)
    assert statistics.attendance_rate is None
    assert statistics.no_show_rate is None


async def test_attendance_statistics_need_exactly_one_scope(
    sessions: TherapySessionRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await sessions.attendance_statistics(
            patient_id=PATIENT, relationship_id=RELATIONSHIP
        )

    assert raised.value.rule == "exactly_one"


def test_attendance_rates_count_only_sessions_with_an_outcome() -> None:
    statuses = ["attended"] * 6 + ["cancelled", "no_show", "no_show", "scheduled"]

    statistics = summarize_attendance(statuses)

    assert (statistics.attended, statistics.cancelled, statistics.no_show) == (6, 1, 2)
    assert statistics.total == 9
    assert statistics.attendance_rate == pytest.approx(6 / 9)
    assert statistics.cancellation_rate == pytest.approx(1 / 9)
    assert statistics.no_show_rate == pytest.approx(2 / 9)
