"""Screening answers and mood logs open crisis detections, on both backends: a
PHQ-9 whose item 9 is answered above 0, and a sharp fall in a patient's daily
mood, each leave a detection and an outbox alert for the care team; a repeat
within the duplicate window is folded into the open detection."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.clinical_data import (
    PHQ9_MILD,
    PHQ9_MINIMAL_WITH_ITEM9,
    THERAPIST_CONTEXT,
    depression_plan,
)
from tests.support.mood_data import AS_OF, PATIENT
from wellness_repo import (
    AccessContext,
    ConcurrencyError,
    DatabaseManager,
    MoodEntry,
    MoodEntryRepository,
    UserRole,
    acting_as,
    create_mood_entry_repository,
)
from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType
from wellness_repo.analysis.instruments import Instrument
from wellness_repo.models.crisis import (
    CrisisDetection,
    CrisisNotification,
    DetectionSource,
    NotificationKind,
)
from wellness_repo.repositories.clinical import TreatmentPlanRepository
from wellness_repo.repositories.crisis import CrisisDetectionRepository

PATIENT_CONTEXT = AccessContext(actor_id=PATIENT, role=UserRole.PATIENT)
YESTERDAY = AS_OF - timedelta(days=1)


@pytest.fixture
def plans(db: DatabaseManager) -> TreatmentPlanRepository:
    return TreatmentPlanRepository(db)


@pytest.fixture
def moods(db: DatabaseManager) -> MoodEntryRepository:
    return create_mood_entry_repository(db)


@pytest.fixture
def crises(db: DatabaseManager) -> CrisisDetectionRepository:
    return CrisisDetectionRepository(db)


async def detections(crises: CrisisDetectionRepository) -> list[CrisisDetection]:
    return await crises.find_by()


async def alerts(crises: CrisisDetectionRepository) -> list[CrisisNotification]:
    return await crises.outbox.find_by()


async def log_mood(moods: MoodEntryRepository, rating: int, **changes: object) -> None:
    """The patient logs a 1-10 check-in themselves."""
    with acting_as(PATIENT_CONTEXT):
        await moods.create(MoodEntry(user_id=PATIENT, mood_rating=rating, **changes))


# ---------------------------------------------------------------- PHQ-9 item 9


async def test_phq9_with_item9_answered_opens_an_assessment_detection_and_alert(
    plans: TreatmentPlanRepository, crises: CrisisDetectionRepository
) -> None:
    plan = await plans.create(depression_plan())

    with acting_as(THERAPIST_CONTEXT):
        await plans.record_outcome_measure(
            plan.id, Instrument.PHQ9, PHQ9_MINIMAL_WITH_ITEM9
        )

    (detection,) = await detections(crises)
    assert detection.patient_id == PATIENT
    assert detection.detection_source is DetectionSource.ASSESSMENT
    assert detection.source_id == plan.id
    assert detection.crisis_type is CrisisType.SUICIDAL_IDEATION
    assert detection.severity_level is CrisisSeverity.MODERATE
    (alert,) = await alerts(crises)
    assert alert.detection_id == detection.id
    assert alert.kind is NotificationKind.NEW_DETECTION


async def test_phq9_with_item9_at_zero_opens_no_detection(
    plans: TreatmentPlanRepository, crises: CrisisDetectionRepository
) -> None:
    plan = await plans.create(depression_plan())

    with acting_as(THERAPIST_CONTEXT):
        await plans.record_outcome_measure(plan.id, Instrument.PHQ9, PHQ9_MILD)

    assert await detections(crises) == []
    assert await alerts(crises) == []


async def test_repeat_positive_phq9_is_folded_into_the_open_detection(
    plans: TreatmentPlanRepository, crises: CrisisDetectionRepository
) -> None:
    plan = await plans.create(depression_plan())

    with acting_as(THERAPIST_CONTEXT):
        for _ in range(2):
            await plans.record_outcome_measure(
                plan.id, Instrument.PHQ9, PHQ9_MINIMAL_WITH_ITEM9
            )

    (detection,) = await detections(crises)
    assert detection.occurrence_count == 2
    assert len(await alerts(crises)) == 1


# ------------------------------------------------------------------ mood logs


async def test_sharp_fall_in_mood_over_two_days_opens_a_mood_detection(
    moods: MoodEntryRepository, crises: CrisisDetectionRepository
) -> None:
    await log_mood(moods, 8, created_at=YESTERDAY)

    await log_mood(moods, 2, created_at=AS_OF)

    (detection,) = await detections(crises)
    assert detection.patient_id == PATIENT
    assert detection.detection_source is DetectionSource.MOOD_ENTRY
    assert detection.crisis_type is CrisisType.WARNING_SIGNS
    assert detection.severity_level is CrisisSeverity.MODERATE
    (alert,) = await alerts(crises)
    assert alert.detection_id == detection.id


async def test_steady_mood_opens_no_detection(
    moods: MoodEntryRepository, crises: CrisisDetectionRepository
) -> None:
    await log_mood(moods, 6, created_at=YESTERDAY)

    await log_mood(moods, 6, created_at=AS_OF)

    assert await detections(crises) == []
    assert await alerts(crises) == []


async def test_another_low_entry_the_same_day_is_folded_into_the_mood_detection(
    moods: MoodEntryRepository, crises: CrisisDetectionRepository
) -> None:
    await log_mood(moods, 8, created_at=YESTERDAY)
    await log_mood(moods, 2, created_at=AS_OF)

    await log_mood(moods, 1, created_at=AS_OF + timedelta(minutes=20))

    (detection,) = await detections(crises)
    assert detection.occurrence_count == 2
    assert len(await alerts(crises)) == 1


async def test_a_rating_corrected_into_a_fall_opens_a_mood_detection(
    moods: MoodEntryRepository, crises: CrisisDetectionRepository
) -> None:
    await log_mood(moods, 8, created_at=YESTERDAY)
    await log_mood(moods, 8, created_at=AS_OF)
    (today,) = await moods.find_by(created_at=AS_OF)

    await moods.patch(today.id, {"mood_rating": 2})

    (detection,) = await detections(crises)
    assert detection.detection_source is DetectionSource.MOOD_ENTRY
    assert detection.source_id == today.id
    (alert,) = await alerts(crises)
    assert alert.detection_id == detection.id


async def test_a_stale_mood_edit_is_refused_and_opens_no_detection(
    moods: MoodEntryRepository, crises: CrisisDetectionRepository
) -> None:
    await log_mood(moods, 8, created_at=YESTERDAY)
    await log_mood(moods, 8, created_at=AS_OF)
    (today,) = await moods.find_by(created_at=AS_OF)
    await moods.patch(today.id, {"tags": ["work"]})

    with pytest.raises(ConcurrencyError):
        await moods.update(today.model_copy(update={"mood_rating": 2}))

    assert (await moods.get(today.id)).mood_rating == 8
    assert await detections(crises) == []


async def test_bulk_import_of_a_mood_fall_opens_no_detection(
    moods: MoodEntryRepository, crises: CrisisDetectionRepository
) -> None:
    history = [
        MoodEntry(user_id=PATIENT, mood_rating=8, created_at=YESTERDAY),
        MoodEntry(user_id=PATIENT, mood_rating=2, created_at=AS_OF),
    ]

    await moods.create_many(history)

    assert await detections(crises) == []
