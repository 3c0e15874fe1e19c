"""The security record: appending security events, and the failed-sign-in
burst and recent-activity queries that watch it. Login sessions are in
``repositories.login_sessions`` (re-exported here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from wellness_repo.analysis.login_bursts import (
    BURST_KEYS,
    FAILED_SIGN_IN_TYPES,
    BurstKey,
    LoginBurst,
)
from wellness_repo.errors import AccessDeniedError, ValidationError
from wellness_repo.models.security_events import (
    AccountId,
    SecurityEvent,
    SecurityEventDetail,
    SecurityEventType,
    SessionEndReason,
)
from wellness_repo.models.types import UtcDatetime
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.care import parse_argument
from wellness_repo.repositories.login_sessions import UserSessionRepository
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import validation_error
from wellness_repo.security.policy import Operation

__all__ = ["SecurityEventRepository", "UserSessionRepository"]

Threshold = Annotated[int, Field(ge=1)]


class SecurityEventRepository(AsyncBaseRepository[SecurityEvent]):
    """The security record: sign-ins, lockouts, MFA steps, session ends.

    Events are appended and kept as written for at least six years: ``update``,
    ``patch`` and ``delete`` are refused (and the refusal audited).
    """

    model = SecurityEvent

    async def log_security_event(
        self,
        user_id: str | None,
        event_type: SecurityEventType | str,
        success: bool,
        ip_address: str | None = None,
        *,
        detail: SecurityEventDetail | SessionEndReason | str | None = None,
    ) -> SecurityEvent:
        """Record what happened to an account, now.

        Args:
            user_id: the account, or ``None`` when no account matched (never the
                email that was tried).
            event_type: a ``SecurityEventType`` or its value, e.g.
                ``"login_attempt"``.
            success: whether it succeeded; must agree with types that state an
                outcome (``login_failure`` cannot succeed).
            ip_address: the client's IPv4 or IPv6 address.
            detail: why, as a ``SecurityEventDetail`` or ``SessionEndReason`` code.

        Raises:
            ValidationError: naming the field: an unknown event type or detail, a
                malformed address or account id, a non-boolean success.
        """
        try:
            event = SecurityEvent(
                user_id=user_id,
                event_type=event_type,
                success=success,
                ip_address=ip_address,
                detail=detail,
            )
        except PydanticValidationError as exc:
            raise validation_error(exc, self._entity) from None
        created = await self.create(event)
        self.logger.info(
            "security event %s: %s %s for user %s",
            created.id,
            created.event_type,
            "succeeded" if created.success else "failed",
            created.user_id or "(no account)",
        )
        return created

    async def failed_login_bursts(
        self, *, since: datetime, threshold: int, by: BurstKey = "user_id"
    ) -> list[LoginBurst]:
        """Accounts (``by="user_id"``) or client addresses (``by="ip_address"``)
        with at least ``threshold`` failed sign-ins since ``since``, busiest first.

        Counted in the database; the same rule as
        :func:`wellness_repo.analysis.login_bursts.find_login_bursts`.

        Raises:
            ValidationError: a naive ``since``, a threshold below 1, an unknown key.
        """
        start: datetime = parse_argument(
            UtcDatetime, since, field="since", entity=self._entity
        )
        minimum: int = parse_argument(
            Threshold, threshold, field="threshold", entity=self._entity, strict=True
        )
        if by not in BURST_KEYS:
            raise ValidationError(
                "bursts are grouped by user_id or ip_address", field="by", rule="choice"
            )
        match = {
            "success": False,
            "event_type": {"$in": list(FAILED_SIGN_IN_TYPES)},
            "occurred_at": {"$gte": start},
            by: {"$ne": None},
        }
        rows = await self._aggregate(
            [
                {
                    "$group": {
                        "_id": f"${by}",
                        "count": {"$sum": 1},
                        "first_at": {"$min": "$occurred_at"},
                        "last_at": {"$max": "$occurred_at"},
                    }
                },
                {"$match": {"count": {"$gte": minimum}}},
                {"$sort": {"count": -1, "last_at": -1, "_id": 1}},
            ],
            match=match,
        )
        return [
            LoginBurst(
                str(row["_id"]),
                int(row["count"]),
                row["first_at"].astimezone(UTC),
                row["last_at"].astimezone(UTC),
            )
            for row in rows
        ]

    async def recent_events(self, user_id: str, limit: int = 50) -> list[SecurityEvent]:
        """One account's latest security events, newest first (an account review,
        or the "recent activity" a user is shown)."""
        account: str = parse_argument(
            AccountId, user_id, field="user_id", entity=self._entity, strict=True
        )
        page = await self.list_all(
            QueryOptions(
                filters={"user_id": account}, order_by=["-occurred_at"], limit=limit
            )
        )
        return page.items

    # The security record is append-only: a changed or deleted event is evidence
    # lost. These overrides keep the base pipeline's methods from doing either.

    async def update(self, entity: SecurityEvent) -> SecurityEvent:
        """Refused: security events are kept as written."""
        self._check_type(entity)
        raise await self._refuse(Operation.UPDATE, entity.id)

    async def patch(
        self,
        entity_id: str,
        changes: Any,
        *,
        expected_revision: int | None = None,
    ) -> SecurityEvent:
        """Refused: security events are kept as written."""
        self._check_id(entity_id)
        raise await self._refuse(Operation.UPDATE, entity_id)

    async def delete(self, entity_id: str) -> bool:
        """Refused: security events are kept at least six years."""
        self._check_id(entity_id)
        raise await self._refuse(Operation.DELETE, entity_id)

    async def _refuse(self, operation: Operation, entity_id: str) -> AccessDeniedError:
        context = self._context()
        await self._audit(context, operation, (entity_id,), outcome="denied")
        self.logger.warning(
            "refused to %s security event %s: the record is append-only",
            operation.value,
            entity_id,
        )
        return AccessDeniedError(
            "security events cannot be changed or deleted",
            entity=self._entity,
            entity_id=entity_id,
        )
