"""Importing past appointments: a migration from another scheduling system, or
the fixture seeder's visit history.

Booking (``AppointmentRepository.create``) refuses past times on purpose: nobody
books yesterday. Yet a platform taking over from another system, or fixtures,
needs the visits that already took place. :meth:`import_history` is that one
explicit door, and only a system context (a migration script, the seeder) may
use it. Every record is still validated: it must have ended (completed, no-show
or cancelled), lie wholly in the past, sit on the booking grid, last a bookable
length, fall inside the provider's working hours and clear of their exceptions
(today's calendar: the import has no older one). Two visits of the batch that
held time (completed or no-show; a cancelled one held none) may not overlap,
for the provider with their buffer or for the patient. That time is also
reserved as a booking reserves it, so concurrent imports meet at the unique
index at insert time. The batch is one unit: the
reservations and the appointments are written together, audited once, or not
at all (on the embedded backend the reservations are released again).

Reservations of past slots expire a day after their slot (the TTL index), as a
booked visit's do, so an overlap with history imported by an earlier call is
no longer caught then (README, Known limitations).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from wellness_repo.analysis.availability import CalendarRules
from wellness_repo.errors import (
    AccessDeniedError,
    BookingConflictError,
    DuplicateError,
    ValidationError,
)
from wellness_repo.models.appointment_slots import (
    SlotReservation,
    holder_of_patient,
    holder_of_provider,
)
from wellness_repo.models.appointments import Appointment, AppointmentStatus
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.appointment_availability import (
    AppointmentAvailabilityRepository,
)
from wellness_repo.repositories.appointment_slots import (
    APPOINTMENT_BOOKING,
    SlotReservationRepository,
    reservation_expiry,
    slot_starts,
)
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.security.context import acting_as

__all__ = ["ENDED_STATUSES", "AppointmentHistoryRepository"]

_S = AppointmentStatus
ENDED_STATUSES = frozenset({_S.COMPLETED, _S.NO_SHOW, _S.CANCELLED})
"""The statuses an imported, past appointment may have."""
_HELD_TIME = frozenset({_S.COMPLETED, _S.NO_SHOW})


class AppointmentHistoryRepository(AppointmentAvailabilityRepository):
    """The history import of appointments; the base of
    :class:`~wellness_repo.repositories.appointments.AppointmentRepository`.

    ``slots`` is the reservation repository bookings and imports hold time
    through, on the same connection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = SlotReservationRepository(self.db, self.logger)

    async def import_history(
        self, appointments: Sequence[Appointment]
    ) -> list[Appointment]:
        """Store appointments that already took place (or were called off),
        for a migration or fixtures; system contexts only.

        Raises:
            AccessDeniedError: the caller is not a system context.
            ValidationError: a record has not ended, is not wholly past, is
                off the grid or outside the provider's working hours, or a
                completed visit lacks ``completed_at``; ``field`` names its
                place (``appointments.3.scheduled_start``). Nothing is written.
            BookingConflictError: two visits of the provider or patient
                overlap (in the batch or with imported reservations still
                kept); nothing is written.
        """
        context = self._context()
        if not context.is_system:
            raise AccessDeniedError(
                "importing appointment history is for system contexts "
                "(migrations, fixtures); book with create",
                entity=self._entity,
            )
        if not appointments:
            return []
        calendars: dict[str, CalendarRules] = {}
        records: list[Appointment] = []
        reservations: list[SlotReservation] = []
        for position, appointment in enumerate(appointments):
            self._check_type(appointment)
            try:
                rules = calendars.get(appointment.provider_id)
                if rules is None:
                    rules = await self._rules_of(appointment.provider_id)
                    calendars[appointment.provider_id] = rules
                self._check_history(appointment, rules)
            except ValidationError as exc:
                raise _placed(exc, f"appointments.{position}.") from None
            if appointment.booked_by is None:
                appointment = appointment.model_copy(
                    update={"booked_by": context.actor_id}
                )
            records.append(appointment)
            if appointment.status in _HELD_TIME:
                reservations.extend(self._reservations(appointment, rules))
        _refuse_overlaps(records, calendars)

        async def write() -> list[Appointment]:
            with acting_as(APPOINTMENT_BOOKING):
                try:
                    await self.slots.create_many(reservations)
                except DuplicateError as exc:
                    raise BookingConflictError(
                        "two imported visits of one provider or patient overlap",
                        conflict="provider or patient",
                        key=exc.key,
                        entity=self._entity,
                        cause=exc,
                    ) from None
            return await AsyncBaseRepository.create_many(self, records)

        async def undo() -> None:
            for record in records:
                await self.slots.release(record.id)

        stored = await self.slots.book(write, undo)
        self.logger.info(
            "imported %d past appointment(s) with %d reserved slot(s)",
            len(stored),
            len(reservations),
        )
        return stored

    # ---------------------------------------------------------------- private

    def _check_history(self, appointment: Appointment, rules: CalendarRules) -> None:
        if appointment.status not in ENDED_STATUSES:
            raise self._rule_error(
                "an imported appointment has ended: completed, no_show or cancelled",
                field="status",
                rule="not_ended",
                entity_id=appointment.id,
            )
        if appointment.scheduled_end > utc_now():
            raise self._rule_error(
                "an imported appointment lies wholly in the past; book future "
                "ones with create",
                field="scheduled_start",
                rule="not_in_past",
                entity_id=appointment.id,
            )
        if appointment.status is _S.COMPLETED and appointment.completed_at is None:
            raise self._rule_error(
                "a completed appointment carries completed_at",
                field="completed_at",
                rule="required",
                entity_id=appointment.id,
            )
        self._check_grid(appointment.scheduled_start, appointment.id)
        self._checked_duration(appointment.duration_minutes)
        self._check_calendar(rules, appointment)

    def _check_grid(self, start: datetime, entity_id: str) -> None:
        grid = self.db.settings.appointment_slot_minutes
        if start.second or start.microsecond or start.minute % grid:
            raise self._rule_error(
                f"appointments start on the {grid}-minute booking grid",
                field="scheduled_start",
                rule="slot_grid",
                entity_id=entity_id,
            )

    def _reservations(
        self, appointment: Appointment, rules: CalendarRules
    ) -> list[SlotReservation]:
        grid = self.db.settings.appointment_slot_minutes
        start, end = appointment.scheduled_start, appointment.scheduled_end
        held_until = end + timedelta(minutes=rules.buffer_minutes)
        holders = (
            (holder_of_provider(appointment.provider_id), held_until),
            (holder_of_patient(appointment.patient_id), end),
        )
        return [
            SlotReservation(
                holder=holder,
                slot_start=slot,
                appointment_id=appointment.id,
                expires_after=reservation_expiry(slot),
            )
            for holder, until in holders
            for slot in slot_starts(start, until, grid)
        ]


def _refuse_overlaps(
    records: Sequence[Appointment], calendars: dict[str, CalendarRules]
) -> None:
    """``BookingConflictError`` if two visits of the batch that held time
    overlap: the provider's with their buffer, or the patient's."""
    spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for record in records:
        if record.status not in _HELD_TIME:
            continue
        buffer = timedelta(minutes=calendars[record.provider_id].buffer_minutes)
        start, end = record.scheduled_start, record.scheduled_end
        spans.setdefault(("provider", record.provider_id), []).append(
            (start, end + buffer)
        )
        spans.setdefault(("patient", record.patient_id), []).append((start, end))
    for (whose, _), held in spans.items():
        held.sort()
        for (_, first_end), (second_start, _) in pairwise(held):
            if second_start < first_end:
                raise BookingConflictError(
                    f"two imported visits of one {whose} overlap",
                    conflict=whose,
                    key=("holder", "slot_start"),
                    entity=Appointment.entity_name(),
                )


def _placed(error: ValidationError, prefix: str) -> ValidationError:
    """``error`` with its field placed in the imported batch."""
    if error.field:
        error.field = prefix + error.field
        error.errors = [(error.field, error.rule or "", error.message)]
    return error
