"""Care coordination: the provider network with its credentials, and each
patient's multidisciplinary care team. Referrals live in
``wellness_repo.models.referrals``; all three are listed in ``CARE_MODELS``."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import (
    EmbeddedModel,
    SoftDeletableDocument,
    WellnessDocument,
)
from wellness_repo.models.referrals import CareNote, PersonId, Referral
from wellness_repo.models.types import (
    CalendarDate,
    Encrypted,
    UtcDatetime,
    new_id,
    utc_now,
)
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "CARE_MODELS",
    "US_LICENSING_JURISDICTIONS",
    "CareTeam",
    "CareTeamMeeting",
    "CareTeamMember",
    "CareTeamRole",
    "CareTeamStatus",
    "CommunicationChannel",
    "CommunicationPlan",
    "MeetingFrequency",
    "NetworkStatus",
    "Provider",
    "ProviderType",
    "Specialty",
]

US_LICENSING_JURISDICTIONS = frozenset(
    {
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID",
        "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS",
        "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK",
        "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
        "WI", "WY", "DC", "PR", "GU", "VI", "AS", "MP",
    }
)  # fmt: skip
"""Two-letter codes of the US states, DC and the territories, whose boards issue
professional licences."""

_LICENSE_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9./-]{0,31}$")


def _license_number(value: str) -> str:
    # Boards print numbers in mixed case and with stray spaces; stored one way,
    # " md12345 " and "MD12345" are the same licence to the unique index.
    normalised = value.strip().upper()
    if not _LICENSE_NUMBER.match(normalised):
        raise PydanticCustomError(
            "license_number_format",
            "a licence number is 1 to 32 letters, digits, '.', '/' or '-'",
        )
    return normalised


def _jurisdiction(value: str) -> str:
    code = value.strip().upper()
    if code not in US_LICENSING_JURISDICTIONS:
        raise PydanticCustomError(
            "us_state_code", "expected a two-letter US state or territory code"
        )
    return code


def _distinct(labels: list[str]) -> list[str]:
    # The same specialty listed twice means nothing more than once.
    return list(dict.fromkeys(labels))


LicenseNumber = Annotated[str, AfterValidator(_license_number)]
Jurisdiction = Annotated[str, AfterValidator(_jurisdiction)]
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Specialty = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Specialties = Annotated[list[Specialty], AfterValidator(_distinct)]


class ProviderType(StrEnum):
    """The discipline a provider practises in."""

    PSYCHIATRIST = "psychiatrist"
    PSYCHOLOGIST = "psychologist"
    THERAPIST = "therapist"
    LCSW = "lcsw"
    """Licensed clinical social worker."""
    LPC = "lpc"
    """Licensed professional counselor."""
    LMFT = "lmft"
    """Licensed marriage and family therapist."""
    PSYCHIATRIC_NURSE_PRACTITIONER = "psychiatric_nurse_practitioner"
    NURSE = "nurse"
    PRIMARY_CARE_PHYSICIAN = "primary_care_physician"
    CARE_COORDINATOR = "care_coordinator"
    CASE_MANAGER = "case_manager"
    PEER_SPECIALIST = "peer_specialist"


class NetworkStatus(StrEnum):
    """Whether the platform's network has contracted with a provider."""

    IN_NETWORK = "in_network"
    OUT_OF_NETWORK = "out_of_network"
    PENDING = "pending"
    """Credentialing is under way; not yet to be presented as in network."""


class Provider(SoftDeletableDocument):
    """A clinician or care worker in the provider network, with credentials.

    ``specialty="Adult Psychiatry"`` is accepted as a shorthand that puts one
    specialty first in ``specialties``; ``provider.specialty`` reads it back.
    A licence number is unique per issuing state (an unknown state counts as one
    state of its own).
    """

    ID_NAME: ClassVar[str] = "provider_id"
    PATIENT_FIELD: ClassVar[str | None] = None
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PROVIDER_DIRECTORY)

    first_name: PersonName
    last_name: PersonName
    provider_type: ProviderType
    specialties: Specialties = Field(default_factory=list, max_length=20)
    subspecialties: Specialties = Field(default_factory=list, max_length=40)
    license_number: LicenseNumber | None = None
    license_state: Jurisdiction | None = None
    license_expires_on: CalendarDate | None = None
    # Off until the provider says otherwise, so no referral is routed to a
    # full caseload by default.
    accepting_new_patients: bool = False
    network_status: NetworkStatus = NetworkStatus.PENDING

    class Settings:
        name = "providers"

    @property
    def provider_id(self) -> str:
        """The platform's name for this provider's id."""
        return self.id

    @property
    def specialty(self) -> str | None:
        """The provider's main specialty: the first one listed."""
        return self.specialties[0] if self.specialties else None

    @model_validator(mode="before")
    @classmethod
    def _main_specialty_first(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "specialty" not in data:
            return data
        fields = dict(data)
        main = fields.pop("specialty")
        if main is not None:
            others = [item for item in fields.get("specialties") or () if item != main]
            fields["specialties"] = [main, *others]
        return fields

    @field_validator("license_state", "license_expires_on")
    @classmethod
    def _licence_details_need_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("license_number") is None:
            raise PydanticCustomError(
                "license_number_required",
                "a licence state or expiry needs a licence number",
            )
        return value


class CareTeamRole(StrEnum):
    """The part a provider plays on a patient's care team."""

    PRIMARY_THERAPIST = "primary_therapist"
    PSYCHIATRIST = "psychiatrist"
    PSYCHOLOGIST = "psychologist"
    THERAPIST = "therapist"
    PSYCHIATRIC_NURSE_PRACTITIONER = "psychiatric_nurse_practitioner"
    NURSE = "nurse"
    PRIMARY_CARE_PHYSICIAN = "primary_care_physician"
    CARE_COORDINATOR = "care_coordinator"
    CASE_MANAGER = "case_manager"
    SOCIAL_WORKER = "social_worker"
    PEER_SPECIALIST = "peer_specialist"
    PHARMACIST = "pharmacist"


class CareTeamStatus(StrEnum):
    """Whether a care team is coordinating a patient's care now."""

    ACTIVE = "active"
    CLOSED = "closed"


class CommunicationChannel(StrEnum):
    """How a care team's members reach each other between meetings."""

    SECURE_MESSAGE = "secure_message"
    PHONE = "phone"
    VIDEO = "video"
    IN_PERSON = "in_person"


class MeetingFrequency(StrEnum):
    """How often a care team meets to review the patient's care."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    AS_NEEDED = "as_needed"


class CommunicationPlan(EmbeddedModel):
    """How a care team keeps each other informed."""

    preferred_channel: CommunicationChannel = CommunicationChannel.SECURE_MESSAGE
    meeting_frequency: MeetingFrequency = MeetingFrequency.MONTHLY
    notes: CareNote = None


class CareTeamMember(EmbeddedModel):
    """One provider's place on a care team. Leaving marks the entry inactive with
    an end date, so the team's history shows who was on it when."""

    provider_id: PersonId
    role: CareTeamRole
    since: UtcDatetime = Field(default_factory=utc_now)
    active: bool = True
    ended_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _ended_exactly_when_inactive(self) -> CareTeamMember:
        if self.active == (self.ended_at is not None):
            raise PydanticCustomError(
                "membership_end", "a member has an end date exactly when inactive"
            )
        if self.ended_at is not None and self.ended_at < self.since:
            raise PydanticCustomError(
                "membership_end", "a membership cannot end before it began"
            )
        return self


Decision = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)
]


class CareTeamMeeting(EmbeddedModel):
    """A care-team meeting held: when, who attended, and what was decided."""

    meeting_id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    held_at: UtcDatetime
    attendees: list[PersonId] = Field(min_length=1, max_length=50)
    decisions: Annotated[list[Decision], Encrypted(), Field(max_length=50)] = Field(
        default_factory=list
    )
    recorded_by: PersonId

    @field_validator("attendees")
    @classmethod
    def _each_attendee_once(cls, attendees: list[str]) -> list[str]:
        if len(set(attendees)) != len(attendees):
            raise PydanticCustomError(
                "duplicate_attendee", "each attendee is listed once"
            )
        return attendees


Goal = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]


class CareTeam(SoftDeletableDocument):
    """The providers coordinating one patient's care, their shared goals and
    treatment approach, how they communicate, and their meetings.

    A patient has at most one active team (a unique partial index). Membership
    and meetings change through the repository's team methods; at most one
    active entry per provider is ever listed.
    """

    ID_NAME: ClassVar[str] = "team_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL)

    patient_id: PersonId
    primary_provider_id: PersonId
    status: CareTeamStatus = CareTeamStatus.ACTIVE
    closed_at: UtcDatetime | None = None
    shared_goals: Annotated[list[Goal], Encrypted(), Field(max_length=50)] = Field(
        default_factory=list
    )
    treatment_approach: CareNote = None
    communication_plan: CommunicationPlan = Field(default_factory=CommunicationPlan)
    members: list[CareTeamMember] = Field(default_factory=list, max_length=500)
    meetings: list[CareTeamMeeting] = Field(default_factory=list, max_length=2_000)

    class Settings:
        name = "care_teams"

    @property
    def team_id(self) -> str:
        """The platform's name for this team's id."""
        return self.id

    @property
    def active_members(self) -> list[CareTeamMember]:
        """The members currently on the team."""
        return [member for member in self.members if member.active]

    def active_member(self, provider_id: str) -> CareTeamMember | None:
        """The provider's current place on the team, if they have one."""
        for member in self.members:
            if member.active and member.provider_id == provider_id:
                return member
        return None

    @field_validator("closed_at")
    @classmethod
    def _closed_exactly_when_closed(cls, closed_at: Any, info: ValidationInfo) -> Any:
        closed = info.data.get("status") == CareTeamStatus.CLOSED
        if closed != (closed_at is not None):
            raise PydanticCustomError(
                "closed_at", "a team has a closing time exactly when it is closed"
            )
        return closed_at

    @field_validator("members")
    @classmethod
    def _one_active_place_per_provider(
        cls, members: list[CareTeamMember], info: ValidationInfo
    ) -> list[CareTeamMember]:
        current = [member.provider_id for member in members if member.active]
        if len(set(current)) != len(current):
            raise PydanticCustomError(
                "duplicate_member", "a provider is an active member only once"
            )
        if current and info.data.get("status") == CareTeamStatus.CLOSED:
            raise PydanticCustomError(
                "closed_team_member", "a closed team has no active members"
            )
        return members


CARE_MODELS: tuple[type[WellnessDocument], ...] = (Provider, Referral, CareTeam)
"""The care-coordination document models, listed in the registry so their
collections are bound and their index specs applied."""
