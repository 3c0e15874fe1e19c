"""``ChainedAuditor``: the pipeline's audit stage, which records every repository
access as an entry of the tamper-evident audit chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import RepositoryError
from wellness_repo.models.audit import ActionType, AuditLog, AuditOutcome
from wellness_repo.security.audit import AccessEvent
from wellness_repo.security.audit_writer import (
    AuditChainWriter,
    chain_writer_for,
    writer_id,
)

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = ["ChainedAuditor"]

_ENTITY = AuditLog.entity_name()


class ChainedAuditor:
    """The pipeline's audit stage: every repository access becomes an entry of
    the tamper-evident audit chain.

    An access that cannot be recorded does not succeed: ``record`` raises
    ``RepositoryError`` and the repository call fails with it (a read returns
    nothing; a write inside a transaction is rolled back, one outside is kept
    but reported as failed to its caller).
    """

    def __init__(self) -> None:
        self._writer: AuditChainWriter | None = None
        self._patient_entities: frozenset[str] = frozenset()

    async def attach(self, db: DatabaseManager) -> None:
        """Bind to ``db``'s audit chain; called by ``connect``.

        Raises:
            ValidationError: the audit key is malformed, or missing while keys
                are required.
        """
        self._writer = chain_writer_for(db)
        self._patient_entities = frozenset(
            model.entity_name()
            for model in db.document_models
            if model.PATIENT_FIELD is not None
        )

    async def close(self) -> None:
        """Let go of the chain when the connection closes."""
        self._writer = None

    async def record(self, event: AccessEvent) -> None:
        """Append ``event`` to the audit chain.

        Raises:
            RepositoryError: the entry could not be stored.
        """
        if self._writer is None:
            raise RepositoryError(
                "the audit chain is not attached to a database; "
                "pass the auditor to connect()",
                entity=_ENTITY,
            )
        try:
            await self._writer.append(self.entry_for(event))
        except (RepositoryError, PydanticValidationError) as exc:
            raise RepositoryError(
                f"the audit trail could not record this {event.operation.value} of "
                f"{event.entity} records, so the call fails",
                entity=_ENTITY,
                cause=exc,
            ) from None

    def entry_for(self, event: AccessEvent) -> AuditLog:
        """The audit entry that records ``event``: ids, shapes and names only.

        Raises:
            pydantic.ValidationError: the event names an actor or record by
                something that is not an id.
        """
        context = event.context
        outcome = AuditOutcome(event.outcome)
        emergency = context.is_break_glass
        return AuditLog(
            at=event.at,
            user_id=context.actor_id,
            role=context.role,
            purpose=context.purpose,
            action_type=(
                ActionType.KEY_MANAGEMENT
                if event.entity == "DataKey"
                else ActionType(event.operation.value)
            ),
            resource_type=event.entity,
            resource_ids=list(event.record_ids),
            patient_ids=list(event.patient_ids),
            summary=f"{event.operation.value} {event.entity}",
            hipaa_relevant=(
                event.entity in self._patient_entities
                or bool(event.patient_ids)
                or outcome is not AuditOutcome.OK
                or emergency
            ),
            outcome=outcome,
            query_shape=event.query_shape,
            changed_fields=list(event.changed_fields),
            emergency=emergency,
            emergency_reason=context.emergency_reason if emergency else None,
            writer=writer_id(),
        )
