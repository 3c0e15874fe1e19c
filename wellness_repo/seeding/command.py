"""The seeding command line, shared by ``wellness-repo seed`` and
``scripts/seed_fixtures.py``."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from wellness_repo.database.manager import connect
from wellness_repo.errors import ValidationError
from wellness_repo.seeding.progress import progress_for
from wellness_repo.seeding.runner import SEEDER, seed_fixtures
from wellness_repo.seeding.workers import SeedTarget, seed_with_workers

__all__ = ["add_seed_arguments", "run_seed_command"]


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the seeding options (scale, seed, history) to ``parser``; the
    connection options (``--uri``, ``--database``) are the caller's."""
    parser.add_argument(
        "--patients", type=int, default=100, help="how many patients (default 100)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="the random seed (default 0)"
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the day histories lead up to, YYYY-MM-DD (default: today, UTC)",
    )
    parser.add_argument(
        "--days", type=int, default=90, help="days of mood history (default 90)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the patients (default 1); the records are the same",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (they show only on a terminal anyway)",
    )


async def run_seed_command(args: argparse.Namespace) -> int:
    """Seed the database ``args`` name and print the summary; the exit code.

    A URI is required: the embedded backend lives only as long as the process,
    so fixtures seeded into it would vanish as the command ends.
    """
    if not args.uri:
        print(
            "seed: give --uri or set WELLNESS_MONGODB_URI (the embedded backend "
            "keeps nothing after the command ends)",
            file=sys.stderr,
        )
        return 2
    if not 1 <= args.workers <= 64:
        print("seed: --workers must be 1..64", file=sys.stderr)
        return 2
    options = {
        "patients": args.patients,
        "seed": args.seed,
        "as_of": args.as_of,
        "history_days": args.days,
        "progress": progress_for(False if args.no_progress else None),
    }
    db = await connect(args.uri, args.database, context=SEEDER, apply_indexes=True)
    try:
        if args.workers == 1:
            report = await seed_fixtures(db, **options)
        else:
            target = SeedTarget(args.uri, args.database)
            report = await seed_with_workers(target, workers=args.workers, **options)
    except ValidationError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 2
    finally:
        await db.close()
    print(report.summary())
    return 0
