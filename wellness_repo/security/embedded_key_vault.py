"""The key vault of the in-process backend: pymongocrypt's explicit encryption
driven over an in-memory key vault collection.

PyMongo's ``AsyncClientEncryption`` insists on a real client, so this vault
answers libmongocrypt's requests itself. Only the ``local`` KMS provider is
offered: the embedded backend makes no network calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import bson
from bson.binary import Binary
from pymongocrypt.asynchronous.explicit_encrypter import AsyncExplicitEncrypter
from pymongocrypt.asynchronous.state_machine import AsyncMongoCryptCallback
from pymongocrypt.errors import MongoCryptError
from pymongocrypt.options import MongoCryptOptions

from wellness_repo.errors import BackendCapabilityError
from wellness_repo.models.types import utc_now
from wellness_repo.security.key_vault import (
    VALUE_OPTIONS,
    KeyVault,
    vault_failure,
    wrapped_by,
)

__all__ = ["EmbeddedKeyVault"]


class EmbeddedKeyVault(KeyVault):
    """The key vault of the in-process backend: pymongocrypt driven over an
    in-memory collection. Only the ``local`` KMS provider is offered here."""

    def __init__(
        self,
        kms_providers: Mapping[str, Any],
        collection: Any,
        provider: str,
        master_key: Mapping[str, Any] | None,
        key_expiration_ms: int | None,
    ) -> None:
        super().__init__(collection, provider, master_key)
        remote = [name for name in kms_providers if name.split(":")[0] != "local"]
        if remote:
            raise BackendCapabilityError(f"the KMS provider {remote[0]!r}")
        options: dict[str, Any] = {"bypass_encryption": True}
        if key_expiration_ms is not None:
            options["key_expiration_ms"] = key_expiration_ms
        self._callback = _EmbeddedVaultIO(collection)
        self._encrypter = AsyncExplicitEncrypter(
            self._callback, MongoCryptOptions(dict(kms_providers), **options)
        )

    async def _create_key(self, name: str) -> Binary:
        key_id: Binary = await self._encrypter.create_data_key(
            self.provider, master_key=self.master_key, key_alt_names=[name]
        )
        return key_id

    async def encrypt(self, value: Any, algorithm: str, key_id: Binary) -> Binary:
        try:
            raw = await self._encrypter.encrypt(
                bson.encode({"v": value}), algorithm, key_id=bytes(key_id)
            )
        except MongoCryptError as exc:
            raise vault_failure("a value could not be encrypted", exc) from None
        encrypted: Binary = bson.decode(raw)["v"]
        return encrypted

    async def _decrypt_one(self, value: Binary) -> Any:
        raw = await self._encrypter.decrypt(bson.encode({"v": value}))
        return bson.decode(raw, VALUE_OPTIONS)["v"]

    def _batch_handles(self) -> tuple[Any, Any] | None:
        return self._encrypter.mongocrypt, self._callback

    async def rewrap(
        self,
        provider: str | None = None,
        master_key: Mapping[str, Any] | None = None,
        source_provider: str | None = None,
    ) -> int:
        try:
            raw = await self._encrypter.rewrap_many_data_key(
                wrapped_by(source_provider), provider, master_key
            )
        except MongoCryptError as exc:
            raise vault_failure("the data keys could not be rewrapped", exc) from None
        if raw is None:
            return 0
        now = utc_now()
        keys = bson.decode(raw)["v"]
        for key in keys:
            await self.collection.update_one(
                {"_id": key["_id"]},
                {
                    "$set": {
                        "keyMaterial": key["keyMaterial"],
                        "masterKey": key["masterKey"],
                        "updateDate": now,
                    }
                },
            )
        return len(keys)

    async def close(self) -> None:
        self._encrypter.close()


class _EmbeddedVaultIO(AsyncMongoCryptCallback):  # type: ignore[misc]
    """What libmongocrypt asks of the outside world, answered in process."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    async def kms_request(self, kms_context: Any) -> None:
        raise BackendCapabilityError("requests to a remote KMS")

    async def collection_info(self, database: str, filter: bytes) -> None:
        raise BackendCapabilityError("automatic encryption schemas")

    async def mark_command(self, database: str, cmd: bytes) -> bytes:
        raise BackendCapabilityError("automatic encryption")

    async def fetch_keys(self, filter: bytes) -> AsyncIterator[bytes]:
        # Default codec options keep key ids as BSON Binary, which is what the
        # in-memory collection stored and will match.
        query = bson.decode(filter)
        for key in await self._collection.find(query).to_list(None):
            yield bson.encode(key)

    async def insert_data_key(self, data_key: bytes) -> Binary:
        document = bson.decode(data_key)
        await self._collection.insert_one(document)
        key_id: Binary = document["_id"]
        return key_id

    def bson_encode(self, doc: Mapping[str, Any]) -> bytes:
        return bson.encode(doc)

    async def close(self) -> None:
        return None
