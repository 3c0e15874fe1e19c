"""Appending to the audit chain: the one writer each process keeps per database.

Many processes append to one chain. Each claims ``sequence`` = tail + 1 under a
unique index; the one that loses the race gets a duplicate-key error, reads the
new tail and tries again, so the chain never forks and never skips a number.
Within a process the tail is remembered, so the common case costs one insert,
and entries produced while an insert is in flight share the next one.

Appends never join the caller's transaction. A denied or failed access is
recorded although the caller's work is undone, and so is an access inside a
transaction that is later aborted: the audit then says what was attempted,
which is what an audit must keep.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import weakref
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from wellness_repo.errors import (
    ConcurrencyError,
    RepositoryError,
    translate_driver_error,
)
from wellness_repo.models.audit import AuditLog
from wellness_repo.models.types import Encrypted
from wellness_repo.security.audit_chain import (
    GENESIS_MAC,
    chain_mac,
    resolve_audit_key,
)

if TYPE_CHECKING:
    from wellness_repo.database.manager import DatabaseManager

__all__ = ["AuditChainWriter", "chain_writer_for", "writer_id"]

_log = logging.getLogger("wellness_repo.audit")

_ENTITY = AuditLog.entity_name()
_SEQUENCE_KEYS = {"sequence": 1}
# Eight processes appending flat out settle within a handful of attempts; the
# bound only stops a writer that can never win (a stuck or forged tail).
_APPEND_ATTEMPTS = 64
# Entries queued while an insert is in flight go in together, up to this many.
_BATCH_SIZE = 200
_DUPLICATE_KEY = 11000
_VERSION_KEY = "_version"
_ENCRYPTED_FIELDS = tuple(
    name
    for name, info in AuditLog.model_fields.items()
    if any(isinstance(marker, Encrypted) for marker in info.metadata)
)
_HOST = socket.gethostname()[:200]

_writers: WeakKeyDictionary[DatabaseManager, AuditChainWriter] = WeakKeyDictionary()


def chain_writer_for(db: DatabaseManager) -> AuditChainWriter:
    """The one writer of ``db``'s audit chain in this process.

    Raises:
        ValidationError: the audit key setting is malformed, or missing while
            ``require_keys`` is set.
    """
    writer = _writers.get(db)
    if writer is None:
        writer = AuditChainWriter(db, resolve_audit_key(db.settings))
        _writers[db] = writer
    return writer


def writer_id() -> str:
    """What identifies this process in the entries it writes: host and pid."""
    # Read each time: a forked child has its parent's module state.
    return f"{_HOST}:{os.getpid()}"


class AuditChainWriter:
    """Appends entries to one database's audit chain.

    Entries that arrive while an insert is in flight are written together, in
    arrival order, by the next insert: many concurrent accesses cost one round
    trip, not one each. The writing runs in its own task, so an entry is stored
    even if the call that produced it is cancelled meanwhile.

    Args:
        db: the connection whose ``audit_logs`` collection holds the chain.
        key: the audit key the MACs are computed with.
    """

    def __init__(self, db: DatabaseManager, key: bytes) -> None:
        # Held weakly: the writers are kept per connection, and a strong
        # reference from here would keep every closed connection alive.
        self._db = weakref.ref(db)
        self._database = db.database
        self._collection = db.collection(AuditLog)
        self._key = key
        self._tail: tuple[int, str] | None = None
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._index_checked = False
        self.highest_appended = 0
        """The highest sequence this process appended; a chain that ends before
        it lost entries from its end."""

    @property
    def key(self) -> bytes:
        """The audit key this chain's MACs are computed with."""
        return self._key

    async def append(self, entry: AuditLog) -> AuditLog:
        """Store ``entry`` at the end of the chain and return it as appended.

        Raises:
            ConcurrencyError: other writers kept winning the race for every
                attempt.
            RepositoryError: the entry could not be stored (the database is
                unreachable, the chain's unique index cannot be created).
        """
        document = entry.model_dump(by_alias=True)
        document["_rev"] = 1
        document[_VERSION_KEY] = AuditLog.SCHEMA_VERSION
        for unsigned in ("sequence", "prev_mac", "mac"):
            document.pop(unsigned)
        if any(document.get(name) is not None for name in _ENCRYPTED_FIELDS):
            db = self._db()
            if db is None:
                raise RepositoryError(
                    "the connection of this audit trail is gone", entity=_ENTITY
                )
            (document,) = await db.cipher.encrypt_documents(AuditLog, [document])
        pending = _Pending(document, entry.id, asyncio.get_running_loop())
        self._queue.append(pending)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain())
        sequence, prev_mac, mac = await asyncio.shield(pending.done)
        appended: AuditLog = entry.model_copy(
            update={
                "sequence": sequence,
                "prev_mac": prev_mac,
                "mac": mac,
                "revision": 1,
            }
        )
        return appended

    async def _drain(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._queue:
                batch = self._queue[:_BATCH_SIZE]
                del self._queue[:_BATCH_SIZE]
                try:
                    if not self._index_checked:
                        await self._require_unique_sequence()
                    await self._write(batch)
                except Exception as exc:
                    # The insert may or may not have landed: read the tail again.
                    self._tail = None
                    _fail(batch, translate_driver_error(exc, entity=_ENTITY))
        except BaseException:
            # Only the event loop shutting down gets here.
            stopped = RepositoryError(
                "the audit writer stopped before the entry was stored",
                entity=_ENTITY,
            )
            _fail([*batch, *self._queue], stopped)
            self._queue.clear()
            raise

    async def _write(self, batch: list[_Pending]) -> None:
        remaining = batch
        for attempt in range(_APPEND_ATTEMPTS):
            if self._tail is None:
                self._tail = await self._read_tail(remaining[0].entry_id)
            self._chain(remaining)
            stored, clash = await self._insert(remaining)
            for pending in remaining[:stored]:
                pending.resolve()
            if stored:
                last = remaining[stored - 1].document
                self._tail = (last["sequence"], last["mac"])
                self.highest_appended = max(self.highest_appended, last["sequence"])
            remaining = remaining[stored:]
            if not remaining:
                return
            if clash is not None and not _clashes_on_sequence(clash):
                raise translate_driver_error(
                    clash, entity=_ENTITY, entity_id=remaining[0].entry_id
                )
            # Another process took the next place: start again from its entry.
            _log.debug(
                "audit append lost sequence %d to another writer; retrying",
                remaining[0].document["sequence"],
            )
            self._tail = None
            await asyncio.sleep(random.uniform(0, 0.002) * min(attempt + 1, 8))
        raise ConcurrencyError(
            f"the audit entry lost the race for a place in the chain "
            f"{_APPEND_ATTEMPTS} times",
            entity=_ENTITY,
            entity_id=remaining[0].entry_id,
        )

    def _chain(self, batch: list[_Pending]) -> None:
        assert self._tail is not None
        sequence, prev_mac = self._tail
        for pending in batch:
            sequence += 1
            document = pending.document
            document.pop("mac", None)
            document["sequence"] = sequence
            document["prev_mac"] = prev_mac
            document["mac"] = prev_mac = chain_mac(self._key, prev_mac, document)

    async def _insert(self, batch: list[_Pending]) -> tuple[int, PyMongoError | None]:
        """Insert in order; how many went in, and the clash that stopped the rest.

        No session: an entry stays even if the caller's transaction aborts.
        """
        try:
            if len(batch) == 1:
                await self._collection.insert_one(batch[0].document)
            else:
                await self._collection.insert_many(
                    [pending.document for pending in batch], ordered=True
                )
        except DuplicateKeyError as exc:
            return 0, exc
        except BulkWriteError as exc:
            details = exc.details or {}
            errors = details.get("writeErrors") or [{}]
            if errors[0].get("code") != _DUPLICATE_KEY:
                raise translate_driver_error(
                    exc, entity=_ENTITY, entity_id=batch[0].entry_id
                ) from None
            return int(details.get("nInserted", 0)), exc
        except Exception as exc:
            raise translate_driver_error(
                exc, entity=_ENTITY, entity_id=batch[0].entry_id
            ) from None
        return len(batch), None

    async def _read_tail(self, entry_id: str) -> tuple[int, str]:
        try:
            last = await self._collection.find_one(
                {}, {"sequence": 1, "mac": 1}, sort=[("sequence", -1)]
            )
        except Exception as exc:
            raise translate_driver_error(
                exc, entity=_ENTITY, entity_id=entry_id
            ) from None
        if last is None:
            return 0, GENESIS_MAC
        return int(last["sequence"]), str(last["mac"])

    async def _require_unique_sequence(self) -> None:
        """Make sure the unique index that keeps the chain from forking exists.

        A deploy creates it with the index tool; a process that finds it missing
        creates it from the same spec rather than append to a chain that two
        writers could fork.
        """
        from wellness_repo.database.indexes import apply_indexes, load_index_specs

        if not await self._has_unique_sequence():
            specs = [
                spec
                for spec in load_index_specs()
                if spec.collection == AuditLog.collection_name()
            ]
            try:
                await apply_indexes(self._database, specs)
            except RepositoryError as exc:
                raise RepositoryError(
                    "the audit chain's unique sequence index is missing and could "
                    "not be created; run `wellness-repo indexes apply`",
                    entity=_ENTITY,
                    cause=exc,
                ) from None
            _log.warning("audit chain index was missing; created it")
            if not await self._has_unique_sequence():
                raise RepositoryError(
                    "the audit chain has no unique index on sequence",
                    entity=_ENTITY,
                )
        self._index_checked = True

    async def _has_unique_sequence(self) -> bool:
        try:
            cursor = await self._collection.list_indexes()
            indexes: list[dict[str, Any]] = await cursor.to_list(None)
        except Exception:
            # A collection that does not exist yet has no indexes to list.
            return False
        return any(
            dict(index.get("key", {})) == _SEQUENCE_KEYS and index.get("unique")
            for index in indexes
        )


class _Pending:
    """An entry waiting for its place in the chain."""

    __slots__ = ("document", "done", "entry_id")

    def __init__(
        self,
        document: dict[str, Any],
        entry_id: str,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.document = document
        self.entry_id = entry_id
        self.done: asyncio.Future[tuple[int, str, str]] = loop.create_future()
        # The caller may have been cancelled and stopped waiting; a failure it
        # never hears of is not an unhandled error of the event loop.
        self.done.add_done_callback(_observe)

    def resolve(self) -> None:
        if not self.done.done():
            document = self.document
            self.done.set_result(
                (document["sequence"], document["prev_mac"], document["mac"])
            )


def _observe(done: asyncio.Future[tuple[int, str, str]]) -> None:
    if not done.cancelled():
        done.exception()


def _fail(batch: list[_Pending], error: BaseException) -> None:
    for pending in batch:
        if not pending.done.done():
            pending.done.set_exception(error)


def _clashes_on_sequence(exc: PyMongoError) -> bool:
    # The embedded backend's bulk errors do not name the key; a clash on an
    # entry's fresh id is the only other one possible, and never happens.
    details: Any = getattr(exc, "details", None) or {}
    first = (details.get("writeErrors") or [details])[0]
    pattern = first.get("keyPattern") or {"sequence": 1}
    return "sequence" in pattern
