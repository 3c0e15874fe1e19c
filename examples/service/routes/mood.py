"""Mood entries: a patient logs one; patients and their clinicians list them
with filters, order and paging taken from the query string."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict

from wellness_repo import MoodEntry, MoodScale, MoodType, acting_as

from ..auth import Caller
from ..errors import validated
from ..preconditions import set_etag
from ..query_params import query_options
from ..state import ServiceState, service_state
from .records import page_body, record_body

__all__ = ["MOOD_FIELDS", "MoodEntryIn", "router"]

router = APIRouter(prefix="/mood-entries", tags=["mood"])
State = Annotated[ServiceState, Depends(service_state)]

MOOD_FIELDS = (
    "user_id",
    "mood_scale",
    "mood_rating",
    "normalized_rating",
    "mood_type",
    "contributing_factors",
    "triggers",
    "energy_level",
    "anxiety_level",
    "sleep_quality",
    "tags",
    "notes",
    "created_at",
    "updated_at",
)
"""What a mood entry's body shows; everything a reader may see of it."""


class MoodEntryIn(BaseModel):
    """A mood check-in as the patient's app sends it.

    The patient is the caller; the limits (rating within its scale, at most 20
    factors, notes up to 10,000 characters) are the package's, checked when the
    entry is built. ``entry_id`` lets an app that logs offline send the id it
    made, so a retried upload is refused as a duplicate instead of stored twice,
    and ``created_at`` (with its time zone) to say when the mood was felt.
    """

    model_config = ConfigDict(extra="forbid")

    entry_id: str | None = None
    mood_rating: int
    mood_scale: MoodScale | None = None
    mood_type: MoodType | None = None
    contributing_factors: list[str] | None = None
    triggers: list[str] | None = None
    energy_level: int | None = None
    anxiety_level: int | None = None
    sleep_quality: int | None = None
    tags: list[str] | None = None
    notes: str | None = None
    created_at: datetime | None = None


@router.post("", status_code=status.HTTP_201_CREATED)
async def log_mood(
    body: MoodEntryIn, caller: Caller, state: State, response: Response
) -> dict[str, Any]:
    """Log a mood entry for the signed-in patient.

    The package's crisis hook reads the patient's recent daily moods and opens a
    crisis detection on a sharp or sustained fall; the response is the entry.
    """
    values = body.model_dump(exclude_none=True)
    if "entry_id" in values:
        values["id"] = values.pop("entry_id")
    entry = validated(
        MoodEntry, {**values, "user_id": caller.actor_id}, entity="MoodEntry"
    )
    with acting_as(caller):
        stored = await state.moods.create(entry)
    set_etag(response, stored.revision)
    return record_body(stored, MOOD_FIELDS)


@router.get("")
async def list_moods(request: Request, caller: Caller, state: State) -> dict[str, Any]:
    """One page of the mood entries the caller may see, e.g.
    ``?mood_rating__gte=7&tags__contains=anxiety&order_by=-created_at&limit=10
    &include_count=true``; any parameter that is not a listing option is a
    filter (see ``query_params``)."""
    options = query_options(
        request.query_params,
        MoodEntry,
        regex_max_length=state.db.settings.regex_max_length,
    )
    with acting_as(caller):
        page = await state.moods.list_all(options)
    return page_body(page, MOOD_FIELDS)


@router.get("/{entry_id}")
async def get_mood(
    entry_id: str, caller: Caller, state: State, response: Response
) -> dict[str, Any]:
    """One mood entry the caller may see (404 when there is none)."""
    with acting_as(caller):
        entry = await state.moods.get(entry_id)
    set_etag(response, entry.revision)
    return record_body(entry, MOOD_FIELDS)
