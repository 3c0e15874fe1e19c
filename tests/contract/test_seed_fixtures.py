"""The fixture seeder on both backends: idempotent, written through the
repositories' pipeline, and free of accidental crisis alerts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests.conftest import drop_and_close
from wellness_repo import DatabaseManager, connect
from wellness_repo.cli import main
from wellness_repo.errors import ValidationError
from wellness_repo.models.audit import AuditLog
from wellness_repo.models.journals import JournalEntry
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.appointments import AppointmentRepository
from wellness_repo.repositories.conversations import ConversationRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.security.context import acting_as
from wellness_repo.seeding import (
    FIXTURE_PASSWORD,
    SEED_UNITS,
    SEEDER,
    FixtureWorld,
    progress_for,
    seed_fixtures,
)
from wellness_repo.seeding.generators.conversations import conversations
from wellness_repo.seeding.generators.engagement import mood_entries
from wellness_repo.seeding.workers import SeedTarget, seed_with_workers

# Today: upcoming appointments are booked only while they lie ahead.
AS_OF = datetime.now(UTC).date()
# Seed 17 at this scale has past and recent crisis episodes, so every unit
# writes something.
SEED = 17
PATIENTS = 30
DAYS = 30
SEEDED_COLLECTIONS = (
    "providers",
    "user_accounts",
    "therapeutic_relationships",
    "treatment_plans",
    "therapy_sessions",
    "mood_entries",
    "journal_entries",
    "crisis_detections",
    "safety_plans",
    "provider_calendars",
    "medications",
    "dose_logs",
    "appointments",
    "conversations",
    "conversation_messages",
)


async def stored_counts(db: DatabaseManager) -> dict[str, int]:
    """Documents per collection, read around the repositories; slot
    reservations aside: the server's TTL monitor removes past ones at any time."""
    names = await db.database.list_collection_names()
    counts = {}
    for name in sorted(names):
        if name in (AuditLog.collection_name(), "appointment_slots") or (
            name.startswith("__")
        ):
            continue
        counts[name] = int(await db.database[name].count_documents({}))
    return counts


async def remove_fixtures(db: DatabaseManager) -> None:
    """Delete every seeded document, keeping indexes, keys and the audit trail."""
    for name in await db.database.list_collection_names():
        if name != AuditLog.collection_name() and not name.startswith("__"):
            await db.database[name].delete_many({})


async def seed(db: DatabaseManager, **changes: Any) -> Any:
    options: dict[str, Any] = {
        "patients": PATIENTS,
        "seed": SEED,
        "as_of": AS_OF,
        "history_days": DAYS,
    }
    options.update(changes)
    return await seed_fixtures(db, **options)


async def test_a_second_run_with_the_same_seed_duplicates_nothing(
    db: DatabaseManager,
) -> None:
    first = await seed(db)
    after_first = await stored_counts(db)

    second = await seed(db)

    assert await stored_counts(db) == after_first
    assert all(after_first[name] > 0 for name in SEEDED_COLLECTIONS), after_first
    assert second.written == 0
    assert all(unit.written > 0 for unit in first.units), first.summary()
    assert [unit.existing for unit in second.units] == [
        unit.written for unit in first.units
    ]


async def test_a_run_interrupted_part_way_is_completed_without_duplicates(
    db: DatabaseManager,
) -> None:
    reference = await seed(db)
    expected = await stored_counts(db)
    await remove_fixtures(db)
    fixtures = FixtureWorld(
        seed=SEED, patients=PATIENTS, as_of=AS_OF, history_days=DAYS
    )
    some_moods = [entry for group in mood_entries(fixtures) for entry in group][:70]
    await seed(db, units=SEED_UNITS[:4])
    with acting_as(SEEDER):
        await MoodEntryRepository(db).create_many(some_moods)

    resumed = await seed(db)

    assert await stored_counts(db) == expected
    moods = next(unit for unit in resumed.units if unit.name == "mood entries")
    assert moods.existing == 70
    assert resumed.written + sum(u.existing for u in resumed.units) == (
        reference.written
    )


async def test_bulk_loaded_journals_and_conversations_raise_no_crisis_detections(
    db: DatabaseManager,
) -> None:
    report = await seed(db)

    crises = next(unit for unit in report.units if unit.name == "crisis detections")
    assert report.collection_counts["journal_entries"] > 0
    assert report.collection_counts["conversations"] > 0
    assert report.collection_counts["crisis_detections"] == crises.written


async def test_bulk_writes_are_audited_once_per_batch_not_per_record(
    db: DatabaseManager,
) -> None:
    report = await seed(db)
    bulk = {"MoodEntry": "mood entries", "DoseLog": "dose logs"}
    written = {unit.name: unit.written for unit in report.units}

    for kind, unit in bulk.items():
        entries = int(
            await db.collection(AuditLog).count_documents(
                {"resource_type": kind, "action_type": "create"}
            )
        )
        assert 0 < entries < written[unit] / 20, kind


async def test_seeded_journal_text_is_stored_encrypted(db: DatabaseManager) -> None:
    await seed(db)

    raw = await db.collection(JournalEntry).find_one({})

    assert raw is not None
    assert not isinstance(raw["content"], str)


async def test_fixture_accounts_sign_in_with_the_fixture_password(
    db: DatabaseManager,
) -> None:
    await seed(db, patients=3)
    with acting_as(SEEDER):
        accounts = UserAccountRepository(db)
        patient = (await accounts.find_by(role="patient"))[0]

        result = await accounts.authenticate_user(patient.email, FIXTURE_PASSWORD)

    assert result.account.id == patient.id


async def test_a_scale_out_of_range_is_refused_before_anything_is_written(
    db: DatabaseManager,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await seed(db, patients=0)

    assert refused.value.field == "patients"
    assert await stored_counts(db) == dict.fromkeys(await stored_counts(db), 0)


def test_the_seed_command_needs_a_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WELLNESS_MONGODB_URI", raising=False)
    monkeypatch.delenv("WELLNESS_TEST_MONGODB_URI", raising=False)

    code = main(["seed", "--patients", "5"])

    assert code == 2
    assert "--uri" in capsys.readouterr().err


@pytest.mark.integration
def test_the_seed_command_seeds_a_real_server_and_prints_counts(
    mongodb_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"test_seed_cli_{uuid.uuid4().hex[:12]}"
    arguments = ["seed", "--uri", mongodb_uri, "--database", name]
    arguments += ["--patients", "4", "--seed", "3", "--days", "21"]
    arguments += ["--as-of", "2026-11-30", "--no-progress"]
    try:
        code = main(arguments)
        again = main(arguments)
    finally:
        import asyncio

        async def drop() -> None:
            db = await connect(mongodb_uri, name, context=SEEDER, apply_indexes=False)
            await drop_and_close(db)

        asyncio.run(drop())

    printed = capsys.readouterr().out
    assert (code, again) == (0, 0)
    assert "mood_entries" in printed
    assert "0 records written" in printed


@pytest.mark.integration
async def test_worker_processes_seed_the_same_records_as_one_process(
    mongodb_uri: str,
) -> None:
    single, split = (f"test_seed_workers_{uuid.uuid4().hex[:10]}" for _ in "ab")
    counts = []
    try:
        for name, workers in ((single, 1), (split, 2)):
            target = SeedTarget(mongodb_uri, name, f"{name}.__keyVault")
            await seed_with_workers(
                target,
                workers=workers,
                patients=8,
                seed=SEED,
                as_of=AS_OF,
                history_days=21,
            )
            db = await target.open()
            counts.append(await stored_counts(db))
            await drop_and_close(db)
    finally:
        async with AsyncMongoClient(mongodb_uri) as client:
            for name in (single, split):
                await client.drop_database(name)

    assert counts[0] == counts[1]
    assert counts[0]["mood_entries"] > 0


async def test_progress_shows_a_bar_per_unit_when_asked(
    db: DatabaseManager, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(db, patients=3, history_days=14, progress=progress_for(True))

    shown = capsys.readouterr().err
    assert all(unit.name in shown for unit in SEED_UNITS)


async def test_seeded_conversations_keep_their_ids_and_counters_match_messages(
    db: DatabaseManager,
) -> None:
    await seed(db, patients=6, history_days=14)
    fixtures = FixtureWorld(seed=SEED, patients=6, as_of=AS_OF, history_days=14)
    expected = [item for group in conversations(fixtures) for item in group]

    with acting_as(SEEDER):
        repository = ConversationRepository(db)
        stored = {item.id: item for item in await repository.find_by()}
        for item in expected:
            conversation = stored[item.id]
            messages = await repository.messages.count(conversation_id=item.id)
            assert conversation.user_message_count == len(item.messages)
            assert conversation.message_count == messages == 2 * len(item.messages)
            assert conversation.is_active is not item.closed
    assert expected
    assert set(stored) == {item.id for item in expected}


async def test_upcoming_appointments_are_booked_and_past_ones_imported(
    db: DatabaseManager,
) -> None:
    await seed(db, patients=6, history_days=21)

    with acting_as(SEEDER):
        found = await AppointmentRepository(db).find_by()
    now = datetime.now(UTC)
    ahead = [visit for visit in found if visit.scheduled_start > now]
    past = [visit for visit in found if visit.scheduled_end <= now]
    assert ahead
    assert past
    assert all(visit.is_active for visit in ahead)
    assert not [visit for visit in past if visit.is_active]
