"""Reads through a connection that drops, on a single server reached through a
proxy the test can cut: a read that cannot reach the server fails with a clear
``RepositoryError``, one dropped link is retried unseen, and the next call after
an outage works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from pymongo.errors import PyMongoError

from tests.conftest import SYSTEM, cipher_for
from tests.support.fault_proxy import CuttableProxy
from tests.support.models import TEST_MODELS
from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    JournalEntry,
    JournalRepository,
    MoodEntry,
    MoodEntryRepository,
    QueryOptions,
    RepositoryError,
    connect,
)
from wellness_repo.config import Settings
from wellness_repo.security.policy import PermitAllPolicy

pytestmark = [pytest.mark.integration, pytest.mark.faults]

PATIENT = "patient_123"
ENTRIES = 40
# Through the proxy a read gives up after this long without a server.
SELECTION_MS = 2_000


@pytest.fixture
async def proxy(mongodb_uri: str) -> AsyncIterator[CuttableProxy]:
    """A cuttable proxy in front of the test server's first host."""
    first_host = urlsplit(mongodb_uri).netloc.rsplit("@", 1)[-1].split(",")[0]
    host, _, port = first_host.rpartition(":")
    async with CuttableProxy(host, int(port)) as running:
        yield running


@pytest.fixture
async def proxied(
    mongo_db: DatabaseManager, proxy: CuttableProxy
) -> AsyncIterator[MoodEntryRepository]:
    """Mood entries of the shared test database, read through the proxy."""
    manager = await connect(
        f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true",
        mongo_db.database_name,
        context=SYSTEM,
        settings=Settings(
            server_selection_timeout_ms=SELECTION_MS, connect_timeout_ms=1_000
        ),
        document_models=TEST_MODELS,
        apply_indexes=False,
        policy=PermitAllPolicy(),
        cipher=cipher_for(mongo_db.database_name),
    )
    try:
        yield MoodEntryRepository(manager)
    finally:
        await manager.close()


@pytest.fixture
async def month(mongo_db: DatabaseManager) -> list[MoodEntry]:
    """A month of a patient's evening check-ins, stored directly."""
    entries = [
        MoodEntry(
            user_id=PATIENT,
            mood_rating=1 + day % 10,
            contributing_factors=["Good sleep"] if day % 2 else ["Exercise"],
            notes=f"Day {day}: talked through the week with my sister.",
        )
        for day in range(ENTRIES)
    ]
    return await MoodEntryRepository(mongo_db).create_many(entries)


def patients_entries() -> QueryOptions:
    """Every entry of the patient, best first."""
    return QueryOptions(
        filters={"user_id": PATIENT}, order_by=["-mood_rating"], limit=ENTRIES
    )


async def test_a_read_while_the_server_is_unreachable_raises_a_repository_error(
    proxied: MoodEntryRepository, proxy: CuttableProxy, month: list[MoodEntry]
) -> None:
    await proxied.get(month[0].id)
    proxy.refuse()

    with pytest.raises(RepositoryError) as raised:
        await proxied.get_by_id(month[0].id)

    error = raised.value
    assert type(error) is RepositoryError
    assert "could not be reached" in str(error)
    assert (error.entity, error.entity_id) == ("MoodEntry", month[0].id)
    # Translated once, in the repository: the driver's error is the cause.
    assert isinstance(error.cause, PyMongoError)


async def test_a_list_while_the_server_is_unreachable_raises_a_repository_error(
    proxied: MoodEntryRepository, proxy: CuttableProxy, month: list[MoodEntry]
) -> None:
    await proxied.list_all(patients_entries())
    proxy.refuse()

    with pytest.raises(RepositoryError) as raised:
        await proxied.list_all(patients_entries())

    assert type(raised.value) is RepositoryError
    assert isinstance(raised.value.cause, PyMongoError)
    assert "talked through" not in str(raised.value)


async def test_the_next_read_after_the_outage_succeeds(
    proxied: MoodEntryRepository, proxy: CuttableProxy, month: list[MoodEntry]
) -> None:
    proxy.refuse()
    with pytest.raises(RepositoryError):
        await proxied.get_by_id(month[0].id)
    proxy.restore()

    again = await proxied.get(month[0].id)
    page = await proxied.list_all(patients_entries())

    assert again == month[0]
    assert len(page.items) == ENTRIES


async def test_connections_dropped_between_calls_are_replaced_unseen(
    proxied: MoodEntryRepository, proxy: CuttableProxy, month: list[MoodEntry]
) -> None:
    await proxied.get(month[0].id)
    opened = proxy.accepted
    proxy.cut()

    again = await proxied.get(month[1].id)

    assert again == month[1]
    assert proxy.accepted > opened


async def test_a_reply_cut_off_half_way_is_read_again_unseen(
    proxied: MoodEntryRepository, proxy: CuttableProxy, month: list[MoodEntry]
) -> None:
    await proxied.get(month[0].id)
    opened = proxy.accepted
    proxy.cut_next_reply()

    page = await proxied.list_all(patients_entries())

    assert sorted(entry.id for entry in page.items) == sorted(e.id for e in month)
    assert proxy.accepted > opened


def reflection(title: str) -> JournalEntry:
    """A short journal entry without crisis language."""
    return JournalEntry(
        user_id=PATIENT,
        title=title,
        content="Wrote down three things that went well today.",
    )


async def test_a_transaction_cut_off_by_an_outage_says_the_server_was_unreachable(
    proxied: MoodEntryRepository, proxy: CuttableProxy
) -> None:
    journals = JournalRepository(proxied.db)

    async def write_two_cut_off_between() -> None:
        async with proxied.db.transaction():
            await journals.create(reflection("Before the session"))
            proxy.refuse()
            await journals.create(reflection("After the session"))

    with pytest.raises(ConcurrencyError) as raised:
        await write_two_cut_off_between()

    # Safe to run again, like a lost race, but not reported as one.
    assert "could not be reached" in str(raised.value)
    assert "conflicted" not in str(raised.value)
    assert isinstance(raised.value.cause, PyMongoError)


async def test_starting_a_transaction_during_an_outage_raises_a_repository_error(
    proxied: MoodEntryRepository, proxy: CuttableProxy
) -> None:
    journals = JournalRepository(proxied.db)
    proxy.refuse()

    with pytest.raises(RepositoryError) as raised:
        async with proxied.db.transaction():
            await journals.create(reflection("After the session"))

    assert "could not be reached" in str(raised.value)
