"""Referrals: due dates by priority, the status lifecycle (every allowed and every
refused move), authorization, outcomes, and the overdue and work-queue lists, on
both backends."""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import SYSTEM, drop_and_close
from tests.support.care_data import (
    PATIENT,
    RECEIVING_PSYCHIATRIST,
    REFERRING_THERAPIST,
    open_sealed_database,
    path_to,
    stored_count,
    stored_document,
)
from wellness_repo import (
    AccessContext,
    BaseRepository,
    DatabaseManager,
    NotFoundError,
    UserRole,
    ValidationError,
    acting_as,
    connect_sync,
)
from wellness_repo.models.referrals import (
    REFERRAL_RESPONSE_WINDOWS,
    REFERRAL_TRANSITIONS,
    Referral,
    ReferralPriority,
    ReferralResult,
    ReferralStatus,
)
from wellness_repo.repositories.referrals import ReferralRepository

ALLOWED = [
    (source, target)
    for source, targets in REFERRAL_TRANSITIONS.items()
    for target in sorted(targets)
]
REFUSED = [
    (source, target)
    for source, target in itertools.product(ReferralStatus, ReferralStatus)
    if target not in REFERRAL_TRANSITIONS[source]
]
REASON = "Medication evaluation: persistent low mood despite 12 weeks of CBT"


@pytest.fixture
def referrals(db: DatabaseManager) -> ReferralRepository:
    return ReferralRepository(db)


async def medication_referral(
    referrals: ReferralRepository, **changes: Any
) -> Referral:
    """The seed's routine referral from a therapist to a psychiatrist."""
    arguments: dict[str, Any] = {
        "patient_id": PATIENT,
        "referring_provider_id": REFERRING_THERAPIST,
        "receiving_provider_id": RECEIVING_PSYCHIATRIST,
        "referral_reason": REASON,
        "priority": ReferralPriority.ROUTINE,
    }
    arguments.update(changes)
    return await referrals.create_referral(**arguments)


async def referral_at(
    referrals: ReferralRepository, status: ReferralStatus, **changes: Any
) -> Referral:
    """A referral moved through the lifecycle until it reaches ``status``."""
    referral = await medication_referral(referrals, **changes)
    for step in path_to(status):
        referral = await referrals.update_referral_status(referral.id, step)
    return referral


# ------------------------------------------------------------------ writing


async def test_the_seed_referral_starts_pending_with_its_first_history_entry(
    referrals: ReferralRepository,
) -> None:
    with acting_as(AccessContext(actor_id="therapist_456", role=UserRole.THERAPIST)):
        referral = await referrals.create_referral(
            patient_id="patient_123",
            referring_provider_id="therapist_456",
            receiving_provider_id="psychiatrist_789",
            referral_reason="Medication evaluation",
            priority=ReferralPriority.ROUTINE,
        )

    assert referral.status is ReferralStatus.PENDING
    (entry,) = referral.status_history
    assert (entry.from_status, entry.to_status) == (None, ReferralStatus.PENDING)
    assert (entry.changed_by, entry.changed_at) == (
        "therapist_456",
        referral.created_at,
    )
    assert await referrals.get(referral.referral_id) == referral


@pytest.mark.parametrize(
    ("priority", "window"),
    [
        (ReferralPriority.EMERGENT, timedelta(hours=24)),
        (ReferralPriority.URGENT, timedelta(hours=72)),
        (ReferralPriority.ROUTINE, timedelta(days=14)),
    ],
)
async def test_each_priority_sets_its_due_date_from_creation(
    referrals: ReferralRepository, priority: ReferralPriority, window: timedelta
) -> None:
    referral = await medication_referral(referrals, priority=priority)

    assert referral.due_at - referral.created_at == window
    assert REFERRAL_RESPONSE_WINDOWS[priority] == window


async def test_authorization_can_be_given_when_the_referral_is_written(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(
        referrals,
        authorization_number=" PA-2026-0042 ",
        authorization_expires_on=date(2026, 9, 30),
    )

    assert referral.authorization_number == "PA-2026-0042"
    assert referral.authorization_expires_on == date(2026, 9, 30)


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"referral_reason": ""}, "referral_reason", "string_too_short"),
        ({"referral_reason": "   "}, "referral_reason", "string_too_short"),
        ({"patient_id": "  "}, "patient_id", "string_too_short"),
        ({"priority": "whenever"}, "priority", "enum"),
        (
            {"receiving_provider_id": REFERRING_THERAPIST},
            "receiving_provider_id",
            "self_referral",
        ),
        (
            {"authorization_expires_on": date(2026, 9, 30)},
            "authorization_expires_on",
            "authorization_required",
        ),
    ],
)
async def test_writing_a_referral_refuses_bad_input_and_writes_nothing(
    db: DatabaseManager,
    referrals: ReferralRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await medication_referral(referrals, **changes)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await stored_count(db, Referral) == 0


# ---------------------------------------------------------------- lifecycle


async def test_the_seed_status_update_accepts_with_notes_and_records_who(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(referrals)

    with acting_as(
        AccessContext(actor_id="psychiatrist_789", role=UserRole.PSYCHIATRIST)
    ):
        updated = await referrals.update_referral_status(
            referral_id=referral.referral_id,
            status=ReferralStatus.ACCEPTED,
            notes="Appointment scheduled for next week",
        )

    entry = updated.status_history[-1]
    assert updated.status is ReferralStatus.ACCEPTED
    assert (entry.from_status, entry.to_status) == (
        ReferralStatus.PENDING,
        ReferralStatus.ACCEPTED,
    )
    assert entry.notes == "Appointment scheduled for next week"
    assert entry.changed_by == "psychiatrist_789"
    assert await referrals.get(referral.id) == updated


async def test_a_completed_referral_keeps_every_step_in_order(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(referrals)
    steps = [
        ReferralStatus.SENT,
        ReferralStatus.ACCEPTED,
        ReferralStatus.SCHEDULED,
        ReferralStatus.COMPLETED,
    ]

    for step in steps:
        referral = await referrals.update_referral_status(referral.id, step)

    history = [(e.from_status, e.to_status) for e in referral.status_history]
    assert history == list(
        zip(
            [None, ReferralStatus.PENDING, *steps[:-1]],
            [ReferralStatus.PENDING, *steps],
            strict=True,
        )
    )
    assert referral.revision == 1 + len(steps)


@pytest.mark.parametrize(("source", "target"), ALLOWED)
async def test_every_move_the_lifecycle_allows_applies(
    referrals: ReferralRepository, source: ReferralStatus, target: ReferralStatus
) -> None:
    referral = await referral_at(referrals, source)

    updated = await referrals.update_referral_status(referral.id, target, "Per plan")

    assert updated.status is target
    assert (await referrals.get(referral.id)).status is target


@pytest.mark.parametrize(("source", "target"), REFUSED)
async def test_every_move_the_lifecycle_forbids_is_refused_and_changes_nothing(
    db: DatabaseManager,
    referrals: ReferralRepository,
    source: ReferralStatus,
    target: ReferralStatus,
) -> None:
    referral = await referral_at(referrals, source)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.update_referral_status(referral.id, target)

    assert (raised.value.field, raised.value.rule) == ("status", "invalid_transition")
    assert await stored_document(db, Referral, referral.id) == before


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"status": "approved"}, "status"),
        ({"status": None}, "status"),
        ({"status": ReferralStatus.SENT, "notes": "x" * 10_001}, "notes"),
        ({"status": ReferralStatus.SENT, "notes": 42}, "notes"),
    ],
)
async def test_a_status_update_refuses_bad_input_and_changes_nothing(
    db: DatabaseManager,
    referrals: ReferralRepository,
    arguments: dict[str, Any],
    field: str,
) -> None:
    referral = await medication_referral(referrals)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.update_referral_status(referral.id, **arguments)

    assert raised.value.field == field
    assert await stored_document(db, Referral, referral.id) == before


async def test_updating_an_unknown_referral_is_not_found(
    referrals: ReferralRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await referrals.update_referral_status("referral_missing", ReferralStatus.SENT)


async def test_a_plain_update_cannot_move_the_status(
    db: DatabaseManager, referrals: ReferralRepository
) -> None:
    referral = await medication_referral(referrals)
    before = await stored_document(db, Referral, referral.id)
    sent = referral.status_history[0].model_copy(
        update={"from_status": ReferralStatus.PENDING, "to_status": ReferralStatus.SENT}
    )
    moved = referral.model_copy(
        update={
            "status": ReferralStatus.SENT,
            "status_history": [*referral.status_history, sent],
        }
    )

    with pytest.raises(ValidationError) as raised:
        await referrals.update(moved)

    assert (raised.value.field, raised.value.rule) == ("status", "managed_field")
    assert await stored_document(db, Referral, referral.id) == before


async def test_a_plain_update_may_change_the_reason(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(referrals)

    updated = await referrals.patch(
        referral.id, {"referral_reason": "Medication evaluation and sleep review"}
    )

    assert updated.referral_reason == "Medication evaluation and sleep review"
    assert updated.status_history == referral.status_history


# ----------------------------------------------------------------- triage


async def test_escalating_a_referral_brings_its_due_date_forward(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(referrals)

    escalated = await referrals.change_referral_priority(
        referral.id, ReferralPriority.EMERGENT
    )

    assert escalated.priority is ReferralPriority.EMERGENT
    assert escalated.due_at - referral.created_at <= timedelta(hours=24, seconds=5)
    assert await referrals.get(referral.id) == escalated


async def test_de_escalating_a_referral_keeps_its_due_date(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(referrals, priority=ReferralPriority.URGENT)

    relaxed = await referrals.change_referral_priority(
        referral.id, ReferralPriority.ROUTINE
    )

    assert relaxed.priority is ReferralPriority.ROUTINE
    assert relaxed.due_at == referral.due_at


async def test_re_triaging_at_the_same_priority_writes_nothing(
    db: DatabaseManager, referrals: ReferralRepository
) -> None:
    referral = await medication_referral(referrals)
    before = await stored_document(db, Referral, referral.id)

    unchanged = await referrals.change_referral_priority(
        referral.id, ReferralPriority.ROUTINE
    )

    assert unchanged == referral
    assert await stored_document(db, Referral, referral.id) == before


@pytest.mark.parametrize("status", [ReferralStatus.SCHEDULED, ReferralStatus.EXPIRED])
async def test_only_an_open_referral_can_be_re_triaged(
    db: DatabaseManager, referrals: ReferralRepository, status: ReferralStatus
) -> None:
    referral = await referral_at(referrals, status)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.change_referral_priority(referral.id, ReferralPriority.EMERGENT)

    assert (raised.value.field, raised.value.rule) == ("status", "referral_not_open")
    assert await stored_document(db, Referral, referral.id) == before


async def test_re_triage_refuses_an_unknown_priority(
    db: DatabaseManager, referrals: ReferralRepository
) -> None:
    referral = await medication_referral(referrals)
    before = await stored_document(db, Referral, referral.id)
    unknown_priority: Any = "asap"

    with pytest.raises(ValidationError) as raised:
        await referrals.change_referral_priority(referral.id, unknown_priority)

    assert (raised.value.field, raised.value.rule) == ("priority", "enum")
    assert await stored_document(db, Referral, referral.id) == before


async def test_re_triaging_an_unknown_referral_is_not_found(
    referrals: ReferralRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await referrals.change_referral_priority(
            "referral_missing", ReferralPriority.URGENT
        )


async def test_a_plain_patch_cannot_change_the_priority(
    db: DatabaseManager, referrals: ReferralRepository
) -> None:
    referral = await medication_referral(referrals)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.patch(referral.id, {"priority": ReferralPriority.EMERGENT})

    assert (raised.value.field, raised.value.rule) == ("priority", "managed_field")
    assert await stored_document(db, Referral, referral.id) == before


# ------------------------------------------------------------ authorization


async def test_authorization_is_recorded_on_a_referral_in_progress(
    referrals: ReferralRepository,
) -> None:
    referral = await referral_at(referrals, ReferralStatus.ACCEPTED)

    updated = await referrals.record_authorization(
        referral.id, "PA-2026-0042", date(2026, 9, 30)
    )

    assert (updated.authorization_number, updated.authorization_expires_on) == (
        "PA-2026-0042",
        date(2026, 9, 30),
    )
    assert await referrals.get(referral.id) == updated


@pytest.mark.parametrize(
    "closed",
    [ReferralStatus.CANCELLED, ReferralStatus.DECLINED, ReferralStatus.COMPLETED],
)
async def test_a_closed_referrals_authorization_cannot_change(
    db: DatabaseManager, referrals: ReferralRepository, closed: ReferralStatus
) -> None:
    referral = await referral_at(referrals, closed)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.record_authorization(referral.id, "PA-2026-0042")
    with pytest.raises(ValidationError) as edited:
        await referrals.patch(referral.id, {"authorization_number": "PA-2026-0042"})

    assert raised.value.rule == "referral_closed"
    assert (edited.value.field, edited.value.rule) == (
        "authorization_number",
        "managed_field",
    )
    assert await stored_document(db, Referral, referral.id) == before


@pytest.mark.parametrize(
    ("number", "expires_on", "field"),
    [
        ("   ", None, "authorization_number"),
        (None, None, "authorization_number"),
        ("A" * 65, None, "authorization_number"),
        ("PA-1", datetime(2026, 9, 30, tzinfo=UTC), "expires_on"),
        ("PA-1", "2026-09-30", "expires_on"),
    ],
)
async def test_recording_authorization_refuses_bad_input_and_changes_nothing(
    db: DatabaseManager,
    referrals: ReferralRepository,
    number: Any,
    expires_on: Any,
    field: str,
) -> None:
    referral = await medication_referral(referrals)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.record_authorization(referral.id, number, expires_on)

    assert raised.value.field == field
    assert await stored_document(db, Referral, referral.id) == before


async def test_authorizing_an_unknown_referral_is_not_found(
    referrals: ReferralRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await referrals.record_authorization("referral_missing", "PA-1")


# ------------------------------------------------------------------ outcome


async def test_the_outcome_of_a_completed_referral_is_documented(
    referrals: ReferralRepository,
) -> None:
    referral = await referral_at(referrals, ReferralStatus.COMPLETED)

    with acting_as(
        AccessContext(actor_id="psychiatrist_789", role=UserRole.PSYCHIATRIST)
    ):
        updated = await referrals.document_referral_outcome(
            referral.id,
            ReferralResult.TREATMENT_STARTED,
            "Started sertraline 50 mg; review in four weeks",
        )

    assert updated.outcome is not None
    assert updated.outcome.result is ReferralResult.TREATMENT_STARTED
    assert updated.outcome.summary == "Started sertraline 50 mg; review in four weeks"
    assert updated.outcome.documented_by == "psychiatrist_789"
    assert await referrals.get(referral.id) == updated


@pytest.mark.parametrize(
    "status",
    [ReferralStatus.SCHEDULED, ReferralStatus.CANCELLED, ReferralStatus.PENDING],
)
async def test_an_outcome_waits_for_completion(
    db: DatabaseManager, referrals: ReferralRepository, status: ReferralStatus
) -> None:
    referral = await referral_at(referrals, status)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.document_referral_outcome(
            referral.id, ReferralResult.CONSULTATION_RETURNED
        )

    assert (raised.value.field, raised.value.rule) == ("status", "not_completed")
    assert await stored_document(db, Referral, referral.id) == before


async def test_a_documented_outcome_is_not_replaced(
    db: DatabaseManager, referrals: ReferralRepository
) -> None:
    referral = await referral_at(referrals, ReferralStatus.COMPLETED)
    await referrals.document_referral_outcome(
        referral.id, ReferralResult.TREATMENT_STARTED, "Started sertraline"
    )
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.document_referral_outcome(
            referral.id, ReferralResult.NO_TREATMENT_INDICATED
        )

    assert (raised.value.field, raised.value.rule) == ("outcome", "already_documented")
    assert await stored_document(db, Referral, referral.id) == before


@pytest.mark.parametrize(
    ("result", "summary", "field"),
    [
        ("cured", None, "result"),
        (ReferralResult.TREATMENT_STARTED, "x" * 10_001, "summary"),
    ],
)
async def test_documenting_an_outcome_refuses_bad_input_and_changes_nothing(
    db: DatabaseManager,
    referrals: ReferralRepository,
    result: Any,
    summary: Any,
    field: str,
) -> None:
    referral = await referral_at(referrals, ReferralStatus.COMPLETED)
    before = await stored_document(db, Referral, referral.id)

    with pytest.raises(ValidationError) as raised:
        await referrals.document_referral_outcome(referral.id, result, summary)

    assert raised.value.field == field
    assert await stored_document(db, Referral, referral.id) == before


async def test_documenting_an_unknown_referrals_outcome_is_not_found(
    referrals: ReferralRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await referrals.document_referral_outcome(
            "referral_missing", ReferralResult.TREATMENT_STARTED
        )


# ------------------------------------------------------------------ queries


async def test_overdue_referrals_are_open_ones_past_due_most_overdue_first(
    referrals: ReferralRepository,
) -> None:
    emergent = await medication_referral(referrals, priority=ReferralPriority.EMERGENT)
    urgent = await referral_at(
        referrals, ReferralStatus.ACCEPTED, priority=ReferralPriority.URGENT
    )
    await medication_referral(referrals, priority=ReferralPriority.ROUTINE)
    await referral_at(
        referrals, ReferralStatus.SCHEDULED, priority=ReferralPriority.EMERGENT
    )
    await referral_at(
        referrals, ReferralStatus.CANCELLED, priority=ReferralPriority.EMERGENT
    )

    overdue = await referrals.overdue_referrals(
        now=emergent.created_at + timedelta(days=4)
    )

    assert [referral.id for referral in overdue] == [emergent.id, urgent.id]


async def test_a_referral_is_not_overdue_at_its_due_instant(
    referrals: ReferralRepository,
) -> None:
    referral = await medication_referral(referrals, priority=ReferralPriority.URGENT)

    overdue = await referrals.overdue_referrals(now=referral.due_at)

    assert overdue == []


async def test_overdue_referrals_are_judged_against_now_by_default(
    referrals: ReferralRepository,
) -> None:
    await medication_referral(referrals, priority=ReferralPriority.EMERGENT)

    overdue = await referrals.overdue_referrals()

    assert overdue == []


async def test_overdue_referrals_refuse_a_naive_instant(
    referrals: ReferralRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await referrals.overdue_referrals(now=datetime(2026, 3, 2, 9, 0))

    assert raised.value.field == "now"


async def test_a_patients_referrals_are_listed_newest_first(
    referrals: ReferralRepository,
) -> None:
    first = await medication_referral(referrals)
    second = await medication_referral(
        referrals, receiving_provider_id="psychologist_314"
    )
    await medication_referral(referrals, patient_id="patient_999")

    found = await referrals.referrals_for_patient(PATIENT)

    assert [referral.id for referral in found] == [second.id, first.id]


async def test_the_referral_queue_lists_open_referrals_soonest_due_first(
    referrals: ReferralRepository,
) -> None:
    routine = await medication_referral(referrals)
    emergent = await referral_at(
        referrals, ReferralStatus.SENT, priority=ReferralPriority.EMERGENT
    )
    urgent = await referral_at(
        referrals, ReferralStatus.ACCEPTED, priority=ReferralPriority.URGENT
    )
    await referral_at(referrals, ReferralStatus.SCHEDULED)
    await referral_at(referrals, ReferralStatus.DECLINED)
    await medication_referral(referrals, receiving_provider_id="psychologist_314")

    queue = await referrals.referral_queue(RECEIVING_PSYCHIATRIST)

    assert [referral.id for referral in queue] == [emergent.id, urgent.id, routine.id]


@pytest.mark.parametrize("method", ["referrals_for_patient", "referral_queue"])
async def test_the_referral_lists_refuse_a_blank_id(
    referrals: ReferralRepository, method: str
) -> None:
    with pytest.raises(ValidationError):
        await getattr(referrals, method)("")


# ------------------------------------------------------------------ logging


async def test_the_referral_lifecycle_logs_no_clinical_words(
    referrals: ReferralRepository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    referral = await medication_referral(referrals)
    await referrals.update_referral_status(
        referral.id, ReferralStatus.ACCEPTED, "Mother reports he stopped lithium"
    )
    await referrals.record_authorization(referral.id, "PA-7781-SECRET")
    with pytest.raises(ValidationError):
        await referrals.update_referral_status(
            referral.id, ReferralStatus.PENDING, "Mother reports he stopped lithium"
        )

    logged = "\n".join(record.getMessage() for record in caplog.records)

    assert referral.id in logged
    for secret in ("persistent low mood", "lithium", "PA-7781", "Mother"):
        assert secret not in logged


# --------------------------------------------------------------- encryption


@pytest.fixture
async def sealed_db(backend: str, mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    manager = await open_sealed_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield manager
    finally:
        await drop_and_close(manager)


async def test_reason_notes_authorization_and_outcome_are_stored_sealed(
    sealed_db: DatabaseManager,
) -> None:
    referrals = ReferralRepository(sealed_db)
    secrets = [REASON, "Patient prefers afternoons", "PA-SECRET-" + uuid.uuid4().hex]
    referral = await medication_referral(referrals)
    await referrals.update_referral_status(
        referral.id, ReferralStatus.ACCEPTED, secrets[1]
    )
    await referrals.record_authorization(referral.id, secrets[2])
    for step in (ReferralStatus.SCHEDULED, ReferralStatus.COMPLETED):
        await referrals.update_referral_status(referral.id, step)

    documented = await referrals.document_referral_outcome(
        referral.id,
        ReferralResult.REFERRED_ONWARD,
        "Referred on to the eating disorder service",
    )

    raw = repr(await stored_document(sealed_db, Referral, referral.id))
    for secret in [*secrets, "eating disorder"]:
        assert secret not in raw
    assert documented.status_history[1].notes == secrets[1]
    assert await referrals.get(referral.id) == documented


def test_the_seed_calls_work_blocking_through_the_sync_facade() -> None:
    with connect_sync(context=SYSTEM) as db:
        repo: BaseRepository[Referral] = BaseRepository(
            ReferralRepository(db.manager), db
        )
        referral = repo.create_referral(
            patient_id="patient_123",
            referring_provider_id="therapist_456",
            receiving_provider_id="psychiatrist_789",
            referral_reason="Medication evaluation",
            priority=ReferralPriority.ROUTINE,
        )

        updated = repo.update_referral_status(
            referral_id=referral.referral_id,
            status=ReferralStatus.ACCEPTED,
            notes="Appointment scheduled for next week",
        )

    assert updated.status is ReferralStatus.ACCEPTED
