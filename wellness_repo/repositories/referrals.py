"""The referral repository: writing referrals, moving them through their status
lifecycle atomically, authorization, outcomes, and the overdue and work-queue
queries."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.models.referrals import (
    OPEN_REFERRAL_STATUSES,
    REFERRAL_TRANSITIONS,
    AuthorizationNumber,
    CareNote,
    PersonId,
    Referral,
    ReferralOutcome,
    ReferralPriority,
    ReferralResult,
    ReferralStatus,
    ReferralStatusChange,
    referral_due_at,
)
from wellness_repo.models.types import UtcDatetime, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import (
    calendar_day,
    every_match,
    parse_argument,
    refuse_managed_changes,
)
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import validation_error

__all__ = ["ReferralRepository"]


# Closed referrals keep their authorization as it was when they closed.
_AUTHORIZABLE = (*OPEN_REFERRAL_STATUSES, ReferralStatus.SCHEDULED)
# Written only by the lifecycle methods, each with its own guard and history.
_MANAGED_FIELDS = (
    "status",
    "status_history",
    "outcome",
    "priority",
    "due_at",
    "authorization_number",
    "authorization_expires_on",
)
_ATTEMPTS = 5


class ReferralRepository(AsyncBaseRepository[Referral]):
    """Referrals between providers and what became of them."""

    model = Referral

    async def create_referral(
        self,
        patient_id: str,
        referring_provider_id: str,
        receiving_provider_id: str,
        referral_reason: str,
        priority: ReferralPriority = ReferralPriority.ROUTINE,
        *,
        authorization_number: str | None = None,
        authorization_expires_on: date | None = None,
    ) -> Referral:
        """Write a referral of a patient from one provider to another.

        It starts ``pending``, due at the priority's window from now (see
        ``REFERRAL_RESPONSE_WINDOWS``), with a first history entry naming the
        acting user.

        Raises:
            ValidationError: a missing id, an empty reason, an unknown priority,
                a provider referring to themselves; nothing is written.
        """
        written_at = utc_now()
        actor = self._context().actor_id
        try:
            referral = Referral(
                patient_id=patient_id,
                referring_provider_id=referring_provider_id,
                receiving_provider_id=receiving_provider_id,
                referral_reason=referral_reason,
                priority=priority,
                created_at=written_at,
                authorization_number=authorization_number,
                authorization_expires_on=authorization_expires_on,
                status_history=[
                    ReferralStatusChange(
                        from_status=None,
                        to_status=ReferralStatus.PENDING,
                        changed_at=written_at,
                        changed_by=actor,
                    )
                ],
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity) from None
        created = await self.create(referral)
        self.logger.info("referral %s written (%s)", created.id, created.priority)
        return created

    async def update_referral_status(
        self, referral_id: str, status: ReferralStatus, notes: str | None = None
    ) -> Referral:
        """Move a referral to its next status and record who did it, when and why.

        The change applies only if the referral is still in the status it was
        judged from, so of two racing changes exactly one applies.

        Raises:
            ValidationError: ``invalid_transition`` when the lifecycle does not
                allow the move from the current status; bad notes.
            ConcurrencyError: another change moved the referral first to a status
                from which this move would also be allowed; reload and decide
                again.
            NotFoundError: no such referral.
        """
        target: ReferralStatus = parse_argument(
            ReferralStatus,
            status,
            field="status",
            entity=self._entity,
            entity_id=referral_id,
        )
        note = self._note(notes, "notes", referral_id)
        current = await self.get(referral_id)
        self._require_transition(current.status, target, referral_id)
        change = ReferralStatusChange(
            from_status=current.status,
            to_status=target,
            changed_at=utc_now(),
            changed_by=self._context().actor_id,
            notes=note,
        )
        updated = await self._atomic_update(
            referral_id,
            {
                "$set": {"status": target.value},
                "$push": {"status_history": change.model_dump()},
            },
            guard={"status": current.status.value},
            changed=("status", "status_history"),
        )
        if updated is None:
            raise await self._lost_race(referral_id, target)
        self.logger.info(
            "referral %s moved from %s to %s", referral_id, current.status, target
        )
        return updated

    async def change_referral_priority(
        self, referral_id: str, priority: ReferralPriority
    ) -> Referral:
        """Re-triage an open referral.

        The due date becomes the earlier of the current one and the new
        priority's window counted from now: escalating brings it forward, and
        no re-triage ever makes a waiting patient less overdue.

        Raises:
            ValidationError: an unknown priority, or a referral no longer open
                (``referral_not_open``).
            NotFoundError: no such referral.
        """
        new: ReferralPriority = parse_argument(
            ReferralPriority,
            priority,
            field="priority",
            entity=self._entity,
            entity_id=referral_id,
        )
        for _attempt in range(_ATTEMPTS):
            current = await self.get(referral_id)
            if not current.is_open:
                raise ValidationError(
                    "only an open referral can be re-triaged",
                    field="status",
                    rule="referral_not_open",
                    entity=self._entity,
                    entity_id=referral_id,
                )
            if current.priority is new:
                return current
            due = min(current.due_at, referral_due_at(new, utc_now()))
            updated = await self._atomic_update(
                referral_id,
                {"$set": {"priority": new.value, "due_at": due}},
                guard={"_rev": current.revision},
                changed=("priority", "due_at"),
            )
            if updated is not None:
                self.logger.info("referral %s re-triaged as %s", referral_id, new)
                return updated
        raise ConcurrencyError(
            "the referral kept changing; the priority was not changed",
            entity=self._entity,
            entity_id=referral_id,
        )

    async def record_authorization(
        self,
        referral_id: str,
        authorization_number: str,
        expires_on: date | None = None,
    ) -> Referral:
        """Record the payer's prior authorization for a referral still in progress.

        Raises:
            ValidationError: a blank number, a bad date, or a closed referral
                (rule ``referral_closed``).
            NotFoundError: no such referral.
        """
        number = parse_argument(
            AuthorizationNumber,
            authorization_number,
            field="authorization_number",
            entity=self._entity,
            entity_id=referral_id,
        )
        if number is None:
            raise ValidationError(
                "an authorization number is required",
                field="authorization_number",
                rule="required",
                entity=self._entity,
                entity_id=referral_id,
            )
        expiry = calendar_day(
            expires_on, field="expires_on", entity=self._entity, entity_id=referral_id
        )
        updated = await self._atomic_update(
            referral_id,
            {
                "$set": {
                    "authorization_number": number,
                    "authorization_expires_on": (
                        expiry.isoformat() if expiry is not None else None
                    ),
                }
            },
            guard={"status": {"$in": [status.value for status in _AUTHORIZABLE]}},
            changed=("authorization_number", "authorization_expires_on"),
        )
        if updated is None:
            await self.get(referral_id)
            raise ValidationError(
                "a closed referral's authorization cannot change",
                field="status",
                rule="referral_closed",
                entity=self._entity,
                entity_id=referral_id,
            )
        self.logger.info("referral %s authorization recorded", referral_id)
        return updated

    async def document_referral_outcome(
        self,
        referral_id: str,
        result: ReferralResult,
        summary: str | None = None,
    ) -> Referral:
        """Document what came of a completed referral, once.

        ``summary`` is the receiving provider's free-text account (encrypted). A
        documented outcome is part of the clinical record and is not replaced.

        Raises:
            ValidationError: the referral is not completed (``not_completed``) or
                already has an outcome (``already_documented``); bad input.
            NotFoundError: no such referral.
        """
        try:
            outcome = ReferralOutcome(
                result=result,
                summary=summary,
                documented_at=utc_now(),
                documented_by=self._context().actor_id,
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity, referral_id) from None
        updated = await self._atomic_update(
            referral_id,
            {"$set": {"outcome": outcome.model_dump()}},
            guard={"status": ReferralStatus.COMPLETED.value, "outcome": None},
            changed=("outcome",),
        )
        if updated is None:
            current = await self.get(referral_id)
            if current.status is not ReferralStatus.COMPLETED:
                raise ValidationError(
                    "an outcome is documented once the referral is completed",
                    field="status",
                    rule="not_completed",
                    entity=self._entity,
                    entity_id=referral_id,
                )
            raise ValidationError(
                "this referral's outcome is already documented",
                field="outcome",
                rule="already_documented",
                entity=self._entity,
                entity_id=referral_id,
            )
        self.logger.info("referral %s outcome documented", referral_id)
        return updated

    async def overdue_referrals(self, now: datetime | None = None) -> list[Referral]:
        """Open referrals (pending, sent, accepted) past their due date, most
        overdue first: patients still waiting longer than their priority allows.

        Args:
            now: the instant to judge against (timezone-aware); defaults to now.
        """
        instant = parse_argument(
            UtcDatetime,
            utc_now() if now is None else now,
            field="now",
            entity=self._entity,
        )
        return await every_match(
            self,
            QueryOptions(
                filters={
                    "status__in": list(OPEN_REFERRAL_STATUSES),
                    "due_at__lt": instant,
                },
                order_by=["due_at"],
            ),
        )

    async def referrals_for_patient(self, patient_id: str) -> list[Referral]:
        """Every referral of one patient, newest first."""
        patient = parse_argument(
            PersonId, patient_id, field="patient_id", entity=self._entity
        )
        return await every_match(
            self,
            # Newer ids sort later, so ids break ties between referrals written
            # in the same millisecond the same way the clock would.
            QueryOptions(
                filters={"patient_id": patient}, order_by=["-created_at", "-id"]
            ),
        )

    async def referral_queue(self, receiving_provider_id: str) -> list[Referral]:
        """The open referrals a receiving provider must act on, soonest due
        first: those to answer and those accepted but not yet scheduled."""
        provider = parse_argument(
            PersonId,
            receiving_provider_id,
            field="receiving_provider_id",
            entity=self._entity,
        )
        return await every_match(
            self,
            QueryOptions(
                filters={
                    "receiving_provider_id": provider,
                    "status__in": list(OPEN_REFERRAL_STATUSES),
                },
                order_by=["due_at"],
            ),
        )

    async def update(self, entity: Referral) -> Referral:
        """Store other changes to a referral (its reason, its providers).

        Status, history, outcome, priority and due date change only through
        the lifecycle methods, which guard the state and record who acted; the
        authorization only through ``record_authorization``, which refuses it
        on a closed referral.

        Raises:
            ValidationError: ``managed_field`` when one of those differs from the
                stored record.
            ConcurrencyError: the referral changed since it was read.
        """
        self._check_type(entity)
        await refuse_managed_changes(self, entity, _MANAGED_FIELDS)
        return await super().update(entity)

    def _require_transition(
        self, current: ReferralStatus, target: ReferralStatus, referral_id: str
    ) -> None:
        if target not in REFERRAL_TRANSITIONS[current]:
            raise ValidationError(
                "the referral's lifecycle does not allow this status change from "
                "its current status",
                field="status",
                rule="invalid_transition",
                entity=self._entity,
                entity_id=referral_id,
            )

    async def _lost_race(
        self, referral_id: str, target: ReferralStatus
    ) -> ConcurrencyError:
        # The guard failed: the referral left the status the change was judged
        # from. If the move is now invalid, that is the answer; if it is still
        # allowed, it was decided on a state that no longer holds.
        latest = await self.get(referral_id)
        self._require_transition(latest.status, target, referral_id)
        self.logger.info("referral %s status changed concurrently", referral_id)
        return ConcurrencyError(
            "the referral's status changed while this change was being made; "
            "reload it and decide again",
            entity=self._entity,
            entity_id=referral_id,
        )

    def _note(self, text: str | None, field: str, referral_id: str) -> str | None:
        note: str | None = parse_argument(
            CareNote, text, field=field, entity=self._entity, entity_id=referral_id
        )
        return note
