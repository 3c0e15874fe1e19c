"""The local master key that wraps the data keys: read from settings, or a fixed
development key (with a warning) where no key was configured.

Production deployments give ``CsfleCipher`` a cloud KMS instead (any provider
PyMongo supports); this module only serves the ``local`` provider.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from typing import Any

from wellness_repo.config import Settings
from wellness_repo.errors import ValidationError

__all__ = ["MASTER_KEY_BYTES", "decode_master_key", "local_kms_providers"]

_log = logging.getLogger("wellness_repo.encryption")

MASTER_KEY_BYTES = 96
"""A local master key's length: what libmongocrypt requires."""

_DEVELOPMENT_KEY_LABEL = b"wellness-repo development master key, never for real data"
_warned = False


def local_kms_providers(settings: Settings) -> dict[str, Any]:
    """The ``local`` KMS configuration: the master key from settings.

    Without ``local_master_key`` a fixed development key is used and a warning
    is logged once per process, unless ``require_keys`` makes that an error.

    Raises:
        ValidationError: the key is not base64 of 96 bytes
            (``base64_96_bytes``), or is missing while ``require_keys`` is set
            (``required``).
    """
    global _warned
    configured = settings.local_master_key
    if configured is not None:
        return {"local": {"key": decode_master_key(configured.get_secret_value())}}
    if settings.require_keys:
        raise ValidationError(
            "no master key configured and require_keys is set",
            field="local_master_key",
            rule="required",
        )
    if not _warned:
        _warned = True
        _log.warning(
            "no local_master_key configured: using the development master key, "
            "which protects nothing; set WELLNESS_LOCAL_MASTER_KEY"
        )
    key = hashlib.shake_256(_DEVELOPMENT_KEY_LABEL).digest(MASTER_KEY_BYTES)
    return {"local": {"key": key}}


def decode_master_key(encoded: str, *, field: str = "local_master_key") -> bytes:
    """A local master key from its base64 text.

    Args:
        field: the setting or option the text came from, named in the error.

    Raises:
        ValidationError: not base64, or not 96 bytes once decoded.
    """
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise ValidationError(
            "a local master key is base64 of exactly 96 bytes",
            field=field,
            rule="base64_96_bytes",
        )
    return key
