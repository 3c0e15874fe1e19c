"""How much the repository layer costs over raw PyMongo, on a real server.

Runs every comparison in one process, against one server, with the same mood
entries on both sides, and prints one Markdown table of medians and their ratio
(repository / raw). The targets are ratios measured in the same run, never
absolute times: the machines are shared and noisy.

    python benchmarks/bench_foundation.py [--uri URI] [--documents 1000]
        [--repeats 15]

Without ``--uri`` (or ``WELLNESS_BENCH_MONGODB_URI``) the script starts its own
single-node replica set with ``scripts/start_mongod.sh`` on port 27140 and stops
it at the end. Only the table goes to stdout; progress goes to stderr.

Two groups of rows, each in a fresh database that is dropped afterwards:

- the foundation rows (the targets): the repository connected with the
  foundation's placeholder stages (``PermitAllPolicy``, ``PlaintextCipher``,
  ``LoggingAuditor``), so they measure the repository machinery: validation,
  query compilation, revisions, the pipeline's structure. The raw side is the
  driver alone (``repository_rows.PlainDriver``).
- the secure-default rows (informative): ``connect()``'s default stages, with
  a raw side that encrypts, decrypts and audits with the driver's own APIs
  (``bench_security``, ``raw_secure_side``), plus the per-value cost of
  encrypting and decrypting.

What each side includes:

- writes, raw: inserts of the stored form of the same records
  (``model_dump(by_alias=True)`` plus the revision and schema-version keys the
  repository adds), prepared before the clock starts. Repository:
  ``create_many`` / ``create`` of the models, so dumping, validating, the
  pipeline stages and building the returned records are all timed.
- reads, raw: ``find`` / ``find_one`` with the exact filter and sort the
  repository sends, into plain dicts. Repository: ``list_all`` / ``get_by_id``
  returning validated records, compiling the lookups included.

Both sides share one client (same pool, same write concern ``majority``; only the
raw reads of the auto-decrypting row go through a second client), the
collection is emptied outside the timed region before every write, and the order
of the two sides alternates between repeats so that drift cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import timeit
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_security import secure_rows
from measuring import Row, format_table, progress
from mood_records import LIST_SIZE
from repository_rows import PlainDriver, compare_repository

from wellness_repo import (
    AccessContext,
    DatabaseManager,
    MoodEntry,
    Settings,
    compile_filters,
    connect,
)
from wellness_repo.query.compiler import compile_sort
from wellness_repo.security.audit import LoggingAuditor
from wellness_repo.security.encryption import PlaintextCipher
from wellness_repo.security.policy import PermitAllPolicy

ROOT = Path(__file__).resolve().parent.parent

OWN_SERVER_PORT = "27140"
OWN_SERVER_DBPATH = f".mongod/bench-{OWN_SERVER_PORT}"
RATIO_TARGET = 1.5
COMPILE_TARGET_US = 50.0
COMPILE_CALLS = 2000
CONTEXT = AccessContext.system("benchmark")


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


@asynccontextmanager
async def bench_database(uri: str, **stages: Any) -> AsyncIterator[DatabaseManager]:
    """A connection to a fresh database, with its own key vault inside it, that
    is dropped afterwards; ``stages`` replace pipeline stages."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    manager: DatabaseManager = await connect(
        uri,
        name,
        context=CONTEXT,
        settings=Settings(
            max_page_size=LIST_SIZE, key_vault_namespace=f"{name}.__keyVault"
        ),
        apply_indexes=True,
        **stages,
    )
    try:
        health = await manager.health()
        progress(
            f"mongod {health.server_version}, python {platform.python_version()}, "
            f"{os.cpu_count()} cpus, database {manager.database_name}"
        )
        yield manager
    finally:
        await manager.client.drop_database(manager.database_name)
        await manager.close()


async def run(uri: str, documents: int, repeats: int) -> list[Row]:
    """Every comparison: the foundation rows, then the secure-default rows."""
    async with bench_database(
        uri,
        policy=PermitAllPolicy(),
        cipher=PlaintextCipher(),
        auditor=LoggingAuditor(),
    ) as manager:
        side = PlainDriver(manager.collection(MoodEntry))
        rows = await compare_repository(
            manager, side, CONTEXT, documents, repeats, label="", target=RATIO_TARGET
        )
    async with bench_database(uri) as manager:
        rows += await secure_rows(manager, uri, CONTEXT, documents, repeats)
    progress("compiling lookups")
    rows.append(bench_compile(repeats))
    return rows


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
