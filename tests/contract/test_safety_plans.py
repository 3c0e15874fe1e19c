"""Safety plans: the Stanley-Brown content with validated contacts and the 988
lifeline, a new version for every change with every older version readable, the
patient's sign-off, and the active-plan and review-due queries, on both
backends."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from tests.conftest import SYSTEM, drop_and_close
from tests.support.care_data import open_sealed_database, stored_document
from tests.support.encryption import (
    is_ciphertext,
    open_encrypted_database,
    raw_document,
)
from tests.support.safety_plan_data import (
    PATIENT,
    SIGNATURE_NAME,
    SISTER_PHONE,
    THERAPIST,
    full_plan,
    seed_plan,
    unchecked_plan,
)
from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    DuplicateError,
    NotFoundError,
    ValidationError,
    connect_sync,
    create_safety_plan_repository,
)
from wellness_repo.models.safety_plans import (
    ContactMethod,
    PlanStatus,
    SafetyContact,
    SafetyPlan,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.safety_plans import SafetyPlanRepository

OTHER_PATIENT = "patient_789"
NEW_REASON = "Seeing my niece graduate in June"


@pytest.fixture
def plans(db: DatabaseManager) -> SafetyPlanRepository:
    return SafetyPlanRepository(db)


async def stored(db: DatabaseManager) -> int:
    return int(await db.collection(SafetyPlan).count_documents({}))


def lifelines(plan: SafetyPlan) -> list[SafetyContact]:
    return [contact for contact in plan.professional_contacts if contact.is_lifeline]


# ------------------------------------------------------------- writing a plan


async def test_seed_plan_is_stored_as_version_1_due_for_review_in_90_days(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())

    assert plan.version == 1
    assert plan.plan_id == plan.id
    assert plan.status is PlanStatus.ACTIVE
    assert plan.next_review_on == utc_now().date() + timedelta(days=90)
    assert plan.social_contacts[0].phone == SISTER_PHONE
    assert await plans.get(plan.id) == plan


async def test_us_plan_offers_988_by_call_and_by_text(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())

    (lifeline,) = lifelines(plan)
    assert lifeline.name == "Crisis Hotline"
    assert lifeline.methods == [ContactMethod.CALL, ContactMethod.TEXT]


async def test_us_plan_without_988_gets_the_lifeline_added(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan(professional_contacts=[]))

    (lifeline,) = lifelines(plan)
    assert lifeline.name == "988 Suicide & Crisis Lifeline"
    assert set(lifeline.methods) == {ContactMethod.CALL, ContactMethod.TEXT}


async def test_plan_outside_the_us_gets_no_988(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(
        seed_plan(
            country="GB",
            professional_contacts=[{"name": "Samaritans", "phone": "+44 116 123"}],
            social_contacts=[{"name": "Sister", "phone": "+44 20 7946 0958"}],
        )
    )

    assert lifelines(plan) == []


async def test_plan_contents_are_stored_encrypted_and_read_back(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_sealed_database(None if backend == "embedded" else mongodb_uri)
    try:
        plans = SafetyPlanRepository(db)
        plan = await plans.create(full_plan())
        await plans.acknowledge_by_patient(plan.id, SIGNATURE_NAME)

        raw = await stored_document(db, SafetyPlan, plan.id)
        read = await plans.get(plan.id)
    finally:
        await drop_and_close(db)

    for secret in (SISTER_PHONE, "Box breathing", "niece", SIGNATURE_NAME):
        assert secret not in str(raw)
    assert read.social_contacts == plan.social_contacts
    assert read.patient_acknowledgment is not None
    assert read.patient_acknowledgment.signature_name == SIGNATURE_NAME


async def test_revisions_and_sign_off_encrypt_with_the_field_cipher(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        plans = SafetyPlanRepository(db)
        plan = await plans.create(full_plan())
        await plans.revise_plan(
            plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
        )
        await plans.acknowledge_by_patient(plan.id, SIGNATURE_NAME)

        raw = await raw_document(db, SafetyPlan, plan.id)
        kept = await plans.get_version(plan.id, 1)
        read = await plans.get(plan.id)
    finally:
        await drop_and_close(db)

    assert is_ciphertext(raw["reasons_to_live"])
    assert is_ciphertext(raw["patient_acknowledgment"]["signature_name"])
    assert read.reasons_to_live == [NEW_REASON]
    assert read.patient_acknowledgment is not None
    assert read.patient_acknowledgment.signature_name == SIGNATURE_NAME
    assert kept.reasons_to_live == plan.reasons_to_live


async def test_second_active_plan_for_a_patient_is_refused(
    db: DatabaseManager, plans: SafetyPlanRepository
) -> None:
    await plans.create(seed_plan())

    with pytest.raises(DuplicateError):
        await plans.create(seed_plan())

    assert await stored(db) == 1


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "phone",
    [
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "5551234567",
        "+1 555 123 4567",
        "1-555-123-4567",
        "+15551234567",
        "+44 20 7946 0958",
        "988",
        "911",
        "741741",
    ],
)
def test_dialable_phone_numbers_are_accepted(phone: str) -> None:
    contact = SafetyContact(name="Sister", phone=phone)

    assert contact.phone == phone


@pytest.mark.parametrize(
    "phone",
    [
        "555-1234",
        "(055) 123-4567",
        "+1 055 123 4567",
        "555-CALL-NOW",
        "12",
        "+0 20 7946 0958",
        "call my sister",
        "",
    ],
)
def test_undialable_phone_numbers_are_refused_naming_the_contact(phone: str) -> None:
    with pytest.raises(PydanticValidationError) as refused:
        seed_plan(social_contacts=[{"name": "Sister", "phone": phone}])

    (error,) = refused.value.errors()
    assert error["loc"] == ("social_contacts", 0, "phone")
    assert error["type"] == "phone_format"


async def test_invalid_phone_reaching_the_repository_is_refused_with_its_path(
    db: DatabaseManager, plans: SafetyPlanRepository
) -> None:
    plan = unchecked_plan(
        help_contacts=[
            {"name": "Friend", "phone": "(555) 987-6543"},
            {"name": "Neighbour", "phone": "555-CALL-NOW"},
        ]
    )

    with pytest.raises(ValidationError) as refused:
        await plans.create(plan)

    assert (refused.value.field, refused.value.rule) == (
        "help_contacts.1.phone",
        "phone_format",
    )
    assert await stored(db) == 0


@pytest.mark.parametrize(
    "changes",
    [
        {
            "warning_signs": [],
            "coping_strategies": [],
            "social_contacts": [],
            "professional_contacts": [],
        },
        {
            "warning_signs": [],
            "coping_strategies": [],
            "social_contacts": [],
            "professional_contacts": [{"name": "Lifeline", "phone": "988"}],
        },
    ],
    ids=["nothing", "only-the-lifeline"],
)
async def test_empty_plan_is_refused_and_nothing_is_written(
    db: DatabaseManager, plans: SafetyPlanRepository, changes: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as refused:
        await plans.create(unchecked_plan(**changes))

    assert refused.value.rule == "empty_plan"
    assert await stored(db) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": 3}, "version"),
        ({"status": PlanStatus.SUPERSEDED}, "status"),
        ({"plan_ref": "plan_elsewhere"}, "plan_ref"),
    ],
    ids=["version", "status", "plan-ref"],
)
async def test_versioning_fields_are_not_the_callers_to_set(
    db: DatabaseManager,
    plans: SafetyPlanRepository,
    changes: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await plans.create(unchecked_plan(**changes))

    assert (refused.value.field, refused.value.rule) == (field, "managed_field")
    assert await stored(db) == 0


# ------------------------------------------------------------------ versions


async def test_revision_makes_version_2_and_keeps_version_1_readable(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())

    revised = await plans.revise_plan(
        plan.id, {"reasons_to_live": ["Family", NEW_REASON]}, expected_version=1
    )

    assert (revised.id, revised.version) == (plan.id, 2)
    assert revised.reasons_to_live == ["Family", NEW_REASON]
    first = await plans.get_version(plan.id, 1)
    assert first.reasons_to_live == ["Family", "Future goals"]
    assert first.status is PlanStatus.SUPERSEDED
    assert first.plan_ref == plan.id
    assert (await plans.get_version(plan.id, 2)) == revised


async def test_every_change_through_update_is_a_new_version(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())

    changed = await plans.update(
        plan.model_copy(update={"warning_signs": ["Not sleeping for two nights"]})
    )
    again = await plans.update(
        changed.model_copy(update={"coping_strategies": ["Cold water on my face"]})
    )

    assert again.version == 3
    assert [version.version for version in await plans.versions(PATIENT)] == [1, 2, 3]


async def test_saving_an_unchanged_plan_makes_no_version(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())

    same = await plans.update(plan)

    assert same.version == 1
    assert len(await plans.versions(PATIENT)) == 1


async def test_new_review_date_alone_is_not_a_new_version(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    review = date(2031, 1, 15)

    rescheduled = await plans.update(plan.model_copy(update={"next_review_on": review}))

    assert (rescheduled.version, rescheduled.next_review_on) == (1, review)


@pytest.mark.parametrize("review", [None, date(1999, 1, 1)], ids=["cleared", "past"])
async def test_a_review_date_is_never_cleared_or_set_in_the_past(
    plans: SafetyPlanRepository, review: date | None
) -> None:
    plan = await plans.create(seed_plan())

    with pytest.raises(ValidationError) as raised:
        await plans.update(plan.model_copy(update={"next_review_on": review}))

    assert (raised.value.field, raised.value.rule) == ("next_review_on", "future_date")
    assert (await plans.get(plan.id)).next_review_on == plan.next_review_on


async def test_edit_of_an_outdated_version_is_refused_and_nothing_changes(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    with pytest.raises(ConcurrencyError):
        await plans.revise_plan(
            plan.id, {"warning_signs": ["Drinking alone"]}, expected_version=1
        )

    current = await plans.get(plan.id)
    assert current.version == 2
    assert current.warning_signs == plan.warning_signs


async def test_a_patch_applies_only_to_the_revision_that_was_read(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    with pytest.raises(ValidationError) as unguarded:
        await plans.patch(plan.id, {"reasons_to_live": ["Family"]})
    with pytest.raises(ConcurrencyError):
        await plans.patch(
            plan.id, {"reasons_to_live": ["Family"]}, expected_revision=plan.revision
        )

    assert (unguarded.value.field, unguarded.value.rule) == (
        "expected_revision",
        "required",
    )
    current = await plans.get(plan.id)
    assert (current.version, current.reasons_to_live) == (2, [NEW_REASON])


async def test_a_patch_against_the_current_revision_makes_a_new_version(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())

    patched = await plans.patch(
        plan.id, {"warning_signs": ["Drinking alone"]}, expected_revision=plan.revision
    )

    assert (patched.version, patched.warning_signs) == (2, ["Drinking alone"])


async def test_update_from_a_stale_read_is_refused(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.update(plan.model_copy(update={"reasons_to_live": [NEW_REASON]}))

    with pytest.raises(ConcurrencyError):
        await plans.update(
            plan.model_copy(update={"warning_signs": ["Drinking alone"]})
        )

    assert len(await plans.versions(PATIENT)) == 2


async def test_older_version_cannot_be_changed(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )
    first = await plans.get_version(plan.id, 1)

    with pytest.raises(ValidationError) as refused:
        await plans.update(first.model_copy(update={"reasons_to_live": ["Music"]}))

    assert refused.value.rule == "superseded_version"


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"version": 7}, "version", "managed_field"),
        ({"patient_id": OTHER_PATIENT}, "patient_id", "managed_field"),
        ({"mood": "calm"}, "mood", "unknown_field"),
        ({"revision": 9}, "revision", "unknown_field"),
        ({"social_contacts": [{"name": "Sam", "phone": "12"}]}, None, "phone_format"),
    ],
    ids=["version", "patient", "unknown", "revision", "bad-phone"],
)
async def test_bad_revision_is_refused_and_the_plan_is_unchanged(
    plans: SafetyPlanRepository,
    changes: dict[str, Any],
    field: str | None,
    rule: str,
) -> None:
    plan = await plans.create(seed_plan())

    with pytest.raises(ValidationError) as refused:
        await plans.revise_plan(plan.id, changes, expected_version=1)

    assert refused.value.rule == rule
    if field is not None:
        assert refused.value.field == field
    assert await plans.get(plan.id) == plan


async def test_unknown_version_is_not_found(plans: SafetyPlanRepository) -> None:
    plan = await plans.create(seed_plan())

    with pytest.raises(NotFoundError):
        await plans.get_version(plan.id, 2)


# ------------------------------------------------------------------- sign-off


async def test_patient_sign_off_records_the_version_and_time(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    before = utc_now()

    signed = await plans.acknowledge_by_patient(plan.id, SIGNATURE_NAME)

    assert signed.signed_off
    acknowledgment = signed.patient_acknowledgment
    assert acknowledgment is not None
    assert acknowledgment.version == 1
    assert acknowledgment.acknowledged_at >= before
    assert acknowledgment.recorded_by == SYSTEM.actor_id


async def test_new_version_needs_a_new_sign_off(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.acknowledge_by_patient(plan.id)

    revised = await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    assert not revised.signed_off
    assert (await plans.get_version(plan.id, 1)).signed_off


async def test_sign_off_of_a_version_since_replaced_is_refused(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    with pytest.raises(ConcurrencyError):
        await plans.acknowledge_by_patient(plan.id, version=1)

    assert not (await plans.get(plan.id)).signed_off


async def test_signing_a_signed_version_again_changes_nothing(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    signed = await plans.acknowledge_by_patient(plan.id, SIGNATURE_NAME)

    again = await plans.acknowledge_by_patient(plan.id)

    assert again == signed


# -------------------------------------------------------------------- queries


async def test_active_plan_is_the_patients_current_version(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.create(seed_plan(patient_id=OTHER_PATIENT))
    await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    active = await plans.active_plan(PATIENT)

    assert active is not None
    assert (active.id, active.version) == (plan.id, 2)


async def test_patient_without_a_plan_has_no_active_plan(
    plans: SafetyPlanRepository,
) -> None:
    assert await plans.active_plan(PATIENT) is None


async def test_review_worklist_lists_current_plans_due_most_overdue_first(
    plans: SafetyPlanRepository,
) -> None:
    later = await plans.create(seed_plan(next_review_on=date(2030, 3, 1)))
    sooner = await plans.create(
        seed_plan(patient_id=OTHER_PATIENT, next_review_on=date(2030, 1, 1))
    )
    await plans.create(
        seed_plan(patient_id="patient_555", next_review_on=date(2031, 1, 1))
    )

    due = await plans.review_due(date(2030, 3, 1))

    assert [plan.id for plan in due] == [sooner.id, later.id]


async def test_revised_plan_is_due_for_review_90_days_on(
    plans: SafetyPlanRepository,
) -> None:
    today = utc_now().date()
    plan = await plans.create(seed_plan(next_review_on=today + timedelta(days=10)))

    revised = await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    assert revised.next_review_on == today + timedelta(days=90)
    assert await plans.review_due(today + timedelta(days=30)) == []


async def test_deleted_plan_takes_its_versions_out_of_every_query(
    plans: SafetyPlanRepository,
) -> None:
    plan = await plans.create(seed_plan())
    await plans.revise_plan(
        plan.id, {"reasons_to_live": [NEW_REASON]}, expected_version=1
    )

    assert await plans.delete(plan.id)

    assert await plans.active_plan(PATIENT) is None
    assert await plans.versions(PATIENT) == []
    with pytest.raises(NotFoundError):
        await plans.get_version(plan.id, 1)


def test_seed_example_runs_as_written_through_the_blocking_facade() -> None:
    with connect_sync(context=SYSTEM) as db:
        repo = create_safety_plan_repository(db)
        safety_plan = SafetyPlan(
            patient_id="patient_123",
            created_by_provider_id="therapist_456",
            warning_signs=["Feeling hopeless", "Social isolation"],
            coping_strategies=["Deep breathing", "Call friend"],
            social_contacts=[{"name": "Sister", "phone": "(555) 123-4567"}],
            professional_contacts=[{"name": "Crisis Hotline", "phone": "988"}],
            environmental_safety=["Remove harmful objects"],
            reasons_to_live=["Family", "Future goals"],
        )
        plan = repo.create(safety_plan)

    assert plan.plan_id
    assert plan.created_by_provider_id == THERAPIST
