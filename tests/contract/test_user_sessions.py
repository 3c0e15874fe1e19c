"""Login sessions: opened with a token returned once and stored only as its hash,
checked and slid on every request, refused once revoked, expired or idle, and
ended one by one or all at once, on both backends."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.care_data import stored_count, stored_document
from wellness_repo import (
    AccessDeniedError,
    DatabaseManager,
    SessionEndReason,
    SessionExpiredError,
    UserSession,
    ValidationError,
    utc_now,
)
from wellness_repo.models.security_events import hash_session_token
from wellness_repo.repositories.security_events import UserSessionRepository

THERAPIST = "therapist_456"
PATIENT = "patient_123"
CLINIC_IP = "192.168.1.100"
HOME_IP = "2001:db8:85a3::8a2e:370:7334"
LIFETIME = timedelta(minutes=720)
IDLE = timedelta(minutes=30)


@pytest.fixture
def sessions(db: DatabaseManager) -> UserSessionRepository:
    return UserSessionRepository(db)


async def stored_session(
    sessions: UserSessionRepository,
    token: str,
    *,
    started: timedelta,
    last_seen: timedelta,
    lifetime: timedelta = LIFETIME,
    idle: timedelta = IDLE,
    user_id: str = THERAPIST,
) -> UserSession:
    """A session signed in ``started`` ago and last used ``last_seen`` ago, whose
    bearer token is ``token``: the state a session is in later in its life."""
    now = utc_now()
    created_at = now - started
    last_seen_at = now - last_seen
    expires_at = created_at + lifetime
    return await sessions.create(
        UserSession(
            user_id=user_id,
            token_hash=hash_session_token(token),
            created_at=created_at,
            last_seen_at=last_seen_at,
            expires_at=expires_at,
            idle_timeout_seconds=int(idle.total_seconds()),
            idle_expires_at=min(last_seen_at + idle, expires_at),
            ip_address=CLINIC_IP,
        )
    )


def every_string(value: Any) -> list[str]:
    """Every string anywhere in a stored document, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            text for key, item in value.items() for text in [key, *every_string(item)]
        ]
    if isinstance(value, list | tuple):
        return [text for item in value for text in every_string(item)]
    return []


# ----------------------------------------------------------------- opening


async def test_a_new_session_is_found_by_its_token(
    sessions: UserSessionRepository,
) -> None:
    session, token = await sessions.create_session(
        THERAPIST, ip_address=CLINIC_IP, mfa_verified=True
    )

    found = await sessions.validate_session(token)

    assert found.session_id == session.id
    assert (found.user_id, found.ip_address, found.mfa_verified) == (
        THERAPIST,
        CLINIC_IP,
        True,
    )
    assert found.revoked_at is None


async def test_the_token_is_stored_only_as_its_sha256(
    db: DatabaseManager, sessions: UserSessionRepository
) -> None:
    session, token = await sessions.create_session(THERAPIST, ip_address=CLINIC_IP)

    raw = await stored_document(db, UserSession, session.id)

    assert raw["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in text for text in every_string(raw))


async def test_every_session_gets_its_own_unguessable_token(
    sessions: UserSessionRepository,
) -> None:
    opened = [await sessions.create_session(PATIENT) for _ in range(5)]

    tokens = {token for _, token in opened}

    assert len(tokens) == 5
    # token_urlsafe(32): 256 random bits in 43 URL-safe characters.
    assert all(len(token) == 43 for token in tokens)


async def test_limits_default_to_the_configured_lifetime_and_idle_timeout(
    db: DatabaseManager, sessions: UserSessionRepository
) -> None:
    session, _ = await sessions.create_session(THERAPIST)

    assert session.expires_at - session.created_at == timedelta(
        minutes=db.settings.session_lifetime_minutes
    )
    assert session.idle_expires_at - session.created_at == timedelta(
        minutes=db.settings.session_idle_minutes
    )
    assert session.idle_timeout_seconds == db.settings.session_idle_minutes * 60


async def test_a_short_lifetime_caps_the_idle_deadline_at_expiry(
    sessions: UserSessionRepository,
) -> None:
    session, _ = await sessions.create_session(
        THERAPIST, lifetime=timedelta(minutes=10), idle_timeout=IDLE
    )

    assert session.idle_expires_at == session.expires_at
    assert session.expires_at - session.created_at == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"lifetime": timedelta(hours=13)}, "lifetime", "maximum"),
        ({"idle_timeout": timedelta(minutes=31)}, "idle_timeout", "maximum"),
        ({"lifetime": timedelta(0)}, "lifetime", "minimum"),
        ({"idle_timeout": 1800}, "idle_timeout", "type"),
        ({"ip_address": "192.168.1.300"}, "ip_address", "ip_address"),
        ({"ip_address": "clinic front desk"}, "ip_address", "ip_address"),
        ({"mfa_verified": "yes"}, "mfa_verified", "bool_type"),
    ],
)
async def test_bad_session_arguments_are_refused_and_nothing_is_written(
    db: DatabaseManager,
    sessions: UserSessionRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await sessions.create_session(THERAPIST, **arguments)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert await stored_count(db, UserSession) == 0


async def test_an_email_is_refused_where_an_account_id_belongs(
    db: DatabaseManager, sessions: UserSessionRepository
) -> None:
    with pytest.raises(ValidationError) as refused:
        await sessions.create_session("sarah.johnson@clinic.example")

    assert refused.value.field == "user_id"
    assert "sarah.johnson" not in str(refused.value)
    assert await stored_count(db, UserSession) == 0


async def test_a_session_with_a_naive_expiry_is_refused(
    db: DatabaseManager, sessions: UserSessionRepository
) -> None:
    session, _ = await sessions.create_session(THERAPIST)
    unchecked = UserSession.model_construct(
        **{**dict(session), "id": "session_naive", "expires_at": datetime(2026, 3, 10)}
    )

    with pytest.raises(ValidationError) as refused:
        await sessions.create(unchecked)

    assert (refused.value.field, refused.value.rule) == (
        "expires_at",
        "timezone_required",
    )
    assert await stored_count(db, UserSession) == 1


# ---------------------------------------------------------------- checking


async def test_checking_a_session_slides_its_idle_deadline(
    sessions: UserSessionRepository,
) -> None:
    stored = await stored_session(
        sessions,
        "token-of-a-busy-shift",
        started=timedelta(hours=2),
        last_seen=timedelta(minutes=20),
    )
    before = utc_now()

    checked = await sessions.validate_session("token-of-a-busy-shift")

    assert checked.last_seen_at >= before
    assert checked.idle_expires_at == checked.last_seen_at + IDLE
    assert checked.revision == stored.revision + 1
    assert (await sessions.get(stored.id)).idle_expires_at == checked.idle_expires_at


async def test_sliding_never_moves_the_idle_deadline_past_expiry(
    sessions: UserSessionRepository,
) -> None:
    stored = await stored_session(
        sessions,
        "token-near-the-end",
        started=timedelta(hours=11, minutes=50),
        last_seen=timedelta(minutes=5),
    )

    checked = await sessions.validate_session("token-near-the-end")

    assert checked.idle_expires_at == stored.expires_at


async def test_an_expired_session_is_refused_as_expired(
    sessions: UserSessionRepository,
) -> None:
    await stored_session(
        sessions,
        "token-from-yesterday",
        started=timedelta(hours=13),
        last_seen=timedelta(hours=12, minutes=5),
    )

    with pytest.raises(SessionExpiredError) as refused:
        await sessions.validate_session("token-from-yesterday")

    assert refused.value.reason == "expired"
    assert "expired" in str(refused.value)


async def test_a_session_unused_past_its_idle_timeout_is_refused_as_idle(
    sessions: UserSessionRepository,
) -> None:
    await stored_session(
        sessions,
        "token-left-at-lunch",
        started=timedelta(hours=3),
        last_seen=timedelta(minutes=31),
    )

    with pytest.raises(SessionExpiredError) as refused:
        await sessions.validate_session("token-left-at-lunch")

    assert refused.value.reason == "idle"
    assert "idle" in str(refused.value)


async def test_a_refused_session_is_not_slid_back_to_life(
    db: DatabaseManager, sessions: UserSessionRepository
) -> None:
    stored = await stored_session(
        sessions,
        "token-left-at-lunch",
        started=timedelta(hours=3),
        last_seen=timedelta(minutes=31),
    )
    before = await stored_document(db, UserSession, stored.id)

    with pytest.raises(SessionExpiredError):
        await sessions.validate_session("token-left-at-lunch")

    assert await stored_document(db, UserSession, stored.id) == before


async def test_a_revoked_session_is_refused_as_revoked(
    sessions: UserSessionRepository,
) -> None:
    session, token = await sessions.create_session(PATIENT)
    await sessions.revoke_session(session.id, SessionEndReason.LOGOUT)

    with pytest.raises(SessionExpiredError) as refused:
        await sessions.validate_session(token)

    assert refused.value.reason == "revoked"
    assert "revoked" in str(refused.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"expires_at": datetime(2036, 12, 1, tzinfo=UTC)},
        {"idle_timeout_seconds": 10 * 365 * 24 * 3600},
        {"revoked_at": None, "revoked_reason": None},
        {"mfa_verified": True},
    ],
    ids=["expiry", "idle_timeout", "unrevoke", "mfa_verified"],
)
async def test_a_session_cannot_be_edited_longer_or_back_to_life_or_into_mfa(
    db: DatabaseManager, sessions: UserSessionRepository, changes: dict[str, Any]
) -> None:
    session, _ = await sessions.create_session(PATIENT)
    await sessions.revoke_session(session.id, SessionEndReason.LOGOUT)
    before = await stored_document(db, UserSession, session.id)

    with pytest.raises(ValidationError) as raised:
        await sessions.patch(session.id, changes)

    assert raised.value.rule == "managed_by_workflow"
    assert await stored_document(db, UserSession, session.id) == before


async def test_a_token_no_session_has_is_refused_as_unknown(
    sessions: UserSessionRepository,
) -> None:
    await sessions.create_session(PATIENT)

    with pytest.raises(SessionExpiredError) as refused:
        await sessions.validate_session("forged-or-long-forgotten-token")

    assert refused.value.reason == "unknown"


async def test_an_ended_session_is_an_access_denial(
    sessions: UserSessionRepository,
) -> None:
    with pytest.raises(AccessDeniedError):
        await sessions.validate_session("forged-or-long-forgotten-token")


@pytest.mark.parametrize(
    ("token", "rule"), [(None, "type"), ("", "required"), ("x" * 257, "max_length")]
)
async def test_a_token_that_is_not_a_token_is_refused_as_bad_input(
    sessions: UserSessionRepository, token: Any, rule: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await sessions.validate_session(token)

    assert (refused.value.field, refused.value.rule) == ("token", rule)


# ----------------------------------------------------------------- ending


async def test_revoking_records_when_and_why(sessions: UserSessionRepository) -> None:
    session, _ = await sessions.create_session(PATIENT)
    before = utc_now()

    revoked = await sessions.revoke_session(session.id, "logout")

    assert revoked.revoked_reason is SessionEndReason.LOGOUT
    assert revoked.revoked_at is not None
    assert revoked.revoked_at >= before
    assert revoked.is_revoked


async def test_revoking_twice_keeps_the_first_time_and_reason(
    sessions: UserSessionRepository,
) -> None:
    session, _ = await sessions.create_session(PATIENT)
    first = await sessions.revoke_session(session.id, SessionEndReason.LOGOUT)

    second = await sessions.revoke_session(
        session.id, SessionEndReason.SUSPECTED_COMPROMISE
    )

    assert (second.revoked_at, second.revoked_reason) == (
        first.revoked_at,
        SessionEndReason.LOGOUT,
    )
    assert second.revision == first.revision


async def test_an_unknown_revocation_reason_is_refused(
    sessions: UserSessionRepository,
) -> None:
    session, token = await sessions.create_session(PATIENT)

    with pytest.raises(ValidationError) as refused:
        await sessions.revoke_session(session.id, "patient said she felt watched")

    assert refused.value.field == "reason"
    assert "watched" not in str(refused.value)
    assert (await sessions.validate_session(token)).revoked_at is None


async def test_revoke_all_ends_every_live_session_of_that_user_only(
    sessions: UserSessionRepository,
) -> None:
    mine = [await sessions.create_session(THERAPIST) for _ in range(3)]
    theirs = [await sessions.create_session(PATIENT) for _ in range(2)]

    ended = await sessions.revoke_all_sessions(
        THERAPIST, SessionEndReason.PASSWORD_CHANGED
    )

    assert ended == 3
    for _, token in mine:
        with pytest.raises(SessionExpiredError):
            await sessions.validate_session(token)
    for session, token in theirs:
        assert (await sessions.validate_session(token)).id == session.id
    assert await sessions.active_sessions(THERAPIST) == []
    revoked = [await sessions.get(session.id) for session, _ in mine]
    assert {session.revoked_reason for session in revoked} == {
        SessionEndReason.PASSWORD_CHANGED
    }


async def test_revoke_all_counts_only_sessions_that_were_still_live(
    sessions: UserSessionRepository,
) -> None:
    live, _ = await sessions.create_session(THERAPIST)
    signed_out, _ = await sessions.create_session(THERAPIST)
    await sessions.revoke_session(signed_out.id, SessionEndReason.LOGOUT)
    await stored_session(
        sessions,
        "token-from-yesterday",
        started=timedelta(hours=13),
        last_seen=timedelta(hours=13),
    )

    ended = await sessions.revoke_all_sessions(THERAPIST, "password_changed")

    assert ended == 1
    assert (await sessions.get(live.id)).revoked_reason is (
        SessionEndReason.PASSWORD_CHANGED
    )
    assert (await sessions.get(signed_out.id)).revoked_reason is (
        SessionEndReason.LOGOUT
    )


async def test_revoke_all_refuses_an_email_in_place_of_an_account_id(
    sessions: UserSessionRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await sessions.revoke_all_sessions("sarah.johnson@clinic.example", "logout")

    assert refused.value.field == "user_id"


async def test_active_sessions_lists_live_sessions_most_recently_used_first(
    sessions: UserSessionRepository,
) -> None:
    desk = await stored_session(
        sessions,
        "token-desk",
        started=timedelta(hours=4),
        last_seen=timedelta(minutes=25),
    )
    phone = await stored_session(
        sessions,
        "token-phone",
        started=timedelta(hours=1),
        last_seen=timedelta(minutes=2),
    )
    await stored_session(
        sessions,
        "token-idle-laptop",
        started=timedelta(hours=5),
        last_seen=timedelta(hours=1),
    )
    signed_out, _ = await sessions.create_session(THERAPIST)
    await sessions.revoke_session(signed_out.id, SessionEndReason.LOGOUT)
    await sessions.create_session(PATIENT)

    active = await sessions.active_sessions(THERAPIST)

    assert [session.id for session in active] == [phone.id, desk.id]


# ------------------------------------------------------------ no secrets out


async def test_no_token_reaches_a_log_line_or_an_error(
    sessions: UserSessionRepository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session, token = await sessions.create_session(THERAPIST, ip_address=HOME_IP)
    await sessions.validate_session(token)
    await sessions.revoke_all_sessions(THERAPIST, SessionEndReason.PASSWORD_CHANGED)

    with pytest.raises(SessionExpiredError) as refused:
        await sessions.validate_session(token)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert session.id in logged
    for secret in (token, HOME_IP, "2001:db8"):
        assert secret not in logged
        assert secret not in str(refused.value)


async def test_session_times_are_utc(sessions: UserSessionRepository) -> None:
    session, token = await sessions.create_session(PATIENT)

    checked = await sessions.validate_session(token)

    for moment in (checked.created_at, checked.last_seen_at, checked.expires_at):
        assert moment.utcoffset() == timedelta(0)
    assert checked.expires_at > datetime.now(UTC)
    assert session.id == checked.id
