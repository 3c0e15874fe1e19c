"""Connecting to a database: the ``DatabaseManager`` that owns the client, binds the
documents, reports health, and runs transactions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from types import TracebackType
from typing import Any, TypeVar

from beanie import init_beanie
from beanie.odm.fields import ExpressionField
from pymongo import AsyncMongoClient
from pymongo import errors as driver_errors
from pymongo.read_preferences import ReadPreference, read_pref_mode_from_name

from wellness_repo.config import Settings
from wellness_repo.database.driver_logs import redact_driver_command_logs
from wellness_repo.database.embedded import EmbeddedClient
from wellness_repo.database.transactions import (
    bind_session,
    current_session,
    in_transaction,
    mark_embedded_block,
    unbind_session,
    unmark_embedded_block,
)
from wellness_repo.errors import (
    BackendCapabilityError,
    ConcurrencyError,
    RepositoryError,
    ValidationError,
    translate_driver_error,
)
from wellness_repo.models.base import WellnessDocument
from wellness_repo.security.audit import Auditor
from wellness_repo.security.chained_auditor import ChainedAuditor
from wellness_repo.security.context import AccessContext
from wellness_repo.security.encryption import FieldCipher
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.policy import AccessPolicy
from wellness_repo.security.role_policy import RolePolicy

__all__ = ["BackendKind", "DatabaseManager", "HealthReport", "connect"]

_log = logging.getLogger("wellness_repo.database")
_T = TypeVar("_T")


class BackendKind(StrEnum):
    """Where the data lives."""

    EMBEDDED = "embedded"
    """In this process, in memory (mongomock); for demos and tests."""
    MONGODB = "mongodb"
    """A real MongoDB server, replica set or sharded cluster."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What a health endpoint reports about the database connection."""

    ok: bool
    backend: BackendKind
    database: str
    server_version: str
    latency_ms: float
    replica_set: str | None
    transactions: bool
    detail: str | None = None


class DatabaseManager:
    """Owns one client and one database for the life of a process.

    Create it with :func:`connect`; close it with :meth:`close` or ``async with``.
    Repositories take it as their first argument and reach their collections,
    access policy, field cipher and auditor through it.
    """

    def __init__(
        self,
        *,
        client: AsyncMongoClient[dict[str, Any]] | EmbeddedClient,
        database_name: str,
        backend: BackendKind,
        settings: Settings,
        default_context: AccessContext | None,
        document_models: tuple[type[WellnessDocument], ...],
        policy: AccessPolicy,
        cipher: FieldCipher,
        auditor: Auditor,
        replica_set: str | None,
    ) -> None:
        self.client = client
        self.database: Any = client[database_name]
        self.database_name = database_name
        self.backend = backend
        self.settings = settings
        self.default_context = default_context
        self.document_models = document_models
        self.policy = policy
        self.cipher = cipher
        self.auditor = auditor
        self.replica_set = replica_set
        self._write_generations: dict[str, int] = {}
        self._transactions_ended = 0
        self._embedded_transaction_lock = asyncio.Lock()
        self._closed = False

    @property
    def is_embedded(self) -> bool:
        """Whether the data lives in this process."""
        return self.backend is BackendKind.EMBEDDED

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    @property
    def supports_transactions(self) -> bool:
        """Whether :meth:`transaction` gives real all-or-nothing semantics."""
        return self.backend is BackendKind.MONGODB and self.replica_set is not None

    def collection(self, model: type[WellnessDocument]) -> Any:
        """The driver collection that stores ``model``'s records.

        Safety- and access-critical collections read from the primary whatever
        the configured read preference (``Settings.read_preference_for``).
        """
        name = model.collection_name()
        collection = self.database[name]
        if self.is_embedded or self.settings.read_preference_for(name) == (
            self.settings.read_preference
        ):
            return collection
        return collection.with_options(read_preference=ReadPreference.PRIMARY)

    # Cache invalidation: every write bumps its collection's generation, and a
    # cached read is only served while the generation it saw is still current.
    # A transaction's writes become visible to others at commit, or vanish at
    # abort, after the writes were noted; ending one invalidates every cached read.
    def write_generation(self, collection: str) -> tuple[int, int]:
        """A value that changes whenever cached reads of ``collection`` go stale."""
        return (self._transactions_ended, self._write_generations.get(collection, 0))

    def note_write(self, collection: str) -> None:
        """Record that ``collection`` changed, invalidating cached reads of it."""
        self._write_generations[collection] = (
            self._write_generations.get(collection, 0) + 1
        )

    async def health(self) -> HealthReport:
        """Ping the server and report version, backend, latency and capabilities."""
        started = time.perf_counter()
        if self._closed:
            return HealthReport(
                ok=False,
                backend=self.backend,
                database=self.database_name,
                server_version="unknown",
                latency_ms=0.0,
                replica_set=self.replica_set,
                transactions=False,
                detail="the connection was closed",
            )
        try:
            await self.database.command("ping")
            info = await self.database.command("buildInfo")
        except Exception as exc:  # a health check reports; it does not raise
            return HealthReport(
                ok=False,
                backend=self.backend,
                database=self.database_name,
                server_version="unknown",
                latency_ms=(time.perf_counter() - started) * 1000,
                replica_set=self.replica_set,
                transactions=False,
                detail=type(exc).__name__,
            )
        return HealthReport(
            ok=True,
            backend=self.backend,
            database=self.database_name,
            server_version=str(info.get("version", "unknown")),
            latency_ms=(time.perf_counter() - started) * 1000,
            replica_set=self.replica_set,
            transactions=self.supports_transactions,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """Run the enclosed repository calls as one all-or-nothing unit.

        On a replica set this is a real session transaction: if the block raises,
        nothing it wrote is kept. On the embedded backend it is a documented
        stand-in: the enclosed writes are grouped (no other transaction block runs
        in between) but are not rolled back if the block raises. On a standalone
        server it raises ``BackendCapabilityError``.

        Nested blocks join the outer transaction.
        """
        if in_transaction():
            yield current_session()
            return
        try:
            if self.is_embedded:
                async with self._embedded_transaction_lock:
                    token = mark_embedded_block()
                    try:
                        yield None
                    finally:
                        unmark_embedded_block(token)
                return
            async with self._session_transaction() as session:
                yield session
        finally:
            self._transactions_ended += 1

    @asynccontextmanager
    async def _session_transaction(self) -> AsyncIterator[Any]:
        if not self.supports_transactions:
            raise BackendCapabilityError(
                "transactions on a standalone server (start it as a replica set)",
                backend="this MongoDB server",
            )
        assert isinstance(self.client, AsyncMongoClient)
        async with self.client.start_session() as session:
            token = bind_session(session)
            try:
                # Reads in a transaction must use the primary.
                async with await session.start_transaction(
                    read_preference=ReadPreference.PRIMARY
                ):
                    yield session
            except driver_errors.PyMongoError as exc:
                # Commit and abort answer here; conflicts become ConcurrencyError.
                raise translate_driver_error(exc, entity="transaction") from None
            finally:
                unbind_session(token)

    async def run_in_transaction(
        self, work: Callable[[], Awaitable[_T]], *, attempts: int = 3
    ) -> _T:
        """Run ``work`` in a transaction, retrying it when it conflicts.

        ``work`` must be safe to run again from the start: it is retried only when
        the whole transaction was aborted, so none of its writes were kept.
        """
        for attempt in range(1, attempts + 1):
            try:
                async with self.transaction():
                    return await work()
            except ConcurrencyError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close the client; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            for stage in self._stages():
                closer = getattr(stage, "close", None)
                if closer is not None:
                    await closer()
        finally:
            await self.client.close()
        _log.info(
            "closed %s connection to database %s", self.backend, self.database_name
        )

    def _stages(self) -> tuple[object, ...]:
        # The auditor comes last on the way in and first on the way out: it may
        # record what the other stages do while they start or stop.
        return (self.policy, self.cipher, self.auditor)

    async def attach_stages(self) -> None:
        """Give each pipeline stage that wants one its handle on this database.

        A stage (policy, cipher, auditor) may define ``async attach(db)``, called
        once after the document models are bound, and ``async close()``, called
        when the connection closes.
        """
        for stage in self._stages():
            attach = getattr(stage, "attach", None)
            if attach is not None:
                await attach(self)

    async def __aenter__(self) -> DatabaseManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def connect(
    uri: str | None = None,
    database: str | None = None,
    *,
    context: AccessContext | None = None,
    settings: Settings | None = None,
    document_models: Iterable[type[WellnessDocument]] = (),
    apply_indexes: bool | None = None,
    policy: AccessPolicy | None = None,
    cipher: FieldCipher | None = None,
    auditor: Auditor | None = None,
    driver_options: Mapping[str, Any] | None = None,
) -> DatabaseManager:
    """Open the database and bind every document model to it.

    Args:
        uri: ``mongodb://`` or ``mongodb+srv://`` for a real server. ``None`` takes
            ``settings.mongodb_uri``; if that is unset too, the embedded in-process
            backend is used.
        database: the database name; defaults to ``settings.database``.
        context: the access context used when a call has none of its own. Give a
            system context here for scripts and fixtures; leave it ``None`` in a
            service, which sets a context per request.
        settings: defaults to ``Settings()`` (environment and ``.env``).
        document_models: extra document classes, besides the package's own.
        apply_indexes: create missing indexes now. Defaults to
            ``settings.apply_indexes_on_connect``, else to ``True`` only for the
            embedded backend (a real deployment runs the index script instead).
        policy, cipher, auditor: replace a pipeline stage.
        driver_options: extra ``AsyncMongoClient`` options (TLS files, event
            listeners, compressors); they override the settings-derived ones,
            except how documents decode (``tz_aware``, ``tzinfo``,
            ``document_class``, ``type_registry``, ``datetime_conversion``, in
            any letter case), which reads rely on and which are refused here.
    """
    from wellness_repo.models.registry import DOCUMENT_MODELS

    settings = settings or Settings()
    if uri is None and settings.mongodb_uri is not None:
        uri = settings.mongodb_uri.get_secret_value()
    database_name = database or settings.database
    models = tuple(dict.fromkeys((*DOCUMENT_MODELS, *document_models)))

    if uri is None:
        client: AsyncMongoClient[dict[str, Any]] | EmbeddedClient = EmbeddedClient()
        backend, replica_set = BackendKind.EMBEDDED, None
    elif uri.startswith(("mongodb://", "mongodb+srv://")):
        _refuse_decoding_options(driver_options or {})
        redact_driver_command_logs()
        client = _open_client(uri, settings, driver_options or {})
        backend = BackendKind.MONGODB
        replica_set = await _probe_server(client, database_name)
    else:
        raise ValidationError(
            "the URI must start with mongodb:// or mongodb+srv://",
            field="uri",
            rule="scheme",
        )

    manager = DatabaseManager(
        client=client,
        database_name=database_name,
        backend=backend,
        settings=settings,
        default_context=context,
        document_models=models,
        policy=policy or RolePolicy(),
        cipher=cipher or CsfleCipher(),
        auditor=auditor or ChainedAuditor(),
        replica_set=replica_set,
    )
    try:
        await init_beanie(database=manager.database, document_models=list(models))
        _remove_query_expressions(models)
        await manager.attach_stages()
        should_index = apply_indexes
        if should_index is None:
            should_index = settings.apply_indexes_on_connect
        if should_index is None:
            should_index = manager.is_embedded
        if should_index:
            await _apply_indexes(manager)
    except BaseException:
        await manager.close()
        raise
    _log.info(
        "connected to %s database %s (%d document models)",
        backend,
        database_name,
        len(models),
    )
    return manager


def _open_client(
    uri: str, settings: Settings, extra: Mapping[str, Any]
) -> AsyncMongoClient[dict[str, Any]]:
    options: dict[str, Any] = {
        "tz_aware": True,
        "tzinfo": UTC,
        "appname": "wellness-repo",
        "minPoolSize": settings.min_pool_size,
        "maxPoolSize": settings.max_pool_size,
        "connectTimeoutMS": settings.connect_timeout_ms,
        "serverSelectionTimeoutMS": settings.server_selection_timeout_ms,
        "retryWrites": True,
        "retryReads": True,
        "w": "majority" if settings.write_concern == "majority" else 1,
        "readPreference": read_pref_mode_name(settings.read_preference),
    }
    if settings.read_concern != "local":
        # "local" is the server's default: leave it out of every command.
        options["readConcernLevel"] = settings.read_concern
    if settings.socket_timeout_ms is not None:
        options["socketTimeoutMS"] = settings.socket_timeout_ms
    if settings.write_concern_timeout_ms is not None:
        options["wTimeoutMS"] = settings.write_concern_timeout_ms
    if settings.max_staleness_seconds is not None:
        options["maxStalenessSeconds"] = settings.max_staleness_seconds
    options.update(extra)
    return AsyncMongoClient(uri, **options)


_DECODING_OPTIONS = frozenset(
    {"tz_aware", "tzinfo", "document_class", "type_registry", "datetime_conversion"}
)


def _refuse_decoding_options(options: Mapping[str, Any]) -> None:
    """Reads rely on documents decoding as dicts with UTC-aware datetimes (the
    read validators do not normalise them again), so no option may change it.
    The driver reads option names in any case, and so does this check."""
    for name in options:
        if str(name).lower() in _DECODING_OPTIONS:
            raise ValidationError(
                f"driver option {name} is fixed: records decode as dicts with "
                "UTC-aware datetimes",
                field=f"driver_options.{name}",
                rule="fixed_option",
            )


def read_pref_mode_name(name: str) -> str:
    """Check a read-preference name against the driver's list and return it."""
    read_pref_mode_from_name(name)
    return name


async def _probe_server(
    client: AsyncMongoClient[dict[str, Any]], database_name: str
) -> str | None:
    """Fail fast if the server is unreachable; return its replica-set name."""
    try:
        hello: dict[str, Any] = await client[database_name].command("hello")
    except driver_errors.PyMongoError as exc:
        await client.close()
        raise RepositoryError(
            f"cannot reach the MongoDB server ({type(exc).__name__})",
            cause=exc,
        ) from None
    if hello.get("msg") == "isdbgrid":
        return "sharded"
    name = hello.get("setName")
    return str(name) if name else None


def _remove_query_expressions(models: Iterable[type[WellnessDocument]]) -> None:
    """Undo Beanie's class attributes named after each field.

    ``init_beanie`` sets ``MoodEntry.tags`` (and so on) to query-expression
    helpers. This package builds queries with its own compiler, and those class
    attributes would make a field missing from a projected record read as its own
    name instead of raising ``AttributeError``.
    """
    for model in models:
        for klass in model.__mro__:
            if not (isinstance(klass, type) and issubclass(klass, WellnessDocument)):
                continue
            for name in klass.model_fields:
                if isinstance(klass.__dict__.get(name), ExpressionField):
                    delattr(klass, name)


async def _apply_indexes(manager: DatabaseManager) -> None:
    from wellness_repo.database.indexes import apply_indexes, load_index_specs

    wanted = {model.collection_name() for model in manager.document_models}
    specs = [spec for spec in load_index_specs() if spec.collection in wanted]
    await apply_indexes(manager.database, specs)
