"""Crisis detections and the alerts they send.

A ``CrisisDetection`` records one crisis episode found for a patient (in a journal
entry, a mood entry, a session's risk assessment...) and follows it through its
lifecycle: open, acknowledged by a clinician, escalated, then resolved or found a
false positive. Repeats of the same episode are folded into it (duplicate
suppression). Each new detection, each severity increase and each escalation
writes a ``CrisisNotification`` to the outbox, from which senders deliver alerts
at least once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType
from wellness_repo.models.base import EmbeddedModel, WellnessDocument
from wellness_repo.models.clinical_fields import ClinicalNote, PersonId
from wellness_repo.models.types import Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "ACTIVE_DETECTION_STATUSES",
    "CRISIS_MODELS",
    "DETECTION_TRANSITIONS",
    "RESPONSE_TARGETS",
    "CrisisDetection",
    "CrisisNotification",
    "DetectionSource",
    "DetectionStatus",
    "Escalation",
    "NotificationKind",
    "NotificationStatus",
    "ResponseTargets",
    "episode_key",
    "response_due_at",
    "severity_rank",
]


class DetectionSource(StrEnum):
    """Where a crisis was found."""

    JOURNAL_ENTRY = "journal_entry"
    MOOD_ENTRY = "mood_entry"
    CONVERSATION = "conversation"
    SESSION = "session"
    """A clinician rated the session's risk high or imminent."""
    ASSESSMENT = "assessment"
    """An instrument: PHQ-9 item 9, the C-SSRS screener."""
    MANUAL = "manual"
    """Flagged by a clinician or staff member by hand."""


class DetectionStatus(StrEnum):
    """Where a crisis detection stands in the response to it."""

    OPEN = "open"
    """Nobody has responded yet."""
    ACKNOWLEDGED = "acknowledged"
    """A clinician has taken it on."""
    ESCALATED = "escalated"
    """Handed up to a crisis team, an on-call psychiatrist or emergency services."""
    RESOLVED = "resolved"
    """The patient is safe for now and the response is closed."""
    FALSE_POSITIVE = "false_positive"
    """Reviewed and found not to be a crisis; closed."""


ACTIVE_DETECTION_STATUSES: tuple[DetectionStatus, ...] = (
    DetectionStatus.OPEN,
    DetectionStatus.ACKNOWLEDGED,
    DetectionStatus.ESCALATED,
)
"""Statuses in which a crisis still needs someone to act."""

DETECTION_TRANSITIONS: Mapping[DetectionStatus, frozenset[DetectionStatus]] = (
    MappingProxyType(
        {
            # Escalating or closing an open detection acknowledges it at once.
            DetectionStatus.OPEN: frozenset(
                {
                    DetectionStatus.ACKNOWLEDGED,
                    DetectionStatus.ESCALATED,
                    DetectionStatus.RESOLVED,
                    DetectionStatus.FALSE_POSITIVE,
                }
            ),
            DetectionStatus.ACKNOWLEDGED: frozenset(
                {
                    DetectionStatus.ESCALATED,
                    DetectionStatus.RESOLVED,
                    DetectionStatus.FALSE_POSITIVE,
                }
            ),
            # A further escalation raises the level (on-call, then emergency).
            DetectionStatus.ESCALATED: frozenset(
                {
                    DetectionStatus.ESCALATED,
                    DetectionStatus.RESOLVED,
                    DetectionStatus.FALSE_POSITIVE,
                }
            ),
            DetectionStatus.RESOLVED: frozenset(),
            DetectionStatus.FALSE_POSITIVE: frozenset(),
        }
    )
)
"""The statuses each status may move to; closed detections move nowhere."""


@dataclass(frozen=True, slots=True)
class ResponseTargets:
    """How soon after detection a crisis of one severity must reach each step.

    Attributes:
        acknowledge: a clinician has taken it on.
        act: it has been escalated or closed.
        resolve: it is closed (resolved or found a false positive).
    """

    acknowledge: timedelta
    act: timedelta
    resolve: timedelta


RESPONSE_TARGETS: Mapping[CrisisSeverity, ResponseTargets] = MappingProxyType(
    {
        # The platform's service levels, all counted from detection. They are an
        # operational commitment set with clinical governance, not a clinical
        # standard: imminent risk is a 5-minute page, high risk a 15-minute one,
        # and lower severities fit within a working shift or day.
        CrisisSeverity.IMMINENT: ResponseTargets(
            acknowledge=timedelta(minutes=5),
            act=timedelta(minutes=15),
            resolve=timedelta(hours=4),
        ),
        CrisisSeverity.HIGH: ResponseTargets(
            acknowledge=timedelta(minutes=15),
            act=timedelta(hours=1),
            resolve=timedelta(hours=24),
        ),
        CrisisSeverity.MODERATE: ResponseTargets(
            acknowledge=timedelta(hours=1),
            act=timedelta(hours=8),
            resolve=timedelta(hours=72),
        ),
        CrisisSeverity.LOW: ResponseTargets(
            acknowledge=timedelta(hours=24),
            act=timedelta(hours=72),
            resolve=timedelta(days=14),
        ),
    }
)
"""The response-time target per severity (see :class:`ResponseTargets`)."""


def severity_rank(severity: CrisisSeverity) -> int:
    """Position on the severity scale: 0 for low up to 3 for imminent."""
    return list(CrisisSeverity).index(severity)


def response_due_at(
    status: DetectionStatus, severity: CrisisSeverity, detected_at: datetime
) -> datetime | None:
    """When a detection in ``status`` must reach its next step; ``None`` once it
    is closed. Open: acknowledged; acknowledged: escalated or closed; escalated:
    closed."""
    targets = RESPONSE_TARGETS[severity]
    step = {
        DetectionStatus.OPEN: targets.acknowledge,
        DetectionStatus.ACKNOWLEDGED: targets.act,
        DetectionStatus.ESCALATED: targets.resolve,
    }.get(status)
    return None if step is None else detected_at + step


def episode_key(source: DetectionSource, crisis_type: CrisisType) -> str:
    """What makes two detections of one patient the same episode: the same
    source and the same kind of crisis."""
    return f"{source.value}:{crisis_type.value}"


Keyword = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
EscalationReason = Annotated[
    str,
    Encrypted(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
]
ErrorCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
"""A sender's machine-readable failure code (``smtp_421``, ``sms_rate_limited``):
never free text, which could echo a message's content."""


class Escalation(EmbeddedModel):
    """One escalation of a crisis: to whom, at what level, why, and who else was
    notified."""

    level: int = Field(ge=1, le=10)
    escalated_to: PersonId
    """The team, service or clinician now responsible (``crisis_team``)."""
    escalation_reason: EscalationReason
    notified: list[PersonId] = Field(default_factory=list, max_length=50)
    escalated_at: UtcDatetime
    escalated_by: PersonId


class CrisisDetection(WellnessDocument):
    """A crisis episode detected for a patient, and the response to it.

    ``severity_rank``, ``response_due_at`` and ``requires_immediate_attention``
    (always true at high or imminent severity) are derived on validation.
    ``open_episode_key`` is set by the repository while the episode is open to
    repeats; a unique index on it keeps one such detection per patient and key.
    """

    ID_NAME: ClassVar[str] = "detection_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL_WORKFLOW)

    patient_id: PersonId
    detection_source: DetectionSource
    source_id: PersonId | None = None
    """The record the crisis was found in (the journal entry), if any."""
    related_source_ids: list[PersonId] = Field(default_factory=list, max_length=100)
    """Further records the same episode was found in (folded repeats)."""
    crisis_type: CrisisType
    severity_level: CrisisSeverity
    severity_rank: int = 0
    detected_keywords: Annotated[list[Keyword], Encrypted(), Field(max_length=100)] = (
        Field(default_factory=list)
    )
    """The patient's words that matched: PHI, stored encrypted, never logged."""
    confidence_score: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    requires_immediate_attention: bool = False
    status: DetectionStatus = DetectionStatus.OPEN
    detected_at: UtcDatetime = Field(default_factory=utc_now)
    last_seen_at: UtcDatetime | None = None
    occurrence_count: int = Field(default=1, ge=1)
    acknowledged_at: UtcDatetime | None = None
    acknowledged_by: PersonId | None = None
    escalated_at: UtcDatetime | None = None
    """When the detection was first escalated."""
    escalations: list[Escalation] = Field(default_factory=list, max_length=20)
    resolved_at: UtcDatetime | None = None
    """When the detection was closed, resolved or as a false positive."""
    resolved_by: PersonId | None = None
    resolution: ClinicalNote = None
    response_due_at: UtcDatetime | None = None
    open_episode_key: str | None = None

    class Settings:
        name = "crisis_detections"

    @property
    def detection_id(self) -> str:
        """The platform's name for this detection's id."""
        return self.id

    @property
    def is_active(self) -> bool:
        """Whether someone still has to act on this crisis."""
        return self.status in ACTIVE_DETECTION_STATUSES

    @model_validator(mode="after")
    def _lifecycle_and_derived_fields(self) -> CrisisDetection:
        _check_lifecycle(self)
        # Past validate_assignment on purpose: these are derived, never given.
        values = self.__dict__
        values["severity_rank"] = severity_rank(self.severity_level)
        values["requires_immediate_attention"] = (
            self.requires_immediate_attention
            or self.severity_level in (CrisisSeverity.HIGH, CrisisSeverity.IMMINENT)
        )
        values["last_seen_at"] = self.last_seen_at or self.detected_at
        values["response_due_at"] = response_due_at(
            self.status, self.severity_level, self.detected_at
        )
        return self


def _check_lifecycle(detection: CrisisDetection) -> None:
    status = detection.status
    is_closed = status not in ACTIVE_DETECTION_STATUSES
    _both_or_neither(
        status is not DetectionStatus.OPEN,
        (detection.acknowledged_at, detection.acknowledged_by),
        "a detection is acknowledged (time and clinician) exactly when it is "
        "no longer open",
    )
    _both_or_neither(
        is_closed,
        (detection.resolved_at, detection.resolved_by),
        "a detection has a closing time and clinician exactly when it is closed",
    )
    if status is DetectionStatus.ESCALATED and not detection.escalations:
        raise PydanticCustomError(
            "lifecycle_fields", "an escalated detection lists its escalations"
        )
    if bool(detection.escalations) != (detection.escalated_at is not None):
        raise PydanticCustomError(
            "lifecycle_fields",
            "escalated_at is the time of the first escalation, set exactly when "
            "there is one",
        )
    steps = [
        detection.detected_at,
        detection.acknowledged_at,
        detection.escalated_at,
        detection.resolved_at,
    ]
    reached = [step for step in steps if step is not None]
    if reached != sorted(reached):
        raise PydanticCustomError(
            "lifecycle_order",
            "detection, acknowledgment, escalation and closing happen in that order",
        )
    key = detection.open_episode_key
    expected = episode_key(detection.detection_source, detection.crisis_type)
    if key is not None and (is_closed or key != expected):
        raise PydanticCustomError(
            "open_episode_key",
            "only an active detection holds its episode key, and only its own",
        )


class NotificationKind(StrEnum):
    """Why a crisis alert is sent."""

    NEW_DETECTION = "new_detection"
    SEVERITY_RAISED = "severity_raised"
    ESCALATION = "escalation"


class NotificationStatus(StrEnum):
    """Where an alert stands in the outbox: pending, claimed by one sender under
    a lease, then sent. A failed send returns it to pending; nothing is dropped."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"


class CrisisNotification(WellnessDocument):
    """One crisis alert waiting in the outbox for a sender, or sent.

    It names the detection, the kind of crisis and its severity, never the
    patient's words. ``available_at`` is when it may next be claimed: the next
    retry for a pending alert, the end of the lease for a claimed one (a sender
    that crashed loses its claim then).
    """

    ID_NAME: ClassVar[str] = "notification_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL_WORKFLOW)

    patient_id: PersonId
    detection_id: PersonId
    kind: NotificationKind
    crisis_type: CrisisType
    severity_level: CrisisSeverity
    urgency: int = 0
    requires_immediate_attention: bool = False
    escalation_level: int | None = Field(default=None, ge=1, le=10)
    recipients: list[PersonId] = Field(default_factory=list, max_length=51)
    """Who must be told: for an escalation, whom it went to and who else was
    notified; empty means the patient's care team and the on-call rota."""
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = Field(default=0, ge=0)
    """How many times a sender has claimed it."""
    available_at: UtcDatetime = Field(default_factory=utc_now)
    claimed_by: PersonId | None = None
    claimed_at: UtcDatetime | None = None
    sent_at: UtcDatetime | None = None
    last_error_code: ErrorCode | None = None

    class Settings:
        name = "notification_outbox"

    @property
    def notification_id(self) -> str:
        """The platform's name for this alert's id."""
        return self.id

    @model_validator(mode="after")
    def _consistent_delivery_state(self) -> CrisisNotification:
        claim = (self.claimed_by, self.claimed_at)
        if self.status is NotificationStatus.CLAIMED and None in claim:
            raise PydanticCustomError(
                "delivery_fields", "a claimed alert names its sender and claim time"
            )
        if self.status is NotificationStatus.PENDING and claim != (None, None):
            raise PydanticCustomError(
                "delivery_fields", "a pending alert is claimed by nobody"
            )
        if (self.status is NotificationStatus.SENT) != (self.sent_at is not None):
            raise PydanticCustomError(
                "delivery_fields", "an alert has a sending time exactly when sent"
            )
        self.__dict__["urgency"] = severity_rank(self.severity_level)
        return self


def _both_or_neither(
    required: bool, values: tuple[object | None, object | None], message: str
) -> None:
    present = [value is not None for value in values]
    if present != [required, required]:
        raise PydanticCustomError("lifecycle_fields", message)


CRISIS_MODELS: tuple[type[WellnessDocument], ...] = (
    CrisisDetection,
    CrisisNotification,
)
