"""Field encryption against the real server: what the repositories store is
standard CSFLE that plain PyMongo ``ClientEncryption`` reads and writes with the
same key vault and master key; a page costs one key query; racing processes
share one key per patient; erasure holds for every connection; and the
``keys rotate`` command rewraps the vault."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from bson.binary import Binary
from bson.codec_options import CodecOptions
from pymongo import MongoClient
from pymongo.encryption import Algorithm, ClientEncryption
from pymongo.errors import EncryptionError

from tests.conftest import drop_and_close
from tests.support.encryption import (
    NEW_MASTER_KEY,
    key_vault,
    master_key_text,
    open_encrypted_database,
    raw_document,
    vault_namespace,
)
from tests.support.explain import CommandRecorder, unindexed_stages
from wellness_repo import (
    DatabaseManager,
    MoodEntry,
    QueryOptions,
    Settings,
    create_mood_entry_repository,
)
from wellness_repo.cli import main
from wellness_repo.errors import DataErasedError
from wellness_repo.security.key_management import (
    erase_patient_data_key,
    replace_local_master_key,
)
from wellness_repo.security.master_keys import local_kms_providers

PATIENT = "patient_123"
NOTE = "Heard the voices again at work; hid in the stairwell for an hour"
OTHER_NOTE = "Medication change helped, slept through three nights"


@pytest.fixture
async def encrypted_db(mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    db = await open_encrypted_database(mongodb_uri)
    try:
        yield db
    finally:
        await drop_and_close(db)


@pytest.fixture
def plain_encryption(
    encrypted_db: DatabaseManager, mongodb_uri: str
) -> Iterator[ClientEncryption[Any]]:
    """Plain synchronous PyMongo CSFLE over the same key vault and master key."""
    with (
        MongoClient(mongodb_uri) as client,
        ClientEncryption(
            local_kms_providers(Settings()),
            vault_namespace(encrypted_db.database_name),
            client,
            CodecOptions(),
        ) as encryption,
    ):
        yield encryption


async def entry(db: DatabaseManager, patient: str = PATIENT) -> MoodEntry:
    return await create_mood_entry_repository(db).create(
        MoodEntry(user_id=patient, mood_rating=2, notes=NOTE)
    )


async def test_plain_client_encryption_decrypts_a_stored_note(
    encrypted_db: DatabaseManager, plain_encryption: ClientEncryption[Any]
) -> None:
    created = await entry(encrypted_db)
    stored = await raw_document(encrypted_db, MoodEntry, created.id)

    decrypted = plain_encryption.decrypt(stored["notes"])

    assert decrypted == NOTE


async def test_a_note_encrypted_by_plain_pymongo_reads_through_the_repository(
    encrypted_db: DatabaseManager, plain_encryption: ClientEncryption[Any]
) -> None:
    created = await entry(encrypted_db)
    sealed = plain_encryption.encrypt(
        OTHER_NOTE,
        Algorithm.AEAD_AES_256_CBC_HMAC_SHA_512_Random,
        key_alt_name=f"patient:{PATIENT}",
    )
    await encrypted_db.collection(MoodEntry).update_one(
        {"_id": created.id}, {"$set": {"notes": sealed}}
    )

    found = await create_mood_entry_repository(encrypted_db).get(created.id)

    assert found.notes == OTHER_NOTE


async def test_plain_client_encryption_cannot_decrypt_an_erased_note(
    encrypted_db: DatabaseManager, plain_encryption: ClientEncryption[Any]
) -> None:
    created = await entry(encrypted_db)
    stored = await raw_document(encrypted_db, MoodEntry, created.id)

    await erase_patient_data_key(encrypted_db, PATIENT)

    with pytest.raises(EncryptionError):
        plain_encryption.decrypt(stored["notes"])


async def test_a_new_connection_finds_an_erased_record_erased(
    encrypted_db: DatabaseManager, mongodb_uri: str
) -> None:
    created = await entry(encrypted_db)

    await erase_patient_data_key(encrypted_db, PATIENT)

    fresh = await open_encrypted_database(
        mongodb_uri, database=encrypted_db.database_name
    )
    try:
        with pytest.raises(DataErasedError) as erased:
            await create_mood_entry_repository(fresh).get(created.id)
    finally:
        await fresh.close()
    assert erased.value.entity_id == created.id


async def test_a_page_of_many_patients_fetches_their_keys_in_one_query(
    encrypted_db: DatabaseManager, mongodb_uri: str
) -> None:
    for number in range(60):
        await entry(encrypted_db, f"patient_{number:04d}")
    recorder = CommandRecorder()
    reader = await open_encrypted_database(
        mongodb_uri,
        database=encrypted_db.database_name,
        driver_options={"event_listeners": [recorder]},
    )
    try:
        recorder.recording = True
        page = await create_mood_entry_repository(reader).list_all(QueryOptions())
        recorder.recording = False
    finally:
        await reader.close()

    key_queries = [c for c in recorder.commands if c.get("find") == "__keyVault"]
    assert [item.notes for item in page.items] == [NOTE] * 60
    assert len(key_queries) == 1


async def test_racing_connections_create_one_key_per_patient(
    encrypted_db: DatabaseManager, mongodb_uri: str
) -> None:
    patient = f"patient_{uuid.uuid4().hex[:8]}"
    writers = [
        await open_encrypted_database(mongodb_uri, database=encrypted_db.database_name)
        for _ in range(8)
    ]
    try:
        created = await asyncio.gather(*(entry(db, patient) for db in writers))
    finally:
        for db in writers:
            await db.close()

    names = [
        name
        for key in await key_vault(encrypted_db).find({}).to_list(None)
        for name in key.get("keyAltNames", ())
    ]
    repo = create_mood_entry_repository(encrypted_db)
    assert names.count(f"patient:{patient}") == 1
    assert [(await repo.get(item.id)).notes for item in created] == [NOTE] * 8


async def test_the_key_vault_makes_key_names_unique(
    encrypted_db: DatabaseManager,
) -> None:
    indexes = await key_vault(encrypted_db).index_information()

    assert indexes["keyAltNames_unique"]["unique"] is True
    assert indexes["keyAltNames_unique"]["key"] == [("keyAltNames", 1)]


@pytest.mark.parametrize(
    "query",
    [
        {"keyAltNames": {"$in": ["patient:patient_123", "patient:patient_456"]}},
        {"keyAltNames": "patient:patient_123"},
        {"$or": [{"_id": {"$in": [Binary(b"0" * 16, 4)]}}, {"keyAltNames": "x"}]},
    ],
    ids=["names", "one_name", "libmongocrypt"],
)
async def test_key_vault_lookups_are_served_by_an_index(
    encrypted_db: DatabaseManager, query: dict[str, Any]
) -> None:
    await entry(encrypted_db)

    stages = await unindexed_stages(
        encrypted_db, {"find": "__keyVault", "filter": query}
    )

    assert stages == []


async def test_a_new_connection_with_the_replaced_master_key_reads_the_data(
    encrypted_db: DatabaseManager, mongodb_uri: str
) -> None:
    created = await entry(encrypted_db)

    await replace_local_master_key(encrypted_db, NEW_MASTER_KEY)

    settings = Settings(local_master_key=master_key_text(NEW_MASTER_KEY))
    reader = await open_encrypted_database(
        mongodb_uri, database=encrypted_db.database_name, settings=settings
    )
    try:
        found = await create_mood_entry_repository(reader).get(created.id)
    finally:
        await reader.close()
    assert found.notes == NOTE


def test_keys_rotate_command_moves_the_vault_to_a_new_master_key(
    mongodb_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = f"cli_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("WELLNESS_KEY_VAULT_NAMESPACE", vault_namespace(database))
    monkeypatch.setenv("WELLNESS_TEST_NEXT_MASTER_KEY", master_key_text(NEW_MASTER_KEY))
    created = asyncio.run(_stored_entry(mongodb_uri, database))
    try:
        code = main(
            ["keys", "rotate", "--uri", mongodb_uri, "--database", database,
             "--new-local-key-env", "WELLNESS_TEST_NEXT_MASTER_KEY"]
        )  # fmt: skip

        printed = capsys.readouterr().out
        notes = asyncio.run(_read_with_new_key(mongodb_uri, database, created.id))
    finally:
        with MongoClient(mongodb_uri) as client:
            client.drop_database(database)
    assert code == 0
    assert printed.strip() == "rewrapped 1 data key(s)"
    assert notes == NOTE


def test_keys_rotate_command_refuses_a_malformed_key_without_echoing_it(
    mongodb_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = f"cli_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("WELLNESS_KEY_VAULT_NAMESPACE", vault_namespace(database))
    monkeypatch.setenv("WELLNESS_TEST_NEXT_MASTER_KEY", "bm90LWEta2V5")

    code = main(
        ["keys", "rotate", "--uri", mongodb_uri, "--database", database,
         "--new-local-key-env", "WELLNESS_TEST_NEXT_MASTER_KEY"]
    )  # fmt: skip

    printed = capsys.readouterr()
    assert code == 2
    assert "WELLNESS_TEST_NEXT_MASTER_KEY" in printed.err
    assert "bm90LWEta2V5" not in printed.err + printed.out


async def _stored_entry(uri: str, database: str) -> MoodEntry:
    db = await open_encrypted_database(uri, database=database)
    try:
        return await entry(db)
    finally:
        await db.close()


async def _read_with_new_key(uri: str, database: str, entry_id: str) -> str | None:
    settings = Settings(local_master_key=master_key_text(NEW_MASTER_KEY))
    db = await open_encrypted_database(uri, database=database, settings=settings)
    try:
        return (await create_mood_entry_repository(db).get(entry_id)).notes
    finally:
        await db.close()
