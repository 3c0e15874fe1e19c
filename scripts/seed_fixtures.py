#!/usr/bin/env python
"""Seed deterministic synthetic fixtures into a MongoDB database.

    python scripts/seed_fixtures.py --uri URI [--database NAME] [--patients 100]
        [--seed 0] [--as-of YYYY-MM-DD] [--days 90] [--no-progress]

The same as ``wellness-repo seed``; see README "Seeding fixtures".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "wellness_repo").is_dir() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))

from wellness_repo.seeding.command import (  # noqa: E402
    add_seed_arguments,
    run_seed_command,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, seed, and return the exit code."""
    parser = argparse.ArgumentParser(
        description="Seed deterministic synthetic fixtures into MongoDB."
    )
    add_seed_arguments(parser)
    parser.add_argument("--uri", default=os.environ.get("WELLNESS_MONGODB_URI"))
    parser.add_argument("--database", default=os.environ.get("WELLNESS_DATABASE"))
    code: int = asyncio.run(run_seed_command(parser.parse_args(argv)))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
