"""Care as the role policy sees it, on both backends: what makes a clinician
one of a patient's carers, when that stops, counts and pages confined to the
patients in care, and the cost and staleness of the care lookup."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import BACKENDS
from tests.support.access_data import (
    NURSE,
    OTHER_PATIENT,
    OUTSIDE_THERAPIST,
    PATIENT,
    PSYCHIATRIST,
    THERAPIST,
    ClinicDatabase,
    ClinicDb,
    actor_context,
    clinic_database_on,
    clinician,
    reseeded,
)
from tests.support.clinical_data import (
    active_relationship,
    relationship,
)
from wellness_repo import (
    AccessDeniedError,
    MoodEntry,
    NotFoundError,
    QueryOptions,
    ReferralStatus,
    TherapeuticRelationship,
    UserRole,
    ValidationError,
    acting_as,
)
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.referrals import ReferralRepository

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def clinic_database(
    request: pytest.FixtureRequest, mongodb_uri: str
) -> AsyncIterator[ClinicDatabase]:
    """One database per backend for the whole module."""
    async with clinic_database_on(request.param, mongodb_uri) as database:
        yield database


@pytest_asyncio.fixture(loop_scope="module")
async def clinic(clinic_database: ClinicDatabase) -> ClinicDb:
    """The clinic seeded afresh for one test."""
    return await reseeded(clinic_database)


# ---------------------------------------------------------- what grants care


async def test_a_paused_relationship_still_grants_care(clinic: ClinicDb) -> None:
    relationships = TherapeuticRelationshipRepository(clinic.db)
    await relationships.pause(clinic.clinic.relationship, "Inpatient stay")

    with acting_as(actor_context("therapist")):
        plan = await TreatmentPlanRepository(clinic.db).get(clinic.clinic.plan)

    assert plan.patient_id == PATIENT


async def test_ending_the_relationship_takes_effect_on_the_next_call(
    clinic: ClinicDb,
) -> None:
    plans = TreatmentPlanRepository(clinic.db)
    relationships = TherapeuticRelationshipRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        await plans.get(clinic.clinic.plan)
    await relationships.end_relationship(clinic.clinic.relationship, "Discharged")

    with acting_as(actor_context("therapist")), pytest.raises(NotFoundError):
        await plans.get(clinic.clinic.plan)


async def test_leaving_the_care_team_takes_effect_on_the_next_call(
    clinic: ClinicDb,
) -> None:
    plans = TreatmentPlanRepository(clinic.db)
    with acting_as(actor_context("nurse")):
        await plans.get(clinic.clinic.plan)
    await CareTeamRepository(clinic.db).remove_team_member(clinic.clinic.team, NURSE)

    with acting_as(actor_context("nurse")), pytest.raises(NotFoundError):
        await plans.get(clinic.clinic.plan)


async def test_closing_the_care_team_ends_every_members_care(
    clinic: ClinicDb,
) -> None:
    await CareTeamRepository(clinic.db).close_care_team(clinic.clinic.team)

    with acting_as(actor_context("psychiatrist")):
        visible = await TreatmentPlanRepository(clinic.db).count()

    assert visible == 0


async def test_a_pending_relationship_lets_its_therapist_activate_it_and_no_more(
    clinic: ClinicDb,
) -> None:
    relationships = TherapeuticRelationshipRepository(clinic.db)
    newcomer = "therapist_613"
    pending = await relationships.create(relationship(therapist_id=newcomer))
    plans = TreatmentPlanRepository(clinic.db)
    context = clinician(newcomer, UserRole.THERAPIST)

    with acting_as(context):
        before = await plans.count()
        await relationships.activate(pending.id)
        after = await plans.count()

    assert (before, after) == (0, 1)


async def test_a_therapist_cannot_open_a_relationship_with_a_stranger(
    clinic: ClinicDb,
) -> None:
    relationships = TherapeuticRelationshipRepository(clinic.db)
    stranger = active_relationship(patient_id=OTHER_PATIENT)

    with acting_as(actor_context("therapist")), pytest.raises(AccessDeniedError):
        await relationships.create(stranger)

    assert (
        await clinic.db.collection(TherapeuticRelationship).count_documents(
            {"patient_id": OTHER_PATIENT, "therapist_id": THERAPIST}
        )
        == 0
    )


async def test_a_therapist_cannot_move_their_relationship_to_another_patient(
    clinic: ClinicDb,
) -> None:
    relationships = TherapeuticRelationshipRepository(clinic.db)
    moods = MoodEntryRepository(clinic.db)

    with acting_as(actor_context("therapist")):
        with pytest.raises(ValidationError) as raised:
            await relationships.patch(
                clinic.clinic.relationship, {"patient_id": OTHER_PATIENT}
            )
        with pytest.raises(NotFoundError):
            await moods.get(clinic.clinic.other_mood_entry)

    assert (raised.value.field, raised.value.rule) == ("patient_id", "managed_field")
    stored = await relationships.get(clinic.clinic.relationship)
    assert stored.patient_id == PATIENT


async def test_a_pending_relationships_therapist_cannot_point_it_at_a_patient(
    clinic: ClinicDb,
) -> None:
    relationships = TherapeuticRelationshipRepository(clinic.db)
    newcomer = "therapist_613"
    pending = await relationships.create(relationship(therapist_id=newcomer))
    moved = pending.model_copy(update={"patient_id": OTHER_PATIENT})

    with acting_as(clinician(newcomer, UserRole.THERAPIST)):
        with pytest.raises(ValidationError):
            await relationships.update(moved)
        visible = await MoodEntryRepository(clinic.db).count()

    assert visible == 0
    assert (await relationships.get(pending.id)).patient_id == PATIENT


async def test_a_therapist_cannot_hand_their_patient_to_another_by_an_edit(
    clinic: ClinicDb,
) -> None:
    relationships = TherapeuticRelationshipRepository(clinic.db)
    handover = {"therapist_id": OUTSIDE_THERAPIST}

    with (
        acting_as(actor_context("therapist")),
        pytest.raises(ValidationError) as raised,
    ):
        await relationships.patch(clinic.clinic.relationship, handover)
    with acting_as(actor_context("outside_therapist")), pytest.raises(NotFoundError):
        await MoodEntryRepository(clinic.db).get(clinic.clinic.mood_entry)

    assert (raised.value.field, raised.value.rule) == (
        "therapist_id",
        "managed_field",
    )


async def test_a_referrals_receiving_provider_cannot_move_it_to_another_patient(
    clinic: ClinicDb,
) -> None:
    referrals = ReferralRepository(clinic.db)
    written = await referrals.create_referral(
        PATIENT, THERAPIST, OUTSIDE_THERAPIST, "Trauma-focused therapy assessment"
    )

    with (
        acting_as(actor_context("outside_therapist")),
        pytest.raises(AccessDeniedError),
    ):
        await referrals.patch(written.id, {"patient_id": OTHER_PATIENT})

    with acting_as(actor_context("other_patient")):
        seen_by_the_other_patient = await referrals.count()
    assert seen_by_the_other_patient == 0
    assert (await referrals.get(written.id)).patient_id == PATIENT


async def test_a_referrals_receiving_provider_sees_it_but_not_the_patients_chart(
    clinic: ClinicDb,
) -> None:
    referrals = ReferralRepository(clinic.db)
    written = await referrals.create_referral(
        PATIENT, THERAPIST, OUTSIDE_THERAPIST, "Trauma-focused therapy assessment"
    )

    with acting_as(actor_context("outside_therapist")):
        queue = await referrals.referral_queue(OUTSIDE_THERAPIST)
        plans = await TreatmentPlanRepository(clinic.db).count()

    assert [referral.id for referral in queue] == [written.id]
    assert plans == 0


async def test_a_referrals_receiving_provider_may_answer_it(clinic: ClinicDb) -> None:
    referrals = ReferralRepository(clinic.db)
    written = await referrals.create_referral(
        PATIENT, THERAPIST, OUTSIDE_THERAPIST, "Trauma-focused therapy assessment"
    )
    await referrals.update_referral_status(written.id, ReferralStatus.SENT)

    with acting_as(actor_context("outside_therapist")):
        answered = await referrals.update_referral_status(
            written.id, ReferralStatus.ACCEPTED
        )

    assert answered.status is ReferralStatus.ACCEPTED


# --------------------------------------------------- counts and pages stay right


async def test_counts_and_pages_cover_exactly_the_patients_in_care(
    clinic: ClinicDb,
) -> None:
    moods = MoodEntryRepository(clinic.db)
    await moods.create_many(
        [MoodEntry(user_id=PATIENT, mood_rating=rating) for rating in range(1, 8)]
        + [MoodEntry(user_id=OTHER_PATIENT, mood_rating=5) for _ in range(5)]
    )

    with acting_as(actor_context("therapist")):
        first = await moods.list_all(QueryOptions(limit=5, include_count=True))
        second = await moods.list_all(QueryOptions(limit=5, after=first.next_cursor))
        counted = await moods.count()

    seen = [entry.user_id for entry in (*first.items, *second.items)]
    assert seen == [PATIENT] * 8
    assert (first.total_count, counted, second.has_more) == (8, 8, False)


# ------------------------------------------------------------ the care lookup


async def test_repeated_calls_reuse_one_care_lookup(clinic: ClinicDb) -> None:
    plans = TreatmentPlanRepository(clinic.db)
    lookups = clinic.directory.lookups

    with acting_as(actor_context("therapist")):
        for _ in range(5):
            await plans.get(clinic.clinic.plan)

    assert clinic.directory.lookups == lookups + 1


async def test_another_process_revoking_care_is_seen_once_the_cache_expires(
    clinic: ClinicDb,
) -> None:
    plans = TreatmentPlanRepository(clinic.db)
    with acting_as(actor_context("therapist")):
        await plans.get(clinic.clinic.plan)
    # Another process ends the relationship: this process notes no write.
    await clinic.db.collection(TherapeuticRelationship).update_one(
        {"_id": clinic.clinic.relationship}, {"$set": {"relationship_status": "ended"}}
    )

    with acting_as(actor_context("therapist")):
        still = await plans.get_by_id(clinic.clinic.plan)
        clinic.clock.now += 31
        later = await plans.get_by_id(clinic.clinic.plan)

    assert still is not None
    assert later is None


async def test_a_cached_care_lookup_is_cheaper_than_asking_the_database(
    clinic: ClinicDb,
) -> None:
    directory = clinic.directory

    started = time.perf_counter()
    for _ in range(20):
        directory.forget()
        await directory.patients_of(PSYCHIATRIST)
    uncached = (time.perf_counter() - started) / 20
    started = time.perf_counter()
    for _ in range(200):
        await directory.patients_of(PSYCHIATRIST)
    cached = (time.perf_counter() - started) / 200

    assert cached < uncached
