"""The crisis alert outbox: alerts written with the detection that raised them,
delivered by senders that claim them under a lease.

A sender claims due alerts, sends them, and marks each sent or failed. A failed
send goes back to pending with an exponential backoff (base and cap in settings);
a sender that crashes holding a claim loses it when its lease ends, and another
sender takes the alert. Nothing is ever dropped, so delivery is at least once:
a sender that stalls past its lease and then sends anyway may duplicate an alert,
which for a crisis is the safer error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NoReturn

from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.models.crisis import (
    CrisisDetection,
    CrisisNotification,
    NotificationKind,
    NotificationStatus,
)
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.lifecycle import checked_id
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id

__all__ = ["CrisisNotificationRepository"]

_CLAIMABLE = [NotificationStatus.PENDING, NotificationStatus.CLAIMED]
_LONGEST_LEASE = timedelta(hours=1)
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class CrisisNotificationRepository(AsyncBaseRepository[CrisisNotification]):
    """The outbox of crisis alerts: enqueue, claim, mark sent or failed.

    Alerts change only through these methods; they are never edited or deleted.
    """

    model = CrisisNotification

    async def enqueue(
        self,
        detection: CrisisDetection,
        kind: NotificationKind,
        *,
        recipients: Iterable[str] = (),
        escalation_level: int | None = None,
    ) -> CrisisNotification:
        """Write an alert about ``detection``, due now.

        Call it inside the transaction that writes the detection's change, so
        the change and its alert are stored together or not at all.
        """
        alert = self._validated_from_fields(
            {
                "patient_id": detection.patient_id,
                "detection_id": detection.id,
                "kind": kind,
                "crisis_type": detection.crisis_type,
                "severity_level": detection.severity_level,
                "requires_immediate_attention": detection.requires_immediate_attention,
                "escalation_level": escalation_level,
                "recipients": list(dict.fromkeys(recipients)),
            },
            detection.id,
        )
        stored = await self.create(alert)
        self.logger.info(
            "crisis alert %s (%s) queued for detection %s",
            stored.id,
            kind.value,
            detection.id,
        )
        return stored

    async def pending(self, limit: int = 50) -> list[CrisisNotification]:
        """Alerts a sender may claim now, most urgent first, then longest waiting:
        pending ones due for a (re)try and claimed ones whose lease has ended."""
        page = await self.list_all(
            QueryOptions(
                filters={"status__in": _CLAIMABLE, "available_at__lte": utc_now()},
                order_by=["-urgency", "available_at"],
                limit=limit,
            )
        )
        return page.items

    async def claim(
        self, worker_id: str, lease: timedelta, *, limit: int = 10
    ) -> list[CrisisNotification]:
        """Take up to ``limit`` claimable alerts for ``worker_id`` to send within
        ``lease``; of racing senders exactly one gets each alert.

        Raises:
            ValidationError: a malformed worker id, or a lease that is not
                positive or longer than an hour.
        """
        worker = checked_id(worker_id, field="worker_id")
        if not isinstance(lease, timedelta) or not (
            timedelta(0) < lease <= _LONGEST_LEASE
        ):
            raise ValidationError(
                "lease must be a timedelta above zero and at most one hour",
                field="lease",
                rule="range",
                entity=self._entity,
            )
        claimed: list[CrisisNotification] = []
        for candidate in await self.pending(limit):
            now = utc_now()
            taken = await self._atomic_update(
                candidate.id,
                {
                    "$set": {
                        "status": NotificationStatus.CLAIMED.value,
                        "claimed_by": worker,
                        "claimed_at": now,
                        "available_at": now + lease,
                    },
                    "$inc": {"attempts": 1},
                },
                # The revision seen: a claim or a send in between wins.
                guard={"_rev": candidate.revision},
                changed=("status", "claimed_by", "claimed_at", "available_at"),
            )
            if taken is not None:
                claimed.append(taken)
        self.logger.info("%s claimed %d crisis alerts", worker, len(claimed))
        return claimed

    async def mark_sent(
        self, notification_id: str, *, worker_id: str | None = None
    ) -> CrisisNotification:
        """Record that a claimed alert was delivered; marking it again is a no-op.

        Args:
            worker_id: if given, only this sender's claim may be completed.

        Raises:
            ValidationError: the alert is not claimed (``invalid_transition``).
            ConcurrencyError: another sender holds the claim now.
            NotFoundError: no such alert.
        """
        guard = self._claim_guard(worker_id)
        sent = await self._atomic_update(
            notification_id,
            {"$set": {"status": NotificationStatus.SENT.value, "sent_at": utc_now()}},
            guard=guard,
            changed=("status", "sent_at"),
        )
        if sent is None:
            current = await self.get(notification_id)
            if current.status is NotificationStatus.SENT:
                return current
            raise self._not_claimed(current, worker_id)
        self.logger.info("crisis alert %s sent", notification_id)
        return sent

    async def mark_failed(
        self,
        notification_id: str,
        error_code: str,
        *,
        worker_id: str | None = None,
    ) -> CrisisNotification:
        """Return a claimed alert whose send failed to the queue, due again after
        an exponential backoff.

        Args:
            error_code: the sender's machine-readable failure code
                (``sms_gateway_503``); never message text.
            worker_id: if given, only this sender's claim may be failed.

        Raises:
            ValidationError: a malformed code, or the alert is not claimed.
            ConcurrencyError: another sender holds the claim now.
            NotFoundError: no such alert.
        """
        code = _checked_code(error_code, self._entity)
        current = await self.get(notification_id)
        now = utc_now()
        failed = await self._atomic_update(
            notification_id,
            {
                "$set": {
                    "status": NotificationStatus.PENDING.value,
                    "available_at": now + self._backoff(current.attempts),
                    "last_error_code": code,
                    "claimed_by": None,
                    "claimed_at": None,
                }
            },
            guard=self._claim_guard(worker_id),
            changed=("status", "available_at", "last_error_code", "claimed_by"),
        )
        if failed is None:
            raise self._not_claimed(await self.get(notification_id), worker_id)
        self.logger.info(
            "crisis alert %s send failed (attempt %d); retry after %s",
            notification_id,
            failed.attempts,
            failed.available_at.isoformat(),
        )
        return failed

    async def update(self, entity: CrisisNotification) -> NoReturn:
        """Refused: an alert changes only by being claimed, sent or failed."""
        raise ValidationError(
            "a crisis alert changes only through claim, mark_sent and mark_failed",
            field="status",
            rule="managed_by_workflow",
            entity=self._entity,
            entity_id=printable_id(getattr(entity, "id", None)),
        )

    async def delete(self, entity_id: str) -> NoReturn:
        """Refused: a crisis alert is never dropped."""
        raise ValidationError(
            "crisis alerts are never deleted",
            field="id",
            rule="never_deleted",
            entity=self._entity,
            entity_id=printable_id(entity_id),
        )

    def _backoff(self, attempts: int) -> timedelta:
        settings = self.db.settings
        base = settings.crisis_alert_retry_seconds
        longest = settings.crisis_alert_max_retry_seconds
        exponent = max(attempts - 1, 0)
        # Capping the exponent first keeps the power small for long-failing alerts.
        seconds = base * 2 ** min(exponent, 30)
        return timedelta(seconds=min(seconds, longest))

    def _claim_guard(self, worker_id: str | None) -> dict[str, Any]:
        guard: dict[str, Any] = {"status": NotificationStatus.CLAIMED.value}
        if worker_id is not None:
            guard["claimed_by"] = checked_id(worker_id, field="worker_id")
        return guard

    def _not_claimed(
        self, current: CrisisNotification, worker_id: str | None
    ) -> ValidationError | ConcurrencyError:
        if current.status is NotificationStatus.CLAIMED and worker_id is not None:
            return ConcurrencyError(
                "another sender holds this alert's claim now (the lease ended)",
                entity=self._entity,
                entity_id=current.id,
            )
        return ValidationError(
            f"a {current.status.value} alert cannot be completed; claim it first",
            field="status",
            rule="invalid_transition",
            entity=self._entity,
            entity_id=current.id,
        )


def _checked_code(value: Any, entity: str) -> str:
    if not isinstance(value, str) or _ERROR_CODE.fullmatch(value) is None:
        raise ValidationError(
            "error_code must be a short machine-readable code (letters, digits, "
            "_ . : -), never message text",
            field="error_code",
            rule="format",
            entity=entity,
        )
    return value
