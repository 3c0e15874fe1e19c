"""Managing the data keys of a connection: erasing a patient's key
(crypto-shredding), rewrapping every key, and replacing the local master key.

Each is allowed to an administrator or a system context only, and is audited.
``wellness-repo keys rotate`` runs the rotations from the command line.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wellness_repo.config import Settings
from wellness_repo.errors import AccessDeniedError, RepositoryError, ValidationError
from wellness_repo.security.audit import AccessEvent
from wellness_repo.security.context import AccessContext, UserRole, current_context
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.master_keys import decode_master_key, local_kms_providers
from wellness_repo.security.policy import Operation

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = [
    "erase_patient_data_key",
    "replace_local_master_key",
    "rewrap_data_keys",
    "rotate_keys_from_command_line",
]

_log = logging.getLogger("wellness_repo.encryption")
_ENTITY = "DataKey"
_ROTATION = "local:rotation"
# Providers whose credentials PyMongo can find on its own (environment, instance
# metadata), so the command line never has to carry a secret.
_ON_DEMAND_PROVIDERS = frozenset({"aws", "azure", "gcp"})
_MANAGERS = frozenset({UserRole.ADMIN, UserRole.SYSTEM})


async def erase_patient_data_key(db: DatabaseManager, patient_id: str) -> bool:
    """Crypto-shred a patient: delete their data key, so every field encrypted
    with it stays stored but can never be read again (``DataErasedError``).

    Other patients are unaffected, as are deterministic fields (their keys are
    shared, so equality lookups work across patients). Returns ``False`` when
    the patient had no key.

    Raises:
        AccessDeniedError: the context is neither an administrator nor a system.
        ValidationError: ``patient_id`` is not a valid id.
    """
    context = await _manager_context(db, Operation.DELETE, (patient_id,))
    erased = await _cipher(db).erase_patient_key(patient_id)
    await db.auditor.record(
        AccessEvent(
            entity=_ENTITY,
            operation=Operation.DELETE,
            context=context,
            record_ids=(f"patient:{patient_id}",) if erased else (),
            patient_ids=(patient_id,),
        )
    )
    return erased


async def rewrap_data_keys(
    db: DatabaseManager,
    *,
    provider: str | None = None,
    master_key: Mapping[str, Any] | None = None,
) -> int:
    """Rewrap every data key under the current master key, or under a new KMS
    ``provider`` and ``master_key`` the cipher was configured with. The stored
    data is untouched. Returns how many keys were rewrapped."""
    context = await _manager_context(db, Operation.UPDATE, ())
    cipher = _cipher(db)
    if provider is not None and provider not in cipher.kms_provider_names:
        raise ValidationError(
            "the new KMS provider must be among the cipher's kms_providers",
            field="provider",
            rule="configured_provider",
        )
    count = await cipher.keys.vault.rewrap(provider=provider, master_key=master_key)
    await _audit_rotation(db, context, count)
    _log.info("rewrapped %d data key(s)", count)
    return count


async def replace_local_master_key(db: DatabaseManager, new_key: bytes) -> int:
    """Rewrap every data key held by the local master key under ``new_key``, and
    use ``new_key`` from now on. Returns how many keys were rewrapped.

    Two passes through a second provider name: each key is first wrapped by the
    new key as ``local:rotation``, then renamed back to ``local``; a key is
    never written unwrapped, and a run interrupted between the passes is
    finished by running it again. Stop the processes that hold the old key
    while this runs (a key they create meanwhile would stay under the old
    key), and restart them with the new one.
    """
    context = await _manager_context(db, Operation.UPDATE, ())
    cipher = _cipher(db)
    if "local" not in cipher.kms_provider_names:
        raise ValidationError(
            "no local master key is configured to replace",
            field="kms_providers",
            rule="local_required",
        )
    wrapped = {"key": new_key}
    staging = await cipher.open_vault({_ROTATION: wrapped})
    try:
        await staging.rewrap(provider=_ROTATION, source_provider="local")
    finally:
        await staging.close()
    settling = await cipher.open_vault({"local": wrapped, _ROTATION: wrapped})
    try:
        count = await settling.rewrap(provider="local", source_provider=_ROTATION)
    finally:
        await settling.close()
    await cipher.use_kms_providers({"local": wrapped})
    await _audit_rotation(db, context, count)
    _log.info("replaced the local master key: %d data key(s) rewrapped", count)
    return count


async def rotate_keys_from_command_line(
    uri: str,
    database: str | None,
    *,
    new_key_env: str | None = None,
    provider: str | None = None,
    master_key_json: str | None = None,
) -> int:
    """What ``wellness-repo keys rotate`` does; returns how many keys were
    rewrapped.

    Args:
        new_key_env: the environment variable holding a new local master key
            (base64 of 96 bytes); the key itself never appears on a command line.
        provider: ``aws``, ``azure`` or ``gcp``, to rewrap every key under that
            KMS, with credentials PyMongo finds in the environment.
        master_key_json: that provider's master-key spec, as a JSON object.
    """
    from wellness_repo.database.manager import connect

    settings = Settings()
    providers = local_kms_providers(settings)
    master_key: dict[str, Any] | None = None
    if provider is not None:
        if provider not in _ON_DEMAND_PROVIDERS:
            raise ValidationError(
                "the command line rotates to aws, azure or gcp only",
                field="to_provider",
                rule="provider",
            )
        providers[provider] = {}
        master_key = _json_object(master_key_json)
    new_key = None
    if new_key_env is not None:
        new_key = decode_master_key(os.environ.get(new_key_env, ""), field=new_key_env)
    db = await connect(
        uri,
        database,
        context=AccessContext.system("key-rotation"),
        settings=settings,
        apply_indexes=False,
        cipher=CsfleCipher(kms_providers=providers),
    )
    try:
        if new_key is not None:
            return await replace_local_master_key(db, new_key)
        return await rewrap_data_keys(db, provider=provider, master_key=master_key)
    finally:
        await db.close()


async def _manager_context(
    db: DatabaseManager, operation: Operation, patients: tuple[str, ...]
) -> AccessContext:
    context = current_context(db.default_context)
    if context.role in _MANAGERS and not context.is_expired():
        return context
    await db.auditor.record(
        AccessEvent(
            entity=_ENTITY,
            operation=operation,
            context=context,
            outcome="denied",
            patient_ids=patients,
        )
    )
    raise AccessDeniedError(
        "only an administrator or a system context may manage data keys",
        entity=_ENTITY,
    )


def _cipher(db: DatabaseManager) -> CsfleCipher:
    cipher = db.cipher
    if not isinstance(cipher, CsfleCipher):
        raise RepositoryError(
            "this connection's cipher keeps no data keys (connect with "
            "cipher=CsfleCipher(...))",
            entity=_ENTITY,
        )
    return cipher


async def _audit_rotation(
    db: DatabaseManager, context: AccessContext, count: int
) -> None:
    await db.auditor.record(
        AccessEvent(
            entity=_ENTITY,
            operation=Operation.UPDATE,
            context=context,
            changed_fields=("keyMaterial", "masterKey") if count else (),
        )
    )


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ValidationError(
            "the master key spec must be a JSON object", field="master_key", rule="json"
        )
    return value
