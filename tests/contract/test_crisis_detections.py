"""Crisis detections: recording what the detector found, duplicate suppression,
the alert every new detection (or higher severity) leaves in the outbox, the
overdue, board and history queries, response-time statistics against the pure
reference, and clinical signals from therapy sessions, on both backends."""

from __future__ import annotations

import math
import random
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import drop_and_close
from tests.support.care_data import open_sealed_database, stored_document
from tests.support.crisis_data import (
    JOURNAL_ENTRY,
    LATER_ENTRY,
    OTHER_PATIENT,
    PATIENT,
    PSYCHIATRIST,
    THERAPIST,
    assessment,
    closed_detection,
    detected_ago,
    seed_detection,
    unchecked_detection,
)
from tests.support.sessions_data import seed_session
from wellness_repo import DatabaseManager, ValidationError
from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType
from wellness_repo.analysis.response_times import (
    ResponseRecord,
    ResponseTimes,
    summarize_response_times,
)
from wellness_repo.models.care import CareTeam, CareTeamRole
from wellness_repo.models.crisis import (
    RESPONSE_TARGETS,
    CrisisDetection,
    CrisisNotification,
    DetectionSource,
    DetectionStatus,
    NotificationKind,
)
from wellness_repo.models.sessions import ClinicalSignal, SignalStatus
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.sessions import TherapySessionRepository

OUTSIDE_CLINICIAN = "therapist_999"


@pytest.fixture
def crises(db: DatabaseManager) -> CrisisDetectionRepository:
    return CrisisDetectionRepository(db)


async def stored(db: DatabaseManager, model: type[Any]) -> int:
    return int(await db.collection(model).count_documents({}))


async def alerts(crises: CrisisDetectionRepository) -> list[CrisisNotification]:
    return await crises.outbox.find_by()


# ------------------------------------------------------------------ recording


async def test_seed_example_is_stored_open_with_its_acknowledgment_target(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    assert detection.status is DetectionStatus.OPEN
    assert detection.detection_id == detection.id
    assert detection.response_due_at == detection.detected_at + timedelta(minutes=15)
    assert detection.occurrence_count == 1
    assert await crises.get(detection.id) == detection


async def test_new_detection_leaves_one_alert_in_the_outbox(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    (alert,) = await alerts(crises)
    assert alert.detection_id == detection.id
    assert alert.kind is NotificationKind.NEW_DETECTION
    assert alert.severity_level is CrisisSeverity.HIGH
    assert alert.requires_immediate_attention


async def test_recorded_detection_carries_the_detectors_assessment(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.record_detection(
        PATIENT, "journal_entry", JOURNAL_ENTRY, assessment(confidence=0.8)
    )

    assert detection.detection_source is DetectionSource.JOURNAL_ENTRY
    assert detection.source_id == JOURNAL_ENTRY
    assert detection.crisis_type is CrisisType.SUICIDAL_IDEATION
    assert detection.severity_level is CrisisSeverity.HIGH
    assert detection.confidence_score == 0.8
    assert detection.detected_keywords == ["hopeless", "ending it all"]


async def test_high_severity_always_requires_immediate_attention(
    crises: CrisisDetectionRepository,
) -> None:
    flagged = assessment(requires_immediate_attention=False)

    detection = await crises.record_detection(PATIENT, "mood_entry", None, flagged)

    assert detection.requires_immediate_attention


async def test_repeat_within_the_window_updates_the_open_detection(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    first = await crises.record_detection(
        PATIENT, "journal_entry", JOURNAL_ENTRY, assessment()
    )

    repeat = await crises.record_detection(
        PATIENT, "journal_entry", LATER_ENTRY, assessment()
    )

    assert repeat.id == first.id
    assert repeat.occurrence_count == 2
    assert repeat.last_seen_at is not None
    assert repeat.last_seen_at >= first.detected_at
    assert repeat.related_source_ids == [LATER_ENTRY]
    assert await stored(db, CrisisDetection) == 1


async def test_repeat_merges_matched_phrases_without_repeating_them(
    crises: CrisisDetectionRepository,
) -> None:
    await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    repeat = await crises.record_detection(
        PATIENT,
        "journal_entry",
        None,
        assessment(matched_phrases=("ending it all", "no way out")),
    )

    assert repeat.detected_keywords == ["hopeless", "ending it all", "no way out"]


async def test_repeat_at_a_higher_severity_raises_it_and_alerts_again(
    crises: CrisisDetectionRepository,
) -> None:
    first = await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    raised = await crises.record_detection(
        PATIENT, "journal_entry", None, assessment(severity=CrisisSeverity.IMMINENT)
    )

    assert raised.severity_level is CrisisSeverity.IMMINENT
    assert raised.response_due_at == first.detected_at + timedelta(minutes=5)
    kinds = sorted(alert.kind for alert in await alerts(crises))
    assert kinds == [NotificationKind.NEW_DETECTION, NotificationKind.SEVERITY_RAISED]


async def test_repeat_at_a_lower_severity_keeps_the_higher_one_without_alerting(
    crises: CrisisDetectionRepository,
) -> None:
    await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    repeat = await crises.record_detection(
        PATIENT, "journal_entry", None, assessment(severity=CrisisSeverity.LOW)
    )

    assert repeat.severity_level is CrisisSeverity.HIGH
    assert len(await alerts(crises)) == 1


async def test_repeat_after_the_window_starts_a_new_detection_and_alert(
    crises: CrisisDetectionRepository,
) -> None:
    earlier = await crises.create(detected_ago(timedelta(hours=2)))

    later = await crises.record_detection(
        PATIENT, "journal_entry", LATER_ENTRY, assessment()
    )

    assert later.id != earlier.id
    still_open = await crises.get(earlier.id)
    assert still_open.status is DetectionStatus.OPEN
    assert still_open.open_episode_key is None
    assert len(await alerts(crises)) == 2


async def test_duplicate_window_comes_from_settings(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    db.settings.crisis_duplicate_window_minutes = 180
    earlier = await crises.create(detected_ago(timedelta(hours=2)))

    later = await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    assert later.id == earlier.id


@pytest.mark.parametrize(
    ("patient", "source", "crisis_type"),
    [
        (OTHER_PATIENT, "journal_entry", CrisisType.SUICIDAL_IDEATION),
        (PATIENT, "mood_entry", CrisisType.SUICIDAL_IDEATION),
        (PATIENT, "journal_entry", CrisisType.SELF_HARM),
    ],
    ids=["other-patient", "other-source", "other-type"],
)
async def test_another_patient_source_or_crisis_type_is_a_separate_detection(
    crises: CrisisDetectionRepository,
    patient: str,
    source: str,
    crisis_type: CrisisType,
) -> None:
    first = await crises.record_detection(PATIENT, "journal_entry", None, assessment())

    other = await crises.record_detection(
        patient, source, None, assessment(crisis_type=crisis_type)
    )

    assert other.id != first.id
    assert other.occurrence_count == 1


async def test_created_repeat_of_an_open_episode_returns_the_open_detection(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    first = await crises.create(seed_detection())

    again = await crises.create(seed_detection(source_id=LATER_ENTRY))

    assert again.id == first.id
    assert again.occurrence_count == 2
    assert await stored(db, CrisisDetection) == 1


async def test_matched_phrases_are_stored_encrypted_and_read_back(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_sealed_database(None if backend == "embedded" else mongodb_uri)
    try:
        crises = CrisisDetectionRepository(db)
        detection = await crises.record_detection(
            PATIENT, "journal_entry", None, assessment()
        )
        await crises.record_detection(
            PATIENT,
            "journal_entry",
            None,
            assessment(matched_phrases=("no way out",)),
        )

        raw = await stored_document(db, CrisisDetection, detection.id)
        read = await crises.get(detection.id)
    finally:
        await drop_and_close(db)

    assert isinstance(raw["detected_keywords"], str)
    assert "hopeless" not in raw["detected_keywords"]
    assert read.detected_keywords == ["hopeless", "ending it all", "no way out"]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"assessment": assessment(confidence=1.2)}, "confidence_score", None),
        ({"assessment": assessment(confidence=-0.1)}, "confidence_score", None),
        ({"assessment": assessment(confidence=math.nan)}, "confidence_score", None),
        (
            {"assessment": assessment(crisis_type="existential_dread")},
            "crisis_type",
            "enum",
        ),
        ({"assessment": assessment(severity="critical")}, "severity_level", "enum"),
        ({"source": "instagram_post"}, "source", "enum"),
        ({"patient_id": "Jordan Avery"}, "patient_id", "format"),
        ({"source_id": {"$ne": None}}, "source_id", "required"),
        ({"assessment": {"crisis_type": "self_harm"}}, "assessment", "type"),
    ],
    ids=[
        "confidence-above-1",
        "confidence-below-0",
        "confidence-nan",
        "unknown-type",
        "unknown-severity",
        "unknown-source",
        "malformed-patient",
        "operator-source-id",
        "not-an-assessment",
    ],
)
async def test_bad_detection_input_is_refused_and_nothing_is_written(
    db: DatabaseManager,
    crises: CrisisDetectionRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    call: dict[str, Any] = {
        "patient_id": PATIENT,
        "source": "journal_entry",
        "source_id": JOURNAL_ENTRY,
        "assessment": assessment(),
        **arguments,
    }

    with pytest.raises(ValidationError) as refused:
        await crises.record_detection(**call)

    assert refused.value.field == field
    if rule is not None:
        assert refused.value.rule == rule
    assert await stored(db, CrisisDetection) == 0
    assert await stored(db, CrisisNotification) == 0


async def test_created_detection_with_confidence_outside_0_to_1_is_refused(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    with pytest.raises(ValidationError) as refused:
        await crises.create(unchecked_detection(confidence_score=1.5))

    assert refused.value.field == "confidence_score"
    assert refused.value.rule == "less_than_equal"
    assert await stored(db, CrisisDetection) == 0


async def test_detection_cannot_be_edited_wholesale(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    with pytest.raises(ValidationError) as refused:
        await crises.update(detection.model_copy(update={"status": "resolved"}))

    assert refused.value.rule == "managed_by_workflow"
    assert (await crises.get(detection.id)).status is DetectionStatus.OPEN


async def test_detection_is_never_deleted(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(seed_detection())

    with pytest.raises(ValidationError) as refused:
        await crises.delete(detection.id)

    assert refused.value.rule == "never_deleted"
    assert await crises.get(detection.id) == detection


# -------------------------------------------------------------------- queries


async def test_overdue_crises_are_those_past_their_target_most_overdue_first(
    crises: CrisisDetectionRepository,
) -> None:
    high = await crises.create(detected_ago(timedelta(minutes=20)))
    imminent = await crises.create(
        detected_ago(
            timedelta(minutes=8), severity_level="imminent", detection_source="manual"
        )
    )
    await crises.create(
        detected_ago(
            timedelta(minutes=30), severity_level="moderate", crisis_type="hopelessness"
        )
    )
    acknowledged = await crises.create(
        detected_ago(timedelta(minutes=50), detection_source="mood_entry")
    )
    await crises.acknowledge(acknowledged.id, THERAPIST)

    overdue = await crises.overdue_crises()

    assert [detection.id for detection in overdue] == [high.id, imminent.id]


async def test_acknowledged_crisis_is_overdue_once_past_its_action_target(
    crises: CrisisDetectionRepository,
) -> None:
    detection = await crises.create(detected_ago(timedelta(minutes=50)))
    await crises.acknowledge(detection.id, THERAPIST)
    action_due = detection.detected_at + RESPONSE_TARGETS[CrisisSeverity.HIGH].act

    overdue = await crises.overdue_crises(now=action_due + timedelta(seconds=1))

    assert [found.id for found in overdue] == [detection.id]
    assert await crises.overdue_crises(now=action_due) == []


async def test_closed_crises_are_never_overdue(
    crises: CrisisDetectionRepository,
) -> None:
    await crises.create(closed_detection())

    assert await crises.overdue_crises(now=utc_now() + timedelta(days=30)) == []


async def test_crisis_board_lists_active_crises_most_severe_then_longest_waiting(
    crises: CrisisDetectionRepository,
) -> None:
    older_high = await crises.create(detected_ago(timedelta(minutes=9)))
    newer_high = await crises.create(
        detected_ago(timedelta(minutes=2), patient_id=OTHER_PATIENT)
    )
    imminent = await crises.create(
        detected_ago(
            timedelta(minutes=1), severity_level="imminent", detection_source="manual"
        )
    )
    await crises.create(closed_detection())

    board = await crises.active_crises()

    assert [found.id for found in board] == [imminent.id, older_high.id, newer_high.id]


async def test_patient_history_lists_their_detections_newest_first(
    crises: CrisisDetectionRepository,
) -> None:
    oldest = await crises.create(closed_detection(utc_now() - timedelta(days=40)))
    newest = await crises.create(seed_detection())
    await crises.create(seed_detection(patient_id=OTHER_PATIENT))

    history = await crises.detections_for_patient(PATIENT)

    assert [found.id for found in history] == [newest.id, oldest.id]


# ------------------------------------------------------------ response times


def timed_detection(rng: random.Random, patient: int) -> CrisisDetection:
    """A closed or still-running response with random but ordered step times."""
    severity = rng.choice(list(CrisisSeverity))
    start = utc_now() - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
    acknowledged = start + timedelta(seconds=rng.randint(30, 7_200))
    values: dict[str, Any] = {
        "patient_id": f"patient_{patient:03d}",
        "severity_level": severity,
        "detected_at": start,
        "status": DetectionStatus.ACKNOWLEDGED,
        "acknowledged_at": acknowledged,
        "acknowledged_by": rng.choice([THERAPIST, PSYCHIATRIST, OUTSIDE_CLINICIAN]),
    }
    if rng.random() < 0.6:
        escalated = acknowledged + timedelta(seconds=rng.randint(0, 5_400))
        values["status"] = DetectionStatus.ESCALATED
        values["escalated_at"] = escalated
        values["escalations"] = [
            {
                "level": 1,
                "escalated_to": "crisis_team",
                "escalation_reason": "Risk rising; needs the crisis team",
                "escalated_at": escalated,
                "escalated_by": values["acknowledged_by"],
            }
        ]
    if rng.random() < 0.7:
        last = values.get("escalated_at", acknowledged)
        values["status"] = rng.choice(
            [DetectionStatus.RESOLVED, DetectionStatus.FALSE_POSITIVE]
        )
        values["resolved_at"] = last + timedelta(seconds=rng.randint(60, 90_000))
        values["resolved_by"] = values["acknowledged_by"]
    return seed_detection(**values)


def approximately(times: ResponseTimes) -> dict[str, Any]:
    """``times`` as nested dicts, seconds compared to within float rounding."""
    return {
        step: {
            name: pytest.approx(value) if isinstance(value, float) else value
            for name, value in summary.items()
        }
        for step, summary in asdict(times).items()
    }


def reference_record(detection: CrisisDetection) -> ResponseRecord:
    targets = RESPONSE_TARGETS[detection.severity_level]
    return ResponseRecord(
        detected_at=detection.detected_at,
        acknowledged_by=detection.acknowledged_by,
        acknowledged_at=detection.acknowledged_at,
        escalated_at=detection.escalated_at,
        closed_at=detection.resolved_at,
        targets=(targets.acknowledge, targets.act, targets.resolve),
    )


async def test_response_time_statistics_agree_with_the_pure_reference(
    crises: CrisisDetectionRepository,
) -> None:
    rng = random.Random(20_260_505)
    stored_detections = [
        await crises.create(timed_detection(rng, patient)) for patient in range(60)
    ]
    team = [THERAPIST, PSYCHIATRIST]
    since = utc_now() - timedelta(days=30)

    statistics = await crises.response_time_statistics(provider_ids=team, since=since)

    expected = summarize_response_times(
        reference_record(detection)
        for detection in stored_detections
        if detection.acknowledged_by in team
    )
    assert statistics.detections == expected.detections
    assert asdict(statistics.overall) == approximately(expected.overall)
    assert statistics.by_provider.keys() == expected.by_provider.keys()
    for provider, times in expected.by_provider.items():
        assert asdict(statistics.by_provider[provider]) == approximately(times)


async def test_response_time_statistics_of_a_care_team_cover_its_members(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    teams = CareTeamRepository(db)
    team = await teams.create(
        CareTeam(patient_id=PATIENT, primary_provider_id=THERAPIST)
    )
    await teams.add_team_member(team.id, PSYCHIATRIST, CareTeamRole.PSYCHIATRIST)
    for clinician, patient in [
        (THERAPIST, "patient_001"),
        (PSYCHIATRIST, "patient_002"),
        (OUTSIDE_CLINICIAN, "patient_003"),
    ]:
        detection = await crises.create(
            detected_ago(timedelta(minutes=30), patient_id=patient)
        )
        await crises.acknowledge(detection.id, clinician)

    statistics = await crises.response_time_statistics(
        team_id=team.id, since=utc_now() - timedelta(days=1)
    )

    assert statistics.detections == 2
    assert set(statistics.by_provider) == {THERAPIST, PSYCHIATRIST}
    assert statistics.overall.acknowledge.within_target == 0


async def test_response_time_statistics_of_a_quiet_period_are_empty(
    crises: CrisisDetectionRepository,
) -> None:
    statistics = await crises.response_time_statistics(
        provider_ids=[THERAPIST], since=utc_now() - timedelta(days=1)
    )

    assert statistics.detections == 0
    assert statistics.overall.acknowledge.count == 0
    assert statistics.overall.acknowledge.median_seconds is None
    assert statistics.by_provider == {}


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"team_id": "team_1", "provider_ids": [THERAPIST]}, "team_id", "exactly_one"),
        ({}, "team_id", "exactly_one"),
        ({"provider_ids": []}, "provider_ids", "required"),
        ({"provider_ids": THERAPIST}, "provider_ids", "type"),
        (
            {"provider_ids": [THERAPIST], "until": utc_now() - timedelta(days=9)},
            "until",
            "date_order",
        ),
    ],
    ids=["both", "neither", "no-providers", "a-string", "until-before-since"],
)
async def test_response_time_statistics_refuse_bad_arguments(
    crises: CrisisDetectionRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await crises.response_time_statistics(
            since=utc_now() - timedelta(days=7), **arguments
        )

    assert (refused.value.field, refused.value.rule) == (field, rule)


# ----------------------------------------------------------- clinical signals


async def test_clinical_signal_from_a_high_risk_session_becomes_a_detection(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    session = await TherapySessionRepository(db).create(
        seed_session(risk_assessment="imminent")
    )

    (detection,) = await crises.process_clinical_signals("crisis-worker-1")

    assert detection.detection_source is DetectionSource.SESSION
    assert detection.source_id == session.id
    assert detection.severity_level is CrisisSeverity.IMMINENT
    assert detection.confidence_score == 1.0
    (alert,) = await crises.outbox.find_by()
    assert alert.kind is NotificationKind.NEW_DETECTION


async def test_processed_clinical_signal_names_its_detection_and_is_not_redone(
    db: DatabaseManager, crises: CrisisDetectionRepository
) -> None:
    await TherapySessionRepository(db).create(seed_session(risk_assessment="high"))

    (detection,) = await crises.process_clinical_signals("crisis-worker-1")
    again = await crises.process_clinical_signals("crisis-worker-2")

    signal = (await db.collection(ClinicalSignal).find({}).to_list(None))[0]
    assert signal["status"] == SignalStatus.PROCESSED.value
    assert signal["detection_id"] == detection.id
    assert again == []
