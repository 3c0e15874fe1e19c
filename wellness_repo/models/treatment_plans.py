"""Treatment plans: the diagnosis, measurable goals, interventions, the phase of
treatment, the progress recorded against the goals, and standardised outcome
measures (PHQ-9, GAD-7) with change since baseline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.instruments import (
    Instrument,
    ReliableChange,
    SeverityBand,
    score_responses,
)
from wellness_repo.models.base import EmbeddedModel, SoftDeletableDocument
from wellness_repo.models.clinical_fields import (
    ActorId,
    ClinicalLabel,
    ClinicalNote,
    PersonId,
)
from wellness_repo.models.types import (
    CalendarDate,
    Encrypted,
    EncryptionAlgorithm,
    UtcDatetime,
    new_id,
)
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "PHASE_TRANSITIONS",
    "GoalStatus",
    "OutcomeMeasure",
    "PhaseChange",
    "ProgressEntry",
    "TreatmentGoal",
    "TreatmentPhase",
    "TreatmentPlan",
    "goal_status_for",
]

# A letter, a digit, a digit or letter, then optionally a dot and up to four
# more: F32.1, F41.1, F43.10, Z63.0.
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")


def _icd10_code(value: str) -> str:
    code = value.strip().upper()
    if not _ICD10.fullmatch(code):
        raise PydanticCustomError(
            "icd10_format",
            "not an ICD-10 code; expected the form F32.1 (letter, digit, "
            "character, then optionally a dot and up to four characters)",
        )
    return code


Icd10Code = Annotated[str, AfterValidator(_icd10_code)]
"""An ICD-10 diagnosis code, stored upper-case with its dot (``F32.1``)."""

GoalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""A goal's id within its plan (``goal_1``): letters, digits, ``_`` and ``-``."""


class TreatmentPhase(StrEnum):
    """The stage a course of treatment is in."""

    ASSESSMENT = "assessment"
    PLANNING = "planning"
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    TERMINATION = "termination"
    COMPLETED = "completed"


PHASE_TRANSITIONS: Mapping[TreatmentPhase, frozenset[TreatmentPhase]] = {
    TreatmentPhase.ASSESSMENT: frozenset(
        {TreatmentPhase.PLANNING, TreatmentPhase.TERMINATION}
    ),
    TreatmentPhase.PLANNING: frozenset(
        {TreatmentPhase.ACTIVE, TreatmentPhase.ASSESSMENT, TreatmentPhase.TERMINATION}
    ),
    TreatmentPhase.ACTIVE: frozenset(
        {
            TreatmentPhase.MAINTENANCE,
            TreatmentPhase.PLANNING,
            TreatmentPhase.TERMINATION,
        }
    ),
    TreatmentPhase.MAINTENANCE: frozenset(
        {TreatmentPhase.ACTIVE, TreatmentPhase.TERMINATION}
    ),
    TreatmentPhase.TERMINATION: frozenset(
        {TreatmentPhase.COMPLETED, TreatmentPhase.ACTIVE}
    ),
    TreatmentPhase.COMPLETED: frozenset(),
}
"""The phase changes a plan may make. Forward through the course, back to
re-assess or re-plan, from active to maintenance and back on relapse, and to
termination from any open phase (a patient may disengage at any point);
``COMPLETED`` is final."""


class GoalStatus(StrEnum):
    """Where one treatment goal stands."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    DISCONTINUED = "discontinued"


def goal_status_for(progress: int) -> GoalStatus:
    """The status a goal has once its progress (0-100) is recorded."""
    if progress >= 100:
        return GoalStatus.ACHIEVED
    return GoalStatus.IN_PROGRESS if progress > 0 else GoalStatus.NOT_STARTED


class TreatmentGoal(EmbeddedModel):
    """One measurable goal of a treatment plan.

    Args:
        description: what the patient and clinician aim for (encrypted).
        measurable_target: how achievement is judged, e.g. "PHQ-9 below 10 at
            two reviews" (encrypted).
        progress: percent of the way to the target, 0-100.
    """

    goal_id: GoalId
    description: Annotated[
        str,
        Encrypted(),
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    ]
    measurable_target: ClinicalNote = None
    target_date: CalendarDate | None = None
    progress: int = Field(default=0, ge=0, le=100)
    status: GoalStatus = GoalStatus.NOT_STARTED


class PhaseChange(EmbeddedModel):
    """One step of a plan's phase history.

    Args:
        from_phase: ``None`` for the entry written when the plan was created.
        changed_by: the access context's actor id.
    """

    from_phase: TreatmentPhase | None
    to_phase: TreatmentPhase
    changed_at: UtcDatetime
    changed_by: ActorId
    notes: ClinicalNote = None


class ProgressEntry(EmbeddedModel):
    """One progress review: the goal progress recorded, by whom, when, in which
    phase, with the clinician's phase notes (encrypted)."""

    recorded_at: UtcDatetime
    recorded_by: ActorId
    phase: TreatmentPhase
    goals_progress: dict[GoalId, Annotated[int, Field(ge=0, le=100)]]
    phase_notes: ClinicalNote = None


class OutcomeMeasure(EmbeddedModel):
    """One standardised questionnaire the patient completed, scored.

    ``requires_safety_follow_up`` is true when a safety item was answered above
    0 (PHQ-9 item 9: thoughts of being better off dead or of self-harm), whatever
    the total; ``positive_safety_items`` names the items. It stays true; the
    follow-up is recorded beside it (``safety_follow_up_at`` and ``_by``).

    Args:
        item_responses: the answers in item order (encrypted).
        change_from_baseline: total minus the baseline total; ``None`` on the
            baseline itself (the plan's earliest measure of the instrument).
        reliable_change: whether that change is reliable; ``None`` on the
            baseline.
    """

    measure_id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    instrument: Instrument
    administered_at: UtcDatetime
    recorded_at: UtcDatetime
    recorded_by: ActorId
    item_responses: Annotated[list[int], Encrypted()]
    total_score: int = Field(ge=0)
    severity: SeverityBand
    change_from_baseline: int | None = None
    reliable_change: ReliableChange | None = None
    requires_safety_follow_up: bool = False
    positive_safety_items: list[int] = Field(default_factory=list)
    safety_follow_up_at: UtcDatetime | None = None
    safety_follow_up_by: ActorId | None = None
    safety_follow_up_notes: ClinicalNote = None
    notes: ClinicalNote = None

    @property
    def safety_follow_up_open(self) -> bool:
        """Whether a positive safety item still awaits a clinician's follow-up."""
        return self.requires_safety_follow_up and self.safety_follow_up_at is None

    @model_validator(mode="after")
    def _scored_from_its_answers(self) -> OutcomeMeasure:
        # A stored score that disagrees with its answers would mislead every
        # reader, and a lost safety flag could cost a life: both are refused.
        score = score_responses(self.instrument, self.item_responses)
        stored = (
            self.total_score,
            self.severity,
            self.requires_safety_follow_up,
            tuple(self.positive_safety_items),
        )
        expected = (
            score.total,
            score.severity,
            score.requires_safety_follow_up,
            score.positive_safety_items,
        )
        if stored != expected:
            raise PydanticCustomError(
                "inconsistent_score",
                "the score, band or safety flag does not match the item answers",
            )
        return self


class TreatmentPlan(SoftDeletableDocument):
    """A patient's plan of treatment with one therapist.

    ``treatment_goals`` accepts plain descriptions too: ``["Reduce depressive
    symptoms", "Improve coping skills"]`` become goals ``goal_1`` and ``goal_2``.
    The phase, the histories, the goals' progress and the outcome measures change
    only through the repository's clinical methods, which keep the histories.
    ``safety_follow_up_required`` is true while any outcome measure's safety
    follow-up is open.
    """

    ID_NAME: ClassVar[str] = "plan_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL)

    patient_id: PersonId
    therapist_id: PersonId
    plan_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    primary_diagnosis: ClinicalNote = None
    primary_diagnosis_code: Annotated[
        Icd10Code | None, Encrypted(EncryptionAlgorithm.DETERMINISTIC)
    ] = None
    treatment_goals: list[TreatmentGoal] = Field(default_factory=list, max_length=50)
    interventions: list[ClinicalLabel] = Field(default_factory=list, max_length=50)
    estimated_duration_weeks: int | None = Field(default=None, ge=1, le=520)
    phase: TreatmentPhase = TreatmentPhase.ASSESSMENT
    phase_history: list[PhaseChange] = Field(default_factory=list)
    progress_history: list[ProgressEntry] = Field(default_factory=list)
    outcome_measures: list[OutcomeMeasure] = Field(default_factory=list)
    safety_follow_up_required: bool = Field(default=False, validate_default=True)

    class Settings:
        name = "treatment_plans"

    @property
    def plan_id(self) -> str:
        """The platform's name for this plan's id."""
        return self.id

    @field_validator("treatment_goals", mode="before")
    @classmethod
    def _goals_from_descriptions(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        return [
            {"goal_id": f"goal_{number}", "description": goal}
            if isinstance(goal, str)
            else goal
            for number, goal in enumerate(value, start=1)
        ]

    @field_validator("treatment_goals")
    @classmethod
    def _goal_ids_unique(cls, goals: list[TreatmentGoal]) -> list[TreatmentGoal]:
        ids = [goal.goal_id for goal in goals]
        if len(set(ids)) != len(ids):
            raise PydanticCustomError(
                "duplicate_goal_id", "two goals of one plan share an id"
            )
        return goals

    @field_validator("safety_follow_up_required")
    @classmethod
    def _follow_up_reflects_measures(cls, value: bool, info: ValidationInfo) -> bool:
        measures: list[OutcomeMeasure] = info.data.get("outcome_measures") or []
        if value != any(measure.safety_follow_up_open for measure in measures):
            raise PydanticCustomError(
                "inconsistent_safety_flag",
                "must be true exactly while an outcome measure's safety "
                "follow-up is open",
            )
        return value
