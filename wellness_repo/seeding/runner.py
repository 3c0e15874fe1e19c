"""Running the fixture plan: each unit's records go through its repository's
``create_many`` in batches, under a system access context, skipping records a
previous run (complete or interrupted) already stored.

Idempotency rests on deterministic ids: before a batch is written, the ids
already stored are counted (one indexed count on ``_id``); a batch stored in full
is skipped, a partly stored one is narrowed to the missing records. Should a
record still collide (one deleted since, and so invisible to the count), the
batch is retried record by record and the duplicates are left as they are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import DuplicateError, ValidationError
from wellness_repo.models.base import WellnessDocument
from wellness_repo.query.options import QueryOptions
from wellness_repo.security.context import AccessContext, acting_as
from wellness_repo.security.passwords import HashingParameters, hash_password
from wellness_repo.seeding.generators.people import FIXTURE_PASSWORD
from wellness_repo.seeding.plan import SEED_UNITS, SeedUnit
from wellness_repo.seeding.progress import NoProgress, SeedProgress
from wellness_repo.seeding.world import FixtureWorld

__all__ = [
    "SEEDER",
    "SeedReport",
    "UnitResult",
    "check_scale",
    "collection_counts",
    "seed_fixtures",
]

SEEDER = AccessContext.system("fixture-seeder")
"""The context fixtures are written (and audited) under."""
MAX_PATIENTS = 1_000_000
"""The largest fixture set one run accepts (about 90 million records)."""

_log = logging.getLogger("wellness_repo.seeding")


@dataclass(frozen=True, slots=True)
class UnitResult:
    """What one unit did: records written now, and records already stored."""

    name: str
    collection: str
    written: int
    existing: int
    seconds: float


@dataclass(frozen=True, slots=True)
class SeedReport:
    """The outcome of a seeding run.

    ``collection_counts`` are the visible records in each collection the plan
    wrote to (and the outbox its crisis alerts go to) once the run ended.
    """

    seed: int
    patients: int
    units: tuple[UnitResult, ...]
    collection_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def written(self) -> int:
        """Records this run wrote."""
        return sum(unit.written for unit in self.units)

    @property
    def rate(self) -> float:
        """Records written per second over the whole run."""
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The per-unit and per-collection table the command prints."""
        lines = [f"{'unit':<28}{'written':>10}{'existing':>10}{'seconds':>9}"]
        for unit in self.units:
            lines.append(
                f"{unit.name:<28}{unit.written:>10,}{unit.existing:>10,}"
                f"{unit.seconds:>9.1f}"
            )
        lines.append("")
        lines.append(f"{'collection':<28}{'records':>10}")
        for name, count in self.collection_counts.items():
            lines.append(f"{name:<28}{count:>10,}")
        lines.append("")
        lines.append(
            f"seed {self.seed}, {self.patients:,} patients: {self.written:,} records "
            f"written in {self.seconds:.1f} s ({self.rate:,.0f} records/s)"
        )
        return "\n".join(lines)


async def seed_fixtures(
    db: DatabaseManager,
    *,
    patients: int,
    seed: int = 0,
    as_of: date | None = None,
    history_days: int = 90,
    units: Sequence[SeedUnit] = SEED_UNITS,
    progress: SeedProgress | None = None,
    part: int = 0,
    parts: int = 1,
) -> SeedReport:
    """Seed a database with deterministic synthetic patients and their care.

    Args:
        db: the connection to write to.
        patients: how many patients; one provider per 25, and every history
            scales with it.
        seed: the same seed (with the same ``patients`` and ``as_of``) gives the
            same records with the same ids, so a second run writes nothing new.
        as_of: the day histories lead up to (default: today, UTC).
        history_days: how many days of mood history, at most, per patient.
        units: the plan (default: every unit).
        progress: where progress goes (default: nowhere).
        part, parts: seed only the patients (and providers) whose index modulo
            ``parts`` is ``part`` (``seeding.workers.seed_with_workers`` runs
            the parts in parallel processes).

    Raises:
        ValidationError: ``patients``, ``seed`` or ``history_days`` out of range.
    """
    check_scale(patients, seed, history_days)
    if not 0 <= part < parts:
        raise ValidationError("part must be 0..parts-1", field="part", rule="range")
    started = time.monotonic()
    hashing = HashingParameters(
        time_cost=db.settings.password_time_cost,
        memory_kib=db.settings.password_memory_kib,
        parallelism=db.settings.password_parallelism,
    )
    world = FixtureWorld(
        seed=seed,
        patients=patients,
        as_of=as_of or datetime.now(UTC).date(),
        history_days=history_days,
        part=part,
        parts=parts,
        password_hash=await asyncio.to_thread(hash_password, FIXTURE_PASSWORD, hashing),
    )
    results = []
    with acting_as(SEEDER), progress or NoProgress() as shown:
        for unit in units:
            results.append(await _run_unit(db, world, unit, shown))
        counts = await collection_counts(db, units)
    report = SeedReport(
        seed=seed,
        patients=patients,
        units=tuple(results),
        collection_counts=counts,
        seconds=time.monotonic() - started,
    )
    _log.info(
        "seeded %d records (%d already stored) in %.1f s",
        report.written,
        sum(unit.existing for unit in results),
        report.seconds,
    )
    return report


def check_scale(patients: int, seed: int, history_days: int) -> None:
    """Refuse a scale, seed or history length out of range (``ValidationError``)."""
    if not isinstance(patients, int) or not 1 <= patients <= MAX_PATIENTS:
        raise ValidationError(
            f"patients must be 1..{MAX_PATIENTS}", field="patients", rule="range"
        )
    if not isinstance(seed, int) or seed < 0:
        raise ValidationError("seed must be 0 or more", field="seed", rule="range")
    if not isinstance(history_days, int) or not 14 <= history_days <= 730:
        raise ValidationError(
            "history_days must be 14..730", field="history_days", rule="range"
        )


async def _run_unit(
    db: DatabaseManager, world: FixtureWorld, unit: SeedUnit, shown: SeedProgress
) -> UnitResult:
    repository = unit.repository(db)
    started = time.monotonic()
    written = existing = 0
    # A partly stored batch is narrowed with one page of ids, so no batch may
    # be larger than a page.
    size = min(unit.batch_size, db.settings.max_page_size)
    write = unit.write or _write_batch
    pending: list[Any] = []
    owners_pending = 0
    shown.start(unit.name, unit.owners(world))
    for group in unit.generate(world):
        pending.extend(group)
        owners_pending += 1
        while len(pending) >= size:
            batch, pending = pending[:size], pending[size:]
            new, old = await write(repository, batch)
            written, existing = written + new, existing + old
            shown.advance(owners_pending, len(batch))
            owners_pending = 0
    new, old = await write(repository, pending) if pending else (0, 0)
    written, existing = written + new, existing + old
    shown.advance(owners_pending, len(pending))
    shown.finish()
    seconds = time.monotonic() - started
    _log.info(
        "fixture unit %s: %d written, %d already stored, %.1f s",
        unit.name,
        written,
        existing,
        seconds,
    )
    return UnitResult(
        unit.name,
        repository.entity_model.collection_name(),
        written,
        existing,
        seconds,
    )


async def _write_batch(
    repository: Any, batch: list[WellnessDocument]
) -> tuple[int, int]:
    """Write the records of ``batch`` not stored yet; (written, already stored)."""
    if not batch:
        return 0, 0
    ids = [record.id for record in batch]
    stored = await repository.count(id__in=ids)
    if stored == len(ids):
        return 0, stored
    if stored:
        found = await repository.list_all(
            QueryOptions(filters={"id__in": ids}, fields=["id"], limit=len(ids))
        )
        known = {record.id for record in found.items}
        batch = [record for record in batch if record.id not in known]
    try:
        await repository.create_many(batch)
        return len(batch), len(ids) - len(batch)
    except DuplicateError:
        pass
    written = 0
    for record in batch:
        if await repository.exists(id=record.id):
            continue
        try:
            await repository.create(record)
            written += 1
        except DuplicateError:
            continue
    return written, len(ids) - written


async def collection_counts(
    db: DatabaseManager, units: Sequence[SeedUnit]
) -> dict[str, int]:
    """Visible records in each collection ``units`` write to, and the outbox."""
    from wellness_repo.repositories.notifications import (
        CrisisNotificationRepository,
    )

    classes = list(dict.fromkeys([*(unit.repository for unit in units)]))
    classes.append(CrisisNotificationRepository)
    counts: dict[str, int] = {}
    for repository_class in classes:
        repository = repository_class(db)
        name = repository.entity_model.collection_name()
        if name not in counts:
            counts[name] = await repository.count()
    return counts
