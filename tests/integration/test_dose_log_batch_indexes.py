"""The batched dose-log path's reads are served by indexes on the real server:
the batch's medications by id, and the check for doses already logged by the
unique ``(medication_id, scheduled_for)`` index; no scan, no in-memory sort."""

from __future__ import annotations

import pytest

from tests.integration.test_medication_indexes import (
    PATIENTS,
    on_medication_data,
    scan_problems,
    seed,
)
from tests.support.explain import recorded_database
from tests.support.medication_data import days_back, local_instant
from wellness_repo import DoseLog, MedicationRepository

pytestmark = pytest.mark.integration


async def test_a_batch_of_doses_reads_through_indexes_only(mongodb_uri: str) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        repo = MedicationRepository(db)
        lamotrigine = (await seed(repo))["Lamotrigine"]
        batch = [
            DoseLog(
                patient_id=PATIENTS[7],
                medication_id=lamotrigine.id,
                status="taken",
                scheduled_for=local_instant(day, clock),
                taken_at=local_instant(day, clock),
                local_date=day,
                local_time=clock,
                weekday=day.isoweekday(),
                recorded_by=PATIENTS[7],
            )
            for day in (days_back(2), days_back(1))
            for clock in ("08:00", "20:00")
        ]
        recorder.recording = True

        await repo.doses.create_many(batch)
        recorder.recording = False

        reads = [
            command
            for command in recorder.commands
            if on_medication_data(command) and "find" in command
        ]
        problems = {}
        for command in reads:
            found = await scan_problems(db, command)
            if found:
                problems[repr(command)[:300]] = found

    assert len(reads) >= 2
    assert problems == {}
