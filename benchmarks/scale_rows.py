"""The per-patient queries at two data sizes: their latency must stay flat,
because an index serves each of them.

One target patient and one target therapist get their records through the
repositories (so encrypted fields are stored as the cipher stores them): a year
of daily mood check-ins, a year of weekly sessions, and the therapist's clinic
day of eight sessions. The other patients' records are copies of those stored
documents, with a new id, patient, therapist and date each, inserted with raw
``insert_many`` in batches: the repository's stored shape, seeded fast.

The queries, timed with the default stages at each size:

- a year of mood trend: ``analyze_mood_trends(patient, 365)``;
- one patient's sessions: ``patient_sessions(patient, limit=50)``;
- one provider's day: ``sessions_between(therapist_id=..., start=day, end=day)``.

The raw side replays the exact ``find`` / ``aggregate`` commands the repository
sent (captured with a driver listener), without decrypting or auditing.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bson import ObjectId
from measuring import compare, progress, quartiles
from pymongo import monitoring

from wellness_repo import (
    DatabaseManager,
    MoodEntry,
    MoodScale,
    TherapySession,
    create_mood_entry_repository,
    create_therapy_session_repository,
)

TARGET_PATIENT = "patient-scale-target"
TARGET_THERAPIST = "therapist-scale-target"
MOODS_PER_PATIENT = 3
SESSIONS_PER_PATIENT = 2
THERAPISTS = 2000
"""Therapists the other patients' sessions are spread over."""
BATCH = 10_000
TREND_DAYS = 365
SESSIONS_PAGE = 50
DAY_SESSIONS = 8


@dataclass
class CommandCapture(monitoring.CommandListener):
    """Keeps the ``find`` and ``aggregate`` commands sent while recording."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    recording: bool = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording and event.command_name in ("find", "aggregate"):
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@dataclass(frozen=True)
class ScaleRow:
    """One query's medians at the two sizes, both sides."""

    query: str
    repository: tuple[list[float], list[float]]
    raw: tuple[list[float], list[float]]


@dataclass(frozen=True)
class Seeding:
    """Documents inserted with raw ``insert_many`` and the seconds it took."""

    documents: int
    seconds: float

    @property
    def rate(self) -> float:
        """Documents per second."""
        return self.documents / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------------- seeding


def clinic_day(as_of: datetime) -> date:
    """The therapist's busy day: a week before ``as_of``."""
    return as_of.date() - timedelta(days=7)


async def seed_targets(db: DatabaseManager, as_of: datetime) -> None:
    """The target patient's year of mood and sessions, and the therapist's day,
    through the repositories."""
    rng = random.Random(8)
    moods = [
        MoodEntry(
            user_id=TARGET_PATIENT,
            mood_scale=MoodScale.ONE_TO_TEN,
            mood_rating=rng.randint(3, 9),
            tags=rng.sample(["sleep", "work", "family", "exercise"], 2),
            notes="Slept badly again and woke up around four.",
            created_at=as_of - timedelta(days=day, hours=rng.randint(0, 12)),
        )
        for day in range(TREND_DAYS)
    ]
    await create_mood_entry_repository(db).create_many(moods)
    weekly = [
        session_record(TARGET_PATIENT, as_of.date() - timedelta(weeks=week))
        for week in range(2, 54)
    ]
    day = clinic_day(as_of)
    clinic = [
        session_record(f"patient-day-{slot}", day) for slot in range(DAY_SESSIONS)
    ]
    await create_therapy_session_repository(db).create_many(weekly + clinic)


def session_record(patient: str, on: date) -> TherapySession:
    """A low-risk individual CBT session of the target therapist."""
    return TherapySession(
        relationship_id=f"relationship-{patient}",
        patient_id=patient,
        therapist_id=TARGET_THERAPIST,
        session_date=on,
        session_type="individual",
        duration_minutes=50,
        session_notes="Patient showed significant progress in thought challenging",
        interventions_used=["Cognitive restructuring", "Homework review"],
        patient_mood_start=4,
        patient_mood_end=7,
        risk_assessment="low",
        homework_assigned=["Daily thought record", "Mood tracking"],
    )


async def stored_templates(db: DatabaseManager) -> tuple[dict[str, Any], ...]:
    """One stored mood entry and one stored session to copy."""
    mood = await db.collection(MoodEntry).find_one({"user_id": TARGET_PATIENT})
    session = await db.collection(TherapySession).find_one(
        {"patient_id": TARGET_PATIENT}
    )
    if mood is None or session is None:
        raise SystemExit("the target records were not stored")
    if not isinstance(session["session_date"], str):
        raise SystemExit("session dates are no longer stored as ISO strings")
    return mood, session


def filler(
    templates: tuple[dict[str, Any], ...],
    first: int,
    last: int,
    as_of: datetime,
    rng: random.Random,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored documents of patients ``first`` to ``last - 1``."""
    mood_template, session_template = templates
    moods, sessions = [], []
    for number in range(first, last):
        patient = f"patient-{number:06d}"
        for _ in range(MOODS_PER_PATIENT):
            mood = dict(mood_template)
            mood["_id"] = str(ObjectId())
            mood["user_id"] = patient
            mood["mood_rating"] = rng.randint(1, 10)
            mood["created_at"] = as_of - timedelta(
                seconds=rng.randrange(TREND_DAYS * 86_400)
            )
            moods.append(mood)
        for _ in range(SESSIONS_PER_PATIENT):
            session = dict(session_template)
            session["_id"] = str(ObjectId())
            session["patient_id"] = patient
            session["relationship_id"] = f"relationship-{patient}"
            session["therapist_id"] = f"therapist-{number % THERAPISTS:04d}"
            # Calendar dates are stored as ISO strings, as the template holds.
            session["session_date"] = (
                as_of.date() - timedelta(days=rng.randrange(TREND_DAYS))
            ).isoformat()
            sessions.append(session)
    return moods, sessions


async def grow(
    db: DatabaseManager,
    templates: tuple[dict[str, Any], ...],
    first: int,
    last: int,
    as_of: datetime,
) -> Seeding:
    """Insert the other patients ``first`` to ``last - 1``, in batches."""
    rng = random.Random(first)
    documents, seconds = 0, 0.0
    step = max(1, BATCH // (MOODS_PER_PATIENT + SESSIONS_PER_PATIENT))
    for start in range(first, last, step):
        moods, sessions = filler(templates, start, min(last, start + step), as_of, rng)
        started = time.perf_counter()
        await db.collection(MoodEntry).insert_many(moods, ordered=False)
        await db.collection(TherapySession).insert_many(sessions, ordered=False)
        seconds += time.perf_counter() - started
        documents += len(moods) + len(sessions)
    return Seeding(documents, seconds)


# ------------------------------------------------------------------- queries


def replay(db: DatabaseManager, command: dict[str, Any]) -> Callable[[], Awaitable]:
    """The raw program for one captured command: the same query, by the driver."""
    if "aggregate" in command:
        collection = db.database[command["aggregate"]]

        async def aggregate() -> list[Any]:
            cursor = await collection.aggregate(command["pipeline"])
            return await cursor.to_list(None)

        return aggregate
    collection = db.database[command["find"]]
    sort = list(command.get("sort", {}).items()) or None

    async def find() -> list[Any]:
        return await collection.find(
            command.get("filter", {}),
            command.get("projection"),
            sort=sort,
            limit=command.get("limit", 0),
        ).to_list(None)

    return find


async def raw_program(
    db: DatabaseManager,
    capture: CommandCapture,
    call: Callable[[], Awaitable[Any]],
    *collections: str,
    after_each: Callable[[], Awaitable[None]] | None = None,
) -> Callable[[], Awaitable[None]]:
    """Run ``call`` once, capturing its queries on ``collections``; return the
    raw program that sends the same queries (awaiting ``after_each``, the raw
    side's audit entry say, after each)."""
    capture.commands.clear()
    capture.recording = True
    try:
        await call()
    finally:
        capture.recording = False
    steps = [
        replay(db, command)
        for command in capture.commands
        if {command.get("find"), command.get("aggregate")} & set(collections)
    ]
    if not steps:
        raise SystemExit(f"no query on {collections} was captured")

    async def raw() -> None:
        for step in steps:
            await step()
            if after_each is not None:
                await after_each()

    return raw


def scale_queries(
    db: DatabaseManager, as_of: datetime
) -> list[tuple[str, str, Callable[[], Awaitable[Any]]]]:
    """(label, collection, repository call) of each per-patient query."""
    moods = create_mood_entry_repository(db)
    sessions = create_therapy_session_repository(db)
    day = clinic_day(as_of)

    async def trend() -> Any:
        trends = await moods.analyze_mood_trends(
            TARGET_PATIENT, TREND_DAYS, as_of=as_of
        )
        if trends.entries < TREND_DAYS - 1:
            raise SystemExit(f"the trend read {trends.entries} entries")
        return trends

    async def timeline() -> Any:
        page = await sessions.patient_sessions(TARGET_PATIENT, limit=SESSIONS_PAGE)
        if len(page.items) != SESSIONS_PAGE:
            raise SystemExit("the patient's sessions page came back short")
        return page

    async def provider_day() -> Any:
        page = await sessions.sessions_between(
            start=day, end=day, therapist_id=TARGET_THERAPIST
        )
        if len(page.items) != DAY_SESSIONS:
            raise SystemExit("the therapist's day came back with the wrong sessions")
        return page

    return [
        (f"a year of mood trend ({TREND_DAYS} days)", "mood_entries", trend),
        (f"one patient's sessions (page of {SESSIONS_PAGE})", "therapy_sessions",
         timeline),
        (f"one provider's day ({DAY_SESSIONS} sessions)", "therapy_sessions",
         provider_day),
    ]  # fmt: skip


async def time_queries(
    db: DatabaseManager,
    capture: CommandCapture,
    as_of: datetime,
    repeats: int,
) -> list[tuple[list[float], list[float]]]:
    """(raw, repository) seconds per call of each query, at the current size."""
    timings = []
    for label, collection, call in scale_queries(db, as_of):
        raw = await raw_program(db, capture, call, collection)
        progress(f"  {label}: x {repeats}")
        timings.append(await compare(repeats, raw, call))
    return timings


async def scale_rows(
    db: DatabaseManager,
    capture: CommandCapture,
    small: int,
    large: int,
    repeats: int,
) -> tuple[list[ScaleRow], Seeding]:
    """Seed ``small`` patients, time the queries, grow to ``large``, time again.

    Returns the rows and the raw seeding of every patient beyond the targets.
    """
    as_of = datetime.now(UTC).replace(microsecond=0)
    await seed_targets(db, as_of)
    templates = await stored_templates(db)
    progress(f"scale: seeding {small:,} patients")
    first = await grow(db, templates, 0, small, as_of)
    at_small = await time_queries(db, capture, as_of, repeats)
    progress(f"scale: growing to {large:,} patients")
    second = await grow(db, templates, small, large, as_of)
    at_large = await time_queries(db, capture, as_of, repeats)
    rows = [
        ScaleRow(label, (small_repo, large_repo), (small_raw, large_raw))
        for (label, _, _), (small_raw, small_repo), (large_raw, large_repo) in zip(
            scale_queries(db, as_of), at_small, at_large, strict=True
        )
    ]
    seeding = Seeding(
        first.documents + second.documents, first.seconds + second.seconds
    )
    return rows, seeding


def format_scale_table(rows: list[ScaleRow], small: int, large: int) -> str:
    """The scale results as Markdown: medians [p25-p75] in ms and the ratio of
    the large size to the small one, for each side."""

    def cell(times: list[float]) -> str:
        low, middle, high = (value * 1e3 for value in quartiles(times))
        return f"{middle:.2f} [{low:.2f}-{high:.2f}]"

    def ratio(pair: tuple[list[float], list[float]]) -> str:
        return f"{statistics.median(pair[1]) / statistics.median(pair[0]):.2f}x"

    lines = [
        f"| query | repository, {small:,} patients (ms) | repository, {large:,} "
        f"patients (ms) | {large:,} / {small:,} | raw, {small:,} (ms) | raw, "
        f"{large:,} (ms) | raw {large:,} / {small:,} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.query} | {cell(row.repository[0])} | {cell(row.repository[1])} "
            f"| {ratio(row.repository)} | {cell(row.raw[0])} | {cell(row.raw[1])} "
            f"| {ratio(row.raw)} |"
        )
    return "\n".join(lines)
