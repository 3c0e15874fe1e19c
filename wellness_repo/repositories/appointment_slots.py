"""Holding and releasing slot reservations, and running a booking so that it is
all-or-nothing on both backends.

Why reservations rather than check-then-insert: two bookings that each read
"free" and then insert would both succeed. Here each booking inserts one
reservation per slot it needs; the unique index over active ``(holder,
slot_start)`` pairs lets exactly one of two overlapping bookings hold a shared
slot, decided by the server at insert time. On a replica set the reservations
and the appointment are written in one transaction (a write conflict between
two racing transactions aborts one, which is run again and then meets the
committed reservation). The embedded backend has no rollback, so a booking
that fails there releases whatever reservations it took before the error is
raised: a refused booking leaves nothing behind on either backend.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from wellness_repo.database.transactions import in_transaction
from wellness_repo.errors import BookingConflictError, ConcurrencyError, DuplicateError
from wellness_repo.models.appointment_slots import SlotReservation
from wellness_repo.models.types import utc_now
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.security.context import AccessContext, acting_as

__all__ = [
    "APPOINTMENT_BOOKING",
    "SlotReservationRepository",
    "reservation_expiry",
    "slot_starts",
]

R = TypeVar("R")

APPOINTMENT_BOOKING = AccessContext.system("appointment-booking")
"""Who keeps the reservations and reads a provider's busy times: the booking's
caller is authorized for the appointment itself, but may not see other
patients' bookings that make a time busy."""
# A booking that lost a write conflict runs again until the racing bookings
# have settled: the one that got in first commits, and every later attempt then
# meets its committed reservations. Under heavy load that may take seconds, so
# the retries are bounded by time, not by a count.
_BOOKING_PATIENCE_SECONDS = 20.0
_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.25
_KEEP_AFTER_SLOT = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_starts(start: datetime, end: datetime, slot_minutes: int) -> list[datetime]:
    """The starts of the grid slots covering ``[start, end)``, in order."""
    slot = timedelta(minutes=slot_minutes)
    first = _EPOCH + ((start - _EPOCH) // slot) * slot
    starts = []
    current = first
    while current < end:
        starts.append(current)
        current += slot
    return starts


def reservation_expiry(slot: datetime) -> datetime:
    """When a reservation of ``slot`` may be removed: a day after the slot."""
    return slot + _KEEP_AFTER_SLOT


class SlotReservationRepository(AsyncBaseRepository[SlotReservation]):
    """The reservations guarding providers' and patients' booked time.

    Used by the appointment repository under :data:`APPOINTMENT_BOOKING`; never
    by services directly.
    """

    model = SlotReservation

    async def hold(
        self,
        appointment_id: str,
        holder: str,
        slots: Iterable[datetime],
        *,
        conflict: str,
    ) -> None:
        """Reserve ``slots`` of ``holder``'s time for one appointment.

        Raises:
            BookingConflictError: another active reservation holds one of the
                slots; ``conflict`` names whose time it is.
        """
        slots = list(slots)
        if not slots:
            return
        reservations = [
            SlotReservation(
                holder=holder,
                slot_start=slot,
                appointment_id=appointment_id,
                expires_after=reservation_expiry(slot),
            )
            for slot in slots
        ]
        with acting_as(APPOINTMENT_BOOKING):
            # Only a shortcut: a slot already held by a committed booking ends
            # the attempt at once instead of after inserts that would collide
            # with other racing bookings. The unique index is the guard.
            if await self.exists(holder=holder, slot_start__in=slots, active=True):
                raise BookingConflictError(
                    f"the {conflict} is already booked at that time",
                    conflict=conflict,
                    key=("holder", "slot_start"),
                    entity="Appointment",
                    entity_id=appointment_id,
                )
            try:
                await self.create_many(reservations)
            except DuplicateError as exc:
                raise BookingConflictError(
                    f"the {conflict} is already booked at that time",
                    conflict=conflict,
                    key=exc.key,
                    entity="Appointment",
                    entity_id=appointment_id,
                    cause=exc,
                ) from None

    async def release(
        self,
        appointment_id: str,
        *,
        holder: str | None = None,
        slots: Sequence[datetime] | None = None,
    ) -> int:
        """Give back an appointment's reservations (or only those of ``holder``
        at ``slots``); returns how many were released."""
        query: dict[str, Any] = {"appointment_id": appointment_id, "active": True}
        if holder is not None:
            query["holder"] = holder
        if slots is not None:
            if not slots:
                return 0
            query["slot_start"] = {"$in": list(slots)}
        with acting_as(APPOINTMENT_BOOKING):
            return await self._update_many(
                query,
                {"$set": {"active": False, "released_at": utc_now()}},
                changed=("active", "released_at"),
            )

    async def held_slots(self, appointment_id: str, holder: str) -> list[datetime]:
        """The slots of ``holder`` an appointment holds now, in order."""
        with acting_as(APPOINTMENT_BOOKING):
            rows = await self.find_by(
                appointment_id=appointment_id, holder=holder, active=True
            )
        return sorted(row.slot_start for row in rows)

    async def book(
        self,
        work: Callable[[], Awaitable[R]],
        undo: Callable[[], Awaitable[Any]],
        *,
        read_copy_of: str | None = None,
    ) -> R:
        """Run ``work`` (reservations, then the appointment's write) as one unit.

        On a replica set it is one transaction, run again when it conflicted
        with another booking's; inside a caller's transaction it joins it and
        a conflict is the caller's to retry. On the embedded backend a failed
        ``work`` is followed by ``undo``, which releases the reservations it
        took, before the error goes on.

        Args:
            read_copy_of: the id of the record ``work`` writes from a copy read
                beforehand (a reschedule): once that copy is stale, running
                ``work`` again cannot succeed, so its ``ConcurrencyError`` is
                raised at once.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _BOOKING_PATIENCE_SECONDS
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(work, undo)
            except ConcurrencyError as conflict:
                stale = (
                    read_copy_of is not None
                    and conflict.entity_id == read_copy_of
                    and conflict.expected_revision is not None
                )
                if stale or in_transaction() or loop.time() >= deadline:
                    raise
                pause = min(_FIRST_BACKOFF * 2 ** min(attempt - 1, 10), _MAX_BACKOFF)
                await asyncio.sleep(random.uniform(pause / 2, pause))

    async def _once(
        self,
        work: Callable[[], Awaitable[R]],
        undo: Callable[[], Awaitable[Any]],
    ) -> R:
        rolls_back = self.db.supports_transactions and not self.db.is_embedded
        try:
            async with self.db.transaction():
                return await work()
        except BaseException:
            if not rolls_back:
                await undo()
            raise
