"""The crisis alert outbox: senders claim due alerts under a lease, mark them sent,
or return them after a failure with a growing backoff; a crashed sender's lease
runs out and another sender takes over. No alert is ever dropped. Both
backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.support.crisis_data import (
    CRISIS_TEAM,
    ESCALATION_REASON,
    OTHER_PATIENT,
    seed_detection,
)
from wellness_repo import ConcurrencyError, DatabaseManager, ValidationError
from wellness_repo.models.crisis import (
    CrisisNotification,
    NotificationKind,
    NotificationStatus,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.notifications import CrisisNotificationRepository

LEASE = timedelta(seconds=30)
SENDER = "pager-sender-1"
OTHER_SENDER = "pager-sender-2"


@pytest.fixture
def crises(db: DatabaseManager) -> CrisisDetectionRepository:
    return CrisisDetectionRepository(db)


@pytest.fixture
def outbox(crises: CrisisDetectionRepository) -> CrisisNotificationRepository:
    return crises.outbox


async def one_alert(crises: CrisisDetectionRepository) -> CrisisNotification:
    """The alert of a freshly recorded high-severity detection."""
    await crises.create(seed_detection())
    (alert,) = await crises.outbox.find_by()
    return alert


async def let_time_pass(db: DatabaseManager, alert_id: str, by: timedelta) -> None:
    """Move an alert's next-available time back, as if ``by`` had passed."""
    stored = await db.collection(CrisisNotification).find_one({"_id": alert_id})
    assert stored is not None
    await db.collection(CrisisNotification).update_one(
        {"_id": alert_id}, {"$set": {"available_at": stored["available_at"] - by}}
    )


async def test_pending_alerts_are_listed_most_urgent_first(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    moderate = await crises.create(
        seed_detection(severity_level="moderate", crisis_type="hopelessness")
    )
    imminent = await crises.create(
        seed_detection(patient_id=OTHER_PATIENT, severity_level="imminent")
    )

    pending = await outbox.pending()

    assert [alert.detection_id for alert in pending] == [imminent.id, moderate.id]


async def test_claim_leases_due_alerts_to_one_sender(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    alert = await one_alert(crises)
    before = utc_now()

    (claimed,) = await outbox.claim(SENDER, LEASE)

    assert claimed.id == alert.id
    assert claimed.status is NotificationStatus.CLAIMED
    assert claimed.claimed_by == SENDER
    assert claimed.attempts == 1
    assert claimed.available_at >= before + LEASE


async def test_claimed_alert_is_not_given_to_another_sender_during_the_lease(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    await one_alert(crises)
    await outbox.claim(SENDER, LEASE)

    assert await outbox.claim(OTHER_SENDER, LEASE) == []
    assert await outbox.pending() == []


async def test_crashed_senders_lease_runs_out_and_another_sender_takes_the_alert(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, timedelta(milliseconds=50))
    await asyncio.sleep(0.1)

    (retaken,) = await outbox.claim(OTHER_SENDER, LEASE)

    assert retaken.id == alert.id
    assert retaken.claimed_by == OTHER_SENDER
    assert retaken.attempts == 2


async def test_sent_alert_records_its_time_and_leaves_the_queue(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, LEASE)

    sent = await outbox.mark_sent(alert.id, worker_id=SENDER)

    assert sent.status is NotificationStatus.SENT
    assert sent.sent_at is not None
    assert sent.claimed_by == SENDER
    assert await outbox.pending() == []


async def test_marking_an_alert_sent_twice_changes_nothing(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, LEASE)
    sent = await outbox.mark_sent(alert.id)

    again = await outbox.mark_sent(alert.id)

    assert again == sent


async def test_failed_send_stays_in_the_queue_until_its_retry_is_due(
    db: DatabaseManager,
    crises: CrisisDetectionRepository,
    outbox: CrisisNotificationRepository,
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, LEASE)
    before = utc_now()

    failed = await outbox.mark_failed(alert.id, "sms_gateway_503", worker_id=SENDER)

    assert failed.status is NotificationStatus.PENDING
    assert failed.last_error_code == "sms_gateway_503"
    assert failed.claimed_by is None
    assert failed.available_at >= before + timedelta(seconds=15)
    assert await outbox.claim(OTHER_SENDER, LEASE) == []


async def test_failed_send_is_claimed_again_once_its_retry_is_due(
    db: DatabaseManager,
    crises: CrisisDetectionRepository,
    outbox: CrisisNotificationRepository,
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, LEASE)
    await outbox.mark_failed(alert.id, "sms_gateway_503", worker_id=SENDER)
    await let_time_pass(db, alert.id, timedelta(seconds=16))

    (retried,) = await outbox.claim(OTHER_SENDER, LEASE)

    assert retried.id == alert.id
    assert retried.attempts == 2


async def test_retry_wait_doubles_with_each_failure_up_to_the_cap(
    db: DatabaseManager,
    crises: CrisisDetectionRepository,
    outbox: CrisisNotificationRepository,
) -> None:
    alert = await one_alert(crises)
    waits = []
    for _failure in range(7):
        await outbox.claim(SENDER, LEASE)
        before = utc_now()
        failed = await outbox.mark_failed(alert.id, "smtp_421", worker_id=SENDER)
        waits.append(round((failed.available_at - before).total_seconds()))
        await let_time_pass(db, alert.id, timedelta(hours=1))

    assert waits == [15, 30, 60, 120, 240, 300, 300]


async def test_sender_whose_lease_passed_to_another_cannot_complete_the_alert(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, timedelta(milliseconds=50))
    await asyncio.sleep(0.1)
    await outbox.claim(OTHER_SENDER, LEASE)

    with pytest.raises(ConcurrencyError):
        await outbox.mark_sent(alert.id, worker_id=SENDER)

    assert (await outbox.get(alert.id)).claimed_by == OTHER_SENDER


@pytest.mark.parametrize("complete", ["mark_sent", "mark_failed"])
async def test_unclaimed_alert_cannot_be_completed(
    crises: CrisisDetectionRepository,
    outbox: CrisisNotificationRepository,
    complete: str,
) -> None:
    alert = await one_alert(crises)
    arguments: tuple[Any, ...] = (
        (alert.id,) if complete == "mark_sent" else (alert.id, "smtp_421")
    )

    with pytest.raises(ValidationError) as refused:
        await getattr(outbox, complete)(*arguments)

    assert refused.value.rule == "invalid_transition"
    assert (await outbox.get(alert.id)).status is NotificationStatus.PENDING


async def test_escalation_alert_is_claimed_before_older_less_urgent_alerts(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    await crises.create(
        seed_detection(severity_level="low", crisis_type="hopelessness")
    )
    imminent = await crises.create(
        seed_detection(patient_id=OTHER_PATIENT, severity_level="imminent")
    )
    await crises.escalate_crisis(imminent.id, CRISIS_TEAM, ESCALATION_REASON)

    claimed = await outbox.claim(SENDER, LEASE, limit=2)

    assert {alert.detection_id for alert in claimed} == {imminent.id}
    assert {alert.kind for alert in claimed} == {
        NotificationKind.NEW_DETECTION,
        NotificationKind.ESCALATION,
    }


@pytest.mark.parametrize(
    "code",
    ["Could not reach Jordan at (555) 123-4567", "", "x" * 65, None],
    ids=["message-text", "empty", "too-long", "none"],
)
async def test_failure_code_must_be_a_code_not_message_text(
    crises: CrisisDetectionRepository,
    outbox: CrisisNotificationRepository,
    code: Any,
) -> None:
    alert = await one_alert(crises)
    await outbox.claim(SENDER, LEASE)

    with pytest.raises(ValidationError) as refused:
        await outbox.mark_failed(alert.id, code)

    assert (refused.value.field, refused.value.rule) == ("error_code", "format")
    assert (await outbox.get(alert.id)).status is NotificationStatus.CLAIMED


@pytest.mark.parametrize(
    "lease",
    [timedelta(0), timedelta(seconds=-5), timedelta(hours=2), 30],
    ids=["zero", "negative", "too-long", "seconds-number"],
)
async def test_lease_must_be_a_positive_duration_of_at_most_an_hour(
    crises: CrisisDetectionRepository,
    outbox: CrisisNotificationRepository,
    lease: Any,
) -> None:
    await one_alert(crises)

    with pytest.raises(ValidationError) as refused:
        await outbox.claim(SENDER, lease)

    assert (refused.value.field, refused.value.rule) == ("lease", "range")
    assert len(await outbox.pending()) == 1


async def test_alert_cannot_be_edited_or_deleted(
    crises: CrisisDetectionRepository, outbox: CrisisNotificationRepository
) -> None:
    alert = await one_alert(crises)

    with pytest.raises(ValidationError) as edited:
        await outbox.update(alert.model_copy(update={"recipients": []}))
    with pytest.raises(ValidationError) as deleted:
        await outbox.delete(alert.id)

    assert edited.value.rule == "managed_by_workflow"
    assert deleted.value.rule == "never_deleted"
    assert await outbox.get(alert.id) == alert
