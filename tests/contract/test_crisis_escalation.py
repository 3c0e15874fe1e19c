"""The crisis response lifecycle: every allowed and every refused step, the times
and clinicians each step records, escalation levels and who was notified, the
alert an escalation leaves in the outbox, and closing, on both backends."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import SYSTEM, drop_and_close
from tests.support.care_data import open_sealed_database, stored_document
from tests.support.crisis_data import (
    CRISIS_TEAM,
    ESCALATION_REASON,
    FALSE_ALARM_NOTE,
    ON_CALL,
    PATIENT,
    PSYCHIATRIST,
    RESOLUTION_NOTE,
    THERAPIST,
    assessment,
    detected_ago,
    seed_detection,
)
from tests.support.encryption import (
    is_ciphertext,
    open_encrypted_database,
    raw_document,
)
from wellness_repo import (
    DatabaseManager,
    NotFoundError,
    ValidationError,
    connect_sync,
    create_crisis_detection_repository,
)
from wellness_repo.analysis.crisis_language import CrisisSeverity
from wellness_repo.models.crisis import (
    DETECTION_TRANSITIONS,
    RESPONSE_TARGETS,
    CrisisDetection,
    DetectionStatus,
    NotificationKind,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.crisis import CrisisDetectionRepository

Act = Callable[[CrisisDetectionRepository, str], Awaitable[CrisisDetection]]

ACTS: dict[DetectionStatus, Act] = {
    DetectionStatus.ACKNOWLEDGED: lambda repo, ident: repo.acknowledge(
        ident, THERAPIST
    ),
    DetectionStatus.ESCALATED: lambda repo, ident: repo.escalate_crisis(
        ident, CRISIS_TEAM, ESCALATION_REASON
    ),
    DetectionStatus.RESOLVED: lambda repo, ident: repo.resolve(
        ident, PSYCHIATRIST, RESOLUTION_NOTE
    ),
    DetectionStatus.FALSE_POSITIVE: lambda repo, ident: repo.mark_false_positive(
        ident, THERAPIST, FALSE_ALARM_NOTE
    ),
}
ROUTES: dict[DetectionStatus, list[DetectionStatus]] = {
    DetectionStatus.OPEN: [],
    DetectionStatus.ACKNOWLEDGED: [DetectionStatus.ACKNOWLEDGED],
    DetectionStatus.ESCALATED: [DetectionStatus.ESCALATED],
    DetectionStatus.RESOLVED: [DetectionStatus.RESOLVED],
    DetectionStatus.FALSE_POSITIVE: [DetectionStatus.FALSE_POSITIVE],
}
ALLOWED = [
    (source, target)
    for source, targets in DETECTION_TRANSITIONS.items()
    for target in sorted(targets)
]
REFUSED = [
    (source, target)
    for source, target in itertools.product(DetectionStatus, ACTS)
    if target not in DETECTION_TRANSITIONS[source]
]


@pytest.fixture
def crises(db: DatabaseManager) -> CrisisDetectionRepository:
    return CrisisDetectionRepository(db)


async def detection_in(
    crises: CrisisDetectionRepository, status: DetectionStatus
) -> CrisisDetection:
    detection = await crises.create(seed_detection())
    for step in ROUTES[status]:
        detection = await ACTS[step](crises, detection.id)
    return detection


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=str)
async def test_lifecycle_allows_each_listed_step(
    crises: CrisisDetectionRepository,
    source: DetectionStatus,
    target: DetectionStatus,
) -> None:
    detection = await detection_in(crises, source)

    moved = await ACTS[target](crises, detection.id)

    assert moved.status is target
    assert (await crises.get(detection.id)).status is target


@pytest.mark.parametrize(("source", "target"), REFUSED, ids=str)
async def test_lifecycle_refuses_every_other_step_and_changes_nothing(
    crises: CrisisDetectionRepository,
    source: DetectionStatus,
    target: DetectionStatus,
) -> None:
    detection = await detection_in(crises, source)

    with pytest.raises(ValidationError) as refused:
        await ACTS[target](crises, detection.id)

    assert (refused.value.field, refused.value.rule) == ("status", "invalid_transition")
    assert await crises.get(detection.id) == detection


async def test_acknowledging_records_when_and_by_whom(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())
    before = utc_now()

    acknowledged = await crises.acknowledge(detection.id, THERAPIST)

    assert acknowledged.acknowledged_by == THERAPIST
    assert acknowledged.acknowledged_at is not None
    assert acknowledged.acknowledged_at >= before
    assert acknowledged.response_due_at == (
        detection.detected_at + RESPONSE_TARGETS[CrisisSeverity.HIGH].act
    )


async def test_seed_escalation_records_level_reason_time_and_escalator(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    escalated = await crises.escalate_crisis(
        detection_id=detection.detection_id,
        escalated_to="crisis_team",
        escalation_reason="High-risk suicidal ideation detected",
    )

    (step,) = escalated.escalations
    assert step.level == 1
    assert step.escalated_to == "crisis_team"
    assert step.escalation_reason == "High-risk suicidal ideation detected"
    assert step.escalated_by == SYSTEM.actor_id
    assert escalated.escalated_at == step.escalated_at
    assert escalated.response_due_at == (
        detection.detected_at + RESPONSE_TARGETS[CrisisSeverity.HIGH].resolve
    )


async def test_escalating_an_open_crisis_acknowledges_it_at_the_same_time(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    escalated = await crises.escalate_crisis(
        detection.id, CRISIS_TEAM, ESCALATION_REASON, by=THERAPIST
    )

    assert escalated.acknowledged_by == THERAPIST
    assert escalated.acknowledged_at == escalated.escalated_at


async def test_escalating_an_acknowledged_crisis_keeps_its_acknowledgment(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())
    acknowledged = await crises.acknowledge(detection.id, THERAPIST)

    escalated = await crises.escalate_crisis(
        detection.id, CRISIS_TEAM, ESCALATION_REASON, by=PSYCHIATRIST
    )

    assert escalated.acknowledged_by == THERAPIST
    assert escalated.acknowledged_at == acknowledged.acknowledged_at


async def test_further_escalation_goes_one_level_up_and_keeps_the_first(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())
    first = await crises.escalate_crisis(detection.id, CRISIS_TEAM, ESCALATION_REASON)

    second = await crises.escalate_crisis(
        detection.id, ON_CALL, "No answer from the patient for 40 minutes"
    )

    assert [step.level for step in second.escalations] == [1, 2]
    assert [step.escalated_to for step in second.escalations] == [CRISIS_TEAM, ON_CALL]
    assert second.escalated_at == first.escalated_at


async def test_escalation_records_an_explicit_level_and_who_was_notified(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    escalated = await crises.escalate_crisis(
        detection.id,
        "emergency_services",
        "Patient disclosed a plan and the means at home",
        level=3,
        notified=[ON_CALL, THERAPIST, ON_CALL],
    )

    (step,) = escalated.escalations
    assert step.level == 3
    assert step.notified == [ON_CALL, THERAPIST]


async def test_escalation_leaves_an_alert_for_those_escalated_to_and_notified(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    await crises.escalate_crisis(
        detection.id, CRISIS_TEAM, ESCALATION_REASON, notified=[ON_CALL]
    )

    (alert,) = await crises.outbox.find_by(kind=NotificationKind.ESCALATION)
    assert alert.detection_id == detection.id
    assert alert.recipients == [CRISIS_TEAM, ON_CALL]
    assert alert.escalation_level == 1


async def test_escalation_reason_is_stored_encrypted_and_read_back(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_sealed_database(None if backend == "embedded" else mongodb_uri)
    try:
        crises = CrisisDetectionRepository(db)
        detection = await crises.create(seed_detection())
        await crises.escalate_crisis(detection.id, CRISIS_TEAM, ESCALATION_REASON)
        await crises.resolve(detection.id, PSYCHIATRIST, RESOLUTION_NOTE)

        raw = await stored_document(db, CrisisDetection, detection.id)
        read = await crises.get(detection.id)
    finally:
        await drop_and_close(db)

    assert ESCALATION_REASON not in str(raw)
    assert RESOLUTION_NOTE not in str(raw)
    assert read.escalations[0].escalation_reason == ESCALATION_REASON
    assert read.resolution == RESOLUTION_NOTE


async def test_every_step_encrypts_with_the_field_cipher_under_the_patients_key(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        crises = CrisisDetectionRepository(db)
        detection = await crises.record_detection(
            PATIENT, "journal_entry", None, assessment()
        )
        await crises.record_detection(
            PATIENT, "journal_entry", None, assessment(matched_phrases=("no way out",))
        )
        await crises.escalate_crisis(detection.id, CRISIS_TEAM, ESCALATION_REASON)
        await crises.resolve(detection.id, PSYCHIATRIST, RESOLUTION_NOTE)

        raw = await raw_document(db, CrisisDetection, detection.id)
        read = await crises.get(detection.id)
    finally:
        await drop_and_close(db)

    assert is_ciphertext(raw["detected_keywords"])
    assert is_ciphertext(raw["escalations"][0]["escalation_reason"])
    assert is_ciphertext(raw["resolution"])
    assert read.detected_keywords == ["hopeless", "ending it all", "no way out"]
    assert read.escalations[0].escalation_reason == ESCALATION_REASON
    assert read.resolution == RESOLUTION_NOTE


async def test_resolving_records_when_by_whom_and_how(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())
    await crises.acknowledge(detection.id, THERAPIST)

    resolved = await crises.resolve(detection.id, PSYCHIATRIST, RESOLUTION_NOTE)

    assert resolved.resolved_by == PSYCHIATRIST
    assert resolved.resolved_at is not None
    assert resolved.resolution == RESOLUTION_NOTE
    assert resolved.response_due_at is None
    assert not resolved.is_active


async def test_false_positive_is_closed_with_the_reviewers_reason(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    dismissed = await crises.mark_false_positive(
        detection.id, THERAPIST, FALSE_ALARM_NOTE
    )

    assert dismissed.status is DetectionStatus.FALSE_POSITIVE
    assert dismissed.acknowledged_by == THERAPIST
    assert dismissed.resolution == FALSE_ALARM_NOTE


async def test_repeat_after_closing_starts_a_new_detection(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())
    await crises.resolve(detection.id, PSYCHIATRIST, RESOLUTION_NOTE)

    repeat = await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    assert repeat.id != detection.id
    assert repeat.status is DetectionStatus.OPEN


async def test_older_open_episode_can_still_be_escalated_after_a_new_one_began(
    crises: CrisisDetectionRepository,
) -> None:
    older = await crises.create(detected_ago(timedelta(hours=3)))
    await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    escalated = await crises.escalate_crisis(older.id, CRISIS_TEAM, ESCALATION_REASON)

    assert escalated.status is DetectionStatus.ESCALATED


async def test_acting_on_an_unknown_detection_is_not_found(
    crises: CrisisDetectionRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await crises.acknowledge("detection_0404", THERAPIST)


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"escalation_reason": "   "}, "escalation_reason", "required"),
        ({"escalation_reason": None}, "escalation_reason", "required"),
        ({"escalated_to": "Dr. Jane Doe"}, "escalated_to", "format"),
        ({"level": 0}, "level", "range"),
        ({"level": 11}, "level", "range"),
        ({"level": "2"}, "level", "type"),
        ({"notified": ON_CALL}, "notified", "type"),
        ({"notified": [""]}, "notified", "required"),
        ({"by": "on call doctor"}, "by", "format"),
    ],
    ids=[
        "blank-reason",
        "no-reason",
        "name-not-id",
        "level-0",
        "level-11",
        "level-text",
        "notified-string",
        "notified-blank",
        "by-not-id",
    ],
)
async def test_bad_escalation_input_is_refused_and_nothing_changes(
    crises: CrisisDetectionRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    detection = await crises.create(seed_detection())
    call: dict[str, Any] = {
        "escalated_to": CRISIS_TEAM,
        "escalation_reason": ESCALATION_REASON,
        **arguments,
    }

    with pytest.raises(ValidationError) as refused:
        await crises.escalate_crisis(detection.id, **call)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert await crises.get(detection.id) == detection
    assert await crises.outbox.count(kind=NotificationKind.ESCALATION) == 0


async def test_blank_resolution_is_refused(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    with pytest.raises(ValidationError) as refused:
        await crises.resolve(detection.id, PSYCHIATRIST, "")

    assert (refused.value.field, refused.value.rule) == ("resolution", "required")
    assert (await crises.get(detection.id)).status is DetectionStatus.OPEN


def test_seed_example_runs_as_written_through_the_blocking_facade() -> None:
    with connect_sync(context=SYSTEM) as db:
        repo = create_crisis_detection_repository(db)
        crisis = CrisisDetection(
            patient_id="patient_123",
            detection_source="journal_entry",
            crisis_type="suicidal_ideation",
            severity_level="high",
            detected_keywords=["hopeless", "ending it all"],
            confidence_score=0.95,
            requires_immediate_attention=True,
        )
        detection = repo.create(crisis)

        escalation = repo.escalate_crisis(
            detection_id=detection.detection_id,
            escalated_to="crisis_team",
            escalation_reason="High-risk suicidal ideation detected",
        )

    assert escalation.status is DetectionStatus.ESCALATED
    assert escalation.escalations[0].escalated_to == "crisis_team"
