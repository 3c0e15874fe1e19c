"""``--shard`` against the real replica set: refused with a clear message, before
any index or collection is touched (sharding needs a mongos router)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from wellness_repo.database.index_specs import load_index_specs
from wellness_repo.database.sharding import MongosAdmin, NotAMongosError, plan_sharding

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    connection: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_uri, tz_aware=True
    )
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def database_name(
    client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[str]:
    name = f"shard_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        await client.drop_database(name)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


async def test_script_shard_on_a_replica_set_exits_2_and_changes_nothing(
    mongodb_uri: str, client: AsyncMongoClient[dict[str, Any]], database_name: str
) -> None:
    result = await asyncio.to_thread(
        run,
        str(ROOT / "scripts" / "setup_indexes.py"),
        "--uri",
        mongodb_uri,
        "--database",
        database_name,
        "--shard",
    )

    assert result.returncode == 2
    assert "setup_indexes: --shard needs a mongos router" in result.stderr
    assert "replica set 'rs0'" in result.stderr
    assert result.stdout == ""
    assert await client[database_name].list_collection_names() == []


async def test_script_shard_dry_run_on_a_replica_set_is_refused_too(
    mongodb_uri: str, database_name: str
) -> None:
    result = await asyncio.to_thread(
        run,
        str(ROOT / "scripts" / "setup_indexes.py"),
        "--uri",
        mongodb_uri,
        "--database",
        database_name,
        "--shard",
        "--dry-run",
    )

    assert result.returncode == 2
    assert "needs a mongos router" in result.stderr


async def test_cli_indexes_apply_shard_on_a_replica_set_exits_2_and_changes_nothing(
    mongodb_uri: str, client: AsyncMongoClient[dict[str, Any]], database_name: str
) -> None:
    result = await asyncio.to_thread(
        run,
        "-m",
        "wellness_repo.cli",
        "indexes",
        "apply",
        "--shard",
        "--uri",
        mongodb_uri,
        "--database",
        database_name,
    )

    assert result.returncode == 2
    assert "indexes: --shard needs a mongos router" in result.stderr
    assert await client[database_name].list_collection_names() == []


async def test_mongos_admin_names_the_replica_set_it_refuses(
    client: AsyncMongoClient[dict[str, Any]], database_name: str
) -> None:
    with pytest.raises(NotAMongosError) as refused:
        await plan_sharding(MongosAdmin(client), database_name, load_index_specs())

    assert refused.value.server.startswith("replica set ")
