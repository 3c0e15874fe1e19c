"""How fast the fixture seeder fills a real server, in records per second.

Seeds ``--patients`` patients (default 10,000) into a throwaway database on
``--uri``, runs the seeder a second time to time the idempotent re-run, prints
the per-unit table and the rates, and drops the database.

    python benchmarks/bench_seeding.py --uri URI [--patients 10000] [--seed 7] \
        [--workers 1]

Every record goes through its repository's ``create_many`` with the secure
defaults ``connect()`` installs (role policy, field encryption, the audit chain),
exactly as ``wellness-repo seed`` writes them. Only the results go to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from datetime import date
from typing import Any

from wellness_repo import connect
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.seeding import SEEDER
from wellness_repo.seeding.workers import SeedTarget, seed_with_workers


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", default=os.environ.get("WELLNESS_BENCH_MONGODB_URI"))
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers", type=int, default=1, help="seeding processes (default 1)"
    )
    return parser.parse_args()


async def _bench(uri: str, patients: int, seed: int, workers: int) -> None:
    name = f"bench_seed_{uuid.uuid4().hex[:12]}"
    # The keys live in the throwaway database too, so dropping it leaves nothing.
    target = SeedTarget(uri, name, key_vault_namespace=f"{name}.__keyVault")
    db = await connect(
        uri,
        name,
        context=SEEDER,
        apply_indexes=True,
        cipher=CsfleCipher(key_vault_namespace=target.key_vault_namespace),
    )
    await db.close()
    try:
        as_of = date(2026, 12, 1)
        options: dict[str, Any] = {
            "workers": workers,
            "patients": patients,
            "seed": seed,
            "as_of": as_of,
        }
        first = await seed_with_workers(target, **options)
        print(first.summary())
        again = await seed_with_workers(target, **options)
        print()
        print(
            f"first run: {first.written:,} records in {first.seconds:.1f} s "
            f"= {first.rate:,.0f} records/s"
        )
        print(
            f"re-run:    {again.written:,} records written, "
            f"{sum(unit.existing for unit in again.units):,} found stored, "
            f"in {again.seconds:.1f} s"
        )
    finally:
        db = await target.open()
        await db.client.drop_database(name)
        await db.close()


def main() -> int:
    """Run the benchmark; returns the exit code."""
    args = _arguments()
    if not args.uri:
        print("bench_seeding: give --uri (a real server)", file=sys.stderr)
        return 2
    asyncio.run(_bench(args.uri, args.patients, args.seed, args.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
