"""Turning the package's records into response bodies: only the fields a route
names, and only those the record carries with a value. A projected listing
leaves the other fields out, and so does every body for a field that is empty
(``None``): absent and null mean the same to a client, and an answer says no
more than it must."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wellness_repo import QueryResult, WellnessDocument

__all__ = ["page_body", "record_body"]


def record_body(record: WellnessDocument, public: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``record`` that hold a value, and its id (under the
    platform's name) and revision."""
    body: dict[str, Any] = {record.ID_NAME: record.id}
    for name in ("revision", *public):
        value = record.__dict__.get(name)
        if value is not None:
            body[name] = value
    return body


def page_body(page: QueryResult[Any], public: Iterable[str]) -> dict[str, Any]:
    """A listing page: the records, and what a client needs to page on."""
    names = tuple(public)
    return {
        "items": [record_body(record, names) for record in page.items],
        "total_count": page.total_count,
        "limit": page.limit,
        "offset": page.offset,
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }
