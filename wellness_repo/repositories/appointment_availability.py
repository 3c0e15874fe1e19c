"""The availability half of the appointment repository: reading a provider's
calendar and booked times, answering whether a time is free and which times
are, and checking the times and lengths callers hand in.

The answers come from the pure functions of ``analysis.availability``; busy
times are read under :data:`APPOINTMENT_BOOKING`, so they count every
patient's bookings while the caller sees none of them. Use
:class:`~wellness_repo.repositories.appointments.AppointmentRepository`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wellness_repo.analysis.availability import (
    BusyInterval,
    CalendarRules,
    Unavailable,
    check_slot,
    free_slots,
)
from wellness_repo.errors import ValidationError
from wellness_repo.models.appointments import (
    ACTIVE_STATUSES,
    MAX_DURATION_MINUTES,
    Appointment,
)
from wellness_repo.models.types import is_aware, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.appointment_slots import APPOINTMENT_BOOKING
from wellness_repo.repositories.lifecycle import ClinicalRecordRepository, checked_id
from wellness_repo.repositories.provider_calendars import ProviderCalendarRepository
from wellness_repo.security.context import acting_as

__all__ = ["AppointmentAvailabilityRepository"]

_MAX_SEARCH_DAYS = 31


class AppointmentAvailabilityRepository(ClinicalRecordRepository[Appointment]):
    """Availability and free slots of providers; ``calendars`` is the calendar
    repository it reads, on the same connection."""

    model = Appointment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calendars = ProviderCalendarRepository(self.db, self.logger)

    async def check_availability(
        self, provider_id: str, start_time: datetime, duration_minutes: int
    ) -> bool:
        """Whether ``provider_id`` can be booked from ``start_time`` (aware) for
        ``duration_minutes``: inside their working hours, clear of their
        exceptions, and keeping their buffer from every booked appointment.

        Raises:
            ValidationError: a naive time, a duration outside 5..480 minutes
                or off the booking grid, or a provider without a calendar.
        """
        provider = checked_id(provider_id, field="provider_id")
        start = self._checked_start(start_time, "start_time")
        self._checked_duration(duration_minutes)
        if start < utc_now():
            return False
        rules = await self._rules_of(provider)
        busy = await self._busy(provider, rules, start, start)
        return check_slot(rules, busy, start, duration_minutes).available

    async def find_free_slots(
        self,
        provider_id: str,
        range_start: datetime,
        range_end: datetime,
        duration_minutes: int,
        *,
        step_minutes: int | None = None,
    ) -> list[datetime]:
        """Every start time from ``range_start`` to ``range_end`` (at most 31
        days, aware datetimes) at which the provider could be booked for
        ``duration_minutes``, earliest first. Candidates start at each working
        window's opening and advance by ``step_minutes`` (by default the visit
        plus the provider's buffer: back-to-back sessions).

        Raises:
            ValidationError: naive or reversed times, a range over 31 days, a
                bad duration or step, or a provider without a calendar.
        """
        provider = checked_id(provider_id, field="provider_id")
        start = self._checked_start(range_start, "range_start")
        end = self._checked_start(range_end, "range_end")
        self._checked_duration(duration_minutes)
        if not start < end <= start + timedelta(days=_MAX_SEARCH_DAYS):
            raise ValidationError(
                f"range_end must be after range_start, at most {_MAX_SEARCH_DAYS} "
                "days on",
                field="range_end",
                rule="range",
            )
        rules = await self._rules_of(provider)
        step = self._checked_step(step_minutes, duration_minutes + rules.buffer_minutes)
        busy = await self._busy(provider, rules, start, end)
        return free_slots(
            rules, busy, start, end, duration_minutes, step_minutes=step,
            not_before=utc_now(),
        )  # fmt: skip

    # ---------------------------------------------------------------- private

    async def _rules_of(self, provider_id: str) -> CalendarRules:
        with acting_as(APPOINTMENT_BOOKING):
            calendar = await self.calendars.calendar_for(provider_id)
        if calendar is None:
            raise ValidationError(
                "the provider has no calendar to book against",
                field="provider_id",
                rule="no_calendar",
                entity=self._entity,
            )
        return calendar.rules()

    async def _busy(
        self, provider_id: str, rules: CalendarRules, start: datetime, end: datetime
    ) -> list[BusyInterval]:
        """The provider's active appointments that could conflict with a visit
        starting between ``start`` and ``end``, read as the booking service
        (only their times; the caller sees nothing of other patients)."""
        reach = timedelta(minutes=MAX_DURATION_MINUTES + rules.buffer_minutes)
        filters = {
            "provider_id": provider_id,
            "scheduled_start__gt": start - reach,
            "scheduled_start__lt": end + reach,
            "status__in": sorted(status.value for status in ACTIVE_STATUSES),
        }
        busy: list[BusyInterval] = []
        after: str | None = None
        with acting_as(APPOINTMENT_BOOKING):
            while True:
                page = await self.list_all(
                    QueryOptions(
                        filters=filters,
                        order_by=["scheduled_start"],
                        fields=("scheduled_start", "duration_minutes"),
                        after=after,
                    )
                )
                busy.extend(
                    BusyInterval(item.scheduled_start, item.scheduled_end)
                    for item in page.items
                )
                if not page.has_more or page.next_cursor is None:
                    return busy
                after = page.next_cursor

    def _check_calendar(self, rules: CalendarRules, appointment: Appointment) -> None:
        verdict = check_slot(
            rules, (), appointment.scheduled_start, appointment.duration_minutes
        )
        if verdict.reason is Unavailable.OUTSIDE_WORKING_HOURS:
            raise self._rule_error(
                "the provider does not work at that time (working hours are in "
                "the provider's time zone)",
                field="scheduled_start",
                rule="outside_working_hours",
                entity_id=appointment.id,
            )
        if verdict.reason is Unavailable.BLOCKED:
            raise self._rule_error(
                "the provider is away then (vacation or blocked time)",
                field="scheduled_start",
                rule="provider_unavailable",
                entity_id=appointment.id,
            )

    def _check_bookable_time(
        self, value: Any, entity_id: str | None, field: str = "scheduled_start"
    ) -> datetime:
        start = self._checked_start(value, field)
        if start <= utc_now():
            raise self._rule_error(
                "an appointment cannot be booked in the past",
                field=field,
                rule="not_in_past",
                entity_id=entity_id,
            )
        grid = self.db.settings.appointment_slot_minutes
        if start.second or start.microsecond or start.minute % grid:
            raise self._rule_error(
                f"appointments start on the {grid}-minute booking grid",
                field=field,
                rule="slot_grid",
                entity_id=entity_id,
            )
        return start

    def _checked_start(self, value: Any, field: str) -> datetime:
        if not is_aware(value):
            raise ValidationError(
                f"{field} must be a timezone-aware datetime, e.g. tzinfo=UTC",
                field=field,
                rule="timezone_required",
                entity=self._entity,
            )
        moment: datetime = value
        return moment

    def _checked_duration(self, value: Any) -> int:
        grid = self.db.settings.appointment_slot_minutes
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                "duration_minutes must be whole minutes",
                field="duration_minutes",
                rule="type",
                entity=self._entity,
            )
        if not 5 <= value <= MAX_DURATION_MINUTES or value % grid:
            raise ValidationError(
                f"duration_minutes must be 5 to {MAX_DURATION_MINUTES} minutes, "
                f"a multiple of {grid}",
                field="duration_minutes",
                rule="range",
                entity=self._entity,
            )
        return value

    def _checked_step(self, step: int | None, default: int) -> int:
        grid = self.db.settings.appointment_slot_minutes
        if step is None:
            return default
        if isinstance(step, bool) or not isinstance(step, int) or step < grid:
            raise ValidationError(
                f"step_minutes must be whole minutes, at least {grid}",
                field="step_minutes",
                rule="range",
                entity=self._entity,
            )
        if step % grid:
            raise ValidationError(
                f"step_minutes must be a multiple of {grid}",
                field="step_minutes",
                rule="slot_grid",
                entity=self._entity,
            )
        return step

    def _window(self, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if start is not None:
            filters["scheduled_start__gte"] = self._checked_start(start, "start")
        if end is not None:
            filters["scheduled_start__lt"] = self._checked_start(end, "end")
        return filters
