"""Journal privacy under the role policy, on both backends: an entry is the
patient's own, her clinicians read it only once she shares it, nobody else reads
it at all, and her words still reach the care team as a crisis detection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import BACKENDS, SYSTEM
from tests.support.access_data import (
    PATIENT,
    ClinicDb,
    actor_context,
    clinic_database_on,
    on_call_grant,
    reseeded,
)
from tests.support.journal_data import crisis_entry, gratitude_entry, seed_entry
from wellness_repo import (
    AccessDeniedError,
    CrisisType,
    JournalEntry,
    JournalRepository,
    NotFoundError,
    acting_as,
    create_crisis_detection_repository,
)


@pytest.fixture(params=BACKENDS)
async def clinic(
    request: pytest.FixtureRequest, mongodb_uri: str
) -> AsyncIterator[ClinicDb]:
    """The seeded clinic under the role policy: the therapist cares for the
    patient; the other patient is in another therapist's care."""
    async with clinic_database_on(request.param, mongodb_uri) as database:
        yield await reseeded(database)


async def patients_entries(journals: JournalRepository) -> tuple[str, str]:
    """A private entry and a shared one, written by the patient herself."""
    with acting_as(actor_context("patient")):
        private = await journals.create(seed_entry())
        shared = await journals.create(gratitude_entry())
        await journals.share_with_care_team(shared.entry_id)
    return private.entry_id, shared.entry_id


async def test_the_patient_reads_all_her_entries(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)
    await patients_entries(journals)

    with acting_as(actor_context("patient")):
        page = await journals.entries_for_user(PATIENT)

    assert len(page.items) == 2


async def test_her_therapist_reads_only_the_entry_she_shared(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)
    _, shared = await patients_entries(journals)

    with acting_as(actor_context("therapist")):
        page = await journals.entries_for_user(PATIENT)

    assert [entry.entry_id for entry in page.items] == [shared]


async def test_her_therapist_cannot_open_a_private_entry_by_its_id(
    clinic: ClinicDb,
) -> None:
    journals = JournalRepository(clinic.db)
    private, _ = await patients_entries(journals)

    with acting_as(actor_context("therapist")), pytest.raises(NotFoundError):
        await journals.get(private)


async def test_unsharing_hides_the_entry_from_her_therapist_again(
    clinic: ClinicDb,
) -> None:
    journals = JournalRepository(clinic.db)
    _, shared = await patients_entries(journals)
    with acting_as(actor_context("patient")):
        await journals.unshare_from_care_team(shared)

    with acting_as(actor_context("therapist")):
        page = await journals.entries_for_user(PATIENT)

    assert page.items == []


async def test_break_glass_does_not_open_a_private_entry(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)
    _, shared = await patients_entries(journals)

    with acting_as(on_call_grant()):
        page = await journals.entries_for_user(PATIENT)

    assert [entry.entry_id for entry in page.items] == [shared]


async def test_a_clinician_outside_her_care_reads_nothing(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)
    await patients_entries(journals)

    with acting_as(actor_context("outside_therapist")):
        page = await journals.entries_for_user(PATIENT)

    assert page.items == []


async def test_another_patient_reads_nothing(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)
    await patients_entries(journals)

    with acting_as(actor_context("other_patient")):
        page = await journals.entries_for_user(PATIENT)

    assert page.items == []


async def test_her_therapist_cannot_write_in_her_journal(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)

    with acting_as(actor_context("therapist")), pytest.raises(AccessDeniedError):
        await journals.create(gratitude_entry())

    assert await clinic.db.collection(JournalEntry).count_documents({}) == 0


async def test_her_therapist_cannot_share_an_entry_for_her(clinic: ClinicDb) -> None:
    journals = JournalRepository(clinic.db)
    private, _ = await patients_entries(journals)

    with acting_as(actor_context("therapist")), pytest.raises(AccessDeniedError):
        await journals.share_with_care_team(private)


async def test_her_crisis_words_reach_the_care_team_though_she_cannot_read_detections(
    clinic: ClinicDb,
) -> None:
    journals = JournalRepository(clinic.db)
    crises = create_crisis_detection_repository(clinic.db)

    with acting_as(actor_context("patient")):
        entry = await journals.create(crisis_entry())
        with pytest.raises(AccessDeniedError):
            await crises.detections_for_patient(PATIENT)

    with acting_as(SYSTEM):
        found = await crises.detections_for_patient(PATIENT)
    assert entry.shared_with_care_team is False
    assert CrisisType.SUICIDAL_IDEATION in {d.crisis_type for d in found}
