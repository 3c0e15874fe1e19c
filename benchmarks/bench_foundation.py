"""How much the repository layer costs over raw PyMongo, on a real server.

Runs every comparison in one process, against one server and one fresh database,
with the same mood entries on both sides, and prints a Markdown table of medians
and their ratio (repository / raw). The targets are ratios measured in the same
run, never absolute times: the machines are shared and noisy.

    python benchmarks/bench_foundation.py [--uri URI] [--documents 1000]
        [--repeats 15]

Without ``--uri`` (or ``WELLNESS_BENCH_MONGODB_URI``) the script starts its own
single-node replica set with ``scripts/start_mongod.sh`` on port 27140 and stops
it at the end. Only the table goes to stdout; progress goes to stderr.

What each side includes:

- writes, raw: ``insert_many`` / ``insert_one`` of the stored form of the same
  records (``model_dump(by_alias=True)`` plus the revision and schema-version
  keys the repository adds), prepared before the clock starts. Repository:
  ``create_many`` / ``create`` of the models, so dumping, validating, the
  pipeline stages and building the returned records are all timed.
- reads, raw: ``find`` / ``find_one`` with the exact filter and sort the
  repository sends, into plain dicts. Repository: ``list_all`` / ``get_by_id``
  returning validated records, compiling the lookups included.

Both sides share one client (same pool, same write concern ``majority``), the
collection is emptied outside the timed region before every write, and the order
of the two sides alternates between repeats so that drift cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import timeit
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wellness_repo import (
    AccessContext,
    DatabaseManager,
    MoodEntry,
    MoodEntryRepository,
    QueryOptions,
    Settings,
    compile_filters,
    connect,
)
from wellness_repo.query.compiler import compile_sort

ROOT = Path(__file__).resolve().parent.parent

OWN_SERVER_PORT = "27140"
OWN_SERVER_DBPATH = f".mongod/bench-{OWN_SERVER_PORT}"
LIST_SIZE = 1000
SINGLE_CALLS = 200
PATIENTS = 50
RATIO_TARGET = 1.5
COMPILE_TARGET_US = 50.0
COMPILE_CALLS = 2000

TAGS = (
    "sleep", "anxiety", "work", "family", "exercise", "medication",
    "social", "therapy", "appetite", "energy",
)  # fmt: skip
NOTE_PHRASES = (
    "Slept badly again and woke up around four.",
    "Felt calmer after the breathing exercise from Tuesday's session.",
    "Long day at work, skipped lunch.",
    "Walked for half an hour with my sister.",
    "Racing thoughts in the evening, used the grounding technique.",
    "Took the evening dose late.",
    "Good conversation with a friend, felt lighter afterwards.",
    "Low energy most of the afternoon.",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table."""

    operation: str
    raw: list[float] | None
    repository: list[float]
    unit: str
    target: str
    verdict: str


def progress(message: str) -> None:
    """Report progress on stderr, keeping stdout for the table."""
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ test data


def mood_entries(
    count: int, rng: random.Random, user_id: str | None = None
) -> list[MoodEntry]:
    """``count`` realistic mood entries over the last 90 days.

    Spread across ``PATIENTS`` patients, or all for ``user_id`` when given.
    """
    now = datetime.now(UTC)
    entries = []
    for _ in range(count):
        patient = user_id or f"patient-{rng.randrange(1, PATIENTS + 1):04d}"
        notes = " ".join(rng.sample(NOTE_PHRASES, rng.randint(1, 3)))
        entries.append(
            MoodEntry(
                user_id=patient,
                mood_rating=rng.randint(1, 10),
                tags=rng.sample(TAGS, rng.randint(0, 3)),
                notes=notes,
                created_at=now - timedelta(seconds=rng.randrange(90 * 86_400)),
            )
        )
    return entries


def stored_form(entries: Sequence[MoodEntry]) -> list[dict[str, Any]]:
    """The documents the repository stores for ``entries``, built ahead of time."""
    documents = []
    for entry in entries:
        document = entry.model_dump(by_alias=True)
        document["_rev"] = 1
        document["_version"] = MoodEntry.SCHEMA_VERSION
        documents.append(document)
    return documents


# ------------------------------------------------------------------- measuring


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    """Seconds one awaited call takes, after a collection so GC stays out of it."""
    gc.collect()
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def compare(
    repeats: int,
    raw: Callable[[], Awaitable[Any]],
    repository: Callable[[], Awaitable[Any]],
    reset: Callable[[], Awaitable[Any]] | None = None,
) -> tuple[list[float], list[float]]:
    """Time both sides ``repeats`` times each, alternating which goes first.

    ``reset`` runs before every timed call, outside the clock (emptying the
    collection before a write, say), so both sides always do identical work.
    """
    raw_times: list[float] = []
    repository_times: list[float] = []
    for repeat in range(repeats):
        order = [(raw, raw_times), (repository, repository_times)]
        if repeat % 2:
            order.reverse()
        for work, times in order:
            if reset is not None:
                await reset()
            times.append(await timed(work))
    return raw_times, repository_times


def quartiles(times: Sequence[float]) -> tuple[float, float, float]:
    """p25, median and p75 of ``times``."""
    low, middle, high = statistics.quantiles(times, n=4, method="inclusive")
    return low, middle, high


def ratio_row(
    operation: str,
    raw: list[float],
    repository: list[float],
    *,
    unit: str,
    target: float | None,
) -> Row:
    """A table row comparing the two sides by the ratio of their medians."""
    ratio = statistics.median(repository) / statistics.median(raw)
    if target is None:
        return Row(operation, raw, repository, unit, "-", "informative")
    verdict = "met" if ratio <= target else "MISSED"
    return Row(operation, raw, repository, unit, f"<= {target:.1f}x", verdict)


def format_table(rows: Sequence[Row]) -> str:
    """The results as a Markdown table: median [p25-p75] per side."""
    scale = {"ms": 1e3, "us": 1e6}

    def cell(times: list[float] | None, unit: str) -> str:
        if times is None:
            return "-"
        if len(times) == 1:
            return f"{times[0] * scale[unit]:.2f} {unit} (best)"
        low, middle, high = (value * scale[unit] for value in quartiles(times))
        return f"{middle:.2f} {unit} [{low:.2f}-{high:.2f}]"

    lines = [
        "| operation | raw median [p25-p75] | repository median [p25-p75] "
        "| ratio | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        if row.raw is None:
            ratio = "-"
        else:
            ratio = (
                f"{statistics.median(row.repository) / statistics.median(row.raw):.2f}x"
            )
        lines.append(
            f"| {row.operation} | {cell(row.raw, row.unit)} "
            f"| {cell(row.repository, row.unit)} | {ratio} | {row.target} "
            f"| {row.verdict} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- the benches


async def bench_create_many(
    repository: MoodEntryRepository, collection: Any, count: int, repeats: int
) -> Row:
    """``create_many`` of ``count`` entries against raw ``insert_many``."""
    entries = mood_entries(count, random.Random(1))
    documents = stored_form(entries)
    batch: list[dict[str, Any]] = []

    async def reset() -> None:
        await collection.delete_many({})
        batch[:] = [dict(document) for document in documents]

    async def raw() -> None:
        await collection.insert_many(batch, ordered=True)

    async def through_repository() -> None:
        await repository.create_many(entries)

    await check_same_stored(collection, reset, raw, through_repository)
    raw_times, repository_times = await compare(repeats, raw, through_repository, reset)
    return ratio_row(
        f"create_many, {count:,} entries",
        raw_times,
        repository_times,
        unit="ms",
        target=RATIO_TARGET,
    )


async def check_same_stored(
    collection: Any,
    reset: Callable[[], Awaitable[None]],
    raw: Callable[[], Awaitable[None]],
    through_repository: Callable[[], Awaitable[None]],
) -> None:
    """Stop the run unless both sides store byte-for-byte the same documents."""
    stored = []
    for write in (raw, through_repository):
        await reset()
        await write()
        stored.append(await collection.find({}, sort=[("_id", 1)]).to_list(None))
    if stored[0] != stored[1]:
        raise SystemExit("raw and repository writes stored different documents")


async def bench_create(
    repository: MoodEntryRepository, collection: Any, repeats: int
) -> Row:
    """``create`` of one entry at a time against raw ``insert_one``."""
    entries = mood_entries(SINGLE_CALLS, random.Random(2))
    documents = stored_form(entries)
    batch: list[dict[str, Any]] = []

    async def reset() -> None:
        await collection.delete_many({})
        batch[:] = [dict(document) for document in documents]

    async def raw() -> None:
        for document in batch:
            await collection.insert_one(document)

    async def through_repository() -> None:
        for entry in entries:
            await repository.create(entry)

    raw_times, repository_times = await compare(repeats, raw, through_repository, reset)
    return ratio_row(
        f"create, per call ({SINGLE_CALLS} sequential)",
        [elapsed / SINGLE_CALLS for elapsed in raw_times],
        [elapsed / SINGLE_CALLS for elapsed in repository_times],
        unit="us",
        target=None,
    )


async def seed_for_reads(collection: Any, count: int) -> tuple[str, list[str]]:
    """Store ``count`` entries of many patients and ``LIST_SIZE`` of one patient.

    Returns the busy patient's id and the ids of some stored entries.
    """
    rng = random.Random(3)
    busy_patient = "patient-busy"
    others = mood_entries(count, rng)
    busy = mood_entries(LIST_SIZE, rng, user_id=busy_patient)
    await collection.delete_many({})
    await collection.insert_many(stored_form(others + busy))
    ids = [entry.id for entry in rng.sample(others + busy, SINGLE_CALLS)]
    return busy_patient, ids


async def bench_list_all(
    repository: MoodEntryRepository, collection: Any, patient: str, repeats: int
) -> Row:
    """One patient's 1,000 newest entries: ``list_all`` against raw ``find``."""
    lookups = {"user_id": patient}
    order_by = ["-created_at"]
    # What list_all sends: the compiled lookups plus its soft-delete condition.
    query = {**compile_filters(MoodEntry, lookups).filter, "deleted_at": None}
    sort = compile_sort(MoodEntry, order_by)

    async def raw() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await collection.find(
            query, sort=sort, limit=LIST_SIZE
        ).to_list(None)
        return found

    async def through_repository() -> list[MoodEntry]:
        page = await repository.list_all(
            QueryOptions(filters=lookups, order_by=order_by, limit=LIST_SIZE)
        )
        return page.items

    raw_found, records = await raw(), await through_repository()
    as_stored = [record.model_dump(by_alias=True) for record in records]
    without_version = [
        {key: value for key, value in document.items() if key != "_version"}
        for document in raw_found
    ]
    if len(records) != LIST_SIZE or as_stored != without_version:
        raise SystemExit("list_all and raw find returned different documents")
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"list_all, {LIST_SIZE:,} entries of one patient",
        raw_times,
        repository_times,
        unit="ms",
        target=RATIO_TARGET,
    )


async def bench_get_by_id(
    repository: MoodEntryRepository, collection: Any, ids: list[str], repeats: int
) -> Row:
    """``get_by_id`` against raw ``find_one`` over the same ids."""

    async def raw() -> list[Any]:
        return [
            await collection.find_one({"_id": entry_id, "deleted_at": None})
            for entry_id in ids
        ]

    async def through_repository() -> list[MoodEntry | None]:
        return [await repository.get_by_id(entry_id) for entry_id in ids]

    raw_found, records = await raw(), await through_repository()
    raw_ids = [document and document["_id"] for document in raw_found]
    if raw_ids != [record and record.id for record in records] or None in raw_ids:
        raise SystemExit("get_by_id and raw find_one returned different records")
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"get_by_id, per call ({len(ids)} sequential)",
        [elapsed / len(ids) for elapsed in raw_times],
        [elapsed / len(ids) for elapsed in repository_times],
        unit="us",
        target=None,
    )


def bench_compile(repeats: int) -> Row:
    """Compiling a 5-lookup clinician query and its sort, best of ``repeats``."""
    since = datetime(2025, 1, 1, tzinfo=UTC)
    flagged = ["665f1c2e9b1d4a0012345678", "665f1c2e9b1d4a0012345679"]
    lookups = {
        "user_id": "patient-0007",
        "created_at__gte": since,
        "mood_rating__gte": 7,
        "tags__contains": "sleep",
        "id__in": flagged,
    }

    def compile_once() -> None:
        compile_filters(MoodEntry, lookups)
        compile_sort(MoodEntry, ["-created_at"])

    compile_once()
    totals = timeit.repeat(compile_once, repeat=repeats, number=COMPILE_CALLS)
    per_call = [total / COMPILE_CALLS for total in totals]
    best_us = min(per_call) * 1e6
    verdict = "met" if best_us < COMPILE_TARGET_US else "MISSED"
    return Row(
        f"compile 5 lookups + sort (best of {repeats} x {COMPILE_CALLS})",
        None,
        [min(per_call)],
        "us",
        f"< {COMPILE_TARGET_US:.0f} us",
        verdict,
    )


# ------------------------------------------------------------------- the server


def start_own_server() -> str:
    """Start a fresh single-node replica set for this run; return its URI."""
    progress(f"starting mongod on port {OWN_SERVER_PORT}")
    started = subprocess.run(
        [
            str(ROOT / "scripts" / "start_mongod.sh"),
            "--port",
            OWN_SERVER_PORT,
            "--dbpath",
            OWN_SERVER_DBPATH,
            "--fresh",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    )
    return started.stdout.strip()


def stop_own_server() -> None:
    """Stop the server :func:`start_own_server` started."""
    subprocess.run(
        [str(ROOT / "scripts" / "stop_mongod.sh"), "--dbpath", OWN_SERVER_DBPATH],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )


# ----------------------------------------------------------------------- main


async def run(uri: str, documents: int, repeats: int) -> list[Row]:
    """Every comparison, in one fresh database that is dropped afterwards."""
    manager: DatabaseManager = await connect(
        uri,
        f"bench_{uuid.uuid4().hex[:12]}",
        context=AccessContext.system("benchmark"),
        settings=Settings(max_page_size=LIST_SIZE),
        apply_indexes=True,
    )
    try:
        health = await manager.health()
        progress(
            f"mongod {health.server_version}, python {platform.python_version()}, "
            f"{os.cpu_count()} cpus, database {manager.database_name}"
        )
        repository = MoodEntryRepository(manager)
        collection = manager.database[MoodEntry.collection_name()]

        rows = []
        progress(f"create_many: {documents} entries x {repeats} repeats per side")
        rows.append(await bench_create_many(repository, collection, documents, repeats))
        progress(f"create: {SINGLE_CALLS} calls x {repeats} repeats per side")
        rows.append(await bench_create(repository, collection, repeats))
        patient, ids = await seed_for_reads(collection, documents)
        progress(f"list_all: {LIST_SIZE} entries x {repeats} repeats per side")
        rows.append(await bench_list_all(repository, collection, patient, repeats))
        progress(f"get_by_id: {len(ids)} calls x {repeats} repeats per side")
        rows.append(await bench_get_by_id(repository, collection, ids, repeats))
        progress("compiling lookups")
        rows.append(bench_compile(repeats))
        return rows
    finally:
        await manager.client.drop_database(manager.database_name)
        await manager.close()


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: server, batch size and repeats."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--uri",
        default=os.environ.get("WELLNESS_BENCH_MONGODB_URI"),
        help="an existing server; default: start one on port 27140 for this run",
    )
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    arguments = parser.parse_args(argv)
    if arguments.documents < 1 or arguments.repeats < 2:
        parser.error("--documents must be at least 1 and --repeats at least 2")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    arguments = parse_arguments(argv)
    own_server = arguments.uri is None
    uri = start_own_server() if own_server else arguments.uri
    try:
        rows = asyncio.run(run(uri, arguments.documents, arguments.repeats))
    finally:
        if own_server:
            stop_own_server()
    print(format_table(rows))


if __name__ == "__main__":
    main()
