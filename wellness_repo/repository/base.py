"""``AsyncBaseRepository``: the one path every read and write takes.

Writes: validate -> authorize -> encrypt -> write -> audit.
Reads: compile -> authorize (the policy's scope joins the Mongo filter, so counts
and pages stay right) -> read -> decrypt -> validate -> audit.

Specialised repositories add domain methods on top and use the protected helpers
it inherits (``_scoped_filter``, ``_load_many`` and ``_aggregate`` from
``stages.py``, ``_atomic_update`` from ``guarded_writes.py``, the shared checks
from ``core.py``); they never talk to a collection around this pipeline.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from wellness_repo.database.transactions import in_transaction
from wellness_repo.errors import (
    AccessDeniedError,
    ConcurrencyError,
    NotFoundError,
    ValidationError,
    translate_driver_error,
)
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.types import utc_now
from wellness_repo.query.compiler import (
    cursor_condition,
    decode_cursor,
    encode_cursor,
)
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.query.q import Q
from wellness_repo.repository.guarded_writes import GuardedWrites
from wellness_repo.repository.records import (
    REVISION_KEY,
    VERSION_KEY,
    changed_fields,
    dump_for_storage,
    load_document,
)
from wellness_repo.security.policy import Operation

__all__ = ["AsyncBaseRepository"]

T = TypeVar("T", bound=WellnessDocument)

_IMMUTABLE = frozenset({"id", "created_at", "revision", "deleted_at", "deleted_by"})
# Set only by delete(): an update can neither delete nor restore a record.
_DELETION_FIELDS = ("deleted_at", "deleted_by")
# Patches of one record by many writers at once each re-apply on the newest
# revision; with a short random pause the burst drains within these attempts.
_PATCH_ATTEMPTS = 12


class AsyncBaseRepository(GuardedWrites[T]):
    """Create, read, update, delete and list one kind of record.

    Args:
        db_manager: the connection from :func:`wellness_repo.connect`.
        logger: where operational events go; defaults to
            ``wellness_repo.repositories``. Only ids, counts and outcomes are
            logged, never field values.
        model: the document class, when the subclass does not set ``model``.

    Schema migrations are methods named ``migrate_entity_v1_to_v2`` (and so on)
    that take and return a stored document as a dict.
    """

    # ---------------------------------------------------------------- writes

    async def create(self, entity: T) -> T:
        """Store a new record and return it as stored (``revision`` 1).

        Raises:
            ValidationError: the record is invalid; nothing is written.
            DuplicateError: a record with the same id or unique key exists.
        """
        self._check_type(entity)
        context = self._context()
        document, record = dump_for_storage(entity, revision=1)
        await self._authorize_write(context, document, Operation.CREATE)
        stored = await self._encrypt(document)
        await self._driver(
            self._collection.insert_one(stored, **self._session()), entity.id
        )
        self.db.note_write(self._collection_name)
        await self._audit(
            context,
            Operation.CREATE,
            (entity.id,),
            patients=self._patients_of([document]),
        )
        self.logger.debug("created %s %s", self._entity, entity.id)
        return record

    async def create_many(self, entities: Sequence[T]) -> list[T]:
        """Store many new records in one round trip, in order.

        Every record is validated and authorized before anything is written, so
        bad input writes nothing. If a duplicate stops the insert part way, the
        ``DuplicateError`` says how many were stored before it.
        """
        context = self._context()
        documents, records = [], []
        for entity in entities:
            self._check_type(entity)
            document, record = dump_for_storage(entity, revision=1)
            await self._authorize_write(context, document, Operation.CREATE)
            documents.append(document)
            records.append(record)
        if not documents:
            return []
        stored = await self.db.cipher.encrypt_documents(self.entity_model, documents)
        try:
            await self._collection.insert_many(stored, ordered=True, **self._session())
        except Exception as exc:
            inserted = _inserted_count(exc)
            error = translate_driver_error(exc, entity=self._entity)
            if inserted is not None and not in_transaction():
                # Inside a transaction the abort takes those records back too.
                error.message += f"; {inserted} record(s) before it were stored"
            raise error from None
        finally:
            self.db.note_write(self._collection_name)
        ids = tuple(str(doc["_id"]) for doc in documents)
        await self._audit(
            context, Operation.CREATE, ids, patients=self._patients_of(documents)
        )
        self.logger.debug("created %d %s records", len(ids), self._entity)
        return records

    async def update(self, entity: T) -> T:
        """Store a changed record, if nobody changed it since it was read.

        The record's ``revision`` must still be the stored one; the returned
        record carries the next revision. The whole stored document is replaced
        (so fields a schema migration dropped go too), except what the writer
        does not own: ``created_at``, the deletion marks, and fields the access
        policy hides from this writer keep their stored values.

        Raises:
            ConcurrencyError: the stored record has moved on; nothing is written.
            NotFoundError: no such record is visible.
        """
        self._check_type(entity)
        context = self._context()
        expected = entity.revision
        document, _ = dump_for_storage(entity, revision=expected + 1)
        document["updated_at"] = utc_now()
        await self._authorize_write(context, document, Operation.UPDATE)
        scope = await self._scoped_filter(context, Operation.UPDATE, {"_id": entity.id})
        before = await self._driver(
            self._collection.find_one(scope, **self._session()), entity.id
        )
        if before is None or before.get(REVISION_KEY) != expected:
            await self._raise_missing_or_stale(scope, entity.id, expected)
        assert before is not None
        for owned_elsewhere in ("created_at", *_DELETION_FIELDS):
            if owned_elsewhere in before:
                document[owned_elsewhere] = before[owned_elsewhere]
        stored = await self._encrypt(document)
        # The comparison for the audit is between plaintexts: random ciphertext
        # differs on every write, changed or not.
        (compared,) = await self.db.cipher.decrypt_documents(
            self.entity_model, [dict(before)]
        )
        after = dict(document)
        for hidden in self._hidden_in(context, before):
            if hidden in before:
                stored[hidden] = before[hidden]
                after[hidden] = compared[hidden]
        fields = changed_fields(compared, after, ignore=("_rev", "updated_at"))
        await self._authorize_changes(context, entity.id, fields)
        result = await self._driver(
            self._collection.replace_one(
                {**scope, REVISION_KEY: expected}, stored, **self._session()
            ),
            entity.id,
        )
        if result.matched_count == 0:
            await self._raise_missing_or_stale(scope, entity.id, expected)
        self.db.note_write(self._collection_name)
        await self._audit(
            context,
            Operation.UPDATE,
            (entity.id,),
            changed=fields,
            patients=self._patients_of([before]),
        )
        self.logger.debug("updated %s %s", self._entity, entity.id)
        return self._fresh(document)

    async def patch(
        self,
        entity_id: str,
        changes: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
    ) -> T:
        """Change some fields of a record and return the updated record.

        With ``expected_revision`` the change applies only to that revision
        (``ConcurrencyError`` otherwise). Without it the change is re-applied to
        the newest revision if another writer got in first, since setting these
        fields means the same on either.
        """
        self._check_id(entity_id)
        unknown = [
            name for name in changes if name not in self.entity_model.model_fields
        ]
        if unknown:
            raise ValidationError(
                f"{self._entity} has no field {unknown[0]!r}",
                field=unknown[0],
                rule="unknown_field",
                entity=self._entity,
                entity_id=entity_id,
            )
        fixed = sorted(set(changes) & _IMMUTABLE)
        if fixed:
            raise ValidationError(
                f"{fixed[0]} cannot be changed",
                field=fixed[0],
                rule="immutable",
                entity=self._entity,
                entity_id=entity_id,
            )
        for _attempt in range(_PATCH_ATTEMPTS):
            current = await self.get(entity_id)
            if expected_revision is not None and current.revision != expected_revision:
                raise ConcurrencyError(
                    "the record changed since the given revision",
                    expected_revision=expected_revision,
                    entity=self._entity,
                    entity_id=entity_id,
                )
            merged = current.model_dump(by_alias=False)
            merged.update(changes)
            candidate = self._validated_from_fields(merged, entity_id)
            try:
                return await self.update(candidate)
            except ConcurrencyError:
                # Inside a transaction the whole unit must be retried, not this
                # write alone; with an expected revision, staleness is the answer.
                if expected_revision is not None or in_transaction():
                    raise
                await asyncio.sleep(random.uniform(0.001, 0.005) * (_attempt + 1))
        raise ConcurrencyError(
            "the record kept changing; the patch was not applied",
            entity=self._entity,
            entity_id=entity_id,
        )

    async def delete(self, entity_id: str) -> bool:
        """Delete a record; ``False`` if there was no such visible record.

        Soft-deletable records are marked and kept for the audit trail; they
        disappear from every query.
        """
        self._check_id(entity_id)
        context = self._context()
        scope = await self._scoped_filter(context, Operation.DELETE, {"_id": entity_id})
        # Only the patient reference comes back: the audit names whose record went.
        patient_only = {self._patient_field or "_id": 1}
        if self._soft_delete:
            marks = {"deleted_at": utc_now(), "deleted_by": context.actor_id}
            removed = await self._driver(
                self._collection.find_one_and_update(
                    scope,
                    {
                        "$set": {**marks, "updated_at": marks["deleted_at"]},
                        "$inc": {REVISION_KEY: 1},
                    },
                    projection=patient_only,
                    **self._session(),
                ),
                entity_id,
            )
        else:
            removed = await self._driver(
                self._collection.find_one_and_delete(
                    scope, projection=patient_only, **self._session()
                ),
                entity_id,
            )
        found = removed is not None
        if found:
            self.db.note_write(self._collection_name)
        await self._audit(
            context,
            Operation.DELETE,
            (entity_id,) if found else (),
            patients=self._patients_of([removed] if removed else []),
        )
        self.logger.debug("deleted %s %s: %s", self._entity, entity_id, found)
        return found

    # ----------------------------------------------------------------- reads

    async def get_by_id(self, entity_id: str) -> T | None:
        """The record with this id, or ``None`` if there is none visible."""
        self._check_id(entity_id)
        context = self._context()
        query = await self._scoped_filter(context, Operation.READ, {"_id": entity_id})
        raw = await self._driver(
            self._collection.find_one(
                query, self._hidden_projection(context), **self._session()
            ),
            entity_id,
        )
        raws = [raw] if raw else []
        self._redact(context, raws)
        records = await self._load_many(raws)
        await self._audit(
            context,
            Operation.READ,
            (entity_id,) if raw else (),
            query,
            patients=self._patients_of(raws),
        )
        return records[0] if records else None

    async def get(self, entity_id: str) -> T:
        """The record with this id.

        Raises:
            NotFoundError: no such record is visible.
        """
        record = await self.get_by_id(entity_id)
        if record is None:
            raise NotFoundError(
                f"no {self._entity} with this id",
                entity=self._entity,
                entity_id=entity_id,
            )
        return record

    async def list_all(self, options: QueryOptions | None = None) -> QueryResult[T]:
        """One page of the records matching ``options``.

        Raises:
            ValidationError: an unknown field, a wrong value, a page too large.
        """
        options = options or QueryOptions()
        limit = self._page_size(options.limit)
        context = self._context()
        compiled, sort = await self._compile_read(
            context, options.filters, options.order_by
        )
        query = await self._scoped_filter(context, Operation.READ, compiled.filter)
        if compiled.has_encrypted_values:
            query = await self._encrypt_lookups(query)
        page_query = query
        if options.after is not None:
            values = decode_cursor(sort, options.after)
            page_query = {"$and": [query, cursor_condition(sort, values)]}
        projection = self._projection(context, options.fields, sort)
        cursor = self._collection.find(
            page_query,
            projection,
            sort=sort,
            skip=options.offset,
            limit=limit + 1,
            max_time_ms=self.db.settings.query_timeout_ms,
            **self._session(),
        )
        raws = await self._driver(cursor.to_list(None))
        has_more = len(raws) > limit
        raws = raws[:limit]
        next_cursor = encode_cursor(sort, raws[-1]) if has_more and raws else None
        total = None
        if options.include_count:
            total = await self._driver(
                self._collection.count_documents(
                    query,
                    maxTimeMS=self.db.settings.query_timeout_ms,
                    **self._session(),
                )
            )
        self._redact(context, raws)
        patients = self._patients_of(raws)
        if options.fields is None:
            items = await self._load_many(raws)
        else:
            items = await self._load_projected(context, raws, projection or {})
        await self._audit(
            context,
            Operation.READ,
            tuple(item.id for item in items),
            query,
            patients=patients,
        )
        return QueryResult(
            items=items,
            total_count=total,
            limit=limit,
            offset=options.offset,
            has_more=has_more,
            next_cursor=next_cursor,
        )

    async def find_one_by(self, *where: Q, **lookups: Any) -> T | None:
        """The first record (in id order) matching the lookups, or ``None``."""
        result = await self.list_all(
            QueryOptions(filters=_as_q(where, lookups), limit=1)
        )
        return result.items[0] if result.items else None

    async def find_by(self, *where: Q, **lookups: Any) -> list[T]:
        """Every record matching the lookups, in id order.

        Raises:
            ValidationError: more records match than one page may hold; use
                ``list_all`` to page through them.
        """
        page = self.db.settings.max_page_size
        result = await self.list_all(
            QueryOptions(filters=_as_q(where, lookups), limit=page)
        )
        if result.has_more:
            raise ValidationError(
                f"more than {page} records match; page through them with list_all",
                field="lookups",
                rule="max_page_size",
                entity=self._entity,
            )
        return result.items

    async def count(self, *where: Q, **lookups: Any) -> int:
        """How many visible records match the lookups."""
        context = self._context()
        compiled, _sort = await self._compile_read(context, _as_q(where, lookups))
        query = await self._scoped_filter(context, Operation.READ, compiled.filter)
        if compiled.has_encrypted_values:
            query = await self._encrypt_lookups(query)
        total: int = await self._driver(
            self._collection.count_documents(
                query, maxTimeMS=self.db.settings.query_timeout_ms, **self._session()
            )
        )
        await self._audit(context, Operation.READ, (), query)
        return total

    async def exists(self, *where: Q, **lookups: Any) -> bool:
        """Whether any visible record matches the lookups."""
        found = await self.list_all(
            QueryOptions(filters=_as_q(where, lookups), limit=1, fields=())
        )
        return bool(found.items)

    # ------------------------------------------------------------ migrations

    async def migrate_stored(self, batch_size: int = 500) -> int:
        """Upgrade every stored record of an older schema version in place.

        Runs under a system context only. Each record is rewritten only if it
        has not changed since it was read, so it is safe beside live traffic and
        safe to run again. Returns how many records were upgraded.
        """
        context = self._context()
        if not context.is_system:
            raise AccessDeniedError(
                "only a system context may migrate stored records", entity=self._entity
            )
        current = self.entity_model.SCHEMA_VERSION
        outdated = {
            "$or": [
                {VERSION_KEY: {"$lt": current}},
                {VERSION_KEY: {"$exists": False}},
            ]
        }
        upgraded = 0
        last_id: Any = None
        while True:
            query = (
                outdated if last_id is None else {**outdated, "_id": {"$gt": last_id}}
            )
            batch = await self._collection.find(
                query, sort=[("_id", 1)], limit=batch_size
            ).to_list(None)
            if not batch:
                break
            for raw in batch:
                upgraded += await self._upgrade_one(raw)
            last_id = batch[-1]["_id"]
        if upgraded:
            self.db.note_write(self._collection_name)
        self.logger.info(
            "upgraded %d %s records to v%d", upgraded, self._entity, current
        )
        return upgraded

    async def _upgrade_one(self, raw: dict[str, Any]) -> int:
        old_revision = raw.get(REVISION_KEY)
        (plain,) = await self.db.cipher.decrypt_documents(
            self.entity_model, [dict(raw)]
        )
        # Upgraded and then validated in full, as a read of it would be.
        record = load_document(self.entity_model, plain, self._migrations)
        revision = (old_revision or 0) + 1
        document, _ = dump_for_storage(record, revision=revision)
        stored = await self._encrypt(document)
        guard = {"_id": raw["_id"], REVISION_KEY: old_revision}
        if old_revision is None:
            guard = {"_id": raw["_id"], REVISION_KEY: {"$exists": False}}
        result = await self._driver(self._collection.replace_one(guard, stored))
        return int(result.modified_count)


def _as_q(where: tuple[Q, ...], lookups: Mapping[str, Any]) -> Q:
    for item in where:
        if not isinstance(item, Q):
            raise ValidationError(
                "positional filters must be Q objects", field="where", rule="type"
            )
    return Q(*where, **lookups) if where else Q.from_mapping(lookups)


def _inserted_count(exc: BaseException) -> int | None:
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and isinstance(details.get("nInserted"), int):
        return int(details["nInserted"])
    return None
