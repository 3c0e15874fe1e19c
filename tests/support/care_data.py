"""Realistic care-coordination records for the tests, raw-storage readers, and a
stand-in field cipher that proves encrypted fields never reach storage readable."""

from __future__ import annotations

import base64
import json
import types
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from tests.conftest import SYSTEM
from tests.support.models import TEST_MODELS
from wellness_repo import DatabaseManager, Encrypted, connect
from wellness_repo.models.care import (
    CareTeam,
    NetworkStatus,
    Provider,
    ProviderType,
)
from wellness_repo.models.referrals import (
    REFERRAL_TRANSITIONS,
    ReferralStatus,
)
from wellness_repo.security.encrypted_fields import plan_update

REFERRING_THERAPIST = "therapist_456"
RECEIVING_PSYCHIATRIST = "psychiatrist_789"
PATIENT = "patient_123"


def psychiatrist(**changes: Any) -> Provider:
    """The seed's adult psychiatrist, licensed in New York."""
    values: dict[str, Any] = {
        "first_name": "Dr. Sarah",
        "last_name": "Johnson",
        "provider_type": ProviderType.PSYCHIATRIST,
        "license_number": "MD12345",
        "license_state": "NY",
        "license_expires_on": date(2027, 6, 30),
        "specialty": "Adult Psychiatry",
        "accepting_new_patients": True,
        "network_status": NetworkStatus.IN_NETWORK,
    }
    values.update(changes)
    return Provider(**values)


def unchecked_provider(**changes: Any) -> Provider:
    """A provider built without validation, as a buggy caller could build one."""
    values = dict(psychiatrist())
    values.update(changes)
    provider: Provider = Provider.model_construct(**values)
    return provider


def care_team(**changes: Any) -> CareTeam:
    """The seed's integrated care team for a patient with major depression."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "primary_provider_id": REFERRING_THERAPIST,
        "shared_goals": ["Symptom reduction", "Improved functioning"],
        "treatment_approach": "Integrated therapy and medication",
    }
    values.update(changes)
    return CareTeam(**values)


def path_to(status: ReferralStatus) -> list[ReferralStatus]:
    """The shortest run of status changes taking a new referral to ``status``."""
    routes: dict[ReferralStatus, list[ReferralStatus]] = {ReferralStatus.PENDING: []}
    frontier = [ReferralStatus.PENDING]
    while frontier:
        current = frontier.pop(0)
        for following in sorted(REFERRAL_TRANSITIONS[current]):
            if following not in routes:
                routes[following] = [*routes[current], following]
                frontier.append(following)
    return routes[status]


async def stored_count(db: DatabaseManager, model: type[Any]) -> int:
    """How many documents the collection holds, read around the repository."""
    return int(await db.collection(model).count_documents({}))


async def stored_document(
    db: DatabaseManager, model: type[Any], record_id: str
) -> dict[str, Any]:
    """One stored document exactly as the database holds it."""
    document = await db.collection(model).find_one({"_id": record_id})
    assert document is not None
    return dict(document)


_SEAL = "sealed:"


def _seal(value: Any) -> str:
    payload = json.dumps(value).encode("utf-8")
    return _SEAL + base64.b64encode(payload).decode("ascii")


def _unseal(value: Any) -> Any:
    if not (isinstance(value, str) and value.startswith(_SEAL)):
        raise AssertionError("an encrypted field was stored readable")
    return json.loads(base64.b64decode(value[len(_SEAL) :]))


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list):
        for argument in get_args(annotation):
            found = _sub_model(argument)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _transform(
    model: type[BaseModel], document: dict[str, Any], change: Callable[[Any], Any]
) -> dict[str, Any]:
    result = dict(document)
    for name, info in model.model_fields.items():
        key = info.alias or name
        value = result.get(key)
        if value is None:
            continue
        if any(isinstance(item, Encrypted) for item in info.metadata):
            result[key] = change(value)
            continue
        inner = _sub_model(info.annotation)
        if inner is None:
            continue
        if isinstance(value, list):
            result[key] = [_transform(inner, item, change) for item in value]
        else:
            result[key] = _transform(inner, value, change)
    return result


class SealingCipher:
    """Seals every field a model declares ``Encrypted`` (whole documents or the
    fragments a domain method writes) and refuses to read back a field that was
    stored readable. Not cryptography: a witness for the tests."""

    async def encrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return [_transform(entity, document, _seal) for document in documents]

    async def decrypt_documents(
        self, entity: type[Any], documents: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return [_transform(entity, document, _unseal) for document in documents]

    async def encrypt_value(self, entity: type[Any], path: str, value: Any) -> Any:
        return _seal(value)

    async def encrypt_update(
        self, entity: type[Any], update: dict[str, Any], patient_id: str | None
    ) -> dict[str, Any]:
        copied, slots = plan_update(entity, update)
        for slot in slots:
            if not (isinstance(slot.value, str) and slot.value.startswith(_SEAL)):
                slot.holder[slot.key] = _seal(slot.value)
        return copied


async def open_sealed_database(uri: str | None) -> DatabaseManager:
    """A fresh database whose encrypted fields go through ``SealingCipher``."""
    return await connect(
        uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=True,
        cipher=SealingCipher(),
    )
