"""The ``wellness-repo`` command: the demo, the index tool, schema migrations and a
health check."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from wellness_repo.database.manager import connect
from wellness_repo.security.context import AccessContext

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    code: int = asyncio.run(args.run(args))
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wellness-repo",
        description="Data layer of a professional mental-health platform.",
    )
    commands = parser.add_subparsers(dest="command")

    demo = commands.add_parser(
        "demo", help="walk one patient's records through the public API"
    )
    _connection_options(demo, default_uri=None)
    demo.set_defaults(run=_run_demo)

    indexes = commands.add_parser(
        "indexes", help="create missing indexes, or check for drift"
    )
    indexes.add_argument("action", choices=("apply", "check", "plan"))
    _connection_options(indexes)
    indexes.set_defaults(run=_run_indexes)

    migrate = commands.add_parser(
        "migrate", help="upgrade stored records of older schema versions in place"
    )
    _connection_options(migrate)
    migrate.set_defaults(run=_run_migrate)

    health = commands.add_parser("health", help="check the database connection")
    _connection_options(health)
    health.set_defaults(run=_run_health)
    return parser


def _connection_options(
    parser: argparse.ArgumentParser, default_uri: str | None = ""
) -> None:
    env_uri = os.environ.get("WELLNESS_MONGODB_URI")
    parser.add_argument(
        "--uri",
        default=env_uri if default_uri == "" else default_uri,
        help="mongodb:// URI (default: $WELLNESS_MONGODB_URI; demo: embedded)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("WELLNESS_DATABASE"),
        help="database name (default: $WELLNESS_DATABASE or 'wellness')",
    )


async def _run_demo(args: argparse.Namespace) -> int:
    from wellness_repo.demo import run_demo

    await run_demo(args.uri, args.database)
    return 0


async def _run_indexes(args: argparse.Namespace) -> int:
    from wellness_repo.database.indexes import run_index_command

    if not args.uri:
        print("indexes: give --uri or set WELLNESS_MONGODB_URI", file=sys.stderr)
        return 2
    db = await connect(
        args.uri,
        args.database,
        context=AccessContext.system("index-tool"),
        apply_indexes=False,
    )
    try:
        code, report = await run_index_command(args.action, db.database)
    finally:
        await db.close()
    print(report)
    return code


async def _run_migrate(args: argparse.Namespace) -> int:
    from wellness_repo.factories import REPOSITORY_CLASSES

    if not args.uri:
        print("migrate: give --uri or set WELLNESS_MONGODB_URI", file=sys.stderr)
        return 2
    db = await connect(
        args.uri,
        args.database,
        context=AccessContext.system("migrate"),
        apply_indexes=False,
    )
    try:
        for repository_class in REPOSITORY_CLASSES:
            upgraded = await repository_class(db).migrate_stored()
            print(f"{repository_class.model.__name__}: {upgraded} record(s) upgraded")
    finally:
        await db.close()
    return 0


async def _run_health(args: argparse.Namespace) -> int:
    db = await connect(
        args.uri or None,
        args.database,
        context=AccessContext.system("health"),
        apply_indexes=False,
    )
    try:
        report = await db.health()
    finally:
        await db.close()
    state = "ok" if report.ok else f"failing ({report.detail})"
    print(
        f"{state}: {report.backend} {report.server_version}, database "
        f"{report.database}, {report.latency_ms:.1f} ms, transactions "
        f"{'yes' if report.transactions else 'no'}"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
