"""The crisis hook on a real replica set: a high-risk session and its clinical
signal commit in one transaction or not at all, and racing crisis workers never
both take the same signal.

The embedded backend's behaviour for the same flow (writes grouped, never rolled
back) is pinned by the contract tests in ``tests/contract/test_therapy_sessions``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import SYSTEM
from tests.support.sessions_data import PATIENT, THERAPIST, seed_session
from tests.support.write_recorder import WriteRecorder, recorded_writes
from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    DuplicateError,
    ValidationError,
    connect,
)
from wellness_repo.models.sessions import (
    ClinicalSignal,
    RiskLevel,
    SignalSource,
    SignalStatus,
    TherapySession,
)
from wellness_repo.repositories.clinical_signals import ClinicalSignalRepository
from wellness_repo.repositories.sessions import TherapySessionRepository

pytestmark = pytest.mark.integration


class ReferralLineDownError(Exception):
    """A failure later in the same clinical workflow."""


@pytest.fixture
async def recorded(
    mongodb_uri: str,
) -> AsyncIterator[tuple[DatabaseManager, WriteRecorder]]:
    async with recorded_writes(mongodb_uri, "signals") as recording:
        yield recording


@pytest.fixture
def sessions(mongo_db: DatabaseManager) -> TherapySessionRepository:
    return TherapySessionRepository(mongo_db)


async def stored(db: DatabaseManager, model: type[Any]) -> int:
    return int(await db.collection(model).count_documents({}))


async def test_a_high_risk_session_and_its_signal_commit_in_one_transaction(
    recorded: tuple[DatabaseManager, WriteRecorder],
) -> None:
    db, recorder = recorded
    sessions = TherapySessionRepository(db)

    await sessions.create(seed_session(risk_assessment="imminent"))

    session_write, signal_write, commit = recorder.writes
    assert (session_write[0], signal_write[0], commit[0]) == (
        "therapy_sessions",
        "clinical_signals",
        "commitTransaction",
    )
    assert session_write[1:] == signal_write[1:] == commit[1:]
    assert session_write[2] is not None


async def test_a_session_write_that_fails_leaves_no_signal(
    mongo_db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    first = await sessions.create(seed_session(risk_assessment="low"))

    with pytest.raises(DuplicateError):
        await sessions.create(seed_session(id=first.id, risk_assessment="high"))

    assert await stored(mongo_db, ClinicalSignal) == 0
    assert (await sessions.get(first.id)).risk_assessment is RiskLevel.LOW


async def test_a_failed_signal_write_rolls_the_session_back(
    mongo_db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    taken = await sessions.signals.create(
        ClinicalSignal(
            patient_id=PATIENT,
            source=SignalSource.SESSION,
            source_id="session_0001",
            source_revision=1,
            risk_level=RiskLevel.HIGH,
            raised_by=THERAPIST,
        )
    )

    with pytest.raises(DuplicateError):
        # The same session id and revision as the signal already stored.
        await sessions.create(seed_session(id=taken.source_id, risk_assessment="high"))

    assert await stored(mongo_db, TherapySession) == 0
    assert await stored(mongo_db, ClinicalSignal) == 1


async def test_a_high_risk_batch_with_a_taken_id_stores_none_of_it(
    mongo_db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    first = await sessions.create(seed_session(risk_assessment="low"))
    batch = [
        seed_session(risk_assessment="imminent"),
        seed_session(risk_assessment="high"),
        seed_session(id=first.id, risk_assessment="high"),
    ]

    with pytest.raises(DuplicateError):
        await sessions.create_many(batch)

    assert await stored(mongo_db, TherapySession) == 1
    assert await stored(mongo_db, ClinicalSignal) == 0


async def test_a_failure_later_in_the_callers_transaction_undoes_both(
    mongo_db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    async def admit_and_refer() -> None:
        async with mongo_db.transaction():
            await sessions.create(seed_session(risk_assessment="high"))
            raise ReferralLineDownError

    with pytest.raises(ReferralLineDownError):
        await admit_and_refer()

    assert await stored(mongo_db, TherapySession) == 0
    assert await stored(mongo_db, ClinicalSignal) == 0


async def test_a_risk_escalation_rolled_back_leaves_the_old_level_and_no_signal(
    mongo_db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    session = await sessions.create(seed_session(risk_assessment="moderate"))

    async def escalate_and_refer() -> None:
        async with mongo_db.transaction():
            await sessions.record_risk_assessment(session.id, "imminent")
            raise ReferralLineDownError

    with pytest.raises(ReferralLineDownError):
        await escalate_and_refer()

    assert (await sessions.get(session.id)).risk_assessment is RiskLevel.MODERATE
    assert await stored(mongo_db, ClinicalSignal) == 0


async def test_two_workers_claiming_one_signal_exactly_one_wins(
    mongo_db: DatabaseManager, mongodb_uri: str, sessions: TherapySessionRepository
) -> None:
    high_risk = [seed_session(risk_assessment="high") for _ in range(20)]
    await sessions.create_many(high_risk)
    queue = await sessions.signals.pending_signals()
    other_service = await connect(mongodb_uri, mongo_db.database_name, context=SYSTEM)
    try:
        rival = ClinicalSignalRepository(other_service)

        outcomes = await asyncio.gather(
            *(
                asyncio.gather(
                    sessions.signals.claim_signal(signal.id, "worker-a"),
                    rival.claim_signal(signal.id, "worker-b"),
                    return_exceptions=True,
                )
                for signal in queue
            )
        )
    finally:
        await other_service.close()

    assert len(outcomes) == 20
    for signal, pair in zip(queue, outcomes, strict=True):
        won = [o for o in pair if isinstance(o, ClinicalSignal)]
        lost = [o for o in pair if isinstance(o, ValidationError)]
        assert (len(won), len(lost)) == (1, 1)
        assert lost[0].rule == "invalid_transition"
        current = await sessions.signals.get(signal.id)
        assert (current.status, current.claimed_by) == (
            SignalStatus.CLAIMED,
            won[0].claimed_by,
        )


async def test_racing_escalations_of_one_session_raise_one_signal(
    mongo_db: DatabaseManager, sessions: TherapySessionRepository
) -> None:
    session = await sessions.create(seed_session(risk_assessment="low"))
    by_therapist = session.model_copy(update={"risk_assessment": RiskLevel.HIGH})
    by_supervisor = session.model_copy(update={"risk_assessment": RiskLevel.HIGH})

    outcomes = await asyncio.gather(
        sessions.update(by_therapist),
        sessions.update(by_supervisor),
        return_exceptions=True,
    )

    won = [o for o in outcomes if isinstance(o, TherapySession)]
    # Refused by the revision guard, or by the server's write conflict when the
    # two transactions overlap: either way a ConcurrencyError.
    refused = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert (len(won), len(refused)) == (1, 1)
    assert (await sessions.get(session.id)).revision == won[0].revision == 2
    assert len(await sessions.signals.signals_for_session(session.id)) == 1
