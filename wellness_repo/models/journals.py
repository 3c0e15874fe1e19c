"""Journal entries: what a patient writes, with the CBT technique practised, a
structured thought record, mood before and after, and what the platform derives
from the text (tone scores and a crisis summary).

An entry is private to the patient. Clinicians caring for the patient read it
only while ``shared_with_care_team`` is true: the access rule names that field,
so the policy adds it to every clinician's query (``ACCESS`` below).

Everything the patient wrote (title, content, insights, the thought record) is
stored encrypted. The derived values are not: tone scores are numbers, and the
crisis summary holds crisis types and a severity, never the matched words (those
live, encrypted, on the crisis detection).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType
from wellness_repo.analysis.journal_prompts import CBTTechnique, JournalType
from wellness_repo.models.base import EmbeddedModel, SoftDeletableDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "JOURNAL_MODELS",
    "CBTTechnique",
    "CrisisSummary",
    "JournalEntry",
    "JournalType",
    "SentimentRecord",
    "ThoughtRecord",
]

MAX_CONTENT_LENGTH = 50_000
"""The longest entry, in characters (about twenty pages)."""

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]
MoodScore = Annotated[int | None, Field(ge=1, le=10)]
"""Mood on the platform's 1 (worst) to 10 (best) scale."""
Intensity = Annotated[int, Field(ge=0, le=100)]
"""How strongly an emotion is felt, 0 (not at all) to 100 (the most ever)."""
WrittenText = Annotated[str, StringConstraints(min_length=1, max_length=5_000)]
OptionalText = Annotated[str | None, StringConstraints(min_length=1, max_length=5_000)]
Insight = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000)
]


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise PydanticCustomError("blank", "must have some text, not only spaces")
    return value


class ThoughtRecord(EmbeddedModel):
    """A CBT thought record: the situation, the automatic thought and the feeling
    it brought, the evidence each way, and the balanced thought reached."""

    situation: WrittenText
    automatic_thought: WrittenText
    emotion: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    emotion_intensity: Intensity
    evidence_for: OptionalText = None
    evidence_against: OptionalText = None
    balanced_thought: OptionalText = None
    rerated_intensity: Intensity | None = None
    """How strongly the emotion is felt after the balanced thought."""

    _blank = field_validator(
        "situation",
        "automatic_thought",
        "evidence_for",
        "evidence_against",
        "balanced_thought",
    )(_not_blank)

    @property
    def is_complete(self) -> bool:
        """Whether the patient reached a balanced thought."""
        return self.balanced_thought is not None

    @property
    def text(self) -> str:
        """Everything written in the record, for tone and crisis reading."""
        parts = (
            self.situation,
            self.automatic_thought,
            self.evidence_for,
            self.evidence_against,
            self.balanced_thought,
        )
        return "\n".join(part for part in parts if part)


class SentimentRecord(EmbeddedModel):
    """The tone of an entry as VADER scored it (see ``analysis.sentiment``)."""

    compound: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    positive: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    neutral: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    negative: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    analysed_at: UtcDatetime = Field(default_factory=utc_now)


class CrisisSummary(EmbeddedModel):
    """What the crisis detector found in an entry, without the words.

    Set by the journal repository whenever an entry is written; a value handed
    in is replaced.
    """

    crisis_types: list[CrisisType] = Field(default_factory=list, max_length=10)
    """Current crisis signals, most severe first."""
    highest_severity: CrisisSeverity | None = None
    requires_immediate_attention: bool = False
    history_types: list[CrisisType] = Field(default_factory=list, max_length=10)
    """Signals told as the patient's past ("I used to cut years ago")."""
    assessed_at: UtcDatetime = Field(default_factory=utc_now)


class JournalEntry(SoftDeletableDocument):
    """One journal entry a patient wrote.

    ``thought_record`` is required when the technique is a thought record.
    ``shared_at`` is set when the entry is shared with the care team and
    cleared when it is unshared.
    """

    ID_NAME: ClassVar[str] = "entry_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.PATIENT_AUTHORED, shared_field="shared_with_care_team"
    )

    user_id: PersonId
    title: Annotated[str | None, Encrypted(), Field(min_length=1, max_length=200)] = (
        None
    )
    content: Annotated[
        str, Encrypted(), Field(min_length=1, max_length=MAX_CONTENT_LENGTH)
    ]
    journal_type: JournalType = JournalType.FREE_WRITING
    cbt_technique: CBTTechnique | None = None
    mood_before: MoodScore = None
    mood_after: MoodScore = None
    insights: Annotated[list[Insight], Encrypted(), Field(max_length=20)] = Field(
        default_factory=list
    )
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    thought_record: Annotated[ThoughtRecord | None, Encrypted()] = Field(
        default=None, validate_default=True
    )
    shared_with_care_team: bool = False
    shared_at: UtcDatetime | None = Field(default=None, validate_default=True)
    sentiment: SentimentRecord | None = None
    crisis_summary: CrisisSummary | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)

    class Settings:
        name = "journal_entries"

    _blank = field_validator("title", "content")(_not_blank)

    @property
    def entry_id(self) -> str:
        """The platform's name for this entry's id."""
        return self.id

    @property
    def mood_change(self) -> int | None:
        """How much mood rose (or fell, negative) from before to after writing."""
        if self.mood_before is None or self.mood_after is None:
            return None
        return self.mood_after - self.mood_before

    @property
    def written_text(self) -> str:
        """Everything the patient wrote in the entry, for the crisis detector and
        the tone scores."""
        parts = [self.title or "", self.content, *self.insights]
        if self.thought_record is not None:
            parts.append(self.thought_record.text)
        return "\n".join(part for part in parts if part)

    @field_validator("thought_record")
    @classmethod
    def _record_for_a_thought_record(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("cbt_technique") is (
            CBTTechnique.THOUGHT_RECORD
        ):
            raise PydanticCustomError(
                "thought_record_required",
                "a thought-record entry needs its thought record",
            )
        return value

    @field_validator("shared_at")
    @classmethod
    def _dated_while_shared(cls, value: Any, info: ValidationInfo) -> Any:
        if not info.data.get("shared_with_care_team"):
            return None
        return value if value is not None else utc_now()


JOURNAL_MODELS: tuple[type[SoftDeletableDocument], ...] = (JournalEntry,)
"""The document models of this module, for the registry."""
