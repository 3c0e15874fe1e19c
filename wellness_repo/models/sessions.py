"""Therapy sessions, and the clinical signals they raise for crisis follow-up.

A ``TherapySession`` documents one encounter: its structured note (SOAP, DAP or
free text), the therapist's separate psychotherapy notes, interventions, mood at
start and end, the risk assessment and the homework assigned. A session assessed
at high or imminent risk raises a ``ClinicalSignal``, written in the same
transaction, which the crisis workflow claims and turns into a crisis detection.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import (
    EmbeddedModel,
    SoftDeletableDocument,
    WellnessDocument,
)
from wellness_repo.models.types import (
    ID_PATTERN,
    CalendarDate,
    Encrypted,
    UtcDatetime,
    new_id,
    utc_now,
)
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "SESSIONS_MODELS",
    "ClinicalSignal",
    "DapNote",
    "FreeTextNote",
    "HomeworkItem",
    "NoteFormat",
    "RiskLevel",
    "SessionNote",
    "SessionStatus",
    "SessionType",
    "SignalSource",
    "SignalStatus",
    "SoapNote",
    "TherapySession",
]

MOOD_SCALE_MIN = 1
MOOD_SCALE_MAX = 10
# Longer than any scheduled modality (intensive or crisis sessions run to a few
# hours); a value past a working day is a unit mistake (seconds for minutes).
MAX_SESSION_MINUTES = 480

RecordId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# An access context's actor id, which the context does not restrict to an id's
# shape; it is stored, never logged.
ActorName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
NoteSection = Annotated[str | None, Field(min_length=1, max_length=20_000)]


class SessionType(StrEnum):
    """The kind of therapeutic encounter."""

    INDIVIDUAL = "individual"
    GROUP = "group"
    FAMILY = "family"
    COUPLES = "couples"
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    CRISIS = "crisis"


class SessionStatus(StrEnum):
    """Whether the session took place: the basis of attendance statistics."""

    SCHEDULED = "scheduled"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class RiskLevel(StrEnum):
    """The clinician's assessment of the patient's risk of harm, lowest first."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    IMMINENT = "imminent"

    @property
    def rank(self) -> int:
        """Position on the scale: 0 for none up to 4 for imminent."""
        return list(RiskLevel).index(self)

    @property
    def requires_crisis_follow_up(self) -> bool:
        """Whether this level must reach the crisis team (high and above)."""
        return self.rank >= RiskLevel.HIGH.rank


class NoteFormat(StrEnum):
    """How a session note is structured."""

    SOAP = "soap"
    """Subjective, objective, assessment, plan."""
    DAP = "dap"
    """Data, assessment, plan."""
    FREE_TEXT = "free_text"
    """One narrative paragraph, as older notes and quick entries are written."""


class _StructuredNote(EmbeddedModel):
    """Shared rule of structured notes: at least one section is written."""

    @model_validator(mode="after")
    def _not_empty(self) -> _StructuredNote:
        sections = [value for name, value in self if name != "format"]
        if all(value is None for value in sections):
            raise PydanticCustomError(
                "empty_note", "a session note needs at least one section written"
            )
        return self


class SoapNote(_StructuredNote):
    """A progress note in SOAP form, the common medical documentation format."""

    format: Literal[NoteFormat.SOAP] = NoteFormat.SOAP
    subjective: NoteSection = None
    objective: NoteSection = None
    assessment: NoteSection = None
    plan: NoteSection = None


class DapNote(_StructuredNote):
    """A progress note in DAP form, common in behavioural health."""

    format: Literal[NoteFormat.DAP] = NoteFormat.DAP
    data: NoteSection = None
    assessment: NoteSection = None
    plan: NoteSection = None


class FreeTextNote(_StructuredNote):
    """A progress note written as one narrative."""

    format: Literal[NoteFormat.FREE_TEXT] = NoteFormat.FREE_TEXT
    text: NoteSection = None


SessionNote = Annotated[
    SoapNote | DapNote | FreeTextNote, Field(discriminator="format")
]
"""A session's progress note in one of the supported formats."""


def _note_from_text(value: Any) -> Any:
    # The platform's examples pass the note as a plain string.
    if isinstance(value, str):
        return {"format": NoteFormat.FREE_TEXT, "text": value}
    return value


def _homework_from_text(value: Any) -> Any:
    # The platform's examples assign homework as a list of plain descriptions.
    if isinstance(value, list):
        return [{"description": v} if isinstance(v, str) else v for v in value]
    return value


class HomeworkItem(EmbeddedModel):
    """One between-session task assigned to the patient, and its review."""

    item_id: RecordId = Field(default_factory=new_id)
    description: Annotated[str, Encrypted(), Field(min_length=1, max_length=1_000)]
    assigned_at: UtcDatetime = Field(default_factory=utc_now)
    due_date: CalendarDate | None = None
    completed: bool = False
    completed_at: UtcDatetime | None = Field(default=None, validate_default=True)
    reviewed_in_session_id: RecordId | None = None
    reviewed_at: UtcDatetime | None = Field(default=None, validate_default=True)
    notes: Annotated[str | None, Encrypted(), Field(max_length=5_000)] = None

    @field_validator("completed_at")
    @classmethod
    def _completion_is_dated(cls, value: Any, info: ValidationInfo) -> Any:
        completed = info.data.get("completed")
        if completed and value is None:
            raise PydanticCustomError(
                "required_when_completed", "a completed item needs completed_at"
            )
        if completed is False and value is not None:
            raise PydanticCustomError(
                "only_when_completed", "completed_at is set only on completed items"
            )
        assigned = info.data.get("assigned_at")
        if value is not None and assigned is not None and value < assigned:
            raise PydanticCustomError(
                "before_assignment", "completed_at lies before assigned_at"
            )
        return value

    @field_validator("reviewed_at")
    @classmethod
    def _review_names_its_session(cls, value: Any, info: ValidationInfo) -> Any:
        if "reviewed_in_session_id" not in info.data:
            return value
        if (value is None) != (info.data["reviewed_in_session_id"] is None):
            raise PydanticCustomError(
                "review_pair",
                "reviewed_at and reviewed_in_session_id are set together",
            )
        return value


def _only_when_attended(value: Any, info: ValidationInfo) -> Any:
    """Refuse encounter details (duration, moods) on a session that did not
    take place."""
    status = info.data.get("status")
    empty = value is None or value == []
    if status is not None and status is not SessionStatus.ATTENDED and not empty:
        raise PydanticCustomError(
            "only_when_attended",
            "only an attended session records how it went",
        )
    return value


class TherapySession(SoftDeletableDocument):
    """One documented therapy session of a therapeutic relationship.

    ``session_notes`` is the progress note (a plain string becomes a free-text
    note); ``psychotherapy_notes`` are the therapist's separate process notes,
    which name their author so access can be confined to them. ``mood_change``
    is derived from the start and end moods on every validation; a value given
    for it is replaced.
    """

    ID_NAME: ClassVar[str] = "session_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.CLINICAL,
        author_only=(("psychotherapy_notes", "psychotherapy_notes_author_id"),),
        detail_fields=("session_notes",),
    )

    relationship_id: RecordId
    patient_id: RecordId
    therapist_id: RecordId
    session_date: CalendarDate
    session_type: SessionType
    status: SessionStatus = SessionStatus.ATTENDED
    duration_minutes: int | None = Field(
        default=None, ge=1, le=MAX_SESSION_MINUTES, validate_default=True
    )
    session_notes: Annotated[
        SessionNote | None, Encrypted(), BeforeValidator(_note_from_text)
    ] = None
    psychotherapy_notes: Annotated[
        str | None, Encrypted(), Field(min_length=1, max_length=50_000)
    ] = None
    psychotherapy_notes_author_id: RecordId | None = Field(
        default=None, validate_default=True
    )
    interventions_used: list[Label] = Field(default_factory=list, max_length=50)
    patient_mood_start: int | None = Field(
        default=None, ge=MOOD_SCALE_MIN, le=MOOD_SCALE_MAX
    )
    patient_mood_end: int | None = Field(
        default=None, ge=MOOD_SCALE_MIN, le=MOOD_SCALE_MAX
    )
    mood_change: int | None = None
    risk_assessment: RiskLevel | None = None
    homework_assigned: Annotated[
        list[HomeworkItem], BeforeValidator(_homework_from_text)
    ] = Field(default_factory=list, max_length=30)

    class Settings:
        name = "therapy_sessions"

    @property
    def session_id(self) -> str:
        """The platform's name for this session's id."""
        return self.id

    @field_validator("duration_minutes")
    @classmethod
    def _attended_sessions_have_a_length(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("status") is SessionStatus.ATTENDED:
            raise PydanticCustomError(
                "required_when_attended", "an attended session needs its duration"
            )
        return _only_when_attended(value, info)

    @field_validator("psychotherapy_notes_author_id")
    @classmethod
    def _psychotherapy_notes_name_their_author(
        cls, value: Any, info: ValidationInfo
    ) -> Any:
        if "psychotherapy_notes" not in info.data:
            return value
        has_notes = info.data["psychotherapy_notes"] is not None
        if has_notes and value is None:
            raise PydanticCustomError(
                "required_with_psychotherapy_notes",
                "psychotherapy notes must name their author",
            )
        if value is not None and not has_notes:
            raise PydanticCustomError(
                "only_with_psychotherapy_notes",
                "an author is named only together with psychotherapy notes",
            )
        return value

    @field_validator("interventions_used", "patient_mood_start", "homework_assigned")
    @classmethod
    def _encounter_details(cls, value: Any, info: ValidationInfo) -> Any:
        return _only_when_attended(value, info)

    @field_validator("patient_mood_end")
    @classmethod
    def _end_mood_follows_a_start_mood(cls, value: Any, info: ValidationInfo) -> Any:
        # A start mood that failed its own rule is absent here, rather than None.
        data = info.data
        start_missing = (
            "patient_mood_start" in data and data["patient_mood_start"] is None
        )
        if value is not None and start_missing:
            raise PydanticCustomError(
                "requires_patient_mood_start",
                "an end mood is recorded only with a start mood",
            )
        return _only_when_attended(value, info)

    @model_validator(mode="after")
    def _derive_mood_change(self) -> TherapySession:
        start, end = self.patient_mood_start, self.patient_mood_end
        change = None if start is None or end is None else end - start
        # Written past validate_assignment, which would re-enter this validator;
        # it also runs after every assignment, so the value never goes stale.
        self.__dict__["mood_change"] = change
        return self


class SignalSource(StrEnum):
    """The kind of record that raised a clinical signal."""

    SESSION = "session"


class SignalStatus(StrEnum):
    """Where a signal stands in the crisis workflow: pending, then claimed by one
    worker, then processed into a crisis detection."""

    PENDING = "pending"
    CLAIMED = "claimed"
    PROCESSED = "processed"


def _required_in(
    value: Any, info: ValidationInfo, states: tuple[SignalStatus, ...]
) -> Any:
    status = info.data.get("status")
    if status is None:
        return value
    if status in states and value is None:
        raise PydanticCustomError(
            "required_for_status", "required once a signal is claimed or processed"
        )
    if status not in states and value is not None:
        raise PydanticCustomError(
            "not_for_status", "not set while the signal is in its current status"
        )
    return value


_CLAIMED_OR_LATER = (SignalStatus.CLAIMED, SignalStatus.PROCESSED)


class ClinicalSignal(WellnessDocument):
    """A durable request for crisis follow-up, raised by a high-risk record.

    Written in the same transaction as the record that raised it, so a high-risk
    assessment is never stored without it. One record write raises at most one
    signal (``source_revision`` is part of a unique key). ``urgency`` is derived
    from the risk level (higher is more urgent) for ordering the queue.
    """

    ID_NAME: ClassVar[str] = "signal_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL_WORKFLOW)

    patient_id: RecordId
    source: SignalSource
    source_id: RecordId
    source_revision: int = Field(ge=1)
    risk_level: RiskLevel
    urgency: int = 0
    raised_at: UtcDatetime = Field(default_factory=utc_now)
    raised_by: ActorName
    status: SignalStatus = SignalStatus.PENDING
    claimed_by: RecordId | None = Field(default=None, validate_default=True)
    claimed_at: UtcDatetime | None = Field(default=None, validate_default=True)
    processed_at: UtcDatetime | None = Field(default=None, validate_default=True)
    detection_id: RecordId | None = Field(default=None, validate_default=True)

    class Settings:
        name = "clinical_signals"

    @property
    def signal_id(self) -> str:
        """The platform's name for this signal's id."""
        return self.id

    @field_validator("risk_level")
    @classmethod
    def _crisis_levels_only(cls, value: RiskLevel) -> RiskLevel:
        if not value.requires_crisis_follow_up:
            raise PydanticCustomError(
                "below_crisis_threshold",
                "signals are raised only for high or imminent risk",
            )
        return value

    @field_validator("claimed_by", "claimed_at")
    @classmethod
    def _claim_fields(cls, value: Any, info: ValidationInfo) -> Any:
        return _required_in(value, info, _CLAIMED_OR_LATER)

    @field_validator("processed_at", "detection_id")
    @classmethod
    def _processing_fields(cls, value: Any, info: ValidationInfo) -> Any:
        return _required_in(value, info, (SignalStatus.PROCESSED,))

    @model_validator(mode="after")
    def _derive_urgency(self) -> ClinicalSignal:
        # Past validate_assignment on purpose, as for TherapySession.mood_change.
        self.__dict__["urgency"] = self.risk_level.rank
        return self


SESSIONS_MODELS: tuple[type[WellnessDocument], ...] = (TherapySession, ClinicalSignal)
