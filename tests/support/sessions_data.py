"""Therapy sessions for the session tests: a course of CBT for depression, built
the way the platform's own example builds one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from wellness_repo.models.sessions import TherapySession

RELATIONSHIP = "relationship_cbt_0042"
PATIENT = "patient_123"
THERAPIST = "therapist_456"
FIRST_SESSION_DAY = date(2025, 3, 3)


def seed_session(**changes: Any) -> TherapySession:
    """The platform's example session: a low-risk individual CBT session."""
    values: dict[str, Any] = {
        "relationship_id": RELATIONSHIP,
        "patient_id": PATIENT,
        "therapist_id": THERAPIST,
        "session_date": FIRST_SESSION_DAY,
        "session_type": "individual",
        "duration_minutes": 50,
        "session_notes": "Patient showed significant progress in thought challenging",
        "interventions_used": ["Cognitive restructuring", "Homework review"],
        "patient_mood_start": 4,
        "patient_mood_end": 7,
        "risk_assessment": "low",
        "homework_assigned": ["Daily thought record", "Mood tracking"],
    }
    values.update(changes)
    return TherapySession(**values)


def unchecked_session(**changes: Any) -> TherapySession:
    """A session built without validation, as a buggy caller could build one."""
    values = dict(seed_session())
    values.update(changes)
    session: TherapySession = TherapySession.model_construct(**values)
    return session


def missed_session(week: int, **changes: Any) -> TherapySession:
    """A session in week ``week`` of the course that the patient did not attend."""
    values: dict[str, Any] = {
        "relationship_id": RELATIONSHIP,
        "patient_id": PATIENT,
        "therapist_id": THERAPIST,
        "session_date": FIRST_SESSION_DAY + timedelta(weeks=week),
        "session_type": "individual",
        "status": "no_show",
    }
    values.update(changes)
    return TherapySession(**values)
