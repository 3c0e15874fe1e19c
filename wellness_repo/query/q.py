"""Composable lookups: ``Q(mood_rating__gte=7) | ~Q(tags__contains="sleep")``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["Q"]

Connector = Literal["and", "or"]


class Q:
    """A tree of lookups joined by AND / OR, optionally negated.

    ``Q(a=1, b=2)`` means both lookups hold; ``q1 | q2`` either; ``q1 & q2`` both;
    ``~q`` that ``q`` does not hold (a record missing the field counts as not
    matching ``q``, so it matches ``~q``).
    """

    __slots__ = ("children", "connector", "lookups", "negated")

    def __init__(self, *children: Q, **lookups: Any) -> None:
        for child in children:
            if not isinstance(child, Q):
                raise TypeError("positional arguments to Q must be Q objects")
        self.children: tuple[Q, ...] = children
        self.lookups: Mapping[str, Any] = lookups
        self.connector: Connector = "and"
        self.negated = False

    @classmethod
    def from_mapping(cls, lookups: Mapping[str, Any]) -> Q:
        """A ``Q`` of the lookups in ``lookups`` (keys need not be identifiers)."""
        q = cls()
        q.lookups = dict(lookups)
        return q

    def _combine(self, other: Q, connector: Connector) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        combined = Q(self, other)
        combined.connector = connector
        return combined

    def __and__(self, other: Q) -> Q:
        return self._combine(other, "and")

    def __or__(self, other: Q) -> Q:
        return self._combine(other, "or")

    def __invert__(self) -> Q:
        negated = Q(self)
        negated.negated = True
        return negated

    def __repr__(self) -> str:
        parts = [repr(child) for child in self.children]
        parts += [f"{key}=..." for key in self.lookups]
        body = f" {self.connector.upper()} ".join(parts) or "<all>"
        return f"~Q({body})" if self.negated else f"Q({body})"
