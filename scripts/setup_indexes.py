"""Create the declared MongoDB indexes and report drift; the deploy step runs this.

    python scripts/setup_indexes.py --uri mongodb://host/?replicaSet=rs0
    python scripts/setup_indexes.py --check        # exit 1 if anything differs
    python scripts/setup_indexes.py --dry-run      # print the plan only
    python scripts/setup_indexes.py --uri mongodb://mongos/ --shard [--dry-run]

Exit codes: 0 the database matches the index specs (always 0 for ``--dry-run``);
1 drift remains, or with ``--check`` something is missing; 2 the run could not
happen (no URI, a bad spec file, the server unreachable, ``--shard`` against a
server that is not a mongos).

``--shard`` also shards each collection on the ``shard_key`` its spec declares,
after the indexes (which include each shard key's supporting index) exist; it
refuses, before changing anything, unless the URI reaches a mongos.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# A deploy host may run this straight from a source checkout where the package is
# not installed; the checkout's package then belongs with the checkout's specs.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "wellness_repo").is_dir() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))

from pymongo import AsyncMongoClient  # noqa: E402
from pymongo.errors import PyMongoError  # noqa: E402

from wellness_repo.database.indexes import (  # noqa: E402
    IndexAction,
    load_index_specs,
    run_index_command,
)
from wellness_repo.database.sharding import (  # noqa: E402
    MongosAdmin,
    plan_sharding,
    run_shard_command,
)
from wellness_repo.errors import RepositoryError  # noqa: E402

_NO_URI = (
    "setup_indexes: no MongoDB URI; pass --uri or set WELLNESS_MONGODB_URI. "
    "Indexes live on a real server; the in-memory backend has nothing to set up."
)


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; defaults come from the ``WELLNESS_*`` environment."""
    parser = argparse.ArgumentParser(
        description="Create the declared MongoDB indexes and report drift."
    )
    parser.add_argument(
        "--uri",
        default=os.environ.get("WELLNESS_MONGODB_URI"),
        help="MongoDB connection string (default: $WELLNESS_MONGODB_URI)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("WELLNESS_DATABASE") or "wellness",
        help="database name (default: $WELLNESS_DATABASE or 'wellness')",
    )
    parser.add_argument(
        "--specs",
        type=Path,
        default=None,
        help="directory of index spec files (default: the packaged specs)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 unless the database matches the specs",
    )
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="change nothing; print what a run would do",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="also drop indexes no spec declares (never while older deploys run)",
    )
    parser.add_argument(
        "--shard",
        action="store_true",
        help="also shard each collection on its declared shard_key (mongos only)",
    )
    parser.add_argument(
        "--initial-chunks",
        type=int,
        default=None,
        help="with --shard: presplit empty hashed-key collections (MongoDB < 7.2)",
    )
    return parser.parse_args(argv)


def _action(arguments: argparse.Namespace) -> IndexAction:
    if arguments.check:
        return "check"
    if arguments.dry_run:
        return "plan"
    return "apply"


async def _run(arguments: argparse.Namespace) -> tuple[int, str]:
    # Specs are read before connecting so that a bad spec fails without a server.
    specs = load_index_specs(arguments.specs)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        arguments.uri, tz_aware=True
    )
    try:
        admin = MongosAdmin(client)
        if arguments.shard:
            # Refuses a server that is not a mongos before any index is touched.
            await plan_sharding(admin, arguments.database, specs)
        exit_code, text = await run_index_command(
            _action(arguments),
            client[arguments.database],
            specs=specs,
            drop_unknown=arguments.prune,
        )
        if arguments.shard:
            shard_code, shard_text = await run_shard_command(
                admin,
                arguments.database,
                specs,
                dry_run=arguments.dry_run,
                check=arguments.check,
                initial_chunks=arguments.initial_chunks,
            )
            exit_code, text = max(exit_code, shard_code), f"{text}\n{shard_text}"
        return exit_code, text
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the index tool from the command line and return its exit code."""
    arguments = parse_arguments(argv)
    if not arguments.uri:
        print(_NO_URI, file=sys.stderr)
        return 2
    try:
        exit_code, text = asyncio.run(_run(arguments))
    except (RepositoryError, PyMongoError) as exc:
        print(f"setup_indexes: {exc}", file=sys.stderr)
        return 2
    print(text)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
