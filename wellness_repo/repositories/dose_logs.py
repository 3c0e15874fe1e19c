"""The dose log repository: a patient logging each dose, checked against the
prescription, and the tally the adherence analysis reads.

Every log, however it arrives (``record_dose``, ``create``, ``create_many``),
is checked against its medication first: the medication must be visible to
the caller, active (a paused or discontinued medication takes no doses), the
dose inside the prescription's dates, and a scheduled dose must name one of
the schedule's slots. Nothing is written otherwise. Dose logs are the
patient's own (``RecordKind.PATIENT_AUTHORED``): clinicians in care read them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from wellness_repo.analysis.adherence import (
    TAKEN_STATUSES,
    DoseStatus,
    DoseTally,
    StatusCounts,
)
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import DuplicateError, NotFoundError, ValidationError
from wellness_repo.models.dose_logs import DoseLog
from wellness_repo.models.medications import Medication
from wellness_repo.models.types import is_aware, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import (
    calendar_day,
    every_match,
    refuse_managed_changes,
)
from wellness_repo.repositories.dose_log_rules import (
    LATE_AFTER,
    check_active,
    check_log_matches,
    check_within_prescription,
    dose_placement,
    dose_status,
)
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository

__all__ = ["LATE_AFTER", "DoseLogRepository"]

_WHICH_DOSE = (
    "patient_id",
    "medication_id",
    "scheduled_for",
    "recorded_at",
    "recorded_by",
)
"""What makes a log the record of one particular dose: a correction keeps them
(logging another dose is a new log)."""


class DoseLogRepository(AsyncBaseRepository[DoseLog]):
    """Patients' dose logs."""

    model = DoseLog

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[DoseLog] | None = None,
    ) -> None:
        super().__init__(
            db_manager,
            logger or logging.getLogger("wellness_repo.medications"),
            model=model,
        )
        self._medications = AsyncBaseRepository(self.db, self.logger, model=Medication)

    async def record_dose(
        self,
        medication_id: str,
        status: DoseStatus | str,
        *,
        scheduled_for: datetime | None = None,
        taken_at: datetime | None = None,
        reason: str | None = None,
    ) -> DoseLog:
        """Log one dose of a medication, as the patient.

        Args:
            status: taken, late, missed, or skipped (``reason`` required). A dose
                logged taken more than :data:`LATE_AFTER` after its time is
                stored as late.
            scheduled_for: the scheduled dose (UTC-aware instant of one of the
                schedule's slots); must be ``None`` for an as-needed medication.
            taken_at: when it was taken; defaults to now for taken and late.

        Logging the same scheduled dose again with the same status returns the
        stored log (a retried request); with another status it raises
        ``DuplicateError``.

        Raises:
            ValidationError: the medication is paused or discontinued (rule
                ``medication_not_active``), the time is no slot of the schedule
                (``not_a_scheduled_time``), a skipped dose without a reason;
                nothing is written.
            NotFoundError: no such medication is visible to the caller.
        """
        checked_id(medication_id, field="medication_id")
        status_value = dose_status(status)
        for name, value in (("scheduled_for", scheduled_for), ("taken_at", taken_at)):
            if value is not None and not is_aware(value):
                raise ValidationError(
                    f"{name} must be a timezone-aware datetime",
                    field=name,
                    rule="timezone_required",
                    entity=self._entity,
                )
        if taken_at is None and status_value in TAKEN_STATUSES:
            taken_at = utc_now()
        medication = await self._active_medication(medication_id)
        values: dict[str, Any] = {
            "patient_id": medication.patient_id,
            "medication_id": medication.id,
            "status": status_value,
            "scheduled_for": scheduled_for,
            "taken_at": taken_at,
            "reason": reason,
            "recorded_by": self._context().actor_id,
        }
        values.update(dose_placement(medication, scheduled_for, taken_at))
        log = self._validated_from_fields(values, medication_id)
        return await self._store(log, medication)

    async def create(self, entity: DoseLog) -> DoseLog:
        """Store a dose log after the same checks as :meth:`record_dose`."""
        self._check_type(entity)
        medication = await self._active_medication(entity.medication_id)
        check_log_matches(entity, medication)
        return await self._store(entity, medication)

    async def update(self, entity: DoseLog) -> DoseLog:
        """Correct a dose log (its status, when it was taken, the reason) after
        the checks :meth:`record_dose` makes: the medication active, the dose
        inside the prescription, a late dose stored as late; its place in the
        patient's day is worked out again. ``patch`` comes here too.

        Raises:
            ValidationError: a change of which dose it is (medication, patient,
                scheduled time, who recorded it; rule ``managed_field``), or
                what ``record_dose`` refuses; nothing is written.
            ConcurrencyError: the log changed since it was read.
        """
        self._check_type(entity)
        await refuse_managed_changes(self, entity, _WHICH_DOSE)
        medication = await self._active_medication(entity.medication_id)
        values = entity.model_dump(by_alias=False)
        values.update(dose_placement(medication, entity.scheduled_for, entity.taken_at))
        corrected = self._validated_from_fields(values, entity.id)
        check_log_matches(corrected, medication)
        check_within_prescription(corrected, medication)
        return await super().update(corrected)

    async def create_many(self, entities: Sequence[DoseLog]) -> list[DoseLog]:
        """Store a batch of dose logs (an import, the fixture seeder) in one
        insert, audited once.

        Each log is checked as :meth:`create` checks it, against its
        medication, which is read once per batch: the medication visible and
        active, the dose on one of its schedule's slots, inside the
        prescription, a reason for a skip. Every check runs before anything is
        written.

        Raises:
            ValidationError: a log breaks a rule; ``field`` names its place in
                the batch (``entities.3.scheduled_for``); or two logs of the
                batch are the same scheduled dose (rule ``duplicate_in_batch``).
                Nothing is written.
            NotFoundError: a log's medication is not visible to the caller.
            DuplicateError: a scheduled dose of the batch is logged already
                (the unique index on ``(medication_id, scheduled_for)``). The
                stored logs are checked first, so nothing is written then;
                a log racing in between is stopped by the index itself.
        """
        for entity in entities:
            self._check_type(entity)
        if not entities:
            return []
        medications = await self._medications_of(entities)
        seen: set[tuple[str, datetime]] = set()
        for position, entity in enumerate(entities):
            prefix = f"entities.{position}."
            medication = medications[entity.medication_id]
            check_active(medication, field=prefix + "medication_id")
            check_log_matches(entity, medication, prefix=prefix)
            check_within_prescription(entity, medication, prefix=prefix)
            if entity.scheduled_for is not None:
                key = (entity.medication_id, entity.scheduled_for)
                if key in seen:
                    raise ValidationError(
                        "the batch logs the same scheduled dose twice",
                        field=prefix + "scheduled_for",
                        rule="duplicate_in_batch",
                        entity=self._entity,
                        entity_id=entity.id,
                    )
                seen.add(key)
        await self._refuse_logged(entities)
        stored = await super().create_many(entities)
        self.logger.info(
            "%d dose(s) of %d medication(s) logged in one batch",
            len(stored),
            len(medications),
        )
        return stored

    async def doses_for_medication(
        self,
        medication_id: str,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> list[DoseLog]:
        """One medication's logged doses between two local dates (inclusive),
        oldest first."""
        filters: dict[str, Any] = {
            "medication_id": checked_id(medication_id, field="medication_id")
        }
        filters.update(self._date_range(start_date, end_date))
        return await every_match(
            self,
            QueryOptions(filters=filters, order_by=["local_date", "local_time"]),
        )

    async def doses_for_patient(
        self, patient_id: str, start_date: date, end_date: date
    ) -> list[DoseLog]:
        """All of a patient's logged doses between two local dates (inclusive),
        oldest first."""
        filters: dict[str, Any] = {
            "patient_id": checked_id(patient_id, field="patient_id")
        }
        filters.update(self._date_range(start_date, end_date, required=True))
        return await every_match(
            self,
            QueryOptions(filters=filters, order_by=["local_date", "local_time"]),
        )

    async def dose_tally(
        self, patient_id: str, first_day: date, last_day: date, due_by: datetime
    ) -> DoseTally:
        """A patient's dose logs from ``first_day`` to ``last_day`` (local,
        inclusive) of doses due by ``due_by``, counted in the database as
        :func:`analysis.adherence.tally_doses` counts them."""
        match = {
            "patient_id": checked_id(patient_id, field="patient_id"),
            "local_date": {"$gte": first_day.isoformat(), "$lte": last_day.isoformat()},
        }
        due = {"$or": [{"scheduled_for": None}, {"scheduled_for": {"$lte": due_by}}]}
        taken = [status.value for status in TAKEN_STATUSES]
        rows = await self._aggregate(
            [
                {"$match": due},
                {
                    "$facet": {
                        "days": [
                            {
                                "$group": {
                                    "_id": {
                                        "m": "$medication_id",
                                        "d": "$local_date",
                                        "s": "$status",
                                    },
                                    "n": {"$sum": 1},
                                }
                            }
                        ],
                        "slots": [
                            {
                                "$match": {
                                    "local_time": {"$ne": None},
                                    "status": {"$in": taken},
                                }
                            },
                            {
                                "$group": {
                                    "_id": {
                                        "m": "$medication_id",
                                        "t": "$local_time",
                                        "w": "$weekday",
                                    },
                                    "n": {"$sum": 1},
                                }
                            },
                        ],
                    }
                },
            ],
            match=match,
        )
        return _tally_from_rows(rows)

    # ---------------------------------------------------------------- private

    async def _active_medication(self, medication_id: str) -> Medication:
        medication = await self._medications.get(medication_id)
        check_active(medication)
        return medication

    async def _medications_of(
        self, entities: Sequence[DoseLog]
    ) -> dict[str, Medication]:
        """The batch's medications, read once each (one query per page)."""
        wanted = sorted({entity.medication_id for entity in entities})
        found = await every_match(
            self._medications, QueryOptions(filters={"id__in": wanted})
        )
        medications = {medication.id: medication for medication in found}
        for position, entity in enumerate(entities):
            if entity.medication_id not in medications:
                raise NotFoundError(
                    f"the medication of entities.{position} is not visible",
                    entity=Medication.entity_name(),
                    entity_id=entity.medication_id,
                )
        return medications

    async def _refuse_logged(self, entities: Sequence[DoseLog]) -> None:
        """``DuplicateError`` if a scheduled dose of the batch is stored."""
        scheduled = [entity for entity in entities if entity.scheduled_for]
        if not scheduled:
            return
        wanted = {(entity.medication_id, entity.scheduled_for) for entity in scheduled}
        options = QueryOptions(
            filters={
                "medication_id__in": sorted({key[0] for key in wanted}),
                "scheduled_for__in": sorted({key[1] for key in wanted if key[1]}),
            },
            fields=("medication_id", "scheduled_for"),
        )
        logged = False
        after: str | None = None
        while not logged:
            page = await self.list_all(replace(options, after=after))
            logged = any(
                (found.medication_id, found.scheduled_for) in wanted
                for found in page.items
            )
            if page.next_cursor is None:
                break
            after = page.next_cursor
        if logged:
            raise DuplicateError(
                "a scheduled dose of the batch is logged already; nothing was written",
                key=("medication_id", "scheduled_for"),
                entity=self._entity,
            )

    async def _store(self, log: DoseLog, medication: Medication) -> DoseLog:
        check_within_prescription(log, medication)
        try:
            stored = await super().create(log)
        except DuplicateError:
            earlier = await self.find_one_by(
                medication_id=log.medication_id, scheduled_for=log.scheduled_for
            )
            if earlier is None or earlier.status is not log.status:
                raise
            self.logger.info("dose %s logged again; kept the first", earlier.id)
            return earlier
        self.logger.info(
            "dose %s of medication %s logged %s",
            stored.id,
            medication.id,
            stored.status.value,
        )
        return stored

    def _date_range(
        self, start: date | None, end: date | None, *, required: bool = False
    ) -> dict[str, Any]:
        first = calendar_day(start, field="start_date", entity=self._entity)
        last = calendar_day(end, field="end_date", entity=self._entity)
        if required and (first is None or last is None):
            raise ValidationError(
                "start_date and end_date are required",
                field="start_date" if first is None else "end_date",
                rule="required",
                entity=self._entity,
            )
        if first is not None and last is not None and last < first:
            raise ValidationError(
                "end_date may not precede start_date",
                field="end_date",
                rule="end_before_start",
                entity=self._entity,
            )
        found: dict[str, Any] = {}
        if first is not None:
            found["local_date__gte"] = first
        if last is not None:
            found["local_date__lte"] = last
        return found


def _tally_from_rows(rows: Sequence[dict[str, Any]]) -> DoseTally:
    result = rows[0] if rows else {}
    days: dict[tuple[str, date], StatusCounts] = {}
    for row in result.get("days", []):
        key = (row["_id"]["m"], date.fromisoformat(row["_id"]["d"]))
        days.setdefault(key, StatusCounts()).add(DoseStatus(row["_id"]["s"]), row["n"])
    slots = {
        (row["_id"]["m"], row["_id"]["t"], int(row["_id"]["w"])): int(row["n"])
        for row in result.get("slots", [])
    }
    return DoseTally(days=days, slots=slots)
