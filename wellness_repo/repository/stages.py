"""The pipeline's stages as a repository runs them: the access policy's scope,
write checks and hidden fields, the cipher, loading stored documents into
records, and the audit event of each call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from wellness_repo.errors import (
    AccessDeniedError,
    ValidationError,
)
from wellness_repo.models.base import WellnessDocument
from wellness_repo.query.compiler import (
    CompiledQuery,
    EncryptedLookup,
    FieldGuard,
    compile_filters,
    compile_projection,
    compile_sort,
)
from wellness_repo.query.q import Q
from wellness_repo.repository.core import RepositoryCore
from wellness_repo.repository.records import (
    REVISION_KEY,
    VERSION_KEY,
    load_documents,
    load_partial,
    upgrade_document,
)
from wellness_repo.security.audit import AccessEvent, record_event
from wellness_repo.security.context import AccessContext
from wellness_repo.security.policy import Operation, Redactor

__all__ = ["PipelineStages", "query_shape"]

T = TypeVar("T", bound=WellnessDocument)

_NOT_YOURS = object()
"""A value no reader's id equals: stands for every field of a record someone
else wrote, when asking a per-record rule what it can hide."""


class PipelineStages(RepositoryCore[T]):
    """Authorize, encrypt, load and audit: the stages between a repository call
    and its collection."""

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

    async def _compile_read(
        self,
        context: AccessContext,
        filters: Mapping[str, Any] | Q | None,
        order_by: Sequence[str] = (),
    ) -> tuple[CompiledQuery, list[tuple[str, int]]]:
        """The caller's filters and sort, compiled for ``context``.

        A filter or sort on a field hidden from the reader is refused (rule
        ``hidden_field``) and audited as a denied read: probing for what one
        may not see belongs in the trail.
        """
        policy = self.db.policy
        hidden = policy.hidden_fields(self.entity_model, context)
        redactor = policy.redactor(self.entity_model, context)
        try:
            compiled = compile_filters(
                self.entity_model,
                filters,
                regex_max_length=self.db.settings.regex_max_length,
                guard=self._filter_guard(hidden, redactor),
            )
            sort = compile_sort(self.entity_model, order_by)
            self._refuse_hidden_order(hidden, redactor, sort)
        except ValidationError as refused:
            if refused.rule == "hidden_field":
                await self._audit(context, Operation.READ, (), outcome="denied")
            raise
        return compiled, sort

    def _filter_guard(
        self, hidden: frozenset[str], redactor: Redactor | None
    ) -> FieldGuard | None:
        """What keeps a filter off fields the reader may not see: a field hidden
        on every record is refused (rule ``hidden_field``); a lookup on one
        hidden on some records matches only where the reader sees it, so which
        records match never tells a hidden value, or that one is set."""
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
        self,
        hidden: frozenset[str],
        redactor: Redactor | None,
        sort: Sequence[tuple[str, int]],
    ) -> None:
        """Refuse sorting by a field the reader may not see on some records:
        the page cursor carries the last record's sort values, so it would
        show what the record itself hides.

        Per-record rules are asked about a record on which every field is set
        and written by someone else, which is where they hide the most.
        """
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
