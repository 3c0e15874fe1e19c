"""Journal entries: a patient writes, reads, lists and edits their own.

Writing runs the package's crisis hook: crisis language in an entry opens a
crisis detection (and an alert to the care team) in the same transaction. The
response carries only what the patient wrote and the record's bookkeeping; the
derived crisis summary and tone scores are clinical workflow data and stay out
of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response, status
from pydantic import BaseModel, ConfigDict

from wellness_repo import (
    CBTTechnique,
    JournalEntry,
    JournalType,
    ThoughtRecord,
    acting_as,
)

from ..auth import Caller
from ..errors import validated
from ..preconditions import expected_revision, set_etag
from ..state import ServiceState, service_state
from .records import page_body, record_body

__all__ = ["JOURNAL_FIELDS", "JournalEntryChanges", "JournalEntryIn", "router"]

router = APIRouter(prefix="/journal-entries", tags=["journals"])
State = Annotated[ServiceState, Depends(service_state)]

JOURNAL_FIELDS = (
    "user_id",
    "title",
    "content",
    "journal_type",
    "cbt_technique",
    "mood_before",
    "mood_after",
    "insights",
    "tags",
    "thought_record",
    "shared_with_care_team",
    "shared_at",
    "created_at",
    "updated_at",
)
"""What a journal entry's body shows: the patient's writing and bookkeeping,
never ``crisis_summary`` or ``sentiment``."""


class JournalEntryIn(BaseModel):
    """A journal entry as the patient's app sends it; the package checks the
    limits (content length, moods 1..10, a thought record for that technique).
    ``entry_id`` is optional, for apps that write offline and retry."""

    model_config = ConfigDict(extra="forbid")

    entry_id: str | None = None
    content: str
    title: str | None = None
    journal_type: JournalType | None = None
    cbt_technique: CBTTechnique | None = None
    mood_before: int | None = None
    mood_after: int | None = None
    insights: list[str] | None = None
    tags: list[str] | None = None
    thought_record: ThoughtRecord | None = None


class JournalEntryChanges(BaseModel):
    """The fields of an entry a patient may change; those left out stay."""

    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    title: str | None = None
    journal_type: JournalType | None = None
    cbt_technique: CBTTechnique | None = None
    mood_before: int | None = None
    mood_after: int | None = None
    insights: list[str] | None = None
    tags: list[str] | None = None
    thought_record: ThoughtRecord | None = None


@router.post("", status_code=status.HTTP_201_CREATED)
async def write_entry(
    body: JournalEntryIn, caller: Caller, state: State, response: Response
) -> dict[str, Any]:
    """Store a journal entry for the signed-in patient."""
    values = body.model_dump(exclude_none=True)
    if "entry_id" in values:
        values["id"] = values.pop("entry_id")
    entry = validated(
        JournalEntry, {**values, "user_id": caller.actor_id}, entity="JournalEntry"
    )
    with acting_as(caller):
        stored = await state.journals.create(entry)
    set_etag(response, stored.revision)
    return record_body(stored, JOURNAL_FIELDS)


@router.get("")
async def list_own_entries(
    caller: Caller,
    state: State,
    tag: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """The signed-in patient's own entries, newest first, a page at a time
    (``after`` is the previous page's ``next_cursor``)."""
    with acting_as(caller):
        page = await state.journals.entries_for_user(
            caller.actor_id, tag=tag, limit=limit, after=after
        )
    return page_body(page, JOURNAL_FIELDS)


@router.get("/{entry_id}")
async def read_entry(
    entry_id: str, caller: Caller, state: State, response: Response
) -> dict[str, Any]:
    """One entry the caller may read (404 when there is none, or it is another
    patient's unshared entry)."""
    with acting_as(caller):
        entry = await state.journals.get(entry_id)
    set_etag(response, entry.revision)
    return record_body(entry, JOURNAL_FIELDS)


@router.patch("/{entry_id}")
async def edit_entry(
    entry_id: str,
    body: JournalEntryChanges,
    caller: Caller,
    state: State,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Change some fields of an entry.

    With ``If-Match: "<revision>"`` (the ``ETag`` of the read) the change
    applies only to that revision, and a newer one answers 412. Without it the
    change is applied to the newest revision.
    """
    revision = expected_revision(if_match)
    changes = body.model_dump(exclude_unset=True)
    with acting_as(caller):
        entry = await state.journals.patch(
            entry_id, changes, expected_revision=revision
        )
    set_etag(response, entry.revision)
    return record_body(entry, JOURNAL_FIELDS)
