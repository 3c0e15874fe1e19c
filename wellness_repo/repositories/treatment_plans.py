"""The treatment-plan repository: creating plans, moving them through the
phases of treatment, and recording progress on their goals. Outcome measures
come from ``OutcomeMeasurementRepository``, which it builds on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from wellness_repo.errors import ValidationError
from wellness_repo.models.treatment_plans import (
    PHASE_TRANSITIONS,
    GoalStatus,
    PhaseChange,
    ProgressEntry,
    TreatmentPhase,
    TreatmentPlan,
    goal_status_for,
)
from wellness_repo.models.types import utc_now
from wellness_repo.repositories.lifecycle import checked_id, checked_note
from wellness_repo.repositories.outcome_measures import OutcomeMeasurementRepository

__all__ = ["TreatmentPlanRepository"]

_PHASE_METHOD = "change_treatment_phase"
_PROGRESS_METHOD = "update_treatment_progress"
_OUTCOME_METHODS = "record_outcome_measure and record_safety_follow_up"


class TreatmentPlanRepository(OutcomeMeasurementRepository):
    """Treatment plans: creating them, moving them through their phases,
    recording goal progress, and (inherited) recording outcome measures and
    finding the plans whose safety follow-up is open.

    Phases follow ``PHASE_TRANSITIONS`` (completed is final); each change is kept
    in ``phase_history``. A goal's progress changes only through
    :meth:`update_treatment_progress`, which keeps ``progress_history``.
    """

    model = TreatmentPlan
    MANAGED_FIELDS: ClassVar[Mapping[str, str]] = {
        "phase": _PHASE_METHOD,
        "phase_history": _PHASE_METHOD,
        "progress_history": _PROGRESS_METHOD,
        "outcome_measures": _OUTCOME_METHODS,
        "safety_follow_up_required": _OUTCOME_METHODS,
    }

    async def create(self, entity: TreatmentPlan) -> TreatmentPlan:
        """Start a treatment plan in any phase but completed.

        Its phase history starts with this step, by the acting user.

        Raises:
            ValidationError: a completed phase, histories or outcome measures
                supplied, or an invalid plan; nothing is written.
        """
        return await super().create(self._opened(entity))

    async def create_many(
        self, entities: Sequence[TreatmentPlan]
    ) -> list[TreatmentPlan]:
        """Start many treatment plans at once, each as :meth:`create` does."""
        return await super().create_many([self._opened(entity) for entity in entities])

    async def change_treatment_phase(
        self, plan_id: str, phase: TreatmentPhase | str, notes: str | None = None
    ) -> TreatmentPlan:
        """Move a plan to another phase of treatment, with the clinician's notes.

        Raises:
            ValidationError: not a phase, a change ``PHASE_TRANSITIONS`` does not
                allow, or completing a plan whose safety follow-up is open.
            NotFoundError: no such plan is visible.
        """
        self._check_id(plan_id)
        target = _phase(phase)
        note = checked_note(notes, field="notes", required=False)
        actor = self._actor_id()

        def change(plan: TreatmentPlan) -> dict[str, Any]:
            if target not in PHASE_TRANSITIONS[plan.phase]:
                raise self._rule_error(
                    f"a plan in {plan.phase.value} cannot move to {target.value}",
                    field="phase",
                    rule="invalid_transition",
                    entity_id=plan_id,
                )
            if target is TreatmentPhase.COMPLETED and plan.safety_follow_up_required:
                raise self._rule_error(
                    "record the open safety follow-up before completing the plan",
                    field="phase",
                    rule="safety_follow_up_open",
                    entity_id=plan_id,
                )
            step = PhaseChange(
                from_phase=plan.phase,
                to_phase=target,
                changed_at=utc_now(),
                changed_by=actor,
                notes=note,
            )
            return {"phase": target, "phase_history": [*plan.phase_history, step]}

        updated = await self._revise(plan_id, change)
        self.logger.info("treatment plan %s moved to %s", plan_id, target.value)
        return updated

    async def update_treatment_progress(
        self,
        plan_id: str,
        goals_progress: Mapping[str, int],
        phase_notes: str | None = None,
    ) -> TreatmentPlan:
        """Record progress (0-100) on some of a plan's goals, with phase notes.

        Each goal's status follows its progress (100 is achieved). The review is
        appended to ``progress_history`` with who recorded it and when. Safe
        under concurrent reviews: each is applied to the newest revision, so none
        is lost.

        Raises:
            ValidationError: an unknown or discontinued goal, a value that is not
                a whole number from 0 to 100 (the field names the goal, e.g.
                ``goals_progress.goal_9``), nothing to record, or a completed
                plan; nothing is written.
            NotFoundError: no such plan is visible.
        """
        self._check_id(plan_id)
        progress = _checked_progress(goals_progress)
        notes = checked_note(phase_notes, field="phase_notes", required=False)
        if not progress and notes is None:
            raise ValidationError(
                "record progress on at least one goal, or phase notes",
                field="goals_progress",
                rule="required",
                entity=self._entity,
                entity_id=plan_id,
            )
        actor = self._actor_id()

        def change(plan: TreatmentPlan) -> dict[str, Any]:
            self._check_reviewable(plan, progress)
            goals = [
                goal.model_copy(
                    update={
                        "progress": progress[goal.goal_id],
                        "status": goal_status_for(progress[goal.goal_id]),
                    }
                )
                if goal.goal_id in progress
                else goal
                for goal in plan.treatment_goals
            ]
            entry = ProgressEntry(
                recorded_at=utc_now(),
                recorded_by=actor,
                phase=plan.phase,
                goals_progress=progress,
                phase_notes=notes,
            )
            return {
                "treatment_goals": goals,
                "progress_history": [*plan.progress_history, entry],
            }

        updated = await self._revise(plan_id, change)
        self.logger.info(
            "recorded progress on %d goal(s) of treatment plan %s",
            len(progress),
            plan_id,
        )
        return updated

    async def plans_for_patient(
        self, patient_id: str, include_completed: bool = False
    ) -> list[TreatmentPlan]:
        """A patient's treatment plans, newest first; completed ones on request."""
        patient_id = checked_id(patient_id, field="patient_id")
        filters: dict[str, Any] = {"patient_id": patient_id}
        if not include_completed:
            filters["phase__ne"] = TreatmentPhase.COMPLETED
        return await self._every_match(filters, ["-created_at"])

    def _refuse_managed_changes(
        self, current: TreatmentPlan, entity: TreatmentPlan
    ) -> None:
        super()._refuse_managed_changes(current, entity)
        stored = {goal.goal_id: goal for goal in current.treatment_goals}
        for goal in entity.treatment_goals:
            before = stored.get(goal.goal_id)
            if goal.progress != (before.progress if before else 0):
                raise self._managed_field_error(
                    f"treatment_goals.{goal.goal_id}.progress",
                    _PROGRESS_METHOD,
                    entity.id,
                )
            # An edit may discontinue a goal or take it up again; any other
            # status follows from the progress recorded.
            follows = (GoalStatus.DISCONTINUED, goal_status_for(goal.progress))
            if goal.status not in follows and (
                before is None or goal.status is not before.status
            ):
                raise self._managed_field_error(
                    f"treatment_goals.{goal.goal_id}.status",
                    _PROGRESS_METHOD,
                    entity.id,
                )

    def _opened(self, entity: TreatmentPlan) -> TreatmentPlan:
        self._check_type(entity)
        for name in ("phase_history", "progress_history", "outcome_measures"):
            if getattr(entity, name):
                raise self._managed_field_error(
                    name, self.MANAGED_FIELDS[name], entity.id
                )
        if entity.phase is TreatmentPhase.COMPLETED:
            raise self._rule_error(
                "a new plan cannot start completed",
                field="phase",
                rule="initial_phase",
                entity_id=entity.id,
            )
        first = PhaseChange(
            from_phase=None,
            to_phase=entity.phase,
            changed_at=utc_now(),
            changed_by=self._actor_id(),
        )
        opened: TreatmentPlan = entity.model_copy(update={"phase_history": [first]})
        return opened

    def _check_reviewable(self, plan: TreatmentPlan, progress: dict[str, int]) -> None:
        if plan.phase is TreatmentPhase.COMPLETED:
            raise self._rule_error(
                "a completed plan takes no more progress reviews",
                field="phase",
                rule="plan_completed",
                entity_id=plan.id,
            )
        goals = {goal.goal_id: goal for goal in plan.treatment_goals}
        for goal_id in sorted(progress):
            goal = goals.get(goal_id)
            if goal is None:
                raise self._rule_error(
                    "the plan has no goal with this id",
                    field=f"goals_progress.{goal_id}",
                    rule="unknown_goal",
                    entity_id=plan.id,
                )
            if goal.status is GoalStatus.DISCONTINUED:
                raise self._rule_error(
                    "a discontinued goal takes no progress",
                    field=f"goals_progress.{goal_id}",
                    rule="goal_discontinued",
                    entity_id=plan.id,
                )


def _phase(value: Any) -> TreatmentPhase:
    try:
        return TreatmentPhase(value)
    except ValueError:
        names = ", ".join(phase.value for phase in TreatmentPhase)
        raise ValidationError(
            f"not a treatment phase; expected one of {names}",
            field="phase",
            rule="enum",
        ) from None


def _checked_progress(goals_progress: Any) -> dict[str, int]:
    if not isinstance(goals_progress, Mapping):
        raise ValidationError(
            "goals_progress must map goal ids to progress values",
            field="goals_progress",
            rule="type",
        )
    checked: dict[str, int] = {}
    for goal_id, value in goals_progress.items():
        if not isinstance(goal_id, str) or not goal_id:
            raise ValidationError(
                "goal ids must be non-empty strings",
                field="goals_progress",
                rule="type",
            )
        field = f"goals_progress.{goal_id}"
        # bool is an int subclass, and True is not a percentage.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                "progress must be a whole number", field=field, rule="type"
            )
        if not 0 <= value <= 100:
            raise ValidationError(
                "progress must be from 0 to 100", field=field, rule="range"
            )
        checked[goal_id] = value
    return checked
