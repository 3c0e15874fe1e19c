"""Tampering with the stored audit trail behind the library's back, with plain
PyMongo, is found by ``verify_audit_chain`` at the entry it happened to; and an
access that cannot be audited does not succeed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.collection import Collection

from tests.conftest import SYSTEM, drop_and_close
from wellness_repo import (
    DatabaseManager,
    MoodEntry,
    RepositoryError,
    Settings,
    connect,
)
from wellness_repo.models.audit import ActionType
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.security.audit_chain import ChainProblem, ProblemKind
from wellness_repo.security.chained_auditor import ChainedAuditor
from wellness_repo.security.field_cipher import CsfleCipher

pytestmark = pytest.mark.integration

KEY_A = "a7" * 32
KEY_B = "5c" * 32
ACTIONS = [
    ("therapist_221", "Reviewed safety plan with the patient"),
    ("psychiatrist_310", "Adjusted sertraline to 100 mg"),
    ("nurse_118", "Recorded vitals before the session"),
    ("therapist_221", "Updated treatment goals after PHQ-9 of 14"),
    ("care_coordinator_7", "Scheduled a family meeting"),
    ("therapist_221", "Closed the crisis follow-up"),
    ("psychiatrist_310", "Ordered a lithium level"),
    ("therapist_221", "Shared the discharge summary with the primary care team"),
]


async def open_trail(uri: str, name: str, **options: Any) -> DatabaseManager:
    """A connection to the audit trail in database ``name``, as a fresh process
    (an auditor's) would open it."""
    return await connect(
        uri,
        name,
        context=SYSTEM,
        auditor=ChainedAuditor(),
        apply_indexes=True,
        **options,
    )


@pytest.fixture
async def trail(mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    """A database holding a chain of eight logged clinical actions."""
    db = await open_trail(mongodb_uri, f"tamper_{uuid.uuid4().hex[:12]}")
    audit = AuditLogRepository(db)
    for number, (actor, description) in enumerate(ACTIONS, start=1):
        await audit.log_action(
            actor,
            ActionType.UPDATE,
            "TreatmentPlan",
            f"plan_{number:03d}",
            description,
            patient_id="patient_4417",
        )
    try:
        yield db
    finally:
        await drop_and_close(db)


@pytest.fixture
def raw(mongodb_uri: str, trail: DatabaseManager) -> Iterator[Collection[Any]]:
    """The trail's collection through plain PyMongo, around the library."""
    with MongoClient(mongodb_uri) as client:
        yield client[trail.database_name]["audit_logs"]


def entry(raw: Collection[Any], sequence: float) -> dict[str, Any]:
    found = raw.find_one({"sequence": sequence})
    assert found is not None
    return found


async def verify_afresh(
    mongodb_uri: str, name: str, **options: Any
) -> ChainProblem | None:
    """Verify the chain from a new connection, which knows nothing of what was
    appended before."""
    expected_tail = options.pop("expected_tail", None)
    expected_mac = options.pop("expected_mac", None)
    db = await open_trail(mongodb_uri, name, **options)
    try:
        result = await AuditLogRepository(db).verify_audit_chain(
            batch_size=3, expected_tail=expected_tail, expected_mac=expected_mac
        )
    finally:
        await db.close()
    return result.problem


async def test_the_untouched_trail_verifies(
    mongodb_uri: str, trail: DatabaseManager
) -> None:
    assert await verify_afresh(mongodb_uri, trail.database_name) is None


async def test_a_changed_actor_is_found_as_modified(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    target = entry(raw, 3)
    raw.update_one({"_id": target["_id"]}, {"$set": {"user_id": "therapist_221"}})

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.MODIFIED, 3, target["_id"])


async def test_a_changed_description_is_found_as_modified(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    target = entry(raw, 6)
    raw.update_one(
        {"_id": target["_id"]}, {"$set": {"description": "Nothing happened"}}
    )

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.MODIFIED, 6, target["_id"])


async def test_a_recomputed_looking_mac_is_found_as_modified(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    target = entry(raw, 2)
    raw.update_one(
        {"_id": target["_id"]},
        {"$set": {"hipaa_relevant": False, "mac": "e3" * 32}},
    )

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.MODIFIED, 2, target["_id"])


async def test_a_deleted_entry_is_found_at_its_sequence(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    raw.delete_one({"sequence": 4})

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.DELETED, 4, entry(raw, 5)["_id"])


async def test_a_deletion_closed_up_by_renumbering_is_still_found(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    raw.delete_one({"sequence": 4})
    for sequence in range(5, 9):
        raw.update_one({"sequence": sequence}, {"$set": {"sequence": sequence - 1}})

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.DELETED, 4, entry(raw, 4)["_id"])


async def test_a_forged_entry_spliced_in_by_renumbering_is_found_as_inserted(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    for sequence in range(8, 4, -1):
        raw.update_one({"sequence": sequence}, {"$set": {"sequence": sequence + 1}})
    forged = {
        **entry(raw, 4),
        "_id": "65f0000000000000000f0a6e",
        "sequence": 5,
        "user_id": "therapist_221",
        "description": "Patient consented to share all notes",
        "prev_mac": entry(raw, 4)["mac"],
        "mac": "0b" * 32,
    }
    raw.insert_one(forged)

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.INSERTED, 5, forged["_id"])


async def test_a_forged_entry_slipped_between_two_sequences_is_found_as_inserted(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    forged = {**entry(raw, 6), "_id": "65f0000000000000000f0a6f", "sequence": 6.5}
    raw.insert_one(forged)

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.INSERTED, 7, forged["_id"])


async def test_two_swapped_entries_are_found_as_reordered(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    third, fourth = entry(raw, 3), entry(raw, 4)
    raw.update_one({"_id": third["_id"]}, {"$set": {"sequence": -3}})
    raw.update_one({"_id": fourth["_id"]}, {"$set": {"sequence": 3}})
    raw.update_one({"_id": third["_id"]}, {"$set": {"sequence": 4}})

    problem = await verify_afresh(mongodb_uri, trail.database_name)

    assert problem == ChainProblem(ProblemKind.REORDERED, 3, fourth["_id"])


async def test_a_truncated_tail_passes_without_a_remembered_tail(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    raw.delete_many({"sequence": {"$gte": 7}})

    assert await verify_afresh(mongodb_uri, trail.database_name) is None


async def test_a_truncated_tail_is_found_against_the_remembered_tail(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    remembered = entry(raw, 8)["mac"]
    raw.delete_many({"sequence": {"$gte": 7}})

    problem = await verify_afresh(
        mongodb_uri, trail.database_name, expected_tail=8, expected_mac=remembered
    )

    assert problem == ChainProblem(ProblemKind.DELETED, 7, None)


async def test_a_tail_cut_back_and_appended_to_again_is_found_by_its_mac(
    mongodb_uri: str, trail: DatabaseManager, raw: Collection[Any]
) -> None:
    remembered = entry(raw, 8)["mac"]
    raw.delete_many({"sequence": {"$gte": 7}})
    for _ in range(2):
        # Each verification is itself audited: the chain grows back to eight.
        await verify_afresh(mongodb_uri, trail.database_name)

    by_length = await verify_afresh(mongodb_uri, trail.database_name, expected_tail=8)
    by_mac = await verify_afresh(
        mongodb_uri, trail.database_name, expected_tail=8, expected_mac=remembered
    )

    assert by_length is None
    assert by_mac == ChainProblem(ProblemKind.DELETED, 8, entry(raw, 8)["_id"])


async def test_a_trail_verified_with_another_key_fails_at_its_first_entry(
    mongodb_uri: str,
) -> None:
    name = f"tamper_{uuid.uuid4().hex[:12]}"
    writer = await open_trail(mongodb_uri, name, settings=Settings(audit_key=KEY_A))
    try:
        first = await AuditLogRepository(writer).log_action(
            "therapist_221", ActionType.READ, "TherapySession", "session_001", "Read"
        )

        right = await verify_afresh(
            mongodb_uri, name, settings=Settings(audit_key=KEY_A)
        )
        wrong = await verify_afresh(
            mongodb_uri, name, settings=Settings(audit_key=KEY_B)
        )
    finally:
        await drop_and_close(writer)

    assert right is None
    assert wrong == ChainProblem(ProblemKind.MODIFIED, 1, first.id)


async def test_verifying_an_encrypted_trail_needs_no_decryption_key(
    mongodb_uri: str,
) -> None:
    name = f"tamper_{uuid.uuid4().hex[:12]}"
    writer = await open_trail(mongodb_uri, name, cipher=CsfleCipher())
    try:
        logged = await AuditLogRepository(writer).log_action(
            "psychiatrist_310",
            ActionType.UPDATE,
            "MedicationOrder",
            "order_0042",
            "Started lithium 300 mg twice daily",
            old_values={"dose_mg": 0},
            new_values={"dose_mg": 600},
        )
        with MongoClient(mongodb_uri) as client:
            stored = client[name]["audit_logs"].find_one({"_id": logged.id})

        without_keys = await verify_afresh(mongodb_uri, name)
    finally:
        await drop_and_close(writer)

    assert stored is not None
    assert stored["description"].subtype == 6
    assert without_keys is None


async def test_an_access_that_cannot_be_audited_fails_and_returns_nothing(
    mongodb_uri: str, trail: DatabaseManager
) -> None:
    moods = MoodEntryRepository(trail)
    entry = await moods.create(MoodEntry(user_id="patient_4417", mood_rating=4))
    # The server now refuses every new audit entry, as a full disk or a revoked
    # privilege would.
    await trail.database.command(
        "collMod", "audit_logs", validator={"no_such_field": {"$exists": True}}
    )

    with pytest.raises(RepositoryError) as failed:
        await moods.get(entry.id)

    assert type(failed.value) is RepositoryError
    assert "audit trail could not record" in str(failed.value)
