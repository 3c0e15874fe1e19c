"""Access policy: the stage of the pipeline that decides what a context may see and
change, expressed as Mongo filters so counts and pages stay correct."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

from wellness_repo.security.context import AccessContext

__all__ = ["AccessPolicy", "Operation", "PermitAllPolicy", "Redactor"]


class Operation(StrEnum):
    """What a repository call does to the records it touches."""

    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Redactor(Protocol):
    """A reader's rule for fields visible on some records only."""

    def __call__(self, document: Mapping[str, Any]) -> frozenset[str]:
        """The names of ``document``'s fields the reader may not see."""
        ...

    def visible_where(self, field: str) -> Mapping[str, Any] | None:
        """A condition matching exactly the records on which a filter may test
        ``field`` for this reader; ``None`` when the rule never hides it.

        The condition must not depend on the hidden values themselves (not even
        on whether they are set), or which records it matches would tell them.
        """
        ...


class AccessPolicy(Protocol):
    """Decides, per access context and kind of record, what a call may touch.

    A policy may also define ``async attach(db)`` (called once at connect, to reach
    the collections it consults) and ``async close()``.
    """

    async def scope(
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

    def redactor(self, entity: type[Any], context: AccessContext) -> Redactor | None:
        """A per-record rule for fields visible on some records only.

        ``None`` (the common case) means no field depends on the record, so reads
        pay nothing for this stage.
        """
        ...

    async def check_write(
        self,
        entity: type[Any],
        context: AccessContext,
        document: dict[str, Any],
        operation: Operation,
    ) -> None:
        """Raise ``AccessDeniedError`` if ``document`` may not be written."""
        ...


class PermitAllPolicy:
    """Lets every context do everything.

    For single-tenant tools and tests that exercise storage alone; a service uses
    the role policy, which ``connect`` installs by default. A context is still
    required for every call.
    """

    async def scope(
        self, entity: type[Any], context: AccessContext, operation: Operation
    ) -> dict[str, Any] | None:
        return None

    def hidden_fields(
        self, entity: type[Any], context: AccessContext
    ) -> frozenset[str]:
        return frozenset()

    def redactor(self, entity: type[Any], context: AccessContext) -> Redactor | None:
        return None

    async def check_write(
        self,
        entity: type[Any],
        context: AccessContext,
        document: dict[str, Any],
        operation: Operation,
    ) -> None:
        return None
