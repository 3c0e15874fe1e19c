"""``AsyncBaseRepository``: the one path every read and write takes.

Writes: validate -> authorize -> encrypt -> write -> audit.
Reads: compile -> authorize (the policy's scope joins the Mongo filter, so counts
and pages stay right) -> read -> decrypt -> validate -> audit.

Specialised repositories add domain methods on top and use the protected helpers
here (``_scoped_filter``, ``_load_many``, ``_atomic_update``, ``_aggregate``);
they never talk to a collection around this pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError as PydanticValidationError
from pymongo import ReturnDocument

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.database.transactions import current_session, in_transaction
from wellness_repo.errors import (
    AccessDeniedError,
    ConcurrencyError,
    NotFoundError,
    RepositoryError,
    ValidationError,
    translate_driver_error,
)
from wellness_repo.models.base import SoftDeletableDocument, WellnessDocument
from wellness_repo.models.types import utc_now
from wellness_repo.query.compiler import (
    EncryptedLookup,
    FieldGuard,
    compile_filters,
    compile_projection,
    compile_sort,
    cursor_condition,
    decode_cursor,
    encode_cursor,
)
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.query.q import Q
from wellness_repo.repository.records import (
    REVISION_KEY,
    VERSION_KEY,
    Migration,
    changed_fields,
    dump_for_storage,
    load_document,
    load_documents,
    load_partial,
    printable_id,
    upgrade_document,
    validation_error,
)
from wellness_repo.security.audit import AccessEvent, record_event
from wellness_repo.security.context import AccessContext, current_context
from wellness_repo.security.encrypted_fields import needs_patient_key
from wellness_repo.security.policy import Operation

__all__ = ["AsyncBaseRepository"]

T = TypeVar("T", bound=WellnessDocument)
R = TypeVar("R")

_MIGRATION_NAME = re.compile(r"^migrate_entity_v(\d+)_to_v(\d+)$")
_IMMUTABLE = frozenset({"id", "created_at", "revision", "deleted_at", "deleted_by"})
# Set only by delete(): an update can neither delete nor restore a record.
_DELETION_FIELDS = ("deleted_at", "deleted_by")
# Patches of one record by many writers at once each re-apply on the newest
# revision; with a short random pause the burst drains within these attempts.
_PATCH_ATTEMPTS = 12
_NOT_YOURS = object()
"""A value no reader's id equals: stands for every field of a record someone
else wrote, when asking a per-record rule what it can hide."""


class AsyncBaseRepository(Generic[T]):
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

    model: ClassVar[type[Any]]

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[T] | None = None,
    ) -> None:
        chosen = model or getattr(type(self), "model", None)
        if chosen is None:
            raise TypeError(f"{type(self).__name__} needs a model")
        self.db = db_manager
        self.entity_model: type[T] = chosen
        self.logger = logger or logging.getLogger("wellness_repo.repositories")
        self._collection = db_manager.collection(chosen)
        self._collection_name: str = chosen.collection_name()
        self._entity = chosen.entity_name()
        self._soft_delete = issubclass(chosen, SoftDeletableDocument)
        self._patient_field: str | None = chosen.PATIENT_FIELD
        self._migrations = self._collect_migrations()

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
        compiled = compile_filters(
            self.entity_model,
            options.filters,
            regex_max_length=self.db.settings.regex_max_length,
            guard=self._filter_guard(context),
        )
        sort = compile_sort(self.entity_model, options.order_by)
        self._refuse_hidden_order(context, sort)
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
        compiled = compile_filters(
            self.entity_model,
            _as_q(where, lookups),
            regex_max_length=self.db.settings.regex_max_length,
            guard=self._filter_guard(context),
        )
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
        upgraded = upgrade_document(self.entity_model, plain, self._migrations)
        record = load_document(self.entity_model, dict(upgraded), {})
        revision = (old_revision or 0) + 1
        document, _ = dump_for_storage(record, revision=revision)
        stored = await self._encrypt(document)
        guard = {"_id": raw["_id"], REVISION_KEY: old_revision}
        if old_revision is None:
            guard = {"_id": raw["_id"], REVISION_KEY: {"$exists": False}}
        result = await self._driver(self._collection.replace_one(guard, stored))
        return int(result.modified_count)

    def _collect_migrations(self) -> dict[int, Migration]:
        steps: dict[int, Migration] = {}
        for name in dir(type(self)):
            match = _MIGRATION_NAME.match(name)
            if match is None:
                continue
            source, target = int(match[1]), int(match[2])
            if target != source + 1:
                raise TypeError(f"{name} must upgrade by exactly one version")
            steps[source] = getattr(self, name)
        return steps

    # ------------------------------------------- helpers for specialised repos

    def _context(self) -> AccessContext:
        context = current_context(self.db.default_context)
        if context.is_expired():
            raise AccessDeniedError("the access grant has expired", entity=self._entity)
        return context

    def _session(self) -> dict[str, Any]:
        session = current_session()
        return {"session": session} if session is not None else {}

    async def _scoped_filter(
        self, context: AccessContext, operation: Operation, query: dict[str, Any]
    ) -> dict[str, Any]:
        """``query`` confined to what ``context`` may touch, minus deleted records.

        Raises:
            AccessDeniedError: the context may not do ``operation`` on this kind of
                record at all; the denial is audited first.
        """
        parts = [query] if query else []
        try:
            scope = await self.db.policy.scope(self.entity_model, context, operation)
        except AccessDeniedError as denial:
            denial.entity = denial.entity or self._entity
            await self._audit(context, operation, (), outcome="denied")
            raise
        if scope:
            parts.append(scope)
        if self._soft_delete:
            parts.append({"deleted_at": None})
        if not parts:
            return {}
        if len(parts) == 1:
            return parts[0]
        merged: dict[str, Any] = {}
        for part in parts:
            if merged.keys() & part.keys():
                return {"$and": parts}
            merged.update(part)
        return merged

    async def _authorize_write(
        self, context: AccessContext, document: dict[str, Any], operation: Operation
    ) -> None:
        try:
            await self.db.policy.check_write(
                self.entity_model, context, document, operation
            )
        except AccessDeniedError as denial:
            denial.entity = denial.entity or self._entity
            await self._audit(
                context,
                operation,
                (str(document.get("_id")),),
                outcome="denied",
                patients=self._patients_of([document]),
            )
            raise

    async def _authorize_changes(
        self, context: AccessContext, entity_id: str, fields: Sequence[str]
    ) -> None:
        """Let the policy refuse a change of particular fields (an owner
        unlocking their own account); a refusal is audited like any denial."""
        check = getattr(self.db.policy, "check_changes", None)
        if check is None or not fields:
            return
        try:
            await check(self.entity_model, context, fields)
        except AccessDeniedError as denial:
            denial.entity = denial.entity or self._entity
            await self._audit(context, Operation.UPDATE, (entity_id,), outcome="denied")
            raise

    def _hidden_projection(self, context: AccessContext) -> dict[str, int] | None:
        hidden = self.db.policy.hidden_fields(self.entity_model, context)
        return dict.fromkeys(hidden, 0) if hidden else None

    def _projection(
        self,
        context: AccessContext,
        fields: Sequence[str] | None,
        sort: Sequence[tuple[str, int]],
    ) -> dict[str, int] | None:
        if fields is None:
            return self._hidden_projection(context)
        hidden = self.db.policy.hidden_fields(self.entity_model, context)
        always = [name for name, _ in sort] + [VERSION_KEY, REVISION_KEY]
        if self._patient_field is not None:
            always.append(self._patient_field)
        projection = compile_projection(self.entity_model, fields, always)
        return {path: 1 for path in projection if path not in hidden}

    async def _load_many(self, raws: Sequence[dict[str, Any]]) -> list[T]:
        """Decrypt, upgrade and validate stored documents into records."""
        if not raws:
            return []
        plain = await self.db.cipher.decrypt_documents(self.entity_model, list(raws))
        return load_documents(self.entity_model, plain, self._migrations)

    async def _load_projected(
        self,
        context: AccessContext,
        raws: Sequence[dict[str, Any]],
        projection: Mapping[str, int],
    ) -> list[T]:
        """Partial records from projected documents.

        A document stored under an older schema cannot be upgraded from a few of
        its fields (the migration may need the others), so such documents are
        read whole, upgraded, and then cut down to the projected fields.
        """
        cipher = self.db.cipher
        page = await cipher.decrypt_documents(self.entity_model, list(raws))
        current = self.entity_model.SCHEMA_VERSION
        stale = [raw["_id"] for raw in page if raw.get(VERSION_KEY, 1) != current]
        if stale:
            whole = await self._driver(
                self._collection.find(
                    {"_id": {"$in": stale}},
                    self._hidden_projection(context),
                    **self._session(),
                ).to_list(None)
            )
            self._redact(context, whole)
            plain = await cipher.decrypt_documents(self.entity_model, whole)
            kept = {path.split(".")[0] for path in projection}
            upgraded = {}
            for document in plain:
                document = upgrade_document(
                    self.entity_model, document, self._migrations
                )
                upgraded[document["_id"]] = {
                    key: value for key, value in document.items() if key in kept
                }
            page = [upgraded.get(raw["_id"], raw) for raw in page]
        return [
            load_partial(self.entity_model, document, self._migrations)
            for document in page
        ]

    async def _encrypt(self, document: dict[str, Any]) -> dict[str, Any]:
        (stored,) = await self.db.cipher.encrypt_documents(
            self.entity_model, [document]
        )
        return stored

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

    async def _aggregate(
        self, pipeline: Sequence[dict[str, Any]], *, match: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run an aggregation over the records ``context`` may read.

        The policy's scope (and the soft-delete rule) is prepended as a
        ``$match``, so a pipeline can never see records its caller could not.
        """
        context = self._context()
        scoped = await self._scoped_filter(context, Operation.READ, match or {})
        stages = ([{"$match": scoped}] if scoped else []) + list(pipeline)
        cursor = await self._driver(
            self._collection.aggregate(
                stages, maxTimeMS=self.db.settings.query_timeout_ms, **self._session()
            )
        )
        rows: list[dict[str, Any]] = await self._driver(cursor.to_list(None))
        await self._audit(
            context, Operation.READ, (), scoped, patients=self._patients_of([scoped])
        )
        return rows

    async def _encrypt_lookups(self, query: Any) -> Any:
        if isinstance(query, EncryptedLookup):
            return await self.db.cipher.encrypt_value(
                self.entity_model, query.path, query.value
            )
        if isinstance(query, dict):
            return {
                key: await self._encrypt_lookups(value) for key, value in query.items()
            }
        if isinstance(query, list):
            return [await self._encrypt_lookups(value) for value in query]
        return query

    async def _audit(
        self,
        context: AccessContext,
        operation: Operation,
        ids: tuple[str, ...],
        query: dict[str, Any] | None = None,
        *,
        outcome: str = "ok",
        changed: Sequence[str] = (),
        patients: tuple[str, ...] = (),
    ) -> None:
        await record_event(
            self.db.auditor,
            AccessEvent(
                entity=self._entity,
                operation=operation,
                context=context,
                record_ids=ids,
                query_shape=query_shape(query) if query is not None else None,
                outcome=outcome,
                changed_fields=tuple(changed),
                patient_ids=patients,
            ),
        )

    def _patients_of(self, documents: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
        """The distinct patients whose stored documents a call touched."""
        name = self._patient_field
        if name is None:
            return ()
        # A filter naming one patient (an aggregation's match) counts as that
        # patient's document; operator values ({"$in": ...}) are not ids.
        found = {doc.get(name) for doc in documents}
        return tuple(sorted(p for p in found if isinstance(p, str) and p))

    def _hidden_in(
        self, context: AccessContext, document: Mapping[str, Any]
    ) -> frozenset[str]:
        """Fields of one stored document that ``context`` may not see."""
        hidden = self.db.policy.hidden_fields(self.entity_model, context)
        redactor = self.db.policy.redactor(self.entity_model, context)
        if redactor is not None:
            hidden = hidden | redactor(document)
        return hidden

    def _filter_guard(self, context: AccessContext) -> FieldGuard | None:
        """What keeps a filter off fields ``context`` may not see: a field hidden
        on every record is refused (rule ``hidden_field``); a lookup on one
        hidden on some records matches only where the reader sees it, so which
        records match never tells a hidden value, or that one is set."""
        policy = self.db.policy
        hidden = policy.hidden_fields(self.entity_model, context)
        redactor = policy.redactor(self.entity_model, context)
        if not hidden and redactor is None:
            return None
        entity = self._entity

        def guard(field: str, key: str) -> Mapping[str, Any] | None:
            if field in hidden:
                raise ValidationError(
                    f"cannot filter on {field}, which is hidden from this reader",
                    field=key,
                    rule="hidden_field",
                    entity=entity,
                )
            return None if redactor is None else redactor.visible_where(field)

        return guard

    def _refuse_hidden_order(
        self, context: AccessContext, sort: Sequence[tuple[str, int]]
    ) -> None:
        """Refuse sorting by a field the reader may not see on some records:
        the page cursor carries the last record's sort values, so it would
        show what the record itself hides.

        Per-record rules are asked about a record on which every field is set
        and written by someone else, which is where they hide the most.
        """
        policy = self.db.policy
        hidden = policy.hidden_fields(self.entity_model, context)
        redactor = policy.redactor(self.entity_model, context)
        if redactor is not None:
            someone_elses = dict.fromkeys(self.entity_model.model_fields, _NOT_YOURS)
            hidden = hidden | redactor(someone_elses)
        for name, _direction in sort:
            if name.split(".")[0] in hidden:
                raise ValidationError(
                    f"cannot sort by {name}, which is hidden from this reader",
                    field=f"order_by.{name}",
                    rule="hidden_field",
                    entity=self._entity,
                )

    def _redact(self, context: AccessContext, raws: list[dict[str, Any]]) -> None:
        """Remove, in place, fields the policy hides on particular records."""
        redactor = self.db.policy.redactor(self.entity_model, context)
        if redactor is None:
            return
        for raw in raws:
            for name in redactor(raw):
                raw.pop(name, None)

    async def _driver(self, call: Awaitable[R], entity_id: str | None = None) -> R:
        """Await a driver call, translating its errors (the one place)."""
        try:
            return await call
        except RepositoryError:
            raise
        except Exception as exc:
            raise translate_driver_error(
                exc, entity=self._entity, entity_id=entity_id
            ) from None

    async def _raise_missing_or_stale(
        self, scope: dict[str, Any], entity_id: str, expected: int
    ) -> None:
        still_there = await self._driver(
            self._collection.find_one(scope, {REVISION_KEY: 1}, **self._session()),
            entity_id,
        )
        if still_there is None:
            raise NotFoundError(
                f"no {self._entity} with this id",
                entity=self._entity,
                entity_id=entity_id,
            )
        raise ConcurrencyError(
            f"{self._entity} changed since revision {expected} was read "
            f"(now {still_there.get(REVISION_KEY)}); reload and apply the change again",
            expected_revision=expected,
            entity=self._entity,
            entity_id=entity_id,
        )

    def _page_size(self, limit: int | None) -> int:
        maximum = self.db.settings.max_page_size
        if limit is None:
            return maximum
        if limit > maximum:
            raise ValidationError(
                f"limit may be at most {maximum}", field="limit", rule="maximum"
            )
        return limit

    def _check_id(self, entity_id: Any) -> None:
        if not isinstance(entity_id, str) or not entity_id:
            raise ValidationError(
                "an id must be a non-empty string",
                field="id",
                rule="type",
                entity=self._entity,
            )
        if printable_id(entity_id) is None:
            raise ValidationError(
                "not a valid id: at most 64 letters, digits or _ . : -",
                field="id",
                rule="format",
                entity=self._entity,
            )

    def _check_type(self, entity: Any) -> None:
        if not isinstance(entity, self.entity_model):
            raise ValidationError(
                f"expected a {self._entity}, got {type(entity).__name__}",
                field="entity",
                rule="type",
                entity=self._entity,
            )
        if self._soft_delete and getattr(entity, "deleted_at", None) is not None:
            raise ValidationError(
                "deleted_at is set by delete(), not by writing it",
                field="deleted_at",
                rule="managed_field",
                entity=self._entity,
                entity_id=printable_id(entity.id),
            )

    def _fresh(self, document: dict[str, Any]) -> T:
        plain = dict(document)
        plain.pop(VERSION_KEY, None)
        record: T = self.entity_model.model_validate(plain)
        return record

    def _validated_from_fields(self, values: dict[str, Any], entity_id: str) -> T:
        try:
            record: T = self.entity_model.model_validate(values)
            return record
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity, entity_id) from None


def _as_q(where: tuple[Q, ...], lookups: Mapping[str, Any]) -> Q:
    for item in where:
        if not isinstance(item, Q):
            raise ValidationError(
                "positional filters must be Q objects", field="where", rule="type"
            )
    return Q(*where, **lookups) if where else Q.from_mapping(lookups)


def _written_fields(update: Mapping[str, Any]) -> list[str]:
    """The top-level fields a MongoDB update document writes."""
    names = {
        path.split(".")[0]
        for fields in update.values()
        if isinstance(fields, Mapping)
        for path in fields
    }
    return sorted(names - {REVISION_KEY, "updated_at"})


def _inserted_count(exc: BaseException) -> int | None:
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and isinstance(details.get("nInserted"), int):
        return int(details["nInserted"])
    return None


def query_shape(query: Any) -> str:
    """A filter with every value replaced by its type name, safe for the audit."""
    return repr(_shape(query))


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:3]] + (
            ["..."] if len(value) > 3 else []
        )
    return type(value).__name__
