"""The access table: which role may do what to which kind of record.

Each document model declares its kind in ``ACCESS`` (an :class:`AccessRule`), so a
new model joins the policy by naming its kind rather than by being added to a list
of class names. :data:`GRANTS` then says, per kind, role and operation, how far an
actor reaches:

=================== ========= =============== ============= ========== ==========
kind                patient   clinician [1]   admin         auditor    system
=================== ========= =============== ============= ========== ==========
clinical            read own  all in care     --            --         all
clinical_workflow   --        all in care     --            --         all
patient_authored    all own   read in care    --            --         all
provider_directory  read all  read all        all           --         all
account             r/u own   r/u own         all           r/u own    all
security_record     add own   add own         read, add     --         all
audit_trail         --        --              --            read all   read, add
=================== ========= =============== ============= ========== ==========

[1] therapist, psychiatrist, nurse, care coordinator. "In care": patients with
whom the clinician has an active or paused therapeutic relationship, or on whose
active care team they serve (see ``wellness_repo.security.care_directory``).
The per-record refinements (shared journals, author-only notes, fields hidden from
care coordinators, providers named on a record) are declared on the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from wellness_repo.security.context import UserRole
from wellness_repo.security.policy import Operation

__all__ = [
    "CLINICIAN_ROLES",
    "GRANTS",
    "IDENTITY_FIELDS",
    "AccessRule",
    "Reach",
    "RecordKind",
    "reach_of",
]

CLINICIAN_ROLES = frozenset(
    {
        UserRole.THERAPIST,
        UserRole.PSYCHIATRIST,
        UserRole.NURSE,
        UserRole.CARE_COORDINATOR,
    }
)
"""The roles that treat patients and reach records through their care."""

IDENTITY_FIELDS = frozenset({"role", "provider_id"})
"""What :attr:`AccessRule.pinned_fields` may name: parts of the writer's identity."""


class RecordKind(StrEnum):
    """What a kind of record is, as far as access is concerned."""

    CLINICAL = "clinical"
    """Part of the patient's record (sessions, plans, referrals, care teams):
    written by the clinicians caring for the patient, readable by the patient."""
    CLINICAL_WORKFLOW = "clinical_workflow"
    """Clinical work queues about a patient (crisis signals): for the clinicians
    caring for the patient, not part of the record handed to the patient."""
    PATIENT_AUTHORED = "patient_authored"
    """Written by the patient (mood entries, journals): readable by the clinicians
    caring for the patient, or only once shared when the rule names a field."""
    PROVIDER_DIRECTORY = "provider_directory"
    """The provider network: managed by admins, looked up by patients and staff."""
    ACCOUNT = "account"
    """Sign-in accounts and their sessions: the owner reads and maintains their
    own; admins manage all."""
    SECURITY_RECORD = "security_record"
    """Security events: appended for one's own account, read by admins."""
    AUDIT_TRAIL = "audit_trail"
    """The audit log: read by auditors; appended by the pipeline (or a system
    script), never changed or removed by anyone."""


class Reach(StrEnum):
    """How far one operation of one role extends over one kind of record."""

    NONE = "none"
    """Refused outright, with ``AccessDeniedError`` (audited)."""
    OWN = "own"
    """The actor's own records: about them (patients) or owned by their account."""
    CARE = "care"
    """Records of the patients in the clinician's care."""
    ALL = "all"
    """Every record of the kind."""


@dataclass(frozen=True, slots=True)
class AccessRule:
    """How the role policy treats one document model; set as its ``ACCESS``.

    Field names are the stored ones (``"_id"`` for the id).

    Args:
        kind: the row of :data:`GRANTS` that applies.
        owner_field: for account and security records, the field holding the
            owning account's id; other kinds are owned through ``PATIENT_FIELD``.
        shared_field: for patient-authored records, a boolean field the patient
            sets to share the record; clinicians see only records where it is
            true, even under break-glass.
        author_only: pairs ``(field, author_field)``: ``field`` is visible and
            writable only by the provider ``author_field`` names (psychotherapy
            notes). Patients never see either field.
        provider_fields: fields naming providers who, being named, may read and
            update the record even when the patient is not in their care (the
            therapist of a pending relationship, the receiving provider of a
            referral). Creating and deleting still need the patient in care.
        detail_fields: fields hidden from care coordinators, who coordinate care
            without reading clinical narrative (session notes).
        pinned_fields: fields a self-service write must leave equal to the
            writer's identity (an account's ``role`` and ``provider_id``), so
            nobody raises their own privileges. Names from
            :data:`IDENTITY_FIELDS`.
        admin_fields: fields an owner may not change on their own record
            (an account's lock and active flag): only those who reach all
            records of the kind (admins, system contexts) change them.
    """

    kind: RecordKind
    owner_field: str | None = None
    shared_field: str | None = None
    author_only: tuple[tuple[str, str], ...] = ()
    provider_fields: tuple[str, ...] = ()
    detail_fields: tuple[str, ...] = ()
    pinned_fields: tuple[str, ...] = ()
    admin_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.pinned_fields) - IDENTITY_FIELDS
        if unknown:
            raise ValueError(f"pinned_fields may name only {sorted(IDENTITY_FIELDS)}")
        if self.shared_field and self.kind is not RecordKind.PATIENT_AUTHORED:
            raise ValueError("only patient-authored records are shared")

    @property
    def author_fields(self) -> frozenset[str]:
        """Every field the author-only rule hides, with the authors' names."""
        return frozenset(name for pair in self.author_only for name in pair)


class _Group(StrEnum):
    PATIENT = "patient"
    CLINICIAN = "clinician"
    ADMIN = "admin"
    AUDITOR = "auditor"
    SYSTEM = "system"


_GROUP_OF: Mapping[UserRole, _Group] = {
    UserRole.PATIENT: _Group.PATIENT,
    **dict.fromkeys(CLINICIAN_ROLES, _Group.CLINICIAN),
    UserRole.ADMIN: _Group.ADMIN,
    UserRole.AUDITOR: _Group.AUDITOR,
    UserRole.SYSTEM: _Group.SYSTEM,
}

_OPERATIONS = (Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE)
_N, _O, _C, _A = Reach.NONE, Reach.OWN, Reach.CARE, Reach.ALL


def _row(read: Reach, create: Reach, update: Reach, delete: Reach) -> dict[str, Reach]:
    return dict(zip(_OPERATIONS, (read, create, update, delete), strict=True))


_NOTHING = _row(_N, _N, _N, _N)
_EVERYTHING = _row(_A, _A, _A, _A)

_TABLE: Mapping[RecordKind, Mapping[_Group, Mapping[str, Reach]]] = {
    RecordKind.CLINICAL: {
        _Group.PATIENT: _row(_O, _N, _N, _N),
        _Group.CLINICIAN: _row(_C, _C, _C, _C),
        _Group.ADMIN: _NOTHING,
        _Group.AUDITOR: _NOTHING,
        _Group.SYSTEM: _EVERYTHING,
    },
    RecordKind.CLINICAL_WORKFLOW: {
        _Group.PATIENT: _NOTHING,
        _Group.CLINICIAN: _row(_C, _C, _C, _C),
        _Group.ADMIN: _NOTHING,
        _Group.AUDITOR: _NOTHING,
        _Group.SYSTEM: _EVERYTHING,
    },
    RecordKind.PATIENT_AUTHORED: {
        _Group.PATIENT: _row(_O, _O, _O, _O),
        _Group.CLINICIAN: _row(_C, _N, _N, _N),
        _Group.ADMIN: _NOTHING,
        _Group.AUDITOR: _NOTHING,
        _Group.SYSTEM: _EVERYTHING,
    },
    RecordKind.PROVIDER_DIRECTORY: {
        _Group.PATIENT: _row(_A, _N, _N, _N),
        _Group.CLINICIAN: _row(_A, _N, _N, _N),
        _Group.ADMIN: _EVERYTHING,
        _Group.AUDITOR: _NOTHING,
        _Group.SYSTEM: _EVERYTHING,
    },
    RecordKind.ACCOUNT: {
        _Group.PATIENT: _row(_O, _N, _O, _N),
        _Group.CLINICIAN: _row(_O, _N, _O, _N),
        _Group.ADMIN: _EVERYTHING,
        _Group.AUDITOR: _row(_O, _N, _O, _N),
        _Group.SYSTEM: _EVERYTHING,
    },
    RecordKind.SECURITY_RECORD: {
        _Group.PATIENT: _row(_N, _O, _N, _N),
        _Group.CLINICIAN: _row(_N, _O, _N, _N),
        _Group.ADMIN: _row(_A, _A, _N, _N),
        _Group.AUDITOR: _NOTHING,
        _Group.SYSTEM: _EVERYTHING,
    },
    RecordKind.AUDIT_TRAIL: {
        _Group.PATIENT: _NOTHING,
        _Group.CLINICIAN: _NOTHING,
        _Group.ADMIN: _NOTHING,
        _Group.AUDITOR: _row(_A, _N, _N, _N),
        # Appending is for the pipeline's chain writer and for system scripts;
        # the audit repository itself refuses record writes from anyone.
        _Group.SYSTEM: _row(_A, _A, _N, _N),
    },
}

GRANTS: Mapping[RecordKind, Mapping[UserRole, Mapping[str, Reach]]] = {
    kind: {role: rows[group] for role, group in _GROUP_OF.items()}
    for kind, rows in _TABLE.items()
}
"""``GRANTS[kind][role][operation]``: the reach of each role, as tabled above."""


def reach_of(rule: AccessRule | None, role: UserRole, operation: Operation) -> Reach:
    """How far ``role`` reaches with ``operation`` over records under ``rule``.

    A model that declares no rule is open to system contexts only: a new kind of
    record is closed until someone decides who may see it.
    """
    if rule is None:
        return Reach.ALL if role is UserRole.SYSTEM else Reach.NONE
    return GRANTS[rule.kind][role][operation]
