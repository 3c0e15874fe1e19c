"""The mixed workload of the load test: many async clients sharing one
connection create, list, read and update mood entries and write journal entries
for a bounded time, and every call's latency and outcome is kept."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from wellness_repo import (
    ConcurrencyError,
    DatabaseManager,
    JournalEntry,
    JournalRepository,
    MoodEntry,
    MoodEntryRepository,
    QueryOptions,
)

PATIENTS = tuple(f"patient_{n:03d}" for n in range(50))
SEEDED_PER_PATIENT = 4
HOT_RECORDS = 20
"""Entries every client edits: updates of these race each other."""
OPERATIONS = (
    ("create_mood", 25),
    ("list_moods", 25),
    ("get_mood", 20),
    ("update_mood", 20),
    ("create_journal", 10),
)
FACTORS = ("Good sleep", "Exercise", "Time with friends", "Took medication")


@dataclass
class LoadReport:
    """What a load run did: latencies per operation, errors, and conflicts."""

    clients: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    calls_per_client: Counter[int] = field(default_factory=Counter)
    conflicts: int = 0
    updates_won: Counter[str] = field(default_factory=Counter)
    """Hot record id -> updates that succeeded on it."""
    unexpected: list[tuple[str, str, str]] = field(default_factory=list)
    """(operation, error type, message) of every error but a conflict."""
    hot_ids: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        """Every call made, successful or not."""
        return sum(len(values) for values in self.latencies.values())

    @property
    def throughput(self) -> float:
        """Calls per second over the run."""
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float, operation: str | None = None) -> float:
        """The latency in milliseconds below which ``fraction`` of calls fall."""
        if operation is None:
            values = [v for vs in self.latencies.values() for v in vs]
        else:
            values = list(self.latencies[operation])
        if not values:
            return 0.0
        values.sort()
        index = min(len(values) - 1, int(fraction * len(values)))
        return values[index] * 1000

    def table(self) -> str:
        """A plain-text summary: throughput, then p50/p99 per operation."""
        lines = [
            f"{self.clients} clients, {self.seconds:.1f} s: {self.calls} calls, "
            f"{self.throughput:.0f} calls/s, p50 {self.percentile(0.5):.1f} ms, "
            f"p99 {self.percentile(0.99):.1f} ms, {self.conflicts} conflicts, "
            f"{len(self.unexpected)} unexpected errors",
            f"{'operation':<16}{'calls':>8}{'p50 ms':>10}{'p99 ms':>10}",
        ]
        for operation, _ in OPERATIONS:
            lines.append(
                f"{operation:<16}{len(self.latencies[operation]):>8}"
                f"{self.percentile(0.5, operation):>10.1f}"
                f"{self.percentile(0.99, operation):>10.1f}"
            )
        return "\n".join(lines)


def check_in(patient: str, rng: random.Random) -> MoodEntry:
    """An ordinary check-in (5-9 on the 1-10 scale: no crisis warning sign)."""
    return MoodEntry(
        user_id=patient,
        mood_rating=rng.randint(5, 9),
        contributing_factors=rng.sample(FACTORS, 2),
        anxiety_level=rng.randint(1, 6),
        notes="Slept better after the breathing exercise before bed.",
    )


def reflection(patient: str, rng: random.Random) -> JournalEntry:
    """A short free-writing entry without crisis language."""
    return JournalEntry(
        user_id=patient,
        title="Evening reflection",
        content="Noticed the worry about work fade after I wrote it down.",
        mood_before=rng.randint(3, 6),
        mood_after=rng.randint(5, 8),
    )


async def seed(db: DatabaseManager, report: LoadReport) -> list[str]:
    """Store each patient's first check-ins; return their ids. The first
    ``HOT_RECORDS`` become the records every client edits."""
    rng = random.Random(7)
    entries = [
        check_in(patient, rng)
        for patient in PATIENTS
        for _ in range(SEEDED_PER_PATIENT)
    ]
    stored = await MoodEntryRepository(db).create_many(entries)
    ids = [entry.id for entry in stored]
    report.hot_ids = ids[:HOT_RECORDS]
    return ids


async def run_mixed_load(
    db: DatabaseManager, *, clients: int, seconds: float
) -> LoadReport:
    """Run ``clients`` concurrent clients on ``db`` for ``seconds``."""
    report = LoadReport(clients=clients)
    known_ids = await seed(db, report)
    moods, journals = MoodEntryRepository(db), JournalRepository(db)
    names = [name for name, _ in OPERATIONS]
    weights = [weight for _, weight in OPERATIONS]

    async def call(name: str, rng: random.Random) -> None:
        patient = rng.choice(PATIENTS)
        if name == "create_mood":
            known_ids.append((await moods.create(check_in(patient, rng))).id)
        elif name == "list_moods":
            await moods.list_all(
                QueryOptions(
                    filters={"user_id": patient, "mood_rating__gte": 6},
                    order_by=["-created_at"],
                    limit=20,
                )
            )
        elif name == "get_mood":
            await moods.get(rng.choice(known_ids))
        elif name == "update_mood":
            entry = await moods.get(rng.choice(report.hot_ids))
            entry.mood_rating = rng.randint(5, 9)
            await moods.update(entry)
            report.updates_won[entry.id] += 1
        else:
            await journals.create(reflection(patient, rng))

    async def client(number: int, deadline: float) -> None:
        rng = random.Random(number)
        while time.perf_counter() < deadline:
            name = rng.choices(names, weights)[0]
            started = time.perf_counter()
            try:
                await call(name, rng)
            except ConcurrencyError as conflict:
                if name != "update_mood":
                    report.unexpected.append((name, "ConcurrencyError", str(conflict)))
                report.conflicts += 1
            except Exception as exc:
                report.unexpected.append((name, type(exc).__name__, str(exc)))
            report.latencies[name].append(time.perf_counter() - started)
            report.calls_per_client[number] += 1

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client(n, deadline) for n in range(clients)))
    report.seconds = time.perf_counter() - started
    return report
