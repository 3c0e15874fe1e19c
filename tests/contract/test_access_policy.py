"""The role policy's finer rules, on both backends: author-only psychotherapy
notes, session notes hidden from care coordinators, shared journals, owners of
accounts who may not raise their own privileges, and undeclared kinds of record.
What grants care is in ``test_access_care``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import BACKENDS
from tests.support.access_data import (
    NURSE,
    PATIENT,
    PSYCHIATRIST,
    PSYCHOTHERAPY_NOTE,
    THERAPIST,
    ClinicDatabase,
    ClinicDb,
    SharedReflection,
    actor_context,
    clinic_database_on,
    on_call_grant,
    reseeded,
    seed_accounts,
    session_with_process_notes,
    session_without_process_notes,
)
from tests.support.account_data import patient_account
from tests.support.models import CarePlanRecord
from wellness_repo import (
    AccessDeniedError,
    DatabaseManager,
    Q,
    QueryOptions,
    TherapySession,
    UserRole,
    ValidationError,
    acting_as,
)
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.sessions import TherapySessionRepository
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.security.policy import Operation

pytestmark = pytest.mark.asyncio(loop_scope="module")

NEW_PROCESS_NOTE = "Process note: she tested the frame by arriving late twice"


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


# ---------------------------------------------------------- psychotherapy notes


async def test_the_author_reads_their_psychotherapy_notes(clinic: ClinicDb) -> None:
    sessions = TherapySessionRepository(clinic.db)

    with acting_as(actor_context("therapist")):
        session = await sessions.get(clinic.clinic.session)

    assert session.psychotherapy_notes == PSYCHOTHERAPY_NOTE
    assert session.psychotherapy_notes_author_id == THERAPIST


@pytest.mark.parametrize("actor", ["psychiatrist", "nurse", "coordinator", "patient"])
async def test_psychotherapy_notes_are_absent_for_everyone_but_their_author(
    clinic: ClinicDb, actor: str
) -> None:
    sessions = TherapySessionRepository(clinic.db)

    with acting_as(actor_context(actor)):
        session = await sessions.get(clinic.clinic.session)
        listed = await sessions.patient_sessions(PATIENT)

    for record in (session, *listed.items):
        assert record.psychotherapy_notes is None
        assert "psychotherapy_notes" not in record.model_fields_set
        assert "psychotherapy_notes_author_id" not in record.model_fields_set


@pytest.mark.parametrize("actor", ["psychiatrist", "nurse", "coordinator", "patient"])
async def test_sorting_by_a_hidden_field_is_refused_so_no_cursor_carries_it(
    clinic: ClinicDb, actor: str
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    by_author = QueryOptions(order_by=["-psychotherapy_notes_author_id"], limit=1)

    clinic.auditor.events.clear()

    with acting_as(actor_context(actor)), pytest.raises(ValidationError) as refused:
        await sessions.list_all(by_author)

    assert (refused.value.field, refused.value.rule) == (
        "order_by.psychotherapy_notes_author_id",
        "hidden_field",
    )
    (denied,) = clinic.auditor.events
    assert (denied.operation, denied.outcome) == (Operation.READ, "denied")


@pytest.mark.parametrize(
    ("actor", "lookup"),
    [
        ("coordinator", "session_notes__isnull"),
        ("patient", "psychotherapy_notes__isnull"),
        ("patient", "psychotherapy_notes_author_id__not__isnull"),
    ],
)
async def test_filtering_on_a_field_hidden_from_the_reader_is_refused(
    clinic: ClinicDb, actor: str, lookup: str
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    nested = Q(session_type="individual") | Q(**{lookup: False})

    clinic.auditor.events.clear()

    with acting_as(actor_context(actor)):
        for call in (
            sessions.list_all(QueryOptions(filters={lookup: False})),
            sessions.list_all(QueryOptions(filters=nested)),
            sessions.count(**{lookup: False}),
            sessions.exists(nested),
        ):
            with pytest.raises(ValidationError) as refused:
                await call
            assert (refused.value.field, refused.value.rule) == (
                lookup,
                "hidden_field",
            )

    # Each probe is in the audit trail as a denied read, by whom it was made.
    assert [
        (event.operation, event.outcome, event.context.actor_id)
        for event in clinic.auditor.events
    ] == [(Operation.READ, "denied", actor_context(actor).actor_id)] * 4


async def _matching(sessions: TherapySessionRepository, where: Q) -> set[str]:
    page = await sessions.list_all(QueryOptions(filters=where, fields=()))
    assert await sessions.count(where) == len(page.items)
    return {record.id for record in page.items}


async def test_filters_on_psychotherapy_notes_match_only_the_readers_own(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    own = await sessions.create(
        session_with_process_notes(
            psychotherapy_notes=NEW_PROCESS_NOTE,
            psychotherapy_notes_author_id=PSYCHIATRIST,
        )
    )
    theirs = clinic.clinic.session

    with acting_as(actor_context("psychiatrist")):
        noted = await _matching(sessions, Q(psychotherapy_notes__isnull=False))
        by_therapist = await _matching(
            sessions, Q(psychotherapy_notes_author_id=THERAPIST)
        )
        by_me = await _matching(sessions, Q(psychotherapy_notes_author_id=PSYCHIATRIST))
        either = await _matching(
            sessions, Q(psychotherapy_notes__isnull=False) | Q(id=theirs)
        )
    with acting_as(actor_context("therapist")):
        authors_own = await _matching(sessions, Q(psychotherapy_notes__isnull=False))

    assert noted == by_me == {own.id}
    assert by_therapist == set()
    # The guard holds each lookup, not the query: the other branch still matches.
    assert either == {own.id, theirs}
    assert authors_own == {theirs}


async def test_which_sessions_a_filter_matches_never_tells_another_authors_notes(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    bare = await sessions.create(session_without_process_notes())
    probes = [
        Q(psychotherapy_notes__isnull=True),
        Q(psychotherapy_notes__isnull=False),
        ~Q(psychotherapy_notes__isnull=True),
        Q(psychotherapy_notes_author_id__startswith="therapist"),
        Q(psychotherapy_notes_author_id__isnull=True),
        Q(psychotherapy_notes_author_id__not__isnull=True),
        Q(psychotherapy_notes_author_id__in=[THERAPIST, PSYCHIATRIST]),
        ~Q(psychotherapy_notes_author_id=THERAPIST),
    ]

    async def answers() -> list[set[str]]:
        with acting_as(actor_context("psychiatrist")):
            return [await _matching(sessions, probe) for probe in probes]

    with_notes = await answers()
    await clinic.db.collection(TherapySession).update_many(
        {"_id": clinic.clinic.session},
        {"$set": {"psychotherapy_notes": None, "psychotherapy_notes_author_id": None}},
    )
    without_notes = await answers()

    assert with_notes == without_notes
    # Each probe answers the same for the session with notes and the bare one.
    for matched in with_notes:
        assert (clinic.clinic.session in matched) == (bare.id in matched)


async def test_a_projection_naming_psychotherapy_notes_still_hides_them(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)

    with acting_as(actor_context("psychiatrist")):
        page = await sessions.list_all(
            QueryOptions(
                filters={"patient_id": PATIENT}, fields=["psychotherapy_notes"]
            )
        )

    assert [record.id for record in page.items] == [clinic.clinic.session]
    assert "psychotherapy_notes" not in page.items[0].model_fields_set


@pytest.mark.parametrize("actor", ["psychiatrist", "nurse", "coordinator"])
async def test_a_projection_of_the_notes_author_alone_hides_it_from_others(
    clinic: ClinicDb, actor: str
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    fields = ["session_date", "psychotherapy_notes_author_id"]

    with acting_as(actor_context(actor)):
        page = await sessions.list_all(QueryOptions(fields=fields))
    with acting_as(actor_context("therapist")):
        authors_page = await sessions.list_all(QueryOptions(fields=fields))

    (record,) = page.items
    assert "psychotherapy_notes_author_id" not in record.model_fields_set
    assert "session_date" in record.model_fields_set
    (own,) = authors_page.items
    assert own.psychotherapy_notes_author_id == THERAPIST


async def test_writing_psychotherapy_notes_in_another_clinicians_name_is_denied(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    forged = session_with_process_notes(psychotherapy_notes_author_id=THERAPIST)
    before = await clinic.db.collection(TherapySession).count_documents({})

    with acting_as(actor_context("psychiatrist")), pytest.raises(AccessDeniedError):
        await sessions.create(forged)

    assert await clinic.db.collection(TherapySession).count_documents({}) == before
    assert clinic.auditor.events[-1].outcome == "denied"


async def test_another_clinicians_edit_keeps_the_authors_psychotherapy_notes(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    with acting_as(actor_context("psychiatrist")):
        seen = await sessions.get(clinic.clinic.session)

        await sessions.update(seen.model_copy(update={"duration_minutes": 45}))

    stored = await sessions.get(clinic.clinic.session)
    assert stored.duration_minutes == 45
    assert stored.psychotherapy_notes == PSYCHOTHERAPY_NOTE
    assert stored.psychotherapy_notes_author_id == THERAPIST


async def test_a_clinician_may_add_their_own_notes_to_a_session_without_any(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    bare = await sessions.create(session_without_process_notes())
    with acting_as(actor_context("psychiatrist")):
        noted = bare.model_copy(
            update={
                "psychotherapy_notes": NEW_PROCESS_NOTE,
                "psychotherapy_notes_author_id": PSYCHIATRIST,
            }
        )

        await sessions.update(noted)

    stored = await sessions.get(bare.id)
    assert stored.psychotherapy_notes == NEW_PROCESS_NOTE
    assert stored.psychotherapy_notes_author_id == PSYCHIATRIST


# ------------------------------------------------- care coordinators and notes


async def test_a_care_coordinator_sees_the_session_but_not_its_notes(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)

    with acting_as(actor_context("coordinator")):
        session = await sessions.get(clinic.clinic.session)

    assert session.session_date is not None
    assert "session_notes" not in session.model_fields_set


async def test_a_care_coordinators_edit_keeps_the_session_notes(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    with acting_as(actor_context("coordinator")):
        seen = await sessions.get(clinic.clinic.session)

        await sessions.update(seen.model_copy(update={"duration_minutes": 60}))

    stored = await sessions.get(clinic.clinic.session)
    assert stored.duration_minutes == 60
    assert stored.session_notes is not None


async def test_a_care_coordinator_may_not_write_session_notes(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)

    with acting_as(actor_context("coordinator")), pytest.raises(AccessDeniedError):
        await sessions.create(session_without_process_notes())


# ------------------------------------------------------------- shared journals


async def _reflections(db: DatabaseManager) -> AsyncBaseRepository[SharedReflection]:
    repo: AsyncBaseRepository[SharedReflection] = AsyncBaseRepository(
        db, model=SharedReflection
    )
    await repo.create(
        SharedReflection(user_id=PATIENT, text="I want my therapist to read this")
    )
    await repo.create(
        SharedReflection(
            user_id=PATIENT,
            text="Argued with my sister; I felt heard afterwards",
            shared_with_care_team=True,
        )
    )
    return repo


async def test_clinicians_see_only_the_journal_entries_the_patient_shared(
    clinic: ClinicDb,
) -> None:
    repo = await _reflections(clinic.db)

    with acting_as(actor_context("therapist")):
        page = await repo.list_all(QueryOptions(include_count=True))
        counted = await repo.count()

    assert [entry.shared_with_care_team for entry in page.items] == [True]
    assert (page.total_count, counted) == (1, 1)


async def test_the_patient_sees_all_her_journal_entries(clinic: ClinicDb) -> None:
    repo = await _reflections(clinic.db)

    with acting_as(actor_context("patient")):
        counted = await repo.count()

    assert counted == 2


async def test_break_glass_does_not_open_unshared_journal_entries(
    clinic: ClinicDb,
) -> None:
    repo = await _reflections(clinic.db)

    with acting_as(on_call_grant()):
        counted = await repo.count()

    assert counted == 1


# ------------------------------------------------------------ own accounts


async def test_a_patient_may_rename_her_own_account(clinic: ClinicDb) -> None:
    await seed_accounts(clinic.db, clinic.clinic)
    accounts = UserAccountRepository(clinic.db)

    with acting_as(actor_context("patient")):
        mine = await accounts.get(PATIENT)
        renamed = await accounts.update(mine.model_copy(update={"username": "j.avery"}))

    assert renamed.username == "j.avery"


@pytest.mark.parametrize(
    "change",
    [{"role": UserRole.ADMIN}, {"role": UserRole.THERAPIST}],
    ids=["to_admin", "to_clinician"],
)
async def test_nobody_raises_their_own_role(
    clinic: ClinicDb, change: dict[str, object]
) -> None:
    await seed_accounts(clinic.db, clinic.clinic)
    accounts = UserAccountRepository(clinic.db)
    with acting_as(actor_context("patient")):
        mine = await accounts.get(PATIENT)
    mark = len(clinic.auditor.events)

    with acting_as(actor_context("patient")), pytest.raises(AccessDeniedError):
        await accounts.update(mine.model_copy(update=change))

    assert clinic.auditor.denials_since(mark)
    assert (await accounts.get(PATIENT)).role is UserRole.PATIENT


async def test_a_clinician_cannot_relink_her_account_to_another_provider(
    clinic: ClinicDb,
) -> None:
    accounts = UserAccountRepository(clinic.db)
    own = await accounts.create(
        patient_account(
            id=f"account_{NURSE}",
            username="nurse.okafor",
            email="okafor@cedarclinic.example",
            role=UserRole.NURSE,
            provider_id=NURSE,
        )
    )
    with acting_as(actor_context("nurse")):
        mine = await accounts.get(own.id)

        with pytest.raises(AccessDeniedError):
            await accounts.update(mine.model_copy(update={"provider_id": THERAPIST}))

    assert (await accounts.get(own.id)).provider_id == NURSE


# ------------------------------------------------------------- records' kinds


async def test_a_model_without_an_access_kind_is_for_system_contexts_only(
    clinic: ClinicDb,
) -> None:
    repo: AsyncBaseRepository[CarePlanRecord] = AsyncBaseRepository(
        clinic.db, model=CarePlanRecord
    )
    await repo.create(CarePlanRecord(patient_id=PATIENT, title="Relapse prevention"))

    with acting_as(actor_context("therapist")), pytest.raises(AccessDeniedError):
        await repo.count()
