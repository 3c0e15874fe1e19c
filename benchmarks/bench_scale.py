"""Issue 8's benchmark: the repository against raw PyMongo with the pipeline on
and off, the per-patient queries at two data sizes, and the seeding rate.

    python benchmarks/bench_scale.py --uri URI [--repeats 11] [--documents 1000]
        [--small 1000] [--large 100000] [--quick]

One command prints every table (Markdown, on stdout; progress on stderr):

1. Pipeline rows, each twice: ", pipeline off" (``PermitAllPolicy``,
   ``PlaintextCipher``, ``LoggingAuditor``: the repository machinery alone, raw
   side the driver alone) and ", pipeline on" (``connect()``'s defaults:
   ``RolePolicy``, ``CsfleCipher``, ``ChainedAuditor``; raw side the driver
   plus ``AsyncClientEncryption`` and an HMAC-chained audit insert per call):
   ``create_many``, ``create``, ``list_all``, ``get_by_id``
   (``repository_rows``), ``list_all`` with filters, sort and count,
   ``analyze_mood_trends``, ``calculate_adherence`` (a hook until the
   medications repository exists) and an audit append (``domain_rows``).
2. Scale rows (``scale_rows``): a year of mood trend, one patient's sessions
   and one provider's day, at ``--small`` patients and again at ``--large``,
   with the ratio between the two sizes.
3. Seeding: raw ``insert_many`` documents per second while growing the scale
   data, and ``bench_seeding.py``'s table when that script exists.

Without ``--uri`` (or ``WELLNESS_BENCH_MONGODB_URI``) it starts its own server
as ``bench_foundation.py`` does. Every group works in a fresh database that is
dropped afterwards. ``--quick`` is a smoke run with small sizes (the test
``tests/integration/test_bench_smoke.py`` runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import domain_rows as domain_module
import repository_rows
from bench_foundation import (
    CONTEXT,
    bench_database,
    start_own_server,
    stop_own_server,
)
from domain_rows import domain_rows
from measuring import Row, format_table, progress
from raw_secure_side import EncryptedAuditedDriver
from repository_rows import PlainDriver, compare_repository
from scale_rows import CommandCapture, Seeding, format_scale_table, scale_rows

from wellness_repo import MoodEntry
from wellness_repo.security.audit import LoggingAuditor
from wellness_repo.security.encryption import PlaintextCipher
from wellness_repo.security.policy import PermitAllPolicy

HERE = Path(__file__).resolve().parent
SEEDING_SCRIPT = HERE / "bench_seeding.py"
QUICK_SINGLE_CALLS = 20
OFF = ", pipeline off"
ON = ", pipeline on"


async def pipeline_rows(uri: str, documents: int, repeats: int) -> list[Row]:
    """Every operation with the pipeline off, then on, each in its own database."""
    capture = CommandCapture()
    listening = {"event_listeners": [capture]}
    async with bench_database(
        uri,
        policy=PermitAllPolicy(),
        cipher=PlaintextCipher(),
        auditor=LoggingAuditor(),
        driver_options=listening,
    ) as manager:
        plain = PlainDriver(manager.collection(MoodEntry))
        rows = await compare_repository(
            manager, plain, CONTEXT, documents, repeats, label=OFF, target=None
        )
        rows += await domain_rows(manager, plain, CONTEXT, capture, repeats, label=OFF)
    async with bench_database(uri, driver_options=listening) as manager:
        secure = await EncryptedAuditedDriver.open(manager, CONTEXT)
        try:
            rows += await compare_repository(
                manager, secure, CONTEXT, documents, repeats, label=ON, target=None
            )
            rows += await domain_rows(
                manager, secure, CONTEXT, capture, repeats, label=ON
            )
        finally:
            await secure.close()
    return rows


def pipeline_cost(rows: Sequence[Row]) -> str:
    """How much each operation's repository median grows when the pipeline is
    switched on, next to the same growth on the raw side."""
    by_name = {row.operation: row for row in rows}
    lines = [
        "| operation | repository on / off | raw on / off |",
        "| --- | ---: | ---: |",
    ]
    for name, off in by_name.items():
        if not name.endswith(OFF):
            continue
        base = name[: -len(OFF)]
        on = by_name.get(base + ON)
        if on is None or off.raw is None or on.raw is None:
            continue
        repository = statistics.median(on.repository) / statistics.median(
            off.repository
        )
        raw = statistics.median(on.raw) / statistics.median(off.raw)
        lines.append(f"| {base} | {repository:.2f}x | {raw:.2f}x |")
    return "\n".join(lines)


async def scale_section(
    uri: str, small: int, large: int, repeats: int
) -> tuple[str, Seeding]:
    """The scale table, with the default stages, in its own database."""
    capture = CommandCapture()
    async with bench_database(
        uri, driver_options={"event_listeners": [capture]}
    ) as manager:
        rows, seeding = await scale_rows(manager, capture, small, large, repeats)
    return format_scale_table(rows, small, large), seeding


def seeding_script(uri: str, patients: int) -> str:
    """``bench_seeding.py``'s output (the fixture seeder through the
    repositories, ``patients`` patients) when the script exists, else a note."""
    if patients == 0:
        return "bench_seeding.py: skipped (--seeding-patients 0)."
    if not SEEDING_SCRIPT.exists():
        return "bench_seeding.py: not present; no seeding-tool row."
    command = [
        sys.executable, str(SEEDING_SCRIPT), "--uri", uri, "--patients", str(patients)
    ]  # fmt: skip
    progress(f"running {SEEDING_SCRIPT.name}")
    finished = subprocess.run(
        command, cwd=HERE.parent, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        return (
            f"bench_seeding.py exited with {finished.returncode}: "
            f"{finished.stderr.strip().splitlines()[-1:]}"
        )
    return finished.stdout.strip()


async def run(arguments: argparse.Namespace, uri: str) -> str:
    """Every section, as the Markdown the script prints."""
    started = time.perf_counter()
    progress(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    rows = await pipeline_rows(uri, arguments.documents, arguments.repeats)
    table, seeding = await scale_section(
        uri, arguments.small, arguments.large, arguments.repeats
    )
    sections = [
        "Repository against raw PyMongo, pipeline off and on:",
        format_table(rows),
        "What switching the pipeline on costs (median on / median off):",
        pipeline_cost(rows),
        "Per-patient queries at two sizes, pipeline on:",
        table,
        (
            f"Seeding, raw insert_many of stored documents: {seeding.documents:,} "
            f"documents in {seeding.seconds:.1f} s = {seeding.rate:,.0f} documents/s"
        ),
        seeding_script(uri, arguments.seeding_patients),
        f"Finished in {time.perf_counter() - started:.0f} s.",
    ]
    return "\n\n".join(sections)


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; ``--quick`` shrinks every size for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--uri",
        default=os.environ.get("WELLNESS_BENCH_MONGODB_URI"),
        help="an existing server; default: start one on port 27140 for this run",
    )
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--small", type=int, default=1000, help="patients")
    parser.add_argument("--large", type=int, default=100_000, help="patients")
    parser.add_argument(
        "--seeding-patients",
        type=int,
        default=100,
        help="patients bench_seeding.py seeds through the repositories (0: skip)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.documents, arguments.repeats = 100, 2
        arguments.small, arguments.large = 100, 1000
        arguments.seeding_patients = 0
    if arguments.documents < 1 or arguments.repeats < 2:
        parser.error("--documents must be at least 1 and --repeats at least 2")
    if not 0 < arguments.small < arguments.large:
        parser.error("--small must be positive and below --large")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    """Run every section and print the tables."""
    arguments = parse_arguments(argv)
    if arguments.quick:
        # Fewer sequential calls per timed run of the per-call rows.
        repository_rows.SINGLE_CALLS = QUICK_SINGLE_CALLS
        domain_module.SINGLE_CALLS = QUICK_SINGLE_CALLS
    own_server = arguments.uri is None
    uri = start_own_server() if own_server else arguments.uri
    try:
        output = asyncio.run(run(arguments, uri))
    finally:
        if own_server:
            stop_own_server()
    print(output)


if __name__ == "__main__":
    main()
