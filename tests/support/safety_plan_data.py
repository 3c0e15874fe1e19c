"""Safety plans for the safety plan tests, built the way the platform's own
example builds one: a Stanley-Brown plan written with a patient after a crisis."""

from __future__ import annotations

from typing import Any

from wellness_repo.models.safety_plans import PatientAcknowledgment, SafetyPlan
from wellness_repo.models.types import utc_now

PATIENT = "patient_123"
THERAPIST = "therapist_456"
SISTER_PHONE = "(555) 123-4567"
SIGNATURE_NAME = "Jordan Avery"


def seed_plan(**changes: Any) -> SafetyPlan:
    """The platform's example safety plan."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "created_by_provider_id": THERAPIST,
        "warning_signs": ["Feeling hopeless", "Social isolation"],
        "coping_strategies": ["Deep breathing", "Call friend"],
        "social_contacts": [{"name": "Sister", "phone": SISTER_PHONE}],
        "professional_contacts": [{"name": "Crisis Hotline", "phone": "988"}],
        "environmental_safety": ["Remove harmful objects"],
        "reasons_to_live": ["Family", "Future goals"],
    }
    values.update(changes)
    return SafetyPlan(**values)


def full_plan(**changes: Any) -> SafetyPlan:
    """A complete plan: every step of the Stanley-Brown form filled in."""
    values: dict[str, Any] = {
        "warning_signs": [
            "Lying awake past 3am replaying the argument with my manager",
            "Cancelling plans with my sister two weekends running",
        ],
        "coping_strategies": [
            "Box breathing for five minutes with the app",
            "Walk the dog round the reservoir",
        ],
        "social_contacts": [
            {
                "name": "Sister",
                "relationship": "sister",
                "phone": SISTER_PHONE,
                "availability": "evenings and weekends",
                "methods": ["call", "text"],
            }
        ],
        "distraction_places": ["The climbing gym on Fifth Street", "Grandma's house"],
        "help_contacts": [
            {
                "name": "Sam from the running club",
                "relationship": "friend",
                "phone": "+1 555 987 6543",
                "availability": "after 6pm",
            }
        ],
        "professional_contacts": [
            {
                "name": "Dr. Rivera (therapist)",
                "relationship": "therapist",
                "phone": "555-201-7788",
                "availability": "weekdays 9 to 5",
            },
            {"name": "Crisis Text Line", "phone": "741741", "methods": ["text"]},
        ],
        "environmental_safety": [
            "Pharmacy blister packs kept by my sister, a week at a time",
            "Car keys with my partner on bad nights",
        ],
        "reasons_to_live": ["My niece's graduation in June", "The dog needs me"],
    }
    values.update(changes)
    return seed_plan(**values)


def signed_plan() -> SafetyPlan:
    """A complete plan the patient has signed, so every encrypted field (the
    signature too) is filled."""
    return full_plan(
        patient_acknowledgment=PatientAcknowledgment(
            version=1,
            acknowledged_at=utc_now(),
            signature_name=SIGNATURE_NAME,
            recorded_by=PATIENT,
        )
    )


def unchecked_plan(**changes: Any) -> SafetyPlan:
    """A plan built without validation, as a buggy caller could build one."""
    values = dict(seed_plan())
    values.update(changes)
    plan: SafetyPlan = SafetyPlan.model_construct(**values)
    return plan
