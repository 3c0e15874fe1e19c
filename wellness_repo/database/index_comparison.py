"""Comparing declared indexes with the index descriptions a server reports.

Pure functions over plain values, so every normalisation rule is tested without a
database. The server does not hand back what it was given: it adds a version
field, fills a collation with the locale's defaults, stores text keys as
``_fts``/``_ftsx`` plus weights, may turn a TTL of ``3600.0`` into ``3600``, and
treats ``{"status": "active"}`` and ``{"status": {"$eq": "active"}}`` as one partial
filter. Each of those is taken into account so that only real differences are
reported as drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wellness_repo.database.index_specs import CollectionIndexes, IndexSpec

__all__ = [
    "IndexDrift",
    "IndexName",
    "IndexPlan",
    "PlannedIndex",
    "UnknownIndex",
    "compare_indexes",
    "describe_keys",
]

# Fields the server adds to every index description that say nothing about what
# the index does.
_SERVER_BOOKKEEPING = frozenset(
    {"v", "key", "name", "ns", "background", "textIndexVersion", "2dsphereIndexVersion"}
)
_COMPARED_OPTIONS = frozenset(
    {
        "unique",
        "sparse",
        "partialFilterExpression",
        "expireAfterSeconds",
        "collation",
        "weights",
    }
)
_TEXT_INDEX_DEFAULTS: dict[str, Any] = {
    "default_language": "english",
    "language_override": "language",
}


@dataclass(frozen=True)
class IndexName:
    """Where an index lives: its collection and its name."""

    collection: str
    name: str

    def __str__(self) -> str:
        return f"{self.collection}.{self.name}"


@dataclass(frozen=True)
class PlannedIndex:
    """A declared index the database does not have yet."""

    collection: str
    spec: IndexSpec

    @property
    def index_name(self) -> IndexName:
        """The collection and name the index will have."""
        return IndexName(self.collection, self.spec.name)


@dataclass(frozen=True)
class IndexDrift:
    """A declared index the database holds differently, with the reason in words.

    Args:
        name: the declared index's name.
        reason: what differs, e.g. ``unique is false on the server but true in
            the spec``; names fields and options, never document values.
    """

    collection: str
    name: str
    reason: str


@dataclass(frozen=True)
class UnknownIndex:
    """An index in the database that no spec declares.

    Args:
        keys: its key pattern as the server reports it.
    """

    collection: str
    name: str
    keys: tuple[tuple[str, Any], ...]

    @property
    def index_name(self) -> IndexName:
        """The collection and name of the index."""
        return IndexName(self.collection, self.name)


@dataclass(frozen=True)
class IndexPlan:
    """How a database's indexes stand against the specs, before anything changes."""

    to_create: tuple[PlannedIndex, ...] = ()
    in_sync: tuple[IndexName, ...] = ()
    drifted: tuple[IndexDrift, ...] = ()
    unknown: tuple[UnknownIndex, ...] = ()


def _same_value(first: Any, second: Any) -> bool:
    if isinstance(first, Mapping) and isinstance(second, Mapping):
        return set(first) == set(second) and all(
            _same_value(first[key], second[key]) for key in first
        )
    if isinstance(first, list | tuple) and isinstance(second, list | tuple):
        return len(first) == len(second) and all(
            _same_value(left, right) for left, right in zip(first, second, strict=True)
        )
    if isinstance(first, bool) or isinstance(second, bool):
        return type(first) is type(second) and first == second
    return bool(first == second)


def _is_operator_document(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(str(key).startswith("$") for key in value)
    )


def _canonical_filter(expression: Mapping[str, Any]) -> dict[str, Any]:
    # The server treats {"status": "active"} and {"status": {"$eq": "active"}} as
    # the same filter; writing both as $eq keeps that from looking like drift.
    canonical: dict[str, Any] = {}
    for key, value in expression.items():
        if key in ("$and", "$or", "$nor") and isinstance(value, list):
            canonical[key] = [
                _canonical_filter(part) if isinstance(part, Mapping) else part
                for part in value
            ]
        elif key.startswith("$") or _is_operator_document(value):
            canonical[key] = value
        else:
            canonical[key] = {"$eq": value}
    return canonical


def _same_filter(
    declared: Mapping[str, Any] | None, actual: Mapping[str, Any] | None
) -> bool:
    if declared is None or actual is None:
        return declared is None and actual is None
    return _same_value(_canonical_filter(declared), _canonical_filter(actual))


def _declared_form(index_document: Mapping[str, Any]) -> list[tuple[str, Any]]:
    # A real server stores the text fields of an index as _fts/_ftsx plus a weights
    # document; this turns them back into "field": "text" pairs as a spec has them.
    keys = list(index_document["key"].items())
    if "_fts" not in index_document["key"]:
        return keys
    text_fields = [(name, "text") for name in index_document.get("weights", {})]
    expanded: list[tuple[str, Any]] = []
    for name, direction in keys:
        if name == "_fts":
            expanded.extend(text_fields)
        elif name != "_ftsx":
            expanded.append((name, direction))
    return expanded


def _text_run_sorted(keys: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    # Text fields have no order of their own (the server keeps them as weights),
    # so the run of them is compared as a set.
    ordered = list(keys)
    positions = [i for i, (_, direction) in enumerate(ordered) if direction == "text"]
    if positions:
        start, end = positions[0], positions[-1] + 1
        ordered[start:end] = sorted(ordered[start:end])
    return ordered


def _same_keys(
    declared: Iterable[tuple[str, Any]], actual: Iterable[tuple[str, Any]]
) -> bool:
    left, right = _text_run_sorted(declared), _text_run_sorted(actual)
    return len(left) == len(right) and all(
        left_name == right_name and _same_value(left_direction, right_direction)
        for (left_name, left_direction), (right_name, right_direction) in zip(
            left, right, strict=True
        )
    )


def _show(value: Any) -> str:
    if value is None:
        return "none"
    return json.dumps(value, default=str)


def describe_keys(keys: Iterable[tuple[str, Any]]) -> str:
    """Key pairs as a person reads them: ``(user_id: 1, created_at: -1)``."""
    return (
        "(" + ", ".join(f"{name}: {_show(direction)}" for name, direction in keys) + ")"
    )


def _collation_differences(
    declared: Mapping[str, Any] | None, actual: Mapping[str, Any] | None
) -> list[str]:
    # Only the attributes the spec states are compared: the server fills in the
    # rest with the locale's own defaults (fr_CA sorts accents backwards, da puts
    # upper case first), which differ per locale and cannot be known here.
    if actual is None:
        if declared is None:
            return []
        return [
            f"the server has no collation but the spec has locale "
            f"{_show(declared['locale'])}"
        ]
    if declared is None:
        return [
            f"collation locale {_show(actual.get('locale'))} is on the server "
            "but the spec has no collation"
        ]
    return [
        f"collation {attribute} is {_show(actual.get(attribute))} on the server "
        f"but {_show(value)} in the spec"
        for attribute, value in declared.items()
        if not _same_value(actual.get(attribute), value)
    ]


def _option_differences(
    spec: IndexSpec, index_document: Mapping[str, Any]
) -> list[str]:
    differences: list[str] = []
    for option, declared_flag in (("unique", spec.unique), ("sparse", spec.sparse)):
        actual_flag = bool(index_document.get(option, False))
        if actual_flag != declared_flag:
            differences.append(
                f"{option} is {_show(actual_flag)} on the server but "
                f"{_show(declared_flag)} in the spec"
            )
    actual_filter = index_document.get("partialFilterExpression")
    if not _same_filter(spec.partial_filter, actual_filter):
        differences.append(
            f"partial filter is {_show(actual_filter)} on the server but "
            f"{_show(spec.partial_filter)} in the spec"
        )
    actual_ttl = index_document.get("expireAfterSeconds")
    declared_ttl = spec.expire_after_seconds
    # The server may hand back a TTL given as 3600.0 as the integer 3600.
    if (actual_ttl is None) != (declared_ttl is None) or (
        actual_ttl is not None and float(actual_ttl) != float(declared_ttl or 0)
    ):
        differences.append(
            f"expire_after_seconds is {_show(actual_ttl)} on the server but "
            f"{_show(declared_ttl)} in the spec"
        )
    differences.extend(
        _collation_differences(spec.collation, index_document.get("collation"))
    )
    weights = index_document.get("weights")
    if isinstance(weights, Mapping) and any(
        not _same_value(weight, 1) for weight in weights.values()
    ):
        differences.append(
            f"text weights are {_show(weights)} on the server but equal in the spec"
        )
    for option, value in index_document.items():
        if option in _SERVER_BOOKKEEPING or option in _COMPARED_OPTIONS:
            continue
        if option in _TEXT_INDEX_DEFAULTS and value == _TEXT_INDEX_DEFAULTS[option]:
            continue
        differences.append(
            f"option {option}={_show(value)} is set on the server but not in the spec"
        )
    return differences


def compare_indexes(
    declared: CollectionIndexes, existing: Sequence[Mapping[str, Any]]
) -> IndexPlan:
    """Compare one collection's declared indexes with the index descriptions the
    server's ``listIndexes`` returned for it, without touching the database.

    A declared index is in sync when an index of the same name has the same keys
    and options; it drifted when that index differs, or when its keys exist under
    another name (the server would refuse a second copy); otherwise it is to be
    created. Every other index except ``_id_`` is unknown.
    """
    collection = declared.collection
    by_name = {
        document["name"]: document
        for document in existing
        if document["name"] != "_id_"
    }
    declared_names = {spec.name for spec in declared.indexes}
    unclaimed = [
        document for name, document in by_name.items() if name not in declared_names
    ]
    to_create: list[PlannedIndex] = []
    in_sync: list[IndexName] = []
    drifted: list[IndexDrift] = []

    for spec in declared.indexes:
        document = by_name.get(spec.name)
        if document is not None:
            differences = _option_differences(spec, document)
            actual_keys = _declared_form(document)
            if not _same_keys(spec.keys, actual_keys):
                differences.insert(
                    0,
                    f"keys are {describe_keys(actual_keys)} on the server but "
                    f"{describe_keys(spec.keys)} in the spec",
                )
            if differences:
                drifted.append(
                    IndexDrift(collection, spec.name, "; ".join(differences))
                )
            else:
                in_sync.append(IndexName(collection, spec.name))
            continue
        twin = next(
            (
                candidate
                for candidate in unclaimed
                if _same_keys(spec.keys, _declared_form(candidate))
            ),
            None,
        )
        if twin is None:
            to_create.append(PlannedIndex(collection, spec))
            continue
        unclaimed.remove(twin)
        # Taking the twin over would mean renaming it, which only a drop can do.
        reason = f"its keys are on the server as index {twin['name']!r}"
        differences = _option_differences(spec, twin)
        if differences:
            reason += " with other options: " + "; ".join(differences)
        drifted.append(IndexDrift(collection, spec.name, reason))

    unknown = tuple(
        UnknownIndex(collection, document["name"], tuple(_declared_form(document)))
        for document in unclaimed
    )
    return IndexPlan(tuple(to_create), tuple(in_sync), tuple(drifted), unknown)
