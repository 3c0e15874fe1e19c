"""Break-glass emergency access, on both backends: what an on-call clinician may
read during the grant, how the audit trail shows it, what stays closed, and what
happens to a grant without a reason or past its time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from tests.conftest import BACKENDS
from tests.support.access_data import (
    EMERGENCY_REASON,
    ON_CALL,
    OTHER_PATIENT,
    PATIENT,
    ClinicDatabase,
    ClinicDb,
    clinic_database_on,
    on_call_grant,
    reseeded,
    session_with_process_notes,
)
from tests.support.clinical_data import active_relationship, depression_plan
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    PurposeOfUse,
    TherapySession,
    UserRole,
    ValidationError,
    acting_as,
)
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.sessions import TherapySessionRepository
from wellness_repo.security.policy import Operation

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


async def test_during_the_grant_the_on_call_clinician_reads_the_patients_chart(
    clinic: ClinicDb,
) -> None:
    with acting_as(on_call_grant()):
        plan = await TreatmentPlanRepository(clinic.db).get(clinic.clinic.plan)
        moods = await MoodEntryRepository(clinic.db).count(user_id=PATIENT)
        sessions = await TherapySessionRepository(clinic.db).patient_sessions(PATIENT)

    assert plan.patient_id == PATIENT
    assert moods == 1
    assert [session.id for session in sessions.items] == [clinic.clinic.session]


async def test_break_glass_never_opens_psychotherapy_notes(clinic: ClinicDb) -> None:
    with acting_as(on_call_grant()):
        session = await TherapySessionRepository(clinic.db).get(clinic.clinic.session)

    assert session.session_notes is not None
    assert "psychotherapy_notes" not in session.model_fields_set


async def test_every_read_under_the_grant_is_flagged_in_the_audit(
    clinic: ClinicDb,
) -> None:
    mark = len(clinic.auditor.events)

    with acting_as(on_call_grant()):
        await TreatmentPlanRepository(clinic.db).get(clinic.clinic.plan)

    (event,) = clinic.auditor.events[mark:]
    assert event.operation is Operation.READ
    assert event.context.is_break_glass
    assert event.context.emergency_reason == EMERGENCY_REASON
    assert event.patient_ids == (PATIENT,)


async def test_break_glass_does_not_let_the_clinician_write_the_chart(
    clinic: ClinicDb,
) -> None:
    sessions = TherapySessionRepository(clinic.db)
    before = await clinic.db.collection(TherapySession).count_documents({})
    crisis_note = session_with_process_notes(
        therapist_id=ON_CALL,
        psychotherapy_notes=None,
        psychotherapy_notes_author_id=None,
    )

    with acting_as(on_call_grant()), pytest.raises(AccessDeniedError):
        await sessions.create(crisis_note)

    assert await clinic.db.collection(TherapySession).count_documents({}) == before
    assert clinic.auditor.events[-1].outcome == "denied"
    assert clinic.auditor.events[-1].context.is_break_glass


async def test_the_grant_keeps_the_clinicians_own_patients_writable(
    clinic: ClinicDb,
) -> None:
    await TherapeuticRelationshipRepository(clinic.db).create(
        active_relationship(patient_id=OTHER_PATIENT, therapist_id=ON_CALL)
    )

    with acting_as(on_call_grant()):
        written = await TreatmentPlanRepository(clinic.db).create(
            depression_plan(patient_id=OTHER_PATIENT, therapist_id=ON_CALL)
        )

    assert written.patient_id == OTHER_PATIENT


async def test_an_expired_grant_is_refused(clinic: ClinicDb) -> None:
    plans = TreatmentPlanRepository(clinic.db)
    grant = on_call_grant(minutes=0.005)
    await asyncio.sleep(0.4)

    with acting_as(grant), pytest.raises(AccessDeniedError):
        await plans.get(clinic.clinic.plan)


async def test_break_glass_without_a_reason_writes_and_reads_nothing(
    clinic: ClinicDb,
) -> None:
    mark = len(clinic.auditor.events)
    stored = await clinic.db.collection(TherapySession).count_documents({})

    with pytest.raises(ValidationError) as raised:
        AccessContext(
            actor_id=ON_CALL,
            role=UserRole.PSYCHIATRIST,
            purpose=PurposeOfUse.EMERGENCY,
            expires_at=datetime.now(UTC) + timedelta(minutes=30),
        )

    assert (raised.value.field, raised.value.rule) == ("emergency_reason", "required")
    assert await clinic.db.collection(TherapySession).count_documents({}) == stored
    assert len(clinic.auditor.events) == mark


async def test_break_glass_for_too_long_is_refused_before_anything_is_read(
    clinic: ClinicDb,
) -> None:
    mark = len(clinic.auditor.events)

    with pytest.raises(ValidationError) as raised:
        AccessContext.break_glass(
            ON_CALL, UserRole.PSYCHIATRIST, EMERGENCY_REASON, minutes=240
        )

    assert (raised.value.field, raised.value.rule) == ("expires_at", "maximum")
    assert len(clinic.auditor.events) == mark
