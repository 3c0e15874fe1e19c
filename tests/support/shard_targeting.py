"""How a mongos would route the commands a repository method sends.

A query on a sharded collection goes to one shard when its filter pins every
shard-key field to one value, to some shards when a ranged key is limited by
``$in`` or a range, and to every shard (scatter-gather) otherwise. This reads the
declared shard keys from the index specs and classifies recorded commands the
same way, so the repository audit in README is measured, not guessed. The model
is conservative: a shard key named only inside ``$or`` counts as scatter-gather,
although a mongos may narrow such a query to the shards of each branch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from wellness_repo.database.index_specs import IndexKeys, load_index_specs

_RANGE_OPERATORS = frozenset({"$gt", "$gte", "$lt", "$lte"})


class Routing(StrEnum):
    """Where a mongos sends one command."""

    TARGETED = "targeted"
    """One shard: every shard-key field equals one value."""
    MULTI = "some shards"
    """A ranged key limited by ``$in`` or a range: the shards owning those chunks."""
    SCATTER = "scatter-gather"
    """Every shard."""


def declared_shard_keys() -> dict[str, IndexKeys]:
    """The shard key of each collection whose spec declares one."""
    return {
        spec.collection: spec.shard_key
        for spec in load_index_specs()
        if spec.shard_key is not None
    }


def _conditions(query: Mapping[str, Any], field: str) -> Iterator[Any]:
    if field in query:
        yield query[field]
    for clause in query.get("$and", ()):
        if isinstance(clause, Mapping):
            yield from _conditions(clause, field)


def _field_routing(query: Mapping[str, Any], field: str, hashed: bool) -> Routing:
    best = Routing.SCATTER
    for condition in _conditions(query, field):
        if not isinstance(condition, Mapping) or not any(
            str(key).startswith("$") for key in condition
        ):
            return Routing.TARGETED
        if "$eq" in condition:
            return Routing.TARGETED
        if "$in" in condition and len(condition["$in"]) == 1:
            return Routing.TARGETED
        if "$in" in condition or (not hashed and _RANGE_OPERATORS & set(condition)):
            best = Routing.MULTI
    return best


def routing(query: Mapping[str, Any], shard_key: IndexKeys) -> Routing:
    """Where a query with this filter goes on a collection with this shard key."""
    worst = Routing.TARGETED
    for field, direction in shard_key:
        found = _field_routing(query, field, direction == "hashed")
        if found is Routing.SCATTER:
            return Routing.SCATTER
        if found is Routing.MULTI:
            worst = Routing.MULTI
    return worst


def command_queries(
    command: Mapping[str, Any],
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(collection, filter)`` for each query a recorded command runs."""
    for verb, key in (
        ("find", "filter"),
        ("count", "query"),
        ("findAndModify", "query"),
    ):
        if verb in command:
            yield str(command[verb]), command.get(key) or {}
            return
    if "aggregate" in command:
        pipeline = command.get("pipeline") or []
        first = pipeline[0] if pipeline else {}
        yield str(command["aggregate"]), first.get("$match", {})
        return
    for verb, items, key in (("update", "updates", "q"), ("delete", "deletes", "q")):
        if verb in command:
            for item in command.get(items, ()):
                yield str(command[verb]), item.get(key) or {}
            return
