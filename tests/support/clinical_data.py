"""Realistic clinical records for the therapeutic-relationship and treatment-plan
tests: one patient in CBT for depression and anxiety, and the people around."""

from __future__ import annotations

from datetime import date
from typing import Any

from wellness_repo import AccessContext, UserRole
from wellness_repo.models.clinical import (
    RelationshipStatus,
    SessionFrequency,
    TherapeuticRelationship,
    TherapyModality,
)
from wellness_repo.models.treatment_plans import (
    TreatmentGoal,
    TreatmentPhase,
    TreatmentPlan,
)

PATIENT = "patient_123"
THERAPIST = "therapist_456"
OTHER_THERAPIST = "therapist_789"
THERAPIST_CONTEXT = AccessContext(actor_id=THERAPIST, role=UserRole.THERAPIST)
START = date(2024, 9, 2)

# PHQ-9 answers in item order; item 9 asks about thoughts of self-harm.
PHQ9_MODERATELY_SEVERE = [2, 2, 2, 2, 2, 2, 2, 2, 0]  # total 16
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 1, 0, 0]  # total 7
PHQ9_MINIMAL_WITH_ITEM9 = [0, 0, 1, 0, 0, 0, 0, 0, 1]  # total 2, item 9 positive
GAD7_MODERATE = [2, 2, 2, 2, 2, 1, 1]  # total 12


def relationship(**changes: Any) -> TherapeuticRelationship:
    """A weekly CBT relationship for depression and anxiety, pending by default."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "therapist_id": THERAPIST,
        "therapy_modality": TherapyModality.CBT,
        "relationship_status": RelationshipStatus.PENDING,
        "session_frequency": SessionFrequency.WEEKLY,
        "treatment_focus": ["Depression", "Anxiety"],
        "boundaries_notes": "No contact outside sessions except via the clinic line",
    }
    values.update(changes)
    if values["relationship_status"] is not RelationshipStatus.PENDING:
        values.setdefault("start_date", START)
    return TherapeuticRelationship(**values)


def active_relationship(**changes: Any) -> TherapeuticRelationship:
    """The seed's example: an active CBT relationship."""
    return relationship(relationship_status=RelationshipStatus.ACTIVE, **changes)


def depression_plan(**changes: Any) -> TreatmentPlan:
    """The seed's example plan: 16 weeks of CBT for depression, in active phase."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "therapist_id": THERAPIST,
        "plan_name": "CBT for Depression",
        "primary_diagnosis": "Major Depressive Disorder, single episode, moderate",
        "primary_diagnosis_code": "F32.1",
        "treatment_goals": [
            "Reduce depressive symptoms",
            "Improve coping skills",
        ],
        "interventions": ["Cognitive restructuring", "Behavioral activation"],
        "estimated_duration_weeks": 16,
        "phase": TreatmentPhase.ACTIVE,
    }
    values.update(changes)
    return TreatmentPlan(**values)


def five_goal_plan() -> TreatmentPlan:
    """A plan with five measurable goals, for concurrent progress reviews."""
    goals = [
        TreatmentGoal(goal_id=f"goal_{number}", description=description)
        for number, description in enumerate(
            [
                "Reduce depressive symptoms",
                "Improve coping skills",
                "Return to part-time work",
                "Sleep at least six hours most nights",
                "Reconnect with two friends",
            ],
            start=1,
        )
    ]
    return depression_plan(treatment_goals=goals)
