"""Provider calendars: when a provider works (weekly hours in their own time
zone), when they do not (vacations, blocked time), and how much rest they keep
between appointments.

A calendar is part of the provider directory (``RecordKind.PROVIDER_DIRECTORY``):
admins maintain it; patients and staff read it to find free times. Working hours
are local wall-clock times, so "Mondays 09:00-17:00" means 09:00 in the
provider's zone on every Monday, summer and winter; exceptions are instants
(UTC-aware).
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from wellness_repo.analysis.availability import (
    BlockedPeriod,
    CalendarRules,
    WorkingWindow,
)
from wellness_repo.models.base import EmbeddedModel, WellnessDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import UtcDatetime
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = [
    "CALENDAR_MODELS",
    "CalendarException",
    "CalendarExceptionKind",
    "ProviderCalendar",
    "Weekday",
    "WorkingHours",
]

MAX_BUFFER_MINUTES = 120
MAX_EXCEPTIONS = 500

LocalTime = Annotated[
    time, PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str)
]
"""A wall-clock time in the provider's zone, stored as ``HH:MM``."""


class Weekday(StrEnum):
    """A day of the week, Monday first (ISO 8601)."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def day_number(self) -> int:
        """Monday 0 to Sunday 6, as ``date.weekday()`` counts."""
        return list(Weekday).index(self)


class CalendarExceptionKind(StrEnum):
    """Why a provider is away from their usual hours."""

    VACATION = "vacation"
    BLOCKED_TIME = "blocked_time"
    TRAINING = "training"
    HOLIDAY = "holiday"
    LEAVE = "leave"


class WorkingHours(EmbeddedModel):
    """One working window on one weekday, in local wall-clock time; a split day
    (morning and afternoon clinics) is two windows."""

    weekday: Weekday
    start: LocalTime
    end: LocalTime

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise PydanticCustomError(
                "end_after_start", "a working window ends after it starts"
            )
        return value


class CalendarException(EmbeddedModel):
    """A period the provider is not bookable, whatever their weekly hours say."""

    kind: CalendarExceptionKind
    starts_at: UtcDatetime
    ends_at: UtcDatetime

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: Any, info: ValidationInfo) -> Any:
        start = info.data.get("starts_at")
        if start is not None and value <= start:
            raise PydanticCustomError(
                "end_after_start", "an exception ends after it starts"
            )
        return value


class ProviderCalendar(WellnessDocument):
    """A provider's bookable time: one calendar per provider.

    ``time_zone`` is an IANA name (``America/New_York``); ``buffer_minutes`` is
    the rest kept after every appointment before the next may start.
    """

    ID_NAME: ClassVar[str] = "calendar_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.PROVIDER_DIRECTORY)

    provider_id: PersonId
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    weekly_hours: list[WorkingHours] = Field(default_factory=list, max_length=50)
    exceptions: list[CalendarException] = Field(
        default_factory=list, max_length=MAX_EXCEPTIONS
    )
    buffer_minutes: int = Field(default=10, ge=0, le=MAX_BUFFER_MINUTES)

    class Settings:
        name = "provider_calendars"

    @property
    def calendar_id(self) -> str:
        """The platform's name for this calendar's id."""
        return self.id

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "time_zone", "must be an IANA time zone name, e.g. America/New_York"
            ) from None
        return value

    @field_validator("weekly_hours")
    @classmethod
    def _windows_do_not_overlap(cls, value: list[WorkingHours]) -> list[WorkingHours]:
        ordered = sorted(
            value, key=lambda window: (window.weekday.day_number, window.start)
        )
        for before, after in pairwise(ordered):
            if before.weekday is after.weekday and after.start < before.end:
                raise PydanticCustomError(
                    "overlapping_hours", "working windows of one day may not overlap"
                )
        return value

    def rules(self) -> CalendarRules:
        """The calendar as the availability functions take it."""
        return CalendarRules(
            time_zone=self.time_zone,
            windows=tuple(
                WorkingWindow(window.weekday.day_number, window.start, window.end)
                for window in self.weekly_hours
            ),
            blocked=tuple(
                BlockedPeriod(exception.starts_at, exception.ends_at)
                for exception in self.exceptions
            ),
            buffer_minutes=self.buffer_minutes,
        )


CALENDAR_MODELS: tuple[type[WellnessDocument], ...] = (ProviderCalendar,)
"""The document models of this module, for the registry."""
