"""Outcome measurement on treatment plans: scoring PHQ-9 and GAD-7 against the
plan's baseline, and the safety follow-up a positive PHQ-9 item 9 demands.

A positive item 9 also opens a crisis detection (``source="assessment"``, the
plan's id as its source) in the same transaction as the measure on a replica
set, so the care team is alerted through the outbox, not only by the plan's
flag."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from wellness_repo.analysis.crisis_screening import assess_phq9_item9
from wellness_repo.analysis.instruments import (
    Instrument,
    classify_change,
    parse_instrument,
    score_responses,
)
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import ValidationError
from wellness_repo.models.crisis import DetectionSource
from wellness_repo.models.treatment_plans import OutcomeMeasure, TreatmentPlan
from wellness_repo.models.types import new_id, utc_now
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.crisis_recording import (
    record_signals,
    with_detections,
)
from wellness_repo.repositories.lifecycle import (
    ClinicalRecordRepository,
    checked_id,
    checked_note,
)

__all__ = ["OutcomeMeasurementRepository"]

# Clocks of the device that administered a questionnaire may run a little ahead.
_CLOCK_SKEW = timedelta(minutes=5)


class OutcomeMeasurementRepository(ClinicalRecordRepository[TreatmentPlan]):
    """The outcome-measurement acts on treatment plans; the treatment-plan
    repository builds on it.

    A measure's change since baseline compares it with the plan's earliest
    measure of the same instrument. A safety item answered above 0 keeps
    ``safety_follow_up_required`` true on the plan until a clinician records the
    follow-up, and opens a crisis detection through ``detections``.
    """

    model = TreatmentPlan

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[TreatmentPlan] | None = None,
    ) -> None:
        super().__init__(db_manager, logger, model=model)
        self.detections = CrisisDetectionRepository(self.db, self.logger)

    async def record_outcome_measure(
        self,
        plan_id: str,
        instrument: Instrument | str,
        item_responses: Sequence[int],
        administered_at: datetime | None = None,
        notes: str | None = None,
    ) -> OutcomeMeasure:
        """Score a completed questionnaire and record it against the plan.

        The stored measure carries the total, the severity band, and the change
        since baseline (the plan's earliest measure of that instrument) with its
        reliable-change class. A PHQ-9 item 9 answer above 0 sets
        ``requires_safety_follow_up`` on the measure and
        ``safety_follow_up_required`` on the plan, whatever the total, and
        records a crisis detection for the patient (``source="assessment"``,
        the plan as its source) in the same transaction; a repeat while that
        detection is open and within the duplicate window is folded into it.

        Args:
            instrument: ``Instrument.PHQ9`` or ``"PHQ-9"``, ``Instrument.GAD7``
                or ``"GAD-7"``.
            item_responses: the answers in item order, each 0-3.
            administered_at: when the patient completed it (aware); now if
                omitted. It may not precede the baseline already recorded, whose
                change values others may have acted on.

        Raises:
            ValidationError: an unknown instrument, a wrong number of answers or
                an answer out of range (naming the item), a naive or future time,
                or a time before the baseline; nothing is written.
            NotFoundError: no such plan is visible.
        """
        self._check_id(plan_id)
        chosen = parse_instrument(instrument)
        score = score_responses(chosen, item_responses)
        when = _administration_time(administered_at)
        note = checked_note(notes, field="notes", required=False)
        actor = self._actor_id()
        measure_id = new_id()

        def change(plan: TreatmentPlan) -> dict[str, Any]:
            earlier = [m for m in plan.outcome_measures if m.instrument is chosen]
            baseline = min(earlier, key=lambda m: m.administered_at, default=None)
            if baseline is not None and when < baseline.administered_at:
                raise self._rule_error(
                    f"the plan's {chosen.value} baseline was administered later",
                    field="administered_at",
                    rule="before_baseline",
                    entity_id=plan_id,
                )
            measure = OutcomeMeasure(
                measure_id=measure_id,
                instrument=chosen,
                administered_at=when,
                recorded_at=utc_now(),
                recorded_by=actor,
                item_responses=list(item_responses),
                total_score=score.total,
                severity=score.severity,
                change_from_baseline=(
                    None if baseline is None else score.total - baseline.total_score
                ),
                reliable_change=(
                    None
                    if baseline is None
                    else classify_change(chosen, baseline.total_score, score.total)
                ),
                requires_safety_follow_up=score.requires_safety_follow_up,
                positive_safety_items=list(score.positive_safety_items),
                notes=note,
            )
            return {
                "outcome_measures": [*plan.outcome_measures, measure],
                "safety_follow_up_required": plan.safety_follow_up_required
                or measure.safety_follow_up_open,
            }

        signals = assess_phq9_item9(item_responses) if chosen is Instrument.PHQ9 else []

        async def revise_and_record() -> TreatmentPlan:
            revised = await self._revise(plan_id, change)
            await record_signals(
                self.detections,
                revised.patient_id,
                DetectionSource.ASSESSMENT,
                plan_id,
                signals,
            )
            return revised

        if signals:
            updated = await with_detections(self.db, revise_and_record)
        else:
            updated = await self._revise(plan_id, change)
        if score.requires_safety_follow_up:
            self.logger.warning(
                "%s safety item positive on treatment plan %s (measure %s): "
                "clinician safety follow-up required",
                chosen.value,
                plan_id,
                measure_id,
            )
        self.logger.info(
            "recorded %s measure %s on treatment plan %s",
            chosen.value,
            measure_id,
            plan_id,
        )
        return _measure(updated, measure_id)

    async def record_safety_follow_up(
        self, plan_id: str, measure_id: str, notes: str
    ) -> TreatmentPlan:
        """Record that a clinician followed up a positive safety item (risk
        assessed, safety plan reviewed), closing that measure's follow-up.

        The plan's ``safety_follow_up_required`` clears once no measure's
        follow-up is open.

        Raises:
            ValidationError: no notes, an unknown measure, or a measure whose
                follow-up is not open; nothing is written.
            NotFoundError: no such plan is visible.
        """
        self._check_id(plan_id)
        note = checked_note(notes, field="notes", required=True)
        measure_id = checked_id(measure_id, field="measure_id")
        actor = self._actor_id()

        def change(plan: TreatmentPlan) -> dict[str, Any]:
            target = _measure(plan, measure_id)
            if not target.safety_follow_up_open:
                raise self._rule_error(
                    "this measure has no open safety follow-up",
                    field="measure_id",
                    rule="no_follow_up_open",
                    entity_id=plan_id,
                )
            closed = target.model_copy(
                update={
                    "safety_follow_up_at": utc_now(),
                    "safety_follow_up_by": actor,
                    "safety_follow_up_notes": note,
                }
            )
            measures = [
                closed if m.measure_id == measure_id else m
                for m in plan.outcome_measures
            ]
            return {
                "outcome_measures": measures,
                "safety_follow_up_required": any(
                    m.safety_follow_up_open for m in measures
                ),
            }

        updated = await self._revise(plan_id, change)
        self.logger.info(
            "safety follow-up recorded for measure %s of treatment plan %s",
            measure_id,
            plan_id,
        )
        return updated

    async def plans_needing_safety_follow_up(
        self, therapist_id: str
    ) -> list[TreatmentPlan]:
        """A therapist's plans with a positive safety item not yet followed up,
        oldest first."""
        therapist_id = checked_id(therapist_id, field="therapist_id")
        return await self._every_match(
            {"therapist_id": therapist_id, "safety_follow_up_required": True},
            ["created_at"],
        )

    async def outcome_trajectory(
        self, plan_id: str, instrument: Instrument | str
    ) -> list[OutcomeMeasure]:
        """A plan's measures of one instrument, baseline first, in time order."""
        chosen = parse_instrument(instrument)
        plan = await self.get(plan_id)
        measures = [m for m in plan.outcome_measures if m.instrument is chosen]
        return sorted(measures, key=lambda m: m.administered_at)


def _administration_time(value: Any) -> datetime:
    now = utc_now()
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise ValidationError(
            "administered_at must be a datetime", field="administered_at", rule="type"
        )
    if value.utcoffset() is None:
        raise ValidationError(
            "administered_at must be timezone-aware",
            field="administered_at",
            rule="timezone_required",
        )
    if value > now + _CLOCK_SKEW:
        raise ValidationError(
            "administered_at is in the future", field="administered_at", rule="future"
        )
    # Stored at MongoDB's millisecond precision: compare in the form kept.
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def _measure(plan: TreatmentPlan, measure_id: str) -> OutcomeMeasure:
    for measure in plan.outcome_measures:
        if measure.measure_id == measure_id:
            return measure
    raise ValidationError(
        "the plan has no outcome measure with this id",
        field="measure_id",
        rule="unknown_measure",
        entity=TreatmentPlan.entity_name(),
        entity_id=plan.id,
    )
