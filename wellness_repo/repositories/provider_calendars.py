"""Provider calendars: one per provider, holding weekly working hours in the
provider's zone, exceptions (vacation, blocked time) and the buffer kept
between appointments. Admins maintain them; everyone may read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import NotFoundError, ValidationError
from wellness_repo.models.provider_calendars import (
    MAX_EXCEPTIONS,
    CalendarException,
    CalendarExceptionKind,
    ProviderCalendar,
    WorkingHours,
)
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import validation_error

__all__ = ["ProviderCalendarRepository"]


class ProviderCalendarRepository(AsyncBaseRepository[ProviderCalendar]):
    """Providers' bookable time. ``create`` refuses a second calendar for a
    provider (``DuplicateError``, from a unique index)."""

    model = ProviderCalendar

    async def calendar_for(self, provider_id: str) -> ProviderCalendar | None:
        """The provider's calendar, or ``None`` if they have none."""
        return await self.find_one_by(
            provider_id=checked_id(provider_id, field="provider_id")
        )

    async def set_working_hours(
        self,
        provider_id: str,
        weekly_hours: Sequence[WorkingHours],
        *,
        buffer_minutes: int | None = None,
    ) -> ProviderCalendar:
        """Replace a provider's weekly hours (and buffer, if given). Existing
        appointments stay booked; new bookings follow the new hours.

        Raises:
            NotFoundError: the provider has no calendar.
            ValidationError: overlapping windows, a window ending before it
                starts, or a buffer outside 0..120 minutes.
        """
        calendar = await self._calendar(provider_id)
        changes: dict[str, Any] = {"weekly_hours": list(weekly_hours)}
        if buffer_minutes is not None:
            changes["buffer_minutes"] = buffer_minutes
        return await self.patch(calendar.id, changes)

    async def add_exception(
        self,
        provider_id: str,
        kind: CalendarExceptionKind | str,
        starts_at: datetime,
        ends_at: datetime,
    ) -> ProviderCalendar:
        """Block a period of the provider's time (vacation, training...).
        Appointments already booked in it are not cancelled by this; the
        provider's schedule shows them for rebooking.

        Raises:
            NotFoundError: the provider has no calendar.
            ValidationError: naive times, an end not after the start, or more
                than 500 exceptions on the calendar.
        """
        try:
            exception = CalendarException(
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity) from None
        calendar = await self._calendar(provider_id)
        stored = await self._atomic_update(
            calendar.id,
            {"$push": {"exceptions": exception.model_dump()}},
            guard={f"exceptions.{MAX_EXCEPTIONS - 1}": {"$exists": False}},
            changed=("exceptions",),
        )
        if stored is None:
            raise ValidationError(
                f"a calendar holds at most {MAX_EXCEPTIONS} exceptions; remove "
                "past ones first",
                field="exceptions",
                rule="max_length",
                entity=self._entity,
                entity_id=calendar.id,
            )
        self.logger.info("calendar %s: exception added", calendar.id)
        return stored

    async def _calendar(self, provider_id: str) -> ProviderCalendar:
        calendar = await self.calendar_for(provider_id)
        if calendar is None:
            raise NotFoundError(
                "the provider has no calendar",
                entity=self._entity,
                entity_id=provider_id,
            )
        return calendar
