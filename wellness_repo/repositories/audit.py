"""The audit log repository: recording actions services report, verifying the
chain, and the compliance reports (HIPAA-relevant activity, failed actions,
a patient's accounting of disclosures).

The trail is append-only at the API: every method that would change or remove
an entry is refused, and the refusal is itself audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import AccessDeniedError
from wellness_repo.models.audit import ActionType, AuditLog, AuditOutcome, RecordId
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.repositories.audit_reports import (
    DisclosureRecord,
    FailedActionSummary,
    aware,
    changed_values,
    period,
    required_text,
    verification_arguments,
)
from wellness_repo.repositories.care import parse_argument
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import validation_error
from wellness_repo.security.audit_chain import (
    ChainProblem,
    ChainVerification,
    ChainVerifier,
)
from wellness_repo.security.audit_writer import chain_writer_for, writer_id
from wellness_repo.security.context import PurposeOfUse
from wellness_repo.security.policy import Operation

__all__ = ["AuditLogRepository", "DisclosureRecord", "FailedActionSummary"]

_log = logging.getLogger("wellness_repo.audit")

# HIPAA 164.528(a)(1): disclosures for treatment, payment and health care
# operations are left out of a patient's accounting.
_UNACCOUNTED_PURPOSES = (
    PurposeOfUse.TREATMENT,
    PurposeOfUse.PAYMENT,
    PurposeOfUse.OPERATIONS,
)
_DISCLOSING_ACTIONS = (ActionType.DISCLOSE, ActionType.EXPORT)


class AuditLogRepository(AsyncBaseRepository[AuditLog]):
    """The audit trail of who did what to which patient's records, and why."""

    model = AuditLog

    async def log_action(
        self,
        user_id: str,
        action_type: ActionType | str,
        resource_type: str,
        resource_id: str,
        description: str,
        hipaa_relevant: bool = True,
        old_values: Mapping[str, Any] | None = None,
        new_values: Mapping[str, Any] | None = None,
        *,
        patient_id: str | None = None,
        purpose: PurposeOfUse | str | None = None,
        recipient: str | None = None,
        outcome: AuditOutcome | str = AuditOutcome.OK,
    ) -> AuditLog:
        """Record an action a service performed, at the end of the audit chain.

        Args:
            user_id: who acted (the acting context, if another, is kept as
                ``recorded_by``).
            description: what happened, in the service's words; stored encrypted.
            old_values, new_values: the changed fields before and after; their
                names are stored in the clear, their values encrypted.
            patient_id: whose records the action concerns.
            purpose: the purpose of use; defaults to the acting context's.
            recipient: for a disclosure, who received the records; encrypted.
            outcome: how the action ended; denied and failed actions feed
                :meth:`failed_actions`.

        Any acting context may record an action: the trail only grows, and the
        entry names the context as ``recorded_by`` when it is not ``user_id``.

        Raises:
            ValidationError: a bad argument (named, with the rule); nothing is
                written.
        """
        context = self._context()
        chosen_purpose: PurposeOfUse = (
            context.purpose
            if purpose is None
            else parse_argument(
                PurposeOfUse, purpose, field="purpose", entity=self._entity
            )
        )
        kind: ActionType = parse_argument(
            ActionType, action_type, field="action_type", entity=self._entity
        )
        relevant: bool = parse_argument(
            bool,
            hipaa_relevant,
            field="hipaa_relevant",
            entity=self._entity,
            strict=True,
        )
        ended: AuditOutcome = parse_argument(
            AuditOutcome, outcome, field="outcome", entity=self._entity
        )
        text = required_text(description, "description")
        old = None if old_values is None else changed_values(old_values, "old_values")
        new = None if new_values is None else changed_values(new_values, "new_values")
        emergency = chosen_purpose is PurposeOfUse.EMERGENCY
        try:
            entry = AuditLog(
                user_id=user_id,
                role=context.role,
                purpose=chosen_purpose,
                action_type=kind,
                resource_type=resource_type,
                resource_ids=[resource_id],
                patient_ids=[patient_id] if patient_id is not None else [],
                summary=f"{kind.value} {resource_type}",
                description=text,
                hipaa_relevant=relevant,
                outcome=ended,
                changed_fields=sorted({*(old or {}), *(new or {})}),
                old_values=old,
                new_values=new,
                emergency=emergency,
                emergency_reason=context.emergency_reason if emergency else None,
                recipient=recipient,
                recorded_by=None if context.actor_id == user_id else context.actor_id,
                writer=writer_id(),
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity) from None
        appended = await chain_writer_for(self.db).append(entry)
        self.logger.info(
            "audit entry %s appended at %s (%s %s)",
            appended.id,
            appended.sequence,
            kind.value,
            appended.resource_type,
        )
        return appended

    async def verify_audit_chain(
        self,
        *,
        batch_size: int = 1000,
        expected_tail: int | None = None,
        expected_mac: str | None = None,
    ) -> ChainVerification:
        """Check every entry of the audit chain and report the first break.

        Entries are read in sequence order, ``batch_size`` at a time, so memory
        stays constant however long the trail is.

        Entries deleted from the end of the chain show only against a tail
        remembered elsewhere: pass an earlier result's ``last_sequence`` as
        ``expected_tail`` (and its ``last_mac`` as ``expected_mac``, which also
        catches a chain cut back and written on anew). The highest sequence this
        process appended counts as remembered too.

        Raises:
            AccessDeniedError: the context may not read every entry.
            ValidationError: a bad batch size or remembered tail.
        """
        context = self._context()
        if await self._scoped_filter(context, Operation.READ, {}):
            raise AccessDeniedError(
                "verifying the audit chain needs every entry", entity=self._entity
            )
        batch, length, anchor = verification_arguments(
            batch_size, expected_tail, expected_mac
        )
        writer = chain_writer_for(self.db)
        verifier = ChainVerifier(
            writer.key,
            min_length=max(length, writer.highest_appended),
            anchor=anchor,
        )
        cursor = self._collection.find({}, sort=[("sequence", 1)], batch_size=batch)
        problem = None
        current: dict[str, Any] | None = None
        try:
            async for following in cursor:
                if current is not None:
                    problem = await self._check_entry(verifier, current, following)
                    if problem is not None:
                        break
                current = following
            if problem is None and current is not None:
                problem = await self._check_entry(verifier, current, None)
        finally:
            await _close(cursor)
        result = verifier.finish(problem)
        await self._audit(context, Operation.READ, (), {})
        if result.problem is None:
            _log.info("audit chain intact: %d entries", result.entries_checked)
        else:
            _log.warning(
                "audit chain broken at sequence %d (%s)",
                result.problem.sequence,
                result.problem.kind.value,
            )
        return result

    async def _check_entry(
        self,
        verifier: ChainVerifier,
        entry: dict[str, Any],
        following: dict[str, Any] | None,
    ) -> ChainProblem | None:
        if verifier.fits(entry):
            verifier.accept(entry)
            return None
        predecessor = None
        prev_mac = entry.get("prev_mac")
        if isinstance(prev_mac, str):
            # Only on a broken chain: a scan is acceptable here.
            predecessor = await self._driver(
                self._collection.find_one(
                    {"mac": prev_mac, "_id": {"$ne": entry.get("_id")}}, {"_id": 1}
                )
            )
        return verifier.diagnose(entry, following, predecessor is not None)

    async def get_hipaa_relevant_logs(
        self,
        start_date: datetime,
        end_date: datetime,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> QueryResult[AuditLog]:
        """HIPAA-relevant entries from ``start_date`` to ``end_date`` (inclusive),
        oldest first, one page at a time (pass ``next_cursor`` as ``after``)."""
        start, end = period(start_date, end_date)
        return await self.list_all(
            QueryOptions(
                filters={"hipaa_relevant": True, "at__gte": start, "at__lte": end},
                order_by=("at",),
                limit=limit,
                after=after,
            )
        )

    async def failed_actions(
        self, since: datetime, *, until: datetime | None = None
    ) -> FailedActionSummary:
        """Denied and failed accesses since ``since`` (before ``until``), counted
        per actor and per kind of record: the feed of a security monitor."""
        aware(since, "since")
        window: dict[str, Any] = {"$gte": since}
        if until is not None:
            aware(until, "until")
            window["$lt"] = until
        match = {
            "outcome": {"$in": [AuditOutcome.DENIED.value, AuditOutcome.FAILED.value]},
            "at": window,
        }
        by_actor = await self._counts("user_id", match)
        by_type = await self._counts("resource_type", match)
        return FailedActionSummary(
            since=since,
            until=until,
            total=sum(count for _, count in by_actor),
            by_actor=by_actor,
            by_resource_type=by_type,
        )

    async def _counts(
        self, field: str, match: dict[str, Any]
    ) -> tuple[tuple[str, int], ...]:
        rows = await self._aggregate(
            [
                {"$group": {"_id": f"${field}", "count": {"$sum": 1}}},
                {"$sort": {"count": -1, "_id": 1}},
            ],
            match=match,
        )
        return tuple((str(row["_id"]), int(row["count"])) for row in rows)

    async def accounting_of_disclosures(
        self, patient_id: str, start: datetime, end: datetime
    ) -> list[DisclosureRecord]:
        """A patient's accounting of disclosures (HIPAA 164.528) for a period.

        Lists completed disclosures and exports of the patient's records, oldest
        first, leaving out those for treatment, payment and health care
        operations and the patient's own actions.
        """
        patient: str = parse_argument(
            RecordId, patient_id, field="patient_id", entity=self._entity, strict=True
        )
        first, last = period(start, end, ("start", "end"))
        filters = {
            "patient_ids": patient,
            "action_type__in": list(_DISCLOSING_ACTIONS),
            "at__gte": first,
            "at__lte": last,
            "outcome": AuditOutcome.OK,
            "purpose__nin": list(_UNACCOUNTED_PURPOSES),
            "user_id__ne": patient,
        }
        records: list[DisclosureRecord] = []
        after: str | None = None
        while True:
            page = await self.list_all(
                QueryOptions(filters=filters, order_by=("at",), after=after)
            )
            records.extend(
                DisclosureRecord(
                    date=entry.at,
                    recipient=entry.recipient,
                    description=entry.description or entry.summary,
                    purpose=entry.purpose,
                )
                for entry in page.items
            )
            if page.next_cursor is None:
                return records
            after = page.next_cursor

    # ------------------------------------------------- the trail is append-only

    async def create(self, entity: AuditLog) -> AuditLog:
        """Refused: entries are appended with ``log_action`` or by the pipeline."""
        raise await self._refusal(Operation.CREATE, "append with log_action")

    async def create_many(self, entities: Sequence[AuditLog]) -> list[AuditLog]:
        """Refused: entries are appended one at a time, into the chain."""
        raise await self._refusal(Operation.CREATE, "append with log_action")

    async def update(self, entity: AuditLog) -> AuditLog:
        """Refused: an audit entry never changes."""
        raise await self._refusal(Operation.UPDATE, "entries never change")

    async def patch(
        self,
        entity_id: str,
        changes: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
    ) -> AuditLog:
        """Refused: an audit entry never changes."""
        raise await self._refusal(Operation.UPDATE, "entries never change")

    async def delete(self, entity_id: str) -> bool:
        """Refused: entries are kept for the whole retention period."""
        raise await self._refusal(Operation.DELETE, "entries are never removed")

    async def migrate_stored(self, batch_size: int = 500) -> int:
        """Upgrade nothing: audit entries are never rewritten (that would break
        their MACs); an entry of an older schema is upgraded each time it is
        read. Returns 0."""
        self._context()
        return 0

    async def _atomic_update(
        self,
        entity_id: str,
        update: dict[str, Any],
        *,
        guard: dict[str, Any] | None = None,
        changed: Sequence[str] = (),
    ) -> AuditLog | None:
        raise await self._refusal(Operation.UPDATE, "entries never change")

    async def _refusal(self, operation: Operation, reason: str) -> AccessDeniedError:
        context = self._context()
        await self._audit(context, operation, (), outcome=AuditOutcome.DENIED.value)
        return AccessDeniedError(
            f"the audit trail is append-only: {reason}", entity=self._entity
        )


async def _close(cursor: Any) -> None:
    closer = getattr(cursor, "close", None)
    if closer is None:
        return
    result = closer()
    if hasattr(result, "__await__"):
        await result
