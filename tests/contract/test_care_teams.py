"""Care teams: one active team per patient, membership that is never doubled and
keeps its history, role changes, meetings, and closing a team, on both backends."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import SYSTEM, drop_and_close
from tests.support.care_data import (
    PATIENT,
    RECEIVING_PSYCHIATRIST,
    REFERRING_THERAPIST,
    care_team,
    open_sealed_database,
    stored_count,
    stored_document,
)
from wellness_repo import (
    AccessContext,
    BaseRepository,
    DatabaseManager,
    DuplicateError,
    NotFoundError,
    UserRole,
    ValidationError,
    acting_as,
    connect_sync,
)
from wellness_repo.models.care import (
    CareTeam,
    CareTeamMember,
    CareTeamRole,
    CareTeamStatus,
    CommunicationChannel,
    CommunicationPlan,
    MeetingFrequency,
)
from wellness_repo.repositories.care_teams import CareTeamRepository

NURSE = "nurse_221"
COORDINATOR = "coordinator_310"
LAST_WEEK = datetime.now(UTC) - timedelta(days=7)


@pytest.fixture
def teams(db: DatabaseManager) -> CareTeamRepository:
    return CareTeamRepository(db)


@pytest.fixture
async def team(teams: CareTeamRepository) -> CareTeam:
    return await teams.create(care_team())


# ------------------------------------------------------------------ records


async def test_the_seed_team_gains_the_seed_psychiatrist(
    teams: CareTeamRepository,
) -> None:
    team = CareTeam(
        patient_id="patient_123",
        primary_provider_id="therapist_456",
        shared_goals=["Symptom reduction", "Improved functioning"],
        treatment_approach="Integrated therapy and medication",
    )
    team = await teams.create(team)

    updated = await teams.add_team_member(
        team_id=team.team_id,
        provider_id="psychiatrist_789",
        role=CareTeamRole.PSYCHIATRIST,
    )

    (member,) = updated.members
    assert (member.provider_id, member.role) == ("psychiatrist_789", "psychiatrist")
    assert member.active
    assert member.ended_at is None
    assert await teams.get(team.id) == updated


async def test_a_team_keeps_its_communication_plan(teams: CareTeamRepository) -> None:
    plan = CommunicationPlan(
        preferred_channel=CommunicationChannel.VIDEO,
        meeting_frequency=MeetingFrequency.BIWEEKLY,
        notes="Call the psychiatrist before any medication change",
    )

    team = await teams.create(care_team(communication_plan=plan))

    assert (await teams.get(team.id)).communication_plan == plan


async def test_a_patient_has_one_active_team(
    db: DatabaseManager, teams: CareTeamRepository, team: CareTeam
) -> None:
    with pytest.raises(DuplicateError) as raised:
        await teams.create(care_team(primary_provider_id="therapist_999"))

    assert raised.value.key == ("patient_id",)
    assert await stored_count(db, CareTeam) == 1


async def test_a_closed_team_makes_room_for_a_new_one(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.close_care_team(team.id)

    successor = await teams.create(care_team(primary_provider_id="therapist_999"))

    assert await teams.active_care_team(PATIENT) == successor


async def test_a_removed_team_makes_room_for_a_new_one(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.delete(team.id)

    successor = await teams.create(care_team())

    assert await teams.active_care_team(PATIENT) == successor


async def test_a_team_listing_one_provider_twice_as_active_is_refused(
    db: DatabaseManager, teams: CareTeamRepository
) -> None:
    twice = [
        CareTeamMember(provider_id=NURSE, role=CareTeamRole.NURSE),
        CareTeamMember(provider_id=NURSE, role=CareTeamRole.CARE_COORDINATOR),
    ]
    values = {**dict(care_team()), "members": twice}

    with pytest.raises(ValidationError) as raised:
        await teams.create(CareTeam.model_construct(**values))

    assert (raised.value.field, raised.value.rule) == ("members", "duplicate_member")
    assert await stored_count(db, CareTeam) == 0


# --------------------------------------------------------------- membership


async def test_a_provider_is_never_added_twice(
    db: DatabaseManager, teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(DuplicateError) as raised:
        await teams.add_team_member(team.id, NURSE, CareTeamRole.CARE_COORDINATOR)

    assert raised.value.key == ("members.provider_id",)
    assert await stored_document(db, CareTeam, team.id) == before


async def test_a_closed_team_takes_no_new_members(
    db: DatabaseManager, teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.close_care_team(team.id)
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)

    assert raised.value.rule == "team_closed"
    assert await stored_document(db, CareTeam, team.id) == before


@pytest.mark.parametrize(
    ("provider_id", "role", "field"),
    [("", CareTeamRole.NURSE, "provider_id"), (NURSE, "healer", "role")],
)
async def test_adding_a_member_refuses_bad_input_and_changes_nothing(
    db: DatabaseManager,
    teams: CareTeamRepository,
    team: CareTeam,
    provider_id: str,
    role: Any,
    field: str,
) -> None:
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.add_team_member(team.id, provider_id, role)

    assert raised.value.field == field
    assert await stored_document(db, CareTeam, team.id) == before


async def test_adding_to_an_unknown_team_is_not_found(
    teams: CareTeamRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await teams.add_team_member("team_missing", NURSE, CareTeamRole.NURSE)


async def test_removing_a_member_ends_their_place_and_keeps_it(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)

    updated = await teams.remove_team_member(team.id, NURSE)

    (member,) = updated.members
    assert member.active is False
    assert member.ended_at is not None
    assert member.ended_at >= member.since
    assert updated.active_members == []


async def test_a_member_added_by_a_server_with_a_faster_clock_can_be_removed(
    teams: CareTeamRepository,
) -> None:
    ahead = datetime.now(UTC) + timedelta(seconds=3)
    joined = CareTeamMember(provider_id=NURSE, role=CareTeamRole.NURSE, since=ahead)
    team = await teams.create(care_team(members=[joined]))

    updated = await teams.remove_team_member(team.id, NURSE)

    assert updated.members[0].ended_at == updated.members[0].since
    assert await teams.get(team.id) == updated


async def test_removing_one_member_leaves_the_others_untouched(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    for provider, role in [
        (RECEIVING_PSYCHIATRIST, CareTeamRole.PSYCHIATRIST),
        (NURSE, CareTeamRole.NURSE),
        (COORDINATOR, CareTeamRole.CARE_COORDINATOR),
    ]:
        await teams.add_team_member(team.id, provider, role)

    updated = await teams.remove_team_member(team.id, NURSE)

    assert [(m.provider_id, m.active) for m in updated.members] == [
        (RECEIVING_PSYCHIATRIST, True),
        (NURSE, False),
        (COORDINATOR, True),
    ]


async def test_removing_a_provider_who_is_not_a_member_is_refused(
    db: DatabaseManager, teams: CareTeamRepository, team: CareTeam
) -> None:
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.remove_team_member(team.id, NURSE)

    assert (raised.value.field, raised.value.rule) == ("provider_id", "not_a_member")
    assert await stored_document(db, CareTeam, team.id) == before


async def test_a_member_who_left_can_rejoin_and_their_past_place_is_kept(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    await teams.remove_team_member(team.id, NURSE)

    updated = await teams.add_team_member(team.id, NURSE, CareTeamRole.CARE_COORDINATOR)

    assert [(m.role, m.active) for m in updated.members] == [
        (CareTeamRole.NURSE, False),
        (CareTeamRole.CARE_COORDINATOR, True),
    ]


async def test_changing_a_role_changes_only_that_members_current_place(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    await teams.remove_team_member(team.id, NURSE)
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    await teams.add_team_member(team.id, COORDINATOR, CareTeamRole.CASE_MANAGER)

    updated = await teams.change_member_role(
        team.id, NURSE, CareTeamRole.CARE_COORDINATOR
    )

    assert [(m.provider_id, m.role, m.active) for m in updated.members] == [
        (NURSE, CareTeamRole.NURSE, False),
        (NURSE, CareTeamRole.CARE_COORDINATOR, True),
        (COORDINATOR, CareTeamRole.CASE_MANAGER, True),
    ]
    assert await teams.get(team.id) == updated


async def test_giving_a_member_the_role_they_have_writes_nothing(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    added = await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)

    unchanged = await teams.change_member_role(team.id, NURSE, CareTeamRole.NURSE)

    assert unchanged.revision == added.revision


@pytest.mark.parametrize(
    ("provider_id", "role", "field", "rule"),
    [
        (COORDINATOR, CareTeamRole.NURSE, "provider_id", "not_a_member"),
        (NURSE, "healer", "role", "enum"),
        ("", CareTeamRole.NURSE, "provider_id", "string_too_short"),
    ],
)
async def test_changing_a_role_refuses_bad_input_and_changes_nothing(
    db: DatabaseManager,
    teams: CareTeamRepository,
    team: CareTeam,
    provider_id: str,
    role: Any,
    field: str,
    rule: str,
) -> None:
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.change_member_role(team.id, provider_id, role)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await stored_document(db, CareTeam, team.id) == before


@pytest.mark.parametrize("method", ["remove_team_member", "change_member_role"])
async def test_changing_membership_of_an_unknown_team_is_not_found(
    teams: CareTeamRepository, method: str
) -> None:
    arguments = (NURSE,) if method == "remove_team_member" else (NURSE, "nurse")

    with pytest.raises(NotFoundError):
        await getattr(teams, method)("team_missing", *arguments)


async def test_a_plain_update_cannot_change_membership(
    db: DatabaseManager, teams: CareTeamRepository, team: CareTeam
) -> None:
    before = await stored_document(db, CareTeam, team.id)
    joined = CareTeamMember(provider_id=NURSE, role=CareTeamRole.NURSE)

    with pytest.raises(ValidationError) as raised:
        await teams.update(team.model_copy(update={"members": [joined]}))

    assert (raised.value.field, raised.value.rule) == ("members", "managed_field")
    assert await stored_document(db, CareTeam, team.id) == before


async def test_a_plain_update_may_revise_goals_and_approach(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    revised = team.model_copy(
        update={
            "shared_goals": ["Return to work part-time"],
            "treatment_approach": "Add behavioural activation",
        }
    )

    updated = await teams.update(revised)

    assert updated.shared_goals == ["Return to work part-time"]
    assert (await teams.get(team.id)).treatment_approach == "Add behavioural activation"


# ------------------------------------------------------------------ meetings


async def test_a_team_meeting_is_recorded_with_who_recorded_it(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    with acting_as(AccessContext(actor_id=COORDINATOR, role=UserRole.CARE_COORDINATOR)):
        updated = await teams.record_team_meeting(
            team.id,
            held_at=LAST_WEEK,
            attendees=[REFERRING_THERAPIST, RECEIVING_PSYCHIATRIST],
            decisions=["Start sertraline 50 mg", "Weekly CBT continues"],
        )

    (meeting,) = updated.meetings
    assert meeting.attendees == [REFERRING_THERAPIST, RECEIVING_PSYCHIATRIST]
    assert meeting.decisions == ["Start sertraline 50 mg", "Weekly CBT continues"]
    assert meeting.recorded_by == COORDINATOR
    assert await teams.get(team.id) == updated


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"held_at": datetime.now(UTC) + timedelta(days=1)}, "held_at"),
        ({"held_at": datetime(2026, 3, 2, 15, 0)}, "held_at"),
        ({"attendees": []}, "attendees"),
        ({"attendees": [NURSE, NURSE]}, "attendees"),
        ({"decisions": [""]}, "decisions.0"),
    ],
)
async def test_recording_a_meeting_refuses_bad_input_and_changes_nothing(
    db: DatabaseManager,
    teams: CareTeamRepository,
    team: CareTeam,
    changes: dict[str, Any],
    field: str,
) -> None:
    arguments: dict[str, Any] = {
        "held_at": LAST_WEEK,
        "attendees": [REFERRING_THERAPIST],
        "decisions": ["Continue current plan"],
    }
    arguments.update(changes)
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.record_team_meeting(team.id, **arguments)

    assert raised.value.field == field
    assert await stored_document(db, CareTeam, team.id) == before


async def test_a_closed_team_records_no_meetings(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.close_care_team(team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.record_team_meeting(team.id, LAST_WEEK, [NURSE], ["Discharge"])

    assert raised.value.rule == "team_closed"


async def test_recording_a_meeting_of_an_unknown_team_is_not_found(
    teams: CareTeamRepository,
) -> None:
    with pytest.raises(NotFoundError):
        await teams.record_team_meeting("team_missing", LAST_WEEK, [NURSE], [])


# ------------------------------------------------------------------ closing


async def test_closing_a_team_ends_every_membership(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    await teams.add_team_member(team.id, COORDINATOR, CareTeamRole.CARE_COORDINATOR)

    closed = await teams.close_care_team(team.id)

    assert closed.status is CareTeamStatus.CLOSED
    assert closed.closed_at is not None
    assert [m.ended_at for m in closed.members] == [closed.closed_at] * 2
    assert await teams.active_care_team(PATIENT) is None


async def test_a_closed_team_cannot_be_closed_again(
    db: DatabaseManager, teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.close_care_team(team.id)
    before = await stored_document(db, CareTeam, team.id)

    with pytest.raises(ValidationError) as raised:
        await teams.close_care_team(team.id)

    assert (raised.value.field, raised.value.rule) == ("status", "invalid_transition")
    assert await stored_document(db, CareTeam, team.id) == before


async def test_closing_an_unknown_team_is_not_found(teams: CareTeamRepository) -> None:
    with pytest.raises(NotFoundError):
        await teams.close_care_team("team_missing")


# ------------------------------------------------------------------ queries


async def test_the_active_team_of_a_patient_is_found(
    teams: CareTeamRepository, team: CareTeam
) -> None:
    await teams.create(care_team(patient_id="patient_999"))

    found = await teams.active_care_team(PATIENT)

    assert found == team


async def test_a_patient_without_a_team_has_no_active_team(
    teams: CareTeamRepository,
) -> None:
    found = await teams.active_care_team(PATIENT)

    assert found is None


async def test_a_providers_teams_are_those_they_lead_or_currently_serve(
    teams: CareTeamRepository,
) -> None:
    led = await teams.create(care_team(primary_provider_id=NURSE))
    served = await teams.create(care_team(patient_id="patient_200"))
    await teams.add_team_member(served.id, NURSE, CareTeamRole.NURSE)
    left = await teams.create(care_team(patient_id="patient_300"))
    await teams.add_team_member(left.id, NURSE, CareTeamRole.NURSE)
    await teams.remove_team_member(left.id, NURSE)
    closed = await teams.create(care_team(patient_id="patient_400"))
    await teams.add_team_member(closed.id, NURSE, CareTeamRole.NURSE)
    await teams.close_care_team(closed.id)

    found = await teams.care_teams_of_provider(NURSE)

    assert sorted(found_team.id for found_team in found) == sorted([led.id, served.id])


@pytest.mark.parametrize("method", ["active_care_team", "care_teams_of_provider"])
async def test_team_lookups_refuse_a_blank_id(
    teams: CareTeamRepository, method: str
) -> None:
    with pytest.raises(ValidationError):
        await getattr(teams, method)("  ")


# ------------------------------------------------------------------ logging


async def test_team_work_logs_no_clinical_words(
    teams: CareTeamRepository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    team = await teams.create(care_team(treatment_approach="DBT for self-harm urges"))
    await teams.add_team_member(team.id, NURSE, CareTeamRole.NURSE)
    await teams.record_team_meeting(
        team.id, LAST_WEEK, [NURSE], ["Remove razors from the home"]
    )
    await teams.close_care_team(team.id)

    logged = "\n".join(record.getMessage() for record in caplog.records)

    assert team.id in logged
    for secret in ("self-harm", "razors", "Symptom reduction"):
        assert secret not in logged


# --------------------------------------------------------------- encryption


@pytest.fixture
async def sealed_db(backend: str, mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    manager = await open_sealed_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield manager
    finally:
        await drop_and_close(manager)


async def test_goals_approach_plan_notes_and_decisions_are_stored_sealed(
    sealed_db: DatabaseManager,
) -> None:
    teams = CareTeamRepository(sealed_db)
    plan = CommunicationPlan(notes="Mother is the emergency contact")
    team = await teams.create(care_team(communication_plan=plan))

    updated = await teams.record_team_meeting(
        team.id, LAST_WEEK, [REFERRING_THERAPIST], ["Taper lorazepam over six weeks"]
    )

    raw = repr(await stored_document(sealed_db, CareTeam, team.id))
    for secret in ["Symptom reduction", "Integrated therapy", "Mother", "lorazepam"]:
        assert secret not in raw
    assert updated.meetings[0].decisions == ["Taper lorazepam over six weeks"]
    assert await teams.get(team.id) == updated


def test_the_seed_calls_work_blocking_through_the_sync_facade() -> None:
    with connect_sync(context=SYSTEM) as db:
        repo: BaseRepository[CareTeam] = BaseRepository(
            CareTeamRepository(db.manager), db
        )
        team = repo.create(care_team())

        repo.add_team_member(
            team_id=team.team_id,
            provider_id="psychiatrist_789",
            role=CareTeamRole.PSYCHIATRIST,
        )
        stored = repo.get(team.team_id)

    assert [member.provider_id for member in stored.members] == ["psychiatrist_789"]
