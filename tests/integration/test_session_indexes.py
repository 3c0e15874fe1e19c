"""Every query the session and signal repositories send is served by one of the
indexes declared for them, on the real server over a seeded practice: no
collection scan, no in-memory sort across patients, and no walk of the whole
``_id`` index in place of a selective one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from tests.support.sessions_data import FIRST_SESSION_DAY, seed_session
from wellness_repo import DatabaseManager
from wellness_repo.models.sessions import (
    ClinicalSignal,
    RiskLevel,
    SessionStatus,
    SignalSource,
    SignalStatus,
    TherapySession,
)
from wellness_repo.repositories.sessions import TherapySessionRepository

PATIENTS = 40
WEEKS = 12
RISK_CYCLE = ["none", "low", "low", "moderate", "low", "none", "low"]
STATUS_CYCLE = ["attended"] * 5 + ["cancelled", "no_show"]


def practice() -> list[TherapySession]:
    """Twelve weeks of sessions for forty patients across eight therapists."""
    sessions = []
    for patient in range(PATIENTS):
        for week in range(WEEKS):
            status = STATUS_CYCLE[(patient + week) % len(STATUS_CYCLE)]
            attended = status == "attended"
            sessions.append(
                seed_session(
                    patient_id=f"patient_{patient:03d}",
                    therapist_id=f"therapist_{patient % 8:02d}",
                    relationship_id=f"relationship_{patient:03d}",
                    session_date=FIRST_SESSION_DAY + timedelta(weeks=week),
                    status=status,
                    duration_minutes=50 if attended else None,
                    interventions_used=["Behavioural activation"] if attended else [],
                    patient_mood_start=4 if attended else None,
                    patient_mood_end=6 if attended else None,
                    homework_assigned=["Activity diary"] if attended else [],
                    risk_assessment=RISK_CYCLE[(patient * 3 + week) % len(RISK_CYCLE)],
                )
            )
    return sessions


def signal_backlog() -> list[ClinicalSignal]:
    """Three hundred processed signals, three stalled claims and a queue."""
    raised = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    signals = []
    for number in range(320):
        claimed_at = raised + timedelta(minutes=number + 1)
        state: dict[str, Any] = {}
        if number < 300:
            state = {
                "status": SignalStatus.PROCESSED,
                "claimed_by": "crisis-worker-1",
                "claimed_at": claimed_at,
                "processed_at": claimed_at + timedelta(minutes=1),
                "detection_id": f"detection_{number:04d}",
            }
        elif number < 303:
            state = {
                "status": SignalStatus.CLAIMED,
                "claimed_by": "crashed-worker",
                "claimed_at": claimed_at,
            }
        signals.append(
            ClinicalSignal(
                patient_id=f"patient_{number % PATIENTS:03d}",
                source=SignalSource.SESSION,
                source_id=f"archived_session_{number:04d}",
                source_revision=1,
                risk_level=RiskLevel.IMMINENT if number % 5 == 0 else RiskLevel.HIGH,
                raised_at=raised + timedelta(minutes=number),
                raised_by="therapist_00",
                **state,
            )
        )
    return signals


async def indexes_used(db: DatabaseManager, command: dict[str, Any]) -> set[str]:
    """The indexes the winning plan of ``command`` scans."""
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    cursor_stages = [
        s["$cursor"] for s in explained.get("stages", []) if "$cursor" in s
    ]
    planner = explained.get("queryPlanner") or cursor_stages[0]["queryPlanner"]
    return {
        stage.get("indexName", "")
        for stage in plan_stages(planner["winningPlan"])
        if stage["stage"] == "IXSCAN"
    }


def command_filter(command: dict[str, Any]) -> dict[str, Any]:
    """The filter of a find, findAndModify, aggregate or update command."""
    if "updates" in command:
        query: dict[str, Any] = command["updates"][0]["q"]
        return query
    if "pipeline" in command:
        return dict(command["pipeline"][0].get("$match", {}))
    return dict(command.get("filter", command.get("query", {})))


async def test_session_and_signal_queries_use_their_declared_indexes(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        sessions = TherapySessionRepository(db)
        signals = sessions.signals
        course = await sessions.create_many(practice())
        await signals.create_many(signal_backlog())
        acute = await sessions.create(
            seed_session(patient_id="patient_007", risk_assessment="imminent")
        )
        week_two = FIRST_SESSION_DAY + timedelta(weeks=2)
        week_six = FIRST_SESSION_DAY + timedelta(weeks=6)
        assigning, reviewing, *_ = [
            s
            for s in course
            if s.patient_id == "patient_007" and s.status is SessionStatus.ATTENDED
        ]
        recorder.recording = True

        await sessions.patient_sessions("patient_007", limit=5)
        page = await sessions.sessions_for_relationship("relationship_007", limit=5)
        await sessions.sessions_for_relationship(
            "relationship_007", limit=5, after=page.next_cursor
        )
        await sessions.sessions_between(
            patient_id="patient_007", start=week_two, end=week_six
        )
        await sessions.sessions_between(
            therapist_id="therapist_03", start=week_two, end=week_six
        )
        await sessions.attendance_statistics(patient_id="patient_007")
        await sessions.attendance_statistics(relationship_id="relationship_007")
        await sessions.attendance_statistics(
            therapist_id="therapist_03", start=week_two, end=week_six
        )
        await sessions.record_homework_review(
            reviewing.id, assigning.id, [assigning.homework_assigned[0].item_id]
        )
        queue = await signals.pending_signals(limit=10)
        await signals.signals_for_session(acute.id)
        await signals.claim_signal(queue[0].id, "crisis-worker-2")
        await signals.mark_signal_processed(queue[0].id, "detection_9999")
        released = await signals.release_stalled_claims(timedelta(minutes=15))
        recorder.recording = False

        assert queue[0].risk_level is RiskLevel.IMMINENT
        assert released == 3
        assert len(recorder.commands) >= 15
        declared = {
            "patient_timeline",
            "relationship_timeline",
            "therapist_timeline",
            "one_signal_per_source_write",
            "work_queue",
            "stalled_claims",
        }
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command
            used = await indexes_used(db, command)
            one_record = "_id" in command_filter(command) and used == {"_id_"}
            assert used & declared or one_record, command
