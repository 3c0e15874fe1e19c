"""Fixtures shared by every test: the two backends, an empty database per test,
and the real MongoDB test server.

The real server comes from ``WELLNESS_TEST_MONGODB_URI`` (``scripts/test.sh``
starts one); when that is unset, the session starts its own with
``scripts/start_mongod.sh`` and stops it at the end. Real-server tests never skip.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.models import TEST_MODELS
from tests.support.phi_scan import PhiLogScanner, collect_markers
from wellness_repo import AccessContext, DatabaseManager, connect
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.policy import PermitAllPolicy

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = AccessContext.system("tests")
BACKENDS = ("embedded", "mongodb")
PHI_SCANNER = PhiLogScanner(collect_markers(ROOT / "tests"))


def pytest_configure(config: pytest.Config) -> None:
    """Watch every log line of the run for the test data's personal details.

    The package's and the driver's loggers run at DEBUG for the whole suite, so
    the most talkative setting an operator could choose is the one checked.
    """
    logging.getLogger().addHandler(PHI_SCANNER)
    for name in ("wellness_repo", "pymongo"):
        logging.getLogger(name).setLevel(logging.DEBUG)


@pytest.fixture(autouse=True)
def no_phi_in_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test during which any log line carried personal data."""
    PHI_SCANNER.current_test = request.node.nodeid
    already = len(PHI_SCANNER.leaks)
    yield
    leaks = PHI_SCANNER.leaks[already:]
    assert not leaks, "personal data reached a log line: " + "; ".join(
        f"{leak.kind} via logger {leak.logger}" for leak in leaks
    )


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    """The URI of the real test server, started for this session if needed."""
    uri = os.environ.get("WELLNESS_TEST_MONGODB_URI")
    if uri:
        yield uri
        return
    port = os.environ.get("WELLNESS_TEST_PORT", "27118")
    dbpath = ROOT / ".mongod" / f"pytest-{port}"
    env = {**os.environ, "PYTHON": sys.executable}
    started = subprocess.run(
        [str(ROOT / "scripts" / "start_mongod.sh"), "--port", port,
         "--dbpath", str(dbpath), "--fresh"],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(
            [str(ROOT / "scripts" / "stop_mongod.sh"), "--dbpath", str(dbpath)],
            check=False, capture_output=True,
        )  # fmt: skip


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per backend."""
    return str(request.param)


def cipher_for(database: str) -> CsfleCipher:
    """The real field cipher, with its key vault inside the test's database, so
    keys go with the test's data and one test's erasures never reach another's."""
    return CsfleCipher(key_vault_namespace=f"{database}.__keyVault")


async def open_database(uri: str | None, name: str | None = None) -> DatabaseManager:
    """A connection to a new, uniquely named database with indexes applied.

    The storage contract tests run under ``PermitAllPolicy``: they act as
    clinicians without seeding the care relationships the role policy would ask
    for. The role policy has its own suites (``test_access_*``, the break-glass
    and journal-sharing tests) over every repository, and README's examples run
    with the defaults ``connect`` installs.
    """
    name = name or f"test_{uuid.uuid4().hex[:16]}"
    return await connect(
        uri,
        name,
        policy=PermitAllPolicy(),
        cipher=cipher_for(name),
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=True,
    )


async def drop_and_close(manager: DatabaseManager) -> None:
    """Remove a test database and close its connection."""
    await manager.client.drop_database(manager.database_name)
    await manager.close()


@pytest.fixture(scope="session")
def shared_database(mongodb_uri: str) -> Iterator[str]:
    """One real-server database with every index applied, reused by the tests.

    Creating a database with all of its collections and indexes takes about a
    second on the test server; emptying the collections after a test takes a few
    milliseconds. Tests that change indexes open a database of their own.
    """
    name = f"test_shared_{uuid.uuid4().hex[:12]}"

    async def prepare() -> None:
        manager = await open_database(mongodb_uri, name)
        await manager.close()

    async def remove() -> None:
        manager = await connect(mongodb_uri, name, context=SYSTEM, apply_indexes=False)
        await drop_and_close(manager)

    # Session fixtures may first be asked for from inside a test's event loop,
    # so the set-up and tear-down run on a loop of their own.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, prepare()).result()
        yield name
        worker.submit(asyncio.run, remove()).result()


async def reuse_database(uri: str, name: str) -> DatabaseManager:
    """A connection to the shared test database, whose indexes are in place."""
    return await connect(
        uri,
        name,
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=False,
        policy=PermitAllPolicy(),
        cipher=cipher_for(name),
    )


async def empty_and_close(manager: DatabaseManager, uri: str) -> None:
    """Delete every document a test left in the shared database, keeping indexes."""
    if manager.is_closed:
        await manager.close()
        manager = await reuse_database(uri, manager.database_name)
    try:
        database = manager.database
        names = await database.list_collection_names()
        await asyncio.gather(*(database[name].delete_many({}) for name in names))
    finally:
        await manager.close()


@pytest.fixture
async def db(
    backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[DatabaseManager]:
    """An empty database on the parametrized backend, under a system context.

    Embedded: a new in-process database. Real server: the shared test database,
    emptied again when the test ends.
    """
    if backend == "embedded":
        manager = await open_database(None)
        try:
            yield manager
        finally:
            await drop_and_close(manager)
        return
    uri = request.getfixturevalue("mongodb_uri")
    manager = await reuse_database(uri, request.getfixturevalue("shared_database"))
    try:
        yield manager
    finally:
        await empty_and_close(manager, uri)


@pytest.fixture
async def mongo_db(
    mongodb_uri: str, shared_database: str
) -> AsyncIterator[DatabaseManager]:
    """The shared real-server test database, emptied when the test ends."""
    manager = await reuse_database(mongodb_uri, shared_database)
    try:
        yield manager
    finally:
        await empty_and_close(manager, mongodb_uri)
