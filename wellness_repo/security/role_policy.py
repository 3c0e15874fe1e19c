"""``RolePolicy``: the platform's access rules, enforced inside every query.

What each role may do to each kind of record is the table in
``wellness_repo.security.access_rules``; each model names its kind in ``ACCESS``.
This module turns a reach into Mongo filters (so counts and pages stay right),
field projections and per-record redactions (so hidden fields are absent), and
write checks (so nobody writes outside their reach or into fields they cannot
see). A denial raises ``AccessDeniedError``; the pipeline audits it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from wellness_repo.errors import AccessDeniedError
from wellness_repo.security.access_rules import (
    CLINICIAN_ROLES,
    AccessRule,
    Reach,
    RecordKind,
    reach_of,
)
from wellness_repo.security.care_directory import CareDirectory
from wellness_repo.security.context import AccessContext, UserRole
from wellness_repo.security.policy import Operation, Redactor

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = ["RolePolicy"]

_log = logging.getLogger("wellness_repo.security")
_ACCOUNT_KINDS = (RecordKind.ACCOUNT, RecordKind.SECURITY_RECORD)
# Reaching beyond one's own patients on a named record: reading and updating it
# (a referral's receiving provider accepts it); creating and deleting need care.
_NAMED_OPERATIONS = (Operation.READ, Operation.UPDATE)


class RolePolicy:
    """Decides, by role, which records a context reaches and which fields it sees.

    - Patients read their own records (not psychotherapy notes) and write their
      own patient-authored records.
    - Clinicians reach the records of the patients in their care (see
      :class:`CareDirectory`); under break-glass they read any patient's.
    - Psychotherapy notes, and fields declared like them, are seen and written by
      their author only. Care coordinators do not see session notes.
    - Admins manage accounts and the provider network and read security events,
      but reach no clinical record. Auditors read the audit trail only.
    - System contexts reach everything; nobody writes the audit trail through a
      repository.

    Args:
        directory: the care lookup; one is made (and attached at connect) if not
            given.
    """

    def __init__(self, directory: CareDirectory | None = None) -> None:
        self.directory = directory or CareDirectory()
        self._hidden: dict[tuple[type[Any], UserRole], frozenset[str]] = {}

    async def attach(self, db: DatabaseManager) -> None:
        """Bind the care lookup to the connected database (called by ``connect``)."""
        await self.directory.attach(db)

    async def close(self) -> None:
        """Drop cached care lookups (called when the connection closes)."""
        await self.directory.close()

    def access_version(self, context: AccessContext) -> tuple[Any, ...]:
        """A value that changes when what ``context`` may see may have changed
        through this process; cached read results keyed on it stay correct."""
        if context.role in CLINICIAN_ROLES:
            return self.directory.generation()
        return ()

    # ------------------------------------------------------------------ reads

    async def scope(
        self, entity: type[Any], context: AccessContext, operation: Operation
    ) -> dict[str, Any] | None:
        """The filter confining ``operation`` to the records ``context`` reaches.

        Raises:
            AccessDeniedError: the role may not do this to this kind of record.
        """
        rule = _rule_of(entity)
        reach = self._reach(entity, rule, context, operation)
        if reach is Reach.ALL:
            return None
        assert rule is not None  # only a declared kind grants less than all
        if reach is Reach.OWN:
            return {_owner_key(entity, rule, operation): _own_id(rule, context)}
        shared = {rule.shared_field: True} if rule.shared_field else {}
        if operation is Operation.READ and context.is_break_glass:
            return shared or None
        patients = await self.directory.patients_of(context.actor_id)
        branches: list[dict[str, Any]] = [
            {_owner_key(entity, rule, operation): {"$in": sorted(patients)}}
        ]
        if operation in _NAMED_OPERATIONS:
            branches += [{name: context.actor_id} for name in rule.provider_fields]
        confined = branches[0] if len(branches) == 1 else {"$or": branches}
        return {**confined, **shared}

    def hidden_fields(
        self, entity: type[Any], context: AccessContext
    ) -> frozenset[str]:
        """Fields absent from every record ``context`` reads: author-only fields
        for patients, declared detail fields for care coordinators."""
        key = (entity, context.role)
        hidden = self._hidden.get(key)
        if hidden is None:
            hidden = _hidden_by_role(_rule_of(entity), context.role)
            self._hidden[key] = hidden
        return hidden

    def redactor(self, entity: type[Any], context: AccessContext) -> Redactor | None:
        """For clinicians, hides author-only fields on records someone else
        authored; ``None`` when the kind declares no such field."""
        rule = _rule_of(entity)
        if rule is None or not rule.author_only:
            return None
        if context.role not in CLINICIAN_ROLES:
            return None
        return _AuthorOnly(rule.author_only, context.actor_id)

    # ----------------------------------------------------------------- writes

    async def check_write(
        self,
        entity: type[Any],
        context: AccessContext,
        document: dict[str, Any],
        operation: Operation,
    ) -> None:
        """Refuse a document written outside the writer's reach, one that sets a
        field the writer cannot see, or one that changes the writer's identity.

        Raises:
            AccessDeniedError: with the rule that refused it.
        """
        rule = _rule_of(entity)
        reach = self._reach(entity, rule, context, operation)
        if context.is_system or rule is None:
            return
        self._check_fields(entity, rule, context, document)
        if reach is Reach.ALL:
            return
        if reach is Reach.OWN:
            owner = document.get(_owner_key(entity, rule, operation))
            if owner != _own_id(rule, context):
                raise _denied(entity, "a record of someone else", document)
            for name in rule.pinned_fields:
                if document.get(name) != _identity(context, name):
                    raise _denied(entity, f"a change of one's own {name}", document)
            return
        patient = document.get(_owner_key(entity, rule, operation))
        if patient is not None and patient in (
            await self.directory.patients_of(context.actor_id)
        ):
            return
        named = operation is Operation.UPDATE and any(
            document.get(name) == context.actor_id for name in rule.provider_fields
        )
        if not named:
            raise _denied(entity, "a record of a patient not in one's care", document)

    async def check_changes(
        self, entity: type[Any], context: AccessContext, fields: Collection[str]
    ) -> None:
        """Refuse a change that only an administrator may make: an owner's
        change of their identity or of a field the kind declares
        ``admin_fields``, and a clinician's change of the patient a record is
        about.

        Moving a record to another patient would carry the first patient's
        data into the second's chart, and a relationship moved that way would
        bring the second patient into the clinician's care; so the patient of
        a record stays as it was stored, whoever the record names.

        ``fields`` are the top-level names the write changes: every changed
        field of a whole-record update, or what a domain method's ``$set``
        writes.

        Raises:
            AccessDeniedError: naming the first such field.
        """
        rule = _rule_of(entity)
        reach = self._reach(entity, rule, context, Operation.UPDATE)
        if rule is None or context.is_system:
            return
        if reach is Reach.CARE:
            owner = _owner_key(entity, rule, Operation.UPDATE)
            if owner in fields:
                raise AccessDeniedError(
                    f"access policy refuses a change of a record's {owner}",
                    entity=_name(entity),
                )
            return
        if reach is not Reach.OWN:
            return
        reserved = sorted(set(fields) & {*rule.pinned_fields, *rule.admin_fields})
        if reserved:
            raise AccessDeniedError(
                f"access policy refuses an owner's change of {reserved[0]}",
                entity=_name(entity),
            )

    # ---------------------------------------------------------------- private

    def _reach(
        self,
        entity: type[Any],
        rule: AccessRule | None,
        context: AccessContext,
        operation: Operation,
    ) -> Reach:
        if context.is_break_glass and context.is_expired():
            raise AccessDeniedError(
                "the break-glass grant has expired", entity=_name(entity)
            )
        reach = reach_of(rule, context.role, operation)
        if reach is Reach.NONE:
            _log.debug(
                "denied %s of %s to role %s",
                operation.value,
                _name(entity),
                context.role.value,
            )
            raise AccessDeniedError(
                f"the {context.role.value} role may not {operation.value} "
                f"{_name(entity)} records",
                entity=_name(entity),
            )
        return reach

    def _check_fields(
        self,
        entity: type[Any],
        rule: AccessRule,
        context: AccessContext,
        document: Mapping[str, Any],
    ) -> None:
        for name in self.hidden_fields(entity, context):
            if _is_set(document.get(name)):
                raise _denied(entity, f"writing {name}, which is hidden", document)
        for field, author in rule.author_only:
            if _is_set(document.get(field)) and document.get(author) != (
                context.actor_id
            ):
                raise _denied(entity, f"writing {field} as another author", document)


class _AuthorOnly:
    """Hides each author-only field on records whose author is someone else.

    A record whose author is not stored (a projection that left it out) counts
    as someone else's: the field is hidden rather than shown to the wrong eyes.
    A filter on either field matches only records the reader wrote.
    """

    __slots__ = ("_actor", "_pairs")

    def __init__(self, pairs: tuple[tuple[str, str], ...], actor_id: str) -> None:
        self._pairs = pairs
        self._actor = actor_id

    def __call__(self, document: Mapping[str, Any]) -> frozenset[str]:
        hidden: set[str] = set()
        for field, author in self._pairs:
            # Either one alone tells: the author is set only where notes are,
            # and a projection may have kept one of the two.
            written = document.get(field) is not None or (
                document.get(author) is not None
            )
            if written and document.get(author) != self._actor:
                hidden.update((field, author))
        return frozenset(hidden)

    def visible_where(self, field: str) -> Mapping[str, Any] | None:
        # Only on records the reader wrote: "no notes here" on someone else's
        # record would otherwise tell, by contrast, where that someone wrote some.
        for pair in self._pairs:
            if field in pair:
                return {pair[1]: self._actor}
        return None


def _rule_of(entity: type[Any]) -> AccessRule | None:
    rule = getattr(entity, "ACCESS", None)
    return rule if isinstance(rule, AccessRule) else None


def _hidden_by_role(rule: AccessRule | None, role: UserRole) -> frozenset[str]:
    if rule is None:
        return frozenset()
    if role is UserRole.PATIENT:
        return rule.author_fields
    if role is UserRole.CARE_COORDINATOR:
        return frozenset(rule.detail_fields)
    return frozenset()


def _owner_key(entity: type[Any], rule: AccessRule, operation: Operation) -> str:
    key = rule.owner_field or getattr(entity, "PATIENT_FIELD", None)
    if key is None:
        # A declared kind that says nobody owns its records reaches none of them.
        raise AccessDeniedError(
            f"{_name(entity)} records name no owner to confine {operation.value} to",
            entity=_name(entity),
        )
    return str(key)


def _own_id(rule: AccessRule, context: AccessContext) -> str:
    if rule.kind in _ACCOUNT_KINDS:
        return context.account_id
    return context.actor_id


def _identity(context: AccessContext, name: str) -> str | None:
    if name == "role":
        return context.role.value
    return context.provider_id


def _is_set(value: Any) -> bool:
    return value is not None and value != [] and value != {}


def _name(entity: type[Any]) -> str:
    naming = getattr(entity, "entity_name", None)
    return str(naming()) if callable(naming) else entity.__name__


def _denied(
    entity: type[Any], what: str, document: Mapping[str, Any]
) -> AccessDeniedError:
    record_id = document.get("_id")
    return AccessDeniedError(
        f"access policy refuses {what}",
        entity=_name(entity),
        entity_id=str(record_id) if record_id is not None else None,
    )
