"""Patient engagement records: mood entries on several scales.

A ``MoodEntry`` keeps the rating exactly as the patient gave it, on the scale they
used (1-10, 1-5, or one of seven named emotional states), and stores beside it
``normalized_rating``: the same rating placed on 0..1, so entries on different
scales can be averaged and compared. The model computes that value itself; a value
handed in is replaced.

Every rating is oriented the same way: a higher number means the patient feels
better. For an anxiety check-in (``MoodType.ANXIETY``) a 10 means calm; the
separate ``anxiety_level`` records how intense the anxiety was.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, ClassVar

from pydantic import (
    Field,
    SkipValidation,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import SoftDeletableDocument
from wellness_repo.models.read_validation import stored_derivation
from wellness_repo.models.types import Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "MAX_MOOD_LABELS",
    "EmotionalState",
    "MoodEntry",
    "MoodScale",
    "MoodType",
]

MAX_MOOD_LABELS = 20
"""At most this many contributing factors, and as many triggers, per entry: a
check-in names what mattered most, and longer lists dilute the association
analysis."""

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
MoodLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
"""A contributing factor or trigger (``"Good sleep"``, ``"Work stress"``).
Labels are compared exactly as written, after surrounding spaces are removed."""
# Energy, anxiety and sleep quality are each rated 1 (lowest) to 10 (highest).
SideRating = Annotated[int | None, Field(ge=1, le=10)]


class EmotionalState(IntEnum):
    """The named emotional states of ``MoodScale.EMOTIONAL_STATE``, ordered from
    the most distressed (1) to the best (7); the number is the stored rating."""

    DESPAIRING = 1
    SAD = 2
    LOW = 3
    NEUTRAL = 4
    CALM = 5
    CONTENT = 6
    JOYFUL = 7


class MoodScale(StrEnum):
    """The scale a patient rated their mood on."""

    ONE_TO_TEN = "one_to_ten"
    ONE_TO_FIVE = "one_to_five"
    EMOTIONAL_STATE = "emotional_state"
    """One of the seven ``EmotionalState`` values, stored as its number 1..7."""

    @property
    def lowest(self) -> int:
        """The lowest rating the scale allows."""
        return 1

    @property
    def highest(self) -> int:
        """The highest rating the scale allows."""
        return _HIGHEST[self]

    def normalize(self, rating: float) -> float:
        """A rating on this scale placed on 0..1 (lowest -> 0, highest -> 1)."""
        return (rating - self.lowest) / (self.highest - self.lowest)

    def denormalize(self, value: float) -> float:
        """A 0..1 value expressed on this scale, for showing an average."""
        return self.lowest + value * (self.highest - self.lowest)


_HIGHEST = {
    MoodScale.ONE_TO_TEN: 10,
    MoodScale.ONE_TO_FIVE: 5,
    MoodScale.EMOTIONAL_STATE: len(EmotionalState),
}


class MoodType(StrEnum):
    """Which aspect of mood a check-in rates."""

    GENERAL = "general"
    ANXIETY = "anxiety"
    DEPRESSION = "depression"
    ENERGY = "energy"
    STRESS = "stress"
    IRRITABILITY = "irritability"
    SLEEP = "sleep"


class MoodEntry(SoftDeletableDocument):
    """One mood check-in a patient logged: the rating on its scale, what
    contributed to it, what triggered it, and private notes.

    ``created_at`` is the moment the mood was felt (now, by default); trend
    analysis groups entries by its UTC day.

    Fields:
        mood_rating: the patient's rating, on ``mood_scale``; for emotional
            states an ``EmotionalState`` is accepted too (``EmotionalState.CALM``).
        normalized_rating: computed: ``mood_rating`` placed on 0..1; a value
            given is replaced.
        energy_level, sleep_quality: 1 (lowest) to 10 (highest).
        anxiety_level: 1 (calm) to 10 (most severe anxiety).
        contributing_factors, triggers: short labels, at most
            ``MAX_MOOD_LABELS`` each; repeats are dropped.
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    ID_NAME: ClassVar[str] = "entry_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PATIENT_AUTHORED)

    user_id: str = Field(min_length=1, max_length=64)
    mood_scale: MoodScale = MoodScale.ONE_TO_TEN
    mood_rating: int = Field(ge=1, le=10)
    normalized_rating: SkipValidation[float] = 0.0
    mood_type: MoodType = MoodType.GENERAL
    contributing_factors: list[MoodLabel] = Field(
        default_factory=list, max_length=MAX_MOOD_LABELS
    )
    triggers: list[MoodLabel] = Field(default_factory=list, max_length=MAX_MOOD_LABELS)
    energy_level: SideRating = None
    anxiety_level: SideRating = None
    sleep_quality: SideRating = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    notes: Annotated[str | None, Encrypted(), Field(max_length=10_000)] = None
    created_at: UtcDatetime = Field(default_factory=utc_now)

    class Settings:
        name = "mood_entries"

    @property
    def entry_id(self) -> str:
        """The platform's name for this entry's id."""
        return self.id

    @property
    def emotional_state(self) -> EmotionalState | None:
        """The named state, for an entry on the emotional-state scale."""
        if self.mood_scale is not MoodScale.EMOTIONAL_STATE:
            return None
        return EmotionalState(self.mood_rating)

    @model_validator(mode="after")
    @stored_derivation
    def _check_and_derive(self) -> MoodEntry:
        # The one validator of the model, and one call per record: each costs
        # about as much as two fields. Its results are stored, so reading a
        # current-schema entry skips it. Every scale starts at 1.
        values = self.__dict__
        scale = values["mood_scale"]
        rating = values["mood_rating"]
        highest = _HIGHEST[scale]
        if rating > highest:
            raise PydanticCustomError(
                "mood_scale_range",
                "mood_rating must be within {lowest}..{highest} on the {scale} scale",
                {
                    "field": "mood_rating",
                    "lowest": scale.lowest,
                    "highest": highest,
                    "scale": scale,
                },
            )
        if type(rating) is not int:
            # An EmotionalState member is stored as its plain number.
            values["mood_rating"] = rating = int(rating)
        values["normalized_rating"] = (rating - 1) / (highest - 1)
        for name in ("contributing_factors", "triggers"):
            labels = values[name]
            if len(labels) > 1:
                values[name] = list(dict.fromkeys(labels))
        return self
