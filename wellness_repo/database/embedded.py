"""The embedded, in-process backend: mongomock-motor behind an adapter that makes
it answer the way PyMongo's async API (and Beanie 2) expect.

The adapter wraps; it never patches mongomock or mongomock-motor globally, so a
consumer's own use of those libraries is unaffected. What the embedded backend
cannot do at all raises ``BackendCapabilityError`` rather than behaving
differently from a real server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from mongomock_motor import AsyncMongoMockClient
from pymongo.errors import DuplicateKeyError, InvalidOperation

from wellness_repo.database.embedded_nulls import null_safe
from wellness_repo.errors import BackendCapabilityError

__all__ = ["EmbeddedClient", "EmbeddedCollection", "EmbeddedDatabase"]

_BUILD_INFO = {"ok": 1.0, "version": "7.0.0-embedded", "versionArray": [7, 0, 0, 0]}

# Keyword arguments newer drivers pass that mongomock does not understand; they
# change nothing about the result on a single in-process node.
_IGNORED_WRITE_OPTIONS = ("comment", "sort", "let", "bypass_document_validation")


class EmbeddedClient:
    """An in-process stand-in for ``AsyncMongoClient``; all data lives in memory."""

    def __init__(self) -> None:
        self._mock: Any = AsyncMongoMockClient(tz_aware=True)
        self._databases: dict[str, EmbeddedDatabase] = {}
        self.closed = False

    def check_open(self) -> None:
        """Refuse work after close, as a real client does."""
        if self.closed:
            raise InvalidOperation("the embedded client was closed")

    def __getitem__(self, name: str) -> EmbeddedDatabase:
        return self.get_database(name)

    def get_database(self, name: str, **_options: Any) -> EmbeddedDatabase:
        """The database called ``name``; the same object for the same name."""
        if name not in self._databases:
            self._databases[name] = EmbeddedDatabase(self, self._mock[name], name)
        return self._databases[name]

    def append_metadata(self, _metadata: Any) -> None:
        """Accepts driver metadata, as Beanie offers it; nothing to record here."""

    async def drop_database(self, name: str) -> None:
        """Remove a database and everything in it."""
        self._databases.pop(name, None)
        await self._mock.drop_database(name)

    async def list_database_names(self) -> list[str]:
        """The names of the databases holding data."""
        names: list[str] = await self._mock.list_database_names()
        return names

    def start_session(self, **_options: Any) -> EmbeddedSession:
        """A session object for code that passes one along; it carries no state."""
        return EmbeddedSession(self)

    async def close(self) -> None:
        """Release the in-memory data; the client refuses work afterwards."""
        self.closed = True
        self._databases.clear()


class EmbeddedSession:
    """A do-nothing session: the embedded backend has no server-side sessions."""

    def __init__(self, client: EmbeddedClient) -> None:
        self.client = client

    async def __aenter__(self) -> EmbeddedSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def end_session(self) -> None:
        """Nothing to end."""

    def start_transaction(self, **_options: Any) -> Any:
        """Server transactions do not exist in the embedded backend."""
        raise BackendCapabilityError("multi-document transactions")


class EmbeddedDatabase:
    """One in-memory database, answering like PyMongo's ``AsyncDatabase``."""

    def __init__(self, client: EmbeddedClient, mock_db: Any, name: str) -> None:
        self.client = client
        self.name = name
        self._mock = mock_db
        self._collections: dict[str, EmbeddedCollection] = {}

    def __getitem__(self, name: str) -> EmbeddedCollection:
        return self.get_collection(name)

    def get_collection(self, name: str, **_options: Any) -> EmbeddedCollection:
        """The collection called ``name``; the same object for the same name."""
        if name not in self._collections:
            self._collections[name] = EmbeddedCollection(self, self._mock[name], name)
        return self._collections[name]

    async def list_collection_names(
        self, filter: Mapping[str, Any] | None = None, **_options: Any
    ) -> list[str]:
        """Collection names; options such as ``authorizedCollections`` are moot here."""
        names: list[str] = await self._mock.list_collection_names(filter=filter)
        return names

    async def create_collection(self, name: str, **_options: Any) -> EmbeddedCollection:
        """Create ``name`` if it does not exist yet."""
        if name not in await self.list_collection_names():
            await self._mock.create_collection(name)
        return self.get_collection(name)

    async def drop_collection(self, name: str) -> None:
        """Remove a collection and its documents."""
        self._collections.pop(name, None)
        await self._mock.drop_collection(name)

    async def command(self, command: str | Mapping[str, Any], **_options: Any) -> Any:
        """The few server commands that make sense in process: ping and buildInfo."""
        self.client.check_open()
        name = command if isinstance(command, str) else next(iter(command))
        lowered = name.lower()
        if lowered == "ping":
            return {"ok": 1.0}
        if lowered == "buildinfo":
            return dict(_BUILD_INFO)
        if lowered in ("hello", "ismaster"):
            return {"ok": 1.0, "isWritablePrimary": True, "maxWireVersion": 21}
        raise BackendCapabilityError(f"the server command {name!r}")

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], **kw: Any) -> Any:
        """Database-level aggregation is not offered by the embedded backend."""
        raise BackendCapabilityError("database-level aggregation")


class EmbeddedCollection:
    """One in-memory collection, answering like PyMongo's ``AsyncCollection``.

    Differences from mongomock-motor that this class smooths over: ``aggregate``
    and ``list_indexes`` are awaitable, and write options newer drivers pass are
    accepted.
    """

    def __init__(self, database: EmbeddedDatabase, mock_collection: Any, name: str):
        self.database = database
        self.name = name
        self.full_name = f"{database.name}.{name}"
        self._mock = mock_collection

    def __getattr__(self, name: str) -> Any:
        # Every other method (insert_many, create_index, ...) is already shaped
        # like PyMongo's async one.
        self.database.client.check_open()
        attribute = getattr(self._mock, name)
        if name in _FILTERED_METHODS:
            return _with_null_safe_filter(attribute)
        return attribute

    async def insert_one(self, document: dict[str, Any], **options: Any) -> Any:
        """Insert one document; a clash names its unique key, as a server does."""
        self.database.client.check_open()
        try:
            return await self._mock.insert_one(document, **options)
        except DuplicateKeyError:
            pattern = await self._clashing_key(document)
            raise DuplicateKeyError(
                "E11000 duplicate key error", 11000, {"keyPattern": pattern}
            ) from None

    async def _clashing_key(self, document: dict[str, Any]) -> dict[str, Any]:
        # mongomock reports a clash without saying which index; find it.
        if await self._mock.find_one({"_id": document.get("_id")}) is not None:
            return {"_id": 1}
        async for index in self._mock.list_indexes():
            if not index.get("unique"):
                continue
            keys = dict(index["key"])
            probe: dict[str, Any] = {key: _value_at(document, key) for key in keys}
            partial = index.get("partialFilterExpression")
            if partial:
                probe = {"$and": [partial, probe]}
            if await self._mock.find_one(probe) is not None:
                return keys
        return {}

    def find(self, *args: Any, **kwargs: Any) -> Any:
        """Start a cursor; ``to_list`` and ``async for`` work as with PyMongo."""
        self.database.client.check_open()
        args, kwargs = _null_safe_arguments(args, kwargs)
        kwargs.pop("max_time_ms", None)
        kwargs.pop("comment", None)
        return self._mock.find(*args, **kwargs)

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], **kw: Any) -> Any:
        """Run a pipeline; the returned cursor supports ``to_list``."""
        self.database.client.check_open()
        _reject_unsupported_stages(pipeline)
        pipeline = [
            {"$match": null_safe(stage["$match"])} if "$match" in stage else stage
            for stage in pipeline
        ]
        kw.pop("maxTimeMS", None)
        kw.pop("comment", None)
        try:
            return self._mock.aggregate(list(pipeline), **kw)
        except NotImplementedError as exc:
            raise BackendCapabilityError(
                f"this aggregation ({exc})", entity=self.name, cause=exc
            ) from None

    async def list_indexes(self, **_options: Any) -> Any:
        """The collection's indexes as a cursor."""
        return self._mock.list_indexes()

    async def bulk_write(self, requests: Sequence[Any], **options: Any) -> Any:
        """Apply write requests in order."""
        for key in _IGNORED_WRITE_OPTIONS:
            options.pop(key, None)
        return await self._mock.bulk_write(list(requests), **options)

    async def find_one_and_update(
        self, filter: dict[str, Any], update: Any, **options: Any
    ) -> Any:
        """Update one document and return it, before or after the change.

        mongomock's own find-and-modify drops the filter before applying a
        positional ``$`` path, so ``goals.$`` would change the first goal rather
        than the matched one. Its ``update_one`` keeps the filter; the steps
        below run with nothing else interleaved (mongomock never yields).
        """
        for key in _IGNORED_WRITE_OPTIONS:
            options.pop(key, None)
        filter = null_safe(filter)
        if not _has_positional_path(update):
            return await self._mock.find_one_and_update(filter, update, **options)
        self.database.client.check_open()
        mock = self._mock
        projection = options.get("projection")
        before = await mock.find_one(filter, projection, sort=options.get("sort"))
        if before is None:
            return None
        await mock.update_one({**filter, "_id": before["_id"]}, update)
        if options.get("return_document"):
            return await mock.find_one({"_id": before["_id"]}, projection)
        return before


# Methods whose first argument is a filter, which gets MongoDB's null semantics.
_FILTERED_METHODS = frozenset(
    {
        "find_one",
        "count_documents",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_delete",
        "find_one_and_replace",
    }
)


def _null_safe_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if args:
        args = (null_safe(args[0]), *args[1:])
    elif "filter" in kwargs:
        kwargs = {**kwargs, "filter": null_safe(kwargs["filter"])}
    return args, kwargs


def _with_null_safe_filter(method: Any) -> Any:
    async def call(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = _null_safe_arguments(args, kwargs)
        return await method(*args, **kwargs)

    return call


def _has_positional_path(update: Any) -> bool:
    if not isinstance(update, dict):
        return False
    return any(
        ".$." in path or path.endswith(".$")
        for fields in update.values()
        if isinstance(fields, dict)
        for path in fields
    )


def _value_at(document: dict[str, Any], dotted: str) -> Any:
    current: Any = document
    for step in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(step)
    return current


def _reject_unsupported_stages(pipeline: Sequence[Mapping[str, Any]]) -> None:
    for stage in pipeline:
        for name in stage:
            if name in ("$search", "$vectorSearch", "$merge", "$out", "$densify"):
                raise BackendCapabilityError(f"the aggregation stage {name}")
    text = repr(pipeline)
    for operator in ("$text", "$dateTrunc"):
        if operator in text:
            raise BackendCapabilityError(f"the operator {operator}")
