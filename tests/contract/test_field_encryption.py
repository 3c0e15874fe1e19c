"""Field-level encryption through the repositories, on both backends: sensitive
fields are stored as MongoDB CSFLE ciphertext and read back as written, equality
lookups work on deterministic fields, each patient has an own data key, and
MongoDB updates are encrypted before they are sent."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.conftest import drop_and_close
from tests.support.clinical_data import PATIENT, depression_plan
from tests.support.encryption import (
    cipher_of,
    data_key_id,
    is_ciphertext,
    key_names,
    open_encrypted_database,
    raw_document,
)
from tests.support.models import CarePlanRecord
from wellness_repo import (
    BackendCapabilityError,
    DatabaseManager,
    MoodEntry,
    QueryOptions,
    RepositoryError,
    Settings,
    ValidationError,
    create_care_team_repository,
    create_mood_entry_repository,
    create_treatment_plan_repository,
)
from wellness_repo.models.care import CareTeam
from wellness_repo.models.treatment_plans import TreatmentPlan
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.security.field_cipher import CsfleCipher

NOTE = "Couldn't get out of bed; skipped the group session again"
OTHER_NOTE = "Walked by the river with my sister, felt lighter"
EMAIL = "jordan.avery@example.org"
OTHER_PATIENT = "patient_7781"


@pytest.fixture
async def encrypted_db(
    backend: str, mongodb_uri: str
) -> AsyncIterator[DatabaseManager]:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield db
    finally:
        await drop_and_close(db)


async def mood_entry(db: DatabaseManager, patient: str = PATIENT) -> MoodEntry:
    repo = create_mood_entry_repository(db)
    return await repo.create(MoodEntry(user_id=patient, mood_rating=3, notes=NOTE))


async def care_plan(db: DatabaseManager, email: str = EMAIL) -> CarePlanRecord:
    repo = AsyncBaseRepository(db, model=CarePlanRecord)
    return await repo.create(
        CarePlanRecord(
            patient_id=PATIENT,
            title="Relapse prevention",
            email=email,
            private_note=NOTE,
        )
    )


# ------------------------------------------------------------ storage and reads


async def test_a_mood_note_is_stored_as_csfle_ciphertext(
    encrypted_db: DatabaseManager,
) -> None:
    entry = await mood_entry(encrypted_db)

    stored = await raw_document(encrypted_db, MoodEntry, entry.id)

    assert is_ciphertext(stored["notes"])
    assert stored["mood_rating"] == 3


async def test_a_mood_note_reads_back_as_written(
    encrypted_db: DatabaseManager,
) -> None:
    entry = await mood_entry(encrypted_db)

    found = await create_mood_entry_repository(encrypted_db).get(entry.id)

    assert found.notes == NOTE


async def test_a_page_of_entries_reads_back_decrypted(
    encrypted_db: DatabaseManager,
) -> None:
    for patient in (PATIENT, OTHER_PATIENT, PATIENT):
        await mood_entry(encrypted_db, patient)

    page = await create_mood_entry_repository(encrypted_db).list_all(QueryOptions())

    assert [entry.notes for entry in page.items] == [NOTE, NOTE, NOTE]


async def test_random_encryption_stores_the_same_note_differently_each_time(
    encrypted_db: DatabaseManager,
) -> None:
    first = await mood_entry(encrypted_db)
    second = await mood_entry(encrypted_db)

    stored_first = await raw_document(encrypted_db, MoodEntry, first.id)
    stored_second = await raw_document(encrypted_db, MoodEntry, second.id)

    assert stored_first["notes"] != stored_second["notes"]


async def test_deterministic_encryption_stores_the_same_email_identically(
    encrypted_db: DatabaseManager,
) -> None:
    first = await care_plan(encrypted_db)
    second = await care_plan(encrypted_db)

    stored_first = await raw_document(encrypted_db, CarePlanRecord, first.id)
    stored_second = await raw_document(encrypted_db, CarePlanRecord, second.id)

    assert is_ciphertext(stored_first["email"])
    assert stored_first["email"] == stored_second["email"]


async def test_sub_documents_in_lists_keep_their_fields_encrypted(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_treatment_plan_repository(encrypted_db)
    plan = await repo.create(depression_plan())

    stored = await raw_document(encrypted_db, TreatmentPlan, plan.id)
    found = await repo.get(plan.id)

    assert all(is_ciphertext(goal["description"]) for goal in stored["treatment_goals"])
    assert [goal.description for goal in found.treatment_goals] == [
        "Reduce depressive symptoms",
        "Improve coping skills",
    ]


async def test_a_list_marked_encrypted_is_stored_as_one_value(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_care_team_repository(encrypted_db)
    team = await repo.create(
        CareTeam(
            patient_id=PATIENT,
            primary_provider_id="therapist_456",
            shared_goals=["Symptom reduction", "Return to part-time work"],
        )
    )

    stored = await raw_document(encrypted_db, CareTeam, team.id)
    found = await repo.get(team.id)

    assert is_ciphertext(stored["shared_goals"])
    assert found.shared_goals == ["Symptom reduction", "Return to part-time work"]


# -------------------------------------------------------------------- lookups


async def test_an_email_lookup_finds_the_record_through_its_ciphertext(
    encrypted_db: DatabaseManager,
) -> None:
    wanted = await care_plan(encrypted_db)
    await care_plan(encrypted_db, email="casey.lin@example.org")

    found = await AsyncBaseRepository(encrypted_db, model=CarePlanRecord).find_by(
        email=EMAIL
    )

    assert [record.id for record in found] == [wanted.id]
    assert found[0].email == EMAIL


async def test_an_email_in_lookup_finds_each_listed_record(
    encrypted_db: DatabaseManager,
) -> None:
    await care_plan(encrypted_db)
    await care_plan(encrypted_db, email="casey.lin@example.org")
    await care_plan(encrypted_db, email="sam.okafor@example.org")

    found = await AsyncBaseRepository(encrypted_db, model=CarePlanRecord).find_by(
        email__in=[EMAIL, "sam.okafor@example.org"]
    )

    assert sorted(record.email or "" for record in found) == [
        EMAIL,
        "sam.okafor@example.org",
    ]


async def test_a_diagnosis_code_lookup_matches_across_patients(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_treatment_plan_repository(encrypted_db)
    await repo.create(depression_plan())
    await repo.create(depression_plan(patient_id=OTHER_PATIENT))

    total = await repo.count(primary_diagnosis_code="F32.1")

    assert total == 2


async def test_a_random_field_cannot_be_looked_up_by_value(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_mood_entry_repository(encrypted_db)

    with pytest.raises(ValidationError) as refused:
        await repo.find_by(notes=NOTE)

    assert refused.value.rule == "encrypted_field"


async def test_isnull_tells_entries_with_notes_from_those_without(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_mood_entry_repository(encrypted_db)
    with_note = await mood_entry(encrypted_db)
    without = await repo.create(MoodEntry(user_id=PATIENT, mood_rating=6))

    empty = await repo.find_by(notes__isnull=True)
    written = await repo.find_by(notes__isnull=False)

    assert [entry.id for entry in empty] == [without.id]
    assert [entry.id for entry in written] == [with_note.id]


# ----------------------------------------------------------------------- keys


async def test_each_patient_has_an_own_data_key(
    encrypted_db: DatabaseManager,
) -> None:
    first = await mood_entry(encrypted_db, PATIENT)
    second = await mood_entry(encrypted_db, OTHER_PATIENT)

    stored_first = await raw_document(encrypted_db, MoodEntry, first.id)
    stored_second = await raw_document(encrypted_db, MoodEntry, second.id)

    assert data_key_id(stored_first["notes"]) != data_key_id(stored_second["notes"])
    assert {f"patient:{PATIENT}", f"patient:{OTHER_PATIENT}"} <= await key_names(
        encrypted_db
    )


async def test_one_patients_records_share_the_patients_key(
    encrypted_db: DatabaseManager,
) -> None:
    first = await mood_entry(encrypted_db)
    plan = await create_treatment_plan_repository(encrypted_db).create(
        depression_plan()
    )

    stored_entry = await raw_document(encrypted_db, MoodEntry, first.id)
    stored_plan = await raw_document(encrypted_db, TreatmentPlan, plan.id)

    assert data_key_id(stored_entry["notes"]) == data_key_id(
        stored_plan["primary_diagnosis"]
    )


async def test_lookup_fields_use_a_key_per_collection_and_field(
    encrypted_db: DatabaseManager,
) -> None:
    await care_plan(encrypted_db)

    names = await key_names(encrypted_db)

    assert "field:test_care_plans.email" in names
    assert "collection:test_care_plans" in names


async def test_a_record_without_a_patient_id_cannot_be_encrypted(
    encrypted_db: DatabaseManager,
) -> None:
    cipher = cipher_of(encrypted_db)

    with pytest.raises(ValidationError) as refused:
        await cipher.encrypt_documents(MoodEntry, [{"_id": "e1", "notes": NOTE}])

    assert refused.value.field == "user_id"
    assert refused.value.rule == "patient_required"


async def test_encrypting_leaves_the_given_documents_readable(
    encrypted_db: DatabaseManager,
) -> None:
    document = {"_id": "entry_1", "user_id": PATIENT, "notes": NOTE}

    (stored,) = await cipher_of(encrypted_db).encrypt_documents(MoodEntry, [document])

    assert document["notes"] == NOTE
    assert is_ciphertext(stored["notes"])


# -------------------------------------------------------------------- updates


async def test_an_update_setting_a_note_stores_ciphertext(
    encrypted_db: DatabaseManager,
) -> None:
    entry = await mood_entry(encrypted_db)
    update = {"$set": {"notes": OTHER_NOTE}}

    sealed = await cipher_of(encrypted_db).encrypt_update(MoodEntry, update, PATIENT)
    await encrypted_db.collection(MoodEntry).update_one({"_id": entry.id}, sealed)

    stored = await raw_document(encrypted_db, MoodEntry, entry.id)
    found = await create_mood_entry_repository(encrypted_db).get(entry.id)
    assert is_ciphertext(stored["notes"])
    assert found.notes == OTHER_NOTE


async def test_a_pushed_phase_change_stores_its_note_encrypted(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_treatment_plan_repository(encrypted_db)
    plan = await repo.create(depression_plan())
    change = dict(plan.phase_history[0].model_dump(), notes=OTHER_NOTE)
    update = {"$push": {"phase_history": change}}

    sealed = await cipher_of(encrypted_db).encrypt_update(
        TreatmentPlan, update, PATIENT
    )
    await encrypted_db.collection(TreatmentPlan).update_one({"_id": plan.id}, sealed)

    stored = await raw_document(encrypted_db, TreatmentPlan, plan.id)
    found = await repo.get(plan.id)
    assert is_ciphertext(stored["phase_history"][1]["notes"])
    assert found.phase_history[1].notes == OTHER_NOTE


async def test_a_push_with_each_encrypts_every_element(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_treatment_plan_repository(encrypted_db)
    plan = await repo.create(depression_plan())
    changes = [
        dict(plan.phase_history[0].model_dump(), notes=note)
        for note in (NOTE, OTHER_NOTE)
    ]
    update = {"$push": {"phase_history": {"$each": changes}}}

    sealed = await cipher_of(encrypted_db).encrypt_update(
        TreatmentPlan, update, PATIENT
    )
    await encrypted_db.collection(TreatmentPlan).update_one({"_id": plan.id}, sealed)

    stored = await raw_document(encrypted_db, TreatmentPlan, plan.id)
    found = await repo.get(plan.id)
    assert all(is_ciphertext(step["notes"]) for step in stored["phase_history"][1:])
    assert [step.notes for step in found.phase_history[1:]] == [NOTE, OTHER_NOTE]


async def test_a_positional_update_of_one_goal_stores_ciphertext(
    encrypted_db: DatabaseManager,
) -> None:
    repo = create_treatment_plan_repository(encrypted_db)
    plan = await repo.create(depression_plan())
    update = {"$set": {"treatment_goals.$.measurable_target": "PHQ-9 below 10"}}

    sealed = await cipher_of(encrypted_db).encrypt_update(
        TreatmentPlan, update, PATIENT
    )
    await encrypted_db.collection(TreatmentPlan).update_one(
        {"treatment_goals.goal_id": "goal_2"}, sealed
    )

    stored = await raw_document(encrypted_db, TreatmentPlan, plan.id)
    found = await repo.get(plan.id)
    assert is_ciphertext(stored["treatment_goals"][1]["measurable_target"])
    assert [goal.measurable_target for goal in found.treatment_goals] == [
        None,
        "PHQ-9 below 10",
    ]


async def test_an_update_of_a_patients_note_without_the_patient_is_refused(
    encrypted_db: DatabaseManager,
) -> None:
    cipher = cipher_of(encrypted_db)

    with pytest.raises(ValidationError) as refused:
        await cipher.encrypt_update(MoodEntry, {"$set": {"notes": NOTE}}, None)

    assert refused.value.rule == "patient_required"


async def test_values_already_encrypted_pass_through_an_update_unchanged(
    encrypted_db: DatabaseManager,
) -> None:
    cipher = cipher_of(encrypted_db)
    (sealed,) = await cipher.encrypt_documents(
        MoodEntry, [{"_id": "entry_1", "user_id": PATIENT, "notes": NOTE}]
    )

    update = await cipher.encrypt_update(
        MoodEntry, {"$set": {"notes": sealed["notes"]}}, PATIENT
    )

    assert update["$set"]["notes"] == sealed["notes"]


# -------------------------------------------------------------- legacy values


async def test_a_note_stored_before_encryption_reads_as_written_with_a_warning(
    encrypted_db: DatabaseManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wellness_repo.encryption")
    entry = await mood_entry(encrypted_db)
    await encrypted_db.collection(MoodEntry).update_one(
        {"_id": entry.id}, {"$set": {"notes": OTHER_NOTE}}
    )

    found = await create_mood_entry_repository(encrypted_db).get(entry.id)

    assert found.notes == OTHER_NOTE
    warned = [record.getMessage() for record in caplog.records]
    assert any("unencrypted" in message for message in warned)
    assert not any(OTHER_NOTE in message for message in warned)


async def test_a_strict_cipher_refuses_plaintext_in_an_encrypted_field(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_encrypted_database(
        None if backend == "embedded" else mongodb_uri, accept_plaintext=False
    )
    try:
        entry = await mood_entry(db)
        await db.collection(MoodEntry).update_one(
            {"_id": entry.id}, {"$set": {"notes": OTHER_NOTE}}
        )

        with pytest.raises(RepositoryError) as refused:
            await create_mood_entry_repository(db).get(entry.id)

        assert refused.value.entity_id == entry.id
        assert OTHER_NOTE not in str(refused.value)
    finally:
        await drop_and_close(db)


# ------------------------------------------------------------- configuration


async def test_require_keys_refuses_to_connect_without_a_master_key(
    backend: str, mongodb_uri: str
) -> None:
    settings = Settings(require_keys=True, local_master_key=None)

    with pytest.raises(ValidationError) as refused:
        await open_encrypted_database(
            None if backend == "embedded" else mongodb_uri, settings=settings
        )

    assert refused.value.field == "local_master_key"
    assert refused.value.rule == "required"


async def test_a_master_key_of_the_wrong_length_is_refused(
    backend: str, mongodb_uri: str
) -> None:
    settings = Settings(local_master_key="c2hvcnQga2V5")

    with pytest.raises(ValidationError) as refused:
        await open_encrypted_database(
            None if backend == "embedded" else mongodb_uri, settings=settings
        )

    assert refused.value.rule == "base64_96_bytes"


def test_the_provider_for_new_keys_must_be_configured() -> None:
    with pytest.raises(ValidationError) as refused:
        CsfleCipher(kms_providers={"local": {"key": b"k" * 96}}, key_provider="aws")

    assert refused.value.field == "key_provider"


def test_a_key_cache_of_no_time_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        CsfleCipher(key_cache_seconds=0)

    assert refused.value.field == "key_cache_seconds"


async def test_the_embedded_backend_refuses_a_remote_kms() -> None:
    remote = {"aws": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "secret"}}
    arn = "arn:aws:kms:us-east-1:123456789012:key/example"

    with pytest.raises(BackendCapabilityError) as refused:
        await open_encrypted_database(
            None,
            kms_providers=remote,
            key_provider="aws",
            master_key={"region": "us-east-1", "key": arn},
        )

    assert "aws" in str(refused.value)
