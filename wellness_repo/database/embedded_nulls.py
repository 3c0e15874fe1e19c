"""Making the embedded backend answer null tests through sub-documents as MongoDB
does.

MongoDB treats ``contact.name`` as missing, hence null, when ``contact`` itself is
null; mongomock finds no value there and so answers ``{"contact.name": None}`` with
nothing. :func:`null_safe` rewrites such tests before mongomock sees them, adding
"or some parent step is null" (and the negation for ``$ne``/``$nin``). Checked
against a real mongod on thousands of generated filters. It relies on lists never
holding null elements, which the package's models guarantee.
"""

from __future__ import annotations

from typing import Any

__all__ = ["null_safe"]

_LOGICAL = ("$and", "$or", "$nor")


def null_safe(query: Any) -> Any:
    """``query`` with null tests on dotted paths made to match null parents."""
    if not isinstance(query, dict) or not query:
        return query
    parts: list[dict[str, Any]] = []
    for key, condition in query.items():
        if key in _LOGICAL and isinstance(condition, list):
            parts.append({key: [null_safe(item) for item in condition]})
        elif "." in key and not key.startswith("$"):
            parts.append(_dotted(key, condition))
        else:
            parts.append({key: _inside(condition)})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _inside(condition: Any) -> Any:
    if isinstance(condition, dict) and isinstance(condition.get("$elemMatch"), dict):
        inner = condition["$elemMatch"]
        if any(not key.startswith("$") or key in _LOGICAL for key in inner):
            return {**condition, "$elemMatch": null_safe(inner)}
    return condition


def _null_parents(key: str) -> list[dict[str, Any]]:
    steps = key.split(".")
    return [{".".join(steps[:end]): None} for end in range(1, len(steps))]


def _dotted(key: str, condition: Any) -> dict[str, Any]:
    parents = _null_parents(key)
    if condition is None:
        return {"$or": [{key: None}, *parents]}
    if isinstance(condition, dict) and len(condition) == 1:
        ((operator, value),) = condition.items()
        if operator == "$ne" and value is None:
            return {"$nor": [{key: None}, *parents]}
        if operator == "$in" and isinstance(value, list) and None in value:
            return {"$or": [{key: condition}, *parents]}
        if operator == "$nin" and isinstance(value, list) and None in value:
            return {"$nor": [{key: {"$in": value}}, *parents]}
    return {key: _inside(condition)}
