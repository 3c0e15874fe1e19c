"""Dose logs: one record per dose a patient took, missed, skipped or took late.

Why a collection of its own rather than a list inside the medication: a
twice-daily medication gathers 730 logs a year, without bound for as long as it
is taken, while the medication record itself changes rarely. Each dose is one
small insert (no rewrite of a growing document, no revision conflicts between
a patient logging a dose and a prescriber editing the prescription), and
adherence reads one patient's logs over a date range through an index on
``patient_id`` and the local date.

Duplicates: a scheduled dose is logged at most once. A unique index on
``(medication_id, scheduled_for)`` (scheduled doses only) makes the second log
of the same dose fail with ``DuplicateError`` on both backends, even when two
devices send it at once; the repository answers a retry of the very same log
with the stored record (idempotent). As-needed doses have no scheduled time and
are never deduplicated.

The local date, clock time and weekday of the scheduled dose are stored with it
(computed from the schedule's time zone when the dose is logged), so the
adherence pipeline groups by the patient's days without time-zone arithmetic
in the database.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.adherence import DoseStatus
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import CalendarDate, Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = ["DoseLog", "DoseStatus"]


class DoseLog(WellnessDocument):
    """One logged dose of one medication.

    ``scheduled_for`` is the scheduled dose's UTC instant (``None`` for an
    as-needed dose); ``taken_at`` is when it was taken, required for taken and
    late doses and absent otherwise. A skipped dose needs its reason.
    """

    ID_NAME: ClassVar[str] = "dose_id"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PATIENT_AUTHORED)

    patient_id: PersonId
    medication_id: PersonId
    status: DoseStatus
    scheduled_for: UtcDatetime | None = None
    taken_at: UtcDatetime | None = None
    local_date: CalendarDate
    """The patient's calendar day of the dose (scheduled, or taken for PRN)."""
    local_time: Annotated[
        str | None, StringConstraints(pattern=r"^(?:[01]\d|2[0-3]):[0-5]\d$")
    ] = None
    """The schedule's local ``HH:MM`` of the dose; ``None`` for as-needed."""
    weekday: int = Field(ge=1, le=7)
    """ISO weekday of ``local_date``, 1 (Monday) to 7 (Sunday)."""
    reason: Annotated[
        str | None, Encrypted(), StringConstraints(min_length=1, max_length=1_000)
    ] = None
    recorded_at: UtcDatetime = Field(default_factory=utc_now)
    recorded_by: Annotated[str, StringConstraints(min_length=1, max_length=256)]

    class Settings:
        name = "dose_logs"

    @property
    def dose_id(self) -> str:
        """The platform's name for this log's id."""
        return self.id

    @model_validator(mode="after")
    def _status_rules(self) -> DoseLog:
        taken = self.status in (DoseStatus.TAKEN, DoseStatus.LATE)
        if taken and self.taken_at is None:
            raise PydanticCustomError(
                "taken_at_required", "a taken or late dose needs taken_at"
            )
        if not taken and self.taken_at is not None:
            raise PydanticCustomError(
                "taken_at_forbidden", "only a taken or late dose has taken_at"
            )
        if self.status is DoseStatus.SKIPPED and not (
            self.reason and self.reason.strip()
        ):
            raise PydanticCustomError(
                "reason_required", "a skipped dose needs its reason"
            )
        if (self.scheduled_for is None) != (self.local_time is None):
            raise PydanticCustomError(
                "local_time", "a scheduled dose has a local time, a PRN dose none"
            )
        if self.weekday != self.local_date.isoweekday():
            raise PydanticCustomError(
                "weekday", "weekday must be the ISO weekday of local_date"
            )
        return self
