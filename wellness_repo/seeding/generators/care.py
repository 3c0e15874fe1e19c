"""The course of care: therapeutic relationships, treatment plans and the therapy
sessions documented since each patient's treatment started."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from wellness_repo.models.clinical import (
    RelationshipStatus,
    SessionFrequency,
    TherapeuticRelationship,
    TherapyModality,
)
from wellness_repo.models.sessions import (
    HomeworkItem,
    RiskLevel,
    SessionStatus,
    SessionType,
    TherapySession,
)
from wellness_repo.models.treatment_plans import (
    GoalStatus,
    TreatmentGoal,
    TreatmentPhase,
    TreatmentPlan,
)
from wellness_repo.seeding.generators.phrases import (
    GOALS,
    HOMEWORK,
    INTERVENTIONS,
    SESSION_NOTES,
)
from wellness_repo.seeding.world import FixtureWorld, PatientProfile

__all__ = ["relationships", "therapy_sessions", "treatment_plans"]

_MODALITIES = (
    (TherapyModality.CBT, 6),
    (TherapyModality.ACT, 1),
    (TherapyModality.MBCT, 1),
    (TherapyModality.IPT, 1),
    (TherapyModality.DBT, 1),
)


def relationships(world: FixtureWorld) -> Iterator[list[TherapeuticRelationship]]:
    """One relationship per patient with their clinician: active since treatment
    started, or pending for a patient on the waiting list."""
    for index in world.patient_indices():
        profile = world.profile(index)
        rng = world.random("relationships", index)
        modality = rng.choices(
            [item for item, _ in _MODALITIES], [weight for _, weight in _MODALITIES]
        )[0]
        status = (
            RelationshipStatus.ACTIVE
            if profile.in_treatment
            else RelationshipStatus.PENDING
        )
        yield [
            TherapeuticRelationship(
                id=world.id("relationship", index),
                patient_id=profile.patient_id,
                therapist_id=profile.provider_id,
                therapy_modality=modality,
                relationship_status=status,
                start_date=profile.treatment_start,
                session_frequency=SessionFrequency.WEEKLY,
                treatment_focus=list(profile.diagnosis.focus),
                boundaries_notes="Contact between sessions via the clinic line only",
                created_at=world.at(
                    profile.treatment_start or world.as_of - timedelta(days=3), 9
                ),
            )
        ]


def _phase(profile: PatientProfile, world: FixtureWorld) -> TreatmentPhase:
    assert profile.treatment_start is not None
    weeks = (world.as_of - profile.treatment_start).days // 7
    if weeks < 2:
        return TreatmentPhase.ASSESSMENT
    if weeks < 4:
        return TreatmentPhase.PLANNING
    if weeks < 16:
        return TreatmentPhase.ACTIVE
    return TreatmentPhase.MAINTENANCE


def treatment_plans(world: FixtureWorld) -> Iterator[list[TreatmentPlan]]:
    """A treatment plan for each patient in treatment, in the phase their time in
    treatment suggests, with two or three measurable goals."""
    for index in world.patient_indices():
        profile = world.profile(index)
        if profile.treatment_start is None:
            yield []
            continue
        rng = world.random("treatment-plans", index)
        weeks = (world.as_of - profile.treatment_start).days // 7
        goals = [
            TreatmentGoal(
                goal_id=f"goal_{number}",
                description=description,
                target_date=profile.treatment_start + timedelta(weeks=16),
                progress=min(100, weeks * rng.randint(3, 7)),
                status=GoalStatus.IN_PROGRESS if weeks >= 2 else GoalStatus.NOT_STARTED,
            )
            for number, description in enumerate(
                rng.sample(GOALS, rng.randint(2, 3)), start=1
            )
        ]
        yield [
            TreatmentPlan(
                id=world.id("plan", index),
                patient_id=profile.patient_id,
                therapist_id=profile.provider_id,
                plan_name=profile.diagnosis.plan_name,
                primary_diagnosis=profile.diagnosis.name,
                primary_diagnosis_code=profile.diagnosis.code,
                treatment_goals=goals,
                interventions=rng.sample(INTERVENTIONS, 3),
                estimated_duration_weeks=rng.choice((12, 16, 20)),
                phase=_phase(profile, world),
                created_at=world.at(profile.treatment_start + timedelta(days=7), 11),
            )
        ]


def therapy_sessions(world: FixtureWorld) -> Iterator[list[TherapySession]]:
    """Weekly sessions from each patient's treatment start to yesterday: mostly
    attended (an intake first), some cancelled or missed; risk is assessed as
    none, low or moderate (higher risk is seeded as crisis detections)."""
    for index in world.patient_indices():
        profile = world.profile(index)
        rng = world.random("therapy-sessions", index)
        sessions = []
        day = profile.treatment_start
        week = 0
        while day is not None and day < world.as_of:
            sessions.append(_session(world, profile, rng.random(), week, day, rng))
            week += 1
            day += timedelta(days=7)
        yield sessions


def _session(
    world: FixtureWorld,
    profile: PatientProfile,
    roll: float,
    week: int,
    day: date,
    rng: random.Random,
) -> TherapySession:
    common = {
        "id": world.id("session", f"{profile.index}:{week}"),
        "relationship_id": world.id("relationship", profile.index),
        "patient_id": profile.patient_id,
        "therapist_id": profile.provider_id,
        "session_date": day,
        "created_at": world.at(day, 17),
    }
    if week > 0 and roll < 0.07:
        return TherapySession(
            **common, session_type=SessionType.INDIVIDUAL, status=SessionStatus.NO_SHOW
        )
    if week > 0 and roll < 0.12:
        return TherapySession(
            **common,
            session_type=SessionType.INDIVIDUAL,
            status=SessionStatus.CANCELLED,
        )
    progress = min(1.0, week / 12)
    start = round(profile.baseline + profile.improvement * progress + rng.gauss(0, 1))
    start = max(1, min(9, start))
    return TherapySession(
        **common,
        session_type=SessionType.INTAKE if week == 0 else SessionType.INDIVIDUAL,
        duration_minutes=60 if week == 0 else 50,
        session_notes=rng.choice(SESSION_NOTES),
        interventions_used=rng.sample(INTERVENTIONS, 2),
        patient_mood_start=start,
        patient_mood_end=min(10, start + rng.choice((0, 1, 1, 2))),
        risk_assessment=rng.choices(
            (RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE), (5, 4, 1)
        )[0],
        homework_assigned=[
            HomeworkItem(
                item_id=f"hw_{week}_{number}",
                description=description,
                assigned_at=world.at(day, 17),
                due_date=day + timedelta(days=7),
            )
            for number, description in enumerate(
                rng.sample(HOMEWORK, rng.randint(1, 2)), start=1
            )
        ],
    )
