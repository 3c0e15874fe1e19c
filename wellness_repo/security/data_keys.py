"""The data keys' life in one process: opened from the right vault, found or
created on first use (safely when processes race), cached, and erased for
crypto-shredding.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bson.binary import Binary
from pymongo import AsyncMongoClient
from pymongo.asynchronous.encryption import AsyncClientEncryption
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from wellness_repo.errors import RepositoryError, ValidationError
from wellness_repo.models.types import EncryptionAlgorithm
from wellness_repo.repository.records import printable_id
from wellness_repo.security.embedded_key_vault import EmbeddedKeyVault
from wellness_repo.security.encrypted_fields import EncryptedPath
from wellness_repo.security.key_vault import VALUE_OPTIONS, KeyVault, ServerKeyVault

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = [
    "DataKeyRing",
    "VaultConfig",
    "data_key_name",
    "open_key_vault",
    "patient_key_name",
]

_log = logging.getLogger("wellness_repo.encryption")


@dataclass(frozen=True, slots=True)
class VaultConfig:
    """How to reach and use a key vault.

    Args:
        kms_providers: the KMS configuration, as PyMongo takes it.
        namespace: ``database.collection`` of the key vault.
        provider: the KMS provider that wraps new data keys.
        master_key: that provider's master-key spec, ``None`` for ``local``.
        kms_tls_options: per-provider TLS options, as PyMongo takes them.
        key_expiration_ms: how long libmongocrypt keeps a data key it fetched.
    """

    kms_providers: Mapping[str, Any]
    namespace: str
    provider: str = "local"
    master_key: Mapping[str, Any] | None = None
    kms_tls_options: Mapping[str, Any] | None = None
    key_expiration_ms: int | None = None


async def open_key_vault(db: DatabaseManager, config: VaultConfig) -> KeyVault:
    """The key vault of ``db``'s backend, with its unique key-name index in place.

    Raises:
        ValidationError: the namespace is not ``database.collection``.
        BackendCapabilityError: a remote KMS on the embedded backend.
    """
    database, _, collection_name = config.namespace.partition(".")
    if not database or not collection_name:
        raise ValidationError(
            "the key vault namespace is database.collection",
            field="key_vault_namespace",
            rule="namespace",
        )
    vault: KeyVault
    if db.is_embedded:
        vault = EmbeddedKeyVault(
            config.kms_providers,
            db.client[database][collection_name],
            config.provider,
            config.master_key,
            config.key_expiration_ms,
        )
    else:
        assert isinstance(db.client, AsyncMongoClient)
        collection = db.client[database].get_collection(
            collection_name,
            read_concern=ReadConcern("majority"),
            write_concern=WriteConcern("majority"),
        )
        client_encryption: AsyncClientEncryption[Any] = AsyncClientEncryption(
            dict(config.kms_providers),
            config.namespace,
            db.client,
            VALUE_OPTIONS,
            kms_tls_options=config.kms_tls_options,
            key_expiration_ms=config.key_expiration_ms,
        )
        vault = ServerKeyVault(
            client_encryption, collection, config.provider, config.master_key
        )
    try:
        await vault.ensure_index()
    except BaseException:
        await vault.close()
        raise
    return vault


def data_key_name(entity: type[Any], path: EncryptedPath, patient_id: Any) -> str:
    """The name of the data key that encrypts ``path`` of an ``entity`` record.

    Deterministic fields share ``field:<collection>.<path>`` so lookups match
    across patients; random fields of a per-patient model use the patient's
    ``patient:<id>``; other random fields use ``collection:<collection>``.

    Raises:
        ValidationError: a per-patient value without a valid patient id
            (``patient_required``).
    """
    collection = entity.collection_name()
    if path.algorithm is EncryptionAlgorithm.DETERMINISTIC:
        return f"field:{collection}.{path.dotted}"
    patient_field = getattr(entity, "PATIENT_FIELD", None)
    if patient_field is None:
        return f"collection:{collection}"
    if printable_id(patient_id) is None:
        raise ValidationError(
            f"{entity.__name__} values are encrypted with the patient's key; "
            f"the write must name a valid {patient_field}",
            field=patient_field,
            rule="patient_required",
            entity=entity.__name__,
        )
    return patient_key_name(patient_id)


def patient_key_name(patient_id: str) -> str:
    """The name of a patient's own data key."""
    return f"patient:{patient_id}"


class DataKeyRing:
    """The data keys this process uses, by name, over one key vault.

    Args:
        vault: where the keys live.
        cache_seconds: how long a key's id is remembered; a key erased by
            another process is noticed within this long.
    """

    def __init__(self, vault: KeyVault, cache_seconds: float) -> None:
        self.vault = vault
        self._cache_seconds = cache_seconds
        self._ids: dict[str, tuple[Binary, float]] = {}
        self._erased: set[bytes] = set()
        self._creating = asyncio.Lock()

    async def ids_for(self, names: Iterable[str]) -> dict[str, Binary]:
        """The ids of the named data keys, creating those that do not exist;
        the ones not cached are looked up in one query."""
        now = time.monotonic()
        found: dict[str, Binary] = {}
        missing: set[str] = set()
        for name in names:
            cached = self._ids.get(name)
            if cached is not None and cached[1] > now:
                found[name] = cached[0]
            else:
                missing.add(name)
        if missing:
            fetched = await self.vault.find_key_ids(missing)
            for name in sorted(missing):
                key_id = fetched.get(name)
                if key_id is None:
                    key_id = await self._create(name)
                found[name] = key_id
                self._ids[name] = (key_id, now + self._cache_seconds)
        return found

    async def encrypt(
        self, name: str, keys: dict[str, Binary], value: Any, algorithm: str
    ) -> Binary:
        """Encrypt ``value`` with the data key ``name`` (its id in ``keys``).

        A key another process erased after this one cached it is replaced by a
        fresh one, rather than encrypting under a key nobody can read.
        """
        try:
            return await self.vault.encrypt(value, algorithm, keys[name])
        except RepositoryError:
            if await self.vault.existing_key_ids([bytes(keys[name])]):
                raise
            self._ids.pop(name, None)
            keys[name] = await self._create(name)
            return await self.vault.encrypt(value, algorithm, keys[name])

    async def erase(self, name: str) -> bool:
        """Delete the data key ``name``; ``False`` if there was none."""
        deleted = await self.vault.delete_key(name)
        self._ids.pop(name, None)
        if deleted is None:
            return False
        self._erased.add(bytes(deleted))
        return True

    def is_erased(self, key_id: bytes) -> bool:
        """Whether this process knows the key with this id to be erased."""
        return key_id in self._erased

    async def gone(self, key_ids: Iterable[bytes]) -> set[bytes]:
        """Which of these keys are no longer in the vault (and so erased)."""
        wanted = set(key_ids)
        missing = wanted - await self.vault.existing_key_ids(wanted)
        self._erased |= missing
        return missing

    async def replace_vault(self, vault: KeyVault) -> None:
        """Continue over ``vault`` (the same keys, a new master key) and close
        the one before."""
        previous, self.vault = self.vault, vault
        await previous.close()

    async def close(self) -> None:
        """Close the vault and forget the cached key ids."""
        self._ids.clear()
        await self.vault.close()

    async def _create(self, name: str) -> Binary:
        async with self._creating:
            cached = self._ids.get(name)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            key_id = await self.vault.create_or_find(name)
            self._ids[name] = (key_id, time.monotonic() + self._cache_seconds)
        _log.info("data key %s is ready", _loggable(name))
        return key_id


def _loggable(name: str) -> str:
    # A patient's id stays out of the logs; the kind of key is enough there.
    kind, _, _ = name.partition(":")
    return "patient:*" if kind == "patient" else name
