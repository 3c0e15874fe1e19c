"""The appointment repository: checking a provider's availability, booking
race-safely, moving and cancelling with history, and queueing reminders.

Booking (``create``) checks the time against the provider's calendar (working
hours in the provider's zone, exceptions), then, as one unit, reserves every
grid slot the visit needs of the provider's time (with the buffer) and of the
patient's, and writes the appointment. The unique index on reservations is
what refuses the second of two overlapping bookings (see
``repositories.appointment_slots``); ``check_availability`` and
``find_free_slots`` answer the same question ahead of time from the provider's
booked appointments (``analysis.availability``).

Status changes are named acts (``confirm``, ``check_in``, ``complete``,
``cancel``, ``reschedule``, ``mark_no_show``) along the allowed transitions;
a plain ``update`` may edit the agenda and place but not what those acts own.

Visits that already took place (a migration, fixtures) are not booked but
imported, by a system context, through ``import_history``
(``repositories.appointment_history``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from wellness_repo.analysis.availability import CalendarRules
from wellness_repo.errors import ValidationError
from wellness_repo.models.appointment_slots import (
    holder_of_patient,
    holder_of_provider,
)
from wellness_repo.models.appointments import (
    ACTIVE_STATUSES,
    ALLOWED_TRANSITIONS,
    Appointment,
    AppointmentChange,
    AppointmentModality,
    AppointmentStatus,
    Cancellation,
    CancelledBy,
    ChangeKind,
)
from wellness_repo.models.reminders import AppointmentReminder, ReminderType
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repositories.appointment_history import (
    AppointmentHistoryRepository,
)
from wellness_repo.repositories.appointment_reminders import (
    AppointmentReminderRepository,
    checked_reminder_types,
)
from wellness_repo.repositories.appointment_slots import (
    APPOINTMENT_BOOKING,
    slot_starts,
)
from wellness_repo.repositories.lifecycle import checked_id, checked_note
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import dump_for_storage
from wellness_repo.security.context import acting_as
from wellness_repo.security.policy import Operation

__all__ = ["AppointmentRepository"]

_S = AppointmentStatus
_ACTS = "confirm, check_in, complete, cancel, reschedule and mark_no_show"


class AppointmentRepository(AppointmentHistoryRepository):
    """Appointments, provider availability, race-safe booking and reminders.

    ``calendars``, ``slots`` and ``reminders`` are the repositories it works
    through, on the same connection.
    """

    model = Appointment
    MANAGED_FIELDS: ClassVar[Mapping[str, str]] = {
        "status": _ACTS,
        "scheduled_start": "reschedule",
        "duration_minutes": "reschedule",
        "provider_id": "cancel and book again",
        "patient_id": "cancel and book again",
        "cancellation": "cancel",
        "history": "reschedule and cancel",
        "confirmed_at": "confirm",
        "checked_in_at": "check_in",
        "completed_at": "complete",
        "booked_by": "create (the booking context)",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reminders = AppointmentReminderRepository(self.db, self.logger)

    # ---------------------------------------------------------------- booking

    async def create(self, entity: Appointment) -> Appointment:
        """Book an appointment: refused unless the provider works then, is not
        away, and neither the provider (with their buffer) nor the patient is
        booked at an overlapping time. Racing overlapping bookings: exactly one
        succeeds.

        Raises:
            ValidationError: invalid or past time, off the booking grid,
                outside working hours, during an exception, or a status other
                than scheduled or confirmed; nothing is written.
            BookingConflictError: the provider or patient is already booked
                then (``conflict`` says which); nothing is written.
        """
        self._check_type(entity)
        document, appointment = dump_for_storage(entity, revision=1)
        if appointment.status not in (_S.SCHEDULED, _S.CONFIRMED) or (
            appointment.history
        ):
            raise self._rule_error(
                "a new appointment is scheduled or confirmed, without history",
                field="status",
                rule="initial_status",
                entity_id=appointment.id,
            )
        self._check_bookable_time(appointment.scheduled_start, appointment.id)
        self._checked_duration(appointment.duration_minutes)
        rules = await self._rules_of(appointment.provider_id)
        self._check_calendar(rules, appointment)
        await self._authorize_write(self._context(), document, Operation.CREATE)
        if appointment.booked_by is None:
            appointment = appointment.model_copy(update={"booked_by": self._actor_id()})
        provider_slots, patient_slots = self._slots_of(appointment, rules)

        async def reserve_and_write() -> Appointment:
            await self._hold(appointment, provider_slots, patient_slots)
            return await super(AppointmentRepository, self).create(appointment)

        booked = await self.slots.book(
            reserve_and_write, lambda: self.slots.release(appointment.id)
        )
        self.logger.info(
            "appointment %s booked with provider %s", booked.id, booked.provider_id
        )
        return booked

    async def create_many(self, entities: Sequence[Appointment]) -> list[Appointment]:
        """Refused: a plain bulk insert would skip the calendar and the slot
        reservations that keep bookings from overlapping. Book with ``create``;
        bring past visits in with ``import_history``."""
        raise ValidationError(
            "appointments are booked one at a time with create, or imported "
            "with import_history",
            field="entities",
            rule="book_through_create",
            entity=self._entity,
        )

    async def reschedule(
        self,
        appointment_id: str,
        new_start: datetime,
        *,
        duration_minutes: int | None = None,
        reason: str | None = None,
    ) -> Appointment:
        """Move an appointment to ``new_start`` (and length), keeping the old
        time in its history; its status becomes ``rescheduled`` until confirmed
        again, and its open reminders are queued afresh for the new time.

        Raises:
            ValidationError: the appointment cannot move from its status, or
                the new time is invalid, past, or outside working hours.
            BookingConflictError: the new time overlaps another booking of the
                provider or patient; the appointment keeps its old time.
        """
        start = self._check_bookable_time(new_start, appointment_id, "new_start")
        note = checked_note(reason, field="reason", required=False)
        current = await self.get(appointment_id)
        self._check_transition(current, _S.RESCHEDULED)
        duration = current.duration_minutes
        if duration_minutes is not None:
            duration = self._checked_duration(duration_minutes)
        moved = current.model_copy(
            update={
                "scheduled_start": start,
                "duration_minutes": duration,
                "status": _S.RESCHEDULED,
                "confirmed_at": None,
                "history": [
                    *current.history,
                    AppointmentChange(
                        kind=ChangeKind.RESCHEDULED,
                        changed_by=self._actor_id(),
                        previous_start=current.scheduled_start,
                        previous_duration_minutes=current.duration_minutes,
                        new_start=start,
                        new_duration_minutes=duration,
                        reason=note,
                    ),
                ],
            }
        )
        moved = self._validated_from_fields(moved.model_dump(), appointment_id)
        rules = await self._rules_of(current.provider_id)
        self._check_calendar(rules, moved)
        old_provider, old_patient = self._slots_of(current, rules)
        new_provider, new_patient = self._slots_of(moved, rules)
        gained = (_minus(new_provider, old_provider), _minus(new_patient, old_patient))

        async def move() -> Appointment:
            await self._hold(moved, *gained)
            stored = await AsyncBaseRepository.update(self, moved)
            await self._release_only(current, _minus(old_provider, new_provider))
            await self._release_only(
                current, _minus(old_patient, new_patient), patient=True
            )
            await self._requeue_reminders(stored)
            return stored

        async def undo() -> None:
            await self._release_only(current, gained[0])
            await self._release_only(current, gained[1], patient=True)

        stored = await self.slots.book(move, undo, read_copy_of=current.id)
        self.logger.info("appointment %s rescheduled", stored.id)
        return stored

    async def cancel(
        self,
        appointment_id: str,
        reason: str,
        *,
        cancelled_by: CancelledBy | str = CancelledBy.PATIENT,
    ) -> Appointment:
        """Cancel an appointment: records the reason, who cancelled, and whether
        it was late (less notice than ``appointment_late_cancel_hours``); frees
        the provider's and patient's time and cancels pending reminders.

        Raises:
            ValidationError: no reason, an unknown party, or a status that
                cannot be cancelled (completed, no-show, already cancelled).
        """
        note = checked_note(reason, field="reason", required=True)
        party = _party(cancelled_by)
        late_window = timedelta(hours=self.db.settings.appointment_late_cancel_hours)
        actor = self._actor_id()

        def cancelled(current: Appointment) -> dict[str, Any]:
            self._check_transition(current, _S.CANCELLED)
            now = utc_now()
            notice = current.scheduled_start - now
            return {
                "status": _S.CANCELLED,
                "cancellation": Cancellation(
                    reason=note,
                    cancelled_by=actor,
                    cancelled_by_party=party,
                    cancelled_at=now,
                    late=notice < late_window,
                    notice_minutes=int(notice.total_seconds() // 60),
                ),
                "history": [
                    *current.history,
                    AppointmentChange(
                        kind=ChangeKind.CANCELLED,
                        changed_at=now,
                        changed_by=actor,
                        previous_start=current.scheduled_start,
                        previous_duration_minutes=current.duration_minutes,
                        reason=note,
                    ),
                ],
            }

        async def cancel_and_release() -> Appointment:
            stored = await self._revise(appointment_id, cancelled)
            await self.slots.release(stored.id)
            await self._cancel_reminders(stored.id)
            return stored

        stored = await self.db.run_in_transaction(cancel_and_release)
        self.logger.info(
            "appointment %s cancelled (%s, late: %s)",
            stored.id,
            party.value,
            stored.cancellation.late if stored.cancellation else False,
        )
        return stored

    def _refuse_managed_changes(
        self, current: Appointment, entity: Appointment
    ) -> None:
        super()._refuse_managed_changes(current, entity)
        # Confirming checked that a telehealth visit has its link; an edit
        # after it keeps the visit reachable (a new link is fine, none is not).
        if current.status in (_S.SCHEDULED, _S.RESCHEDULED):
            return
        if entity.modality is not current.modality:
            raise self._managed_field_error(
                "modality", "cancel and book again", entity.id
            )
        if (
            entity.modality is AppointmentModality.TELEHEALTH
            and not entity.telehealth_link
        ):
            raise self._rule_error(
                "a confirmed telehealth appointment keeps a link",
                field="telehealth_link",
                rule="telehealth_link_required",
                entity_id=entity.id,
            )

    async def confirm(self, appointment_id: str) -> Appointment:
        """Confirm a scheduled or rescheduled appointment. A telehealth visit
        needs its link first (rule ``telehealth_link_required``)."""

        def confirmed(current: Appointment) -> dict[str, Any]:
            self._check_transition(current, _S.CONFIRMED)
            if (
                current.modality is AppointmentModality.TELEHEALTH
                and current.telehealth_link is None
            ):
                raise self._rule_error(
                    "a telehealth appointment needs its link before confirming",
                    field="telehealth_link",
                    rule="telehealth_link_required",
                    entity_id=current.id,
                )
            return {"status": _S.CONFIRMED, "confirmed_at": utc_now()}

        return await self._revise(appointment_id, confirmed)

    async def check_in(self, appointment_id: str) -> Appointment:
        """Record that the patient has arrived (or joined the call)."""

        def checked_in(current: Appointment) -> dict[str, Any]:
            self._check_transition(current, _S.CHECKED_IN)
            return {"status": _S.CHECKED_IN, "checked_in_at": utc_now()}

        return await self._revise(appointment_id, checked_in)

    async def complete(self, appointment_id: str) -> Appointment:
        """Record that a checked-in appointment took place."""

        def completed(current: Appointment) -> dict[str, Any]:
            self._check_transition(current, _S.COMPLETED)
            return {"status": _S.COMPLETED, "completed_at": utc_now()}

        return await self._revise(appointment_id, completed)

    async def mark_no_show(self, appointment_id: str) -> Appointment:
        """Record that the patient did not attend; only once the start has
        passed (rule ``not_yet_started``). Pending reminders are cancelled."""

        def no_show(current: Appointment) -> dict[str, Any]:
            self._check_transition(current, _S.NO_SHOW)
            if current.scheduled_start > utc_now():
                raise self._rule_error(
                    "a no-show is recorded only after the scheduled start",
                    field="status",
                    rule="not_yet_started",
                    entity_id=current.id,
                )
            return {"status": _S.NO_SHOW}

        stored = await self._revise(appointment_id, no_show)
        await self._cancel_reminders(stored.id)
        return stored

    async def delete(self, entity_id: str) -> bool:
        """Delete an appointment entered in error: it disappears from queries,
        its time is freed and its pending reminders are cancelled."""
        found = await super().delete(entity_id)
        if found:
            await self.slots.release(entity_id)
            await self._cancel_reminders(entity_id)
        return found

    # -------------------------------------------------------------- reminders

    async def send_appointment_reminders(
        self,
        appointment_id: str,
        reminder_types: Sequence[ReminderType | str],
        *,
        lead_minutes: Iterable[int] | None = None,
    ) -> list[AppointmentReminder]:
        """Queue reminders of an appointment in the outbox: one per channel and
        lead time (by default 24 h and 1 h before) still ahead. The dispatcher
        delivers them when due.

        Raises:
            ValidationError: an unknown reminder type (rule
                ``unknown_reminder_type``), a bad lead time, or an appointment
                that is no longer active; nothing is written.
            NotFoundError: no such appointment is visible.
        """
        kinds = checked_reminder_types(reminder_types)
        appointment = await self.get(appointment_id)
        if appointment.status not in ACTIVE_STATUSES:
            raise self._rule_error(
                f"a {appointment.status.value} appointment gets no reminders",
                field="status",
                rule="not_active",
                entity_id=appointment.id,
            )
        with acting_as(APPOINTMENT_BOOKING):
            return await self.reminders.schedule(appointment, kinds, lead_minutes)

    # ------------------------------------------------------------------ reads

    async def appointments_for_patient(
        self,
        patient_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[Appointment]:
        """One page of a patient's appointments by scheduled start, optionally
        within ``[start, end)``; ``after`` is the previous page's cursor."""
        filters = self._window(start, end)
        filters["patient_id"] = checked_id(patient_id, field="patient_id")
        return await self.list_all(
            QueryOptions(
                filters=filters, order_by=["scheduled_start"], limit=limit, after=after
            )
        )

    async def provider_schedule(
        self,
        provider_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[Appointment]:
        """One page of a provider's appointments starting in ``[start, end)``,
        by scheduled start (cancelled ones included, marked as such)."""
        filters = self._window(start, end)
        filters["provider_id"] = checked_id(provider_id, field="provider_id")
        return await self.list_all(
            QueryOptions(
                filters=filters, order_by=["scheduled_start"], limit=limit, after=after
            )
        )

    # ---------------------------------------------------------------- private

    def _slots_of(
        self, appointment: Appointment, rules: CalendarRules
    ) -> tuple[list[datetime], list[datetime]]:
        grid = self.db.settings.appointment_slot_minutes
        start, end = appointment.scheduled_start, appointment.scheduled_end
        held_until = end + timedelta(minutes=rules.buffer_minutes)
        return slot_starts(start, held_until, grid), slot_starts(start, end, grid)

    async def _hold(
        self,
        appointment: Appointment,
        provider_slots: Sequence[datetime],
        patient_slots: Sequence[datetime],
    ) -> None:
        await self.slots.hold(
            appointment.id,
            holder_of_provider(appointment.provider_id),
            provider_slots,
            conflict="provider",
        )
        await self.slots.hold(
            appointment.id,
            holder_of_patient(appointment.patient_id),
            patient_slots,
            conflict="patient",
        )

    async def _release_only(
        self,
        appointment: Appointment,
        slots: Sequence[datetime],
        *,
        patient: bool = False,
    ) -> None:
        holder = (
            holder_of_patient(appointment.patient_id)
            if patient
            else holder_of_provider(appointment.provider_id)
        )
        await self.slots.release(appointment.id, holder=holder, slots=slots)

    async def _cancel_reminders(self, appointment_id: str) -> None:
        with acting_as(APPOINTMENT_BOOKING):
            await self.reminders.cancel_open(appointment_id)

    async def _requeue_reminders(self, appointment: Appointment) -> None:
        with acting_as(APPOINTMENT_BOOKING):
            cancelled = await self.reminders.cancel_open(appointment.id)
            for kind in dict.fromkeys(item.reminder_type for item in cancelled):
                leads = [
                    item.lead_minutes
                    for item in cancelled
                    if item.reminder_type is kind
                ]
                await self.reminders.schedule(appointment, [kind], leads)

    def _check_transition(
        self, current: Appointment, target: AppointmentStatus
    ) -> None:
        if target not in ALLOWED_TRANSITIONS[current.status]:
            raise self._rule_error(
                f"a {current.status.value} appointment cannot become {target.value}",
                field="status",
                rule="invalid_transition",
                entity_id=current.id,
            )


def _minus(first: Sequence[datetime], second: Sequence[datetime]) -> list[datetime]:
    taken = set(second)
    return [slot for slot in first if slot not in taken]


def _party(value: Any) -> CancelledBy:
    try:
        return CancelledBy(value)
    except ValueError:
        raise ValidationError(
            "cancelled_by must be one of "
            + ", ".join(party.value for party in CancelledBy),
            field="cancelled_by",
            rule="enum",
        ) from None
