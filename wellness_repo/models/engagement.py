"""Patient engagement records: mood entries (and, later, journals)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from wellness_repo.models.base import SoftDeletableDocument
from wellness_repo.models.types import Encrypted, UtcDatetime, utc_now

__all__ = ["MoodEntry"]

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]


class MoodEntry(SoftDeletableDocument):
    """One mood rating a patient logged, with free-text notes and tags."""

    ID_NAME: ClassVar[str] = "entry_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"

    user_id: str = Field(min_length=1, max_length=64)
    mood_rating: int = Field(ge=1, le=10)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    notes: Annotated[str | None, Encrypted(), Field(max_length=10_000)] = None
    created_at: UtcDatetime = Field(default_factory=utc_now)

    class Settings:
        name = "mood_entries"

    @property
    def entry_id(self) -> str:
        """The platform's name for this entry's id."""
        return self.id
