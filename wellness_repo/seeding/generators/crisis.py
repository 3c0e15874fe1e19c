"""Crises: the detections of past and recent crisis episodes, and the safety plan
each patient who went through one made with their clinician.

Detections older than a week are written closed (acknowledged, then resolved by
the clinician); closed detections raise no alert. A recent one is written
acknowledged, still active, so it raises its outbox alert as a live one would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from faker import Faker

from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType
from wellness_repo.models.crisis import (
    CrisisDetection,
    DetectionSource,
    DetectionStatus,
)
from wellness_repo.models.safety_plans import SafetyPlan
from wellness_repo.seeding.generators.phrases import (
    COPING_STRATEGIES,
    DISTRACTION_PLACES,
    ENVIRONMENTAL_SAFETY,
    REASONS_TO_LIVE,
    RESOLUTIONS,
    WARNING_SIGNS,
)
from wellness_repo.seeding.world import FixtureWorld

__all__ = ["crisis_detections", "safety_plans"]

_KINDS = (
    (CrisisType.HOPELESSNESS, CrisisSeverity.MODERATE, ("hopeless", "no point")),
    (CrisisType.WARNING_SIGNS, CrisisSeverity.MODERATE, ("giving things away",)),
    (CrisisType.SUICIDAL_IDEATION, CrisisSeverity.HIGH, ("want to disappear",)),
)
_RECENT = timedelta(days=7)


def crisis_detections(world: FixtureWorld) -> Iterator[list[CrisisDetection]]:
    """A detection for each patient whose course has a crisis episode."""
    for index in world.patient_indices():
        profile = world.profile(index)
        if profile.crisis_day is None:
            yield []
            continue
        rng = world.random("crisis-detections", index)
        crisis_type, severity, keywords = rng.choice(_KINDS)
        detected = world.at(profile.crisis_day, 21, rng.randint(0, 59))
        acknowledged = detected + timedelta(minutes=rng.randint(4, 40))
        values: dict[str, object] = {
            "id": world.id("crisis", index),
            "patient_id": profile.patient_id,
            "detection_source": rng.choice(
                (DetectionSource.JOURNAL_ENTRY, DetectionSource.MOOD_ENTRY)
            ),
            "crisis_type": crisis_type,
            "severity_level": severity,
            "detected_keywords": list(keywords),
            "confidence_score": round(rng.uniform(0.6, 0.95), 2),
            "detected_at": detected,
            "acknowledged_at": acknowledged,
            "acknowledged_by": profile.provider_id,
            "created_at": detected,
        }
        if world.as_of - profile.crisis_day > _RECENT:
            values.update(
                status=DetectionStatus.RESOLVED,
                resolved_at=acknowledged + timedelta(hours=rng.randint(3, 36)),
                resolved_by=profile.provider_id,
                resolution=rng.choice(RESOLUTIONS),
            )
        else:
            values["status"] = DetectionStatus.ACKNOWLEDGED
        yield [CrisisDetection.model_validate(values)]


def safety_plans(world: FixtureWorld) -> Iterator[list[SafetyPlan]]:
    """A Stanley-Brown safety plan for each patient who had a crisis episode,
    written with their clinician the day after."""
    for index in world.patient_indices():
        profile = world.profile(index)
        if profile.crisis_day is None:
            yield []
            continue
        rng = world.random("safety-plans", index)
        fake = world.faker("safety-plans", index)
        written = world.at(profile.crisis_day + timedelta(days=1), 15)
        yield [
            SafetyPlan(
                id=world.id("safetyplan", index),
                patient_id=profile.patient_id,
                created_by_provider_id=profile.provider_id,
                warning_signs=rng.sample(WARNING_SIGNS, 2),
                coping_strategies=rng.sample(COPING_STRATEGIES, 2),
                social_contacts=[_contact(fake, rng.choice(("sister", "friend")))],
                distraction_places=list(DISTRACTION_PLACES),
                professional_contacts=[
                    {"name": "Clinic on-call line", "phone": _phone(fake)},
                    {"name": "988 Suicide & Crisis Lifeline", "phone": "988"},
                ],
                environmental_safety=rng.sample(ENVIRONMENTAL_SAFETY, 1),
                reasons_to_live=rng.sample(REASONS_TO_LIVE, 2),
                version_started_at=written,
                created_at=written,
            )
        ]


def _contact(fake: Faker, relationship: str) -> dict[str, str]:
    return {
        "name": fake.first_name(),
        "relationship": relationship,
        "phone": _phone(fake),
    }


def _phone(fake: Faker) -> str:
    """A number in the 555-0100..0199 block, reserved for fiction."""
    return f"({fake.numerify('2#7')}) 555-01{fake.numerify('##')}"
