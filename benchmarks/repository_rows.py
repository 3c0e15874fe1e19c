"""The rows that time a repository call on mood entries against what a raw
PyMongo program does for the same result: ``create_many``, ``create``,
``list_all`` and ``get_by_id``.

The repository is the pipeline every repository shares
(``AsyncBaseRepository`` for ``MoodEntry``, :func:`mood_pipeline`).
``MoodEntryRepository`` runs the same code for these calls except ``create``,
where it also screens the patient's recent mood for crisis signs: domain work no
raw program here reproduces, so it is left out of these rows.

The raw program is a :class:`RawSide`. :class:`PlainDriver` is the driver alone,
for the foundation rows; ``raw_secure_side.EncryptedAuditedDriver`` adds field
encryption and an audit entry per call, for the rows with the default stages.
Every row first runs both sides once and stops the run if they stored or
returned different records.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from measuring import Row, compare, per_call, progress, ratio_row
from mood_records import (
    BUSY_PATIENT,
    LIST_SIZE,
    SINGLE_CALLS,
    mood_entries,
    stored_form,
)

from wellness_repo import (
    AccessContext,
    AsyncBaseRepository,
    DatabaseManager,
    MoodEntry,
    QueryOptions,
    compile_filters,
)
from wellness_repo.query.compiler import compile_sort
from wellness_repo.security.policy import Operation

MoodPipeline = AsyncBaseRepository[MoodEntry]


def mood_pipeline(db: DatabaseManager) -> MoodPipeline:
    """The repository the rows time: the shared pipeline, for mood entries."""
    return AsyncBaseRepository(db, model=MoodEntry)


class RawSide(Protocol):
    """The raw PyMongo program a row times the repository against.

    Every method gets or returns documents in their plain stored form
    (``mood_records.stored_form``); what happens on the way to and from the
    server (encryption, an audit entry) is the side's own work, and timed.
    """

    collection: Any

    async def insert_many(self, documents: list[dict[str, Any]]) -> None:
        """Store new documents in one round trip, in order."""

    async def insert_one(self, document: dict[str, Any]) -> None:
        """Store one new document."""

    async def find_many(
        self, query: dict[str, Any], sort: list[tuple[str, int]], limit: int
    ) -> list[dict[str, Any]]:
        """One page of documents, readable."""

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        """One document, readable, or ``None``."""

    async def comparable(self, stored: list[dict[str, Any]]) -> list[Any]:
        """Documents as found in the collection, in a form where the two
        sides' writes compare equal exactly when they stored the same thing."""

    async def mark_audit(self) -> None:
        """Remember where both audit trails end, before a checking run."""

    async def check_audit(self) -> None:
        """Stop the run unless, since :meth:`mark_audit`, both sides appended
        the same number of audit entries, naming the same records."""


class PlainDriver:
    """The driver alone: what the foundation rows compare the repository with."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def insert_many(self, documents: list[dict[str, Any]]) -> None:
        await self.collection.insert_many(documents, ordered=True)

    async def insert_one(self, document: dict[str, Any]) -> None:
        await self.collection.insert_one(document)

    async def find_many(
        self, query: dict[str, Any], sort: list[tuple[str, int]], limit: int
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.collection.find(
            query, sort=sort, limit=limit
        ).to_list(None)
        return found

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.collection.find_one(query)
        return found

    async def comparable(self, stored: list[dict[str, Any]]) -> list[Any]:
        return stored

    async def mark_audit(self) -> None:
        return None

    async def check_audit(self) -> None:
        return None


# ------------------------------------------------------------------ writes


async def bench_create_many(
    repository: MoodPipeline,
    side: RawSide,
    count: int,
    repeats: int,
    *,
    label: str,
    target: float | None,
) -> Row:
    """``create_many`` of ``count`` entries against the raw side's insert."""
    entries = mood_entries(count, random.Random(1))
    documents = stored_form(entries)
    batch: list[dict[str, Any]] = []

    async def reset() -> None:
        await side.collection.delete_many({})
        batch[:] = [dict(document) for document in documents]

    async def raw() -> None:
        await side.insert_many(batch)

    async def through_repository() -> None:
        await repository.create_many(entries)

    await check_same_stored(side, reset, raw, through_repository)
    raw_times, repository_times = await compare(repeats, raw, through_repository, reset)
    return ratio_row(
        f"create_many, {count:,} entries{label}",
        raw_times,
        repository_times,
        unit="ms",
        target=target,
    )


async def bench_create(
    repository: MoodPipeline, side: RawSide, repeats: int, *, label: str
) -> Row:
    """``create`` of one entry at a time against the raw side's single insert."""
    entries = mood_entries(SINGLE_CALLS, random.Random(2))
    documents = stored_form(entries)
    batch: list[dict[str, Any]] = []

    async def reset() -> None:
        await side.collection.delete_many({})
        batch[:] = [dict(document) for document in documents]

    async def raw() -> None:
        for document in batch:
            await side.insert_one(document)

    async def through_repository() -> None:
        for entry in entries:
            await repository.create(entry)

    await check_same_stored(side, reset, raw, through_repository)
    raw_times, repository_times = await compare(repeats, raw, through_repository, reset)
    return ratio_row(
        f"create, per call ({SINGLE_CALLS} sequential){label}",
        per_call(raw_times, SINGLE_CALLS),
        per_call(repository_times, SINGLE_CALLS),
        unit="us",
        target=None,
    )


async def check_same_stored(
    side: RawSide,
    reset: Callable[[], Awaitable[None]],
    raw: Callable[[], Awaitable[None]],
    through_repository: Callable[[], Awaitable[None]],
) -> None:
    """Stop the run unless both sides store the same documents (byte for byte,
    or for encrypted values the same plaintext under the same key) and append
    matching audit entries."""
    stored = []
    await side.mark_audit()
    for write in (raw, through_repository):
        await reset()
        await write()
        found = await side.collection.find({}, sort=[("_id", 1)]).to_list(None)
        stored.append(await side.comparable(found))
    if stored[0] != stored[1]:
        raise SystemExit("raw and repository writes stored different documents")
    await side.check_audit()


# ------------------------------------------------------------------- reads


async def seed_for_reads(repository: MoodPipeline, count: int) -> tuple[str, list[str]]:
    """Store ``count`` entries of many patients and ``LIST_SIZE`` of one patient,
    through the repository (so encrypted fields are stored as it stores them).

    Returns the busy patient's id and the ids of some stored entries.
    """
    rng = random.Random(3)
    others = mood_entries(count, rng)
    busy = mood_entries(LIST_SIZE, rng, user_id=BUSY_PATIENT)
    await repository.db.collection(MoodEntry).delete_many({})
    await repository.create_many(others + busy)
    ids = [entry.id for entry in rng.sample(others + busy, SINGLE_CALLS)]
    return BUSY_PATIENT, ids


async def repository_filter(
    repository: MoodPipeline,
    context: AccessContext,
    query: dict[str, Any],
) -> dict[str, Any]:
    """The filter a read of ``query`` sends: the lookups, the access policy's
    scope for ``context`` and the soft-delete condition, merged the way the
    repository merges them."""
    scope = await repository.db.policy.scope(MoodEntry, context, Operation.READ)
    parts = [part for part in (query, scope, {"deleted_at": None}) if part]
    merged: dict[str, Any] = {}
    for part in parts:
        if merged.keys() & part.keys():
            return {"$and": parts}
        merged.update(part)
    return merged


def same_records(
    records: Sequence[MoodEntry], documents: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether validated records hold exactly the (readable) stored documents."""
    as_stored = [record.model_dump(by_alias=True) for record in records]
    without_version = [
        {key: value for key, value in document.items() if key != "_version"}
        for document in documents
    ]
    return as_stored == without_version


async def bench_list_all(
    repository: MoodPipeline,
    side: RawSide,
    context: AccessContext,
    patient: str,
    repeats: int,
    *,
    label: str,
    target: float | None,
) -> Row:
    """One patient's 1,000 newest entries: ``list_all`` against a raw find."""
    lookups = {"user_id": patient}
    order_by = ["-created_at"]
    compiled = compile_filters(MoodEntry, lookups).filter
    query = await repository_filter(repository, context, compiled)
    sort = compile_sort(MoodEntry, order_by)

    async def raw() -> list[dict[str, Any]]:
        return await side.find_many(query, sort, LIST_SIZE)

    async def through_repository() -> list[MoodEntry]:
        page = await repository.list_all(
            QueryOptions(filters=lookups, order_by=order_by, limit=LIST_SIZE)
        )
        return page.items

    await side.mark_audit()
    raw_found, records = await raw(), await through_repository()
    if len(records) != LIST_SIZE or not same_records(records, raw_found):
        raise SystemExit("list_all and the raw find returned different documents")
    await side.check_audit()
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"list_all, {LIST_SIZE:,} entries of one patient{label}",
        raw_times,
        repository_times,
        unit="ms",
        target=target,
    )


async def bench_get_by_id(
    repository: MoodPipeline,
    side: RawSide,
    context: AccessContext,
    ids: list[str],
    repeats: int,
    *,
    label: str,
) -> Row:
    """``get_by_id`` against a raw ``find_one`` over the same ids."""
    queries = [
        await repository_filter(repository, context, {"_id": entry_id})
        for entry_id in ids
    ]

    async def raw() -> list[dict[str, Any] | None]:
        return [await side.find_one(query) for query in queries]

    async def through_repository() -> list[MoodEntry | None]:
        return [await repository.get_by_id(entry_id) for entry_id in ids]

    await side.mark_audit()
    raw_found, records = await raw(), await through_repository()
    if None in raw_found or None in records:
        raise SystemExit("get_by_id or the raw find_one missed a stored entry")
    found = [record for record in records if record is not None]
    if not same_records(found, [doc for doc in raw_found if doc is not None]):
        raise SystemExit("get_by_id and the raw find_one returned different records")
    await side.check_audit()
    raw_times, repository_times = await compare(repeats, raw, through_repository)
    return ratio_row(
        f"get_by_id, per call ({len(ids)} sequential){label}",
        per_call(raw_times, len(ids)),
        per_call(repository_times, len(ids)),
        unit="us",
        target=None,
    )


async def compare_repository(
    db: DatabaseManager,
    side: RawSide,
    context: AccessContext,
    documents: int,
    repeats: int,
    *,
    label: str,
    target: float | None,
) -> list[Row]:
    """The four rows of one connection, writes first, then reads of a seeded
    collection.

    Args:
        label: appended to each operation's name, to tell groups apart.
        target: the ratio ``create_many`` and ``list_all`` must stay within;
            ``None`` for informative rows.
    """
    repository = mood_pipeline(db)
    progress(f"create_many{label}: {documents} entries x {repeats} repeats per side")
    rows = [
        await bench_create_many(
            repository, side, documents, repeats, label=label, target=target
        )
    ]
    progress(f"create{label}: {SINGLE_CALLS} calls x {repeats} repeats per side")
    rows.append(await bench_create(repository, side, repeats, label=label))
    patient, ids = await seed_for_reads(repository, documents)
    progress(f"list_all{label}: {LIST_SIZE} entries x {repeats} repeats per side")
    rows.append(
        await bench_list_all(
            repository, side, context, patient, repeats, label=label, target=target
        )
    )
    progress(f"get_by_id{label}: {len(ids)} calls x {repeats} repeats per side")
    rows.append(
        await bench_get_by_id(repository, side, context, ids, repeats, label=label)
    )
    return rows
