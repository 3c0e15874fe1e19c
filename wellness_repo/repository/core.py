"""The state every repository holds (its connection, model and collection) and
the small checks all of its calls share: the caller's context, the transaction's
session, page sizes, ids and types, and translating driver errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.database.transactions import current_session
from wellness_repo.errors import (
    AccessDeniedError,
    ConcurrencyError,
    NotFoundError,
    RepositoryError,
    ValidationError,
    translate_driver_error,
)
from wellness_repo.models.base import SoftDeletableDocument, WellnessDocument
from wellness_repo.repository.records import (
    REVISION_KEY,
    VERSION_KEY,
    Migration,
    printable_id,
    validation_error,
)
from wellness_repo.security.context import AccessContext, current_context

__all__ = ["RepositoryCore"]

T = TypeVar("T", bound=WellnessDocument)
R = TypeVar("R")

_MIGRATION_NAME = re.compile(r"^migrate_entity_v(\d+)_to_v(\d+)$")


class RepositoryCore(Generic[T]):
    """One repository's connection, model and collection, and the checks its
    calls share; :class:`~wellness_repo.repository.base.AsyncBaseRepository`
    documents the arguments."""

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

    def _context(self) -> AccessContext:
        context = current_context(self.db.default_context)
        if context.is_expired():
            raise AccessDeniedError("the access grant has expired", entity=self._entity)
        return context

    def _session(self) -> dict[str, Any]:
        session = current_session()
        return {"session": session} if session is not None else {}

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
