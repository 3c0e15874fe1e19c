"""Care-coordination repositories: the provider network, and what every care
repository shares (argument checks, complete worklists, and the guard on fields
only domain methods write). Referrals are in ``repositories.referrals``, care
teams in ``repositories.care_teams``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from wellness_repo.errors import ValidationError
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.care import NetworkStatus, Provider, Specialty
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repository.base import AsyncBaseRepository

__all__ = [
    "ProviderRepository",
    "calendar_day",
    "every_match",
    "parse_argument",
    "refuse_managed_changes",
]

D = TypeVar("D", bound=WellnessDocument)

_LONGEST_LOOKAHEAD_DAYS = 3_650


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def parse_argument(
    kind: Any,
    value: Any,
    *,
    field: str,
    entity: str,
    entity_id: str | None = None,
    strict: bool = False,
) -> Any:
    """Check one argument of a care-coordination method against ``kind``.

    Raises ``ValidationError`` naming ``field`` and the rule broken (never the
    value). ``strict`` refuses conversions, so ``"yes"`` is not taken for true.
    """
    try:
        return _adapter(kind).validate_python(value, strict=strict)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        raise ValidationError(
            str(first["msg"]),
            field=field,
            rule=str(first["type"]),
            entity=entity,
            entity_id=entity_id,
            cause=exc,
        ) from None


def calendar_day(
    value: Any, *, field: str, entity: str, entity_id: str | None = None
) -> date | None:
    """Check that an argument is a calendar day (or ``None``).

    A ``datetime`` is refused although Python counts it as a date: its time and
    zone would be silently dropped.
    """
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(
            "expected a calendar date (datetime.date)",
            field=field,
            rule="date_type",
            entity=entity,
            entity_id=entity_id,
        )
    return value


async def every_match(
    repository: AsyncBaseRepository[D], options: QueryOptions
) -> list[D]:
    """Every record matching ``options``, following page cursors to the end.

    Care-coordination lists (overdue referrals, expiring licences) are worklists:
    cutting them at a page size would hide the very records someone must act on.
    """
    records: list[D] = []
    after: str | None = None
    while True:
        page = await repository.list_all(
            QueryOptions(
                filters=options.filters, order_by=options.order_by, after=after
            )
        )
        records.extend(page.items)
        if page.next_cursor is None:
            return records
        after = page.next_cursor


async def refuse_managed_changes(
    repository: AsyncBaseRepository[D], entity: D, fields: tuple[str, ...]
) -> None:
    """Refuse a whole-record update that changes fields only domain methods write.

    Those methods guard their own state and keep history; a plain update would
    bypass both. A stale ``entity``, or one the caller cannot see, is left to
    ``update``'s own checks (revision, access), which say what is wrong.
    """
    stored = await repository.get_by_id(entity.id)
    if stored is None or stored.revision != entity.revision:
        return
    for name in fields:
        if getattr(entity, name) != getattr(stored, name):
            raise ValidationError(
                f"{name} changes only through the record's own methods",
                field=name,
                rule="managed_field",
                entity=type(entity).entity_name(),
                entity_id=entity.id,
            )


class ProviderRepository(AsyncBaseRepository[Provider]):
    """The provider network: credentials, specialties, availability."""

    model = Provider

    async def find_providers_by_specialty(
        self,
        specialty: str,
        accepting_patients: bool | None = None,
        *,
        network_status: NetworkStatus | None = None,
    ) -> list[Provider]:
        """Providers practising a specialty, by last then first name.

        Args:
            specialty: matched exactly (after trimming) against ``specialties``.
            accepting_patients: ``True`` for only those taking new patients,
                ``False`` for only those who are not, ``None`` for both.
            network_status: only providers with this network status.
        """
        label = parse_argument(
            Specialty, specialty, field="specialty", entity=self._entity
        )
        accepting = [True, False]
        if accepting_patients is not None:
            accepting = [
                parse_argument(
                    bool,
                    accepting_patients,
                    field="accepting_patients",
                    entity=self._entity,
                    strict=True,
                )
            ]
        # Naming both values when either will do lets the server merge two
        # name-ordered index ranges instead of sorting a whole specialty.
        filters: dict[str, Any] = {
            "specialties": label,
            "accepting_new_patients__in": accepting,
        }
        if network_status is not None:
            filters["network_status"] = parse_argument(
                NetworkStatus,
                network_status,
                field="network_status",
                entity=self._entity,
            )
        return await every_match(
            self, QueryOptions(filters=filters, order_by=["last_name", "first_name"])
        )

    async def licenses_expiring_within(
        self,
        days: int,
        *,
        today: date | None = None,
        include_expired: bool = False,
    ) -> list[Provider]:
        """Providers whose licence expires in the next ``days`` days (today
        included), soonest first: the credentialing team's renewal worklist.

        Args:
            days: how far ahead to look, 0 to 3650.
            today: the day to count from; defaults to today's date in UTC.
            include_expired: also list licences that have already expired.
        """
        ahead: int = parse_argument(
            int, days, field="days", entity=self._entity, strict=True
        )
        if not 0 <= ahead <= _LONGEST_LOOKAHEAD_DAYS:
            raise ValidationError(
                f"days must be from 0 to {_LONGEST_LOOKAHEAD_DAYS}",
                field="days",
                rule="range",
                entity=self._entity,
            )
        start = calendar_day(today, field="today", entity=self._entity)
        start = start or utc_now().date()
        horizon = start + timedelta(days=ahead)
        expiry: dict[str, Any] = (
            {"license_expires_on__lte": horizon}
            if include_expired
            else {"license_expires_on__range": (start, horizon)}
        )
        return await every_match(
            self, QueryOptions(filters=expiry, order_by=["license_expires_on"])
        )

    async def renew_license(self, provider_id: str, expires_on: date) -> Provider:
        """Record a renewed licence's new expiry date, which must lie ahead.

        Raises:
            ValidationError: the date is not in the future, or the provider has
                no licence on record (``license_number_required``).
            NotFoundError: no such provider.
        """
        expiry = calendar_day(
            expires_on, field="expires_on", entity=self._entity, entity_id=provider_id
        )
        if expiry is None or expiry <= utc_now().date():
            raise ValidationError(
                "a renewed licence expires in the future",
                field="expires_on",
                rule="future_date",
                entity=self._entity,
                entity_id=provider_id,
            )
        updated = await self._atomic_update(
            provider_id,
            {"$set": {"license_expires_on": expiry.isoformat()}},
            guard={"license_number": {"$type": "string"}},
            changed=("license_expires_on",),
        )
        if updated is None:
            await self.get(provider_id)
            raise ValidationError(
                "the provider has no licence number on record",
                field="license_number",
                rule="license_number_required",
                entity=self._entity,
                entity_id=provider_id,
            )
        self.logger.info("provider %s licence renewed", provider_id)
        return updated
