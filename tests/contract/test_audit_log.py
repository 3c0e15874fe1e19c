"""The audit trail on both backends: actions services log, every repository access
recorded automatically (denials too), the append-only API, verification, the
compliance reports, encryption of what may be PHI, and ``wellness-repo audit
verify``."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson.binary import Binary
from pymongo import MongoClient

from tests.conftest import SYSTEM, drop_and_close
from tests.support.models import TEST_MODELS
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    DatabaseManager,
    MoodEntry,
    PurposeOfUse,
    Settings,
    UserRole,
    ValidationError,
    acting_as,
    connect,
    connect_sync,
    utc_now,
)
from wellness_repo.cli import main
from wellness_repo.models.audit import ActionType, AuditLog, AuditOutcome
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.audit_reports import DisclosureRecord
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repository.sync import BaseRepository
from wellness_repo.security.chained_auditor import ChainedAuditor
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.role_policy import RolePolicy

PATIENT = "patient_4417"
OTHER_PATIENT = "patient_5120"
THERAPIST = AccessContext("therapist_221", UserRole.THERAPIST)
AUDITOR = AccessContext("auditor_007", UserRole.AUDITOR, PurposeOfUse.AUDIT)
AS_PATIENT = AccessContext(PATIENT, UserRole.PATIENT, PurposeOfUse.PATIENT_REQUEST)
PLAN_CHANGE = "Updated treatment plan after the week-6 PHQ-9 review"
MOOD_NOTE = "Slept four hours; argued with my sister about the funeral"


async def open_audited(backend: str, uri: str, **options: Any) -> DatabaseManager:
    """A fresh database whose pipeline records every access in the audit chain."""
    return await connect(
        None if backend == "embedded" else uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=True,
        policy=RolePolicy(),
        auditor=ChainedAuditor(),
        **options,
    )


@pytest.fixture
async def audited(backend: str, mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    manager = await open_audited(backend, mongodb_uri)
    try:
        yield manager
    finally:
        await drop_and_close(manager)


@pytest.fixture
def audit(audited: DatabaseManager) -> AuditLogRepository:
    return AuditLogRepository(audited)


async def stored_chain(db: DatabaseManager) -> list[dict[str, Any]]:
    """Every entry as stored, in chain order, read behind the repository."""
    cursor = db.database["audit_logs"].find({}, sort=[("sequence", 1)])
    entries: list[dict[str, Any]] = await cursor.to_list(None)
    return entries


async def seed_plan_update(audit: AuditLogRepository, **changes: Any) -> AuditLog:
    """The seed's example: a clinician's update of a treatment plan."""
    arguments: dict[str, Any] = {
        "user_id": "therapist_221",
        "action_type": ActionType.UPDATE,
        "resource_type": "patient_record",
        "resource_id": "patient_456",
        "description": PLAN_CHANGE,
        "hipaa_relevant": True,
        "old_values": {"status": "draft"},
        "new_values": {"status": "active"},
    }
    arguments.update(changes)
    return await audit.log_action(**arguments)


# ------------------------------------------------------------------ log_action


async def test_a_logged_action_reads_back_as_the_seed_wrote_it(
    audit: AuditLogRepository,
) -> None:
    logged = await seed_plan_update(audit)

    stored = await audit.get(logged.audit_id)

    assert stored.action_type is ActionType.UPDATE
    assert (stored.user_id, stored.resource_type, stored.resource_id) == (
        "therapist_221",
        "patient_record",
        "patient_456",
    )
    assert stored.description == PLAN_CHANGE
    assert (stored.old_values, stored.new_values) == (
        {"status": "draft"},
        {"status": "active"},
    )
    assert stored.changed_fields == ["status"]
    assert stored.hipaa_relevant
    assert stored.outcome is AuditOutcome.OK


async def test_each_logged_action_links_to_the_entry_before_it(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    first = await seed_plan_update(audit)
    second = await seed_plan_update(audit, resource_id="patient_457")

    chain = await stored_chain(audited)

    assert (first.sequence, second.sequence) == (1, 2)
    assert second.prev_mac == first.mac
    assert [entry["mac"] for entry in chain] == [first.mac, second.mac]


async def test_an_action_logged_for_another_user_names_who_recorded_it(
    audit: AuditLogRepository,
) -> None:
    logged = await seed_plan_update(audit)

    assert logged.user_id == "therapist_221"
    assert logged.recorded_by == SYSTEM.actor_id


async def test_an_action_logged_by_the_actor_names_no_recorder(
    audit: AuditLogRepository,
) -> None:
    with acting_as(THERAPIST):
        logged = await seed_plan_update(audit)

    assert logged.recorded_by is None
    assert logged.role is UserRole.THERAPIST


PATTERN = "string_pattern_mismatch"
BAD_ACTIONS: list[tuple[dict[str, Any], str, str]] = [
    ({"action_type": "shred"}, "action_type", "enum"),
    ({"description": "  "}, "description", "required"),
    ({"resource_id": "Jordan Avery's chart"}, "resource_ids.0", PATTERN),
    ({"resource_type": "patient record"}, "resource_type", PATTERN),
    ({"user_id": ""}, "user_id", PATTERN),
    ({"old_values": ["status"]}, "old_values", "type"),
    ({"new_values": {"$set": "active"}}, "new_values", "field_name"),
    ({"new_values": {"photo": object()}}, "new_values", "storable"),
    ({"purpose": "curiosity"}, "purpose", "enum"),
    ({"hipaa_relevant": "yes"}, "hipaa_relevant", "bool_type"),
    ({"outcome": "partial"}, "outcome", "enum"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "rule"), BAD_ACTIONS)
async def test_a_bad_argument_to_log_action_is_named_and_nothing_is_written(
    audited: DatabaseManager,
    audit: AuditLogRepository,
    change: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await seed_plan_update(audit, **change)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert await stored_chain(audited) == []


async def test_the_blocking_facade_logs_the_seeds_action() -> None:
    with connect_sync(context=SYSTEM, auditor=ChainedAuditor()) as db:
        repo: BaseRepository[AuditLog] = BaseRepository(
            AuditLogRepository(db.manager), db
        )

        audit_entry = repo.log_action(
            user_id="user_123",
            action_type=ActionType.UPDATE,
            resource_type="patient_record",
            resource_id="patient_456",
            description="Updated treatment plan",
            hipaa_relevant=True,
            old_values={"status": "draft"},
            new_values={"status": "active"},
        )

        assert audit_entry.sequence == 1
        assert repo.verify_audit_chain().ok


# ------------------------------------------------------------ automatic audit


async def test_a_read_is_recorded_with_the_ids_returned_and_the_query_shape(
    audited: DatabaseManager,
) -> None:
    moods = MoodEntryRepository(audited)
    entry = await moods.create(
        MoodEntry(user_id=PATIENT, mood_rating=3, notes=MOOD_NOTE)
    )

    await moods.find_by(user_id=PATIENT, mood_rating__lte=4)

    chain = await stored_chain(audited)
    # The crisis hook's read of the daily averages is audited between the two.
    created = next(found for found in chain if found["action_type"] == "create")
    read = chain[-1]
    assert created["resource_ids"] == [entry.id]
    assert created["patient_ids"] == [PATIENT]
    assert (read["action_type"], read["resource_type"]) == ("read", "MoodEntry")
    assert read["resource_ids"] == [entry.id]
    assert read["patient_ids"] == [PATIENT]
    assert "user_id" in read["query_shape"]
    assert PATIENT not in read["query_shape"]
    assert MOOD_NOTE not in str(read)


async def test_a_denied_access_is_recorded_as_denied(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    with acting_as(AS_PATIENT), pytest.raises(AccessDeniedError):
        await audit.list_all()

    (denied,) = await stored_chain(audited)
    assert (denied["user_id"], denied["role"]) == (PATIENT, "patient")
    assert (denied["action_type"], denied["resource_type"]) == ("read", "AuditLog")
    assert denied["outcome"] == "denied"
    assert denied["hipaa_relevant"]


async def test_a_break_glass_read_is_flagged_with_its_reason(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    moods = MoodEntryRepository(audited)
    entry = await moods.create(MoodEntry(user_id=PATIENT, mood_rating=2))
    reason = "Patient reported intent to self-harm; on-call psychiatrist reviewing"
    emergency = AccessContext(
        "psychiatrist_310",
        UserRole.PSYCHIATRIST,
        PurposeOfUse.EMERGENCY,
        emergency_reason=reason,
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )

    with acting_as(emergency):
        await moods.get(entry.id)

    flagged = await audit.get((await stored_chain(audited))[-1]["_id"])
    assert flagged.emergency
    assert flagged.emergency_reason == reason
    assert flagged.purpose is PurposeOfUse.EMERGENCY
    assert flagged.resource_ids == [entry.id]


# ---------------------------------------------------------------- append-only

REFUSED_WRITES: list[tuple[str, str, Callable[..., Awaitable[Any]]]] = [
    ("create", "create", lambda repo, entry: repo.create(entry)),
    ("create_many", "create", lambda repo, entry: repo.create_many([entry])),
    ("update", "update", lambda repo, entry: repo.update(entry)),
    ("patch", "update", lambda repo, entry: repo.patch(entry.id, {"user_id": "x"})),
    ("delete", "delete", lambda repo, entry: repo.delete(entry.id)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "operation", "write"), REFUSED_WRITES, ids=[w[0] for w in REFUSED_WRITES]
)
async def test_writes_other_than_appending_are_refused_and_audited(
    audited: DatabaseManager,
    audit: AuditLogRepository,
    name: str,
    operation: str,
    write: Callable[..., Awaitable[Any]],
) -> None:
    logged = await seed_plan_update(audit)
    before = (await stored_chain(audited))[0]

    with pytest.raises(AccessDeniedError, match="append-only"):
        await write(audit, logged)

    original, refusal = await stored_chain(audited)
    assert original == before
    assert (refusal["action_type"], refusal["outcome"]) == (operation, "denied")
    assert refusal["resource_type"] == "AuditLog"


async def test_migrating_stored_entries_rewrites_none(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    await seed_plan_update(audit)
    before = await stored_chain(audited)

    upgraded = await audit.migrate_stored()

    assert upgraded == 0
    assert await stored_chain(audited) == before


# ------------------------------------------------------------------ verifying


async def test_an_untouched_trail_verifies(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    for patient in ("patient_456", "patient_457", "patient_458"):
        await seed_plan_update(audit, resource_id=patient)
    await MoodEntryRepository(audited).find_by(user_id=PATIENT)

    result = await audit.verify_audit_chain(batch_size=2)

    assert result.ok
    assert result.entries_checked == 4
    assert result.last_sequence == 4


async def test_an_auditor_may_verify_the_trail(audit: AuditLogRepository) -> None:
    await seed_plan_update(audit)

    with acting_as(AUDITOR):
        result = await audit.verify_audit_chain()

    assert result.ok


async def test_a_clinician_may_not_verify_the_trail(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    with acting_as(THERAPIST), pytest.raises(AccessDeniedError):
        await audit.verify_audit_chain()

    (denied,) = await stored_chain(audited)
    assert (denied["user_id"], denied["outcome"]) == ("therapist_221", "denied")


async def test_a_deleted_last_entry_is_found_by_the_process_that_wrote_it(
    audited: DatabaseManager, audit: AuditLogRepository
) -> None:
    await seed_plan_update(audit)
    last = await seed_plan_update(audit, resource_id="patient_457")
    await audited.database["audit_logs"].delete_one({"_id": last.id})

    result = await audit.verify_audit_chain()

    assert not result.ok
    assert result.problem is not None
    assert (result.problem.kind.value, result.problem.sequence) == ("deleted", 2)


async def test_a_missing_key_is_a_startup_error_when_keys_are_required(
    backend: str, mongodb_uri: str
) -> None:
    # The encryption key is given, so only the audit key is missing.
    settings = Settings(
        require_keys=True,
        local_master_key=base64.b64encode(os.urandom(96)).decode(),
    )

    with pytest.raises(ValidationError) as refused:
        await open_audited(backend, mongodb_uri, settings=settings)

    assert (refused.value.field, refused.value.rule) == ("audit_key", "required")


# -------------------------------------------------------------------- reports


async def test_hipaa_relevant_logs_are_those_of_the_period_oldest_first(
    audit: AuditLogRepository,
) -> None:
    await seed_plan_update(audit, description="Opened intake assessment")
    await asyncio.sleep(0.01)
    start = utc_now()
    await seed_plan_update(audit, description="Changed medication plan")
    await seed_plan_update(
        audit, description="Renamed a report template", hipaa_relevant=False
    )
    await seed_plan_update(audit, description="Closed crisis follow-up")
    end = utc_now()

    with acting_as(AUDITOR):
        first = await audit.get_hipaa_relevant_logs(start, end, limit=1)
        second = await audit.get_hipaa_relevant_logs(
            start, end, limit=1, after=first.next_cursor
        )

    assert [entry.description for entry in first.items] == ["Changed medication plan"]
    assert [entry.description for entry in second.items] == ["Closed crisis follow-up"]
    assert second.next_cursor is None


async def test_a_report_period_must_be_timezone_aware(
    audit: AuditLogRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await audit.get_hipaa_relevant_logs(
            datetime(2024, 1, 1), datetime(2024, 12, 31, tzinfo=UTC)
        )

    assert (refused.value.field, refused.value.rule) == (
        "start_date",
        "timezone_required",
    )


async def test_a_report_period_may_not_end_before_it_starts(
    audit: AuditLogRepository,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await audit.get_hipaa_relevant_logs(
            datetime(2024, 12, 31, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
        )

    assert (refused.value.field, refused.value.rule) == ("end_date", "after_start")


async def test_failed_actions_are_counted_per_actor_and_per_kind_of_record(
    audit: AuditLogRepository,
) -> None:
    since = utc_now()
    for _ in range(2):
        await seed_plan_update(
            audit,
            action_type=ActionType.LOGIN,
            resource_type="UserAccount",
            resource_id="account_221",
            description="Sign-in refused: wrong password",
            outcome=AuditOutcome.FAILED,
        )
    await seed_plan_update(
        audit,
        user_id="nurse_310",
        action_type=ActionType.ACCESS_DENIED,
        resource_type="TherapySession",
        resource_id="session_0042",
        description="Opened a session outside her care team",
        outcome=AuditOutcome.DENIED,
    )
    await seed_plan_update(audit, description="An ordinary, successful update")
    with acting_as(AS_PATIENT), pytest.raises(AccessDeniedError):
        await audit.list_all()

    with acting_as(AUDITOR):
        summary = await audit.failed_actions(since)

    assert summary.total == 4
    assert summary.by_actor == (
        ("therapist_221", 2),
        ("nurse_310", 1),
        (PATIENT, 1),
    )
    assert summary.by_resource_type == (
        ("UserAccount", 2),
        ("AuditLog", 1),
        ("TherapySession", 1),
    )


async def test_failed_actions_leave_out_those_after_the_window(
    audit: AuditLogRepository,
) -> None:
    since = utc_now()
    await seed_plan_update(audit, outcome=AuditOutcome.FAILED)
    until = utc_now() + timedelta(milliseconds=1)
    await asyncio.sleep(0.01)
    await seed_plan_update(audit, outcome=AuditOutcome.FAILED)

    summary = await audit.failed_actions(since, until=until)

    assert summary.total == 1


async def test_the_accounting_of_disclosures_lists_only_what_hipaa_requires(
    audit: AuditLogRepository,
) -> None:
    start = utc_now()

    async def disclose(**changes: Any) -> AuditLog:
        arguments: dict[str, Any] = {
            "user_id": "records_clerk_12",
            "action_type": ActionType.DISCLOSE,
            "resource_type": "patient_record",
            "resource_id": PATIENT,
            "patient_id": PATIENT,
            "description": "Released the discharge summary",
            "purpose": PurposeOfUse.PATIENT_REQUEST,
            "recipient": "Valley Life Insurance",
        }
        arguments.update(changes)
        return await audit.log_action(**arguments)

    insurer = await disclose()
    await disclose(purpose=PurposeOfUse.TREATMENT, recipient="Riverside Clinic")
    await disclose(purpose=PurposeOfUse.PAYMENT, recipient="Blue Harbor Health Plan")
    await disclose(action_type=ActionType.EXPORT, user_id=PATIENT, recipient=None)
    await disclose(patient_id=OTHER_PATIENT, resource_id=OTHER_PATIENT)
    await disclose(action_type=ActionType.READ, purpose=PurposeOfUse.AUDIT)
    await disclose(outcome=AuditOutcome.DENIED, recipient="Unverified caller")
    oversight = await disclose(
        user_id="compliance_officer_3",
        purpose=PurposeOfUse.AUDIT,
        recipient="State Department of Health",
        description="Records produced for a licensing investigation",
    )

    with acting_as(AUDITOR):
        rows = await audit.accounting_of_disclosures(PATIENT, start, utc_now())

    assert rows == [
        DisclosureRecord(
            insurer.at,
            "Valley Life Insurance",
            "Released the discharge summary",
            PurposeOfUse.PATIENT_REQUEST,
        ),
        DisclosureRecord(
            oversight.at,
            "State Department of Health",
            "Records produced for a licensing investigation",
            PurposeOfUse.AUDIT,
        ),
    ]


# ----------------------------------------------------------------- encryption


async def test_what_may_be_phi_is_stored_encrypted_and_still_verifies(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_audited(backend, mongodb_uri, cipher=CsfleCipher())
    try:
        audit = AuditLogRepository(db)
        logged = await seed_plan_update(audit, recipient="Valley Life Insurance")

        (stored,) = await stored_chain(db)
        result = await audit.verify_audit_chain()
        read_back = await audit.get(logged.id)
    finally:
        await drop_and_close(db)

    for field in ("description", "old_values", "new_values", "recipient"):
        assert isinstance(stored[field], Binary)
        assert stored[field].subtype == 6
    assert PLAN_CHANGE.encode() not in b"".join(
        bytes(stored[field]) for field in ("description", "recipient")
    )
    assert result.ok
    assert read_back.description == PLAN_CHANGE
    assert read_back.recipient == "Valley Life Insurance"


# ------------------------------------------------------------------------ CLI


async def test_the_audit_verify_command_passes_then_names_the_changed_entry(
    mongodb_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = await connect(
        mongodb_uri,
        f"cli_{uuid.uuid4().hex[:12]}",
        context=SYSTEM,
        auditor=ChainedAuditor(),
        apply_indexes=True,
    )
    where = ["--uri", mongodb_uri, "--database", db.database_name]
    try:
        audit = AuditLogRepository(db)
        await seed_plan_update(audit)
        changed = await seed_plan_update(audit, resource_id="patient_457")
        await seed_plan_update(audit, resource_id="patient_458")

        intact = await asyncio.to_thread(main, ["audit", "verify", *where])
        with MongoClient(mongodb_uri) as raw:
            raw[db.database_name]["audit_logs"].update_one(
                {"_id": changed.id}, {"$set": {"user_id": "admin_001"}}
            )
        broken = await asyncio.to_thread(main, ["audit", "verify", *where])
    finally:
        await drop_and_close(db)

    printed = capsys.readouterr().out
    assert (intact, broken) == (0, 1)
    assert "audit chain intact: 3 entries" in printed
    assert f"broken at sequence 2 (entry {changed.id}): modified" in printed
    assert PLAN_CHANGE not in printed
    assert "admin_001" not in printed


def test_the_audit_verify_command_refuses_a_malformed_remembered_mac(
    mongodb_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--uri", mongodb_uri, "--database", f"cli_{uuid.uuid4().hex[:12]}"]

    code = main(
        ["audit", "verify", *where, "--expected-tail", "3", "--expected-mac", "x"]
    )

    assert code == 2
    assert "expected_mac" in capsys.readouterr().err
