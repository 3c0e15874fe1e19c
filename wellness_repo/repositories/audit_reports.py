"""What the audit reports return, and the checks on the arguments of the reports
and of chain verification."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from wellness_repo.errors import ValidationError
from wellness_repo.models.types import is_aware
from wellness_repo.security.context import PurposeOfUse

__all__ = [
    "DisclosureRecord",
    "FailedActionSummary",
    "aware",
    "changed_values",
    "period",
    "required_text",
    "verification_arguments",
]

_MAC = re.compile(r"^[0-9a-f]{64}$")


class DisclosureRecord(NamedTuple):
    """One line of a patient's accounting of disclosures."""

    date: datetime
    recipient: str | None
    description: str
    purpose: PurposeOfUse


@dataclass(frozen=True, slots=True)
class FailedActionSummary:
    """Denied and failed accesses in a period, for security monitoring.

    Args:
        total: how many entries were denied or failed.
        by_actor: ``(user id, count)``, most first.
        by_resource_type: ``(kind of record, count)``, most first.
    """

    since: datetime
    until: datetime | None
    total: int
    by_actor: tuple[tuple[str, int], ...]
    by_resource_type: tuple[tuple[str, int], ...]


def required_text(value: Any, field: str) -> str:
    """Check that an argument is non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{field} must be non-empty text", field=field, rule="required"
        )
    return value


def aware(value: Any, field: str) -> datetime:
    """Check that an argument is a timezone-aware datetime."""
    if not is_aware(value):
        raise ValidationError(
            f"{field} must be a timezone-aware datetime",
            field=field,
            rule="timezone_required",
        )
    assert isinstance(value, datetime)
    return value


def period(
    start: Any, end: Any, names: tuple[str, str] = ("start_date", "end_date")
) -> tuple[datetime, datetime]:
    """Check a reporting period: two aware datetimes, the first not later."""
    first, last = aware(start, names[0]), aware(end, names[1])
    if first > last:
        raise ValidationError(
            "the period ends before it starts", field=names[1], rule="after_start"
        )
    return first, last


def verification_arguments(
    batch_size: Any, expected_tail: Any, expected_mac: Any
) -> tuple[int, int, tuple[int, str] | None]:
    """Check the arguments of a chain verification.

    Returns the batch size, the length the chain must have at least, and the
    remembered ``(sequence, mac)`` when a MAC was given.
    """
    if not _is_count(batch_size) or not 1 <= batch_size <= 100_000:
        raise ValidationError(
            "batch_size must be a whole number from 1 to 100000",
            field="batch_size",
            rule="range",
        )
    if expected_tail is None:
        if expected_mac is not None:
            raise ValidationError(
                "expected_mac belongs to an expected_tail",
                field="expected_mac",
                rule="needs_expected_tail",
            )
        return batch_size, 0, None
    if not _is_count(expected_tail) or expected_tail < 1:
        raise ValidationError(
            "expected_tail must be a sequence number from 1",
            field="expected_tail",
            rule="range",
        )
    if expected_mac is None:
        return batch_size, expected_tail, None
    if not isinstance(expected_mac, str) or not _MAC.match(expected_mac):
        raise ValidationError(
            "expected_mac must be 64 lowercase hex digits",
            field="expected_mac",
            rule="format",
        )
    return batch_size, expected_tail, (expected_tail, expected_mac)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def changed_values(value: Any, field: str) -> dict[str, Any]:
    """Check old or new values of an action: a mapping of field names."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{field} must map field names to values", field=field, rule="type"
        )
    return dict(value)
