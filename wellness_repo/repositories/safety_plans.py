"""The safety plan repository: writing plans, revising them as new versions
(every older version kept readable), the patient's sign-off, and the active-plan
and review-due queries.

A revision is revision-guarded and written with the copy of the version it
replaces in one transaction, so of two clinicians editing the same version at
once exactly one succeeds and the other gets ``ConcurrencyError``: nobody's edit
is silently overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from wellness_repo.errors import (
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from wellness_repo.models.safety_plans import (
    PatientAcknowledgment,
    PlanStatus,
    SafetyPlan,
    ShortText,
)
from wellness_repo.models.types import new_id, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import calendar_day, every_match, parse_argument
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id

__all__ = ["SafetyPlanRepository"]

# Set by the repository alone: versioning, sign-off, and who the plan is for.
_MANAGED = (
    "patient_id",
    "created_by_provider_id",
    "version",
    "version_started_at",
    "status",
    "plan_ref",
    "superseded_at",
    "patient_acknowledgment",
)
# Not part of a version's content: bookkeeping every write changes anyway.
_BOOKKEEPING = (
    "id",
    "revision",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
)


class SafetyPlanRepository(AsyncBaseRepository[SafetyPlan]):
    """Patients' safety plans and all their versions."""

    model = SafetyPlan

    async def create(self, entity: SafetyPlan) -> SafetyPlan:
        """Write a patient's new plan as version 1, due for review after
        ``safety_plan_review_days`` unless ``next_review_on`` is given.

        Raises:
            ValidationError: an empty plan, an invalid phone number (the field
                path names the contact, e.g. ``social_contacts.0.phone``),
                versioning fields set by the caller; nothing is written.
            DuplicateError: the patient already has an active plan; revise it.
        """
        self._check_type(entity)
        for name in ("version", "status", "superseded_at", "patient_acknowledgment"):
            if getattr(entity, name) != SafetyPlan.model_fields[name].get_default(
                call_default_factory=False
            ):
                raise self._managed(name, entity.id)
        if entity.plan_ref not in (None, entity.id):
            raise self._managed("plan_ref", entity.id)
        now = utc_now()
        first = entity.model_copy(
            update={
                "plan_ref": entity.id,
                "version_started_at": now,
                "next_review_on": entity.next_review_on or self._review_date(),
            }
        )
        created = await super().create(first)
        self.logger.info("safety plan %s written (version 1)", created.id)
        return created

    async def create_many(self, entities: Sequence[SafetyPlan]) -> list[SafetyPlan]:
        """Write several new plans, one after another (each as :meth:`create`)."""
        for entity in entities:
            self._check_type(entity)
        return [await self.create(entity) for entity in entities]

    async def update(self, entity: SafetyPlan) -> SafetyPlan:
        """Store a changed plan as its next version.

        The version it replaces is copied to a record of its own first, in the
        same transaction. A changed plan needs the patient's sign-off again.
        Unless the change sets ``next_review_on``, the new version is due for
        review after ``safety_plan_review_days``. A plan equal to the stored
        one is returned unchanged.

        Raises:
            ConcurrencyError: the plan changed since ``entity`` was read (another
                edit or a sign-off); reload, reapply, and save again.
            ValidationError: an older version (read-only), a versioning field
                changed, an empty plan or invalid phone number.
            NotFoundError: no such plan.
        """
        self._check_type(entity)
        async with self.db.transaction():
            stored = await self.get(entity.id)
            if stored.status is PlanStatus.SUPERSEDED:
                raise ValidationError(
                    "an older version of a safety plan cannot be changed",
                    field="status",
                    rule="superseded_version",
                    entity=self._entity,
                    entity_id=entity.id,
                )
            if stored.revision != entity.revision:
                raise self._stale(entity.id)
            for name in _MANAGED:
                if getattr(entity, name) != getattr(stored, name):
                    raise self._managed(name, entity.id)
            if entity.next_review_on != stored.next_review_on:
                self._check_review_date(entity)
            if _content(entity) == _content(stored):
                if entity.next_review_on == stored.next_review_on:
                    return stored
                # A new review date alone is not a new version of the plan.
                return await super().update(entity)
            await self._keep_version(stored)
            reviewed = entity.next_review_on != stored.next_review_on
            revised = await super().update(
                entity.model_copy(
                    update={
                        "version": stored.version + 1,
                        "version_started_at": utc_now(),
                        "patient_acknowledgment": None,
                        "next_review_on": (
                            entity.next_review_on if reviewed else self._review_date()
                        ),
                    }
                )
            )
        self.logger.info(
            "safety plan %s revised to version %d", revised.id, revised.version
        )
        return revised

    async def patch(
        self,
        entity_id: str,
        changes: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
    ) -> SafetyPlan:
        """Change some parts of a plan, as :meth:`update` does, only against
        the revision the editor read.

        A plan's steps are lists edited as a whole: applied again to a newer
        version, a change would drop what that version added. Prefer
        :meth:`revise_plan`, which takes the version the clinician edited.

        Raises:
            ValidationError: no ``expected_revision`` (rule ``required``).
            ConcurrencyError: the plan changed since that revision.
        """
        if expected_revision is None:
            raise ValidationError(
                "a safety plan is patched only against the revision that was "
                "read; pass expected_revision, or use revise_plan",
                field="expected_revision",
                rule="required",
                entity=self._entity,
                entity_id=printable_id(entity_id),
            )
        return await super().patch(
            entity_id, changes, expected_revision=expected_revision
        )

    async def revise_plan(
        self, plan_id: str, changes: Mapping[str, Any], *, expected_version: int
    ) -> SafetyPlan:
        """Change some parts of a plan, as its next version, provided the plan is
        still at ``expected_version`` (the version the clinician edited).

        Raises:
            ConcurrencyError: the plan moved past ``expected_version``.
            ValidationError: an unknown or versioning field, bad content.
            NotFoundError: no such plan.
        """
        current = await self.get(plan_id)
        if current.version != expected_version:
            raise ConcurrencyError(
                "the safety plan has a newer version than the one edited; "
                "review it and edit again",
                expected_revision=expected_version,
                entity=self._entity,
                entity_id=plan_id,
            )
        for name in changes:
            if name not in SafetyPlan.model_fields or name in _BOOKKEEPING:
                raise ValidationError(
                    f"{self._entity} has no editable field {name!r}",
                    field=str(name),
                    rule="unknown_field",
                    entity=self._entity,
                    entity_id=plan_id,
                )
            if name in _MANAGED:
                raise self._managed(name, plan_id)
        candidate = self._validated_from_fields(
            {**current.model_dump(by_alias=False), **changes}, plan_id
        )
        return await self.update(candidate)

    async def acknowledge_by_patient(
        self,
        plan_id: str,
        signature_name: str | None = None,
        *,
        version: int | None = None,
    ) -> SafetyPlan:
        """Record the patient's sign-off of the plan's current version.

        Args:
            signature_name: the name the patient signed with (encrypted).
            version: the version the patient read; refused if the plan has moved
                on since, so nobody signs a plan they have not seen. Defaults
                to the current version.

        Signing a version already signed returns the plan unchanged.

        Raises:
            ConcurrencyError: the plan has a newer version than ``version``.
            ValidationError: an older version's record; a bad name or version.
            NotFoundError: no such plan.
        """
        name = parse_argument(
            ShortText | None,
            signature_name,
            field="signature_name",
            entity=self._entity,
            entity_id=printable_id(plan_id),
        )
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 1
        ):
            raise ValidationError(
                "version must be a whole number from 1",
                field="version",
                rule="range",
                entity=self._entity,
            )
        current = await self.get(plan_id)
        if current.status is PlanStatus.SUPERSEDED:
            raise ValidationError(
                "only the current version of a safety plan is signed",
                field="status",
                rule="superseded_version",
                entity=self._entity,
                entity_id=plan_id,
            )
        signed_version = current.version if version is None else version
        if current.signed_off and current.version == signed_version:
            return current
        acknowledgment = PatientAcknowledgment(
            version=signed_version,
            acknowledged_at=utc_now(),
            signature_name=name,
            recorded_by=self._context().actor_id,
        )
        stored = await self._encrypt(
            {
                "patient_id": current.patient_id,
                "patient_acknowledgment": acknowledgment.model_dump(),
            }
        )
        signed = await self._atomic_update(
            plan_id,
            {"$set": {"patient_acknowledgment": stored["patient_acknowledgment"]}},
            guard={"status": PlanStatus.ACTIVE.value, "version": signed_version},
            changed=("patient_acknowledgment",),
        )
        if signed is None:
            raise ConcurrencyError(
                "the safety plan has a newer version than the one the patient "
                "read; they must review it before signing",
                expected_revision=signed_version,
                entity=self._entity,
                entity_id=plan_id,
            )
        self.logger.info(
            "safety plan %s version %d signed by the patient", plan_id, signed_version
        )
        return signed

    async def get_version(self, plan_id: str, version: int) -> SafetyPlan:
        """One version of a plan, current or older.

        Raises:
            NotFoundError: no such plan, or no such version of it.
        """
        plan = await self.get(plan_id)
        owner = plan.plan_ref or plan.id
        if plan.status is PlanStatus.SUPERSEDED:
            plan = await self.get(owner)
        if plan.version == version:
            return plan
        found = await self.find_one_by(
            plan_ref=owner, version=version, status=PlanStatus.SUPERSEDED
        )
        if found is None:
            raise NotFoundError(
                "the safety plan has no such version",
                entity=self._entity,
                entity_id=plan_id,
            )
        return found

    async def versions(self, patient_id: str) -> list[SafetyPlan]:
        """Every version of every plan of a patient, oldest first per plan."""
        patient = checked_id(patient_id, field="patient_id")
        return await every_match(
            self,
            QueryOptions(
                filters={"patient_id": patient}, order_by=["plan_ref", "version"]
            ),
        )

    async def active_plan(self, patient_id: str) -> SafetyPlan | None:
        """The patient's current safety plan, if they have one."""
        patient = checked_id(patient_id, field="patient_id")
        # Ordered by version, which only this query's index provides: an id
        # order would let the planner walk the id index instead.
        page = await self.list_all(
            QueryOptions(
                filters={"patient_id": patient, "status": PlanStatus.ACTIVE},
                order_by=["-version"],
                limit=1,
            )
        )
        return page.items[0] if page.items else None

    async def review_due(self, before: date) -> list[SafetyPlan]:
        """Current plans due for review on or before ``before``, most overdue
        first: the clinicians' review worklist."""
        day = calendar_day(before, field="before", entity=self._entity)
        if day is None:
            raise ValidationError(
                "before is required",
                field="before",
                rule="required",
                entity=self._entity,
            )
        return await every_match(
            self,
            QueryOptions(
                filters={"status": PlanStatus.ACTIVE, "next_review_on__lte": day},
                order_by=["next_review_on"],
            ),
        )

    async def delete(self, entity_id: str) -> bool:
        """Delete a plan with all its versions (marked, kept for the audit
        trail); ``False`` if there was no such plan.

        Raises:
            ValidationError: the id is an older version's, not the plan's.
        """
        plan = await self.get_by_id(entity_id)
        if plan is None:
            return False
        if plan.status is PlanStatus.SUPERSEDED:
            raise ValidationError(
                "delete the plan, not one of its older versions",
                field="id",
                rule="superseded_version",
                entity=self._entity,
                entity_id=entity_id,
            )
        async with self.db.transaction():
            older = await every_match(
                self,
                QueryOptions(
                    filters={"plan_ref": plan.id, "status": PlanStatus.SUPERSEDED},
                    order_by=["version"],
                ),
            )
            for version in older:
                await super().delete(version.id)
            deleted = await super().delete(entity_id)
        self.logger.info(
            "safety plan %s deleted with %d older versions", entity_id, len(older)
        )
        return deleted

    async def _keep_version(self, stored: SafetyPlan) -> None:
        """Copy the version about to be replaced into a record of its own."""
        copy = stored.model_copy(
            update={
                "id": new_id(),
                "status": PlanStatus.SUPERSEDED,
                "superseded_at": utc_now(),
                "plan_ref": stored.plan_ref or stored.id,
                "revision": 0,
            }
        )
        try:
            await super().create(copy)
        except DuplicateError as exc:
            # This version number is already kept: another edit of the same
            # version is being saved.
            raise self._stale(stored.id) from exc

    def _check_review_date(self, entity: SafetyPlan) -> None:
        """A new review date is a day to come: clearing it, or setting one
        already past, would take the plan off the review worklist."""
        review = entity.next_review_on
        if review is None or review < utc_now().date():
            raise ValidationError(
                "a safety plan's next review is a date from today on",
                field="next_review_on",
                rule="future_date",
                entity=self._entity,
                entity_id=entity.id,
            )

    def _review_date(self) -> date:
        days = self.db.settings.safety_plan_review_days
        return utc_now().date() + timedelta(days=days)

    def _stale(self, plan_id: str) -> ConcurrencyError:
        return ConcurrencyError(
            "the safety plan changed since it was read; reload it, reapply the "
            "change and save again",
            entity=self._entity,
            entity_id=plan_id,
        )

    def _managed(self, field: str, plan_id: str | None) -> ValidationError:
        return ValidationError(
            f"{field} is set by the safety plan repository (versions, sign-off)",
            field=field,
            rule="managed_field",
            entity=self._entity,
            entity_id=printable_id(plan_id),
        )


def _content(plan: SafetyPlan) -> dict[str, Any]:
    """What a version says: everything but versioning, review date and
    bookkeeping."""
    content: dict[str, Any] = plan.model_dump(
        exclude={*_MANAGED, *_BOOKKEEPING, "next_review_on"}
    )
    return content
