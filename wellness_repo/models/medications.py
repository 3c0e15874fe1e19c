"""Medications: what a patient is prescribed, how often, by whom and why, with
its status, side effects, interaction warnings and refills.

A medication is part of the patient's clinical record: the prescribing
clinicians write it and the patient reads it. Its doses are logged in their own
collection (``models.dose_logs``). The drug's name, the indication, reasons and
side-effect reports are stored encrypted: a drug name alone can reveal a
diagnosis.

The schedule's times are the patient's local clock times with the patient's
IANA time zone beside them, so "08:00 daily" stays at eight in the morning
across daylight-saving changes.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.interaction_table import InteractionSeverity
from wellness_repo.models.base import EmbeddedModel, SoftDeletableDocument
from wellness_repo.models.clinical_fields import ClinicalNote, PersonId
from wellness_repo.models.types import CalendarDate, Encrypted, UtcDatetime
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "ALLOWED_STATUS_CHANGES",
    "DoseSchedule",
    "InteractionAcknowledgment",
    "InteractionWarning",
    "Medication",
    "MedicationForm",
    "MedicationStatus",
    "ScheduleKind",
    "SideEffect",
    "SideEffectSeverity",
    "StatusChange",
]

_CLOCK = r"^(?:[01]\d|2[0-3]):[0-5]\d$"
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "not an IANA time zone name such as America/New_York"
        ) from None
    return value


TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)
]
LocalClockTime = Annotated[str, StringConstraints(pattern=_CLOCK)]


class ScheduleKind(StrEnum):
    """How a medication is to be taken."""

    TIMES_PER_DAY = "times_per_day"
    """A number of doses a day; the times are anchors the patient may shift."""
    SPECIFIC_TIMES = "specific_times"
    """At the given local clock times."""
    AS_NEEDED = "as_needed"
    """PRN: when needed, up to an optional daily maximum."""


_ANCHORS = {
    1: ("08:00",),
    2: ("08:00", "20:00"),
    3: ("08:00", "14:00", "20:00"),
    4: ("08:00", "12:00", "16:00", "20:00"),
}


class DoseSchedule(EmbeddedModel):
    """When doses are due, in the patient's local time.

    ``times_per_day`` without ``times`` gets the usual anchor times (08:00;
    08:00 and 20:00; 08:00, 14:00 and 20:00; 08:00, 12:00, 16:00 and 20:00).
    """

    kind: ScheduleKind = ScheduleKind.TIMES_PER_DAY
    times_per_day: int | None = Field(default=None, ge=1, le=12)
    times: list[LocalClockTime] = Field(default_factory=list, max_length=12)
    time_zone: TimeZoneName = "UTC"
    max_doses_per_day: int | None = Field(default=None, ge=1, le=24)
    """For as-needed medications: the most doses allowed in a day."""

    @model_validator(mode="after")
    def _consistent(self) -> DoseSchedule:
        if len(set(self.times)) != len(self.times):
            raise PydanticCustomError("duplicate_time", "each time may appear once")
        if self.kind is ScheduleKind.AS_NEEDED:
            if self.times or self.times_per_day is not None:
                raise PydanticCustomError(
                    "as_needed_schedule",
                    "an as-needed schedule has no times and no times per day",
                )
            return self
        if self.kind is ScheduleKind.SPECIFIC_TIMES:
            if not self.times:
                raise PydanticCustomError(
                    "times_required", "a specific-times schedule needs its times"
                )
            self.__dict__["times_per_day"] = len(self.times)
        else:
            count = self.times_per_day or len(self.times) or 1
            if self.times and len(self.times) != count:
                raise PydanticCustomError(
                    "times_per_day", "times_per_day must equal the number of times"
                )
            if not self.times:
                if count not in _ANCHORS:
                    raise PydanticCustomError(
                        "times_required",
                        "more than four doses a day need their times",
                    )
                self.__dict__["times"] = list(_ANCHORS[count])
            self.__dict__["times_per_day"] = count
        if self.max_doses_per_day is not None:
            raise PydanticCustomError(
                "max_doses_per_day", "only as-needed schedules have a daily maximum"
            )
        self.__dict__["times"] = sorted(self.times)
        return self

    @property
    def as_needed(self) -> bool:
        """Whether doses are taken when needed (PRN) rather than on a schedule."""
        return self.kind is ScheduleKind.AS_NEEDED


class MedicationForm(StrEnum):
    """The pharmaceutical form."""

    TABLET = "tablet"
    CAPSULE = "capsule"
    ORAL_SOLUTION = "oral_solution"
    ORALLY_DISINTEGRATING = "orally_disintegrating"
    INJECTION = "injection"
    LONG_ACTING_INJECTION = "long_acting_injection"
    PATCH = "patch"
    INHALER = "inhaler"
    OTHER = "other"


class MedicationStatus(StrEnum):
    """Where a prescription stands."""

    ACTIVE = "active"
    PAUSED = "paused"
    DISCONTINUED = "discontinued"


ALLOWED_STATUS_CHANGES: dict[MedicationStatus, frozenset[MedicationStatus]] = {
    MedicationStatus.ACTIVE: frozenset(
        {MedicationStatus.PAUSED, MedicationStatus.DISCONTINUED}
    ),
    MedicationStatus.PAUSED: frozenset(
        {MedicationStatus.ACTIVE, MedicationStatus.DISCONTINUED}
    ),
    MedicationStatus.DISCONTINUED: frozenset(),
}
"""From each status, the statuses it may change to; discontinuation is final
(a restarted drug is a new prescription)."""


class StatusChange(EmbeddedModel):
    """One change of a medication's status."""

    status: MedicationStatus
    changed_at: UtcDatetime
    changed_by: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    reason: ClinicalNote = None


class SideEffectSeverity(StrEnum):
    """How severe a side effect is (CTCAE-style grades in words)."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    LIFE_THREATENING = "life_threatening"


class SideEffect(EmbeddedModel):
    """A side effect the patient or a clinician reported."""

    effect: ShortText
    severity: SideEffectSeverity
    onset: CalendarDate
    reported_at: UtcDatetime
    reported_by: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    notes: Annotated[str | None, Field(max_length=2_000)] = None


class InteractionWarning(EmbeddedModel):
    """An interaction found when the medication was added."""

    other_medication_id: PersonId
    other_drug: ShortText
    severity: InteractionSeverity
    effect: Annotated[str, Field(min_length=1, max_length=1_000)]
    management: Annotated[str, Field(min_length=1, max_length=1_000)]
    source: Annotated[str, Field(min_length=1, max_length=1_000)]


class InteractionAcknowledgment(EmbeddedModel):
    """The prescriber's explicit decision to prescribe despite a
    contraindicated interaction."""

    acknowledged_by: PersonId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Medication(SoftDeletableDocument):
    """A medication prescribed to a patient.

    ``end_date`` may not precede ``start_date``. Status, its history, side
    effects, interaction warnings and the next refill date are written by the
    repository's clinical methods, not by hand.
    """

    ID_NAME: ClassVar[str] = "medication_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL)

    patient_id: PersonId
    medication_name: Annotated[ShortText, Encrypted()]
    strength: Annotated[str | None, StringConstraints(max_length=64)] = None
    form: MedicationForm | None = None
    prescribed_dosage: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    schedule: DoseSchedule = Field(default_factory=DoseSchedule)
    prescriber_id: PersonId | None = None
    start_date: CalendarDate
    end_date: CalendarDate | None = None
    indication: Annotated[ShortText | None, Encrypted()] = None
    status: MedicationStatus = MedicationStatus.ACTIVE
    status_reason: ClinicalNote = None
    status_history: list[StatusChange] = Field(default_factory=list, max_length=500)
    side_effects: Annotated[list[SideEffect], Encrypted(), Field(max_length=500)] = (
        Field(default_factory=list)
    )
    interaction_warnings: Annotated[
        list[InteractionWarning], Encrypted(), Field(max_length=100)
    ] = Field(default_factory=list)
    interaction_acknowledgment: Annotated[
        InteractionAcknowledgment | None, Encrypted()
    ] = None
    days_supply: int | None = Field(default=None, ge=1, le=365)
    refills_remaining: int | None = Field(default=None, ge=0, le=99)
    last_filled_on: CalendarDate | None = None
    next_refill_on: CalendarDate | None = None
    """Derived: the last fill plus its days supply (``None`` without both)."""

    class Settings:
        name = "medications"

    @property
    def medication_id(self) -> str:
        """The platform's name for this medication's id."""
        return self.id

    @property
    def as_needed(self) -> bool:
        """Whether it is taken when needed (PRN)."""
        return self.schedule.as_needed

    @model_validator(mode="after")
    def _dates_and_refills(self) -> Medication:
        if self.end_date is not None and self.end_date < self.start_date:
            raise PydanticCustomError(
                "end_before_start", "end_date may not precede start_date"
            )
        if self.last_filled_on is not None and self.days_supply is not None:
            due = self.last_filled_on + timedelta(days=self.days_supply)
        else:
            due = None
        # Past validate_assignment on purpose, as for other derived values.
        self.__dict__["next_refill_on"] = due
        return self
