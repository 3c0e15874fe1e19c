"""Writes guarded by the stored state: single-document updates that apply only
if the record still matches (its revision, a status), and batches of them, each
authorized, encrypted and audited like any other write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pymongo import ReturnDocument

from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.types import utc_now
from wellness_repo.repository.records import (
    REVISION_KEY,
)
from wellness_repo.repository.stages import PipelineStages
from wellness_repo.security.encrypted_fields import needs_patient_key
from wellness_repo.security.policy import Operation

__all__ = ["GuardedWrites"]

T = TypeVar("T", bound=WellnessDocument)


class GuardedWrites(PipelineStages[T]):
    """Conditional updates for domain methods (a status change, a claim)."""

    async def _atomic_update(
        self,
        entity_id: str,
        update: dict[str, Any],
        *,
        guard: dict[str, Any] | None = None,
        changed: Sequence[str] = (),
    ) -> T | None:
        """Apply a MongoDB update to one record in one step, through the pipeline.

        For domain methods that must not read-then-write (adding a care-team
        member, appending to a history). ``guard`` narrows which state the update
        applies to; ``None`` is returned when the guard (or visibility) failed.
        The revision is increased and ``updated_at`` set.
        """
        self._check_id(entity_id)
        context = self._context()
        query = await self._scoped_filter(
            context, Operation.UPDATE, {"_id": entity_id, **(guard or {})}
        )
        await self._authorize_changes(context, entity_id, _written_fields(update))
        update = dict(update)
        update["$inc"] = {**update.get("$inc", {}), REVISION_KEY: 1}
        update["$set"] = {**update.get("$set", {}), "updated_at": utc_now()}
        sealed = await self._sealed_update(query, update, entity_id)
        if sealed is None:
            return None
        raw = await self._driver(
            self._collection.find_one_and_update(
                query,
                sealed,
                return_document=ReturnDocument.AFTER,
                projection=self._hidden_projection(context),
                **self._session(),
            ),
            entity_id,
        )
        if raw is None:
            return None
        self.db.note_write(self._collection_name)
        self._redact(context, [raw])
        await self._audit(
            context,
            Operation.UPDATE,
            (entity_id,),
            changed=changed,
            patients=self._patients_of([raw]),
        )
        records = await self._load_many([raw])
        return records[0]

    async def _sealed_update(
        self, query: dict[str, Any], update: dict[str, Any], entity_id: str
    ) -> dict[str, Any] | None:
        """``update`` with the values it writes at encrypted paths encrypted.

        A value only the record's patient key may encrypt needs that patient's
        id, read first (it never changes); ``None`` if the record is not there.
        """
        patient_id = None
        field = self._patient_field
        if field is not None and needs_patient_key(self.entity_model, update):
            owner = await self._driver(
                self._collection.find_one(query, {field: 1}, **self._session()),
                entity_id,
            )
            if owner is None:
                return None
            patient_id = owner.get(field)
        return await self.db.cipher.encrypt_update(
            self.entity_model, update, patient_id
        )

    async def _update_many(
        self,
        query: dict[str, Any],
        update: dict[str, Any],
        *,
        changed: Sequence[str] = (),
    ) -> int:
        """Apply one MongoDB update to every visible record matching ``query``.

        For domain acts over a set of records (ending all of a user's sessions).
        The records are chosen first and the update is confined to them, so the
        audit names exactly the ids it could touch; each changed record's revision
        is increased and ``updated_at`` set. Returns how many records changed.
        """
        context = self._context()
        scope = await self._scoped_filter(context, Operation.UPDATE, query)
        keep = {"_id": 1, **({self._patient_field: 1} if self._patient_field else {})}
        targets = await self._driver(
            self._collection.find(scope, keep, **self._session()).to_list(None)
        )
        if not targets:
            return 0
        ids = [raw["_id"] for raw in targets]
        await self._authorize_changes(context, str(ids[0]), _written_fields(update))
        update = dict(update)
        update["$inc"] = {**update.get("$inc", {}), REVISION_KEY: 1}
        update["$set"] = {**update.get("$set", {}), "updated_at": utc_now()}
        # A value only the patient's own key may encrypt is written once per
        # patient; anything else goes out as one update.
        groups: dict[str | None, list[Any]] = {}
        per_patient = self._patient_field is not None and needs_patient_key(
            self.entity_model, update
        )
        for raw in targets:
            owner = raw.get(self._patient_field) if per_patient else None
            groups.setdefault(owner, []).append(raw["_id"])
        modified = 0
        for patient_id, group in groups.items():
            sealed = await self.db.cipher.encrypt_update(
                self.entity_model, update, patient_id
            )
            result = await self._driver(
                self._collection.update_many(
                    {"$and": [scope, {"_id": {"$in": group}}]},
                    sealed,
                    **self._session(),
                )
            )
            modified += int(result.modified_count)
        if modified:
            self.db.note_write(self._collection_name)
        await self._audit(
            context,
            Operation.UPDATE,
            tuple(str(entity_id) for entity_id in ids),
            changed=changed,
            patients=self._patients_of(targets),
        )
        return modified


def _written_fields(update: Mapping[str, Any]) -> list[str]:
    """The top-level fields a MongoDB update document writes."""
    names = {
        path.split(".")[0]
        for fields in update.values()
        if isinstance(fields, Mapping)
        for path in fields
    }
    return sorted(names - {REVISION_KEY, "updated_at"})
