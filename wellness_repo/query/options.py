"""What a caller asks of a listing (``QueryOptions``) and what it gets back
(``QueryResult``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from wellness_repo.errors import ValidationError
from wellness_repo.query.fields import INT64_MAX
from wellness_repo.query.q import Q

__all__ = ["QueryOptions", "QueryResult"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """A listing request: which records, in what order, which page.

    Args:
        filters: lookups such as ``{"mood_rating__gte": 7}``, or a ``Q`` tree.
        order_by: field names, ``-`` for descending; ``_id`` is always added last
            so that pages are stable.
        limit: page size; at most the configured maximum page size. ``None`` means
            the maximum.
        offset: records to skip (prefer ``after`` for deep pages).
        include_count: also count every matching record (one more query).
        fields: return only these fields (and the id); the others are absent from
            the returned records, not ``None``.
        after: the ``next_cursor`` of the previous page; pages by position in the
            sort order, so it stays fast at any depth.
    """

    filters: Mapping[str, Any] | Q = field(default_factory=dict)
    order_by: Sequence[str] = ()
    limit: int | None = None
    offset: int = 0
    include_count: bool = False
    fields: Sequence[str] | None = None
    after: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.filters, Mapping | Q):
            raise ValidationError(
                "filters must be a mapping of lookups or a Q",
                field="filters",
                rule="type",
            )
        if isinstance(self.order_by, str):
            object.__setattr__(self, "order_by", (self.order_by,))
        _check_int(self.limit, "limit", minimum=1, optional=True)
        _check_int(self.offset, "offset", minimum=0, optional=False)
        if self.offset > INT64_MAX:
            raise ValidationError(
                "offset must fit a 64-bit integer", field="offset", rule="maximum"
            )
        if not isinstance(self.include_count, bool):
            raise ValidationError(
                "include_count must be true or false",
                field="include_count",
                rule="type",
            )
        if self.after is not None:
            if not isinstance(self.after, str) or not self.after:
                raise ValidationError(
                    "after must be a cursor string", field="after", rule="type"
                )
            if self.offset:
                raise ValidationError(
                    "use either offset or after, not both",
                    field="after",
                    rule="exclusive",
                )
        if self.fields is not None and (
            isinstance(self.fields, str)
            or not all(isinstance(name, str) for name in self.fields)
        ):
            raise ValidationError(
                "fields must be a list of field names", field="fields", rule="type"
            )


def _check_int(value: Any, name: str, *, minimum: int, optional: bool) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer", field=name, rule="type")
    if value < minimum:
        raise ValidationError(
            f"{name} must be at least {minimum}", field=name, rule="minimum"
        )


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    """One page of records.

    Args:
        items: the records on this page.
        total_count: every matching record, when ``include_count`` was asked.
        limit: the page size used.
        offset: the offset used.
        has_more: whether another page follows.
        next_cursor: pass as ``QueryOptions(after=...)`` for the next page.
    """

    items: list[T]
    total_count: int | None
    limit: int
    offset: int
    has_more: bool
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
