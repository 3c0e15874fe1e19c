"""The index tool against real databases: creating what is missing, staying idempotent,
reporting drift without touching it, and surviving two deploy hosts at once.

Most behaviours run on both backends: the real server (``WELLNESS_TEST_MONGODB_URI``)
and the embedded one. Real-server tests fail, never skip, when no server is given.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import traceback
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from wellness_repo.database.embedded import EmbeddedClient, EmbeddedDatabase
from wellness_repo.database.indexes import (
    CollectionIndexes,
    IndexedDatabase,
    IndexName,
    IndexSpec,
    apply_indexes,
    run_index_command,
)
from wellness_repo.errors import BackendCapabilityError, DuplicateError

ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = ROOT / "scripts" / "setup_indexes.py"

USER_TIMELINE = IndexSpec(
    "user_timeline",
    (("user_id", 1), ("created_at", -1), ("_id", 1)),
    "one patient's mood entries, newest first, with a stable tiebreak",
)
USER_TAGS = IndexSpec(
    "user_tags", (("user_id", 1), ("tags", 1)), "one patient's entries carrying a tag"
)
OPEN_DETECTION = IndexSpec(
    "one_open_detection_per_patient",
    (("user_id", 1),),
    "a patient has at most one open crisis detection",
    unique=True,
    partial_filter={"status": {"$eq": "open"}},
)
SESSION_EXPIRY = IndexSpec(
    "session_expiry",
    (("expires_at", 1),),
    "a login session ends at its expiry time",
    expire_after_seconds=0,
)
RESOURCE_SEARCH = IndexSpec(
    "resource_search",
    (("title", "text"), ("summary", "text")),
    "find self-help resources by words in their title or summary",
)
NEARBY_PROVIDERS = IndexSpec(
    "nearby_providers",
    (("office_location", "2dsphere"),),
    "providers near a patient",
    sparse=True,
)
EMAIL_LOOKUP = IndexSpec(
    "email_lookup",
    (("email", 1),),
    "find a user account by email, whatever its case",
    unique=True,
    collation={"locale": "en", "strength": 2},
)

SPECS = [
    CollectionIndexes("mood_entries", None, (USER_TIMELINE, USER_TAGS)),
    CollectionIndexes("crisis_detections", None, (OPEN_DETECTION,)),
    CollectionIndexes("login_sessions", None, (SESSION_EXPIRY,)),
    CollectionIndexes("resources", None, (RESOURCE_SEARCH,)),
    CollectionIndexes("providers", None, (NEARBY_PROVIDERS,)),
]
DECLARED = {
    IndexName(collection.collection, spec.name)
    for collection in SPECS
    for spec in collection.indexes
}
USERS = [CollectionIndexes("users", None, (EMAIL_LOOKUP,))]

BACKENDS = [
    pytest.param("mongodb", marks=pytest.mark.integration),
    pytest.param("embedded"),
]


def fresh_database_name() -> str:
    """A database name no other test uses."""
    return f"idx_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def server_uri(mongodb_uri: str) -> str:
    """The real test server's URI (the session starts one if none is given)."""
    return mongodb_uri


@pytest.fixture
async def server_database(server_uri: str) -> AsyncIterator[AsyncDatabase[Any]]:
    """A fresh, uniquely named database on the real server, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        server_uri, tz_aware=True
    )
    name = fresh_database_name()
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
def embedded_database() -> EmbeddedDatabase:
    """A fresh in-memory database."""
    return EmbeddedClient()[fresh_database_name()]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> IndexedDatabase:
    """A fresh database on each backend in turn."""
    if request.param == "mongodb":
        return cast(IndexedDatabase, request.getfixturevalue("server_database"))
    return cast(IndexedDatabase, request.getfixturevalue("embedded_database"))


async def indexes_on(database: Any, collection: str) -> dict[str, dict[str, Any]]:
    """The collection's indexes by name, ``_id_`` left out."""
    cursor = await database[collection].list_indexes()
    return {
        index["name"]: dict(index)
        for index in await cursor.to_list()
        if index["name"] != "_id_"
    }


async def index_names_everywhere(database: Any) -> set[IndexName]:
    """Every index in the database except the ``_id_`` ones."""
    names: set[IndexName] = set()
    for collection in await database.list_collection_names():
        names |= {
            IndexName(collection, name)
            for name in await indexes_on(database, collection)
        }
    return names


class CompetingDeployer:
    """Stands between the tool and a database and, just before the tool creates its
    first index, lets another deploy host create its own version of that index."""

    def __init__(self, database: Any, competitor_keys: list[Any], **options: Any):
        self.database = database
        self.competitor_keys = competitor_keys
        self.competitor_options = options
        self.has_competed = False

    def __getitem__(self, name: str) -> CompetingCollection:
        return CompetingCollection(self, self.database[name])

    async def list_collection_names(self) -> list[str]:
        """The wrapped database's collection names."""
        names: list[str] = await self.database.list_collection_names()
        return names


class CompetingCollection:
    """One collection of a ``CompetingDeployer``."""

    def __init__(self, deployer: CompetingDeployer, collection: Any) -> None:
        self.deployer = deployer
        self.collection = collection

    async def list_indexes(self) -> Any:
        """The wrapped collection's indexes."""
        return await self.collection.list_indexes()

    async def create_index(self, keys: Any, **options: Any) -> Any:
        """Let the competitor go first once, then do what the tool asked."""
        if not self.deployer.has_competed:
            self.deployer.has_competed = True
            await self.collection.create_index(
                self.deployer.competitor_keys, **self.deployer.competitor_options
            )
        return await self.collection.create_index(keys, **options)


# --- both backends --------------------------------------------------------------


async def test_apply_creates_every_declared_index(database: IndexedDatabase) -> None:
    report = await apply_indexes(database, SPECS)

    assert set(report.created) == DECLARED
    assert await index_names_everywhere(database) == DECLARED
    assert report.matches_specs


async def test_second_apply_creates_nothing_and_finds_all_in_sync(
    database: IndexedDatabase,
) -> None:
    await apply_indexes(database, SPECS)

    report = await apply_indexes(database, SPECS)

    assert report.created == ()
    assert set(report.in_sync) == DECLARED
    assert report.drifted == ()
    assert report.unknown == ()


async def test_changed_option_is_reported_as_drift_and_left_unchanged(
    database: IndexedDatabase,
) -> None:
    await database["mood_entries"].create_index(
        [("user_id", 1), ("tags", 1)], name="user_tags", unique=True
    )

    report = await apply_indexes(database, SPECS)

    (drift,) = report.drifted
    assert (drift.collection, drift.name) == ("mood_entries", "user_tags")
    assert drift.reason == "unique is true on the server but false in the spec"
    assert (await indexes_on(database, "mood_entries"))["user_tags"]["unique"] is True


async def test_same_name_with_other_keys_is_reported_as_drift(
    database: IndexedDatabase,
) -> None:
    await database["mood_entries"].create_index([("user_id", 1)], name="user_tags")

    report = await apply_indexes(database, SPECS)

    (drift,) = report.drifted
    assert drift.name == "user_tags"
    assert drift.reason.startswith("keys are (user_id: 1) on the server")


async def test_declared_keys_under_another_name_are_reported_as_drift(
    database: IndexedDatabase,
) -> None:
    await database["mood_entries"].create_index(
        [("user_id", 1), ("tags", 1)], name="user_id_1_tags_1"
    )

    report = await apply_indexes(database, SPECS)

    (drift,) = report.drifted
    assert drift.name == "user_tags"
    assert drift.reason == "its keys are on the server as index 'user_id_1_tags_1'"
    assert "user_tags" not in await indexes_on(database, "mood_entries")


async def test_index_no_spec_declares_is_reported_as_unknown_and_kept(
    database: IndexedDatabase,
) -> None:
    await database["mood_entries"].create_index(
        [("user_id", 1), ("mood_rating", 1)], name="legacy_rating"
    )

    report = await apply_indexes(database, SPECS)

    (unknown,) = report.unknown
    assert unknown.index_name == IndexName("mood_entries", "legacy_rating")
    assert "legacy_rating" in await indexes_on(database, "mood_entries")
    assert not report.matches_specs


async def test_index_in_a_collection_without_spec_is_reported_as_unknown(
    database: IndexedDatabase,
) -> None:
    await database["scratch_exports"].create_index([("user_id", 1)], name="by_user")

    report = await apply_indexes(database, SPECS)

    assert [index.index_name for index in report.unknown] == [
        IndexName("scratch_exports", "by_user")
    ]


async def test_check_exits_non_zero_on_drift(database: IndexedDatabase) -> None:
    await apply_indexes(database, SPECS)
    await database["mood_entries"].drop_index("user_tags")
    await database["mood_entries"].create_index(
        [("user_id", 1), ("tags", 1)], name="user_tags", unique=True
    )

    exit_code, text = await run_index_command("check", database, specs=SPECS)

    assert exit_code == 1
    assert "DRIFT      user_tags: unique is true" in text


async def test_check_exits_non_zero_when_an_index_is_missing(
    database: IndexedDatabase,
) -> None:
    exit_code, text = await run_index_command("check", database, specs=SPECS)

    assert exit_code == 1
    assert "to create  user_timeline" in text


async def test_check_exits_zero_when_the_database_matches(
    database: IndexedDatabase,
) -> None:
    await apply_indexes(database, SPECS)

    exit_code, text = await run_index_command("check", database, specs=SPECS)

    assert exit_code == 0
    assert text.endswith("The database matches the index specs.")


async def test_dry_run_changes_nothing(database: IndexedDatabase) -> None:
    await database["mood_entries"].create_index(
        [("user_id", 1), ("mood_rating", 1)], name="legacy_rating"
    )

    report = await apply_indexes(database, SPECS, dry_run=True, drop_unknown=True)

    assert set(report.created) == DECLARED
    assert report.dropped == (IndexName("mood_entries", "legacy_rating"),)
    assert await index_names_everywhere(database) == {
        IndexName("mood_entries", "legacy_rating")
    }


async def test_drop_unknown_removes_only_undeclared_indexes(
    database: IndexedDatabase,
) -> None:
    await database["mood_entries"].create_index(
        [("user_id", 1), ("mood_rating", 1)], name="legacy_rating"
    )
    await database["mood_entries"].create_index(
        [("user_id", 1), ("tags", 1)], name="user_tags", unique=True
    )

    report = await apply_indexes(database, SPECS, drop_unknown=True)

    assert report.dropped == (IndexName("mood_entries", "legacy_rating"),)
    assert set(await indexes_on(database, "mood_entries")) == {
        "user_timeline",
        "user_tags",
    }
    assert [drift.name for drift in report.drifted] == ["user_tags"]


async def test_two_concurrent_applies_on_one_connection_both_succeed(
    database: IndexedDatabase,
) -> None:
    first, second = await asyncio.gather(
        apply_indexes(database, SPECS), apply_indexes(database, SPECS)
    )

    assert first.matches_specs
    assert second.matches_specs
    assert await index_names_everywhere(database) == DECLARED


async def test_competing_deploy_with_other_options_is_reported_as_drift(
    database: IndexedDatabase,
) -> None:
    competitor = CompetingDeployer(
        database, [("user_id", 1), ("tags", 1)], name="user_tags", unique=True
    )
    mood_entries = [CollectionIndexes("mood_entries", None, (USER_TAGS,))]

    report = await apply_indexes(cast(IndexedDatabase, competitor), mood_entries)

    assert report.created == ()
    (drift,) = report.drifted
    assert drift.reason == "unique is true on the server but false in the spec"


async def test_building_a_unique_index_over_duplicate_records_raises_duplicate_error(
    database: IndexedDatabase,
) -> None:
    detections = database["crisis_detections"]
    await detections.insert_many(
        [
            {"user_id": "patient_123", "status": "open"},
            {"user_id": "patient_123", "status": "open"},
        ]
    )

    with pytest.raises(DuplicateError) as raised:
        await apply_indexes(database, SPECS)

    assert "one_open_detection_per_patient" in str(raised.value)
    # The driver's message quotes the duplicated key (here a patient id; on the
    # accounts, a username): the error's traceback must not carry it.
    shown = "".join(traceback.format_exception(raised.value))
    assert "patient_123" not in shown
    assert raised.value.__cause__ is None


# --- real server only ----------------------------------------------------------


@pytest.mark.integration
async def test_two_deploy_hosts_applying_at_once_both_succeed(server_uri: str) -> None:
    name = fresh_database_name()
    host_a: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        server_uri, tz_aware=True
    )
    host_b: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        server_uri, tz_aware=True
    )
    try:
        first, second = await asyncio.gather(
            apply_indexes(host_a[name], SPECS), apply_indexes(host_b[name], SPECS)
        )

        assert first.matches_specs
        assert second.matches_specs
        assert await index_names_everywhere(host_a[name]) == DECLARED
    finally:
        await host_a.drop_database(name)
        await host_a.close()
        await host_b.close()


@pytest.mark.integration
async def test_competing_deploy_with_the_keys_under_another_name_is_drift(
    server_database: AsyncDatabase[Any],
) -> None:
    competitor = CompetingDeployer(
        server_database, [("user_id", 1), ("tags", 1)], name="user_id_1_tags_1"
    )
    mood_entries = [CollectionIndexes("mood_entries", None, (USER_TAGS,))]

    report = await apply_indexes(cast(IndexedDatabase, competitor), mood_entries)

    (drift,) = report.drifted
    assert drift.reason == "its keys are on the server as index 'user_id_1_tags_1'"


@pytest.mark.integration
async def test_collation_index_is_in_sync_after_the_server_fills_its_defaults(
    server_database: AsyncDatabase[Any],
) -> None:
    await apply_indexes(server_database, USERS)

    report = await apply_indexes(server_database, USERS)

    assert report.in_sync == (IndexName("users", "email_lookup"),)


@pytest.mark.integration
async def test_changed_collation_strength_is_reported_as_drift(
    server_database: AsyncDatabase[Any],
) -> None:
    await server_database["users"].create_index(
        [("email", 1)],
        name="email_lookup",
        unique=True,
        collation={"locale": "en", "strength": 3},
    )

    report = await apply_indexes(server_database, USERS)

    (drift,) = report.drifted
    assert drift.reason == "collation strength is 3 on the server but 2 in the spec"


def run_setup_script(
    uri: str, database: str, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """Run scripts/setup_indexes.py against one database of the test server."""
    return subprocess.run(
        [
            sys.executable,
            str(SETUP_SCRIPT),
            "--uri",
            uri,
            "--database",
            database,
            "--specs",
            str(ROOT / "indexes"),
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration
async def test_script_check_exits_1_on_drift(
    server_uri: str, server_database: AsyncDatabase[Any]
) -> None:
    await server_database["mood_entries"].create_index(
        [("user_id", 1), ("tags", 1)], name="user_tags", unique=True
    )

    result = await asyncio.to_thread(
        run_setup_script, server_uri, server_database.name, "--check"
    )

    assert result.returncode == 1
    assert "DRIFT      user_tags" in result.stdout


@pytest.mark.integration
async def test_script_creates_the_shipped_indexes_and_then_checks_clean(
    server_uri: str, server_database: AsyncDatabase[Any]
) -> None:
    applied = await asyncio.to_thread(
        run_setup_script, server_uri, server_database.name
    )

    checked = await asyncio.to_thread(
        run_setup_script, server_uri, server_database.name, "--check"
    )

    assert applied.returncode == 0
    assert checked.returncode == 0
    assert set(await indexes_on(server_database, "mood_entries")) >= {"user_timeline"}


# --- embedded backend only -------------------------------------------------------


async def test_collation_declaration_on_the_embedded_backend_is_refused(
    embedded_database: EmbeddedDatabase,
) -> None:
    with pytest.raises(BackendCapabilityError) as raised:
        await apply_indexes(embedded_database, USERS)

    assert raised.value.capability == "index collation (index 'email_lookup')"
    assert await embedded_database.list_collection_names() == []
