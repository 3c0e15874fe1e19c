"""The database manager: health reports, closing, the access context every call
needs, and the embedded backend's documented stand-in for transactions."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import drop_and_close, open_database
from tests.support.models import TEST_MODELS, CarePlanRecord
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    AsyncBaseRepository,
    BackendKind,
    DatabaseManager,
    MoodEntry,
    PurposeOfUse,
    RepositoryError,
    Settings,
    UserRole,
    ValidationError,
    acting_as,
    connect,
    create_mood_entry_repository,
)
from wellness_repo.security.policy import PermitAllPolicy

THERAPIST = AccessContext(actor_id="therapist_456", role=UserRole.THERAPIST)


@pytest.fixture
async def service_db(backend: str, mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    """A database opened the way a service opens it: with no default context.

    These tests are about contexts, not the role policy (which has its own
    suites), so the policy permits whatever a context may do.
    """
    manager = await connect(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        document_models=TEST_MODELS,
        policy=PermitAllPolicy(),
    )
    try:
        yield manager
    finally:
        await drop_and_close(manager)


@pytest.fixture
async def embedded_db() -> AsyncIterator[DatabaseManager]:
    """A fresh database on the embedded backend only."""
    manager = await open_database(None)
    try:
        yield manager
    finally:
        await drop_and_close(manager)


def mood_entry(**changes: Any) -> MoodEntry:
    """An evening mood check-in."""
    values: dict[str, Any] = {
        "user_id": "patient_123",
        "mood_rating": 6,
        "notes": "Calmer after the group session",
    }
    values.update(changes)
    return MoodEntry(**values)


def emergency_grant(expires_in: timedelta) -> AccessContext:
    """A break-glass grant to an on-call psychiatrist."""
    return AccessContext(
        actor_id="psychiatrist_on_call",
        role=UserRole.PSYCHIATRIST,
        purpose=PurposeOfUse.EMERGENCY,
        emergency_reason="patient reported an overdose on the crisis line",
        expires_at=datetime.now(UTC) + expires_in,
    )


async def stored_count(db: DatabaseManager, model: type[Any] = MoodEntry) -> int:
    return int(await db.collection(model).count_documents({}))


# ----------------------------------------------------------------- health


async def test_health_reports_an_open_connection_as_ok(
    db: DatabaseManager, backend: str
) -> None:
    report = await db.health()

    assert report.ok is True
    assert report.backend is BackendKind(backend)
    assert report.database == db.database_name
    assert report.server_version
    assert report.latency_ms >= 0
    assert report.detail is None


async def test_health_reports_whether_transactions_are_real(
    db: DatabaseManager, backend: str
) -> None:
    report = await db.health()

    if backend == "embedded":
        assert (report.transactions, report.replica_set) == (False, None)
    else:
        assert (report.transactions, report.replica_set) == (True, "rs0")


async def test_health_reports_the_server_version(
    db: DatabaseManager, backend: str
) -> None:
    report = await db.health()

    if backend == "embedded":
        assert report.server_version.endswith("-embedded")
    else:
        assert report.server_version == "6.0.5"


async def test_health_of_a_closed_connection_is_not_ok(
    backend: str, mongodb_uri: str
) -> None:
    manager = await open_database(None if backend == "embedded" else mongodb_uri)
    await manager.client.drop_database(manager.database_name)
    await manager.close()

    report = await manager.health()

    assert report.ok is False
    assert report.detail


async def test_closing_twice_is_safe_and_closes_once(
    backend: str, mongodb_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    manager = await open_database(None if backend == "embedded" else mongodb_uri)
    await manager.client.drop_database(manager.database_name)
    caplog.set_level(logging.INFO, logger="wellness_repo.database")
    await manager.close()

    await manager.close()

    closings = [r for r in caplog.records if r.getMessage().startswith("closed")]
    assert len(closings) == 1


# --------------------------------------------------------- access context


async def test_a_call_without_any_context_is_denied_and_writes_nothing(
    service_db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(service_db)

    with pytest.raises(AccessDeniedError):
        await moods.create(mood_entry())

    assert await stored_count(service_db) == 0


@pytest.mark.parametrize("call", ["list_all", "count", "find_by"])
async def test_a_read_without_any_context_is_denied(
    service_db: DatabaseManager, call: str
) -> None:
    moods = create_mood_entry_repository(service_db)

    with pytest.raises(AccessDeniedError):
        await getattr(moods, call)()


async def test_a_call_inside_acting_as_is_allowed(
    service_db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(service_db)

    with acting_as(THERAPIST):
        created = await moods.create(mood_entry())

    assert await stored_count(service_db) == 1
    assert created.revision == 1


async def test_an_unexpired_emergency_grant_is_allowed(
    service_db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(service_db)

    with acting_as(emergency_grant(timedelta(minutes=30))):
        await moods.create(mood_entry())

    assert await stored_count(service_db) == 1


async def test_an_expired_emergency_grant_may_not_write(
    service_db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(service_db)

    with (
        acting_as(emergency_grant(timedelta(seconds=-1))),
        pytest.raises(AccessDeniedError),
    ):
        await moods.create(mood_entry())

    assert await stored_count(service_db) == 0


async def test_an_expired_emergency_grant_may_not_read(
    service_db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(service_db)
    with acting_as(THERAPIST):
        entry = await moods.create(mood_entry())

    with (
        acting_as(emergency_grant(timedelta(seconds=-1))),
        pytest.raises(AccessDeniedError),
    ):
        await moods.get_by_id(entry.id)


async def test_acting_as_takes_precedence_over_the_default_context(
    db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(db)
    entry = await moods.create(mood_entry())

    with acting_as(THERAPIST):
        await moods.delete(entry.id)

    raw = await db.collection(MoodEntry).find_one({"_id": entry.id})
    assert raw is not None
    assert raw["deleted_by"] == "therapist_456"


# --------------------------------------------------------------- connect


async def test_connect_refuses_a_uri_that_is_not_mongodb() -> None:
    with pytest.raises(ValidationError) as raised:
        await connect("postgresql://clinic:s3cr3t-pw@db.internal/wellness")

    assert (raised.value.field, raised.value.rule) == ("uri", "scheme")
    assert "s3cr3t-pw" not in str(raised.value)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("tz_aware", False),
        ("tzinfo", None),
        ("TZINFO", None),
        ("tzInfo", None),
        ("document_class", dict),
        ("datetime_conversion", "DATETIME_AUTO"),
    ],
)
async def test_connect_refuses_driver_options_that_change_how_records_decode(
    option: str, value: Any
) -> None:
    # Reads rely on UTC-aware datetimes in plain dicts; refused before any
    # connection is made, so no server needs to answer at this address.
    with pytest.raises(ValidationError) as raised:
        await connect("mongodb://127.0.0.1:9", driver_options={option: value})

    assert (raised.value.field, raised.value.rule) == (
        f"driver_options.{option}",
        "fixed_option",
    )


async def test_an_unreachable_server_fails_fast_without_echoing_the_password() -> None:
    settings = Settings(server_selection_timeout_ms=300, connect_timeout_ms=300)

    with pytest.raises(RepositoryError) as raised:
        await connect("mongodb://clinic:s3cr3t-pw@127.0.0.1:9", settings=settings)

    assert "s3cr3t-pw" not in str(raised.value)
    assert "cannot reach" in str(raised.value)


# ------------------------------------- transactions on the embedded backend


async def test_embedded_backend_reports_no_real_transactions(
    embedded_db: DatabaseManager,
) -> None:
    supported = embedded_db.supports_transactions

    assert supported is False


async def test_embedded_transaction_keeps_writes_made_before_a_failure(
    embedded_db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(embedded_db, model=CarePlanRecord)

    async def admit() -> None:
        async with embedded_db.transaction():
            await plans.create(CarePlanRecord(patient_id="patient_123", title="DBT"))
            raise RuntimeError("pharmacy feed down")

    with pytest.raises(RuntimeError, match="pharmacy feed down"):
        await admit()

    assert await stored_count(embedded_db, CarePlanRecord) == 1


async def test_embedded_transactions_do_not_interleave(
    embedded_db: DatabaseManager,
) -> None:
    steps: list[str] = []

    async def discharge(name: str) -> None:
        async with embedded_db.transaction():
            steps.append(f"{name} starts")
            await asyncio.sleep(0.01)
            steps.append(f"{name} ends")

    await asyncio.gather(discharge("first"), discharge("second"))

    assert steps == ["first starts", "first ends", "second starts", "second ends"]


async def test_embedded_nested_transaction_joins_the_outer_one(
    embedded_db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(embedded_db, model=CarePlanRecord)

    async def admit() -> None:
        async with embedded_db.transaction():
            await plans.create(CarePlanRecord(patient_id="patient_123", title="DBT"))
            async with embedded_db.transaction():
                await plans.create(
                    CarePlanRecord(patient_id="patient_123", title="Safety plan")
                )

    await asyncio.wait_for(admit(), timeout=2)

    assert await stored_count(embedded_db, CarePlanRecord) == 2


async def test_embedded_run_in_transaction_returns_the_result_and_keeps_writes(
    embedded_db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(embedded_db, model=CarePlanRecord)

    async def start_plan() -> CarePlanRecord:
        return await plans.create(
            CarePlanRecord(patient_id="patient_123", title="Exposure therapy")
        )

    plan = await embedded_db.run_in_transaction(start_plan)

    assert (await plans.get(plan.id)).title == "Exposure therapy"
