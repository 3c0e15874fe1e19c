"""The encryption stage of the pipeline: sensitive fields are encrypted before a
write and decrypted after a read."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["FieldCipher", "PlaintextCipher"]


class FieldCipher(Protocol):
    """Encrypts and decrypts the fields a model declares ``Encrypted``.

    It works on batches, so a page of a thousand records costs one call.
    """

    async def encrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Return ``documents`` with their sensitive fields encrypted."""
        ...

    async def decrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Return ``documents`` with their sensitive fields readable."""
        ...

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        """Encrypt one query value for an equality lookup on ``path``."""
        ...


class PlaintextCipher:
    """Leaves fields as they are: the foundation's placeholder until field-level
    encryption lands (README, Known limitations)."""

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
