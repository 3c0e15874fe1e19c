"""The therapeutic-relationship repository's contract, on both backends:
establishing relationships, their status lifecycle with its history, one active
relationship per patient-therapist pair, and the caseload queries."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from tests.conftest import SYSTEM, drop_and_close
from tests.support.clinical_data import (
    OTHER_THERAPIST,
    PATIENT,
    START,
    THERAPIST,
    THERAPIST_CONTEXT,
    active_relationship,
    relationship,
)
from tests.support.models import TEST_MODELS
from wellness_repo import (
    DatabaseManager,
    DuplicateError,
    EncryptionAlgorithm,
    NotFoundError,
    Settings,
    ValidationError,
    acting_as,
    connect,
)
from wellness_repo.models.clinical import (
    RelationshipStatus,
    SessionFrequency,
    StatusChange,
    TherapeuticRelationship,
)
from wellness_repo.query.fields import resolve_path
from wellness_repo.repositories.clinical import TherapeuticRelationshipRepository

ACTIVE = RelationshipStatus.ACTIVE
PAUSED = RelationshipStatus.PAUSED
PENDING = RelationshipStatus.PENDING
ENDED = RelationshipStatus.ENDED
Repo = TherapeuticRelationshipRepository


@pytest.fixture
def relationships(db: DatabaseManager) -> Repo:
    return TherapeuticRelationshipRepository(db)


@pytest.fixture
async def small_page_db(
    backend: str, mongodb_uri: str
) -> AsyncIterator[DatabaseManager]:
    """A database whose listings hold at most three records per page."""
    manager = await connect(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        settings=Settings(max_page_size=3),
        document_models=TEST_MODELS,
        apply_indexes=True,
    )
    try:
        yield manager
    finally:
        await drop_and_close(manager)


def today() -> date:
    return datetime.now(UTC).date()


async def raw(db: DatabaseManager, relationship_id: str) -> dict[str, Any] | None:
    """The stored document as it is, bypassing the repository."""
    found: dict[str, Any] | None = await db.collection(
        TherapeuticRelationship
    ).find_one({"_id": relationship_id})
    return found


async def stored_count(db: DatabaseManager) -> int:
    return int(await db.collection(TherapeuticRelationship).count_documents({}))


async def in_status(
    relationships: Repo, status: RelationshipStatus
) -> TherapeuticRelationship:
    """A stored relationship brought to ``status`` by its clinical acts."""
    record = await relationships.create(relationship())
    if status is PENDING:
        return record
    record = await relationships.activate(record.id)
    if status is PAUSED:
        return await relationships.pause(record.id, "Inpatient admission")
    if status is ENDED:
        return await relationships.end_relationship(record.id, "Discharged")
    return record


# ------------------------------------------------------------------ creating


async def test_the_seed_example_establishes_an_active_relationship(
    relationships: Repo,
) -> None:
    created = await relationships.create(active_relationship(start_date=today()))

    stored = await relationships.get(created.relationship_id)
    assert stored == created
    assert stored.relationship_status is ACTIVE
    assert stored.treatment_focus == ["Depression", "Anxiety"]


async def test_a_new_relationship_history_starts_with_who_recorded_it(
    relationships: Repo,
) -> None:
    with acting_as(THERAPIST_CONTEXT):
        created = await relationships.create(relationship())

    (first,) = created.status_history
    assert (first.from_status, first.to_status, first.changed_by) == (
        None,
        PENDING,
        THERAPIST,
    )


@pytest.mark.parametrize(
    "opening",
    [
        {"relationship_status": PAUSED},
        {"relationship_status": ENDED, "end_date": START + timedelta(days=90)},
    ],
)
async def test_a_new_relationship_cannot_start_paused_or_ended(
    relationships: Repo, db: DatabaseManager, opening: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as refused:
        await relationships.create(relationship(**opening))

    assert (refused.value.field, refused.value.rule) == (
        "relationship_status",
        "initial_status",
    )
    assert await stored_count(db) == 0


async def test_a_status_history_supplied_on_creation_is_refused(
    relationships: Repo, db: DatabaseManager
) -> None:
    forged = StatusChange(
        from_status=PENDING,
        to_status=ACTIVE,
        changed_at=datetime(2024, 1, 1, tzinfo=UTC),
        changed_by="someone_else",
    )

    with pytest.raises(ValidationError) as refused:
        await relationships.create(active_relationship(status_history=[forged]))

    assert (refused.value.field, refused.value.rule) == (
        "status_history",
        "managed_field",
    )
    assert await stored_count(db) == 0


async def test_a_second_active_relationship_for_the_pair_is_a_duplicate(
    relationships: Repo, db: DatabaseManager
) -> None:
    await relationships.create(active_relationship())

    with pytest.raises(DuplicateError):
        await relationships.create(active_relationship())

    assert await stored_count(db) == 1


async def test_a_patient_may_be_active_with_two_therapists(
    relationships: Repo,
) -> None:
    await relationships.create(active_relationship())

    await relationships.create(active_relationship(therapist_id=OTHER_THERAPIST))

    assert len(await relationships.active_relationships_for_patient(PATIENT)) == 2


async def test_a_pending_relationship_may_wait_beside_an_active_one(
    relationships: Repo, db: DatabaseManager
) -> None:
    await relationships.create(active_relationship())

    await relationships.create(relationship())

    assert await stored_count(db) == 2


async def test_an_ended_relationship_leaves_the_pair_free_to_start_again(
    relationships: Repo,
) -> None:
    first = await relationships.create(active_relationship())
    await relationships.end_relationship(first.id, "Moved away; now back in area")

    again = await relationships.create(active_relationship(start_date=today()))

    assert again.relationship_status is ACTIVE


async def test_a_deleted_active_relationship_leaves_the_pair_free(
    relationships: Repo,
) -> None:
    entered_in_error = await relationships.create(active_relationship())
    await relationships.delete(entered_in_error.id)

    again = await relationships.create(active_relationship())

    assert await relationships.caseload_size(THERAPIST) == 1
    assert again.id != entered_in_error.id


async def test_create_many_gives_each_relationship_its_history(
    relationships: Repo,
) -> None:
    with acting_as(THERAPIST_CONTEXT):
        created = await relationships.create_many(
            [relationship(patient_id=f"patient_{n}") for n in range(3)]
        )

    assert [len(r.status_history) for r in created] == [1, 1, 1]
    assert {r.status_history[0].changed_by for r in created} == {THERAPIST}


async def test_create_many_with_one_ended_relationship_writes_none(
    relationships: Repo, db: DatabaseManager
) -> None:
    batch = [
        relationship(patient_id="patient_1"),
        relationship(
            patient_id="patient_2",
            relationship_status=ENDED,
            end_date=START + timedelta(days=30),
        ),
    ]

    with pytest.raises(ValidationError) as refused:
        await relationships.create_many(batch)

    assert refused.value.rule == "initial_status"
    assert await stored_count(db) == 0


# ---------------------------------------------------------------- the model


def test_an_active_relationship_needs_a_start_date() -> None:
    with pytest.raises(PydanticValidationError) as refused:
        TherapeuticRelationship(
            patient_id=PATIENT,
            therapist_id=THERAPIST,
            therapy_modality="cbt",
            relationship_status="active",
        )

    assert refused.value.errors()[0]["loc"] == ("start_date",)


def test_a_relationship_cannot_end_before_it_started() -> None:
    with pytest.raises(PydanticValidationError) as refused:
        relationship(
            relationship_status=ENDED,
            start_date=START,
            end_date=START - timedelta(days=1),
        )

    assert refused.value.errors()[0]["type"] == "before_start"


def test_free_text_of_a_relationship_is_declared_encrypted() -> None:
    for path in (("boundaries_notes",), ("status_history", "reason")):
        marker = resolve_path(TherapeuticRelationship, path).encryption

        assert marker is not None
        assert marker.algorithm is EncryptionAlgorithm.RANDOM


# ---------------------------------------------------------------- lifecycle


async def test_activating_a_pending_relationship_starts_it_today(
    relationships: Repo,
) -> None:
    pending = await relationships.create(relationship())

    with acting_as(THERAPIST_CONTEXT):
        active = await relationships.activate(pending.id, "Intake completed")

    assert (active.relationship_status, active.start_date) == (ACTIVE, today())
    step = active.status_history[-1]
    assert (step.from_status, step.to_status) == (PENDING, ACTIVE)
    assert (step.changed_by, step.reason) == (THERAPIST, "Intake completed")


async def test_activating_keeps_a_start_date_already_past(
    relationships: Repo,
) -> None:
    pending = await relationships.create(relationship(start_date=START))

    active = await relationships.activate(pending.id)

    assert active.start_date == START


async def test_activating_early_replaces_a_planned_start_date(
    relationships: Repo,
) -> None:
    planned = today() + timedelta(days=14)
    pending = await relationships.create(relationship(start_date=planned))

    active = await relationships.activate(pending.id)

    assert active.start_date == today()


async def test_pausing_records_the_reason_in_the_history(
    relationships: Repo,
) -> None:
    active = await in_status(relationships, ACTIVE)

    with acting_as(THERAPIST_CONTEXT):
        paused = await relationships.pause(active.id, "Inpatient admission")

    assert paused.relationship_status is PAUSED
    step = paused.status_history[-1]
    assert (step.from_status, step.to_status, step.reason, step.changed_by) == (
        ACTIVE,
        PAUSED,
        "Inpatient admission",
        THERAPIST,
    )


async def test_resuming_a_paused_relationship_keeps_its_start_date(
    relationships: Repo,
) -> None:
    created = await relationships.create(active_relationship())
    await relationships.pause(created.id, "Extended leave abroad")

    resumed = await relationships.activate(created.id, "Back from leave")

    assert (resumed.relationship_status, resumed.start_date) == (ACTIVE, START)
    assert [s.to_status for s in resumed.status_history] == [ACTIVE, PAUSED, ACTIVE]


async def test_ending_records_the_end_date_and_reason(
    relationships: Repo,
) -> None:
    created = await relationships.create(active_relationship())
    last_session = START + timedelta(days=112)

    ended = await relationships.end_relationship(
        created.id, "Treatment goals met; discharged", end_date=last_session
    )

    assert (ended.relationship_status, ended.end_date) == (ENDED, last_session)
    assert ended.status_history[-1].reason == "Treatment goals met; discharged"


async def test_ending_without_a_date_ends_today(relationships: Repo) -> None:
    paused = await in_status(relationships, PAUSED)

    ended = await relationships.end_relationship(paused.id, "Did not return")

    assert ended.end_date == today()
    assert ended.status_history[-1].from_status is PAUSED


async def test_ending_a_relationship_that_never_started_drops_its_planned_start(
    relationships: Repo,
) -> None:
    planned = today() + timedelta(days=7)
    pending = await relationships.create(relationship(start_date=planned))

    ended = await relationships.end_relationship(pending.id, "Declined therapy")

    assert (ended.start_date, ended.end_date) == (None, today())


@pytest.mark.parametrize(
    ("act", "source"),
    [
        ("activate", ACTIVE),
        ("activate", ENDED),
        ("pause", PENDING),
        ("pause", PAUSED),
        ("pause", ENDED),
        ("end_relationship", ENDED),
    ],
)
async def test_a_status_change_the_lifecycle_forbids_is_refused_and_writes_nothing(
    relationships: Repo,
    db: DatabaseManager,
    act: str,
    source: RelationshipStatus,
) -> None:
    record = await in_status(relationships, source)
    before = await raw(db, record.id)
    method: Callable[..., Awaitable[Any]] = getattr(relationships, act)

    with pytest.raises(ValidationError) as refused:
        await method(record.id, "Clinical reason")

    assert (refused.value.field, refused.value.rule) == (
        "relationship_status",
        "invalid_transition",
    )
    assert await raw(db, record.id) == before


async def test_activating_a_second_relationship_of_an_active_pair_is_a_duplicate(
    relationships: Repo, db: DatabaseManager
) -> None:
    await relationships.create(active_relationship())
    waiting = await relationships.create(relationship())
    before = await raw(db, waiting.id)

    with pytest.raises(DuplicateError):
        await relationships.activate(waiting.id)

    assert await raw(db, waiting.id) == before


async def test_resuming_is_refused_while_the_pair_has_another_active_relationship(
    relationships: Repo,
) -> None:
    paused = await in_status(relationships, PAUSED)
    await relationships.create(active_relationship())

    with pytest.raises(DuplicateError):
        await relationships.activate(paused.id)

    assert (await relationships.get(paused.id)).relationship_status is PAUSED


@pytest.mark.parametrize("act", ["pause", "end_relationship"])
@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_pausing_or_ending_needs_a_reason(
    relationships: Repo, db: DatabaseManager, act: str, reason: str | None
) -> None:
    active = await in_status(relationships, ACTIVE)
    before = await raw(db, active.id)

    with pytest.raises(ValidationError) as refused:
        await getattr(relationships, act)(active.id, reason)

    assert (refused.value.field, refused.value.rule) == ("reason", "required")
    assert await raw(db, active.id) == before


async def test_a_reason_must_be_text(relationships: Repo) -> None:
    active = await in_status(relationships, ACTIVE)

    with pytest.raises(ValidationError) as refused:
        await relationships.pause(active.id, 42)  # type: ignore[arg-type]

    assert (refused.value.field, refused.value.rule) == ("reason", "type")


async def test_an_overlong_reason_is_refused(relationships: Repo) -> None:
    pending = await in_status(relationships, PENDING)

    with pytest.raises(ValidationError) as refused:
        await relationships.activate(pending.id, "Intake completed. " * 600)

    assert (refused.value.field, refused.value.rule) == ("reason", "max_length")
    assert (await relationships.get(pending.id)).relationship_status is PENDING


async def test_an_end_date_before_the_start_date_is_refused(
    relationships: Repo, db: DatabaseManager
) -> None:
    active = await relationships.create(active_relationship())
    before = await raw(db, active.id)

    with pytest.raises(ValidationError) as refused:
        await relationships.end_relationship(
            active.id, "Entered in error", end_date=START - timedelta(days=1)
        )

    assert (refused.value.field, refused.value.rule) == ("end_date", "before_start")
    assert await raw(db, active.id) == before


async def test_an_end_date_must_be_a_calendar_date(relationships: Repo) -> None:
    active = await in_status(relationships, ACTIVE)

    with pytest.raises(ValidationError) as refused:
        await relationships.end_relationship(
            active.id, "Discharged", end_date=datetime.now(UTC)
        )

    assert (refused.value.field, refused.value.rule) == ("end_date", "type")


@pytest.mark.parametrize("act", ["activate", "pause", "end_relationship"])
async def test_acting_on_an_unknown_relationship_is_not_found(
    relationships: Repo, act: str
) -> None:
    with pytest.raises(NotFoundError):
        await getattr(relationships, act)("no_such_relationship", "Reason")


async def test_acting_on_a_malformed_id_is_refused(relationships: Repo) -> None:
    with pytest.raises(ValidationError) as refused:
        await relationships.activate("")

    assert refused.value.field == "id"


# ------------------------------------------------------ updates and patches


async def test_update_cannot_change_the_status(
    relationships: Repo, db: DatabaseManager
) -> None:
    active = await in_status(relationships, ACTIVE)
    before = await raw(db, active.id)
    active.relationship_status = PAUSED

    with pytest.raises(ValidationError) as refused:
        await relationships.update(active)

    assert (refused.value.field, refused.value.rule) == (
        "relationship_status",
        "managed_field",
    )
    assert await raw(db, active.id) == before


async def test_patch_cannot_rewrite_the_status_history(relationships: Repo) -> None:
    active = await in_status(relationships, ACTIVE)

    with pytest.raises(ValidationError) as refused:
        await relationships.patch(active.id, {"status_history": []})

    assert (refused.value.field, refused.value.rule) == (
        "status_history",
        "managed_field",
    )


async def test_update_changes_the_session_frequency_and_boundaries_notes(
    relationships: Repo,
) -> None:
    active = await in_status(relationships, ACTIVE)
    active.session_frequency = SessionFrequency.FORTNIGHTLY
    active.boundaries_notes = "Text reminders agreed; no social media contact"

    await relationships.update(active)

    stored = await relationships.get(active.id)
    assert stored.session_frequency is SessionFrequency.FORTNIGHTLY
    assert stored.boundaries_notes == active.boundaries_notes


# ------------------------------------------------------------------ queries


async def caseload(relationships: Repo) -> dict[str, TherapeuticRelationship]:
    """Relationships of every status for two therapists, named by their role."""
    made = {
        "earliest": await relationships.create(
            active_relationship(patient_id="patient_a", start_date=date(2024, 1, 8))
        ),
        "latest": await relationships.create(
            active_relationship(patient_id="patient_b", start_date=date(2024, 6, 3))
        ),
        "middle": await relationships.create(
            active_relationship(patient_id="patient_c", start_date=date(2024, 3, 4))
        ),
        "pending": await relationships.create(relationship(patient_id="patient_d")),
        "colleague": await relationships.create(
            active_relationship(patient_id="patient_a", therapist_id=OTHER_THERAPIST)
        ),
    }
    paused = await relationships.create(active_relationship(patient_id="patient_e"))
    made["paused"] = await relationships.pause(paused.id, "Maternity leave")
    ended = await relationships.create(active_relationship(patient_id="patient_f"))
    made["ended"] = await relationships.end_relationship(ended.id, "Transferred")
    return made


async def test_a_therapists_active_relationships_come_longest_standing_first(
    relationships: Repo,
) -> None:
    made = await caseload(relationships)

    found = await relationships.active_relationships_for_therapist(THERAPIST)

    assert [r.id for r in found] == [
        made["earliest"].id,
        made["middle"].id,
        made["latest"].id,
    ]


async def test_a_patients_active_relationships_span_their_therapists(
    relationships: Repo,
) -> None:
    made = await caseload(relationships)

    found = await relationships.active_relationships_for_patient("patient_a")

    assert {r.id for r in found} == {made["earliest"].id, made["colleague"].id}


async def test_caseload_size_counts_only_active_relationships(
    relationships: Repo,
) -> None:
    await caseload(relationships)

    sizes = (
        await relationships.caseload_size(THERAPIST),
        await relationships.caseload_size(OTHER_THERAPIST),
        await relationships.caseload_size("therapist_without_patients"),
    )

    assert sizes == (3, 1, 0)


async def test_a_caseload_longer_than_a_page_is_returned_whole(
    small_page_db: DatabaseManager,
) -> None:
    relationships = TherapeuticRelationshipRepository(small_page_db)
    await relationships.create_many(
        [
            active_relationship(
                patient_id=f"patient_{n}", start_date=START + timedelta(days=n % 3)
            )
            for n in range(8)
        ]
    )

    found = await relationships.active_relationships_for_therapist(THERAPIST)

    assert len({r.id for r in found}) == 8
    starts = [r.start_date or date.min for r in found]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    "query",
    [
        "active_relationships_for_therapist",
        "active_relationships_for_patient",
        "caseload_size",
    ],
)
@pytest.mark.parametrize("person", ["", None, "$where"])
async def test_queries_refuse_a_missing_or_malformed_person_id(
    relationships: Repo, query: str, person: str | None
) -> None:
    with pytest.raises(ValidationError) as refused:
        await getattr(relationships, query)(person)

    assert refused.value.field in ("therapist_id", "patient_id")


# ---------------------------------------------------------------- privacy


async def test_reasons_and_boundaries_notes_never_reach_the_logs(
    relationships: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "disclosed an affair with a colleague"

    record = await relationships.create(relationship(boundaries_notes=secret))
    await relationships.activate(record.id, secret)
    await relationships.pause(record.id, secret)
    with pytest.raises(ValidationError):
        await relationships.pause(record.id, secret)
    await relationships.end_relationship(record.id, secret)

    assert caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "affair" not in logged
    assert PATIENT not in logged
