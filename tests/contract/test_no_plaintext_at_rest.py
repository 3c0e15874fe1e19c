"""No plaintext at rest, on both backends: a record of every registered model with
encrypted fields, each such field filled, is stored; then every collection of
the database (key vault included) is read around the library and its BSON
scanned for each sensitive value. None may appear, and every encrypted path
must hold CSFLE ciphertext."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import bson
import pytest
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from tests.conftest import drop_and_close
from tests.support.account_data import patient_account
from tests.support.appointment_data import cancelled_appointment
from tests.support.care_data import (
    RECEIVING_PSYCHIATRIST,
    REFERRING_THERAPIST,
    care_team,
    path_to,
)
from tests.support.clinical_data import (
    PATIENT,
    PHQ9_MILD,
    THERAPIST,
    depression_plan,
    relationship,
)
from tests.support.conversation_data import seed_conversation, stored_message
from tests.support.crisis_data import closed_detection
from tests.support.encryption import is_ciphertext, open_encrypted_database
from tests.support.journal_data import seed_entry
from tests.support.medication_data import documented_medication, skipped_dose
from tests.support.safety_plan_data import signed_plan
from tests.support.sessions_data import seed_session
from wellness_repo import DatabaseManager, Instrument, MoodEntry, UserRole
from wellness_repo.analysis.instruments import score_responses
from wellness_repo.models.audit import ActionType, AuditLog
from wellness_repo.models.care import CareTeamMeeting, CommunicationPlan
from wellness_repo.models.clinical import RelationshipStatus, StatusChange
from wellness_repo.models.referrals import (
    Referral,
    ReferralOutcome,
    ReferralResult,
    ReferralStatus,
    ReferralStatusChange,
)
from wellness_repo.models.registry import DOCUMENT_MODELS
from wellness_repo.models.treatment_plans import (
    OutcomeMeasure,
    PhaseChange,
    ProgressEntry,
    TreatmentGoal,
    TreatmentPhase,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import dump_for_storage
from wellness_repo.security.context import PurposeOfUse
from wellness_repo.security.encrypted_fields import encrypted_layout, plan_document

# Short texts are words that other fields hold in their own right (a contact's
# relationship "therapist" is also a role); the test's phrases, emails, phone
# numbers and secrets are all at least this long. The ciphertext check below
# covers every path, short values included.
_SCANNED_LENGTH = 12


def mood_entry() -> MoodEntry:
    return MoodEntry(
        user_id=PATIENT,
        mood_rating=3,
        notes="Skipped lunch again, the intrusive thoughts about Dad are louder",
    )


def therapeutic_relationship() -> Any:
    return relationship(
        boundaries_notes="No contact through social media; crisis line only",
        status_history=[
            StatusChange(
                from_status=None,
                to_status=RelationshipStatus.PENDING,
                changed_at=utc_now(),
                changed_by=THERAPIST,
                reason="Referred by PCP after a disclosed suicide attempt in 2022",
            )
        ],
    )


def treatment_plan() -> Any:
    now = utc_now()
    score = score_responses(Instrument.PHQ9, PHQ9_MILD)
    return depression_plan(
        primary_diagnosis="Major depressive disorder with anxious distress",
        primary_diagnosis_code="F33.1",
        treatment_goals=[
            TreatmentGoal(
                goal_id="goal_1",
                description="Resume visits to the cemetery without panic",
                measurable_target="GAD-7 under eight at two consecutive reviews",
            )
        ],
        phase=TreatmentPhase.ACTIVE,
        phase_history=[
            PhaseChange(
                from_phase=None,
                to_phase=TreatmentPhase.ACTIVE,
                changed_at=now,
                changed_by=THERAPIST,
                notes="Started after the second hospital discharge",
            )
        ],
        progress_history=[
            ProgressEntry(
                recorded_at=now,
                recorded_by=THERAPIST,
                phase=TreatmentPhase.ACTIVE,
                goals_progress={"goal_1": 0},
                phase_notes="Avoidance of the grave site persists",
            )
        ],
        outcome_measures=[
            OutcomeMeasure(
                instrument=Instrument.PHQ9,
                administered_at=now,
                recorded_at=now,
                recorded_by=THERAPIST,
                item_responses=PHQ9_MILD,
                total_score=score.total,
                severity=score.severity,
                requires_safety_follow_up=score.requires_safety_follow_up,
                positive_safety_items=list(score.positive_safety_items),
                safety_follow_up_notes="Safety plan reviewed with the husband",
                notes="Completed in the waiting room, tearful afterwards",
            )
        ],
    )


def therapy_session() -> Any:
    return seed_session(
        session_notes="Talked through the miscarriage and the guilt around it",
        psychotherapy_notes="Transference: treats me like her critical mother",
        psychotherapy_notes_author_id=THERAPIST,
        homework_assigned=[
            {
                "description": "Write the unsent letter to the baby",
                "notes": "Felt too raw to finish it this week",
            }
        ],
    )


def referral() -> Referral:
    statuses = [ReferralStatus.PENDING, *path_to(ReferralStatus.COMPLETED)]
    now = utc_now()
    history = [
        ReferralStatusChange(
            from_status=before,
            to_status=after,
            changed_at=now,
            changed_by=REFERRING_THERAPIST,
            notes="Psychiatrist asked for the lithium levels first",
        )
        for before, after in zip([None, *statuses], statuses, strict=False)
    ]
    return Referral(
        patient_id=PATIENT,
        referring_provider_id=REFERRING_THERAPIST,
        receiving_provider_id=RECEIVING_PSYCHIATRIST,
        referral_reason="Bipolar II suspected: hypomanic spending spree in May",
        status=ReferralStatus.COMPLETED,
        status_history=history,
        authorization_number="AUTH-PA-88213-XK",
        outcome=ReferralOutcome(
            result=ReferralResult.TREATMENT_STARTED,
            summary="Started lamotrigine 25 mg, titrating over six weeks",
            documented_at=now + timedelta(seconds=1),
            documented_by=RECEIVING_PSYCHIATRIST,
        ),
    )


def coordinated_team() -> Any:
    return care_team(
        shared_goals=["Stay out of hospital through the custody hearing"],
        treatment_approach="Weekly DBT skills group plus monthly med review",
        communication_plan=CommunicationPlan(
            notes="Husband must not be told about the shelter address"
        ),
        meetings=[
            CareTeamMeeting(
                held_at=utc_now(),
                attendees=[REFERRING_THERAPIST, RECEIVING_PSYCHIATRIST],
                decisions=["Taper clonazepam by a quarter every two weeks"],
                recorded_by=REFERRING_THERAPIST,
            )
        ],
    )


def user_account() -> Any:
    return patient_account(totp_secret="JBSWY3DPEHPK3PXPJBSWY3DP")


def audit_entry() -> AuditLog:
    return AuditLog(
        user_id=THERAPIST,
        role=UserRole.THERAPIST,
        purpose=PurposeOfUse.TREATMENT,
        action_type=ActionType.DISCLOSE,
        resource_type="TherapySession",
        resource_ids=["session_0042"],
        patient_ids=[PATIENT],
        summary="disclosed one session to an outside provider",
        description="Sent notes on the assault disclosure to the ER attending",
        old_values={"risk_assessment": "moderate, cutting on the forearms"},
        new_values={"risk_assessment": "high, plan to jump from the bridge"},
        emergency=True,
        emergency_reason="Patient unconscious after an overdose of quetiapine",
        recipient="Dr. Alvarez, St. Mary's emergency department",
    )


BUILDERS: dict[type[Any], Callable[[], Any]] = {
    MoodEntry: mood_entry,
    relationship().__class__: therapeutic_relationship,
    depression_plan().__class__: treatment_plan,
    seed_session().__class__: therapy_session,
    Referral: referral,
    care_team().__class__: coordinated_team,
    patient_account().__class__: user_account,
    AuditLog: audit_entry,
    closed_detection().__class__: closed_detection,
    signed_plan().__class__: signed_plan,
    seed_entry().__class__: seed_entry,
    seed_conversation().__class__: seed_conversation,
    stored_message("conversation_1").__class__: lambda: stored_message(
        "conversation_1"
    ),
    documented_medication().__class__: documented_medication,
    skipped_dose().__class__: skipped_dose,
    cancelled_appointment().__class__: cancelled_appointment,
}


@pytest.fixture
async def encrypted_db(
    backend: str, mongodb_uri: str
) -> AsyncIterator[DatabaseManager]:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield db
    finally:
        await drop_and_close(db)


def sensitive_texts(record: Any) -> list[str]:
    """Every text at an encrypted path of ``record``, as it would be stored."""
    document, _ = dump_for_storage(record, revision=1)
    _, slots = plan_document(encrypted_layout(type(record)), document)
    return [text for slot in slots for text in _texts(slot.value)]


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if len(value) >= _SCANNED_LENGTH:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


async def stored_bson(db: DatabaseManager, uri: str | None) -> dict[str, bytes]:
    """Every collection's documents as raw BSON, read around the library: with
    a plain PyMongo client on the server, straight from memory when embedded."""
    if uri is None:
        dumps: dict[str, bytes] = {}
        for name in await db.database.list_collection_names():
            documents = await db.database[name].find({}).to_list(None)
            dumps[name] = b"".join(bson.encode(document) for document in documents)
        return dumps
    with MongoClient(uri, document_class=RawBSONDocument) as client:
        database = client[db.database_name]
        return {
            name: b"".join(document.raw for document in database[name].find())
            for name in database.list_collection_names()
        }


def test_every_model_with_encrypted_fields_has_a_builder_here() -> None:
    encrypted = {model for model in DOCUMENT_MODELS if encrypted_layout(model).paths}

    assert encrypted == set(BUILDERS)


@pytest.mark.parametrize("model", list(BUILDERS), ids=lambda model: model.__name__)
def test_each_builder_fills_every_encrypted_path(model: type[Any]) -> None:
    record = BUILDERS[model]()

    document, _ = dump_for_storage(record, revision=1)
    _, slots = plan_document(encrypted_layout(model), document)

    filled = {slot.path for slot in slots}
    assert filled == set(encrypted_layout(model).paths)


async def test_no_sensitive_value_is_stored_readable(
    encrypted_db: DatabaseManager, backend: str, mongodb_uri: str
) -> None:
    secrets: list[str] = []
    for model, build in BUILDERS.items():
        record = build()
        secrets.extend(sensitive_texts(record))
        await AsyncBaseRepository(encrypted_db, model=model).create(record)

    stored = await stored_bson(
        encrypted_db, None if backend == "embedded" else mongodb_uri
    )

    assert len(secrets) >= 25
    leaks = [
        (collection, secret)
        for collection, raw in stored.items()
        for secret in secrets
        if secret.encode("utf-8") in raw
    ]
    assert leaks == []


async def test_every_encrypted_path_holds_ciphertext(
    encrypted_db: DatabaseManager,
) -> None:
    unsealed = []
    for model, build in BUILDERS.items():
        record = await AsyncBaseRepository(encrypted_db, model=model).create(build())
        raw = await encrypted_db.collection(model).find_one({"_id": record.id})
        _, slots = plan_document(encrypted_layout(model), raw)
        unsealed += [
            f"{model.__name__}.{slot.path.dotted}"
            for slot in slots
            if not is_ciphertext(slot.value)
        ]

    assert unsealed == []


async def test_records_read_back_as_written(encrypted_db: DatabaseManager) -> None:
    changed = []
    for model, build in BUILDERS.items():
        repo = AsyncBaseRepository(encrypted_db, model=model)
        created = await repo.create(build())
        found = await repo.get(created.id)
        if found != created:
            changed.append(model.__name__)

    assert changed == []
