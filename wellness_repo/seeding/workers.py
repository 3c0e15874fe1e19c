"""Seeding with several processes at once, for large fixture sets.

Writing a record through the pipeline is CPU work (validation, field encryption
with each patient's own key, the journals' tone and crisis reading), so one
process is bound by one core. Here the records about no single patient
(providers and clinicians' accounts) are written first by the coordinating
process, which also creates the shared data keys once; then ``workers``
processes each seed every ``workers``-th patient, all of that patient's records,
so no two processes ever write for the same patient or create the same key.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from wellness_repo.database.manager import DatabaseManager, connect
from wellness_repo.seeding.plan import SEED_UNITS, per_provider
from wellness_repo.seeding.progress import SeedProgress
from wellness_repo.seeding.runner import (
    SEEDER,
    SeedReport,
    UnitResult,
    check_scale,
    collection_counts,
    seed_fixtures,
)

__all__ = ["SeedTarget", "seed_with_workers"]


@dataclass(frozen=True, slots=True)
class SeedTarget:
    """Where worker processes connect: each opens its own connection.

    ``key_vault_namespace`` overrides the settings' key vault (a throwaway
    database can keep its keys inside itself).
    """

    uri: str
    database: str | None = None
    key_vault_namespace: str | None = None

    async def open(self) -> DatabaseManager:
        """A connection under the seeder's context."""
        cipher = None
        if self.key_vault_namespace is not None:
            from wellness_repo.security.field_cipher import CsfleCipher

            cipher = CsfleCipher(key_vault_namespace=self.key_vault_namespace)
        return await connect(
            self.uri, self.database, context=SEEDER, apply_indexes=False, cipher=cipher
        )


async def seed_with_workers(
    target: SeedTarget,
    *,
    workers: int,
    patients: int,
    seed: int = 0,
    as_of: date | None = None,
    history_days: int = 90,
    progress: SeedProgress | None = None,
) -> SeedReport:
    """Seed as :func:`~wellness_repo.seeding.seed_fixtures` does, with
    ``workers`` processes sharing the patients; the records are the same.

    ``progress`` shows the coordinating process's part only (the providers).
    """
    check_scale(patients, seed, history_days)
    day = as_of or datetime.now(UTC).date()
    started = time.monotonic()
    shared = [unit for unit in SEED_UNITS if unit.owners is per_provider]
    db = await target.open()
    try:
        first = await seed_fixtures(
            db,
            patients=patients,
            seed=seed,
            as_of=day,
            history_days=history_days,
            units=shared,
            progress=progress,
        )
        jobs = [
            (target, part, workers, patients, seed, day, history_days)
            for part in range(workers)
        ]
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            parts = await asyncio.gather(
                *(loop.run_in_executor(pool, _seed_part, job) for job in jobs)
            )
        with_patients = [unit for unit in SEED_UNITS if unit not in shared]
        merged = list(first.units) + _merged(with_patients, parts)
        from wellness_repo.security.context import acting_as

        with acting_as(SEEDER):
            counts = await collection_counts(db, SEED_UNITS)
    finally:
        await db.close()
    return SeedReport(
        seed=seed,
        patients=patients,
        units=tuple(merged),
        collection_counts=counts,
        seconds=time.monotonic() - started,
    )


def _merged(units: list[Any], parts: list[tuple[UnitResult, ...]]) -> list[UnitResult]:
    merged = []
    for position, unit in enumerate(units):
        results = [part[position] for part in parts]
        merged.append(
            UnitResult(
                unit.name,
                results[0].collection,
                sum(result.written for result in results),
                sum(result.existing for result in results),
                max(result.seconds for result in results),
            )
        )
    return merged


def _seed_part(job: tuple[Any, ...]) -> tuple[UnitResult, ...]:
    """One worker process: seed its share of the patients."""
    target, part, parts, patients, seed, day, history_days = job

    async def run() -> tuple[UnitResult, ...]:
        db = await target.open()
        try:
            report = await seed_fixtures(
                db,
                patients=patients,
                seed=seed,
                as_of=day,
                history_days=history_days,
                units=[unit for unit in SEED_UNITS if unit.owners is not per_provider],
                part=part,
                parts=parts,
            )
        finally:
            await db.close()
        return report.units

    return asyncio.run(run())
