"""The ``wellness-repo`` command: the demo, the index tool, schema migrations, a
health check, audit-chain verification, data-key rotation and fixture seeding."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from wellness_repo.database.manager import DatabaseManager, connect
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
    indexes.add_argument(
        "--shard",
        action="store_true",
        help="also shard collections on their declared shard_key (mongos only); "
        "with plan, only print the commands",
    )
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

    audit = commands.add_parser(
        "audit", help="check the audit trail's hash chain for tampering"
    )
    audit.add_argument("action", choices=("verify",))
    audit.add_argument(
        "--expected-tail",
        type=int,
        default=None,
        help="the last sequence an earlier verify printed; a chain ending before "
        "it lost entries from its end",
    )
    audit.add_argument(
        "--expected-mac",
        default=None,
        help="the MAC an earlier verify printed with that sequence; another entry "
        "there means the chain was cut back and written anew",
    )
    _connection_options(audit)
    audit.set_defaults(run=_run_audit)

    keys = commands.add_parser(
        "keys", help="rewrap the data keys of field encryption (key rotation)"
    )
    keys.add_argument("action", choices=("rotate",))
    keys.add_argument(
        "--new-local-key-env",
        metavar="VAR",
        help="move to the new local master key (base64) held in this variable",
    )
    keys.add_argument("--to-provider", help="move to this KMS: aws, azure or gcp")
    keys.add_argument("--master-key", help="the new KMS's master-key spec, as JSON")
    _connection_options(keys)
    keys.set_defaults(run=_run_keys)

    seed = commands.add_parser(
        "seed", help="seed deterministic synthetic fixtures (needs --uri)"
    )
    _seed_options(seed)
    _connection_options(seed)
    seed.set_defaults(run=_run_seed)
    return parser


def _seed_options(parser: argparse.ArgumentParser) -> None:
    from wellness_repo.seeding.command import add_seed_arguments

    add_seed_arguments(parser)


async def _run_seed(args: argparse.Namespace) -> int:
    from wellness_repo.seeding.command import run_seed_command

    return await run_seed_command(args)


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
        if args.shard:
            return await _run_indexes_and_shard(args, db)
        code, report = await run_index_command(args.action, db.database)
    finally:
        await db.close()
    print(report)
    return code


async def _run_indexes_and_shard(args: argparse.Namespace, db: DatabaseManager) -> int:
    from wellness_repo.database.indexes import load_index_specs, run_index_command
    from wellness_repo.database.sharding import (
        MongosAdmin,
        plan_sharding,
        run_shard_command,
    )
    from wellness_repo.errors import RepositoryError

    admin = MongosAdmin(db.client)
    specs = load_index_specs()
    try:
        # Refuses a server that is not a mongos before any index is touched.
        await plan_sharding(admin, db.database_name, specs)
        code, report = await run_index_command(args.action, db.database, specs=specs)
        shard_code, shard_report = await run_shard_command(
            admin,
            db.database_name,
            specs,
            dry_run=args.action == "plan",
            check=args.action == "check",
        )
    except RepositoryError as exc:
        print(f"indexes: {exc}", file=sys.stderr)
        return 2
    print(f"{report}\n{shard_report}")
    return max(code, shard_code)


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


async def _run_audit(args: argparse.Namespace) -> int:
    from wellness_repo.errors import ValidationError
    from wellness_repo.repositories.audit import AuditLogRepository
    from wellness_repo.security.context import PurposeOfUse, UserRole

    if not args.uri:
        print("audit: give --uri or set WELLNESS_MONGODB_URI", file=sys.stderr)
        return 2
    auditor = AccessContext(
        actor_id="system:audit-verify", role=UserRole.SYSTEM, purpose=PurposeOfUse.AUDIT
    )
    try:
        db = await connect(
            args.uri, args.database, context=auditor, apply_indexes=False
        )
        try:
            result = await AuditLogRepository(db).verify_audit_chain(
                expected_tail=args.expected_tail, expected_mac=args.expected_mac
            )
        finally:
            await db.close()
    except ValidationError as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return 2
    if result.problem is None:
        print(
            f"audit chain intact: {result.entries_checked} entries; last sequence "
            f"{result.last_sequence}, mac {result.last_mac}"
        )
        return 0
    problem = result.problem
    print(
        f"audit chain broken at sequence {problem.sequence} "
        f"(entry {problem.entry_id or 'none'}): {problem.kind.value}; "
        f"{result.entries_checked} entries intact before it"
    )
    return 1


async def _run_keys(args: argparse.Namespace) -> int:
    from wellness_repo.errors import ValidationError
    from wellness_repo.security.key_management import rotate_keys_from_command_line

    if not args.uri:
        print("keys: give --uri or set WELLNESS_MONGODB_URI", file=sys.stderr)
        return 2
    try:
        count = await rotate_keys_from_command_line(
            args.uri,
            args.database,
            new_key_env=args.new_local_key_env,
            provider=args.to_provider,
            master_key_json=args.master_key,
        )
    except ValidationError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 2
    print(f"rewrapped {count} data key(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
