"""The field-level encryption stage: MongoDB client-side field-level encryption
(CSFLE, explicit) of every field a model declares ``Encrypted``.

Keys:

- random-algorithm fields of a record about a patient (its model names a
  ``PATIENT_FIELD``) use that patient's own data key, ``patient:<patient id>``,
  created on first use; erasing it makes all of them unreadable at once
  (crypto-shredding);
- deterministic fields use one key per collection and field,
  ``field:<collection>.<path>``, so an equality lookup matches across patients;
- random fields of records about no single patient use ``collection:<name>``.

A value stored before encryption was turned on (plaintext where ciphertext
belongs) is read as it is and counted in a warning, unless the cipher was made
with ``accept_plaintext=False``; the next write of the record encrypts it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bson.binary import Binary

from wellness_repo.errors import DataErasedError, RepositoryError, ValidationError
from wellness_repo.models.types import EncryptionAlgorithm
from wellness_repo.repository.records import printable_id
from wellness_repo.security.data_keys import (
    DataKeyRing,
    VaultConfig,
    data_key_name,
    open_key_vault,
    patient_key_name,
)
from wellness_repo.security.encrypted_fields import (
    Slot,
    encrypted_layout,
    plan_document,
    plan_update,
)
from wellness_repo.security.key_vault import DETERMINISTIC, RANDOM, KeyVault, key_id_of
from wellness_repo.security.master_keys import local_kms_providers

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = ["CsfleCipher"]

_log = logging.getLogger("wellness_repo.encryption")


class CsfleCipher:
    """Encrypts patients' sensitive fields so the database only ever holds
    ciphertext, in MongoDB's own format (BSON binary subtype 6).

    Give it to ``connect(cipher=CsfleCipher(...))``, one cipher per connection;
    it opens its key vault when the connection attaches it. With no arguments
    it wraps data keys with the ``local_master_key`` from settings (a
    development key if unset).

    Args:
        kms_providers: any KMS configuration PyMongo accepts, e.g.
            ``{"aws": {"accessKeyId": ..., "secretAccessKey": ...}}`` or
            ``{"aws": {}}`` for credentials from the environment; ``None`` for
            the local master key from settings.
        key_provider: the provider that wraps new data keys (a key of
            ``kms_providers``; ``"local"`` by default).
        master_key: that provider's master-key spec, e.g. for AWS
            ``{"region": "us-east-1", "key": "arn:aws:kms:..."}``.
        key_vault_namespace: ``database.collection`` of the key vault; defaults
            to ``settings.key_vault_namespace``.
        kms_tls_options: per-provider TLS options, as PyMongo takes them.
        key_cache_seconds: how long a data key stays cached in this process.
            Another process that erases a key is noticed after at most this long.
        accept_plaintext: read legacy values stored unencrypted (warned about)
            rather than refuse them with ``RepositoryError``.
    """

    def __init__(
        self,
        *,
        kms_providers: Mapping[str, Any] | None = None,
        key_provider: str = "local",
        master_key: Mapping[str, Any] | None = None,
        key_vault_namespace: str | None = None,
        kms_tls_options: Mapping[str, Any] | None = None,
        key_cache_seconds: float = 60.0,
        accept_plaintext: bool = True,
    ) -> None:
        if not key_cache_seconds > 0:
            # libmongocrypt reads an expiry of 0 as "keep keys forever".
            raise ValidationError(
                "key_cache_seconds must be more than 0",
                field="key_cache_seconds",
                rule="positive",
            )
        if kms_providers is not None and key_provider not in kms_providers:
            raise ValidationError(
                "key_provider must be one of the configured KMS providers",
                field="key_provider",
                rule="configured_provider",
            )
        self._kms_providers = dict(kms_providers) if kms_providers else None
        self._key_provider = key_provider
        self._master_key = dict(master_key) if master_key else None
        self._namespace = key_vault_namespace
        self._kms_tls_options = kms_tls_options
        self._key_cache_seconds = key_cache_seconds
        self._accept_plaintext = accept_plaintext
        self._db: DatabaseManager | None = None
        self._ring: DataKeyRing | None = None
        self._warned_plaintext: set[str] = set()

    # ------------------------------------------------------------- lifecycle

    async def attach(self, db: DatabaseManager) -> None:
        """Open the key vault of ``db``'s deployment (called by ``connect``).

        Raises:
            RepositoryError: the cipher already serves another connection; make
                one cipher per ``connect``.
        """
        if self._ring is not None and self._db is not db:
            raise RepositoryError(
                "this cipher already serves another connection; give each "
                "connect() its own CsfleCipher"
            )
        await self.close()
        if self._kms_providers is None:
            self._kms_providers = local_kms_providers(db.settings)
        self._db = db
        vault = await self._open(self._kms_providers)
        self._ring = DataKeyRing(vault, self._key_cache_seconds)
        _log.info(
            "field encryption ready: key vault %s, new keys wrapped by %s",
            self.key_vault_namespace,
            self._key_provider,
        )

    async def close(self) -> None:
        """Release libmongocrypt; called when the connection closes."""
        ring, self._ring = self._ring, None
        if ring is not None:
            await ring.close()

    @property
    def key_vault_namespace(self) -> str:
        """Where the data keys live, ``database.collection``."""
        if self._namespace is not None:
            return self._namespace
        if self._db is None:
            raise RepositoryError("the cipher is not attached to a database yet")
        return self._db.settings.key_vault_namespace

    @property
    def keys(self) -> DataKeyRing:
        """The data keys in use, over the key vault.

        Raises:
            RepositoryError: the cipher was never attached to a connection.
        """
        if self._ring is None:
            raise RepositoryError(
                "the cipher has no key vault: pass it to connect(cipher=...) or "
                "await cipher.attach(db)"
            )
        return self._ring

    # ----------------------------------------------------- the FieldCipher API

    async def encrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Copies of ``documents`` with every sensitive value encrypted.

        Raises:
            ValidationError: a document of a per-patient model lacks its
                patient id (``patient_required``), so no key can be chosen.
        """
        layout = encrypted_layout(entity)
        if not layout.paths:
            return documents
        patient_field = getattr(entity, "PATIENT_FIELD", None)
        copies, slots, patients = [], [], []
        for index, document in enumerate(documents):
            copy, found = plan_document(layout, document, index)
            copies.append(copy)
            slots.extend(found)
            patients.append(document.get(patient_field) if patient_field else None)
        await self._encrypt_slots(entity, slots, patients)
        return copies

    async def decrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``documents`` with every sensitive value readable, decrypted in one
        batch (keys not cached are fetched in one query).

        Raises:
            DataErasedError: a record belongs to a patient whose key was erased.
            RepositoryError: a value could not be decrypted for another reason,
                or is plaintext and plaintext is not accepted.
        """
        layout = encrypted_layout(entity)
        if not layout.paths or not documents:
            return documents
        copies, slots = [], []
        for index, document in enumerate(documents):
            copy, found = plan_document(layout, document, index)
            copies.append(copy)
            slots.extend(found)
        sealed = [slot for slot in slots if _is_ciphertext(slot.value)]
        if len(sealed) < len(slots):
            self._plaintext_found(entity, copies, slots)
        if not sealed:
            return copies
        self._refuse_erased(entity, copies, sealed)
        try:
            values = await self.keys.vault.decrypt_many([slot.value for slot in sealed])
        except RepositoryError as exc:
            raise await self._decryption_failure(entity, copies, sealed, exc) from None
        for slot, value in zip(sealed, values, strict=True):
            slot.holder[slot.key] = value
        return copies

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        """The ciphertext an equality lookup on a deterministic field compares.

        Raises:
            ValidationError: ``path`` is random-encrypted (``encrypted_field``).
        """
        found = encrypted_layout(entity).by_dotted(path)
        if found is None or found.algorithm is not EncryptionAlgorithm.DETERMINISTIC:
            raise ValidationError(
                f"{path} is not stored with deterministic encryption; it cannot "
                "be looked up by value",
                field=path,
                rule="encrypted_field",
            )
        name = data_key_name(entity, found, None)
        keys = await self.keys.ids_for([name])
        return await self.keys.encrypt(name, keys, value, DETERMINISTIC)

    async def encrypt_update(
        self, entity: type[Any], update: dict[str, Any], patient_id: str | None
    ) -> dict[str, Any]:
        """A copy of ``update`` with the values it writes at encrypted paths
        encrypted (``$set``, ``$push``/``$addToSet`` with or without ``$each``,
        positional paths such as ``goals.$.notes``). Values already encrypted
        pass unchanged.

        Raises:
            ValidationError: the update writes into a value encrypted as a
                whole, or a per-patient value without ``patient_id``.
        """
        if patient_id is not None and printable_id(patient_id) is None:
            raise ValidationError(
                "not a valid patient id", field="patient_id", rule="format"
            )
        copied, slots = plan_update(entity, update)
        if slots:
            await self._encrypt_slots(entity, slots, [patient_id])
        return copied

    # ------------------------------------------------------- keys and erasure

    async def erase_patient_key(self, patient_id: str) -> bool:
        """Delete the patient's data key: every value encrypted with it becomes
        unreadable for good. ``False`` if the patient had no key.

        This process refuses those values at once; another process notices
        within ``key_cache_seconds``. Deterministic fields (shared keys) are not
        affected.
        """
        if printable_id(patient_id) is None:
            raise ValidationError(
                "not a valid patient id", field="patient_id", rule="format"
            )
        erased = await self.keys.erase(patient_key_name(patient_id))
        # The audit trail names the patient; the log only counts the act.
        _log.info("patient data key erasure: %s", "erased" if erased else "no key")
        return erased

    async def open_vault(self, overrides: Mapping[str, Any]) -> KeyVault:
        """A second handle on the same key vault, with some KMS providers added
        or replaced (for rotating master keys); the caller closes it."""
        return await self._open({**(self._kms_providers or {}), **overrides})

    async def use_kms_providers(self, overrides: Mapping[str, Any]) -> None:
        """From now on, unwrap and wrap data keys with these KMS providers
        added or replaced (after a master key was rotated)."""
        providers = {**(self._kms_providers or {}), **overrides}
        await self.keys.replace_vault(await self._open(providers))
        self._kms_providers = providers

    @property
    def kms_provider_names(self) -> frozenset[str]:
        """The names of the configured KMS providers (never their secrets)."""
        return frozenset(self._kms_providers or ())

    # -------------------------------------------------------------- internals

    async def _open(self, providers: Mapping[str, Any]) -> KeyVault:
        if self._db is None:
            raise RepositoryError("the cipher is not attached to a database yet")
        config = VaultConfig(
            kms_providers=providers,
            namespace=self.key_vault_namespace,
            provider=self._key_provider,
            master_key=self._master_key,
            kms_tls_options=self._kms_tls_options,
            key_expiration_ms=int(self._key_cache_seconds * 1000),
        )
        return await open_key_vault(self._db, config)

    async def _encrypt_slots(
        self, entity: type[Any], slots: list[Slot], patients: Sequence[Any]
    ) -> None:
        pending = [slot for slot in slots if not _is_ciphertext(slot.value)]
        names = [
            data_key_name(entity, slot.path, patients[slot.owner]) for slot in pending
        ]
        if not pending:
            return
        keys = await self.keys.ids_for(set(names))
        for slot, name in zip(pending, names, strict=True):
            algorithm = (
                DETERMINISTIC
                if slot.path.algorithm is EncryptionAlgorithm.DETERMINISTIC
                else RANDOM
            )
            slot.holder[slot.key] = await self.keys.encrypt(
                name, keys, slot.value, algorithm
            )

    def _refuse_erased(
        self, entity: type[Any], documents: list[dict[str, Any]], sealed: list[Slot]
    ) -> None:
        for slot in sealed:
            if self.keys.is_erased(key_id_of(slot.value)):
                raise _erased(entity, documents[slot.owner])

    async def _decryption_failure(
        self,
        entity: type[Any],
        documents: list[dict[str, Any]],
        sealed: list[Slot],
        error: RepositoryError,
    ) -> RepositoryError:
        gone = await self.keys.gone(key_id_of(slot.value) for slot in sealed)
        if not gone:
            error.entity = entity.__name__
            return error
        first = next(slot for slot in sealed if key_id_of(slot.value) in gone)
        found = _erased(entity, documents[first.owner])
        found.cause = error
        return found

    def _plaintext_found(
        self, entity: type[Any], documents: list[dict[str, Any]], slots: list[Slot]
    ) -> None:
        plain = [slot for slot in slots if not _is_ciphertext(slot.value)]
        if not self._accept_plaintext:
            first = plain[0]
            raise RepositoryError(
                f"{first.path.dotted} is stored unencrypted",
                entity=entity.__name__,
                entity_id=printable_id(documents[first.owner].get("_id")),
            )
        level = logging.DEBUG
        if entity.__name__ not in self._warned_plaintext:
            self._warned_plaintext.add(entity.__name__)
            level = logging.WARNING
        _log.log(
            level,
            "read %d unencrypted value(s) of encrypted %s fields (stored before "
            "encryption); the next write of each record encrypts them",
            len(plain),
            entity.__name__,
        )


def _is_ciphertext(value: Any) -> bool:
    return isinstance(value, Binary) and value.subtype == 6


def _erased(entity: type[Any], document: Mapping[str, Any]) -> DataErasedError:
    return DataErasedError(
        "this record's patient data key was erased; its encrypted fields can no "
        "longer be read",
        entity=entity.__name__,
        entity_id=printable_id(document.get("_id")),
    )
