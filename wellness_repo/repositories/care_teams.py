"""The care-team repository: membership that is never doubled and keeps its
history, role changes, meetings, closing a team, and the team lookups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import ConcurrencyError, DuplicateError, ValidationError
from wellness_repo.models.care import (
    CareTeam,
    CareTeamMeeting,
    CareTeamMember,
    CareTeamRole,
    CareTeamStatus,
)
from wellness_repo.models.referrals import PersonId
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.query.q import Q
from wellness_repo.repositories.care import (
    every_match,
    parse_argument,
    refuse_managed_changes,
)
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import validation_error

__all__ = ["CareTeamRepository"]

# Attempts at a revision-guarded read-modify-write before giving up; each retry
# means another writer changed the same team in between.
_ATTEMPTS = 5
# Written only by the team methods, each with its own guard.
_MANAGED_TEAM_FIELDS = ("members", "meetings", "status", "closed_at")


class CareTeamRepository(AsyncBaseRepository[CareTeam]):
    """Patients' care teams: membership, meetings, and closing a team."""

    model = CareTeam

    async def add_team_member(
        self, team_id: str, provider_id: str, role: CareTeamRole
    ) -> CareTeam:
        """Add a provider to an active care team in a role.

        Atomic: the member is added only if the provider is not already an
        active member, so concurrent adds of one provider leave one entry. A
        provider who left the team may be added again; the earlier, ended entry
        stays as history.

        Raises:
            DuplicateError: the provider is already an active member.
            ValidationError: bad input, or the team is closed (``team_closed``).
            NotFoundError: no such team.
        """
        try:
            member = CareTeamMember(provider_id=provider_id, role=role)
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity, team_id) from None
        for _attempt in range(_ATTEMPTS):
            updated = await self._atomic_update(
                team_id,
                {"$push": {"members": member.model_dump()}},
                guard={
                    "status": CareTeamStatus.ACTIVE.value,
                    "$nor": [{"members": self._active_entry(member.provider_id)}],
                },
                changed=("members",),
            )
            if updated is not None:
                self.logger.info("care team %s gained a member", team_id)
                return updated
            team = await self._open_team(team_id)
            if team.active_member(member.provider_id) is not None:
                raise DuplicateError(
                    "the provider is already an active member of this care team",
                    key=("members.provider_id",),
                    entity=self._entity,
                    entity_id=team_id,
                )
        raise self._kept_changing(team_id)

    async def remove_team_member(self, team_id: str, provider_id: str) -> CareTeam:
        """Take a provider off a care team: the entry is marked inactive with an
        end date and kept, so the team's history stays complete.

        Raises:
            ValidationError: the provider is not an active member
                (``not_a_member``).
            NotFoundError: no such team.
        """
        provider = self._provider_id(provider_id, team_id)

        updated = await self._change_member(team_id, provider, _ended)
        self.logger.info("care team %s lost a member", team_id)
        return updated

    async def change_member_role(
        self, team_id: str, provider_id: str, role: CareTeamRole
    ) -> CareTeam:
        """Give an active member a new role on the team (no change if it is
        already theirs).

        Raises:
            ValidationError: the provider is not an active member
                (``not_a_member``), or the role is unknown.
            NotFoundError: no such team.
        """
        provider = self._provider_id(provider_id, team_id)
        new_role: CareTeamRole = parse_argument(
            CareTeamRole, role, field="role", entity=self._entity, entity_id=team_id
        )

        def reassign(member: CareTeamMember) -> CareTeamMember:
            return member.model_copy(update={"role": new_role})

        updated = await self._change_member(team_id, provider, reassign)
        self.logger.info("care team %s member role changed", team_id)
        return updated

    async def record_team_meeting(
        self,
        team_id: str,
        held_at: datetime,
        attendees: list[str],
        decisions: list[str],
    ) -> CareTeam:
        """Record a meeting an active care team held: when, who attended, and the
        decisions taken (stored encrypted).

        Raises:
            ValidationError: a meeting in the future, no attendees, an attendee
                listed twice, or a closed team (``team_closed``).
            NotFoundError: no such team.
        """
        try:
            meeting = CareTeamMeeting(
                held_at=held_at,
                attendees=attendees,
                decisions=decisions,
                recorded_by=self._context().actor_id,
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity, team_id) from None
        if meeting.held_at > utc_now():
            raise ValidationError(
                "a meeting is recorded after it is held",
                field="held_at",
                rule="future_meeting",
                entity=self._entity,
                entity_id=team_id,
            )
        updated = await self._atomic_update(
            team_id,
            {"$push": {"meetings": meeting.model_dump()}},
            guard={"status": CareTeamStatus.ACTIVE.value},
            changed=("meetings",),
        )
        if updated is None:
            await self._open_team(team_id)
            raise self._kept_changing(team_id)
        self.logger.info("care team %s meeting recorded", team_id)
        return updated

    async def close_care_team(self, team_id: str) -> CareTeam:
        """Close a patient's care team: every membership ends now, and the
        patient may have a new active team.

        Raises:
            ValidationError: the team is already closed (``invalid_transition``).
            NotFoundError: no such team.
        """
        for _attempt in range(_ATTEMPTS):
            team = await self.get(team_id)
            if team.status is CareTeamStatus.CLOSED:
                raise ValidationError(
                    "the care team is already closed",
                    field="status",
                    rule="invalid_transition",
                    entity=self._entity,
                    entity_id=team_id,
                )
            now = utc_now()
            members = [
                _ended(member, now) if member.active else member
                for member in team.members
            ]
            updated = await self._atomic_update(
                team_id,
                {
                    "$set": {
                        "status": CareTeamStatus.CLOSED.value,
                        "closed_at": now,
                        "members": [member.model_dump() for member in members],
                    }
                },
                guard={"_rev": team.revision},
                changed=("status", "closed_at", "members"),
            )
            if updated is not None:
                self.logger.info("care team %s closed", team_id)
                return updated
        raise self._kept_changing(team_id)

    async def active_care_team(self, patient_id: str) -> CareTeam | None:
        """The patient's active care team, if they have one."""
        patient = parse_argument(
            PersonId, patient_id, field="patient_id", entity=self._entity
        )
        return await self.find_one_by(patient_id=patient, status=CareTeamStatus.ACTIVE)

    async def care_teams_of_provider(self, provider_id: str) -> list[CareTeam]:
        """The active care teams a provider leads or is an active member of."""
        provider = self._provider_id(provider_id, None)
        member = {"provider_id": provider, "active": True}
        where = Q(status=CareTeamStatus.ACTIVE) & (
            Q(primary_provider_id=provider) | Q(members__elem_match=member)
        )
        return await every_match(self, QueryOptions(filters=where))

    async def update(self, entity: CareTeam) -> CareTeam:
        """Store other changes to a care team (goals, approach, communication
        plan, primary provider).

        Membership, meetings and closing change only through the team methods,
        which keep them atomic and their history intact.

        Raises:
            ValidationError: ``managed_field`` when one of those differs from the
                stored team.
            ConcurrencyError: the team changed since it was read.
        """
        self._check_type(entity)
        await refuse_managed_changes(self, entity, _MANAGED_TEAM_FIELDS)
        return await super().update(entity)

    async def _change_member(
        self,
        team_id: str,
        provider_id: str,
        change: Callable[[CareTeamMember], CareTeamMember],
    ) -> CareTeam:
        # A revision-guarded read-modify-write rather than a positional update:
        # the embedded backend applies "members.$" to the first element whatever
        # the guard matched, which would change the wrong member.
        for _attempt in range(_ATTEMPTS):
            team = await self.get(team_id)
            current = team.active_member(provider_id)
            if current is None:
                raise ValidationError(
                    "the provider is not an active member of this care team",
                    field="provider_id",
                    rule="not_a_member",
                    entity=self._entity,
                    entity_id=team_id,
                )
            changed: CareTeamMember = change(current)
            if changed == current:
                return team
            members = [changed if m is current else m for m in team.members]
            updated = await self._atomic_update(
                team_id,
                {"$set": {"members": [member.model_dump() for member in members]}},
                guard={"_rev": team.revision},
                changed=("members",),
            )
            if updated is not None:
                return updated
        raise self._kept_changing(team_id)

    async def _open_team(self, team_id: str) -> CareTeam:
        team = await self.get(team_id)
        if team.status is CareTeamStatus.CLOSED:
            raise ValidationError(
                "the care team is closed",
                field="status",
                rule="team_closed",
                entity=self._entity,
                entity_id=team_id,
            )
        return team

    def _active_entry(self, provider_id: str) -> dict[str, Any]:
        return {"$elemMatch": {"provider_id": provider_id, "active": True}}

    def _provider_id(self, provider_id: Any, team_id: str | None) -> str:
        checked: str = parse_argument(
            PersonId,
            provider_id,
            field="provider_id",
            entity=self._entity,
            entity_id=team_id,
        )
        return checked

    def _kept_changing(self, team_id: str) -> ConcurrencyError:
        return ConcurrencyError(
            "the care team kept changing; the change was not applied",
            entity=self._entity,
            entity_id=team_id,
        )


def _ended(member: CareTeamMember, at: datetime | None = None) -> CareTeamMember:
    # Another server's clock may run slightly behind the one that added the
    # member; an end before the start would make the stored team unreadable.
    ended_at = max(at or utc_now(), member.since)
    return member.model_copy(update={"active": False, "ended_at": ended_at})
