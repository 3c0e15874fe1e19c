"""The key vault: the data keys that encrypt patients' sensitive fields, each kept
wrapped by a master key that never enters the database.

:class:`KeyVault` is what the cipher asks of a vault; :class:`ServerKeyVault`
answers over PyMongo's ``AsyncClientEncryption`` on a real server, and
``EmbeddedKeyVault`` (its own module) answers in process. Both write MongoDB's
own key documents and CSFLE ciphertext (BSON binary subtype 6), readable by
every MongoDB driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from typing import Any

import bson
from bson.binary import UUID_SUBTYPE, Binary
from bson.codec_options import CodecOptions
from pymongo.asynchronous.encryption import AsyncClientEncryption
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongocrypt.asynchronous.state_machine import run_state_machine
from pymongocrypt.errors import MongoCryptError

from wellness_repo.errors import RepositoryError

__all__ = [
    "DETERMINISTIC",
    "RANDOM",
    "VALUE_OPTIONS",
    "KeyVault",
    "ServerKeyVault",
    "key_id_of",
    "vault_failure",
    "wrapped_by",
]

DETERMINISTIC = "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic"
RANDOM = "AEAD_AES_256_CBC_HMAC_SHA_512-Random"
VALUE_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
"""How values are encoded for encryption and decoded after it: datetimes come
back as the repositories store them, aware and in UTC."""

# libmongocrypt decrypts a whole page in one context; this bounds its size.
_BATCH = 2048


def key_id_of(ciphertext: Binary) -> bytes:
    """The id of the data key a CSFLE value was encrypted with.

    The value's first byte names the algorithm; the next sixteen are the key id.
    """
    return bytes(ciphertext[1:17])


class KeyVault(ABC):
    """Creates, finds, deletes and rewraps data keys, and encrypts and decrypts
    single values with them.

    Args:
        collection: the key vault collection.
        provider: the KMS provider that wraps new data keys (``"local"``,
            ``"aws"``, ``"kmip:primary"``...).
        master_key: that provider's master-key spec (for AWS ``region`` and
            ``key``); ``None`` for ``local``.
    """

    def __init__(
        self, collection: Any, provider: str, master_key: Mapping[str, Any] | None
    ) -> None:
        self.collection = collection
        self.provider = provider
        self.master_key = dict(master_key) if master_key else None

    async def ensure_index(self) -> None:
        """Make a key name unique, so processes racing to create one patient's
        key end up sharing one."""
        await self.collection.create_index(
            [("keyAltNames", 1)],
            name="keyAltNames_unique",
            unique=True,
            partialFilterExpression={"keyAltNames": {"$exists": True}},
        )

    async def find_key_ids(self, names: Iterable[str]) -> dict[str, Binary]:
        """The ids of the data keys with these names, in one round trip."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        cursor = self.collection.find(
            {"keyAltNames": {"$in": wanted}}, {"_id": 1, "keyAltNames": 1}
        )
        found: dict[str, Binary] = {}
        for key in await cursor.to_list(None):
            for name in key.get("keyAltNames", ()):
                if name in wanted:
                    found[name] = key["_id"]
        return found

    async def existing_key_ids(self, key_ids: Iterable[bytes]) -> set[bytes]:
        """Which of these data keys are still in the vault."""
        wanted = [Binary(key_id, UUID_SUBTYPE) for key_id in set(key_ids)]
        if not wanted:
            return set()
        cursor = self.collection.find({"_id": {"$in": wanted}}, {"_id": 1})
        return {bytes(key["_id"]) for key in await cursor.to_list(None)}

    async def create_or_find(self, name: str) -> Binary:
        """The id of the data key called ``name``, creating it if there is none.

        Safe across processes: a creation that loses the race to the unique
        index finds the winner's key instead.
        """
        try:
            return await self._create_key(name)
        except RepositoryError:
            raise
        except Exception as exc:
            if not _is_duplicate(exc):
                raise vault_failure("a data key could not be created", exc) from None
        found = await self.find_key_ids([name])
        if name not in found:
            raise RepositoryError("a data key vanished while it was being created")
        return found[name]

    async def delete_key(self, name: str) -> Binary | None:
        """Delete the data key called ``name``; its id, or ``None`` if none."""
        deleted = await self.collection.find_one_and_delete(
            {"keyAltNames": name}, projection={"_id": 1}
        )
        return None if deleted is None else deleted["_id"]

    async def decrypt_many(self, values: Sequence[Binary]) -> list[Any]:
        """Decrypt many values; a page's missing keys are fetched in one query.

        Raises:
            RepositoryError: a value could not be decrypted (its key is gone, or
                the ciphertext or master key is wrong).
        """
        handles = self._batch_handles()
        result: list[Any] = []
        try:
            if handles is None:
                return [await self._decrypt_one(value) for value in values]
            crypt, callback = handles
            for start in range(0, len(values), _BATCH):
                chunk = list(values[start : start + _BATCH])
                context = crypt.decryption_context(bson.encode({"v": chunk}))
                with context:
                    raw = await run_state_machine(context, callback)
                result.extend(bson.decode(raw, VALUE_OPTIONS)["v"])
        except (MongoCryptError, PyMongoError) as exc:
            raise vault_failure(
                "stored encrypted values could not be decrypted", exc
            ) from None
        return result

    @abstractmethod
    async def _create_key(self, name: str) -> Binary: ...

    @abstractmethod
    async def encrypt(self, value: Any, algorithm: str, key_id: Binary) -> Binary:
        """Encrypt one value with the data key ``key_id``."""

    @abstractmethod
    async def _decrypt_one(self, value: Binary) -> Any: ...

    @abstractmethod
    def _batch_handles(self) -> tuple[Any, Any] | None:
        """libmongocrypt and its I/O callback, for decrypting many values in one
        context; ``None`` to decrypt one value at a time."""

    @abstractmethod
    async def rewrap(
        self,
        provider: str | None = None,
        master_key: Mapping[str, Any] | None = None,
        source_provider: str | None = None,
    ) -> int:
        """Re-encrypt the data keys under the current or a new master key.

        Args:
            provider: the KMS provider to wrap them with; ``None`` keeps each
                key's own.
            master_key: that provider's master-key spec.
            source_provider: rewrap only the keys now wrapped by this provider.

        The data itself is untouched: only the wrapping of its keys changes.
        Returns how many keys were rewrapped.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release libmongocrypt; the vault's data stays."""


class ServerKeyVault(KeyVault):
    """The key vault of a real MongoDB deployment, through ``AsyncClientEncryption``
    (any KMS provider PyMongo supports)."""

    def __init__(
        self,
        client_encryption: AsyncClientEncryption[Any],
        collection: Any,
        provider: str,
        master_key: Mapping[str, Any] | None,
    ) -> None:
        super().__init__(collection, provider, master_key)
        self._client_encryption = client_encryption

    async def _create_key(self, name: str) -> Binary:
        return await self._client_encryption.create_data_key(
            self.provider, master_key=self.master_key, key_alt_names=[name]
        )

    async def encrypt(self, value: Any, algorithm: str, key_id: Binary) -> Binary:
        try:
            return await self._client_encryption.encrypt(
                value, algorithm, key_id=key_id
            )
        except PyMongoError as exc:
            raise vault_failure("a value could not be encrypted", exc) from None

    async def _decrypt_one(self, value: Binary) -> Any:
        return await self._client_encryption.decrypt(value)

    def _batch_handles(self) -> tuple[Any, Any] | None:
        # AsyncClientEncryption decrypts one value per call, fetching each
        # missing key on its own; its libmongocrypt handle decrypts a whole page
        # in one context with one key query. If a PyMongo release renames these
        # internals, values are decrypted one at a time instead.
        explicit = getattr(self._client_encryption, "_encryption", None)
        crypt = getattr(explicit, "mongocrypt", None)
        callback = getattr(self._client_encryption, "_io_callbacks", None)
        if crypt is None or callback is None:
            return None
        return crypt, callback

    async def rewrap(
        self,
        provider: str | None = None,
        master_key: Mapping[str, Any] | None = None,
        source_provider: str | None = None,
    ) -> int:
        try:
            result = await self._client_encryption.rewrap_many_data_key(
                wrapped_by(source_provider), provider=provider, master_key=master_key
            )
        except PyMongoError as exc:
            raise vault_failure("the data keys could not be rewrapped", exc) from None
        written = result.bulk_write_result
        return 0 if written is None else int(written.modified_count)

    async def close(self) -> None:
        await self._client_encryption.close()


def wrapped_by(provider: str | None) -> dict[str, Any]:
    """The key vault filter for the data keys a KMS provider wraps; all keys
    for ``None``."""
    return {} if provider is None else {"masterKey.provider": provider}


def _is_duplicate(exc: BaseException) -> bool:
    cause = getattr(exc, "cause", None)
    return isinstance(exc, DuplicateKeyError) or isinstance(cause, DuplicateKeyError)


def vault_failure(message: str, exc: BaseException) -> RepositoryError:
    # libmongocrypt's messages name keys and states, never values; they stay on
    # the cause all the same, out of str(error).
    return RepositoryError(message, cause=exc)
