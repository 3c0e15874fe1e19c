"""Every query the care-coordination repositories send, and every guarded write,
is served by an index on the real server over a seeded network: no collection
scan, no in-memory sort across many records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import DatabaseManager
from wellness_repo.models.care import CareTeam, CareTeamRole, Provider, ProviderType
from wellness_repo.models.referrals import (
    ReferralPriority,
    ReferralResult,
    ReferralStatus,
)
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.referrals import ReferralRepository

pytestmark = pytest.mark.integration

SPECIALTIES = [
    "Adult Psychiatry",
    "Child Psychiatry",
    "Addiction Psychiatry",
    "Trauma Therapy",
    "Eating Disorders",
]
PRIORITIES = list(ReferralPriority)
PATIENTS = [f"patient_{number:03d}" for number in range(60)]
PROVIDERS = [f"provider_{number:03d}" for number in range(150)]
START = date(2026, 1, 5)


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes the command's cost grow with the collection: a collection scan,
    an unpinned in-memory sort, or an index walked end to end (an ``_id`` index
    scanned whole to return records in id order reads every record too)."""
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


def network() -> list[Provider]:
    """150 providers across five specialties, licences expiring over two years."""
    return [
        Provider(
            first_name=f"Clinician{number}",
            last_name=f"Surname{number % 37:02d}",
            provider_type=list(ProviderType)[number % len(ProviderType)],
            specialties=[SPECIALTIES[number % 5], SPECIALTIES[(number + 2) % 5]],
            license_number=f"LIC{number:05d}",
            license_state=["NY", "CA", "TX"][number % 3],
            license_expires_on=START + timedelta(days=5 * number),
            accepting_new_patients=number % 3 != 0,
        )
        for number in range(len(PROVIDERS))
    ]


async def test_care_coordination_queries_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        providers = ProviderRepository(db)
        referrals = ReferralRepository(db)
        teams = CareTeamRepository(db)
        await providers.create_many(network())
        for index, patient in enumerate(PATIENTS):
            for offset in range(5):
                referral = await referrals.create_referral(
                    patient_id=patient,
                    referring_provider_id=PROVIDERS[index],
                    receiving_provider_id=PROVIDERS[(index + offset + 1) % 150],
                    referral_reason="Assessment for persistent low mood",
                    priority=PRIORITIES[(index + offset) % 3],
                )
                if offset % 2:
                    await referrals.update_referral_status(
                        referral.id, ReferralStatus.ACCEPTED
                    )
            team = await teams.create(
                CareTeam(patient_id=patient, primary_provider_id=PROVIDERS[index])
            )
            await teams.add_team_member(
                team.id, PROVIDERS[index + 60], CareTeamRole.PSYCHIATRIST
            )
        referral = await referrals.create_referral(
            "patient_007", "provider_007", "provider_099", "Medication review"
        )
        active = await teams.active_care_team("patient_007")
        assert active is not None
        team = active
        recorder.recording = True

        await providers.find_providers_by_specialty("Trauma Therapy")
        await providers.find_providers_by_specialty(
            "Adult Psychiatry", accepting_patients=True
        )
        await providers.licenses_expiring_within(60, today=START)
        await providers.licenses_expiring_within(30, today=START, include_expired=True)
        await providers.renew_license(
            (await providers.find_providers_by_specialty("Eating Disorders"))[0].id,
            date(2030, 1, 1),
        )
        await referrals.overdue_referrals(now=datetime.now(UTC) + timedelta(days=4))
        await referrals.referrals_for_patient("patient_007")
        await referrals.referral_queue("provider_099")
        await referrals.change_referral_priority(referral.id, ReferralPriority.URGENT)
        await referrals.update_referral_status(referral.id, ReferralStatus.ACCEPTED)
        await referrals.record_authorization(referral.id, "PA-1")
        for step in (ReferralStatus.SCHEDULED, ReferralStatus.COMPLETED):
            await referrals.update_referral_status(referral.id, step)
        await referrals.document_referral_outcome(
            referral.id, ReferralResult.TREATMENT_STARTED
        )
        await teams.active_care_team("patient_007")
        await teams.care_teams_of_provider("provider_067")
        await teams.add_team_member(team.id, "nurse_221", CareTeamRole.NURSE)
        await teams.change_member_role(
            team.id, "nurse_221", CareTeamRole.CARE_COORDINATOR
        )
        await teams.remove_team_member(team.id, "nurse_221")
        await teams.record_team_meeting(
            team.id, datetime.now(UTC) - timedelta(days=1), ["provider_007"], []
        )
        await teams.close_care_team(team.id)
        recorder.recording = False

        assert len(recorder.commands) >= 25
        for command in recorder.commands:
            assert await scan_problems(db, command) == [], command


async def test_the_index_check_would_flag_a_directory_search_by_name_alone(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        providers = ProviderRepository(db)
        await providers.create_many(network()[:20])
        recorder.recording = True

        await providers.find_by(last_name="Surname03")
        recorder.recording = False

        assert await scan_problems(db, recorder.commands[0]) == [
            "IXSCAN _id_ end to end"
        ]
