"""The medication repository: prescribing with an interaction check, the
status lifecycle, side effects, refills, dose logging and adherence.

Interaction check: adding a medication checks it against the patient's active
and paused medications through an :class:`InteractionProvider` (the shipped
psychiatric table by default). Every interaction found is stored on the new
medication as ``interaction_warnings``. A contraindicated one refuses the
prescription with ``ValidationError`` (rule ``contraindicated_interaction``)
unless the medication carries an ``interaction_acknowledgment``: the
prescriber's id and reason for going ahead. ``check_interactions`` shows the
findings before prescribing.

The status lifecycle, side effects and refills are the clinical acts of
``repositories.medication_lifecycle``; adherence is gathered in
``repositories.medication_adherence`` and computed in ``analysis.adherence``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from wellness_repo.analysis.adherence import AdherenceSummary
from wellness_repo.analysis.adherence_report import AdherenceReport
from wellness_repo.analysis.drug_interactions import (
    InteractionProvider,
    TableInteractionProvider,
)
from wellness_repo.analysis.interaction_table import InteractionSeverity
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.models.dose_logs import DoseLog, DoseStatus
from wellness_repo.models.medications import (
    InteractionWarning,
    Medication,
    MedicationStatus,
    ShortText,
    StatusChange,
)
from wellness_repo.models.types import is_aware, utc_now
from wellness_repo.repositories.care import calendar_day, parse_argument
from wellness_repo.repositories.dose_logs import DoseLogRepository
from wellness_repo.repositories.lifecycle import (
    checked_id,
)
from wellness_repo.repositories.medication_adherence import (
    adherence_over_days,
    adherence_report,
)
from wellness_repo.repositories.medication_lifecycle import (
    MedicationLifecycleRepository,
)

__all__ = ["MedicationRepository"]

_LONGEST_PERIOD_DAYS = 366


class MedicationRepository(MedicationLifecycleRepository):
    """Patients' medications, their doses and adherence.

    Args:
        interactions: where interaction knowledge comes from; defaults to the
            shipped table (:class:`TableInteractionProvider`).
    """

    model = Medication

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[Medication] | None = None,
        interactions: InteractionProvider | None = None,
    ) -> None:
        logger = logger or logging.getLogger("wellness_repo.medications")
        super().__init__(db_manager, logger, model=model)
        self.interactions: InteractionProvider = (
            interactions or TableInteractionProvider()
        )
        self.doses = DoseLogRepository(db_manager, logger)

    # ------------------------------------------------------------ prescribing

    async def create(self, entity: Medication) -> Medication:
        """Add a medication to the patient's list, active, after the
        interaction check (see the module docstring).

        Raises:
            ValidationError: a contraindicated interaction not acknowledged
                (field ``interaction_acknowledgment``), a status other than
                active, managed fields supplied, bad values; nothing is written.
        """
        self._check_type(entity)
        for name in ("status_history", "side_effects", "interaction_warnings"):
            if getattr(entity, name):
                raise self._managed_field_error(name, self.MANAGED_FIELDS[name], None)
        if entity.status is not MedicationStatus.ACTIVE:
            raise self._rule_error(
                "a new medication starts active",
                field="status",
                rule="invalid_transition",
                entity_id=entity.id,
            )
        warnings = await self.check_interactions(
            entity.patient_id, entity.medication_name
        )
        refused = [
            warning
            for warning in warnings
            if warning.severity is InteractionSeverity.CONTRAINDICATED
        ]
        if refused and entity.interaction_acknowledgment is None:
            raise self._rule_error(
                f"contraindicated with {len(refused)} of the patient's current "
                "medications; see check_interactions, and set "
                "interaction_acknowledgment to prescribe anyway",
                field="interaction_acknowledgment",
                rule="contraindicated_interaction",
                entity_id=entity.id,
            )
        started = StatusChange(
            status=MedicationStatus.ACTIVE,
            changed_at=utc_now(),
            changed_by=self._actor_id(),
        )
        created = await super().create(
            entity.model_copy(
                update={"status_history": [started], "interaction_warnings": warnings}
            )
        )
        self.logger.info(
            "medication %s added with %d interaction warning(s)",
            created.id,
            len(warnings),
        )
        return created

    async def create_many(self, entities: Sequence[Medication]) -> list[Medication]:
        """Add several medications one after another, each checked against
        those added before it."""
        for entity in entities:
            self._check_type(entity)
        return [await self.create(entity) for entity in entities]

    async def check_interactions(
        self, patient_id: str, medication_name: str
    ) -> list[InteractionWarning]:
        """What prescribing ``medication_name`` would interact with among the
        patient's active and paused medications, most severe first."""
        patient = checked_id(patient_id, field="patient_id")
        name = parse_argument(
            ShortText,
            medication_name,
            field="medication_name",
            entity=self._entity,
        )
        current = await self._every_match(
            {
                "patient_id": patient,
                "status__in": [MedicationStatus.ACTIVE, MedicationStatus.PAUSED],
            },
            ["start_date"],
        )
        warnings = []
        for other in current:
            for found in await self.interactions.interactions(
                name, [other.medication_name]
            ):
                warnings.append(
                    InteractionWarning(
                        other_medication_id=other.id,
                        other_drug=found.other_drug,
                        severity=found.severity,
                        effect=found.effect,
                        management=found.management,
                        source=found.source,
                    )
                )
        warnings.sort(key=lambda warning: warning.severity.rank)
        return warnings

    # ---------------------------------------------------------------- queries

    async def active_medications(self, patient_id: str) -> list[Medication]:
        """The patient's active medications, oldest prescription first."""
        patient = checked_id(patient_id, field="patient_id")
        return await self._every_match(
            {"patient_id": patient, "status": MedicationStatus.ACTIVE},
            ["start_date"],
        )

    async def medications_for_patient(self, patient_id: str) -> list[Medication]:
        """Every medication of the patient, any status, oldest first."""
        patient = checked_id(patient_id, field="patient_id")
        return await self._every_match({"patient_id": patient}, ["start_date"])

    # ------------------------------------------------------ doses, adherence

    async def record_dose(
        self,
        medication_id: str,
        status: DoseStatus | str,
        *,
        scheduled_for: datetime | None = None,
        taken_at: datetime | None = None,
        reason: str | None = None,
    ) -> DoseLog:
        """Log a dose; see :meth:`DoseLogRepository.record_dose`."""
        return await self.doses.record_dose(
            medication_id,
            status,
            scheduled_for=scheduled_for,
            taken_at=taken_at,
            reason=reason,
        )

    async def calculate_adherence(
        self, patient_id: str, period_days: int, *, as_of: datetime | None = None
    ) -> AdherenceSummary:
        """The patient's adherence over the last ``period_days`` local days up
        to ``as_of`` (default now): doses taken / scheduled and the proportion
        of days covered, per medication and overall (as-needed medications
        reported, never in a denominator). A dose counts once it is
        :data:`LATE_AFTER` past its time."""
        patient = checked_id(patient_id, field="patient_id")
        days: int = parse_argument(
            int, period_days, field="period_days", entity=self._entity, strict=True
        )
        if not 1 <= days <= _LONGEST_PERIOD_DAYS:
            raise self._rule_error(
                f"period_days must be from 1 to {_LONGEST_PERIOD_DAYS}",
                field="period_days",
                rule="range",
                entity_id=None,
            )
        moment = self._instant(as_of)
        everything = await self.medications_for_patient(patient)
        return await adherence_over_days(self.doses, patient, everything, days, moment)

    async def generate_adherence_report(
        self,
        patient_id: str,
        start_date: date,
        end_date: date,
        *,
        as_of: datetime | None = None,
    ) -> AdherenceReport:
        """One row per medication prescribed in the period (local dates,
        inclusive), missed-dose patterns by time of day and weekday, and the
        trend against the previous period of equal length."""
        patient = checked_id(patient_id, field="patient_id")
        first = calendar_day(start_date, field="start_date", entity=self._entity)
        last = calendar_day(end_date, field="end_date", entity=self._entity)
        if first is None or last is None or last < first:
            raise self._rule_error(
                "start_date and end_date are required, end not before start",
                field="end_date" if first is not None else "start_date",
                rule="date_range",
                entity_id=None,
            )
        if (last - first).days + 1 > _LONGEST_PERIOD_DAYS:
            raise self._rule_error(
                f"a report covers at most {_LONGEST_PERIOD_DAYS} days",
                field="end_date",
                rule="range",
                entity_id=None,
            )
        moment = self._instant(as_of)
        everything = await self.medications_for_patient(patient)
        report = await adherence_report(
            self.doses, patient, everything, first, last, moment
        )
        self.logger.info(
            "adherence report for %d medication(s) over %d days",
            len(report.rows),
            (last - first).days + 1,
        )
        return report

    # ---------------------------------------------------------------- private

    def _instant(self, value: datetime | None) -> datetime:
        if value is None:
            return utc_now()
        if not is_aware(value):
            raise self._rule_error(
                "as_of must be a timezone-aware datetime",
                field="as_of",
                rule="timezone_required",
                entity_id=None,
            )
        return value
