"""Safety plans in the Stanley-Brown form, with their versions and the patient's
sign-off.

A plan lists, in the order a patient works through them in a crisis: warning
signs, internal coping strategies, people and places that distract, people to ask
for help, professionals and agencies to contact, steps that make the environment
safer, and reasons for living. All of it is stored encrypted.

Versions: the plan's own record (its ``plan_id``) always holds the current
version. Every change first copies the version it replaces into a record of its
own (``status`` superseded, ``plan_ref`` naming the plan), so every version stays
readable and a version number is written exactly once per plan.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import EmbeddedModel, SoftDeletableDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import CalendarDate, Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "LIFELINE",
    "ContactMethod",
    "PatientAcknowledgment",
    "PlanStatus",
    "SafetyContact",
    "SafetyPlan",
    "checked_phone",
]

_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"\+[1-9]\d{7,14}")
# NANP: an area code never starts with 0 or 1; the exchange is not checked, as
# the seed's "(555) 123-4567" shows fictional numbers must pass.
_US_NATIONAL = re.compile(
    r"(?:\+?1[\s.-]?)?(?:\([2-9]\d{2}\)|[2-9]\d{2})[\s.-]?\d{3}[\s.-]?\d{4}"
)
# 988 (the lifeline), N11 service codes (211, 911...), and SMS short codes of
# five or six digits (the Crisis Text Line's 741741).
_SHORT_CODE = re.compile(r"988|[2-9]11|\d{5,6}")
_LIFELINE_DIGITS = "988"


def checked_phone(value: str) -> str:
    """A contact's phone number as written, if it is one a patient can dial.

    Accepted: E.164 (``+44 20 7946 0958``, separators allowed), US numbers in
    their usual forms (``(555) 123-4567``, ``555-123-4567``, ``+1 555 123
    4567``), 988, N11 service codes and five- or six-digit SMS short codes.
    """
    text = value.strip()
    digits = _SEPARATORS.sub("", text)
    if _SHORT_CODE.fullmatch(text) or _US_NATIONAL.fullmatch(text):
        return text
    # Other countries in E.164; a +1 number must also pass the US rules above.
    if text.startswith("+") and not digits.startswith("+1") and _E164.fullmatch(digits):
        return text
    raise PydanticCustomError(
        "phone_format",
        "not a phone number: use E.164 (+15551234567), a US number such as "
        "(555) 123-4567, or a service code such as 988",
    )


Phone = Annotated[str, AfterValidator(checked_phone)]
PlanItem = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]
PlanItems = Annotated[list[PlanItem], Encrypted(), Field(max_length=50)]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


class ContactMethod(StrEnum):
    """How a contact can be reached."""

    CALL = "call"
    TEXT = "text"


class SafetyContact(EmbeddedModel):
    """A person, service or agency the patient can reach in a crisis."""

    name: ShortText
    relationship: ShortText | None = None
    phone: Phone
    availability: ShortText | None = None
    """When they can be reached ("evenings", "24/7")."""
    methods: list[ContactMethod] = Field(
        default_factory=lambda: [ContactMethod.CALL], min_length=1, max_length=2
    )

    @property
    def is_lifeline(self) -> bool:
        """Whether this is the 988 Suicide & Crisis Lifeline."""
        return _SEPARATORS.sub("", self.phone) == _LIFELINE_DIGITS


Contacts = Annotated[list[SafetyContact], Encrypted(), Field(max_length=30)]

LIFELINE = SafetyContact(
    name="988 Suicide & Crisis Lifeline",
    relationship="crisis line",
    phone=_LIFELINE_DIGITS,
    availability="24/7",
    methods=[ContactMethod.CALL, ContactMethod.TEXT],
)
"""The contact every US plan holds: 988, by call and by text, at any hour."""


class PlanStatus(StrEnum):
    """Whether a plan record holds the current version or an older one."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"


class PatientAcknowledgment(EmbeddedModel):
    """The patient's sign-off of one version of their plan."""

    version: int = Field(ge=1)
    acknowledged_at: UtcDatetime
    signature_name: Annotated[ShortText | None, Encrypted()] = None
    """The name the patient signed with, if they typed one."""
    recorded_by: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    """The actor who recorded the sign-off (the patient, or a clinician
    witnessing it in session)."""


class SafetyPlan(SoftDeletableDocument):
    """A patient's Stanley-Brown safety plan, one version of it per record.

    A plan must say something beyond the lifeline: at least one warning sign,
    coping strategy or contact. A US plan always lists 988 among its
    professional contacts, reachable by call and text; it is added if missing.
    """

    ID_NAME: ClassVar[str] = "plan_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL)

    patient_id: PersonId
    created_by_provider_id: PersonId
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "US"
    warning_signs: PlanItems = Field(default_factory=list)
    coping_strategies: PlanItems = Field(default_factory=list)
    """Internal coping strategies: what the patient can do alone."""
    social_contacts: Contacts = Field(default_factory=list)
    """People who provide distraction."""
    distraction_places: PlanItems = Field(default_factory=list)
    """Social settings that provide distraction."""
    help_contacts: Contacts = Field(default_factory=list)
    """People the patient can ask for help."""
    professional_contacts: Contacts = Field(default_factory=list)
    """Clinicians, crisis lines and agencies to contact in a crisis."""
    environmental_safety: PlanItems = Field(default_factory=list)
    """Steps that make the environment safe (means restriction)."""
    reasons_to_live: PlanItems = Field(default_factory=list)
    version: int = Field(default=1, ge=1)
    version_started_at: UtcDatetime = Field(default_factory=utc_now)
    status: PlanStatus = PlanStatus.ACTIVE
    plan_ref: PersonId | None = None
    """The plan this record is a version of (its own id for the current one);
    set by the repository."""
    superseded_at: UtcDatetime | None = None
    next_review_on: CalendarDate | None = None
    patient_acknowledgment: PatientAcknowledgment | None = None

    class Settings:
        name = "safety_plans"

    @property
    def plan_id(self) -> str:
        """The platform's name for this record's id (for an older version, the
        plan it belongs to is ``plan_ref``)."""
        return self.id

    @property
    def signed_off(self) -> bool:
        """Whether the patient has signed this very version."""
        signed = self.patient_acknowledgment
        return signed is not None and signed.version == self.version

    @model_validator(mode="after")
    def _content_and_lifeline(self) -> SafetyPlan:
        contacts = [
            *self.social_contacts,
            *self.help_contacts,
            *self.professional_contacts,
        ]
        if not (
            self.warning_signs
            or self.coping_strategies
            or any(not contact.is_lifeline for contact in contacts)
        ):
            raise PydanticCustomError(
                "empty_plan",
                "a safety plan needs at least one warning sign, coping strategy "
                "or contact besides the crisis line",
            )
        if (self.status is PlanStatus.SUPERSEDED) != (self.superseded_at is not None):
            raise PydanticCustomError(
                "superseded_at",
                "a version has a superseding time exactly when it is superseded",
            )
        if self.country == "US":
            # Past validate_assignment on purpose, as for other derived values.
            self.__dict__["professional_contacts"] = _with_lifeline(
                self.professional_contacts
            )
        return self


def _with_lifeline(contacts: list[SafetyContact]) -> list[SafetyContact]:
    """``contacts`` with 988 reachable by call and text, added if missing."""
    both = [ContactMethod.CALL, ContactMethod.TEXT]
    for index, contact in enumerate(contacts):
        if contact.is_lifeline:
            if set(contact.methods) >= set(both):
                return contacts
            fixed = contact.model_copy(update={"methods": both})
            return [*contacts[:index], fixed, *contacts[index + 1 :]]
    return [*contacts, LIFELINE.model_copy()]
