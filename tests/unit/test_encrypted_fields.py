"""Which paths of a record are encrypted, and which values of a stored document or
of a MongoDB update sit at those paths: declared once on the model, followed
through sub-documents and lists, no database involved."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import pytest
from pydantic import Field

from tests.support.models import TEST_MODELS, CarePlanRecord
from wellness_repo import EmbeddedModel, Encrypted, ValidationError, WellnessDocument
from wellness_repo.models.care import CareTeam
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.referrals import Referral
from wellness_repo.models.registry import DOCUMENT_MODELS
from wellness_repo.models.sessions import TherapySession
from wellness_repo.models.treatment_plans import TreatmentPlan
from wellness_repo.models.types import EncryptionAlgorithm
from wellness_repo.security.encrypted_fields import (
    LIST_STEP,
    encrypted_layout,
    needs_patient_key,
    plan_document,
    plan_update,
)

NOTE = "Panic attack on the subway; used 4-7-8 breathing"


class SafetyContact(EmbeddedModel):
    """A person a patient calls in a crisis."""

    name: Annotated[str, Encrypted()]
    relationship: str


class SafetyPlanRecord(WellnessDocument):
    """A stand-in safety plan: a list of sub-documents and per-element secrets."""

    PATIENT_FIELD: ClassVar[str | None] = "patient_id"

    patient_id: str
    contacts: list[SafetyContact] = Field(default_factory=list)
    warning_signs: list[Annotated[str, Encrypted()]] = Field(default_factory=list)

    class Settings:
        name = "test_safety_plans"


class MappedSecrets(WellnessDocument):
    """A model that hides an encrypted value inside a mapping."""

    secrets: dict[str, Annotated[str, Encrypted()]] = Field(default_factory=dict)

    class Settings:
        name = "test_mapped_secrets"


def steps_of(model: type[Any]) -> dict[tuple[str, ...], EncryptionAlgorithm]:
    return {path.steps: path.algorithm for path in encrypted_layout(model).paths}


def test_a_top_level_note_is_one_random_path() -> None:
    paths = steps_of(MoodEntry)

    assert paths == {("notes",): EncryptionAlgorithm.RANDOM}


def test_deterministic_marker_is_kept_for_lookup_fields() -> None:
    paths = steps_of(TreatmentPlan)

    assert paths[("primary_diagnosis_code",)] is EncryptionAlgorithm.DETERMINISTIC
    assert paths[("primary_diagnosis",)] is EncryptionAlgorithm.RANDOM


def test_paths_run_through_lists_of_sub_documents() -> None:
    paths = steps_of(TreatmentPlan)

    assert ("treatment_goals", LIST_STEP, "description") in paths
    assert ("outcome_measures", LIST_STEP, "item_responses") in paths
    assert ("phase_history", LIST_STEP, "notes") in paths


def test_a_list_marked_encrypted_is_one_whole_value() -> None:
    paths = steps_of(CareTeam)

    assert ("shared_goals",) in paths
    assert ("shared_goals", LIST_STEP) not in paths
    assert ("meetings", LIST_STEP, "decisions") in paths


def test_an_encrypted_sub_document_is_not_walked_into() -> None:
    paths = steps_of(TherapySession)

    assert ("session_notes",) in paths
    assert not any(path[0] == "session_notes" and len(path) > 1 for path in paths)


def test_an_encrypted_list_element_type_encrypts_each_element() -> None:
    paths = steps_of(SafetyPlanRecord)

    assert set(paths) == {("contacts", LIST_STEP, "name"), ("warning_signs", LIST_STEP)}


def test_dotted_path_is_what_a_query_names() -> None:
    layout = encrypted_layout(TreatmentPlan)

    found = layout.by_dotted("treatment_goals.description")

    assert found is not None
    assert found.steps == ("treatment_goals", LIST_STEP, "description")


def test_an_encrypted_value_inside_a_mapping_is_refused_at_declaration() -> None:
    with pytest.raises(TypeError, match="inside a mapping"):
        encrypted_layout(MappedSecrets)


def test_every_registered_model_declares_its_paths_without_error() -> None:
    layouts = [encrypted_layout(model) for model in (*DOCUMENT_MODELS, *TEST_MODELS)]

    assert sum(1 for layout in layouts if layout.paths) >= 7


def test_a_layout_is_worked_out_once_per_model() -> None:
    first = encrypted_layout(TreatmentPlan)

    again = encrypted_layout(TreatmentPlan)

    assert again is first


def test_planning_a_document_leaves_the_original_untouched() -> None:
    document = {
        "patient_id": "patient_123",
        "contacts": [{"name": "Morgan Avery", "relationship": "sister"}],
    }

    copy, slots = plan_document(encrypted_layout(SafetyPlanRecord), document)
    for slot in slots:
        slot.holder[slot.key] = "sealed"

    assert document["contacts"][0]["name"] == "Morgan Avery"
    assert copy["contacts"][0] == {"name": "sealed", "relationship": "sister"}


def test_every_element_of_a_list_is_a_slot() -> None:
    document = {"warning_signs": ["Not sleeping", "Giving things away"]}

    _, slots = plan_document(encrypted_layout(SafetyPlanRecord), document)

    assert [slot.value for slot in slots] == ["Not sleeping", "Giving things away"]


def test_a_missing_or_null_value_is_not_a_slot() -> None:
    _, slots = plan_document(encrypted_layout(MoodEntry), {"notes": None})

    assert slots == []


def test_slots_remember_which_document_they_belong_to() -> None:
    _, slots = plan_document(encrypted_layout(MoodEntry), {"notes": NOTE}, owner=7)

    assert slots[0].owner == 7


def test_set_of_an_encrypted_field_is_a_slot() -> None:
    update = {"$set": {"authorization_number": "PA-2291-XK", "status": "sent"}}

    _, slots = plan_update(Referral, update)

    assert [(slot.key, slot.value) for slot in slots] == [
        ("authorization_number", "PA-2291-XK")
    ]


def test_a_positional_path_reaches_the_element_field() -> None:
    update = {"$set": {"treatment_goals.$.measurable_target": "PHQ-9 below 10"}}

    _, slots = plan_update(TreatmentPlan, update)

    assert [slot.path.dotted for slot in slots] == ["treatment_goals.measurable_target"]


def test_an_indexed_path_reaches_the_element() -> None:
    goal = {"goal_id": "goal_1", "description": "Sleep seven hours"}

    _, slots = plan_update(TreatmentPlan, {"$set": {"treatment_goals.0": goal}})

    assert [slot.value for slot in slots] == ["Sleep seven hours"]


def test_setting_a_sub_document_finds_its_encrypted_fields() -> None:
    outcome = {"result": "seen", "summary": "Started sertraline 50 mg"}

    _, slots = plan_update(Referral, {"$set": {"outcome": outcome}})

    assert [slot.value for slot in slots] == ["Started sertraline 50 mg"]


def test_push_of_one_element_finds_its_encrypted_fields() -> None:
    change = {"to_phase": "maintenance", "notes": "Stable for eight weeks"}

    _, slots = plan_update(TreatmentPlan, {"$push": {"phase_history": change}})

    assert [slot.value for slot in slots] == ["Stable for eight weeks"]


def test_push_with_each_finds_every_elements_fields() -> None:
    changes = [{"notes": "First review"}, {"notes": "Second review"}]
    update = {"$push": {"phase_history": {"$each": changes, "$position": 0}}}

    copied, slots = plan_update(TreatmentPlan, update)

    assert [slot.value for slot in slots] == ["First review", "Second review"]
    assert copied["$push"]["phase_history"]["$position"] == 0


def test_add_to_set_is_planned_like_push() -> None:
    update = {"$addToSet": {"warning_signs": "Withdrawing from friends"}}

    _, slots = plan_update(SafetyPlanRecord, update)

    assert [slot.value for slot in slots] == ["Withdrawing from friends"]


def test_planning_an_update_leaves_the_original_untouched() -> None:
    update = {"$set": {"notes": NOTE}}

    copied, slots = plan_update(MoodEntry, update)
    slots[0].holder[slots[0].key] = "sealed"

    assert update == {"$set": {"notes": NOTE}}
    assert copied == {"$set": {"notes": "sealed"}}


def test_push_into_a_whole_encrypted_list_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        plan_update(CareTeam, {"$push": {"shared_goals": "Return to work"}})

    assert refused.value.field == "shared_goals"
    assert refused.value.rule == "encrypted_whole_value"


def test_setting_inside_a_whole_encrypted_value_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        plan_update(TherapySession, {"$set": {"session_notes.text": NOTE}})

    assert refused.value.field == "session_notes.text"
    assert refused.value.rule == "encrypted_whole_value"


def test_arithmetic_on_an_encrypted_field_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        plan_update(TreatmentPlan, {"$inc": {"primary_diagnosis_code": 1}})

    assert refused.value.rule == "encrypted_field"


def test_unset_of_an_encrypted_field_passes() -> None:
    copied, slots = plan_update(MoodEntry, {"$unset": {"notes": ""}})

    assert copied == {"$unset": {"notes": ""}}
    assert slots == []


def test_an_update_of_a_patients_random_field_needs_the_patients_key() -> None:
    assert needs_patient_key(MoodEntry, {"$set": {"notes": NOTE}})


def test_an_update_of_plain_fields_needs_no_key() -> None:
    assert not needs_patient_key(MoodEntry, {"$set": {"mood_rating": 6}})


def test_a_record_about_no_patient_never_needs_a_patients_key() -> None:
    assert not needs_patient_key(CarePlanRecord, {"$set": {"private_note": NOTE}})
