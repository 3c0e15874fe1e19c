"""How every stored model validates a record: the read path runs this a thousand
times per page, so Beanie's per-record hooks must stay out of it."""

from __future__ import annotations

from typing import Any

from wellness_repo import MoodEntry, connect
from wellness_repo.models.registry import DOCUMENT_MODELS
from wellness_repo.models.types import utc_now


def _python_calls(schema: Any) -> set[str]:
    """The qualified names of the Python functions a core schema calls."""
    found: set[str] = set()
    if isinstance(schema, dict):
        function = schema.get("function")
        if isinstance(function, dict):
            function = function.get("function")
        if callable(function):
            found.add(getattr(function, "__qualname__", repr(function)))
        for value in schema.values():
            found |= _python_calls(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _python_calls(value)
    return found


async def test_validation_calls_none_of_beanies_per_record_hooks() -> None:
    # After init_beanie too, which binds the models to a database.
    manager = await connect(None, "models_check")
    try:
        hooked = [
            model.__name__
            for model in DOCUMENT_MODELS
            if model.__pydantic_core_schema__.get("post_init") is not None
            or any(
                "fill_back_refs" in name
                for name in _python_calls(model.__pydantic_core_schema__)
            )
        ]
    finally:
        await manager.close()

    assert len(DOCUMENT_MODELS) > 20
    assert hooked == []


def test_a_mood_entry_read_back_has_no_beanie_state_and_still_copies() -> None:
    stored = {
        "_id": "entry-1",
        "_rev": 3,
        "user_id": "patient-1",
        "mood_scale": "one_to_five",
        "mood_rating": 4,
        "created_at": utc_now(),
    }

    entry = MoodEntry.model_validate(stored)
    copy = entry.model_copy(update={"mood_rating": 2})

    assert (entry.revision, entry.normalized_rating) == (3, 0.75)
    assert (copy.mood_rating, entry.mood_rating) == (2, 4)
    assert MoodEntry.model_validate(copy.model_dump(by_alias=True)) == copy.model_copy(
        update={"normalized_rating": 0.25}
    )
