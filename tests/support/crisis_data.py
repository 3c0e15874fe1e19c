"""Crisis detections for the crisis tests: what the detector reports for a
patient's journal, built the way the platform's own example builds one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wellness_repo.analysis.crisis_language import (
    CrisisAssessment,
    CrisisSeverity,
    CrisisType,
)
from wellness_repo.models.crisis import CrisisDetection, DetectionStatus, Escalation
from wellness_repo.models.types import utc_now

PATIENT = "patient_123"
OTHER_PATIENT = "patient_789"
THERAPIST = "therapist_456"
PSYCHIATRIST = "psychiatrist_789"
ON_CALL = "oncall_psychiatrist_01"
CRISIS_TEAM = "crisis_team"
JOURNAL_ENTRY = "journal_entry_0001"
LATER_ENTRY = "journal_entry_0002"

ESCALATION_REASON = "High-risk suicidal ideation detected in this morning's journal"
RESOLUTION_NOTE = "Reached by phone; safety plan reviewed, sister staying overnight"
FALSE_ALARM_NOTE = "Quoted a song lyric about the end of the world, not ideation"


def assessment(**changes: Any) -> CrisisAssessment:
    """What the detector reports for a journal entry voicing hopelessness and a
    wish to end it all."""
    values: dict[str, Any] = {
        "crisis_type": CrisisType.SUICIDAL_IDEATION,
        "severity": CrisisSeverity.HIGH,
        "confidence": 0.95,
        "matched_phrases": ("hopeless", "ending it all"),
        "requires_immediate_attention": True,
    }
    values.update(changes)
    return CrisisAssessment(**values)


def seed_detection(**changes: Any) -> CrisisDetection:
    """The platform's example detection: high-risk ideation in a journal entry."""
    values: dict[str, Any] = {
        "patient_id": PATIENT,
        "detection_source": "journal_entry",
        "source_id": JOURNAL_ENTRY,
        "crisis_type": "suicidal_ideation",
        "severity_level": "high",
        "detected_keywords": ["hopeless", "ending it all"],
        "confidence_score": 0.95,
        "requires_immediate_attention": True,
    }
    values.update(changes)
    return CrisisDetection(**values)


def unchecked_detection(**changes: Any) -> CrisisDetection:
    """A detection built without validation, as a buggy caller could build one."""
    values = dict(seed_detection())
    values.update(changes)
    detection: CrisisDetection = CrisisDetection.model_construct(**values)
    return detection


def detected_ago(age: timedelta, **changes: Any) -> CrisisDetection:
    """The example detection, first detected ``age`` ago."""
    return seed_detection(detected_at=utc_now() - age, **changes)


def closed_detection(detected_at: datetime | None = None) -> CrisisDetection:
    """A detection that went through the whole response: every encrypted field
    (keywords, an escalation's reason, the resolution) filled."""
    start = detected_at or utc_now() - timedelta(hours=3)
    return seed_detection(
        detected_at=start,
        status=DetectionStatus.RESOLVED,
        acknowledged_at=start + timedelta(minutes=4),
        acknowledged_by=THERAPIST,
        escalated_at=start + timedelta(minutes=9),
        escalations=[
            Escalation(
                level=1,
                escalated_to=CRISIS_TEAM,
                escalation_reason=ESCALATION_REASON,
                notified=[ON_CALL],
                escalated_at=start + timedelta(minutes=9),
                escalated_by=THERAPIST,
            )
        ],
        resolved_at=start + timedelta(hours=2),
        resolved_by=PSYCHIATRIST,
        resolution=RESOLUTION_NOTE,
    )
