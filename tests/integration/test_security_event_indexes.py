"""On the real server: every query of the session and security-event repositories
is served by an index over a seeded platform, sessions expire by TTL while
security events never do, and concurrent checks and revocations of one session
neither lose a revocation nor count one twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import (
    DatabaseManager,
    SecurityEvent,
    SecurityEventType,
    SessionEndReason,
    SessionExpiredError,
    UserSession,
    utc_now,
)
from wellness_repo.models.security_events import hash_session_token
from wellness_repo.repositories.security_events import (
    SecurityEventRepository,
    UserSessionRepository,
)

pytestmark = pytest.mark.integration

ACCOUNTS = [f"user_{number:04d}" for number in range(120)]
ADDRESSES = [f"198.51.100.{number}" for number in range(1, 60)]
FAILURE_TYPES = [
    SecurityEventType.LOGIN_FAILURE,
    SecurityEventType.LOGIN_ATTEMPT,
    SecurityEventType.MFA_FAILURE,
]


def seeded_sessions() -> list[UserSession]:
    """Three live sessions per account, signed in over the last few hours."""
    now = utc_now()
    sessions = []
    for index, account in enumerate(ACCOUNTS):
        for device in range(3):
            started = now - timedelta(minutes=7 * index % 300 + 10)
            last_seen = now - timedelta(minutes=device)
            sessions.append(
                UserSession(
                    user_id=account,
                    token_hash=hash_session_token(f"seed-{account}-{device}"),
                    created_at=started,
                    last_seen_at=last_seen,
                    expires_at=started + timedelta(hours=12),
                    idle_timeout_seconds=1800,
                    idle_expires_at=last_seen + timedelta(minutes=30),
                )
            )
    return sessions


def seeded_events() -> list[SecurityEvent]:
    """A week of sign-ins: mostly successes, some failures, spread over accounts
    and addresses."""
    now = utc_now()
    events = []
    for number in range(3000):
        failed = number % 4 == 0
        events.append(
            SecurityEvent(
                user_id=ACCOUNTS[number % len(ACCOUNTS)],
                event_type=(
                    FAILURE_TYPES[number % 3]
                    if failed
                    else SecurityEventType.LOGIN_SUCCESS
                ),
                success=not failed,
                ip_address=ADDRESSES[number % len(ADDRESSES)],
                occurred_at=now - timedelta(minutes=3 * number),
            )
        )
    return events


async def explain(db: DatabaseManager, command: dict[str, Any]) -> dict[str, Any]:
    """The winning plan's query planner section, for a find or an aggregation."""
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    if "queryPlanner" in explained:
        planner: dict[str, Any] = explained["queryPlanner"]
        return planner
    for stage in explained.get("stages", []):
        if "$cursor" in stage:
            cursor: dict[str, Any] = stage["$cursor"]["queryPlanner"]
            return cursor
    raise AssertionError("no query planner in the explain output")


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes a command's cost grow with the collection: a collection scan,
    an unpinned in-memory sort, or an index walked from end to end."""
    found = await unindexed_stages(db, command)
    for stage in plan_stages((await explain(db, command))["winningPlan"]):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
    return found


async def index_names(db: DatabaseManager, command: dict[str, Any]) -> set[str]:
    """The indexes the winning plan reads."""
    plan = (await explain(db, command))["winningPlan"]
    return {
        stage["indexName"] for stage in plan_stages(plan) if stage["stage"] == "IXSCAN"
    }


async def test_session_and_security_event_queries_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        sessions = UserSessionRepository(db)
        events = SecurityEventRepository(db)
        await sessions.create_many(seeded_sessions())
        await events.create_many(seeded_events())
        recorder.recording = True

        opened, token = await sessions.create_session("user_0007", ip_address="::1")
        await sessions.validate_session(token)
        await sessions.validate_session("seed-user_0003-1")
        await sessions.active_sessions("user_0007")
        await sessions.revoke_session(opened.id, SessionEndReason.LOGOUT)
        await sessions.revoke_all_sessions("user_0009", "password_changed")
        since = utc_now() - timedelta(hours=6)
        await events.failed_login_bursts(since=since, threshold=2)
        await events.failed_login_bursts(since=since, threshold=2, by="ip_address")
        await events.recent_events("user_0042", limit=20)
        recorder.recording = False

        assert len(recorder.commands) >= 10
        for command in recorder.commands:
            assert await scan_problems(db, command) == [], command


async def test_a_token_is_found_through_its_unique_hash_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        sessions = UserSessionRepository(db)
        await sessions.create_many(seeded_sessions())
        recorder.recording = True

        await sessions.validate_session("seed-user_0100-2")
        recorder.recording = False

        assert await index_names(db, recorder.commands[0]) == {"token_lookup"}


@pytest.mark.parametrize("by", ["user_id", "ip_address"])
async def test_bursts_read_only_the_index_of_failed_sign_ins(
    mongodb_uri: str, by: Any
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        events = SecurityEventRepository(db)
        await events.create_many(seeded_events())
        recorder.recording = True

        await events.failed_login_bursts(
            since=utc_now() - timedelta(days=2), threshold=3, by=by
        )
        recorder.recording = False

        assert await index_names(db, recorder.commands[0]) == {"failed_sign_ins"}


async def test_sessions_expire_by_ttl_and_security_events_never_do(
    mongo_db: DatabaseManager,
) -> None:
    session_indexes = await mongo_db.database["user_sessions"].index_information()
    event_indexes = await mongo_db.database["security_events"].index_information()

    ttl = {
        name: (index["key"], index["expireAfterSeconds"])
        for name, index in session_indexes.items()
        if "expireAfterSeconds" in index
    }
    assert ttl == {"ended_session_expiry": ([("expires_at", 1)], 30 * 24 * 3600)}
    assert not any("expireAfterSeconds" in index for index in event_indexes.values())


# --------------------------------------------------------------- concurrency


async def test_concurrent_checks_of_one_session_all_pass_and_keep_the_latest_deadline(
    mongo_db: DatabaseManager,
) -> None:
    sessions = UserSessionRepository(mongo_db)
    opened, token = await sessions.create_session("therapist_456")

    checked = await asyncio.gather(
        *(sessions.validate_session(token) for _ in range(16))
    )

    stored = await sessions.get(opened.id)
    assert stored.revision == opened.revision + 16
    assert stored.idle_expires_at == max(item.idle_expires_at for item in checked)
    assert stored.last_seen_at == max(item.last_seen_at for item in checked)


async def test_a_revocation_racing_checks_is_never_undone(
    mongo_db: DatabaseManager,
) -> None:
    sessions = UserSessionRepository(mongo_db)
    opened, token = await sessions.create_session("patient_123")

    async def check() -> str:
        try:
            await sessions.validate_session(token)
        except SessionExpiredError as ended:
            return ended.reason
        return "live"

    outcomes = await asyncio.gather(
        *(check() for _ in range(12)),
        sessions.revoke_session(opened.id, SessionEndReason.SUSPECTED_COMPROMISE),
        *(check() for _ in range(12)),
    )

    reasons = {outcome for outcome in outcomes if isinstance(outcome, str)}
    assert reasons <= {"live", "revoked"}
    stored = await sessions.get(opened.id)
    assert stored.revoked_reason is SessionEndReason.SUSPECTED_COMPROMISE
    with pytest.raises(SessionExpiredError) as refused:
        await sessions.validate_session(token)
    assert refused.value.reason == "revoked"


async def test_racing_revocations_of_all_sessions_end_each_session_once(
    mongo_db: DatabaseManager,
) -> None:
    sessions = UserSessionRepository(mongo_db)
    for _ in range(6):
        await sessions.create_session("nurse_221")

    counts = await asyncio.gather(
        sessions.revoke_all_sessions("nurse_221", SessionEndReason.PASSWORD_CHANGED),
        sessions.revoke_all_sessions("nurse_221", SessionEndReason.ACCOUNT_LOCKED),
        sessions.revoke_all_sessions("nurse_221", SessionEndReason.ADMIN_REVOKED),
    )

    assert sum(counts) == 6
    assert await sessions.active_sessions("nurse_221") == []
