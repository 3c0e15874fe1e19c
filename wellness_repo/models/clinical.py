"""Clinical records: the therapeutic relationship between a patient and a
therapist, with its status lifecycle.

Treatment plans live in ``wellness_repo.models.treatment_plans``; both are listed
in ``CLINICAL_MODELS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import (
    EmbeddedModel,
    SoftDeletableDocument,
    WellnessDocument,
)
from wellness_repo.models.clinical_fields import (
    ActorId,
    ClinicalLabel,
    ClinicalNote,
    PersonId,
)
from wellness_repo.models.treatment_plans import TreatmentPlan
from wellness_repo.models.types import CalendarDate, UtcDatetime
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "CLINICAL_MODELS",
    "RELATIONSHIP_TRANSITIONS",
    "RelationshipStatus",
    "SessionFrequency",
    "StatusChange",
    "TherapeuticRelationship",
    "TherapyModality",
]


class TherapyModality(StrEnum):
    """The therapeutic approach a relationship works in."""

    CBT = "cbt"
    DBT = "dbt"
    ACT = "act"
    EMDR = "emdr"
    PSYCHODYNAMIC = "psychodynamic"
    IPT = "ipt"
    MBCT = "mbct"
    FAMILY = "family"
    GROUP = "group"
    OTHER = "other"


class RelationshipStatus(StrEnum):
    """Where a therapeutic relationship stands in its lifecycle."""

    PENDING = "pending"
    """Agreed or referred, sessions not yet started."""
    ACTIVE = "active"
    """The patient is in therapy with this therapist."""
    PAUSED = "paused"
    """Sessions suspended for a while (leave, hospital stay); expected to resume."""
    ENDED = "ended"
    """Closed for good: discharged, transferred, or never started."""


RELATIONSHIP_TRANSITIONS: Mapping[RelationshipStatus, frozenset[RelationshipStatus]] = {
    RelationshipStatus.PENDING: frozenset(
        {RelationshipStatus.ACTIVE, RelationshipStatus.ENDED}
    ),
    RelationshipStatus.ACTIVE: frozenset(
        {RelationshipStatus.PAUSED, RelationshipStatus.ENDED}
    ),
    RelationshipStatus.PAUSED: frozenset(
        {RelationshipStatus.ACTIVE, RelationshipStatus.ENDED}
    ),
    RelationshipStatus.ENDED: frozenset(),
}
"""The status changes a relationship may make; ``ENDED`` is final, so a patient
returning to the same therapist starts a new relationship."""


class SessionFrequency(StrEnum):
    """How often the patient and therapist meet."""

    TWICE_WEEKLY = "twice_weekly"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    AS_NEEDED = "as_needed"


class StatusChange(EmbeddedModel):
    """One step of a relationship's status history: who changed it, when, why.

    Args:
        from_status: the status before; ``None`` for the entry written when the
            relationship was first recorded.
        changed_by: the access context's actor id.
        reason: the clinician's reason, stored encrypted.
    """

    from_status: RelationshipStatus | None
    to_status: RelationshipStatus
    changed_at: UtcDatetime
    changed_by: ActorId
    reason: ClinicalNote = None


class TherapeuticRelationship(SoftDeletableDocument):
    """A patient's relationship with one therapist: modality, focus, cadence,
    boundaries, and a status history.

    At most one relationship per patient-therapist pair is active at a time (a
    unique partial index enforces it). The status changes only through the
    repository's ``activate``, ``pause`` and ``end_relationship``, which follow
    ``RELATIONSHIP_TRANSITIONS`` and record each change in ``status_history``.
    An active or paused relationship has a start date; an ended one an end date,
    never before its start.
    """

    ID_NAME: ClassVar[str] = "relationship_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    # The therapist sees (and activates) the relationship before it grants care.
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.CLINICAL, provider_fields=("therapist_id",)
    )

    patient_id: PersonId
    therapist_id: PersonId
    therapy_modality: TherapyModality
    relationship_status: RelationshipStatus = RelationshipStatus.PENDING
    start_date: CalendarDate | None = Field(default=None, validate_default=True)
    end_date: CalendarDate | None = Field(default=None, validate_default=True)
    session_frequency: SessionFrequency | None = None
    treatment_focus: list[ClinicalLabel] = Field(default_factory=list, max_length=20)
    boundaries_notes: ClinicalNote = None
    status_history: list[StatusChange] = Field(default_factory=list)

    class Settings:
        name = "therapeutic_relationships"

    @property
    def relationship_id(self) -> str:
        """The platform's name for this relationship's id."""
        return self.id

    @field_validator("start_date")
    @classmethod
    def _started_when_under_way(
        cls, value: date | None, info: ValidationInfo
    ) -> date | None:
        status = info.data.get("relationship_status")
        under_way = (RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED)
        if value is None and status in under_way:
            raise PydanticCustomError(
                "required_for_status",
                "an active or paused relationship needs a start date",
            )
        return value

    @field_validator("end_date")
    @classmethod
    def _ended_after_start(
        cls, value: date | None, info: ValidationInfo
    ) -> date | None:
        if value is None:
            if info.data.get("relationship_status") is RelationshipStatus.ENDED:
                raise PydanticCustomError(
                    "required_for_status", "an ended relationship needs an end date"
                )
            return value
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise PydanticCustomError(
                "before_start", "the end date cannot be before the start date"
            )
        return value


CLINICAL_MODELS: tuple[type[WellnessDocument], ...] = (
    TherapeuticRelationship,
    TreatmentPlan,
)
