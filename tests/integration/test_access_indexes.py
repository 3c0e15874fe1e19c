"""The queries the role policy adds are served by indexes on the real server: the
care lookup (whose patients a clinician may reach) and the scoped reads it turns
into, over a seeded caseload."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import SYSTEM
from tests.support.access_data import clinician
from tests.support.clinical_data import active_relationship, depression_plan
from tests.support.explain import CommandRecorder, plan_stages, unindexed_stages
from tests.support.sessions_data import seed_session
from wellness_repo import (
    CareTeam,
    CareTeamMember,
    CareTeamRole,
    DatabaseManager,
    UserRole,
    acting_as,
    connect,
)
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)
from wellness_repo.repositories.sessions import TherapySessionRepository
from wellness_repo.security.care_directory import CareDirectory
from wellness_repo.security.role_policy import RolePolicy

pytestmark = pytest.mark.integration

THERAPISTS = [f"therapist_{number:03d}" for number in range(40)]
NURSES = [f"nurse_{number:03d}" for number in range(20)]
PATIENTS = [f"patient_{number:03d}" for number in range(200)]


async def problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes a command's cost grow with the collection: a collection scan,
    an unpinned in-memory sort, or an index walked from end to end."""
    found = await unindexed_stages(db, command)
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    for stage in plan_stages(explained["queryPlanner"]["winningPlan"]):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
    return found


async def seed_caseloads(db: DatabaseManager) -> None:
    """Five patients per therapist, one care team per patient with a nurse."""
    relationships = TherapeuticRelationshipRepository(db)
    await relationships.create_many(
        [
            active_relationship(patient_id=patient, therapist_id=THERAPISTS[index % 40])
            for index, patient in enumerate(PATIENTS)
        ]
    )
    await CareTeamRepository(db).create_many(
        [
            CareTeam(
                patient_id=patient,
                primary_provider_id=THERAPISTS[index % 40],
                members=[
                    CareTeamMember(
                        provider_id=NURSES[index % 20], role=CareTeamRole.NURSE
                    )
                ],
            )
            for index, patient in enumerate(PATIENTS)
        ]
    )
    await TreatmentPlanRepository(db).create_many(
        [depression_plan(patient_id=patient) for patient in PATIENTS]
    )
    await TherapySessionRepository(db).create_many(
        [seed_session(patient_id=patient) for patient in PATIENTS]
    )


async def test_the_care_lookup_and_the_scoped_reads_use_indexes(
    mongodb_uri: str,
) -> None:
    recorder = CommandRecorder()
    directory = CareDirectory(ttl_seconds=0)
    db = await connect(
        mongodb_uri,
        f"explain_{uuid.uuid4().hex[:12]}",
        context=SYSTEM,
        apply_indexes=True,
        policy=RolePolicy(directory),
        driver_options={"event_listeners": [recorder]},
    )
    try:
        await seed_caseloads(db)
        recorder.recording = True

        await directory.patients_of(THERAPISTS[7])
        await directory.patients_of(NURSES[3])
        with acting_as(clinician(THERAPISTS[7], UserRole.THERAPIST)):
            await TreatmentPlanRepository(db).plans_for_patient(PATIENTS[7])
            await TherapySessionRepository(db).patient_sessions(PATIENTS[7])
        recorder.recording = False

        assert len(recorder.commands) >= 8
        for command in recorder.commands:
            assert await problems(db, command) == [], command
    finally:
        await db.client.drop_database(db.database_name)
        await db.close()
