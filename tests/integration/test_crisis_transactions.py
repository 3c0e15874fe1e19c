"""Crisis writes on a real replica set: a detection and its alert commit together
or not at all (also inside a caller's transaction), and racing writers, on
separate connections as separate processes would be, never duplicate an episode,
lose an escalation, share an alert, or overwrite a safety plan edit.

The embedded backend's behaviour for the same flows (writes grouped, never
rolled back) is described in the README's Known limitations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import SYSTEM, cipher_for
from tests.support.crisis_data import (
    CRISIS_TEAM,
    ESCALATION_REASON,
    ON_CALL,
    PATIENT,
    PSYCHIATRIST,
    THERAPIST,
    assessment,
    seed_detection,
)
from tests.support.models import TEST_MODELS
from tests.support.safety_plan_data import seed_plan
from tests.support.sessions_data import seed_session
from tests.support.write_recorder import WriteRecorder, recorded_writes
from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    MoodEntry,
    RepositoryError,
    ValidationError,
    connect,
    create_mood_entry_repository,
)
from wellness_repo.models.crisis import (
    CrisisDetection,
    CrisisNotification,
    NotificationKind,
)
from wellness_repo.models.sessions import ClinicalSignal, SignalStatus
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.safety_plans import SafetyPlanRepository
from wellness_repo.repositories.sessions import TherapySessionRepository

pytestmark = pytest.mark.integration

WRITERS = 8
JOURNAL_TEXT = "I keep thinking everyone would be better off without me"


class PagerGatewayDownError(RepositoryError):
    """The alert could not be written: a stand-in for any failure after the
    detection's own write."""


@pytest.fixture
async def recorded(
    mongodb_uri: str,
) -> AsyncIterator[tuple[DatabaseManager, WriteRecorder]]:
    watched = ("insert", "findAndModify")
    async with recorded_writes(mongodb_uri, "crisis", watched) as recording:
        yield recording


@pytest.fixture
async def connections(
    mongo_db: DatabaseManager, mongodb_uri: str
) -> AsyncIterator[list[DatabaseManager]]:
    """Separate connections to the same database, one per racing writer."""
    opened = [
        await connect(
            mongodb_uri,
            mongo_db.database_name,
            context=SYSTEM,
            document_models=TEST_MODELS,
            apply_indexes=False,
            # The same stages as the test's own connection: its key vault, so
            # every writer encrypts and decrypts with the same patient keys.
            policy=mongo_db.policy,
            cipher=cipher_for(mongo_db.database_name),
        )
        for _writer in range(WRITERS)
    ]
    try:
        yield opened
    finally:
        for connection in opened:
            await connection.close()


async def stored(db: DatabaseManager, model: type[Any], **query: Any) -> int:
    return int(await db.collection(model).count_documents(query))


async def race(
    connections: list[DatabaseManager],
    act: Callable[[DatabaseManager, int], Awaitable[Any]],
) -> list[Any]:
    """Run ``act`` on every connection at once; results and errors, in order."""
    return await asyncio.gather(
        *(act(connection, index) for index, connection in enumerate(connections)),
        return_exceptions=True,
    )


# ---------------------------------------------------------------- atomicity


async def test_new_detection_and_its_alert_commit_in_one_transaction(
    recorded: tuple[DatabaseManager, WriteRecorder],
) -> None:
    db, recorder = recorded

    await CrisisDetectionRepository(db).create(seed_detection())

    detection_write, alert_write, commit = recorder.writes
    assert (detection_write[0], alert_write[0], commit[0]) == (
        "crisis_detections",
        "notification_outbox",
        "commitTransaction",
    )
    assert detection_write[1:] == alert_write[1:] == commit[1:]
    assert detection_write[2] is not None


async def test_escalation_and_its_alert_commit_in_one_transaction(
    recorded: tuple[DatabaseManager, WriteRecorder],
) -> None:
    db, recorder = recorded
    crises = CrisisDetectionRepository(db)
    detection = await crises.create(seed_detection())
    recorder.writes.clear()

    await crises.escalate_crisis(detection.id, CRISIS_TEAM, ESCALATION_REASON)

    escalation, alert, commit = recorder.writes
    assert (escalation[0], alert[0], commit[0]) == (
        "crisis_detections",
        "notification_outbox",
        "commitTransaction",
    )
    assert escalation[1:] == alert[1:] == commit[1:]


async def test_detection_whose_alert_cannot_be_written_is_not_stored(
    mongo_db: DatabaseManager,
) -> None:
    crises = CrisisDetectionRepository(mongo_db)

    async def gateway_down(*args: Any, **kwargs: Any) -> Any:
        raise PagerGatewayDownError("the outbox write failed")

    crises.outbox.enqueue = gateway_down  # type: ignore[method-assign]

    with pytest.raises(PagerGatewayDownError):
        await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    assert await stored(mongo_db, CrisisDetection) == 0


async def test_escalation_whose_alert_cannot_be_written_is_not_stored(
    mongo_db: DatabaseManager,
) -> None:
    crises = CrisisDetectionRepository(mongo_db)
    detection = await crises.create(seed_detection())

    async def gateway_down(*args: Any, **kwargs: Any) -> Any:
        raise PagerGatewayDownError("the outbox write failed")

    crises.outbox.enqueue = gateway_down  # type: ignore[method-assign]

    with pytest.raises(PagerGatewayDownError):
        await crises.escalate_crisis(detection.id, CRISIS_TEAM, ESCALATION_REASON)

    assert await crises.get(detection.id) == detection


async def test_detection_in_a_callers_transaction_commits_with_the_callers_write(
    recorded: tuple[DatabaseManager, WriteRecorder],
) -> None:
    db, recorder = recorded
    crises = CrisisDetectionRepository(db)

    async with db.transaction():
        await create_mood_entry_repository(db).create(
            MoodEntry(user_id=PATIENT, mood_rating=1, notes=JOURNAL_TEXT)
        )
        await crises.record_detection(PATIENT, "mood_entry", None, assessment())

    targets = [write[0] for write in recorder.writes]
    assert targets == [
        "mood_entries",
        "crisis_detections",
        "notification_outbox",
        "commitTransaction",
    ]
    assert len({write[1:] for write in recorder.writes}) == 1


async def test_detection_in_a_callers_failed_transaction_is_undone_with_it(
    mongo_db: DatabaseManager,
) -> None:
    crises = CrisisDetectionRepository(mongo_db)

    async def journal_then_fail() -> None:
        async with mongo_db.transaction():
            await create_mood_entry_repository(mongo_db).create(
                MoodEntry(user_id=PATIENT, mood_rating=1, notes=JOURNAL_TEXT)
            )
            await crises.record_detection(PATIENT, "mood_entry", None, assessment())
            raise PagerGatewayDownError("a later step of the caller failed")

    with pytest.raises(PagerGatewayDownError):
        await journal_then_fail()

    assert await stored(mongo_db, MoodEntry) == 0
    assert await stored(mongo_db, CrisisDetection) == 0
    assert await stored(mongo_db, CrisisNotification) == 0


async def test_caller_transaction_losing_an_episode_race_is_told_to_run_again(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    async def journal_with_detection(db: DatabaseManager, index: int) -> None:
        async with db.transaction():
            await CrisisDetectionRepository(db).record_detection(
                PATIENT, "journal_entry", f"journal_entry_{index}", assessment()
            )
            # Hold the transaction open so the racing writers overlap.
            await asyncio.sleep(0.05)

    outcomes = await race(connections[:2], journal_with_detection)

    failures = [outcome for outcome in outcomes if outcome is not None]
    assert all(isinstance(failure, ConcurrencyError) for failure in failures)
    assert len(failures) <= 1
    assert await stored(mongo_db, CrisisDetection) == 1


# ----------------------------------------------------------------- races


async def test_racing_writers_of_one_episode_leave_one_detection(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    async def record(db: DatabaseManager, index: int) -> CrisisDetection:
        return await CrisisDetectionRepository(db).record_detection(
            PATIENT, "journal_entry", f"journal_entry_{index}", assessment()
        )

    outcomes = await race(connections, record)

    assert all(isinstance(outcome, CrisisDetection) for outcome in outcomes), outcomes
    assert len({outcome.id for outcome in outcomes}) == 1
    (stored_detection,) = await CrisisDetectionRepository(mongo_db).find_by()
    assert stored_detection.occurrence_count == WRITERS
    assert len(stored_detection.related_source_ids) == WRITERS - 1
    assert await stored(mongo_db, CrisisNotification) == 1


async def test_racing_escalations_are_all_recorded_one_level_apart(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    detection = await CrisisDetectionRepository(mongo_db).create(seed_detection())
    targets = [CRISIS_TEAM, ON_CALL, PSYCHIATRIST]

    async def escalate(db: DatabaseManager, index: int) -> CrisisDetection:
        return await CrisisDetectionRepository(db).escalate_crisis(
            detection.id, targets[index], ESCALATION_REASON
        )

    outcomes = await race(connections[:3], escalate)

    assert all(isinstance(outcome, CrisisDetection) for outcome in outcomes)
    final = await CrisisDetectionRepository(mongo_db).get(detection.id)
    assert [step.level for step in final.escalations] == [1, 2, 3]
    assert {step.escalated_to for step in final.escalations} == set(targets)
    escalation_alerts = await stored(
        mongo_db, CrisisNotification, kind=NotificationKind.ESCALATION.value
    )
    assert escalation_alerts == 3


async def test_racing_acknowledgments_let_exactly_one_clinician_in(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    detection = await CrisisDetectionRepository(mongo_db).create(seed_detection())
    clinicians = [THERAPIST, PSYCHIATRIST]

    async def acknowledge(db: DatabaseManager, index: int) -> CrisisDetection:
        return await CrisisDetectionRepository(db).acknowledge(
            detection.id, clinicians[index]
        )

    outcomes = await race(connections[:2], acknowledge)

    winners = [outcome for outcome in outcomes if isinstance(outcome, CrisisDetection)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0].rule == "invalid_transition"
    final = await CrisisDetectionRepository(mongo_db).get(detection.id)
    assert final.acknowledged_by == winners[0].acknowledged_by


async def test_racing_senders_never_claim_the_same_alert(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    crises = CrisisDetectionRepository(mongo_db)
    for patient in range(20):
        await crises.create(seed_detection(patient_id=f"patient_{patient:03d}"))

    async def claim(db: DatabaseManager, index: int) -> list[CrisisNotification]:
        outbox = CrisisDetectionRepository(db).outbox
        return await outbox.claim(
            f"pager-sender-{index}", timedelta(seconds=30), limit=20
        )

    outcomes = await race(connections, claim)

    claimed = [alert.id for batch in outcomes for alert in batch]
    assert len(claimed) == len(set(claimed)) == 20


async def test_racing_edits_of_one_plan_version_let_exactly_one_land(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    plan = await SafetyPlanRepository(mongo_db).create(seed_plan())
    edits = [["Not eating for a day"], ["Saying goodbye to friends"]]

    async def revise(db: DatabaseManager, index: int) -> Any:
        return await SafetyPlanRepository(db).revise_plan(
            plan.id, {"warning_signs": edits[index]}, expected_version=1
        )

    outcomes = await race(connections[:2], revise)

    landed = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(landed) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], ConcurrencyError)
    plans = SafetyPlanRepository(mongo_db)
    assert [version.version for version in await plans.versions(PATIENT)] == [1, 2]
    assert (await plans.get(plan.id)).warning_signs == landed[0].warning_signs


async def test_racing_signal_workers_turn_each_signal_into_one_detection(
    mongo_db: DatabaseManager, connections: list[DatabaseManager]
) -> None:
    sessions = TherapySessionRepository(mongo_db)
    for patient in range(5):
        await sessions.create(
            seed_session(patient_id=f"patient_{patient:03d}", risk_assessment="high")
        )

    async def work(db: DatabaseManager, index: int) -> list[CrisisDetection]:
        return await CrisisDetectionRepository(db).process_clinical_signals(
            f"crisis-worker-{index}"
        )

    outcomes = await race(connections[:4], work)

    recorded = [detection.id for batch in outcomes for detection in batch]
    assert len(recorded) == len(set(recorded)) == 5
    assert (
        await stored(mongo_db, ClinicalSignal, status=SignalStatus.PROCESSED.value) == 5
    )
    assert await stored(mongo_db, CrisisDetection) == 5
