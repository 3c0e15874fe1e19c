"""The index spec files: where they are, what they may say, and how they load.

Each collection's indexes are declared in one JSON file, ``indexes/<collection>.json``
in a source checkout and ``wellness_repo/_index_specs/`` in an installed wheel. This
module reads them into ``CollectionIndexes`` and rejects anything the server would
refuse or that is probably a mistake, with an error naming the file, the index and
the rule. Comparing specs with a database is ``index_comparison``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, TypeAlias

from wellness_repo.errors import RepositoryError, ValidationError

__all__ = [
    "CollectionIndexes",
    "IndexKeys",
    "IndexSpec",
    "KeyDirection",
    "find_index_spec_directory",
    "load_index_specs",
]

KeyDirection: TypeAlias = int | str
IndexKeys: TypeAlias = tuple[tuple[str, KeyDirection], ...]

_PACKAGE_DIRECTORY = Path(__file__).resolve().parent.parent
_KEY_DIRECTIONS: tuple[KeyDirection, ...] = (1, -1, "hashed", "text", "2dsphere")
_SHARD_KEY_DIRECTIONS: tuple[KeyDirection, ...] = (1, "hashed")
_FILE_FIELDS = frozenset({"collection", "shard_key", "shard_key_reason", "indexes"})
_INDEX_FIELDS = frozenset(
    {
        "name",
        "keys",
        "purpose",
        "unique",
        "sparse",
        "partial_filter",
        "expire_after_seconds",
        "collation",
    }
)
# Allowed values per collation attribute; None means any non-empty string.
_COLLATION_CHOICES: dict[str, tuple[Any, ...] | None] = {
    "locale": None,
    "caseLevel": (True, False),
    "caseFirst": ("upper", "lower", "off"),
    "strength": (1, 2, 3, 4, 5),
    "numericOrdering": (True, False),
    "alternate": ("non-ignorable", "shifted"),
    "maxVariable": ("punct", "space"),
    "backwards": (True, False),
    "normalization": (True, False),
}
_MAX_TTL_SECONDS = 2_147_483_647


@dataclass(frozen=True)
class IndexSpec:
    """One declared index: the keys a query pattern of the platform needs, and the
    rules (uniqueness, expiry, collation) the index enforces.

    Args:
        keys: ``(field, direction)`` pairs in index order; a direction is 1, -1,
            ``"hashed"``, ``"text"`` or ``"2dsphere"``.
        purpose: which query or rule the index serves; documentation only.
        partial_filter: a MongoDB ``partialFilterExpression``; only documents
            matching it are indexed.
        expire_after_seconds: a TTL: the server deletes a document this long after
            the date in the index's single key field.
        collation: a MongoDB collation document, e.g. ``{"locale": "en",
            "strength": 2}`` for case-insensitive matching.
    """

    name: str
    keys: IndexKeys
    purpose: str
    unique: bool = False
    sparse: bool = False
    partial_filter: Mapping[str, Any] | None = field(default=None, hash=False)
    expire_after_seconds: int | None = None
    collation: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class CollectionIndexes:
    """Everything one spec file declares for one collection.

    Args:
        shard_key: the declared shard key as ``(field, 1 | "hashed")`` pairs, or
            None; loaded and checked here, used when collections are sharded
            (``database.sharding``). ``"shard_key": null`` in a file declares the
            collection deliberately unsharded and needs a ``shard_key_reason``.
        shard_key_reason: why this shard key (or why none); documentation only.
        source: the spec file it was read from, for messages.
    """

    collection: str
    shard_key: IndexKeys | None
    indexes: tuple[IndexSpec, ...]
    source: Path | None = field(default=None, compare=False)
    shard_key_reason: str | None = field(default=None, compare=False)


def find_index_spec_directory(package_directory: Path = _PACKAGE_DIRECTORY) -> Path:
    """The directory holding the index spec files.

    An installed wheel carries them inside the package (``_index_specs``); a source
    checkout keeps them in ``indexes/`` beside the package. The packaged copy wins,
    so an installed package never reads specs from an unrelated working directory.

    Args:
        package_directory: the ``wellness_repo`` package directory.
    """
    candidates = (
        package_directory / "_index_specs",
        package_directory.parent / "indexes",
    )
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(candidate) for candidate in candidates)
    raise RepositoryError(f"no index spec directory found; looked in {searched}")


def load_index_specs(directory: Path | None = None) -> list[CollectionIndexes]:
    """Read and check every ``*.json`` index spec file, sorted by file name.

    Raises ``ValidationError`` naming the file, the index and the rule broken for
    the first problem found, and ``RepositoryError`` when there is no spec file.

    Args:
        directory: where the spec files are; by default the packaged or source-tree
            location found by ``find_index_spec_directory``.
    """
    source = find_index_spec_directory() if directory is None else directory
    paths = sorted(source.glob("*.json"))
    if not paths:
        raise RepositoryError(f"no index spec files (*.json) in {source}")
    return [_SpecFileReader(path).read() for path in paths]


class _DuplicateMemberError(ValueError):
    def __init__(self, member: str) -> None:
        super().__init__(member)
        self.member = member


def _reject_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys without a word; in a spec that hides
    # a typo (a key field written twice), so it is an error here.
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise _DuplicateMemberError(key)
        members[key] = value
    return members


def _is_one_of(value: Any, choices: Iterable[Any]) -> bool:
    # Compared with the type, because in Python True == 1 and 1 == 1.0.
    return any(type(value) is type(choice) and value == choice for choice in choices)


class _SpecFileReader:
    """Turns one spec file into ``CollectionIndexes`` or a precise error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, location: str, rule: str, problem: str) -> ValidationError:
        place = f"{self.path}:{location}" if location else str(self.path)
        return ValidationError(problem, field=place, rule=rule)

    def read(self) -> CollectionIndexes:
        try:
            document = json.loads(
                self.path.read_text(encoding="utf-8"),
                object_pairs_hook=_reject_duplicate_members,
            )
        except _DuplicateMemberError as exc:
            raise self.error(
                "",
                "duplicate_member",
                f"{exc.member!r} appears twice in one JSON object",
            ) from None
        except json.JSONDecodeError as exc:
            raise self.error(
                f"line {exc.lineno}",
                "json_syntax",
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            ) from None
        if not isinstance(document, dict):
            raise self.error("", "file_shape", "the file must hold one JSON object")
        self.reject_unknown_fields(document, _FILE_FIELDS, "")

        collection = self.collection_name(document.get("collection"))
        raw_indexes = document.get("indexes")
        if not isinstance(raw_indexes, list):
            raise self.error(
                "indexes", "required", "'indexes' must be a list (it may be empty)"
            )
        indexes = tuple(
            self.index(position, raw) for position, raw in enumerate(raw_indexes)
        )
        self.check_indexes_together(indexes)
        reason = self.shard_key_reason(document)
        raw_shard_key = document.get("shard_key")
        shard_key = None if raw_shard_key is None else self.shard_key(raw_shard_key)
        return CollectionIndexes(
            collection,
            shard_key,
            indexes,
            source=self.path,
            shard_key_reason=reason,
        )

    def shard_key_reason(self, document: Mapping[str, Any]) -> str | None:
        reason = document.get("shard_key_reason")
        if reason is not None and (not isinstance(reason, str) or not reason.strip()):
            raise self.error(
                "shard_key_reason",
                "shard_key_reason",
                "'shard_key_reason' must be a non-empty string saying why the "
                "collection has this shard key",
            )
        if "shard_key" in document and document["shard_key"] is None and not reason:
            raise self.error(
                "shard_key",
                "unsharded_reason",
                "'shard_key': null declares the collection unsharded; add a "
                "'shard_key_reason' saying why it stays on one shard",
            )
        return reason

    def reject_unknown_fields(
        self, raw: Mapping[str, Any], allowed: frozenset[str], location: str
    ) -> None:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            prefix = f"{location}." if location else ""
            raise self.error(
                f"{prefix}{unknown[0]}",
                "unknown_field",
                f"{unknown[0]!r} is not a spec field; expected one of "
                f"{', '.join(sorted(allowed))}",
            )

    def collection_name(self, collection: Any) -> str:
        if not isinstance(collection, str) or not collection:
            raise self.error(
                "collection", "required", "'collection' must be a non-empty string"
            )
        if collection.startswith("system.") or "$" in collection or "\0" in collection:
            raise self.error(
                "collection",
                "collection_name",
                f"{collection!r} is not a usable collection name",
            )
        if collection != self.path.stem:
            raise self.error(
                "collection",
                "file_name",
                f"declares collection {collection!r} but the file is named "
                f"{self.path.name!r}; name it {collection}.json so each collection "
                "has exactly one spec file",
            )
        return collection

    def index(self, position: int, raw: Any) -> IndexSpec:
        location = f"indexes[{position}]"
        if not isinstance(raw, dict):
            raise self.error(location, "index_shape", "an index must be a JSON object")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.error(
                f"{location}.name", "required", "every index needs a non-empty 'name'"
            )
        if name == "_id_":
            raise self.error(
                f"{location}.name",
                "reserved_name",
                "'_id_' is the server's own index on _id and is never declared",
            )
        location = f"indexes[{name}]"
        self.reject_unknown_fields(raw, _INDEX_FIELDS, location)
        purpose = raw.get("purpose")
        if not isinstance(purpose, str) or not purpose.strip():
            raise self.error(
                f"{location}.purpose",
                "required",
                "every index needs a 'purpose' saying which query or rule it serves",
            )

        keys = self.keys(location, raw.get("keys"))
        unique = self.flag(location, raw, "unique")
        sparse = self.flag(location, raw, "sparse")
        partial_filter = self.partial_filter(location, raw.get("partial_filter"))
        ttl = self.expire_after_seconds(location, raw.get("expire_after_seconds"), keys)
        raw_collation = raw.get("collation")
        collation = (
            None if raw_collation is None else self.collation(location, raw_collation)
        )

        self.check_option_combinations(
            location, keys, unique, sparse, partial_filter, collation
        )
        return IndexSpec(
            name=name,
            keys=keys,
            purpose=purpose,
            unique=unique,
            sparse=sparse,
            partial_filter=partial_filter,
            expire_after_seconds=ttl,
            collation=collation,
        )

    def keys(self, location: str, raw: Any) -> IndexKeys:
        where = f"{location}.keys"
        if not isinstance(raw, dict) or not raw:
            raise self.error(
                where,
                "required",
                "'keys' must be a non-empty JSON object of field: direction, "
                "in index order",
            )
        for field_name, direction in raw.items():
            self.check_field_path(f"{where}.{field_name}", field_name)
            if not _is_one_of(direction, _KEY_DIRECTIONS):
                raise self.error(
                    f"{where}.{field_name}",
                    "key_direction",
                    f"direction {direction!r} is not one of 1, -1, 'hashed', "
                    "'text', '2dsphere'",
                )
        keys: IndexKeys = tuple(raw.items())
        directions = [direction for _, direction in keys]
        if directions.count("hashed") > 1:
            raise self.error(
                where, "one_hashed_field", "an index may hash only one field"
            )
        text_positions = [
            i for i, direction in enumerate(directions) if direction == "text"
        ]
        if text_positions and (
            text_positions[-1] - text_positions[0] + 1 != len(text_positions)
        ):
            raise self.error(
                where,
                "text_fields_adjacent",
                "the 'text' fields of an index must be next to each other",
            )
        return keys

    def check_field_path(self, where: str, field_name: str) -> None:
        if field_name.startswith("$") or "" in field_name.split("."):
            raise self.error(
                where,
                "field_name",
                "a key must be a field path with no empty parts and no leading '$'",
            )

    def flag(self, location: str, raw: Mapping[str, Any], option: str) -> bool:
        value = raw.get(option, False)
        if not isinstance(value, bool):
            raise self.error(
                f"{location}.{option}", "boolean", f"'{option}' must be true or false"
            )
        return value

    def partial_filter(self, location: str, raw: Any) -> Mapping[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or not raw:
            raise self.error(
                f"{location}.partial_filter",
                "partial_filter_shape",
                "'partial_filter' must be a non-empty JSON object "
                "(a MongoDB partialFilterExpression)",
            )
        return raw

    def expire_after_seconds(
        self, location: str, raw: Any, keys: IndexKeys
    ) -> int | None:
        where = f"{location}.expire_after_seconds"
        if raw is None:
            return None
        # bool is an int subclass, and true is not a number of seconds.
        if type(raw) is not int:
            raise self.error(
                where, "ttl_seconds", "'expire_after_seconds' must be a whole number"
            )
        if not 0 <= raw <= _MAX_TTL_SECONDS:
            raise self.error(
                where,
                "ttl_seconds",
                f"'expire_after_seconds' must be from 0 to {_MAX_TTL_SECONDS}",
            )
        if len(keys) != 1 or not _is_one_of(keys[0][1], (1, -1)):
            raise self.error(
                where,
                "ttl_single_field",
                "a TTL index must have exactly one ascending or descending key, "
                "the date field that starts the countdown",
            )
        if keys[0][0] == "_id":
            raise self.error(where, "ttl_on_id", "the server refuses a TTL on _id")
        return raw

    def collation(self, location: str, raw: Any) -> Mapping[str, Any]:
        where = f"{location}.collation"
        if not isinstance(raw, dict):
            raise self.error(
                where, "collation_shape", "'collation' must be a JSON object"
            )
        self.reject_unknown_fields(raw, frozenset(_COLLATION_CHOICES), where)
        locale = raw.get("locale")
        if not isinstance(locale, str) or not locale:
            raise self.error(
                f"{where}.locale", "required", "a collation needs a 'locale', e.g. 'en'"
            )
        if locale == "simple":
            raise self.error(
                f"{where}.locale",
                "simple_collation",
                "locale 'simple' is plain binary comparison, which is what an index "
                "without a collation does; leave 'collation' out",
            )
        for attribute, value in raw.items():
            choices = _COLLATION_CHOICES[attribute]
            if choices is not None and not _is_one_of(value, choices):
                allowed = ", ".join(json.dumps(choice) for choice in choices)
                raise self.error(
                    f"{where}.{attribute}",
                    "collation_value",
                    f"{json.dumps(value)} is not one of {allowed}",
                )
        return raw

    def check_option_combinations(
        self,
        location: str,
        keys: IndexKeys,
        unique: bool,
        sparse: bool,
        partial_filter: Mapping[str, Any] | None,
        collation: Mapping[str, Any] | None,
    ) -> None:
        directions = {direction for _, direction in keys}
        if unique and "hashed" in directions:
            raise self.error(
                f"{location}.unique",
                "unique_hashed",
                "a hashed index cannot enforce uniqueness; declare a separate "
                "ascending unique index",
            )
        if sparse and partial_filter is not None:
            raise self.error(
                f"{location}.sparse",
                "sparse_with_partial_filter",
                "the server refuses 'sparse' together with 'partial_filter'; "
                "an $exists condition in the filter does what sparse does",
            )
        if collation is not None and "text" in directions:
            raise self.error(
                f"{location}.collation",
                "text_collation",
                "a text index cannot have a collation",
            )

    def check_indexes_together(self, indexes: tuple[IndexSpec, ...]) -> None:
        names: set[str] = set()
        for spec in indexes:
            if spec.name in names:
                raise self.error(
                    f"indexes[{spec.name}]",
                    "unique_name",
                    "two indexes of the collection share this name",
                )
            names.add(spec.name)
        text_indexes = [spec for spec in indexes if _is_text_index(spec.keys)]
        if len(text_indexes) > 1:
            raise self.error(
                f"indexes[{text_indexes[1].name}]",
                "one_text_index",
                f"a collection can have one text index; {text_indexes[0].name!r} "
                "is already one",
            )
        for earlier, later in combinations(indexes, 2):
            # The server tells indexes on equal keys apart only by these options.
            if (
                earlier.keys == later.keys
                and earlier.partial_filter == later.partial_filter
                and earlier.collation == later.collation
            ):
                raise self.error(
                    f"indexes[{later.name}]",
                    "duplicate_definition",
                    f"same keys, partial filter and collation as {earlier.name!r}; "
                    "the server keeps only one such index",
                )

    def shard_key(self, raw: Any) -> IndexKeys:
        if not isinstance(raw, dict) or not raw:
            raise self.error(
                "shard_key",
                "shard_key_shape",
                "'shard_key' must be a non-empty JSON object of field: 1 or 'hashed'",
            )
        for field_name, direction in raw.items():
            self.check_field_path(f"shard_key.{field_name}", field_name)
            if not _is_one_of(direction, _SHARD_KEY_DIRECTIONS):
                raise self.error(
                    f"shard_key.{field_name}",
                    "shard_key_direction",
                    f"{direction!r} is not 1 or 'hashed'",
                )
        if list(raw.values()).count("hashed") > 1:
            raise self.error(
                "shard_key", "one_hashed_field", "a shard key may hash only one field"
            )
        return tuple(raw.items())


def _is_text_index(keys: Iterable[tuple[str, Any]]) -> bool:
    return any(direction == "text" for _, direction in keys)
