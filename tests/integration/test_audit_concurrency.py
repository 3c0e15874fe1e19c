"""Many writers, one chain: processes and tasks appending at once on the real
server leave a chain without forks or gaps that verifies; a writer that lost a
race takes the next free place; and appends stay out of the caller's
transaction."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo import monitoring

from tests.conftest import SYSTEM, drop_and_close
from wellness_repo import DatabaseManager, MoodEntry, connect
from wellness_repo.models.audit import ActionType
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.security.chained_auditor import ChainedAuditor

pytestmark = pytest.mark.integration

PROCESSES = 8
# Each writer process: ten actions logged one after another, then twenty reads
# and twenty logged actions all at once.
PER_PROCESS = 50
WRITER = """
import asyncio, sys, time
from wellness_repo import AccessContext, connect
from wellness_repo.models.audit import ActionType
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.security.chained_auditor import ChainedAuditor

async def write(uri, name, worker, start_at, entry_id):
    db = await connect(uri, name, context=AccessContext.system(f"writer-{worker}"),
                       auditor=ChainedAuditor(), apply_indexes=False)
    audit, moods = AuditLogRepository(db), MoodEntryRepository(db)
    async def log(number):
        await audit.log_action(f"therapist_{worker}", ActionType.READ,
                               "TherapySession", f"session_{worker}_{number}",
                               "Reviewed the session notes before supervision")
    await asyncio.sleep(max(0.0, float(start_at) - time.time()))
    for number in range(10):
        await log(number)
    await asyncio.gather(*(moods.get(entry_id) for _ in range(20)),
                         *(log(number) for number in range(10, 30)))
    await db.close()

asyncio.run(write(*sys.argv[1:]))
"""


async def open_chain(uri: str, name: str, **options: Any) -> DatabaseManager:
    return await connect(
        uri, name, context=SYSTEM, auditor=ChainedAuditor(), apply_indexes=True,
        **options,
    )  # fmt: skip


@pytest.fixture
async def chain_db(mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    db = await open_chain(mongodb_uri, f"chain_{uuid.uuid4().hex[:12]}")
    try:
        yield db
    finally:
        await drop_and_close(db)


async def stored_chain(db: DatabaseManager) -> list[dict[str, Any]]:
    cursor = db.database["audit_logs"].find({}, sort=[("sequence", 1)])
    entries: list[dict[str, Any]] = await cursor.to_list(None)
    return entries


@dataclass
class InsertCounter(monitoring.CommandListener):
    """Counts the insert commands sent to the audit trail and their documents."""

    inserts: int = 0
    documents: list[int] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "insert" and event.command["insert"] == "audit_logs":
            self.inserts += 1
            self.documents.append(len(event.command.get("documents", [])))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


async def test_eight_writer_processes_leave_one_chain_without_forks_or_gaps(
    mongodb_uri: str, chain_db: DatabaseManager
) -> None:
    # Seeded in bulk, so the chain starts with one entry (no crisis-hook read).
    (mood,) = await MoodEntryRepository(chain_db).create_many(
        [MoodEntry(user_id="patient_4417", mood_rating=5)]
    )
    start_at = time.time() + 4
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, mongodb_uri, chain_db.database_name,
            str(worker), str(start_at), mood.id,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for worker in range(PROCESSES)
    ]  # fmt: skip
    outcomes = [
        await asyncio.wait_for(writer.communicate(), timeout=180) for writer in writers
    ]

    entries = await stored_chain(chain_db)
    result = await AuditLogRepository(chain_db).verify_audit_chain()
    assert [w.returncode for w in writers] == [0] * PROCESSES, outcomes
    total = 1 + PROCESSES * PER_PROCESS
    assert [entry["sequence"] for entry in entries] == list(range(1, total + 1))
    assert len({entry["prev_mac"] for entry in entries}) == total
    assert result.ok
    assert result.entries_checked == total
    per_writer = Counter(entry["writer"] for entry in entries[1:])
    assert sorted(per_writer.values()) == [PER_PROCESS] * PROCESSES


async def test_concurrent_accesses_in_one_process_share_their_inserts(
    mongodb_uri: str,
) -> None:
    counter = InsertCounter()
    db = await open_chain(
        mongodb_uri,
        f"chain_{uuid.uuid4().hex[:12]}",
        driver_options={"event_listeners": [counter]},
    )
    try:
        audit = AuditLogRepository(db)
        await asyncio.gather(
            *(
                audit.log_action(
                    "nurse_118",
                    ActionType.READ,
                    "MedicationOrder",
                    f"order_{number:04d}",
                    "Checked the dose before the evening round",
                )
                for number in range(300)
            )
        )

        inserted, inserts = sum(counter.documents), counter.inserts
        entries = await stored_chain(db)
        result = await audit.verify_audit_chain()
    finally:
        await drop_and_close(db)

    assert [entry["sequence"] for entry in entries] == list(range(1, 301))
    assert result.ok
    assert inserted == 300
    assert inserts < 300


async def test_a_writer_with_a_stale_tail_takes_the_next_free_place(
    mongodb_uri: str, chain_db: DatabaseManager
) -> None:
    other = await open_chain(mongodb_uri, chain_db.database_name)
    try:
        here, there = AuditLogRepository(chain_db), AuditLogRepository(other)
        first = await here.log_action(
            "therapist_221", ActionType.READ, "TherapySession", "session_001", "Read"
        )
        await there.log_action(
            "therapist_222", ActionType.READ, "TherapySession", "session_002", "Read"
        )

        third = await there.log_action(
            "therapist_222", ActionType.READ, "TherapySession", "session_003", "Read"
        )
        late = await here.log_action(
            "therapist_221", ActionType.READ, "TherapySession", "session_004", "Read"
        )

        result = await here.verify_audit_chain()
    finally:
        await other.close()

    assert (first.sequence, third.sequence, late.sequence) == (1, 3, 4)
    assert late.prev_mac == third.mac
    assert result.ok


async def test_an_access_in_an_aborted_transaction_stays_in_the_audit(
    chain_db: DatabaseManager,
) -> None:
    moods = MoodEntryRepository(chain_db)
    attempted = MoodEntry(user_id="patient_4417", mood_rating=2)

    async def failing_request() -> None:
        async with chain_db.transaction():
            await moods.create(attempted)
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        await failing_request()

    assert await moods.get_by_id(attempted.id) is None
    created = [e for e in await stored_chain(chain_db) if e["action_type"] == "create"]
    assert [entry["resource_ids"] for entry in created] == [[attempted.id]]
