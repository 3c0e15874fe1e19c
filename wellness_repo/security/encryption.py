"""The encryption stage of the pipeline: sensitive fields are encrypted before a
write and decrypted after a read.

:class:`~wellness_repo.security.field_cipher.CsfleCipher` is the real stage
(MongoDB client-side field-level encryption); :class:`PlaintextCipher` stores
values as given.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["FieldCipher", "PlaintextCipher"]


class FieldCipher(Protocol):
    """Encrypts and decrypts the fields a model declares ``Encrypted``.

    It works on batches, so a page of a thousand records costs one call. A
    cipher may also define ``async attach(db)`` (called by ``connect`` once the
    models are bound, to reach its key vault) and ``async close()``.
    """

    async def encrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Return copies of ``documents`` with their sensitive fields encrypted;
        the given documents are left as they are."""
        ...

    async def decrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Return ``documents`` with their sensitive fields readable."""
        ...

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        """Encrypt one query value for an equality lookup on ``path`` (the
        stored, dotted path); a field that allows no lookups raises
        ``ValidationError``."""
        ...

    async def encrypt_update(
        self, entity: type[Any], update: dict[str, Any], patient_id: str | None
    ) -> dict[str, Any]:
        """Return a copy of a MongoDB update document whose values at encrypted
        paths are encrypted.

        ``patient_id`` is the patient the updated record is about (its
        ``PATIENT_FIELD``), whose data key encrypts the new values; ``None`` for
        records about no single patient.
        """
        ...


class PlaintextCipher:
    """Leaves fields as they are: for consumers' tests and tools that must see
    stored values as written. Sensitive fields are then stored readable."""

    async def encrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return documents

    async def decrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return documents

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        return value

    async def encrypt_update(
        self, entity: type[Any], update: dict[str, Any], patient_id: str | None
    ) -> dict[str, Any]:
        return update
