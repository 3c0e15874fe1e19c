"""Security events: the seed's ``log_security_event`` call, fixed codes instead of
free text, an append-only record, and failed-sign-in bursts per account and per
address counted in the database exactly as the pure function counts them, on
both backends."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import SYSTEM, drop_and_close
from tests.support.care_data import stored_count, stored_document
from tests.support.models import TEST_MODELS
from wellness_repo import (
    AccessDeniedError,
    DatabaseManager,
    LoginBurst,
    SecurityEvent,
    SecurityEventDetail,
    SecurityEventType,
    SessionEndReason,
    ValidationError,
    connect,
    find_login_bursts,
    utc_now,
)
from wellness_repo.repositories.security_events import SecurityEventRepository
from wellness_repo.security.audit import AccessEvent
from wellness_repo.security.policy import Operation

THERAPIST = "therapist_456"
PATIENT = "patient_123"
NURSE = "nurse_221"
CLINIC_IP = "192.168.1.100"
ATTACKER_IP = "203.0.113.45"
ATTACKER_V6 = "2001:db8::dead:beef"
NOW = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
SINCE = NOW - timedelta(minutes=15)


@pytest.fixture
def events(db: DatabaseManager) -> SecurityEventRepository:
    return SecurityEventRepository(db)


class RecordingAuditor:
    """Keeps every access event, so a test can see what was audited."""

    def __init__(self) -> None:
        self.events: list[AccessEvent] = []

    async def record(self, event: AccessEvent) -> None:
        self.events.append(event)


@pytest.fixture
async def audited(
    backend: str, mongodb_uri: str
) -> AsyncIterator[tuple[SecurityEventRepository, RecordingAuditor]]:
    """A security-event repository whose every access is recorded."""
    auditor = RecordingAuditor()
    manager = await connect(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=True,
        auditor=auditor,
    )
    try:
        yield SecurityEventRepository(manager), auditor
    finally:
        await drop_and_close(manager)


def event(
    minutes_ago: float,
    event_type: SecurityEventType,
    *,
    user_id: str | None = THERAPIST,
    success: bool = False,
    ip_address: str | None = CLINIC_IP,
) -> SecurityEvent:
    """An event that happened ``minutes_ago`` before ``NOW``."""
    return SecurityEvent(
        user_id=user_id,
        event_type=event_type,
        success=success,
        ip_address=ip_address,
        occurred_at=NOW - timedelta(minutes=minutes_ago),
    )


def a_morning_of_sign_ins() -> list[SecurityEvent]:
    """A therapist mistyping, a credential-stuffing run against several accounts
    from one address, unknown emails tried from a second address, and the normal
    traffic around them."""
    failure = SecurityEventType.LOGIN_FAILURE
    return [
        # The therapist: four wrong passwords and a wrong code in the window,
        # two older failures before it, then a success.
        *(event(minutes, failure) for minutes in (14, 12, 9, 7)),
        event(6, SecurityEventType.MFA_FAILURE),
        *(event(minutes, failure) for minutes in (40, 20)),
        event(5, SecurityEventType.LOGIN_SUCCESS, success=True),
        event(5, SecurityEventType.MFA_SUCCESS, success=True),
        # The seed's style: a login_attempt that did not succeed counts too.
        event(3, SecurityEventType.LOGIN_ATTEMPT, user_id=NURSE),
        event(2, SecurityEventType.LOGIN_ATTEMPT, user_id=NURSE),
        event(1, SecurityEventType.LOGIN_ATTEMPT, user_id=NURSE, success=True),
        # Stuffing: three accounts from one address.
        *(
            event(minutes, failure, user_id=account, ip_address=ATTACKER_IP)
            for minutes, account in ((11, PATIENT), (10, NURSE), (8, THERAPIST))
        ),
        event(4, SecurityEventType.RECOVERY_CODE_USED, ip_address=ATTACKER_IP),
        # Unknown emails: no account, so they count per address only.
        *(
            event(minutes, failure, user_id=None, ip_address=ATTACKER_V6)
            for minutes in (13, 12.5, 12, 11.5, 11)
        ),
        # Not failures: a lockout and a denial are consequences, not guesses.
        event(6.5, SecurityEventType.ACCOUNT_LOCKED, success=True),
        event(2, SecurityEventType.ACCESS_DENIED, user_id=PATIENT),
        # A failure with no address known counts for the account only.
        event(1, failure, user_id=PATIENT, ip_address=None),
    ]


# ----------------------------------------------------------------- recording


async def test_the_seed_call_records_a_login_attempt(
    events: SecurityEventRepository,
) -> None:
    before = utc_now()

    logged = await events.log_security_event(
        user_id="user_123",
        event_type="login_attempt",
        success=True,
        ip_address="192.168.1.100",
    )

    assert logged.event_type is SecurityEventType.LOGIN_ATTEMPT
    assert (logged.user_id, logged.success, logged.ip_address) == (
        "user_123",
        True,
        "192.168.1.100",
    )
    assert logged.occurred_at >= before
    assert await events.get(logged.event_id) == logged


async def test_a_sign_in_with_an_unknown_email_is_recorded_without_an_account(
    events: SecurityEventRepository,
) -> None:
    logged = await events.log_security_event(
        None,
        SecurityEventType.LOGIN_FAILURE,
        False,
        ATTACKER_IP,
        detail=SecurityEventDetail.UNKNOWN_ACCOUNT,
    )

    assert logged.user_id is None
    assert logged.detail is SecurityEventDetail.UNKNOWN_ACCOUNT


@pytest.mark.parametrize("event_type", list(SecurityEventType))
async def test_every_event_type_is_accepted_by_its_value(
    events: SecurityEventRepository, event_type: SecurityEventType
) -> None:
    outcome = event_type not in (
        SecurityEventType.LOGIN_FAILURE,
        SecurityEventType.MFA_FAILURE,
        SecurityEventType.ACCESS_DENIED,
    )

    logged = await events.log_security_event(
        THERAPIST, event_type.value, outcome, CLINIC_IP
    )

    assert logged.event_type is event_type


async def test_a_session_end_is_recorded_with_its_reason_as_detail(
    db: DatabaseManager, events: SecurityEventRepository
) -> None:
    logged = await events.log_security_event(
        THERAPIST, "session_revoked", True, detail="password_changed"
    )

    assert logged.detail is SessionEndReason.PASSWORD_CHANGED
    assert (await stored_document(db, SecurityEvent, logged.id))[
        "detail"
    ] == "password_changed"


async def test_ipv6_addresses_are_stored_in_canonical_form(
    events: SecurityEventRepository,
) -> None:
    logged = await events.log_security_event(
        PATIENT, "login_success", True, "2001:0DB8:0000:0000:0000:0000:0000:0001"
    )

    assert logged.ip_address == "2001:db8::1"


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"event_type": "password_guessed"}, "event_type", "enum"),
        ({"event_type": None}, "event_type", "enum"),
        ({"ip_address": "192.168.1.300"}, "ip_address", "ip_address"),
        ({"ip_address": "10.0.0.1; DROP"}, "ip_address", "ip_address"),
        ({"ip_address": ""}, "ip_address", "ip_address"),
        ({"user_id": "sarah.johnson@clinic.example"}, "user_id", None),
        ({"success": "yes"}, "success", "bool_type"),
        ({"event_type": "login_failure", "success": True}, "success", None),
        ({"event_type": "login_success", "success": False}, "success", None),
    ],
)
async def test_bad_event_input_is_refused_by_field_and_nothing_is_written(
    db: DatabaseManager,
    events: SecurityEventRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    call: dict[str, Any] = {
        "user_id": THERAPIST,
        "event_type": "login_attempt",
        "success": False,
        "ip_address": CLINIC_IP,
        **arguments,
    }

    with pytest.raises(ValidationError) as refused:
        await events.log_security_event(**call)

    assert refused.value.field == field
    if rule is not None:
        assert refused.value.rule == rule
    assert await stored_count(db, SecurityEvent) == 0


async def test_an_event_stamped_with_a_naive_time_is_refused(
    db: DatabaseManager, events: SecurityEventRepository
) -> None:
    unchecked = SecurityEvent.model_construct(
        **{
            **dict(event(1, SecurityEventType.LOGIN_FAILURE)),
            "occurred_at": datetime(2026, 3, 9, 13, 59),
        }
    )

    with pytest.raises(ValidationError) as refused:
        await events.create(unchecked)

    assert (refused.value.field, refused.value.rule) == (
        "occurred_at",
        "timezone_required",
    )
    assert await stored_count(db, SecurityEvent) == 0


async def test_free_text_is_refused_as_detail(
    db: DatabaseManager, events: SecurityEventRepository
) -> None:
    with pytest.raises(ValidationError) as refused:
        await events.log_security_event(
            PATIENT,
            "login_failure",
            False,
            detail="Jordan Avery typed her old password",
        )

    assert (refused.value.field, refused.value.rule) == ("detail", "detail_code")
    assert "Jordan" not in str(refused.value)
    assert await stored_count(db, SecurityEvent) == 0


async def test_logging_an_event_writes_no_address_to_the_log(
    events: SecurityEventRepository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    logged = await events.log_security_event(
        PATIENT, "login_failure", False, ATTACKER_IP, detail="wrong_password"
    )

    lines = "\n".join(record.getMessage() for record in caplog.records)
    assert logged.id in lines
    assert ATTACKER_IP not in lines


# --------------------------------------------------------------- append-only


async def test_an_event_cannot_be_changed_and_the_refusal_is_audited(
    audited: tuple[SecurityEventRepository, RecordingAuditor],
) -> None:
    events, auditor = audited
    logged = await events.log_security_event(THERAPIST, "login_failure", False)
    hidden = logged.model_copy(update={"success": True, "event_type": "login_success"})

    with pytest.raises(AccessDeniedError):
        await events.update(hidden)
    with pytest.raises(AccessDeniedError):
        await events.patch(logged.id, {"user_id": NURSE})

    assert await events.get(logged.id) == logged
    denials = [entry for entry in auditor.events if entry.outcome == "denied"]
    assert [(entry.operation, entry.record_ids) for entry in denials] == [
        (Operation.UPDATE, (logged.id,)),
        (Operation.UPDATE, (logged.id,)),
    ]


async def test_an_event_cannot_be_deleted_and_the_refusal_is_audited(
    audited: tuple[SecurityEventRepository, RecordingAuditor],
) -> None:
    events, auditor = audited
    logged = await events.log_security_event(THERAPIST, "password_changed", True)

    with pytest.raises(AccessDeniedError):
        await events.delete(logged.id)

    assert await events.get(logged.id) == logged
    denials = [entry for entry in auditor.events if entry.outcome == "denied"]
    assert [(entry.operation, entry.record_ids) for entry in denials] == [
        (Operation.DELETE, (logged.id,))
    ]


# ------------------------------------------------------------------- bursts


async def test_bursts_per_account_count_failed_sign_ins_in_the_window(
    events: SecurityEventRepository,
) -> None:
    await events.create_many(a_morning_of_sign_ins())

    bursts = await events.failed_login_bursts(since=SINCE, threshold=2)

    assert bursts == [
        LoginBurst(
            THERAPIST, 7, NOW - timedelta(minutes=14), NOW - timedelta(minutes=4)
        ),
        LoginBurst(NURSE, 3, NOW - timedelta(minutes=10), NOW - timedelta(minutes=2)),
        LoginBurst(PATIENT, 2, NOW - timedelta(minutes=11), NOW - timedelta(minutes=1)),
    ]


async def test_bursts_per_address_include_attempts_on_unknown_accounts(
    events: SecurityEventRepository,
) -> None:
    await events.create_many(a_morning_of_sign_ins())

    bursts = await events.failed_login_bursts(since=SINCE, threshold=4, by="ip_address")

    assert bursts == [
        LoginBurst(
            CLINIC_IP, 7, NOW - timedelta(minutes=14), NOW - timedelta(minutes=2)
        ),
        LoginBurst(
            ATTACKER_V6, 5, NOW - timedelta(minutes=13), NOW - timedelta(minutes=11)
        ),
        LoginBurst(
            ATTACKER_IP, 4, NOW - timedelta(minutes=11), NOW - timedelta(minutes=4)
        ),
    ]


@pytest.mark.parametrize("by", ["user_id", "ip_address"])
@pytest.mark.parametrize("threshold", [1, 3, 5, 7, 8])
async def test_bursts_counted_in_the_database_match_the_pure_function(
    events: SecurityEventRepository, by: Any, threshold: int
) -> None:
    morning = a_morning_of_sign_ins()
    await events.create_many(morning)

    found = await events.failed_login_bursts(since=SINCE, threshold=threshold, by=by)

    assert found == find_login_bursts(morning, since=SINCE, threshold=threshold, by=by)


async def test_a_key_with_exactly_the_threshold_is_a_burst(
    events: SecurityEventRepository,
) -> None:
    await events.create_many(
        [event(m, SecurityEventType.LOGIN_FAILURE, user_id=NURSE) for m in (3, 2, 1)]
    )

    at_threshold = await events.failed_login_bursts(since=SINCE, threshold=3)
    above = await events.failed_login_bursts(since=SINCE, threshold=4)

    assert [burst.key for burst in at_threshold] == [NURSE]
    assert above == []


async def test_failures_before_the_window_do_not_count(
    events: SecurityEventRepository,
) -> None:
    await events.create_many(
        [event(m, SecurityEventType.LOGIN_FAILURE) for m in (16, 15, 14.99)]
    )

    bursts = await events.failed_login_bursts(since=SINCE, threshold=1)

    assert bursts == [
        LoginBurst(
            THERAPIST,
            2,
            NOW - timedelta(minutes=15),
            NOW - timedelta(minutes=14.99),
        )
    ]


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"since": datetime(2026, 3, 9, 13, 45)}, "since", "timezone_required"),
        ({"since": "an hour ago"}, "since", None),
        ({"threshold": 0}, "threshold", "greater_than_equal"),
        ({"threshold": True}, "threshold", "int_type"),
        ({"threshold": "5"}, "threshold", "int_type"),
        ({"by": "email"}, "by", "choice"),
    ],
)
async def test_bad_burst_queries_are_refused_by_field(
    events: SecurityEventRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    query: dict[str, Any] = {"since": SINCE, "threshold": 3, **arguments}

    with pytest.raises(ValidationError) as refused:
        await events.failed_login_bursts(**query)

    assert refused.value.field == field
    if rule is not None:
        assert refused.value.rule == rule


# ------------------------------------------------------------ recent events


async def test_recent_events_are_one_accounts_newest_first(
    events: SecurityEventRepository,
) -> None:
    await events.create_many(a_morning_of_sign_ins())

    recent = await events.recent_events(THERAPIST, limit=3)

    # Two events share 13:55; the one recorded first comes first.
    assert [(item.event_type, item.occurred_at) for item in recent] == [
        (SecurityEventType.RECOVERY_CODE_USED, NOW - timedelta(minutes=4)),
        (SecurityEventType.LOGIN_SUCCESS, NOW - timedelta(minutes=5)),
        (SecurityEventType.MFA_SUCCESS, NOW - timedelta(minutes=5)),
    ]
    assert {item.user_id for item in recent} == {THERAPIST}


async def test_recent_events_refuse_a_limit_beyond_the_page_size(
    db: DatabaseManager, events: SecurityEventRepository
) -> None:
    with pytest.raises(ValidationError) as refused:
        await events.recent_events(THERAPIST, limit=db.settings.max_page_size + 1)

    assert refused.value.field == "limit"


# ------------------------------------------------------------ pure function


def test_the_pure_function_leaves_out_events_without_the_key() -> None:
    failures = [
        event(1, SecurityEventType.LOGIN_FAILURE, user_id=None, ip_address=None),
        event(2, SecurityEventType.LOGIN_FAILURE, user_id=None, ip_address=None),
    ]

    assert find_login_bursts(failures, since=SINCE, threshold=1) == []
    assert find_login_bursts(failures, since=SINCE, threshold=1, by="ip_address") == []


def test_the_pure_function_orders_ties_by_the_latest_failure() -> None:
    failures = [
        event(9, SecurityEventType.LOGIN_FAILURE, user_id=PATIENT),
        event(3, SecurityEventType.LOGIN_FAILURE, user_id=NURSE),
    ]

    bursts = find_login_bursts(failures, since=SINCE, threshold=1)

    assert [burst.key for burst in bursts] == [NURSE, PATIENT]
