"""Connections that encrypt with the real cipher, each with its own key vault inside
its own test database, and readers that look at what is stored behind the
library's back."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

from bson.binary import Binary

from tests.conftest import SYSTEM
from tests.support.models import TEST_MODELS
from wellness_repo import DatabaseManager, Settings, connect
from wellness_repo.security.audit import AccessEvent
from wellness_repo.security.field_cipher import CsfleCipher

NEW_MASTER_KEY = os.urandom(96)
"""A second local master key, for rotation tests."""


def master_key_text(key: bytes) -> str:
    """A local master key as settings hold it (base64)."""
    return base64.b64encode(key).decode("ascii")


def vault_namespace(database: str) -> str:
    """A key vault that lives and dies with its test database, so no test shares
    (or rotates, or erases) another test's keys."""
    return f"{database}.__keyVault"


async def open_encrypted_database(
    uri: str | None,
    *,
    database: str | None = None,
    settings: Settings | None = None,
    driver_options: dict[str, Any] | None = None,
    **cipher_options: Any,
) -> DatabaseManager:
    """A connection whose encrypted fields go through :class:`CsfleCipher`.

    Give ``database`` to open a second connection on the same data and keys.
    """
    name = database or f"test_{uuid.uuid4().hex[:16]}"
    cipher_options.setdefault("key_vault_namespace", vault_namespace(name))
    return await connect(
        uri,
        name,
        context=SYSTEM,
        settings=settings,
        document_models=TEST_MODELS,
        apply_indexes=True,
        cipher=CsfleCipher(**cipher_options),
        driver_options=driver_options,
    )


def cipher_of(db: DatabaseManager) -> CsfleCipher:
    """The connection's cipher, as the concrete class."""
    assert isinstance(db.cipher, CsfleCipher)
    return db.cipher


def key_vault(db: DatabaseManager) -> Any:
    """The connection's key vault collection, read around the cipher."""
    database, _, collection = cipher_of(db).key_vault_namespace.partition(".")
    return db.client[database][collection]


async def key_names(db: DatabaseManager) -> set[str]:
    """The names of every data key in the vault."""
    keys = await key_vault(db).find({}, {"keyAltNames": 1}).to_list(None)
    return {name for key in keys for name in key.get("keyAltNames", ())}


async def raw_document(db: DatabaseManager, model: type[Any], record_id: str) -> Any:
    """One stored document exactly as the database holds it."""
    document = await db.collection(model).find_one({"_id": record_id})
    assert document is not None
    return document


def is_ciphertext(value: Any) -> bool:
    """Whether ``value`` is a CSFLE encrypted value (BSON binary subtype 6)."""
    return isinstance(value, Binary) and value.subtype == 6


def data_key_id(value: Binary) -> bytes:
    """The id of the data key a CSFLE value was encrypted with."""
    return bytes(value[1:17])


class RecordingAuditor:
    """Keeps every access event, for tests that check what was audited."""

    def __init__(self) -> None:
        self.events: list[AccessEvent] = []

    async def record(self, event: AccessEvent) -> None:
        self.events.append(event)
