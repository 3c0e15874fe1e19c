"""Repositories for clinical records: therapeutic relationships here, treatment
plans in ``wellness_repo.repositories.treatment_plans`` (re-exported)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from wellness_repo.errors import ValidationError
from wellness_repo.models.clinical import (
    RELATIONSHIP_TRANSITIONS,
    RelationshipStatus,
    StatusChange,
    TherapeuticRelationship,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.lifecycle import (
    ClinicalRecordRepository,
    checked_id,
    checked_note,
)
from wellness_repo.repositories.treatment_plans import TreatmentPlanRepository

__all__ = ["TherapeuticRelationshipRepository", "TreatmentPlanRepository"]

_LIFECYCLE_METHODS = "activate, pause or end_relationship"
_OPENING_STATUSES = (RelationshipStatus.PENDING, RelationshipStatus.ACTIVE)


class TherapeuticRelationshipRepository(
    ClinicalRecordRepository[TherapeuticRelationship]
):
    """Patients' relationships with their therapists: establishing, activating,
    pausing and ending them, and the caseload queries.

    Status lifecycle (``RELATIONSHIP_TRANSITIONS``): pending -> active or ended;
    active -> paused or ended; paused -> active or ended; ended is final. A new
    relationship starts pending or active. Every change is appended to
    ``status_history`` with who made it, when, and the reason (encrypted).

    At most one relationship per patient-therapist pair is active: the unique
    partial index ``one_active_per_pair`` enforces it, so creating or activating
    a second one raises ``DuplicateError`` even when two requests race.
    """

    model = TherapeuticRelationship
    MANAGED_FIELDS: ClassVar[Mapping[str, str]] = {
        "relationship_status": _LIFECYCLE_METHODS,
        "status_history": _LIFECYCLE_METHODS,
        # Who cares for whom decides who reads a chart: a handover ends this
        # relationship and creates the new one, both on record.
        "patient_id": "end_relationship, then create",
        "therapist_id": "end_relationship, then create",
    }

    async def create(self, entity: TherapeuticRelationship) -> TherapeuticRelationship:
        """Establish a relationship, pending or already active.

        Its status history starts with this step, by the acting user.

        Raises:
            ValidationError: another initial status, a status history supplied,
                or an invalid record; nothing is written.
            DuplicateError: the pair already has an active relationship.
        """
        return await super().create(self._established(entity))

    async def create_many(
        self, entities: Sequence[TherapeuticRelationship]
    ) -> list[TherapeuticRelationship]:
        """Establish many relationships at once, each as :meth:`create` does."""
        return await super().create_many(
            [self._established(entity) for entity in entities]
        )

    async def activate(
        self, relationship_id: str, reason: str | None = None
    ) -> TherapeuticRelationship:
        """Start therapy (from pending) or resume it (from paused).

        Starting sets the start date to today (UTC) unless an earlier one was
        recorded.

        Raises:
            ValidationError: the relationship is active or ended already.
            DuplicateError: the pair already has another active relationship.
            NotFoundError: no such relationship is visible.
        """
        self._check_id(relationship_id)
        note = checked_note(reason, field="reason", required=False)
        return await self._move(relationship_id, RelationshipStatus.ACTIVE, note)

    async def pause(self, relationship_id: str, reason: str) -> TherapeuticRelationship:
        """Suspend sessions of an active relationship for a while.

        Raises:
            ValidationError: no reason given, or the relationship is not active.
            NotFoundError: no such relationship is visible.
        """
        self._check_id(relationship_id)
        note = checked_note(reason, field="reason", required=True)
        return await self._move(relationship_id, RelationshipStatus.PAUSED, note)

    async def end_relationship(
        self, relationship_id: str, reason: str, end_date: date | None = None
    ) -> TherapeuticRelationship:
        """Close a relationship for good (discharge, transfer, never started).

        ``end_date`` defaults to today (UTC). Ending a pending relationship whose
        planned start date had not come yet removes that date, since therapy
        never started.

        Raises:
            ValidationError: no reason, an end date before the start date, or the
                relationship has ended already.
            NotFoundError: no such relationship is visible.
        """
        self._check_id(relationship_id)
        note = checked_note(reason, field="reason", required=True)
        if end_date is not None and (
            isinstance(end_date, datetime) or not isinstance(end_date, date)
        ):
            raise ValidationError(
                "end_date must be a calendar date", field="end_date", rule="type"
            )
        return await self._move(
            relationship_id, RelationshipStatus.ENDED, note, end_date=end_date
        )

    async def active_relationships_for_therapist(
        self, therapist_id: str
    ) -> list[TherapeuticRelationship]:
        """A therapist's current caseload, longest-standing first."""
        therapist_id = checked_id(therapist_id, field="therapist_id")
        return await self._every_match(
            {"therapist_id": therapist_id, "relationship_status": "active"},
            ["start_date"],
        )

    async def active_relationships_for_patient(
        self, patient_id: str
    ) -> list[TherapeuticRelationship]:
        """The therapists a patient is currently in therapy with, longest first."""
        patient_id = checked_id(patient_id, field="patient_id")
        return await self._every_match(
            {"patient_id": patient_id, "relationship_status": "active"},
            ["start_date"],
        )

    async def caseload_size(self, therapist_id: str) -> int:
        """How many active relationships a therapist holds."""
        therapist_id = checked_id(therapist_id, field="therapist_id")
        return await self.count(therapist_id=therapist_id, relationship_status="active")

    def _established(self, entity: TherapeuticRelationship) -> TherapeuticRelationship:
        self._check_type(entity)
        if entity.status_history:
            raise self._managed_field_error(
                "status_history", _LIFECYCLE_METHODS, entity.id
            )
        if entity.relationship_status not in _OPENING_STATUSES:
            raise self._rule_error(
                "a new relationship starts pending or active",
                field="relationship_status",
                rule="initial_status",
                entity_id=entity.id,
            )
        first = StatusChange(
            from_status=None,
            to_status=entity.relationship_status,
            changed_at=utc_now(),
            changed_by=self._actor_id(),
        )
        opened: TherapeuticRelationship = entity.model_copy(
            update={"status_history": [first]}
        )
        return opened

    async def _move(
        self,
        relationship_id: str,
        target: RelationshipStatus,
        reason: str | None,
        *,
        end_date: date | None = None,
    ) -> TherapeuticRelationship:
        actor = self._actor_id()
        today = utc_now().date()

        def change(current: TherapeuticRelationship) -> dict[str, Any]:
            source = current.relationship_status
            if target not in RELATIONSHIP_TRANSITIONS[source]:
                raise self._rule_error(
                    f"a {source.value} relationship cannot become {target.value}",
                    field="relationship_status",
                    rule="invalid_transition",
                    entity_id=relationship_id,
                )
            step = StatusChange(
                from_status=source,
                to_status=target,
                changed_at=utc_now(),
                changed_by=actor,
                reason=reason,
            )
            values: dict[str, Any] = {
                "relationship_status": target,
                "status_history": [*current.status_history, step],
            }
            starting = source is RelationshipStatus.PENDING
            if starting and target is RelationshipStatus.ACTIVE:
                values["start_date"] = min(current.start_date or today, today)
            if target is RelationshipStatus.ENDED:
                values.update(self._ending(current, end_date or today, end_date))
            return values

        updated = await self._revise(relationship_id, change)
        self.logger.info(
            "therapeutic relationship %s is now %s", relationship_id, target.value
        )
        return updated

    def _ending(
        self,
        current: TherapeuticRelationship,
        ending: date,
        given: date | None,
    ) -> dict[str, Any]:
        start = current.start_date
        if start is None or ending >= start:
            return {"end_date": ending}
        if current.relationship_status is RelationshipStatus.PENDING and given is None:
            return {"end_date": ending, "start_date": None}
        raise self._rule_error(
            "the end date cannot be before the start date",
            field="end_date",
            rule="before_start",
            entity_id=current.id,
        )
