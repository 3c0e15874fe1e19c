"""The rows with ``connect()``'s default stages: the repository encrypting
``MoodEntry.notes`` (MongoDB CSFLE, explicit) and appending one entry to the
HMAC-chained audit trail per call, against a raw PyMongo program doing the same
with the driver's own APIs (``raw_secure_side``), and the per-value cost of
encrypting and decrypting notes.

Not run on its own: ``bench_foundation.py`` runs these rows after the
foundation's and prints them in the same table.
"""

from __future__ import annotations

import random
from datetime import UTC
from typing import Any

from measuring import Row, compare, per_call, progress, ratio_row
from mood_records import BUSY_PATIENT, LIST_SIZE, mood_entries, stored_form
from pymongo import AsyncMongoClient
from pymongo.encryption_options import AutoEncryptionOpts
from raw_secure_side import KEY_EXPIRATION_MS, EncryptedAuditedDriver, is_ciphertext
from repository_rows import bench_list_all, compare_repository, mood_pipeline

from wellness_repo import AccessContext, DatabaseManager, MoodEntry
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.key_vault import RANDOM
from wellness_repo.security.master_keys import local_kms_providers

# --------------------------------------------------------- per-value rows


async def bench_decrypt_values(
    db: DatabaseManager, side: EncryptedAuditedDriver, repeats: int
) -> Row:
    """Decrypting the notes of the busy patient's entries: one
    ``AsyncClientEncryption.decrypt`` per value against the cipher stage's batch."""
    documents = await side.collection.find({"user_id": BUSY_PATIENT}).to_list(None)
    values = [document["notes"] for document in documents]
    decrypt = side.encryption.client_encryption.decrypt

    async def raw() -> list[Any]:
        return [await decrypt(value) for value in values]

    async def stage() -> list[Any]:
        opened = await db.cipher.decrypt_documents(MoodEntry, documents)
        return [document["notes"] for document in opened]

    if not all(map(is_ciphertext, values)) or await raw() != await stage():
        raise SystemExit("decrypt() and the cipher stage read different notes")
    raw_times, stage_times = await compare(repeats, raw, stage)
    return ratio_row(
        f"decrypt notes, per value ({len(values):,}): decrypt() vs cipher stage",
        per_call(raw_times, len(values)),
        per_call(stage_times, len(values)),
        unit="us",
        target=None,
    )


async def bench_encrypt_values(
    db: DatabaseManager, side: EncryptedAuditedDriver, repeats: int
) -> Row:
    """Encrypting the notes of new entries of one patient: one
    ``AsyncClientEncryption.encrypt`` per value against the cipher stage."""
    entries = mood_entries(LIST_SIZE, random.Random(4), user_id=BUSY_PATIENT)
    documents = stored_form(entries)
    key_id = await side.encryption.key_for(BUSY_PATIENT)
    encrypt = side.encryption.client_encryption.encrypt

    async def raw() -> list[Any]:
        return [
            await encrypt(document["notes"], RANDOM, key_id=key_id)
            for document in documents
        ]

    async def stage() -> list[Any]:
        sealed = await db.cipher.encrypt_documents(MoodEntry, documents)
        return [document["notes"] for document in sealed]

    keys = {bytes(value[1:17]) for value in await raw() + await stage()}
    if keys != {bytes(key_id)}:
        raise SystemExit("encrypt() and the cipher stage used different data keys")
    raw_times, stage_times = await compare(repeats, raw, stage)
    return ratio_row(
        f"encrypt notes, per value ({len(documents):,}): encrypt() vs cipher stage",
        per_call(raw_times, len(documents)),
        per_call(stage_times, len(documents)),
        unit="us",
        target=None,
    )


# ------------------------------------------------------------------- rows


def auto_decrypting_client(db: DatabaseManager, uri: str) -> AsyncMongoClient[Any]:
    """A second client on ``uri`` that decrypts CSFLE values in every reply
    (explicit encryption with automatic decryption: ``bypass_auto_encryption``,
    so no query analysis and no mongocryptd), with the key vault and master key
    of ``db``'s cipher."""
    cipher, client = db.cipher, db.client
    # EncryptedAuditedDriver.open has already refused anything else.
    assert isinstance(cipher, CsfleCipher)
    assert isinstance(client, AsyncMongoClient)
    options = AutoEncryptionOpts(
        local_kms_providers(db.settings),
        cipher.key_vault_namespace,
        key_vault_client=client,
        bypass_auto_encryption=True,
        key_expiration_ms=KEY_EXPIRATION_MS,
    )
    return AsyncMongoClient(
        uri,
        auto_encryption_opts=options,
        tz_aware=True,
        tzinfo=UTC,
        appname="wellness-repo-bench",
    )


async def secure_rows(
    db: DatabaseManager,
    uri: str,
    context: AccessContext,
    documents: int,
    repeats: int,
) -> list[Row]:
    """Every secure-default row, over a connection made with the default stages.

    Args:
        uri: the server, for the one row whose raw side reads through a client
            of its own.
    """
    progress(
        f"default stages: policy {type(db.policy).__name__}, cipher "
        f"{type(db.cipher).__name__}, auditor {type(db.auditor).__name__}"
    )
    side = await EncryptedAuditedDriver.open(db, context)
    reading_client = auto_decrypting_client(db, uri)
    try:
        rows = await compare_repository(
            db,
            side,
            context,
            documents,
            repeats,
            label=", default stages",
            target=None,
        )
        progress(f"list_all, raw auto-decrypting: {LIST_SIZE} entries x {repeats}")
        reader = reading_client[db.database_name][MoodEntry.collection_name()]
        rows.append(
            await bench_list_all(
                mood_pipeline(db),
                side.reading_through(reader),
                context,
                BUSY_PATIENT,
                repeats,
                label=", default stages, raw side auto-decrypting",
                target=None,
            )
        )
        progress(f"notes: {LIST_SIZE} values x {repeats} repeats per side")
        rows.append(await bench_decrypt_values(db, side, repeats))
        rows.append(await bench_encrypt_values(db, side, repeats))
        return rows
    finally:
        await reading_client.close()
        await side.close()
