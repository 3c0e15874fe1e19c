"""The encryption stage of the pipeline: sensitive fields are encrypted before a
write and decrypted after a read."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["FieldCipher", "PlaintextCipher"]


class FieldCipher(Protocol):
    """Encrypts and decrypts the fields a model declares ``Encrypted``."""

    async def encrypt_document(
        self, entity: type[Any], document: dict[str, Any]
    ) -> dict[str, Any]:
        """Return ``document`` with its sensitive fields encrypted."""
        ...

    async def decrypt_document(
        self, entity: type[Any], document: dict[str, Any]
    ) -> dict[str, Any]:
        """Return ``document`` with its sensitive fields readable."""
        ...

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        """Encrypt one query value for an equality lookup on ``path``."""
        ...


class PlaintextCipher:
    """Leaves fields as they are: the foundation's placeholder until field-level
    encryption lands (README, Known limitations)."""

    async def encrypt_document(
        self, entity: type[Any], document: dict[str, Any]
    ) -> dict[str, Any]:
        return document

    async def decrypt_document(
        self, entity: type[Any], document: dict[str, Any]
    ) -> dict[str, Any]:
        return document

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        return value
