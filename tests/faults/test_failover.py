"""Killing the primary of a three-node replica set in the middle of a stream of
repository writes: after the failover every write the caller saw succeed is
stored exactly once, every other write failed with a ``RepositoryError``, and
the audit chain still verifies.

The stream runs once per module (a failover costs seconds); each test checks one
promise about what the run left behind.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import PyMongoError

from tests.conftest import SYSTEM, cipher_for
from tests.support.fault_cluster import FaultCluster
from tests.support.models import TEST_MODELS
from wellness_repo import (
    DatabaseManager,
    JournalEntry,
    JournalRepository,
    MoodEntry,
    MoodEntryRepository,
    RepositoryError,
    connect,
)
from wellness_repo.config import Settings
from wellness_repo.models.audit import AuditLog
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.security.audit_chain import ChainVerification
from wellness_repo.security.policy import PermitAllPolicy

pytestmark = [pytest.mark.integration, pytest.mark.faults]

WRITES = 300
WRITERS = 6
KILL_AFTER = 100
"""Acknowledged writes before the primary is killed."""
PATIENTS = ("patient_123", "patient_456", "patient_789")
# A patient writer waits this long for a new primary before it fails, longer
# than the two to four seconds an election on the test set takes; an impatient
# one gives up within the election, so the failure path is taken too.
PATIENT_SELECTION_MS = 8_000
IMPATIENT_SELECTION_MS = 300


@dataclass
class FailoverRun:
    """What one stream of writes across a failover left behind."""

    database: str
    client_options: Any = None
    first_primary: int = 0
    killed_primary: int | None = None
    new_primary: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)
    """Marker -> id of each write the caller saw succeed."""
    failed: dict[str, BaseException] = field(default_factory=dict)
    """Marker -> what each failed write raised."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Marker -> the entity written."""
    stored: dict[str, int] = field(default_factory=dict)
    """Marker -> stored records carrying it, read after the failover."""
    audited: dict[str, int] = field(default_factory=dict)
    """Acknowledged record id -> audit entries recording its creation."""
    verification: ChainVerification | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    """Phase -> how long it took, for the printed summary."""
    command: subprocess.CompletedProcess[str] | None = None


def mood_check_in(marker: str, patient: str) -> MoodEntry:
    """An evening check-in after a steady day; ``marker`` tags this one write."""
    return MoodEntry(
        user_id=patient,
        mood_rating=6,
        contributing_factors=["Good sleep"],
        triggers=["Work stress"],
        notes="Managed the team meeting without a panic attack.",
        tags=[marker],
    )


def journal_entry(marker: str, patient: str) -> JournalEntry:
    """A free-writing entry without crisis language; ``marker`` tags it."""
    return JournalEntry(
        user_id=patient,
        title="Evening reflection",
        content="Walked for twenty minutes after work and noticed I felt calmer.",
        mood_before=5,
        mood_after=6,
        tags=[marker],
    )


async def write_stream(
    managers: tuple[DatabaseManager, ...], cluster: FaultCluster, run: FailoverRun
) -> None:
    """``WRITERS`` tasks, spread over ``managers``, write ``WRITES`` records
    between them: mood entries (a transaction with the crisis hook) and journal
    entries (one retryable insert), all audited. The primary is killed after
    ``KILL_AFTER`` acknowledgements, and the writers carry on."""
    markers = iter(f"fault-{n:04d}" for n in range(WRITES))
    patients = itertools.cycle(PATIENTS)

    async def write(db: DatabaseManager, marker: str) -> str:
        patient = next(patients)
        if int(marker[-4:]) % 2:
            run.kinds[marker] = JournalEntry.entity_name()
            entry = journal_entry(marker, patient)
            return (await JournalRepository(db).create(entry)).id
        run.kinds[marker] = MoodEntry.entity_name()
        return (await MoodEntryRepository(db).create(mood_check_in(marker, patient))).id

    async def writer(db: DatabaseManager) -> None:
        for marker in markers:
            try:
                run.acknowledged[marker] = await write(db, marker)
            except Exception as exc:
                run.failed[marker] = exc
                continue
            if len(run.acknowledged) >= KILL_AFTER and run.killed_primary is None:
                run.killed_primary = run.first_primary
                cluster.kill(run.first_primary)

    writers = (writer(managers[n % len(managers)]) for n in range(WRITERS))
    await asyncio.wait_for(asyncio.gather(*writers), timeout=90)


async def read_back(db: DatabaseManager, run: FailoverRun) -> None:
    """Count the stored records of each marker and the audit entries of each
    acknowledged record, then verify the audit chain."""
    for model in (MoodEntry, JournalEntry):
        cursor = await db.collection(model).aggregate(
            [
                {"$unwind": "$tags"},
                {"$match": {"tags": {"$regex": "^fault-"}}},
                {"$group": {"_id": "$tags", "n": {"$sum": 1}}},
            ]
        )
        async for row in cursor:
            run.stored[row["_id"]] = run.stored.get(row["_id"], 0) + row["n"]
    ids = set(run.acknowledged.values())
    entries = db.collection(AuditLog).find(
        {"action_type": "create", "resource_ids": {"$in": list(ids)}},
        {"resource_ids": 1},
    )
    async for entry in entries:
        for record_id in set(entry["resource_ids"]) & ids:
            run.audited[record_id] = run.audited.get(record_id, 0) + 1
    run.verification = await AuditLogRepository(db).verify_audit_chain()


async def open_fault_database(
    cluster: FaultCluster, name: str, selection_ms: int
) -> DatabaseManager:
    """A connection to ``name`` on the fault set with the default audit chain
    and the real field cipher, waiting ``selection_ms`` for a primary."""
    return await connect(
        cluster.uri,
        name,
        context=SYSTEM,
        settings=Settings(server_selection_timeout_ms=selection_ms),
        document_models=TEST_MODELS,
        apply_indexes=True,
        policy=PermitAllPolicy(),
        cipher=cipher_for(name),
    )


async def fail_over(cluster: FaultCluster, run: FailoverRun) -> None:
    """Write across a killed primary from a patient and an impatient client,
    read back, and bring the node back."""
    patient = await open_fault_database(cluster, run.database, PATIENT_SELECTION_MS)
    impatient = await open_fault_database(cluster, run.database, IMPATIENT_SELECTION_MS)
    try:
        run.client_options = patient.client.options
        run.first_primary = cluster.primary_port()
        started = time.perf_counter()
        try:
            await write_stream((patient, impatient), cluster, run)
            run.seconds["writes"] = time.perf_counter() - started
            run.new_primary = cluster.primary_port()
            await read_back(patient, run)
            run.seconds["read back"] = time.perf_counter() - started
        finally:
            await asyncio.to_thread(cluster.restart_stopped_nodes)
            run.seconds["node back"] = time.perf_counter() - started
    finally:
        await impatient.close()
        await patient.close()


@pytest.fixture(scope="module")
def failover(fault_cluster: FaultCluster) -> Iterator[FailoverRun]:
    """One stream of ``WRITES`` writes across a killed primary, then the
    ``wellness-repo audit verify`` command run on the database it wrote."""
    run = FailoverRun(database=f"fault_{uuid.uuid4().hex[:12]}")
    command = str(Path(sys.executable).parent / "wellness-repo")

    async def drop() -> None:
        db = await connect(fault_cluster.uri, run.database, apply_indexes=False)
        await db.client.drop_database(run.database)
        await db.close()

    # A module fixture runs outside any test's event loop: it gets its own.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, fail_over(fault_cluster, run)).result()
        run.command = subprocess.run(
            [command, "audit", "verify", "--uri", fault_cluster.uri,
             "--database", run.database],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        print(
            "\n" + ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items()),
            f"\nfailover {run.first_primary} -> {run.new_primary}: "
            f"{len(run.acknowledged)} acknowledged, {len(run.failed)} failed "
            f"({sum(run.stored.get(m, 0) for m in run.failed)} of those stored): "
            + ", ".join(
                f"{n} x {kind}"
                for kind, n in Counter(
                    f"{type(e).__name__}({e.message})"
                    for e in run.failed.values()
                    if isinstance(e, RepositoryError)
                ).items()
            ),
        )
        try:
            yield run
        finally:
            worker.submit(asyncio.run, drop()).result()


def test_the_client_writes_with_retries_and_majority_acknowledgement(
    failover: FailoverRun,
) -> None:
    assert failover.client_options.retry_writes is True
    assert failover.client_options.write_concern.document == {"w": "majority"}


def test_the_primary_was_killed_mid_stream_and_another_node_took_over(
    failover: FailoverRun,
) -> None:
    assert failover.killed_primary == failover.first_primary
    assert failover.new_primary not in (0, failover.first_primary)
    assert len(failover.acknowledged) + len(failover.failed) == WRITES
    assert len(failover.acknowledged) > KILL_AFTER


def test_every_acknowledged_write_is_stored_exactly_once(
    failover: FailoverRun,
) -> None:
    stored = {
        marker: failover.stored.get(marker, 0) for marker in failover.acknowledged
    }

    assert stored == dict.fromkeys(failover.acknowledged, 1)


def test_a_failed_write_is_stored_at_most_once_and_nothing_else_is_stored(
    failover: FailoverRun,
) -> None:
    # A write can fail after its record landed (stored, but the audit append
    # was cut off): it is reported failed, and still never stored twice.
    assert all(failover.stored.get(marker, 0) <= 1 for marker in failover.failed)
    assert set(failover.stored) <= set(failover.acknowledged) | set(failover.failed)


def test_some_writes_failed_while_no_primary_was_elected(
    failover: FailoverRun,
) -> None:
    # The impatient client gives up within the election: the failure path below
    # is really taken, not vacuously true.
    assert failover.failed


def test_every_failed_write_raised_a_repository_error(failover: FailoverRun) -> None:
    errors = list(failover.failed.values())
    kinds = sorted({type(error).__name__ for error in errors})

    assert all(isinstance(error, RepositoryError) for error in errors), kinds
    assert not any(isinstance(error, PyMongoError) for error in errors), kinds


def test_a_failed_write_says_the_database_was_unreachable_without_values(
    failover: FailoverRun,
) -> None:
    for error in failover.failed.values():
        assert isinstance(error, RepositoryError)
        assert "could not be reached" in str(error) or "could not record" in str(
            error
        ), str(error)
        assert "fault-" not in str(error)
        assert "panic" not in str(error)


def test_the_driver_error_is_translated_once_and_kept_as_the_root_cause(
    failover: FailoverRun,
) -> None:
    for error in failover.failed.values():
        chain: list[BaseException] = [error]
        while isinstance(chain[-1], RepositoryError) and chain[-1].cause is not None:
            chain.append(chain[-1].cause)
        *translated, root = chain
        assert isinstance(root, PyMongoError), [type(e).__name__ for e in chain]
        assert all(isinstance(e, RepositoryError) for e in translated)


def test_each_acknowledged_write_is_audited(failover: FailoverRun) -> None:
    ids = set(failover.acknowledged.values())

    assert set(failover.audited) == ids


def test_only_transactional_writes_are_audited_more_than_once(
    failover: FailoverRun,
) -> None:
    # A mood entry is written in a transaction with the crisis hook. A commit cut
    # off by the failover aborts it, the hook runs it again, and the audit keeps
    # the aborted attempt too: it records what was attempted. A single insert
    # (a journal entry) is retried by the driver and audited once.
    entity_of = {
        record_id: failover.kinds[marker]
        for marker, record_id in failover.acknowledged.items()
    }
    repeated = {entity_of[i] for i, n in failover.audited.items() if n > 1}
    once = {entity_of[i] for i, n in failover.audited.items() if n == 1}

    assert repeated <= {MoodEntry.entity_name()}
    assert JournalEntry.entity_name() in once


def test_the_audit_chain_verifies_after_the_failover(failover: FailoverRun) -> None:
    result = failover.verification

    assert result is not None
    assert result.ok, result.problem
    assert result.entries_checked >= len(failover.acknowledged)


def test_the_audit_verify_command_accepts_the_chain(failover: FailoverRun) -> None:
    completed = failover.command

    assert completed is not None
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("audit chain intact")
