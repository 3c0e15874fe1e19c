"""Validators for reading stored records back: the model's own, less the Python
steps whose work the stored document already holds.

A record is validated in full before it is written, and what is stored is what
reads back. Reading it validates every field again (types, bounds, patterns, in
pydantic-core's compiled code), but two kinds of Python step repeat nothing on a
document the current schema wrote:

- normalising a datetime to UTC milliseconds: BSON keeps nothing else, and both
  backends' clients decode it as UTC-aware (``connect`` sets that and refuses
  driver options that would change it);
- model validators marked :func:`stored_derivation`: checks across fields, and
  values derived from others, that ran when the record was written and whose
  results were stored with it.

Each Python call costs about as much as validating two fields, on every record of
a page of a thousand. A document an older schema wrote is upgraded by migrations
and then validated in full, with every step.

pydantic-core reuses a complete model's own compiled validator wherever that
model appears in a schema, unless the model's validator is wrapped by a
model-level one. So the read validator differs from the model's own only for
models with a model-level validator (``MoodEntry``, ``TherapySession``,
``Medication``, ...); the others, and every sub-document, read through their own
validators, datetime normalisation included, which is correct and as fast as
before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from pydantic_core import CoreSchema, SchemaValidator

from wellness_repo.models.types import require_utc

__all__ = ["read_validator", "stored_derivation"]

F = TypeVar("F", bound=Callable[..., Any])

_STORED: set[Callable[..., Any]] = {require_utc}
_READERS: dict[type[BaseModel], SchemaValidator] = {}
_KEPT_AS_IS = frozenset({"cls", "metadata", "serialization", "function"})


def stored_derivation(function: F) -> F:
    """Mark a model validator whose checks and derived values are stored with
    the record, so reading a current-schema document need not run it again.

    Apply it under ``@model_validator``; only a validator whose every effect
    is kept in the stored document qualifies.
    """
    _STORED.add(function)
    return function


def read_validator(model: type[BaseModel]) -> SchemaValidator:
    """The validator that reads ``model``'s current-schema documents."""
    validator = _READERS.get(model)
    if validator is None:
        schema = _without_stored(cast(dict[str, Any], model.__pydantic_core_schema__))
        validator = _READERS[model] = SchemaValidator(cast(CoreSchema, schema))
    return validator


def _without_stored(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_stored(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "function-after" and node["function"]["function"] in (
        _STORED
    ):
        inner = dict(_without_stored(node["schema"]))
        if inner.get("type") == "datetime":
            # Only a decoded BSON date: text that merely parses as one is not.
            inner["strict"] = True
        if "ref" in node:
            inner.setdefault("ref", node["ref"])
        return inner
    return {
        key: value if key in _KEPT_AS_IS else _without_stored(value)
        for key, value in node.items()
    }
