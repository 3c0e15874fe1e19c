"""Compiling lookups (``mood_rating__gte=7``) into MongoDB filters, sorts, projections
and cursor conditions, checked against the model.

Every value passes through the field's type, so a lookup value can never become
an operator: a mapping where a value belongs is refused, and so is any key that
starts with ``$``. Text operators escape the value before building a regular
expression.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import bson
from pydantic import BaseModel

from wellness_repo.errors import ValidationError
from wellness_repo.query.fields import FieldPath, resolve_path, to_storage
from wellness_repo.query.q import Q

__all__ = [
    "OPERATORS",
    "CompiledQuery",
    "EncryptedLookup",
    "FieldGuard",
    "compile_filters",
    "compile_projection",
    "compile_sort",
    "cursor_condition",
    "decode_cursor",
    "encode_cursor",
]

OPERATORS = frozenset(
    {
        "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "range",
        "contains", "icontains", "startswith", "istartswith", "endswith",
        "iendswith", "iexact", "regex", "iregex", "isnull", "exists", "all",
        "size", "elem_match",
    }
)  # fmt: skip
_TEXT_OPERATORS = frozenset(
    {"icontains", "startswith", "istartswith", "endswith", "iendswith", "iexact"}
)
_RANGE_OPERATORS = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
_ENCRYPTED_OPERATORS = frozenset({"eq", "in", "isnull"})
_ELEMENT_OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})
MAX_IN_VALUES = 1000
MAX_LOOKUPS = 64
MAX_NESTING = 20
"""Deepest nesting of ``Q`` objects (and/or/not, elem_match) a query may have:
the server refuses deeply nested filters, and Python's recursion would give
out long before a tree built by hand gets there."""
MAX_REGEX_LENGTH = 256

FieldGuard = Callable[[str, str], Mapping[str, Any] | None]
"""Consulted for every lookup with its top-level stored field (``_id``,
``session_notes``) and its key as written: raises ``ValidationError`` to refuse
the lookup, or returns a condition the lookup's own is joined with (``None``: as
it stands). The repository builds one from the access policy, so a filter can
never test a field the reader may not see."""


@dataclass(frozen=True, slots=True)
class EncryptedLookup:
    """A lookup value that must be encrypted before the query is sent."""

    path: str
    value: Any


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A MongoDB filter, and whether it holds values still to be encrypted."""

    filter: dict[str, Any]
    has_encrypted_values: bool = False


@dataclass(frozen=True, slots=True)
class _Lookup:
    path: FieldPath
    operator: str
    negated: bool


def compile_filters(
    model: type[BaseModel],
    filters: Mapping[str, Any] | Q | None,
    *,
    regex_max_length: int = MAX_REGEX_LENGTH,
    guard: FieldGuard | None = None,
) -> CompiledQuery:
    """Compile lookups or a ``Q`` tree for ``model`` into a MongoDB filter.

    ``guard``, when given, sees every top-level lookup (see :data:`FieldGuard`);
    lookups inside ``elem_match`` belong to the guarded list field.

    Raises:
        ValidationError: naming the lookup key and the rule it broke.
    """
    if filters is None:
        return CompiledQuery({})
    state = _State(model, regex_max_length, guard)
    if isinstance(filters, Q):
        query = state.compile_q(filters)
    elif isinstance(filters, Mapping):
        query = state.compile_mapping(filters)
    else:
        raise ValidationError(
            "filters must be a mapping of lookups or a Q", field="filters", rule="type"
        )
    return CompiledQuery(query, state.encrypted)


class _State:
    __slots__ = (
        "depth", "encrypted", "guard", "lookups", "model", "regex_max_length",
    )  # fmt: skip

    def __init__(
        self,
        model: type[BaseModel],
        regex_max_length: int,
        guard: FieldGuard | None = None,
    ) -> None:
        self.model = model
        self.regex_max_length = regex_max_length
        self.guard = guard
        self.encrypted = False
        self.lookups = 0
        self.depth = 0

    def compile_q(self, q: Q) -> dict[str, Any]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ValidationError(
                f"filters nest at most {MAX_NESTING} levels deep",
                field="filters",
                rule="max_nesting",
            )
        parts = [self.compile_mapping(q.lookups)] if q.lookups else []
        parts += [self.compile_q(child) for child in q.children]
        self.depth -= 1
        if q.connector == "or" and len(parts) > 1:
            node: dict[str, Any] = {"$or": parts}
        else:
            node = _merge_and(parts)
        if q.negated:
            return {"$nor": [node]}
        return node

    def compile_mapping(self, lookups: Mapping[str, Any]) -> dict[str, Any]:
        return _merge_and([self.compile_lookup(key, lookups[key]) for key in lookups])

    def compile_lookup(self, key: str, value: Any) -> dict[str, Any]:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise ValidationError(
                f"at most {MAX_LOOKUPS} lookups per query",
                field=key,
                rule="max_lookups",
            )
        if not isinstance(key, str):
            raise ValidationError(
                "lookup keys must be strings", field=str(key), rule="type"
            )
        lookup = _parse_key(self.model, key)
        condition = self._condition(lookup, key, value)
        if lookup.negated:
            condition = {"$nor": [condition]}
        if self.guard is not None:
            # Joined outside the `not` prefix: a lookup on a field the reader
            # cannot see on a record never matches that record, negated or not.
            field = lookup.path.mongo_path.partition(".")[0]
            visible = self.guard(field, key)
            if visible is not None:
                condition = {"$and": [condition, dict(visible)]}
        return condition

    def _condition(self, lookup: _Lookup, key: str, value: Any) -> dict[str, Any]:
        path, operator = lookup.path, lookup.operator
        if path.encryption is not None:
            return self._encrypted_condition(path, operator, key, value)
        target = path.mongo_path
        if operator == "eq":
            return {target: _coerce_eq(path, key, value)}
        if operator == "ne":
            return {target: {"$ne": _coerce_eq(path, key, value)}}
        if operator in _RANGE_OPERATORS:
            _require(path.is_orderable, key, operator, "values that can be ordered")
            return {
                target: {_RANGE_OPERATORS[operator]: _coerce_present(path, key, value)}
            }
        if operator in ("in", "nin"):
            values = [
                _coerce_nullable(path, key, item) for item in _sequence(key, value)
            ]
            return {target: {f"${operator}": values}}
        if operator == "range":
            bounds = _range(path, key, value)
            if path.list_path is None:
                return {target: bounds}
            # On a list, one value must lie within both bounds: MongoDB would
            # otherwise let one element meet the low bound and another the high.
            prefix, rest = path.list_path
            inner = {rest: bounds} if rest else bounds
            return {prefix: {"$elemMatch": inner}}
        if operator == "isnull":
            return {target: None} if _boolean(key, value) else {target: {"$ne": None}}
        if operator == "exists":
            return {target: {"$exists": _boolean(key, value)}}
        if operator == "contains":
            if path.is_list:
                return {target: _coerce_present(path, key, value)}
            _require(path.is_text, key, operator, "text or lists")
            return {target: {"$regex": re.escape(_text(key, value))}}
        if operator in _TEXT_OPERATORS:
            _require(path.is_text, key, operator, "text")
            return {target: _text_pattern(operator, _text(key, value), path.is_list)}
        if operator in ("regex", "iregex"):
            _require(path.is_text, key, operator, "text")
            return {target: self._regex(key, value, operator == "iregex")}
        if operator == "all":
            _require(path.is_list, key, operator, "lists")
            values = [
                _coerce_present(path, key, item) for item in _sequence(key, value)
            ]
            if not values:
                raise ValidationError(
                    "all needs at least one value", field=key, rule="non_empty"
                )
            return {target: {"$all": values}}
        if operator == "size":
            _require(path.is_list, key, operator, "lists")
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(
                    "size must be a whole number", field=key, rule="type"
                )
            if value < 0:
                raise ValidationError(
                    "size must be 0 or more", field=key, rule="minimum"
                )
            return {target: {"$size": value}}
        if operator == "elem_match":
            return {target: {"$elemMatch": self._elem_match(path, key, value)}}
        raise AssertionError(f"operator {operator} has no compilation")

    def _encrypted_condition(
        self, path: FieldPath, operator: str, key: str, value: Any
    ) -> dict[str, Any]:
        assert path.encryption is not None
        if operator == "eq" and value is None:
            # As on every other field, ``=None`` means isnull: absence is stored
            # in the clear, so it needs no encrypted lookup.
            operator, value = "isnull", True
        allowed = _ENCRYPTED_OPERATORS if path.encryption.queryable else {"isnull"}
        if operator not in allowed:
            raise ValidationError(
                f"{path.name} is stored encrypted; it allows only "
                + ", ".join(sorted(allowed)),
                field=key,
                rule="encrypted_field",
            )
        if operator == "isnull":
            flag = _boolean(key, value)
            return {path.mongo_path: None} if flag else {path.mongo_path: {"$ne": None}}
        self.encrypted = True
        if operator == "in":
            items = [
                EncryptedLookup(path.mongo_path, _coerce_present(path, key, item))
                for item in _sequence(key, value)
            ]
            return {path.mongo_path: {"$in": items}}
        lookup = EncryptedLookup(path.mongo_path, _coerce_present(path, key, value))
        return {path.mongo_path: lookup}

    def _regex(self, key: str, value: Any, ignore_case: bool) -> dict[str, Any]:
        pattern = _text(key, value)
        if len(pattern) > self.regex_max_length:
            raise ValidationError(
                f"a regular expression may be {self.regex_max_length} characters long",
                field=key,
                rule="max_length",
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(
                f"not a valid regular expression ({exc.msg})",
                field=key,
                rule="regex_syntax",
            ) from None
        return (
            {"$regex": pattern, "$options": "i"} if ignore_case else {"$regex": pattern}
        )

    def _elem_match(self, path: FieldPath, key: str, value: Any) -> dict[str, Any]:
        _require(path.is_list, key, "elem_match", "lists")
        if path.element_model is not None:
            nested = _State(path.element_model, self.regex_max_length)
            # The limits hold for the whole query, sub-lookups included.
            nested.lookups, nested.depth = self.lookups, self.depth + 1
            try:
                if isinstance(value, Q):
                    compiled = nested.compile_q(value)
                elif isinstance(value, Mapping):
                    compiled = nested.compile_mapping(value)
                else:
                    compiled = None
            except ValidationError as inner:
                # Name the whole lookup, so the caller can find the bad part.
                raise ValidationError(
                    inner.message,
                    field=f"{key}.{inner.field}",
                    rule=inner.rule,
                ) from None
            if compiled is None:
                raise ValidationError(
                    "elem_match takes a mapping of lookups on the list's items",
                    field=key,
                    rule="type",
                )
            self.encrypted = self.encrypted or nested.encrypted
            self.lookups = nested.lookups
            if not compiled:
                raise ValidationError(
                    "elem_match needs at least one lookup", field=key, rule="non_empty"
                )
            return compiled
        if not isinstance(value, Mapping) or not value:
            raise ValidationError(
                "elem_match on a list of values takes operators, e.g. {'gte': 3}",
                field=key,
                rule="type",
            )
        conditions: dict[str, Any] = {}
        for operator, operand in value.items():
            if operator not in _ELEMENT_OPERATORS:
                allowed = ", ".join(sorted(_ELEMENT_OPERATORS))
                raise ValidationError(
                    f"elem_match on values allows {allowed}",
                    field=f"{key}.{operator}",
                    rule="unknown_operator",
                )
            if operator in ("in", "nin"):
                conditions[f"${operator}"] = [
                    _coerce_present(path, key, item) for item in _sequence(key, operand)
                ]
            else:
                conditions[f"${operator}"] = _coerce_present(path, key, operand)
        return conditions


@lru_cache(maxsize=8192)
def _parse_key(model: type[BaseModel], key: str) -> _Lookup:
    parts = tuple(key.split("__"))
    for part in parts:
        if not part:
            raise ValidationError("empty step in lookup", field=key, rule="syntax")
        if part.startswith("$"):
            raise ValidationError(
                "operators cannot be given as keys; use name__operator",
                field=key,
                rule="operator_injection",
            )
        if "." in part:
            raise ValidationError(
                "separate nested fields with __, not dots", field=key, rule="syntax"
            )
    operator = "eq"
    if len(parts) > 1 and parts[-1] in OPERATORS:
        operator, parts = parts[-1], parts[:-1]
    negated = False
    if len(parts) > 1 and parts[-1] == "not":
        negated, parts = True, parts[:-1]
    return _Lookup(resolve_path(model, parts), operator, negated)


def _merge_and(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for condition in conditions:
        for field, test in condition.items():
            if field in merged:
                return {"$and": conditions}
            merged[field] = test
    return merged


def _require(ok: bool, key: str, operator: str, applies_to: str) -> None:
    if not ok:
        raise ValidationError(
            f"{operator} applies only to fields holding {applies_to}",
            field=key,
            rule="operator_type",
        )


def _reject_mappings(key: str, value: Any) -> None:
    if isinstance(value, Mapping):
        raise ValidationError(
            "expected a value, got a mapping (operators are not values)",
            field=key,
            rule="scalar_expected",
        )


def _coerce_present(path: FieldPath, key: str, value: Any) -> Any:
    _reject_mappings(key, value)
    if value is None:
        raise ValidationError("a value is required here", field=key, rule="not_null")
    return path.coerce(value, key=key)


def _coerce_nullable(path: FieldPath, key: str, value: Any) -> Any:
    _reject_mappings(key, value)
    return None if value is None else path.coerce(value, key=key)


def _coerce_eq(path: FieldPath, key: str, value: Any) -> Any:
    if path.is_list and isinstance(value, list | tuple):
        # A whole list compares with the whole stored list, in order.
        return [_coerce_present(path, key, item) for item in value]
    return _coerce_nullable(path, key, value)


def _sequence(key: str, value: Any) -> list[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(
        value, list | tuple | set | frozenset
    ):
        raise ValidationError(
            "expected a list of values", field=key, rule="list_expected"
        )
    if len(value) > MAX_IN_VALUES:
        raise ValidationError(
            f"at most {MAX_IN_VALUES} values", field=key, rule="max_items"
        )
    return list(value)


def _range(path: FieldPath, key: str, value: Any) -> dict[str, Any]:
    _require(path.is_orderable, key, "range", "values that can be ordered")
    bounds = _sequence(key, value)
    if len(bounds) != 2:
        raise ValidationError(
            "range takes exactly two bounds, (low, high)", field=key, rule="range"
        )
    low, high = (_coerce_present(path, key, bound) for bound in bounds)
    if low > high:
        raise ValidationError(
            "range's low bound is above its high bound", field=key, rule="range"
        )
    return {"$gte": low, "$lte": high}


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("expected true or false", field=key, rule="type")
    return value


def _text(key: str, value: Any) -> str:
    _reject_mappings(key, value)
    if not isinstance(value, str):
        raise ValidationError("expected text", field=key, rule="type")
    return value


def _text_pattern(operator: str, text: str, is_list: bool) -> dict[str, Any]:
    escaped = re.escape(text)
    if operator == "icontains":
        pattern = f"^{escaped}$" if is_list else escaped
    elif operator.endswith("startswith"):
        pattern = f"^{escaped}"
    elif operator.endswith("endswith"):
        pattern = f"{escaped}$"
    else:
        pattern = f"^{escaped}$"
    if operator.startswith("i"):
        return {"$regex": pattern, "$options": "i"}
    return {"$regex": pattern}


def compile_sort(
    model: type[BaseModel], order_by: Sequence[str]
) -> list[tuple[str, int]]:
    """Compile ``order_by`` into a MongoDB sort, ending with ``_id`` ascending.

    Lists, encrypted fields and sub-documents cannot be sorted on: their order
    would not mean anything a caller could rely on, and a page cursor carries
    only plain values.
    """
    sort: list[tuple[str, int]] = []
    for entry in order_by:
        if not isinstance(entry, str) or entry in ("", "-"):
            raise ValidationError(
                "order_by takes field names", field="order_by", rule="type"
            )
        descending = entry.startswith("-")
        name = entry[1:] if descending else entry
        path = _resolve_argument(model, "order_by", name, name)
        if path.through_list or path.encryption is not None or not path.is_sortable:
            raise ValidationError(
                "cannot sort on a list, a sub-document or an encrypted field",
                field=f"order_by.{name}",
                rule="not_sortable",
            )
        if any(existing == path.mongo_path for existing, _ in sort):
            raise ValidationError(
                "field named twice", field=f"order_by.{name}", rule="duplicate"
            )
        sort.append((path.mongo_path, -1 if descending else 1))
    if not any(field == "_id" for field, _ in sort):
        sort.append(("_id", 1))
    return sort


def compile_projection(
    model: type[BaseModel], fields: Sequence[str], always: Sequence[str] = ()
) -> dict[str, int]:
    """A projection returning ``fields`` plus the id and the ``always`` paths."""
    projection = {"_id": 1}
    for name in fields:
        path = _resolve_argument(model, "fields", name, name.replace(".", "__"))
        projection[path.mongo_path] = 1
    for stored in always:
        projection[stored] = 1
    return _drop_nested_duplicates(projection)


def _resolve_argument(
    model: type[BaseModel], argument: str, given: str, lookup: str
) -> FieldPath:
    """The field named ``given`` in the ``argument`` of ``QueryOptions`` (``lookup``
    is its ``__`` form); an unknown one is refused as ``argument.given``, like
    every other rule there."""
    try:
        return resolve_path(model, tuple(lookup.split("__")))
    except ValidationError as exc:
        raise ValidationError(
            exc.message, field=f"{argument}.{given}", rule=exc.rule
        ) from None


def _drop_nested_duplicates(projection: dict[str, int]) -> dict[str, int]:
    # MongoDB refuses a projection naming both "goals" and "goals.status".
    kept = sorted(projection)
    return {
        path: 1
        for path in kept
        if not any(path.startswith(parent + ".") for parent in kept if parent != path)
    }


def encode_cursor(sort: Sequence[tuple[str, int]], document: Mapping[str, Any]) -> str:
    """An opaque token that resumes a listing after ``document``."""
    values = [_value_at(document, field) for field, _ in sort]
    payload = bson.encode(
        {"k": [[field, direction] for field, direction in sort], "v": values}
    )
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_cursor(sort: Sequence[tuple[str, int]], token: str) -> list[Any]:
    """The sort-key values stored in ``token``; checks it fits this listing."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = bson.decode(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, bson.errors.BSONError, UnicodeError):
        raise ValidationError(
            "not a cursor this service issued", field="after", rule="cursor"
        ) from None
    keys: Any = payload.get("k")
    values: Any = payload.get("v")
    well_formed = (
        isinstance(keys, list)
        and all(isinstance(pair, list) and len(pair) == 2 for pair in keys)
        and isinstance(values, list)
        and len(values) == len(keys)
        # Values become comparison operands: a forged cursor must not smuggle
        # operators (or documents) in as values.
        and all(isinstance(value, _CURSOR_VALUE_TYPES) for value in values)
    )
    if not well_formed or not isinstance(keys, list) or not isinstance(values, list):
        raise ValidationError(
            "not a cursor this service issued", field="after", rule="cursor"
        )
    if [tuple(pair) for pair in keys] != [tuple(pair) for pair in sort]:
        raise ValidationError(
            "the cursor belongs to a listing with another order",
            field="after",
            rule="cursor_mismatch",
        )
    return values


_CURSOR_VALUE_TYPES = (
    str,
    int,
    float,
    bool,
    type(None),
    datetime,
    bson.ObjectId,
    bson.Decimal128,
)


def cursor_condition(
    sort: Sequence[tuple[str, int]], values: Sequence[Any]
) -> dict[str, Any]:
    """The filter selecting records that sort after the given key values.

    Missing and null values sort first in ascending order (MongoDB's rule), so
    they are handled apart: nothing sorts below null, and in descending order
    every null comes after every value.
    """
    branches: list[dict[str, Any]] = []
    for index, (field, direction) in enumerate(sort):
        equal = {
            prior: values[position] for position, (prior, _) in enumerate(sort[:index])
        }
        after = _after(field, direction, values[index])
        if after is None:
            continue
        branches.append(_merge_and([equal, after]) if equal else after)
    if not branches:
        return {"_id": {"$in": []}}
    return branches[0] if len(branches) == 1 else {"$or": branches}


def _after(field: str, direction: int, value: Any) -> dict[str, Any] | None:
    if direction == 1:
        return {field: {"$ne": None}} if value is None else {field: {"$gt": value}}
    if value is None:
        return None
    return {"$or": [{field: {"$lt": value}}, {field: None}]}


def _value_at(document: Mapping[str, Any], dotted: str) -> Any:
    current: Any = document
    for step in dotted.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(step)
    return to_storage(current)
