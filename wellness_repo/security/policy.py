"""Access policy: the stage of the pipeline that decides what a context may see and
change, expressed as Mongo filters so counts and pages stay correct."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from wellness_repo.security.context import AccessContext

__all__ = ["AccessPolicy", "Operation", "PermitAllPolicy"]


class Operation(StrEnum):
    """What a repository call does to the records it touches."""

    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class AccessPolicy(Protocol):
    """Decides, per access context and kind of record, what a call may touch."""

    def scope(
        self, entity: type[Any], context: AccessContext, operation: Operation
    ) -> dict[str, Any] | None:
        """The filter that confines ``operation`` to visible records.

        ``None`` means no restriction. Raises ``AccessDeniedError`` when the context
        may not perform the operation on this kind of record at all.
        """
        ...

    def hidden_fields(
        self, entity: type[Any], context: AccessContext
    ) -> frozenset[str]:
        """Fields removed from every record this context reads."""
        ...

    def check_write(
        self,
        entity: type[Any],
        context: AccessContext,
        document: dict[str, Any],
        operation: Operation,
    ) -> None:
        """Raise ``AccessDeniedError`` if ``document`` may not be written."""
        ...


class PermitAllPolicy:
    """Lets every context do everything: the foundation's placeholder.

    The role-based policy replaces it; until then README's Known limitations says
    that roles are not enforced. A context is still required for every call.
    """

    def scope(
        self, entity: type[Any], context: AccessContext, operation: Operation
    ) -> dict[str, Any] | None:
        return None

    def hidden_fields(
        self, entity: type[Any], context: AccessContext
    ) -> frozenset[str]:
        return frozenset()

    def check_write(
        self,
        entity: type[Any],
        context: AccessContext,
        document: dict[str, Any],
        operation: Operation,
    ) -> None:
        return None
