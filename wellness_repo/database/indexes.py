"""The index tool: create the declared indexes a database lacks and report drift.

The JSON files in ``indexes/`` (shipped in the wheel as ``wellness_repo/_index_specs``)
are the only place an index is declared, one file per collection; see
``index_specs``. ``apply_indexes`` creates every declared index the database lacks
and reports, without touching them, two kinds of drift: an index that differs from
its declaration (same name with other keys or options, or the declared keys under
another name), and an index no declaration names. It never rebuilds or drops a
drifted index: changing an index on a live clinical collection is a decision for a
person, not for a deploy step. Indexes no declaration names are dropped only when
the caller asks with ``drop_unknown``.

Running it twice changes nothing the second time, and two deploy hosts may run it at
once: when the server answers that a competing build got there first, the state is
read again and classified, never treated as a failure.

Backend differences. The embedded backend refuses declarations with a collation
(``BackendCapabilityError``), because mongomock would store the index without it and
so would neither enforce nor report it. It records TTL, text and 2dsphere indexes as
declared, but never expires documents and cannot run text or geo queries; of all
index behaviour it enforces only uniqueness (partial uniqueness included).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal, TypeAlias

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from wellness_repo.database.embedded import EmbeddedDatabase
from wellness_repo.database.index_comparison import (
    IndexDrift,
    IndexName,
    IndexPlan,
    PlannedIndex,
    UnknownIndex,
    compare_indexes,
    describe_keys,
)
from wellness_repo.database.index_specs import (
    CollectionIndexes,
    IndexSpec,
    find_index_spec_directory,
    load_index_specs,
)
from wellness_repo.errors import (
    BackendCapabilityError,
    RepositoryError,
    ValidationError,
    translate_driver_error,
)

__all__ = [
    "CollectionIndexes",
    "IndexAction",
    "IndexDrift",
    "IndexName",
    "IndexPlan",
    "IndexReport",
    "IndexSpec",
    "IndexedDatabase",
    "PlannedIndex",
    "UnknownIndex",
    "apply_indexes",
    "compare_indexes",
    "find_index_spec_directory",
    "format_report",
    "load_index_specs",
    "plan_indexes",
    "run_index_command",
]

logger = logging.getLogger("wellness_repo.indexes")

IndexAction: TypeAlias = Literal["apply", "check", "plan"]
IndexedDatabase: TypeAlias = AsyncDatabase[Any] | EmbeddedDatabase

# IndexAlreadyExists, IndexOptionsConflict, IndexKeySpecsConflict: the answers a
# createIndexes gets when another process built that name or those keys first.
_RACE_ANSWER_CODES = frozenset({68, 85, 86})
_RACE_ATTEMPTS = 5
_RACE_PAUSE_SECONDS = 0.2
_INDEX_NOT_FOUND = 27
_COMMAND_NOT_SUPPORTED_ON_VIEW = 166


@dataclass(frozen=True)
class IndexReport:
    """What an index run did (or, for a dry run, would do) and the drift it found.

    Args:
        created: indexes this run created; for a dry run, those it would create.
        in_sync: declared indexes already present as declared (including ones a
            concurrent run created first).
        drifted: declared indexes present in another form; left as they are.
        unknown: indexes no spec declares, whether or not they were dropped.
        dropped: the unknown indexes removed because ``drop_unknown`` was asked;
            for a dry run, those it would remove.
        dry_run: True when nothing was changed.
    """

    created: tuple[IndexName, ...] = ()
    in_sync: tuple[IndexName, ...] = ()
    drifted: tuple[IndexDrift, ...] = ()
    unknown: tuple[UnknownIndex, ...] = ()
    dropped: tuple[IndexName, ...] = ()
    dry_run: bool = False

    @property
    def matches_specs(self) -> bool:
        """Whether the database holds exactly the declared indexes after this run.

        A dry run changed nothing, so whatever it would create or drop still counts
        against it.
        """
        if self.drifted:
            return False
        if self.dry_run:
            return not self.created and not self.unknown
        dropped = set(self.dropped)
        return all(index.index_name in dropped for index in self.unknown)


def _by_collection(specs: Iterable[CollectionIndexes]) -> dict[str, CollectionIndexes]:
    declared: dict[str, CollectionIndexes] = {}
    for collection_indexes in specs:
        name = collection_indexes.collection
        if name in declared:
            raise ValidationError(
                f"collection {name!r} is declared twice; one spec per collection",
                field="collection",
                rule="one_spec_per_collection",
            )
        declared[name] = collection_indexes
    return declared


def _require_backend_support(
    database: IndexedDatabase, declared: Iterable[CollectionIndexes]
) -> None:
    if not isinstance(database, EmbeddedDatabase):
        return
    for collection_indexes in declared:
        for spec in collection_indexes.indexes:
            if spec.collation is not None:
                raise BackendCapabilityError(
                    f"index collation (index {spec.name!r})",
                    entity=collection_indexes.collection,
                )


async def _read_indexes(
    database: IndexedDatabase, collection: str
) -> Sequence[Mapping[str, Any]] | None:
    """The collection's index descriptions; None when the name is a view."""
    try:
        cursor = await database[collection].list_indexes()
        documents: Sequence[Mapping[str, Any]] = await cursor.to_list()
    except OperationFailure as exc:
        if exc.code == _COMMAND_NOT_SUPPORTED_ON_VIEW:
            return None
        raise translate_driver_error(exc, entity=collection) from None
    return documents


async def plan_indexes(
    database: IndexedDatabase, specs: Sequence[CollectionIndexes]
) -> IndexPlan:
    """Compare every declared collection, and every other collection present, with
    the specs; changes nothing.

    Collections no spec file names are included so that their indexes show up as
    unknown: the spec files are the only place indexes may be declared.
    """
    declared = _by_collection(specs)
    _require_backend_support(database, declared.values())
    present = await database.list_collection_names()
    undeclared = sorted(
        name
        for name in present
        if name not in declared and not name.startswith("system.")
    )

    plans: list[IndexPlan] = []
    for collection in [*declared, *undeclared]:
        documents = await _read_indexes(database, collection)
        if documents is None and collection in declared:
            raise RepositoryError(
                "a view cannot carry indexes; its spec file should not exist",
                entity=collection,
            )
        if documents is not None:
            collection_indexes = declared.get(collection) or CollectionIndexes(
                collection, None, ()
            )
            plans.append(compare_indexes(collection_indexes, documents))

    return IndexPlan(
        to_create=tuple(chain.from_iterable(plan.to_create for plan in plans)),
        in_sync=tuple(chain.from_iterable(plan.in_sync for plan in plans)),
        drifted=tuple(chain.from_iterable(plan.drifted for plan in plans)),
        unknown=tuple(chain.from_iterable(plan.unknown for plan in plans)),
    )


def _creation_options(spec: IndexSpec) -> dict[str, Any]:
    options: dict[str, Any] = {"name": spec.name}
    if spec.unique:
        options["unique"] = True
    if spec.sparse:
        options["sparse"] = True
    if spec.partial_filter is not None:
        options["partialFilterExpression"] = dict(spec.partial_filter)
    if spec.expire_after_seconds is not None:
        options["expireAfterSeconds"] = spec.expire_after_seconds
    if spec.collation is not None:
        options["collation"] = dict(spec.collation)
    return options


def _is_race_answer(exc: OperationFailure) -> bool:
    if exc.code in _RACE_ANSWER_CODES:
        return True
    # mongomock has no error codes; this is how it says the name is already taken.
    return exc.code is None and "already exists" in str(exc)


def _is_already_gone(exc: OperationFailure) -> bool:
    if exc.code == _INDEX_NOT_FOUND:
        return True
    return exc.code is None and "not found" in str(exc)


def _index_entity(collection: str, name: str) -> str:
    return f"index {name!r} on {collection!r}"


async def _create_declared_index(
    database: IndexedDatabase, declared: CollectionIndexes, spec: IndexSpec
) -> Literal["created", "present"] | IndexDrift:
    collection = declared.collection
    for attempt in range(_RACE_ATTEMPTS):
        try:
            await database[collection].create_index(
                list(spec.keys), **_creation_options(spec)
            )
        except OperationFailure as exc:
            if not _is_race_answer(exc):
                entity = _index_entity(collection, spec.name)
                raise translate_driver_error(exc, entity=entity) from None
        else:
            logger.info("created index %s on %s", spec.name, collection)
            return "created"

        # Between our plan and our create, another process built an index with
        # this name or these keys. What is there now decides the outcome.
        current = compare_indexes(
            declared, await _read_indexes(database, collection) or []
        )
        if IndexName(collection, spec.name) in current.in_sync:
            logger.info(
                "index %s on %s was created by a concurrent run", spec.name, collection
            )
            return "present"
        for drift in current.drifted:
            if drift.name == spec.name:
                return drift
        # listIndexes leaves out builds still in progress, so the index the server
        # named may become visible only once the other process's build finishes.
        await asyncio.sleep(_RACE_PAUSE_SECONDS * (attempt + 1))
    raise RepositoryError(
        "the server kept reporting a conflicting index that listIndexes does not show",
        entity=_index_entity(collection, spec.name),
    )


async def _drop_unknown_index(database: IndexedDatabase, index: UnknownIndex) -> None:
    try:
        await database[index.collection].drop_index(index.name)
    except OperationFailure as exc:
        # A concurrent run dropping the same index first is the outcome we want.
        if not _is_already_gone(exc):
            entity = _index_entity(index.collection, index.name)
            raise translate_driver_error(exc, entity=entity) from None
    logger.info("dropped undeclared index %s on %s", index.name, index.collection)


async def apply_indexes(
    database: IndexedDatabase,
    specs: Sequence[CollectionIndexes],
    *,
    dry_run: bool = False,
    drop_unknown: bool = False,
) -> IndexReport:
    """Create every declared index the database lacks and report all drift.

    Drifted indexes are never changed or dropped. Safe to run again and to run
    from several deploy hosts at once.

    Args:
        specs: the declarations, usually ``load_index_specs()``.
        dry_run: change nothing; the report says what a real run would do.
        drop_unknown: also drop indexes no spec declares. Do not use it while hosts
            with older specs may still run, or they will drop each other's indexes.
    """
    plan = await plan_indexes(database, specs)
    would_drop = (
        tuple(index.index_name for index in plan.unknown) if drop_unknown else ()
    )
    if dry_run:
        return IndexReport(
            created=tuple(planned.index_name for planned in plan.to_create),
            in_sync=plan.in_sync,
            drifted=plan.drifted,
            unknown=plan.unknown,
            dropped=would_drop,
            dry_run=True,
        )

    declared = _by_collection(specs)
    created: list[IndexName] = []
    in_sync = list(plan.in_sync)
    drifted = list(plan.drifted)
    for planned in plan.to_create:
        outcome = await _create_declared_index(
            database, declared[planned.collection], planned.spec
        )
        if isinstance(outcome, IndexDrift):
            drifted.append(outcome)
        elif outcome == "created":
            created.append(planned.index_name)
        else:
            in_sync.append(planned.index_name)
    if drop_unknown:
        for index in plan.unknown:
            await _drop_unknown_index(database, index)

    return IndexReport(
        created=tuple(created),
        in_sync=tuple(in_sync),
        drifted=tuple(drifted),
        unknown=plan.unknown,
        dropped=would_drop,
    )


def format_report(report: IndexReport) -> str:
    """The report as text for a person running a deploy: per collection what was
    created, what is in sync, and every drift with its reason."""
    created_label = "to create" if report.dry_run else "created"
    dropped_label = "to drop" if report.dry_run else "dropped"
    dropped = set(report.dropped)
    rows: list[tuple[str, str, str]] = [
        *((index.collection, created_label, index.name) for index in report.created),
        *((index.collection, "in sync", index.name) for index in report.in_sync),
        *(
            (drift.collection, "DRIFT", f"{drift.name}: {drift.reason}")
            for drift in report.drifted
        ),
        *(
            (
                index.collection,
                dropped_label if index.index_name in dropped else "UNKNOWN",
                f"{index.name} {describe_keys(index.keys)}",
            )
            for index in report.unknown
        ),
    ]

    heading = "Index plan (dry run, nothing changed)" if report.dry_run else "Indexes"
    lines = [heading]
    for collection in sorted({row[0] for row in rows}):
        lines.append(f"  {collection}")
        lines.extend(
            f"    {label:<10} {text}"
            for owner, label, text in rows
            if owner == collection
        )
    lines.append(
        f"{len(report.created)} {created_label}, {len(report.in_sync)} in sync, "
        f"{len(report.drifted)} drifted, {len(report.unknown)} unknown"
        + (f", {len(report.dropped)} {dropped_label}" if report.dropped else "")
    )
    if report.matches_specs:
        lines.append("The database matches the index specs.")
    elif report.drifted:
        lines.append(
            "The database does not match the index specs: drifted indexes are "
            "never changed automatically; fix the spec or the index by hand."
        )
    else:
        lines.append("The database does not match the index specs.")
    return "\n".join(lines)


async def run_index_command(
    action: IndexAction,
    database: IndexedDatabase,
    *,
    specs: Sequence[CollectionIndexes] | None = None,
    drop_unknown: bool = False,
) -> tuple[int, str]:
    """Run one index command the way the deploy script and the CLI offer it, and
    return its exit code and the text to show.

    ``apply`` creates what is missing; ``check`` and ``plan`` change nothing. Exit
    code 0 means the database matches the specs once the command is done (``plan``
    always returns 0: it only shows the plan); 1 means drift, or for ``check``
    anything missing.

    Args:
        specs: the declarations; by default ``load_index_specs()``.
        drop_unknown: with ``apply``, drop indexes no spec declares.
    """
    if action not in ("apply", "check", "plan"):
        raise ValidationError(
            f"unknown index command {action!r}; use apply, check or plan",
            field="action",
            rule="index_action",
        )
    declared = load_index_specs() if specs is None else specs
    report = await apply_indexes(
        database, declared, dry_run=action != "apply", drop_unknown=drop_unknown
    )
    exit_code = 0 if action == "plan" or report.matches_specs else 1
    return exit_code, format_report(report)
