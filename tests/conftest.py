"""Fixtures shared by every test: the two backends, a fresh database per test,
and the real MongoDB test server.

The real server comes from ``WELLNESS_TEST_MONGODB_URI`` (``scripts/test.sh``
starts one); when that is unset, the session starts its own with
``scripts/start_mongod.sh`` and stops it at the end. Real-server tests never skip.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.models import TEST_MODELS
from tests.support.phi_scan import PhiLogScanner, collect_markers
from wellness_repo import AccessContext, DatabaseManager, connect

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


async def open_database(uri: str | None) -> DatabaseManager:
    """A connection to a new, uniquely named database with indexes applied."""
    return await connect(
        uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=True,
    )


async def drop_and_close(manager: DatabaseManager) -> None:
    """Remove a test database and close its connection."""
    await manager.client.drop_database(manager.database_name)
    await manager.close()


@pytest.fixture
async def db(backend: str, mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    """A fresh database on the parametrized backend, under a system context."""
    manager = await open_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield manager
    finally:
        await drop_and_close(manager)


@pytest.fixture
async def mongo_db(mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    """A fresh database on the real server only."""
    manager = await open_database(mongodb_uri)
    try:
        yield manager
    finally:
        await drop_and_close(manager)
