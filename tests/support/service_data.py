"""People and writing for the example service's tests: a patient and her
sign-in details, a second patient, a clinic administrator, and the check-ins and
journal entries the patient's app sends."""

from __future__ import annotations

from typing import Any

SERVICE_PATIENT_USERNAME = "maya.okafor"
SERVICE_PATIENT_EMAIL = "maya.okafor@example.org"
SERVICE_PATIENT_PASSWORD = "lantern-by-the-north-window"
OTHER_PATIENT_USERNAME = "theo.lindqvist"
OTHER_PATIENT_EMAIL = "theo.lindqvist@example.org"
OTHER_PATIENT_PASSWORD = "copper-kettle-on-sunday"
ADMIN_USERNAME = "clinic.admin"
ADMIN_EMAIL = "front.desk@cedarclinic.example"
ADMIN_PASSWORD = "ledger-and-lamplight-2026"

MOOD_NOTE = "Slept badly but the walk with my sister helped a lot"
CALM_JOURNAL_CONTENT = (
    "Went to the group session tonight and talked about the move. I felt heard."
)
CRISIS_JOURNAL_CONTENT = (
    "Nothing is getting better. I want to kill myself and I keep thinking about it."
)
THOUGHT_SITUATION = "My manager asked to see me at the end of the day"
THOUGHT_AUTOMATIC = "I am going to be let go and everyone will know"
THOUGHT_BALANCED = "One meeting does not mean I am failing at this job"


def mood_check_in(rating: int, **changes: Any) -> dict[str, Any]:
    """A mood check-in as the patient's app posts it."""
    body: dict[str, Any] = {
        "mood_rating": rating,
        "contributing_factors": ["Exercise"],
        "tags": ["sleep"],
    }
    body.update(changes)
    return body


def thought_record_entry() -> dict[str, Any]:
    """A CBT thought-record entry as the app posts it."""
    return {
        "title": "Thought challenging after the meeting",
        "content": "I practised questioning the first thought that came up.",
        "journal_type": "therapeutic",
        "cbt_technique": "thought_record",
        "thought_record": {
            "situation": THOUGHT_SITUATION,
            "automatic_thought": THOUGHT_AUTOMATIC,
            "emotion": "anxiety",
            "emotion_intensity": 80,
            "balanced_thought": THOUGHT_BALANCED,
            "rerated_intensity": 35,
        },
        "mood_before": 4,
        "mood_after": 6,
        "tags": ["anxiety", "work"],
    }


THERAPIST_PROVIDER_ID = "provider_cbt_0042"
THERAPIST_USERNAME = "dr.amara.nwosu"
THERAPIST_EMAIL = "amara.nwosu@cedarclinic.example"
THERAPIST_PASSWORD = "tidepool-notes-after-clinic"
SESSION_AGENDA = ["Review the sleep diary", "Plan the first exposure step"]


def therapist_provider() -> dict[str, Any]:
    """The provider record of the clinic's CBT therapist, as the directory holds
    it."""
    return {
        "id": THERAPIST_PROVIDER_ID,
        "first_name": "Amara",
        "last_name": "Nwosu",
        "provider_type": "therapist",
        "license_number": "LP-558120",
        "license_state": "NY",
        "license_expires_on": "2028-04-30",
        "specialty": "Anxiety and insomnia",
        "accepting_new_patients": True,
        "network_status": "in_network",
    }
