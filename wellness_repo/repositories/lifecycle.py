"""The write path shared by clinical records whose state changes only through
named clinical acts (activating a relationship, recording progress).

Each act reads the newest revision, works out the change, and stores it only if
the record is still at that revision; when another writer got in first it starts
again from the newer revision, so concurrent acts are all counted and none is
lost. The change goes through the base repository's whole write pipeline
(validate, authorize, encrypt, write, audit). A plain ``update`` or ``patch`` may
not touch the fields these acts own, so every such change lands in the record's
history.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.types import ID_PATTERN
from wellness_repo.query.options import QueryOptions
from wellness_repo.repository.base import AsyncBaseRepository

__all__ = ["ClinicalRecordRepository", "checked_id", "checked_note"]

T = TypeVar("T", bound=WellnessDocument)

_MAX_NOTE_LENGTH = 10_000
_ID = re.compile(ID_PATTERN)


class ClinicalRecordRepository(AsyncBaseRepository[T]):
    """A repository of clinical records whose lifecycle state only its clinical
    methods change.

    Subclasses list those fields in ``MANAGED_FIELDS``, each with the methods that
    change it (named in the error a plain ``update`` gets).
    """

    MANAGED_FIELDS: ClassVar[Mapping[str, str]] = {}
    WRITE_ATTEMPTS: ClassVar[int] = 12
    """How often a clinical act is re-applied to a newer revision before it gives
    up with ``ConcurrencyError``."""

    async def update(self, entity: T) -> T:
        """Store edits to a record, refusing changes its clinical methods own.

        Raises:
            ValidationError: a managed field (the status, a history) differs from
                the stored record; nothing is written.
            ConcurrencyError: the stored record has moved on; nothing is written.
        """
        self._check_type(entity)
        current = await self.get_by_id(entity.id)
        # With another revision stored, the base update refuses the write anyway.
        if current is not None and current.revision == entity.revision:
            self._refuse_managed_changes(current, entity)
        return await super().update(entity)

    def _refuse_managed_changes(self, current: T, entity: T) -> None:
        for name, methods in self.MANAGED_FIELDS.items():
            if getattr(current, name) != getattr(entity, name):
                raise self._managed_field_error(name, methods, entity.id)

    def _managed_field_error(
        self, field: str, methods: str, entity_id: str | None
    ) -> ValidationError:
        return self._rule_error(
            f"{field} changes only through {methods}, which keep its history",
            field=field,
            rule="managed_field",
            entity_id=entity_id,
        )

    def _rule_error(
        self, message: str, *, field: str, rule: str, entity_id: str | None
    ) -> ValidationError:
        """A ``ValidationError`` about one record; ``message`` holds no values."""
        return ValidationError(
            message, field=field, rule=rule, entity=self._entity, entity_id=entity_id
        )

    async def _revise(
        self, entity_id: str, change: Callable[[T], Mapping[str, Any]]
    ) -> T:
        """Apply a clinical act to the newest revision of a record.

        ``change`` gets the current record and returns the fields to set, or
        raises ``ValidationError`` (then nothing is written). It may run more than
        once, so it must not have side effects.

        Raises:
            NotFoundError: no such record is visible.
            ConcurrencyError: other writers kept getting in first.
        """
        self._check_id(entity_id)
        for attempt in range(1, self.WRITE_ATTEMPTS + 1):
            current = await self.get(entity_id)
            values = current.model_dump(by_alias=False)
            values.update(change(current))
            candidate = self._validated_from_fields(values, entity_id)
            try:
                return await super().update(candidate)
            except ConcurrencyError:
                # Jitter spreads the retries of writers that collided.
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
        raise ConcurrencyError(
            "the record kept changing; the clinical change was not applied",
            entity=self._entity,
            entity_id=entity_id,
        )

    async def _every_match(
        self, filters: Mapping[str, Any], order_by: Sequence[str]
    ) -> list[T]:
        """Every visible record matching ``filters``, page by page via the cursor,
        so a long caseload is never cut off at the page size."""
        records: list[T] = []
        after: str | None = None
        while True:
            page = await self.list_all(
                QueryOptions(filters=filters, order_by=order_by, after=after)
            )
            records.extend(page.items)
            if not page.has_more or page.next_cursor is None:
                return records
            after = page.next_cursor

    def _actor_id(self) -> str:
        """Who is acting, for the histories: the access context's actor id."""
        return self._context().actor_id


def checked_note(value: Any, *, field: str, required: bool) -> str | None:
    """A clinician's free-text argument (a reason, notes), checked before any read.

    Raises:
        ValidationError: not text, blank when required, or too long.
    """
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{field} must be text", field=field, rule="type")
    if value is None or not value.strip():
        if required:
            raise ValidationError(f"{field} is required", field=field, rule="required")
        return None
    if len(value) > _MAX_NOTE_LENGTH:
        raise ValidationError(
            f"{field} may hold at most {_MAX_NOTE_LENGTH} characters",
            field=field,
            rule="max_length",
        )
    return value


def checked_id(value: Any, *, field: str) -> str:
    """An id given as an argument: a patient's, a provider's, a measure's.

    Raises:
        ValidationError: empty, or not in the platform's id form.
    """
    if not isinstance(value, str) or not value:
        raise ValidationError(
            f"{field} must be a non-empty id", field=field, rule="required"
        )
    if not _ID.match(value):
        raise ValidationError(
            f"{field} is not a valid id: at most 64 letters, digits or _ . : -",
            field=field,
            rule="format",
        )
    return value
