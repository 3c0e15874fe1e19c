"""The medication record's clinical acts: pausing, resuming and
discontinuing (each kept in ``status_history``), side-effect reports, and
refills with the refill worklist.

Status lifecycle: active -> paused or discontinued; paused -> active or
discontinued; discontinued is final (a restarted drug is a new prescription).
Discontinuing needs a reason; reasons are stored encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, ClassVar

from wellness_repo.models.medications import (
    ALLOWED_STATUS_CHANGES,
    Medication,
    MedicationStatus,
    SideEffect,
    SideEffectSeverity,
    StatusChange,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.care import calendar_day, parse_argument
from wellness_repo.repositories.lifecycle import (
    ClinicalRecordRepository,
    checked_id,
    checked_note,
)
from wellness_repo.security.context import AccessContext, UserRole, acting_as

__all__ = ["MedicationLifecycleRepository"]

_STATUS_METHODS = "pause_medication, resume_medication or discontinue_medication"
_LONGEST_LOOKAHEAD_DAYS = 365


class MedicationLifecycleRepository(ClinicalRecordRepository[Medication]):
    """Status changes, side effects and refills of medications; the base of
    :class:`~wellness_repo.repositories.medications.MedicationRepository`."""

    model = Medication
    MANAGED_FIELDS: ClassVar[Mapping[str, str]] = {
        "status": _STATUS_METHODS,
        "status_reason": _STATUS_METHODS,
        "status_history": _STATUS_METHODS,
        "side_effects": "report_side_effect",
        "interaction_warnings": "the interaction check when it is added",
        # Another drug is another medication: discontinuing this one and adding
        # the new one runs the interaction check, which an edit would skip.
        "medication_name": "discontinue_medication, then create",
        "patient_id": "discontinue_medication, then create",
    }

    # -------------------------------------------------------------- lifecycle

    async def pause_medication(
        self, medication_id: str, reason: str | None = None
    ) -> Medication:
        """Pause an active medication (a hold before surgery, a side effect
        under review); no dose is due or may be logged while paused."""
        return await self._change_status(medication_id, MedicationStatus.PAUSED, reason)

    async def resume_medication(
        self, medication_id: str, reason: str | None = None
    ) -> Medication:
        """Resume a paused medication."""
        return await self._change_status(medication_id, MedicationStatus.ACTIVE, reason)

    async def discontinue_medication(
        self, medication_id: str, reason: str
    ) -> Medication:
        """Stop a medication for good, with the reason (required)."""
        note = checked_note(reason, field="reason", required=True)
        return await self._change_status(
            medication_id, MedicationStatus.DISCONTINUED, note
        )

    async def report_side_effect(
        self,
        medication_id: str,
        effect: str,
        severity: SideEffectSeverity | str,
        onset: date,
        *,
        notes: str | None = None,
    ) -> Medication:
        """Record a side effect on the medication (stored encrypted), by a
        clinician in care or by the patient.

        Medications are read-only to patients, so a patient's report is
        written under the system context ``system:side-effect-report`` once
        the patient's own read of the medication has succeeded; the report
        names the patient as ``reported_by``.

        Raises:
            ValidationError: an unknown severity, an onset that is not a date
                or lies in the future; nothing is written.
        """
        day = calendar_day(onset, field="onset", entity=self._entity)
        if day is None or day > utc_now().date() + timedelta(days=1):
            raise self._rule_error(
                "onset must be a date, not in the future",
                field="onset",
                rule="required" if day is None else "future",
                entity_id=medication_id,
            )
        report = parse_argument(
            SideEffect,
            {
                "effect": effect,
                "severity": severity,
                "onset": day,
                "reported_at": utc_now(),
                "reported_by": self._actor_id(),
                "notes": notes,
            },
            field="side_effect",
            entity=self._entity,
            entity_id=medication_id,
        )

        def append(current: Medication) -> dict[str, Any]:
            return {"side_effects": [*current.side_effects, report]}

        if self._context().role is UserRole.PATIENT:
            await self.get(medication_id)
            with acting_as(AccessContext.system("side-effect-report")):
                updated = await self._revise(medication_id, append)
        else:
            updated = await self._revise(medication_id, append)
        self.logger.info(
            "side effect (%s) reported on medication %s",
            report.severity.value,
            medication_id,
        )
        return updated

    # ---------------------------------------------------------------- refills

    async def record_refill(
        self,
        medication_id: str,
        filled_on: date,
        *,
        days_supply: int | None = None,
        refills_remaining: int | None = None,
    ) -> Medication:
        """Record a fill: the next refill falls ``days_supply`` days after
        ``filled_on``. Without ``refills_remaining`` one refill is used up.

        Raises:
            ValidationError: no days supply known, no refills left, bad values.
        """
        day = calendar_day(filled_on, field="filled_on", entity=self._entity)
        if day is None:
            raise self._rule_error(
                "filled_on is required",
                field="filled_on",
                rule="required",
                entity_id=medication_id,
            )

        def fill(current: Medication) -> dict[str, Any]:
            supply = current.days_supply if days_supply is None else days_supply
            if supply is None:
                raise self._rule_error(
                    "days_supply is required for the first fill",
                    field="days_supply",
                    rule="required",
                    entity_id=medication_id,
                )
            remaining = refills_remaining
            if remaining is None and current.refills_remaining is not None:
                if current.refills_remaining == 0:
                    raise self._rule_error(
                        "no refills remain; a new prescription is needed",
                        field="refills_remaining",
                        rule="no_refills_remaining",
                        entity_id=medication_id,
                    )
                remaining = current.refills_remaining - 1
            return {
                "last_filled_on": day,
                "days_supply": supply,
                "refills_remaining": remaining,
            }

        return await self._revise(medication_id, fill)

    async def refills_due(
        self,
        within_days: int,
        *,
        today: date | None = None,
        patient_id: str | None = None,
    ) -> list[Medication]:
        """Active medications whose next refill falls within ``within_days``
        days of ``today`` (overdue ones included), soonest first: the refill
        worklist, for every visible patient or one."""
        ahead: int = parse_argument(
            int, within_days, field="within_days", entity=self._entity, strict=True
        )
        if not 0 <= ahead <= _LONGEST_LOOKAHEAD_DAYS:
            raise self._rule_error(
                f"within_days must be from 0 to {_LONGEST_LOOKAHEAD_DAYS}",
                field="within_days",
                rule="range",
                entity_id=None,
            )
        start = calendar_day(today, field="today", entity=self._entity)
        horizon = (start or utc_now().date()) + timedelta(days=ahead)
        filters: dict[str, Any] = {
            "status": MedicationStatus.ACTIVE,
            "next_refill_on__lte": horizon,
        }
        if patient_id is not None:
            filters["patient_id"] = checked_id(patient_id, field="patient_id")
        return await self._every_match(filters, ["next_refill_on"])

    # ---------------------------------------------------------------- private

    async def _change_status(
        self, medication_id: str, target: MedicationStatus, reason: str | None
    ) -> Medication:
        note = checked_note(reason, field="reason", required=False)

        def change(current: Medication) -> dict[str, Any]:
            if target not in ALLOWED_STATUS_CHANGES[current.status]:
                raise self._rule_error(
                    f"a {current.status.value} medication cannot become {target.value}",
                    field="status",
                    rule="invalid_transition",
                    entity_id=medication_id,
                )
            step = StatusChange(
                status=target,
                changed_at=utc_now(),
                changed_by=self._actor_id(),
                reason=note,
            )
            return {
                "status": target,
                "status_reason": note,
                "status_history": [*current.status_history, step],
            }

        updated = await self._revise(medication_id, change)
        self.logger.info("medication %s is now %s", medication_id, target.value)
        return updated
