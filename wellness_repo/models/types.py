"""Value types shared by every document: ids, UTC instants, calendar dates, and the
marker that declares a field encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from bson import ObjectId
from bson.tz_util import utc as bson_utc
from pydantic import AfterValidator, PlainSerializer
from pydantic_core import PydanticCustomError

__all__ = [
    "ID_PATTERN",
    "CalendarDate",
    "Encrypted",
    "EncryptionAlgorithm",
    "UtcDatetime",
    "new_id",
    "utc_now",
]


ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
"""Record ids: letters, digits and ``_ . : -``. Ids appear in logs, audit entries
and URLs, so they may never carry free text such as a patient's name."""


def new_id() -> str:
    """A new record id: 24 hex characters that sort by creation time."""
    return str(ObjectId())


def utc_now() -> datetime:
    """The current instant, UTC, truncated to MongoDB's millisecond precision."""
    return _to_millis(datetime.now(UTC))


def _to_millis(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def require_utc(value: datetime) -> datetime:
    """``value`` in UTC with millisecond precision; a naive one is refused."""
    # Values already in UTC at millisecond precision pass untouched, whichever
    # UTC object carries them (the driver decodes with its own): converting each
    # to ``datetime.UTC`` cost about a third of validating a mood entry. Reads of
    # current-schema documents skip this step (models/read_validation.py).
    zone = value.tzinfo
    if (zone is UTC or zone is bson_utc) and value.microsecond % 1000 == 0:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "timezone_required",
            "datetime must be timezone-aware; attach a zone, e.g. tzinfo=UTC",
        )
    return _to_millis(value.astimezone(UTC))


UtcDatetime = Annotated[datetime, AfterValidator(require_utc)]
"""A point in time: timezone-aware on input, stored and returned as UTC with
millisecond precision (what MongoDB keeps), so a record reads back as written."""

CalendarDate = Annotated[
    date, PlainSerializer(lambda value: value.isoformat(), return_type=str)
]
"""A calendar day (a start date, a date of birth): stored as ``YYYY-MM-DD``, which
sorts and compares correctly and carries no false time zone."""


class EncryptionAlgorithm(StrEnum):
    """How a sensitive field is encrypted."""

    DETERMINISTIC = "deterministic"
    """Same plaintext, same ciphertext: allows equality queries (email)."""
    RANDOM = "random"
    """Different ciphertext every time: for free text, allows no queries."""


@dataclass(frozen=True, slots=True)
class Encrypted:
    """Marks a model field as sensitive, to be stored encrypted.

    Use it inside ``Annotated``: ``notes: Annotated[str | None, Encrypted()] = None``.
    The query compiler allows only equality, ``in`` and ``isnull`` on deterministic
    fields and only ``isnull`` on random ones.
    """

    algorithm: EncryptionAlgorithm = EncryptionAlgorithm.RANDOM

    @property
    def queryable(self) -> bool:
        """Whether equality lookups can work on the ciphertext."""
        return self.algorithm is EncryptionAlgorithm.DETERMINISTIC


def is_aware(value: Any) -> bool:
    """Whether ``value`` is a timezone-aware datetime."""
    return isinstance(value, datetime) and value.utcoffset() is not None
