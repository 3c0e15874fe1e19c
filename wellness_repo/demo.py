"""The demo behind ``wellness-repo demo``: one patient's mood log, told through the
public API on the embedded backend (or a real server with ``--uri``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from wellness_repo.database.manager import connect
from wellness_repo.errors import ConcurrencyError, ValidationError
from wellness_repo.factories import create_mood_entry_repository
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.types import new_id
from wellness_repo.query.options import QueryOptions
from wellness_repo.query.q import Q
from wellness_repo.security.context import AccessContext

__all__ = ["run_demo"]

_Writer = Callable[[str], int]
PATIENT = "patient_123"
# Two weeks of a patient's check-ins: (days ago, rating, tags).
CHECK_INS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (13, 4, ("anxiety", "work")),
    (12, 5, ("sleep",)),
    (11, 3, ("anxiety",)),
    (10, 6, ("exercise",)),
    (9, 7, ("exercise", "sleep")),
    (8, 5, ("work",)),
    (7, 8, ("family",)),
    (6, 7, ("anxiety", "exercise")),
    (5, 6, ()),
    (4, 8, ("exercise",)),
    (3, 7, ("anxiety",)),
    (2, 9, ("family", "exercise")),
    (1, 8, ("sleep",)),
    (0, 7, ("anxiety", "work")),
)


async def run_demo(
    uri: str | None = None, database: str | None = None, out: TextIO | None = None
) -> None:
    """Walk one patient's mood log through the public API and print each step."""
    write = (out or sys.stdout).write
    # On a real server the demo writes to a database of its own, and removes it
    # afterwards; a database the caller names is left in place.
    scratch = uri is not None and database is None
    name = f"wellness_demo_{new_id()}" if scratch else database or "wellness_demo"
    db = await connect(uri, name, context=AccessContext.system("demo"))
    try:
        health = await db.health()
        _section(write, "1. Connected")
        write(
            f"   backend {health.backend}, server {health.server_version}, "
            f"ping {health.latency_ms:.2f} ms\n"
        )
        repo = create_mood_entry_repository(db)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        entries = await repo.create_many(
            [
                MoodEntry(
                    user_id=PATIENT,
                    mood_rating=rating,
                    tags=list(tags),
                    notes="(private note, never printed or logged)",
                    created_at=now - timedelta(days=days_ago),
                )
                for days_ago, rating, tags in CHECK_INS
            ]
        )
        _section(write, f"2. Logged {len(entries)} check-ins over two weeks")

        good_anxious = await repo.list_all(
            QueryOptions(
                filters={
                    "user_id": PATIENT,
                    "mood_rating__gte": 7,
                    "created_at__gte": now - timedelta(days=30),
                    "tags__contains": "anxiety",
                },
                order_by=["-created_at", "mood_rating"],
                limit=10,
                include_count=True,
            )
        )
        _section(write, "3. Good days (rating >= 7) that still mention anxiety")
        _table(write, good_anxious.items)
        write(f"   total matching: {good_anxious.total_count}\n")

        low_or_sleep = await repo.find_by(
            Q(user_id=PATIENT) & (Q(mood_rating__lte=4) | Q(tags__contains="sleep"))
        )
        _section(write, "4. Low days or sleep trouble (Q objects: AND of an OR)")
        _table(write, low_or_sleep)

        _section(write, "5. Paging with a cursor, five at a time, newest first")
        options = QueryOptions(
            filters={"user_id": PATIENT}, order_by=["-created_at"], limit=5
        )
        page = await repo.list_all(options)
        number = 1
        while True:
            ratings = ", ".join(str(entry.mood_rating) for entry in page.items)
            write(f"   page {number}: ratings {ratings}\n")
            if page.next_cursor is None:
                break
            page = await repo.list_all(
                QueryOptions(
                    filters=options.filters,
                    order_by=options.order_by,
                    limit=5,
                    after=page.next_cursor,
                )
            )
            number += 1

        _section(write, "6. Two clinicians edit the same entry")
        latest = entries[-1]
        first = await repo.patch(latest.id, {"tags": ["anxiety", "work", "reviewed"]})
        write(f"   first edit stored as revision {first.revision}\n")
        try:
            stale = latest.model_copy(update={"mood_rating": 2})
            await repo.update(stale)
        except ConcurrencyError as exc:
            write(f"   second edit refused: {exc}\n")

        _section(write, "7. Bad input is refused, and nothing is written")
        for lookups in ({"user_id": {"$ne": None}}, {"mood_rating__gte": "high"}):
            try:
                await repo.list_all(QueryOptions(filters=lookups))
            except ValidationError as exc:
                write(f"   refused: {exc}\n")
        try:
            await repo.count(user_id=PATIENT, created_at__gte=datetime(2024, 12, 15))
        except ValidationError as exc:
            write(f"   refused: {exc}\n")
        try:
            await repo.create(
                MoodEntry.model_construct(user_id=PATIENT, mood_rating=11)
            )
        except ValidationError as exc:
            write(f"   refused: {exc}\n")
        write(f"   entries stored: {await repo.count(user_id=PATIENT)}\n")
    finally:
        if scratch:
            await db.client.drop_database(db.database_name)
        await db.close()


def _section(write: _Writer, title: str) -> None:
    write(f"\n{title}\n")


def _table(write: _Writer, entries: Sequence[MoodEntry]) -> None:
    write(f"   {'date':<12}{'rating':>6}  tags\n")
    for entry in entries:
        day = entry.created_at.strftime("%Y-%m-%d")
        write(f"   {day:<12}{entry.mood_rating:>6}  {', '.join(entry.tags)}\n")
