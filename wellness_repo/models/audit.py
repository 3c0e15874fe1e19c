"""The audit trail: one entry per access to patient data or per action a service
reports, chained so that any later change to the trail can be detected."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar

import bson
from bson.errors import BSONError
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.types import ID_PATTERN, Encrypted, UtcDatetime, utc_now
from wellness_repo.security.access_rules import AccessRule, RecordKind
from wellness_repo.security.context import PurposeOfUse, UserRole

__all__ = [
    "ActionType",
    "AuditLog",
    "AuditOutcome",
    "MacHex",
    "RecordId",
    "ResourceType",
]

MacHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""An HMAC-SHA256 value as 64 lowercase hex digits."""

RecordId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""The id of a record or an actor, as the audit stores it: never free text."""

ResourceType = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")
]
"""The kind of record acted on: an entity name (``TherapySession``) or a
service's own label (``patient_record``)."""

_MAX_VALUES_BYTES = 64 * 1024


def _storable_values(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    for name in value:
        if not name or name.startswith("$"):
            raise PydanticCustomError(
                "field_name", "keys must be field names, not empty or starting '$'"
            )
    try:
        size = len(bson.encode(value))
    except (BSONError, TypeError, OverflowError):
        raise PydanticCustomError(
            "storable", "holds a value the database cannot store"
        ) from None
    if size > _MAX_VALUES_BYTES:
        raise PydanticCustomError(
            "max_size", "may take at most {limit} bytes", {"limit": _MAX_VALUES_BYTES}
        )
    return value


ChangedValues = Annotated[
    dict[str, Any] | None, AfterValidator(_storable_values), Encrypted()
]
"""Old or new values of changed fields, keyed by field name; stored encrypted as
one value, at most 64 KiB."""

AuditText = Annotated[str | None, Encrypted(), Field(max_length=2_000)]
"""Free text a caller gave (a description, an emergency reason); encrypted."""


class ActionType(StrEnum):
    """What was done to the records an audit entry names.

    The pipeline records ``create``, ``read``, ``update`` and ``delete`` itself,
    with the outcome (``denied`` when the policy refused). The other kinds are
    reported by services through ``AuditLogRepository.log_action``.
    """

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGOUT = "logout"
    EXPORT = "export"
    """Records left the platform in bulk (a download, a report file)."""
    DISCLOSE = "disclose"
    """A patient's records were given to someone outside the care team; these
    entries make up the accounting of disclosures (HIPAA 164.528)."""
    ACCESS_DENIED = "access_denied"
    """A service refused an access before it reached a repository."""
    BREAK_GLASS = "break_glass"
    """Emergency access was granted to a clinician outside the usual policy."""
    PERMISSION_CHANGE = "permission_change"
    """A role, care-team membership or sharing setting changed."""
    KEY_MANAGEMENT = "key_management"
    """Encryption keys were created, rotated or erased."""


class AuditOutcome(StrEnum):
    """How the audited action ended."""

    OK = "ok"
    DENIED = "denied"
    """The access policy refused it; nothing was read or written."""
    FAILED = "failed"
    """It was allowed but did not complete (a database error, a conflict)."""


class AuditLog(WellnessDocument):
    """One entry of the tamper-evident audit trail.

    Entries are only ever appended. ``sequence`` numbers them from 1 without gaps;
    ``prev_mac`` is the previous entry's ``mac`` and ``mac`` authenticates this
    entry as stored (see ``wellness_repo.security.audit_chain``). Values that may
    be PHI (a caller's description, changed values, an emergency reason, a
    disclosure's recipient) are stored encrypted; everything else is ids, names
    of fields and kinds, never values.
    """

    ID_NAME: ClassVar[str] = "audit_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.AUDIT_TRAIL)

    sequence: int | None = Field(default=None, ge=1)
    prev_mac: MacHex | None = None
    mac: MacHex | None = None
    at: UtcDatetime = Field(default_factory=utc_now)
    user_id: RecordId
    role: UserRole
    purpose: PurposeOfUse
    action_type: ActionType
    resource_type: ResourceType
    resource_ids: list[RecordId] = Field(default_factory=list)
    patient_ids: list[RecordId] = Field(default_factory=list)
    summary: str = Field(min_length=1, max_length=200)
    description: AuditText = None
    hipaa_relevant: bool = True
    outcome: AuditOutcome = AuditOutcome.OK
    query_shape: str | None = Field(default=None, max_length=20_000)
    changed_fields: list[str] = Field(default_factory=list, max_length=500)
    old_values: ChangedValues = None
    new_values: ChangedValues = None
    emergency: bool = False
    emergency_reason: AuditText = None
    recipient: Annotated[str | None, Encrypted(), Field(max_length=500)] = None
    recorded_by: RecordId | None = None
    writer: str | None = Field(default=None, max_length=300)

    class Settings:
        name = "audit_logs"

    @property
    def audit_id(self) -> str:
        """The platform's name for this entry's id."""
        return self.id

    @property
    def resource_id(self) -> str | None:
        """The first record the entry names, as the seed's single-record view."""
        return self.resource_ids[0] if self.resource_ids else None
