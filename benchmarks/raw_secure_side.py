"""The raw PyMongo program the secure-default rows time the repository against:
field encryption with ``AsyncClientEncryption`` and one HMAC-chained audit entry
per call, around the plain driver calls.

- Each notes value is encrypted with ``AsyncClientEncryption.encrypt`` (random
  algorithm) under the data key the repository's cipher uses: the patient's
  key, found by its key name in the same key vault and unwrapped by the same
  local master key. Each one read is decrypted with
  ``AsyncClientEncryption.decrypt``, or by a client that decrypts replies itself
  (:meth:`EncryptedAuditedDriver.reading_through`).
- Each call appends one entry to a collection of its own that carries the same
  indexes as ``audit_logs``: the same fields and ids as the repository's entry,
  numbered and HMAC-SHA256-chained under the same audit key.

What still differs is written in ``benchmarks/README.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard

import bson
from bson.binary import Binary
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient
from pymongo.asynchronous.encryption import AsyncClientEncryption

from wellness_repo import AccessContext, DatabaseManager, MoodEntry
from wellness_repo.models.audit import AuditLog
from wellness_repo.security.audit_chain import GENESIS_MAC, resolve_audit_key
from wellness_repo.security.data_keys import patient_key_name
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.key_vault import RANDOM
from wellness_repo.security.master_keys import local_kms_providers

RAW_AUDIT_COLLECTION = "raw_audit_logs"
# CsfleCipher's default key_cache_seconds: how long libmongocrypt keeps a key.
KEY_EXPIRATION_MS = 60_000
ENCRYPTED_SUBTYPE = 6
# The fields whose values both audit entries of one call must share.
AUDITED_FIELDS = (
    "user_id", "role", "purpose", "action_type", "resource_type", "resource_ids",
    "patient_ids", "summary", "hipaa_relevant", "outcome", "query_shape",
    "changed_fields", "emergency", "_version",
)  # fmt: skip


class RawFieldEncryption:
    """Encrypts and decrypts notes values with ``AsyncClientEncryption``, under
    the data keys the repository's cipher uses."""

    def __init__(self, client_encryption: AsyncClientEncryption[Any]) -> None:
        self.client_encryption = client_encryption
        self._keys: dict[str, Binary] = {}

    async def key_for(self, patient_id: str) -> Binary:
        """The id of the patient's data key, created if the patient has none
        yet (looked up once; the repository caches its key ids too)."""
        key_id = self._keys.get(patient_id)
        if key_id is None:
            name = patient_key_name(patient_id)
            found = await self.client_encryption.get_key_by_alt_name(name)
            if found is None:
                key_id = await self.client_encryption.create_data_key(
                    "local", key_alt_names=[name]
                )
            else:
                key_id = found["_id"]
            self._keys[patient_id] = key_id
        return key_id

    async def seal(self, document: dict[str, Any]) -> dict[str, Any]:
        """A copy of a stored-form document with its notes encrypted."""
        sealed = dict(document)
        notes = sealed.get("notes")
        if notes is not None:
            key_id = await self.key_for(sealed["user_id"])
            sealed["notes"] = await self.client_encryption.encrypt(
                notes, RANDOM, key_id=key_id
            )
        return sealed

    async def open(self, document: dict[str, Any]) -> None:
        """Decrypt the notes of a document read from the server, in place."""
        notes = document.get("notes")
        if is_ciphertext(notes):
            document["notes"] = await self.client_encryption.decrypt(notes)


class RawAuditTrail:
    """An audit collection written with the driver alone: one entry per call,
    with the fields of the repository's entries, numbered from 1 and chained by
    HMAC-SHA256 over the previous MAC and the entry's BSON.

    Args:
        collection: where the entries go.
        key: the audit key (the repository's, so both MACs cost the same).
        context: who acts; the entries name it as the repository's do.
    """

    def __init__(self, collection: Any, key: bytes, context: AccessContext) -> None:
        self.collection = collection
        self.sequence = 0
        self._key = key
        self._mac = GENESIS_MAC
        self._actor = context.actor_id
        self._role = context.role.value
        self._purpose = context.purpose.value
        self._writer = f"{socket.gethostname()[:200]}:{os.getpid()}"

    async def copy_indexes(self, chain: Any) -> None:
        """Give the collection the indexes the audit chain's collection has."""
        for name, index in (await chain.index_information()).items():
            if name == "_id_":
                continue
            options = {
                option: index[option]
                for option in ("unique", "sparse", "partialFilterExpression")
                if option in index
            }
            await self.collection.create_index(index["key"], name=name, **options)

    async def append(
        self,
        action: str,
        resource_ids: list[str],
        patient_ids: list[str],
        query_shape: str | None = None,
    ) -> None:
        """Store the entry for one call at the end of the chain."""
        now = datetime.now(UTC)
        entry: dict[str, Any] = {
            "_id": str(bson.ObjectId()),
            "_rev": 1,
            "_version": AuditLog.SCHEMA_VERSION,
            "created_at": now,
            "updated_at": None,
            "prev_mac": self._mac,
            "at": now,
            "user_id": self._actor,
            "role": self._role,
            "purpose": self._purpose,
            "action_type": action,
            "resource_type": "MoodEntry",
            "resource_ids": resource_ids,
            "patient_ids": patient_ids,
            "summary": f"{action} MoodEntry",
            "description": None,
            "hipaa_relevant": True,
            "outcome": "ok",
            "query_shape": query_shape,
            "changed_fields": [],
            "old_values": None,
            "new_values": None,
            "emergency": False,
            "emergency_reason": None,
            "recipient": None,
            "recorded_by": None,
            "writer": self._writer,
        }
        signer = hmac.new(self._key, bytes.fromhex(self._mac), hashlib.sha256)
        signer.update(bson.encode(entry))
        entry["sequence"] = self.sequence + 1
        entry["mac"] = signer.hexdigest()
        await self.collection.insert_one(entry)
        self.sequence, self._mac = entry["sequence"], entry["mac"]


class EncryptedAuditedDriver:
    """The raw program for the secure-default rows: field encryption and an
    audit entry per call around the plain driver calls (a
    ``repository_rows.RawSide``).

    Args:
        collection: the mood entries' collection.
        encryption: encrypts and decrypts notes.
        trail: where this side's audit entries go.
        chain: the repository's ``audit_logs``, read only to check that both
            sides audited the same calls.
    """

    def __init__(
        self,
        collection: Any,
        encryption: RawFieldEncryption,
        trail: RawAuditTrail,
        chain: Any,
    ) -> None:
        self.collection = collection
        self.encryption = encryption
        self.trail = trail
        self._chain = chain
        self._marks = (0, 0)
        self._reader: Any = None

    @classmethod
    async def open(
        cls, db: DatabaseManager, context: AccessContext
    ) -> EncryptedAuditedDriver:
        """The raw side over ``db``'s client, key vault, master key and audit
        key; close it with :meth:`close`."""
        cipher = db.cipher
        if not isinstance(cipher, CsfleCipher):
            raise SystemExit(
                f"the default cipher is {type(cipher).__name__}, not CsfleCipher: "
                "the raw side of the secure-default rows no longer matches it"
            )
        if not isinstance(db.client, AsyncMongoClient):
            raise SystemExit("the secure-default rows need a real MongoDB server")
        client_encryption: AsyncClientEncryption[Any] = AsyncClientEncryption(
            local_kms_providers(db.settings),
            cipher.key_vault_namespace,
            db.client,
            CodecOptions(tz_aware=True, tzinfo=UTC),
            key_expiration_ms=KEY_EXPIRATION_MS,
        )
        chain = db.collection(AuditLog)
        trail = RawAuditTrail(
            db.database[RAW_AUDIT_COLLECTION], resolve_audit_key(db.settings), context
        )
        await trail.copy_indexes(chain)
        return cls(
            db.collection(MoodEntry),
            RawFieldEncryption(client_encryption),
            trail,
            chain,
        )

    async def close(self) -> None:
        """Release libmongocrypt."""
        await self.encryption.client_encryption.close()

    def reading_through(self, reader: Any) -> EncryptedAuditedDriver:
        """This side, reading through ``reader``: the same collection on a
        client that decrypts every reply itself, so reads skip ``decrypt``."""
        other = EncryptedAuditedDriver(
            self.collection, self.encryption, self.trail, self._chain
        )
        other._reader = reader
        return other

    async def insert_many(self, documents: list[dict[str, Any]]) -> None:
        sealed = [await self.encryption.seal(document) for document in documents]
        await self.collection.insert_many(sealed, ordered=True)
        await self.trail.append(
            "create", [doc["_id"] for doc in documents], patients_of(documents)
        )

    async def insert_one(self, document: dict[str, Any]) -> None:
        await self.collection.insert_one(await self.encryption.seal(document))
        await self.trail.append("create", [document["_id"]], patients_of([document]))

    async def find_many(
        self, query: dict[str, Any], sort: list[tuple[str, int]], limit: int
    ) -> list[dict[str, Any]]:
        source = self._reader if self._reader is not None else self.collection
        found: list[dict[str, Any]] = await source.find(
            query, sort=sort, limit=limit
        ).to_list(None)
        if self._reader is None:
            for document in found:
                await self.encryption.open(document)
        await self.trail.append(
            "read",
            [doc["_id"] for doc in found],
            patients_of(found),
            query_shape(query),
        )
        return found

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        source = self._reader if self._reader is not None else self.collection
        found: dict[str, Any] | None = await source.find_one(query)
        documents = [found] if found is not None else []
        if self._reader is None:
            for document in documents:
                await self.encryption.open(document)
        await self.trail.append(
            "read",
            [doc["_id"] for doc in documents],
            patients_of(documents),
            query_shape(query),
        )
        return found

    async def comparable(self, stored: list[dict[str, Any]]) -> list[Any]:
        # Random encryption never gives the same bytes twice: compare the
        # algorithm, the data key and the plaintext instead.
        decrypt = self.encryption.client_encryption.decrypt
        documents = []
        for document in stored:
            copy = dict(document)
            notes = copy.get("notes")
            if is_ciphertext(notes):
                copy["notes"] = (notes[0], bytes(notes[1:17]), await decrypt(notes))
            documents.append(copy)
        return documents

    async def mark_audit(self) -> None:
        self._marks = (await self._chain_tail(), self.trail.sequence)

    async def check_audit(self) -> None:
        chain_mark, raw_mark = self._marks
        chained = await self._chain.find(
            {"sequence": {"$gt": chain_mark}}, sort=[("sequence", 1)]
        ).to_list(None)
        raw = await self.trail.collection.find(
            {"sequence": {"$gt": raw_mark}}, sort=[("sequence", 1)]
        ).to_list(None)
        if len(chained) != len(raw) or not all(
            same_audit_entry(ours, theirs)
            for ours, theirs in zip(chained, raw, strict=True)
        ):
            raise SystemExit("the raw and the repository audit entries differ")

    async def _chain_tail(self) -> int:
        last = await self._chain.find_one({}, {"sequence": 1}, sort=[("sequence", -1)])
        return 0 if last is None else int(last["sequence"])


def same_audit_entry(chained: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """Whether two audit entries record the same call in the same shape."""
    return chained.keys() == raw.keys() and all(
        chained[name] == raw[name] for name in AUDITED_FIELDS
    )


def patients_of(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    """The distinct patients whose entries a call touched, sorted."""
    return sorted({document["user_id"] for document in documents})


def query_shape(query: Any) -> str:
    """A filter with every value replaced by its type name, as audits keep it."""
    return repr(_shape(query))


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:3]] + (
            ["..."] if len(value) > 3 else []
        )
    return type(value).__name__


def is_ciphertext(value: Any) -> TypeGuard[Binary]:
    """Whether a stored value is CSFLE ciphertext (BSON binary subtype 6)."""
    return isinstance(value, Binary) and value.subtype == ENCRYPTED_SUBTYPE
