"""Sharding the declared collections on a sharded cluster, from the index specs.

Each ``indexes/<collection>.json`` declares a ``shard_key`` (or ``null`` for a
collection that deliberately stays on the database's primary shard). This module
checks those keys against the declared indexes, and builds and sends the admin
commands a ``mongos`` needs: ``enableSharding`` for the database, then one
``shardCollection`` per collection that is not sharded yet. It refuses to talk to
anything but a ``mongos``, skips collections already sharded on the declared key,
and reports a collection sharded on another key as drift (a shard key is changed
with ``reshardCollection``, deliberately, never by this tool).

The spec, not this tool, declares the index behind each shard key: MongoDB needs
an index that starts with the shard key before a non-empty collection can be
sharded, and ``indexes apply`` builds it from the spec like every other index, so
``indexes check`` never sees it as unknown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wellness_repo.database.index_specs import CollectionIndexes, IndexKeys
from wellness_repo.errors import RepositoryError, ValidationError

__all__ = [
    "ClusterAdmin",
    "MongosAdmin",
    "NotAMongosError",
    "ShardKeyDrift",
    "ShardingPlan",
    "apply_sharding",
    "check_shard_keys",
    "format_sharding_plan",
    "plan_sharding",
    "run_shard_command",
    "shard_collection_command",
    "supporting_index",
]

_log = logging.getLogger("wellness_repo.database.sharding")
_MONGOS_HELLO_MESSAGE = "isdbgrid"


class NotAMongosError(RepositoryError):
    """The server is not a ``mongos``: shard commands are refused before any is sent.

    Args:
        server: what the server said it is, e.g. ``"replica set rs0"``.
    """

    def __init__(self, server: str) -> None:
        super().__init__(
            f"--shard needs a mongos router of a sharded cluster, but the URI points "
            f"at a {server} (hello.msg is not {_MONGOS_HELLO_MESSAGE!r}); connect to "
            "a mongos, or leave out --shard on an unsharded deployment"
        )
        self.server = server


class ClusterAdmin(Protocol):
    """What sharding needs from a cluster: admin commands and the sharded keys.

    ``MongosAdmin`` is the real one; tests pass a recording fake.
    """

    async def command(self, command: Mapping[str, Any]) -> Mapping[str, Any]:
        """Run one command on the ``admin`` database and return its reply."""
        ...

    async def sharded_keys(self, database: str) -> dict[str, IndexKeys]:
        """The shard key of each sharded collection of ``database``, by name."""
        ...


class MongosAdmin:
    """``ClusterAdmin`` over a PyMongo async client connected to a ``mongos``.

    Args:
        client: an ``AsyncMongoClient``; its ``admin`` and ``config`` databases are
            used.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    async def command(self, command: Mapping[str, Any]) -> Mapping[str, Any]:
        """Run one command on the ``admin`` database (key order is kept)."""
        reply: Mapping[str, Any] = await self._client.admin.command(dict(command))
        return reply

    async def sharded_keys(self, database: str) -> dict[str, IndexKeys]:
        """Read ``config.collections`` for the collections of ``database``."""
        prefix = f"{database}."
        cursor = self._client.config.collections.find(
            {"_id": {"$gte": prefix, "$lt": f"{database}/"}},
            {"key": 1, "dropped": 1, "unsplittable": 1},
        )
        keys: dict[str, IndexKeys] = {}
        async for document in cursor:
            namespace = str(document["_id"])
            # Before MongoDB 5.0 a dropped collection kept its entry, marked
            # dropped; from 8.0 an unsharded collection may be tracked there too,
            # marked unsplittable.
            if (
                document.get("dropped")
                or document.get("unsplittable")
                or not namespace.startswith(prefix)
            ):
                continue
            keys[namespace[len(prefix) :]] = tuple(dict(document["key"]).items())
        return keys


@dataclass(frozen=True)
class ShardKeyDrift:
    """A collection already sharded on a different key than its spec declares;
    ``declared`` is empty when the spec keeps the collection unsharded."""

    collection: str
    declared: IndexKeys
    actual: IndexKeys


@dataclass(frozen=True)
class ShardingPlan:
    """What ``--shard`` would do to one database, and what it leaves alone.

    Args:
        commands: the admin commands to send, in order (``enableSharding``
            first); empty when every declared key is already in place.
        already_sharded: collections sharded on their declared key.
        unsharded: collections whose spec says ``"shard_key": null``.
        undeclared: collections whose spec says nothing about a shard key.
        drift: collections sharded on another key than declared.
    """

    database: str
    commands: tuple[Mapping[str, Any], ...]
    already_sharded: tuple[str, ...]
    unsharded: tuple[str, ...]
    undeclared: tuple[str, ...]
    drift: tuple[ShardKeyDrift, ...]

    @property
    def collections_to_shard(self) -> tuple[str, ...]:
        """The collections a ``shardCollection`` command is planned for."""
        prefix = f"{self.database}."
        return tuple(
            str(command["shardCollection"])[len(prefix) :]
            for command in self.commands
            if "shardCollection" in command
        )


def _keys_text(keys: Iterable[tuple[str, Any]]) -> str:
    return json.dumps(dict(keys))


def _spec_error(spec: CollectionIndexes, rule: str, problem: str) -> ValidationError:
    place = spec.source if spec.source is not None else spec.collection
    return ValidationError(problem, field=f"{place}:shard_key", rule=rule)


def supporting_index(spec: CollectionIndexes) -> str | None:
    """The name of the first declared index that can back the spec's shard key.

    MongoDB needs an index whose keys start with the shard key, field for field
    and direction for direction (``"hashed"`` for a hashed key), that is neither
    sparse nor partial and uses the simple collation. None when no index
    qualifies or the spec declares no shard key.
    """
    if spec.shard_key is None:
        return None
    if spec.shard_key == (("_id", 1),):
        return "_id_"
    width = len(spec.shard_key)
    for index in spec.indexes:
        if (
            index.keys[:width] == spec.shard_key
            and not index.sparse
            and index.partial_filter is None
            and index.collation is None
        ):
            return index.name
    return None


def _check_one(spec: CollectionIndexes) -> None:
    key = spec.shard_key
    if key is None:
        return
    if supporting_index(spec) is None:
        raise _spec_error(
            spec,
            "shard_key_index",
            f"no declared index can back the shard key {_keys_text(key)}: declare "
            "one whose keys start with exactly these fields and directions, not "
            "sparse, not partial, without a collation",
        )
    key_fields = tuple(field_name for field_name, _ in key)
    for index in spec.indexes:
        fields = tuple(field_name for field_name, _ in index.keys)
        if index.unique and fields[: len(key_fields)] != key_fields:
            raise _spec_error(
                spec,
                "unique_index_prefix",
                f"unique index {index.name!r} does not start with the shard key "
                f"fields {', '.join(key_fields)}; a sharded cluster refuses to "
                "shard a collection with such an index",
            )


def check_shard_keys(specs: Iterable[CollectionIndexes]) -> None:
    """Check every declared shard key against its collection's indexes.

    Raises ``ValidationError`` naming the spec file and the rule for the first
    problem: ``shard_key_index`` when no declared index can back the key, and
    ``unique_index_prefix`` when a unique index does not start with the key's
    fields (the cluster could not enforce it, and refuses to shard).
    """
    for spec in specs:
        _check_one(spec)


def shard_collection_command(
    database: str, spec: CollectionIndexes, *, initial_chunks: int | None = None
) -> dict[str, Any]:
    """The ``shardCollection`` command for one spec.

    ``unique`` is always false: uniqueness is enforced by the spec's own unique
    indexes, and a hashed key cannot be unique. ``numInitialChunks`` is added only
    for a hashed key and only when asked for: it presplits an empty collection on
    MongoDB 5.0 to 7.0; newer servers ignore it and place one chunk per shard.

    Args:
        initial_chunks: chunks to presplit an empty hashed collection into.
    """
    if spec.shard_key is None:
        raise ValidationError(
            f"collection {spec.collection!r} declares no shard key",
            field=f"{spec.collection}:shard_key",
            rule="shard_key_required",
        )
    command: dict[str, Any] = {
        "shardCollection": f"{database}.{spec.collection}",
        "key": dict(spec.shard_key),
        "unique": False,
    }
    hashed = any(direction == "hashed" for _, direction in spec.shard_key)
    if initial_chunks is not None and hashed:
        if type(initial_chunks) is not int or initial_chunks < 1:
            raise ValidationError(
                "initial_chunks must be a positive whole number",
                field="initial_chunks",
                rule="initial_chunks",
            )
        command["numInitialChunks"] = initial_chunks
    return command


async def _require_mongos(admin: ClusterAdmin) -> None:
    hello = await admin.command({"hello": 1})
    if hello.get("msg") == _MONGOS_HELLO_MESSAGE:
        return
    set_name = hello.get("setName")
    server = f"replica set {set_name!r}" if set_name else "standalone mongod"
    raise NotAMongosError(server)


async def plan_sharding(
    admin: ClusterAdmin,
    database: str,
    specs: Sequence[CollectionIndexes],
    *,
    initial_chunks: int | None = None,
) -> ShardingPlan:
    """Check the specs and the server, and plan the commands without sending any.

    Raises ``ValidationError`` for a spec whose shard key no index can back, and
    ``NotAMongosError`` when ``admin`` is not a ``mongos``.
    """
    check_shard_keys(specs)
    await _require_mongos(admin)
    sharded = await admin.sharded_keys(database)
    commands: list[Mapping[str, Any]] = []
    already: list[str] = []
    unsharded: list[str] = []
    undeclared: list[str] = []
    drift: list[ShardKeyDrift] = []
    for spec in sorted(specs, key=lambda spec: spec.collection):
        declared = spec.shard_key
        actual = sharded.get(spec.collection)
        if declared is None:
            if actual is not None:
                drift.append(ShardKeyDrift(spec.collection, (), actual))
                continue
            target = unsharded if spec.shard_key_reason else undeclared
            target.append(spec.collection)
            continue
        if actual is None:
            commands.append(
                shard_collection_command(database, spec, initial_chunks=initial_chunks)
            )
        elif actual == declared:
            already.append(spec.collection)
        else:
            drift.append(ShardKeyDrift(spec.collection, declared, actual))
    if commands:
        # Needed before MongoDB 6.0, harmless (and idempotent) from 6.0 on.
        commands.insert(0, {"enableSharding": database})
    return ShardingPlan(
        database=database,
        commands=tuple(commands),
        already_sharded=tuple(already),
        unsharded=tuple(unsharded),
        undeclared=tuple(undeclared),
        drift=tuple(drift),
    )


async def apply_sharding(admin: ClusterAdmin, plan: ShardingPlan) -> None:
    """Send the plan's commands in order; the first refusal stops the run.

    Every command is idempotent on the server (sharding a collection again on
    the same key succeeds), so a run stopped half-way is finished by running again.
    """
    for command in plan.commands:
        await admin.command(command)
    _log.info(
        "sharding: %d collection(s) sharded, %d already sharded, %d drifted",
        len(plan.collections_to_shard),
        len(plan.already_sharded),
        len(plan.drift),
    )


def format_sharding_plan(plan: ShardingPlan, *, dry_run: bool) -> str:
    """The plan as text: each command as ``db.adminCommand(...)`` for mongosh,
    then what was skipped and what drifted."""
    verb = "would run" if dry_run else "ran"
    lines = [f"sharding {plan.database}: {verb} {len(plan.commands)} command(s)"]
    lines += [f"  db.adminCommand({json.dumps(dict(c))})" for c in plan.commands]
    if plan.already_sharded:
        lines.append(f"already sharded: {', '.join(plan.already_sharded)}")
    if plan.unsharded:
        lines.append(f"unsharded by design: {', '.join(plan.unsharded)}")
    if plan.undeclared:
        lines.append(f"no shard key declared: {', '.join(plan.undeclared)}")
    for drift in plan.drift:
        wanted = _keys_text(drift.declared) if drift.declared else "no shard key"
        lines.append(
            f"DRIFT {drift.collection}: sharded on {_keys_text(drift.actual)}, "
            f"spec declares {wanted}; change it deliberately (reshardCollection, "
            "or unshardCollection from MongoDB 8.0)"
        )
    return "\n".join(lines)


async def run_shard_command(
    admin: ClusterAdmin,
    database: str,
    specs: Sequence[CollectionIndexes],
    *,
    dry_run: bool = False,
    check: bool = False,
    initial_chunks: int | None = None,
) -> tuple[int, str]:
    """Plan, then (unless ``dry_run`` or ``check``) shard; return exit code and text.

    Exit code 0: every declared key is in place (``dry_run`` always 0 unless there
    is drift); 1: drift, or with ``check`` a collection still to shard. Raises
    ``NotAMongosError`` before sending anything to a server that is not a mongos.
    """
    plan = await plan_sharding(admin, database, specs, initial_chunks=initial_chunks)
    if not (dry_run or check):
        await apply_sharding(admin, plan)
    text = format_sharding_plan(plan, dry_run=dry_run or check)
    pending = check and bool(plan.collections_to_shard)
    return (1 if plan.drift or pending else 0), text
