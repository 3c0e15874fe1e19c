"""Care coordination under real contention, on the real server: racing membership
changes, racing referral status changes, racing care-team and licence
registrations. Every race ends with exactly the records one writer would leave."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.care_data import (
    PATIENT,
    RECEIVING_PSYCHIATRIST,
    REFERRING_THERAPIST,
    care_team,
    psychiatrist,
    stored_count,
)
from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    DuplicateError,
    ValidationError,
)
from wellness_repo.models.care import CareTeam, CareTeamRole, Provider
from wellness_repo.models.referrals import (
    Referral,
    ReferralPriority,
    ReferralResult,
    ReferralStatus,
)
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.referrals import ReferralRepository

pytestmark = pytest.mark.integration

WRITERS = 10
NURSE = "nurse_221"


@pytest.fixture
def teams(mongo_db: DatabaseManager) -> CareTeamRepository:
    return CareTeamRepository(mongo_db)


@pytest.fixture
def referrals(mongo_db: DatabaseManager) -> ReferralRepository:
    return ReferralRepository(mongo_db)


async def sent_referral(referrals: ReferralRepository) -> Referral:
    """An urgent referral handed to the psychiatrist, awaiting an answer."""
    referral = await referrals.create_referral(
        patient_id=PATIENT,
        referring_provider_id=REFERRING_THERAPIST,
        receiving_provider_id=RECEIVING_PSYCHIATRIST,
        referral_reason="Worsening depression, PHQ-9 of 21, no current risk plan",
        priority=ReferralPriority.URGENT,
    )
    return await referrals.update_referral_status(referral.id, ReferralStatus.SENT)


# --------------------------------------------------------------- membership


async def test_ten_concurrent_adds_of_one_provider_leave_one_member(
    teams: CareTeamRepository,
) -> None:
    team = await teams.create(care_team())

    outcomes = await asyncio.gather(
        *(
            teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
            for _ in range(WRITERS)
        ),
        return_exceptions=True,
    )

    assert sum(isinstance(o, CareTeam) for o in outcomes) == 1
    assert sum(isinstance(o, DuplicateError) for o in outcomes) == WRITERS - 1
    stored = await teams.get(team.id)
    assert [member.provider_id for member in stored.members] == [NURSE]


async def test_concurrent_adds_of_different_providers_are_all_kept(
    teams: CareTeamRepository,
) -> None:
    team = await teams.create(care_team())
    providers = [f"provider_{number:02d}" for number in range(WRITERS)]

    await asyncio.gather(
        *(
            teams.add_team_member(team.id, provider, CareTeamRole.THERAPIST)
            for provider in providers
        )
    )

    stored = await teams.get(team.id)
    assert sorted(member.provider_id for member in stored.members) == providers


async def test_concurrent_removals_of_different_members_are_all_kept(
    teams: CareTeamRepository,
) -> None:
    team = await teams.create(care_team())
    providers = [f"provider_{number:02d}" for number in range(4)]
    for provider in providers:
        await teams.add_team_member(team.id, provider, CareTeamRole.THERAPIST)

    await asyncio.gather(
        *(teams.remove_team_member(team.id, provider) for provider in providers)
    )

    stored = await teams.get(team.id)
    assert stored.active_members == []
    assert len(stored.members) == len(providers)


async def test_a_role_change_racing_a_removal_loses_neither(
    teams: CareTeamRepository,
) -> None:
    team = await teams.create(care_team())
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    await teams.add_team_member(team.id, RECEIVING_PSYCHIATRIST, CareTeamRole.THERAPIST)

    await asyncio.gather(
        teams.remove_team_member(team.id, NURSE),
        teams.change_member_role(
            team.id, RECEIVING_PSYCHIATRIST, CareTeamRole.PSYCHIATRIST
        ),
    )

    stored = await teams.get(team.id)
    assert [(m.provider_id, m.role, m.active) for m in stored.members] == [
        (NURSE, CareTeamRole.NURSE, False),
        (RECEIVING_PSYCHIATRIST, CareTeamRole.PSYCHIATRIST, True),
    ]


async def test_two_concurrent_active_teams_for_one_patient_leave_one(
    mongo_db: DatabaseManager, teams: CareTeamRepository
) -> None:
    outcomes = await asyncio.gather(
        teams.create(care_team(primary_provider_id=REFERRING_THERAPIST)),
        teams.create(care_team(primary_provider_id="therapist_999")),
        return_exceptions=True,
    )

    assert sum(isinstance(o, CareTeam) for o in outcomes) == 1
    assert sum(isinstance(o, DuplicateError) for o in outcomes) == 1
    assert await stored_count(mongo_db, CareTeam) == 1


async def test_ten_concurrent_active_teams_for_one_patient_leave_one(
    mongo_db: DatabaseManager, teams: CareTeamRepository
) -> None:
    outcomes = await asyncio.gather(
        *(teams.create(care_team()) for _ in range(WRITERS)), return_exceptions=True
    )

    assert sum(isinstance(o, DuplicateError) for o in outcomes) == WRITERS - 1
    assert await stored_count(mongo_db, CareTeam) == 1


async def test_a_member_added_while_the_team_closes_never_stays_active(
    teams: CareTeamRepository,
) -> None:
    team = await teams.create(care_team())

    await asyncio.gather(
        teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE),
        teams.close_care_team(team.id),
        return_exceptions=True,
    )

    stored = await teams.get(team.id)
    assert stored.active_members == []


# ---------------------------------------------------------------- referrals


async def test_accept_racing_decline_lets_exactly_one_apply(
    referrals: ReferralRepository,
) -> None:
    referral = await sent_referral(referrals)

    outcomes = await asyncio.gather(
        referrals.update_referral_status(referral.id, ReferralStatus.ACCEPTED),
        referrals.update_referral_status(referral.id, ReferralStatus.DECLINED),
        return_exceptions=True,
    )

    (winner,) = [o for o in outcomes if isinstance(o, Referral)]
    (loser,) = [o for o in outcomes if not isinstance(o, Referral)]
    assert isinstance(loser, ValidationError)
    assert loser.rule == "invalid_transition"
    stored = await referrals.get(referral.id)
    assert stored == winner
    assert len(stored.status_history) == 3


async def test_ten_identical_transitions_apply_once(
    referrals: ReferralRepository,
) -> None:
    referral = await sent_referral(referrals)

    outcomes = await asyncio.gather(
        *(
            referrals.update_referral_status(referral.id, ReferralStatus.ACCEPTED)
            for _ in range(WRITERS)
        ),
        return_exceptions=True,
    )

    assert sum(isinstance(o, Referral) for o in outcomes) == 1
    assert sum(isinstance(o, ValidationError) for o in outcomes) == WRITERS - 1
    stored = await referrals.get(referral.id)
    assert [e.to_status for e in stored.status_history].count(
        ReferralStatus.ACCEPTED
    ) == 1


class ReadTogetherReferrals(ReferralRepository):
    """Makes the first ``readers`` reads wait for each other, so racing status
    changes are all judged from the same status before any of them writes."""

    def __init__(self, db: DatabaseManager, readers: int) -> None:
        super().__init__(db)
        self.barrier = asyncio.Barrier(readers)
        self.waiting = readers

    async def get(self, entity_id: str) -> Referral:
        record = await super().get(entity_id)
        if self.waiting > 0:
            self.waiting -= 1
            await self.barrier.wait()
        return record


async def test_accept_and_cancel_judged_from_one_status_let_exactly_one_apply(
    mongo_db: DatabaseManager, referrals: ReferralRepository
) -> None:
    referral = await sent_referral(referrals)
    racing = ReadTogetherReferrals(mongo_db, readers=2)

    outcomes = await asyncio.gather(
        racing.update_referral_status(referral.id, ReferralStatus.ACCEPTED),
        racing.update_referral_status(referral.id, ReferralStatus.CANCELLED),
        return_exceptions=True,
    )

    (winner,) = [o for o in outcomes if isinstance(o, Referral)]
    (loser,) = [o for o in outcomes if not isinstance(o, Referral)]
    assert isinstance(loser, ConcurrencyError | ValidationError)
    stored = await referrals.get(referral.id)
    assert stored == winner
    assert [e.from_status for e in stored.status_history[2:]] == ["sent"]


async def test_two_concurrent_outcomes_leave_the_first(
    referrals: ReferralRepository,
) -> None:
    referral = await sent_referral(referrals)
    for step in (
        ReferralStatus.ACCEPTED,
        ReferralStatus.SCHEDULED,
        ReferralStatus.COMPLETED,
    ):
        await referrals.update_referral_status(referral.id, step)

    outcomes = await asyncio.gather(
        referrals.document_referral_outcome(
            referral.id, ReferralResult.TREATMENT_STARTED
        ),
        referrals.document_referral_outcome(
            referral.id, ReferralResult.NO_TREATMENT_INDICATED
        ),
        return_exceptions=True,
    )

    (winner,) = [o for o in outcomes if isinstance(o, Referral)]
    assert (await referrals.get(referral.id)).outcome == winner.outcome


# ------------------------------------------------------------------ licences


async def test_ten_concurrent_registrations_of_one_licence_leave_one(
    mongo_db: DatabaseManager,
) -> None:
    providers = ProviderRepository(mongo_db)

    outcomes = await asyncio.gather(
        *(providers.create(psychiatrist()) for _ in range(WRITERS)),
        return_exceptions=True,
    )

    assert sum(isinstance(o, DuplicateError) for o in outcomes) == WRITERS - 1
    assert await stored_count(mongo_db, Provider) == 1
