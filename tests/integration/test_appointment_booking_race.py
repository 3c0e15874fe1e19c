"""Race-safe booking on the real server: many clients booking overlapping times
at once, each over its own connection, leave exactly one booking and no
orphaned reservations; the same holds for one patient across providers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from tests.conftest import reuse_database
from tests.support.appointment_data import (
    PSYCHIATRIST,
    THERAPIST,
    local,
    next_weekday,
    therapy_session,
    weekday_calendar,
)
from wellness_repo import (
    Appointment,
    AppointmentRepository,
    AppointmentType,
    BookingConflictError,
    DatabaseManager,
    ProviderCalendarRepository,
)
from wellness_repo.models.appointment_slots import SlotReservation

pytestmark = pytest.mark.integration

CLIENTS = 20
DAY = next_weekday()


@pytest.fixture
async def clients(
    mongo_db: DatabaseManager, mongodb_uri: str
) -> AsyncIterator[list[AppointmentRepository]]:
    """Twenty booking services, each with its own connection to the database."""
    calendars = ProviderCalendarRepository(mongo_db)
    await calendars.create(weekday_calendar(THERAPIST))
    await calendars.create(weekday_calendar(PSYCHIATRIST, buffer_minutes=0))
    async with AsyncExitStack() as stack:
        repositories = []
        for _ in range(CLIENTS):
            manager = await reuse_database(mongodb_uri, mongo_db.database_name)
            stack.push_async_callback(manager.close)
            repositories.append(AppointmentRepository(manager))
        yield repositories


async def test_twenty_overlapping_bookings_for_one_provider_leave_exactly_one(
    mongo_db: DatabaseManager, clients: list[AppointmentRepository]
) -> None:
    requests = [
        therapy_session(local(DAY, 10, 5 * (n % 6)), patient_id=f"patient_{n:03d}")
        for n in range(CLIENTS)
    ]

    outcomes = await asyncio.gather(
        *(
            repo.create(request)
            for repo, request in zip(clients, requests, strict=True)
        ),
        return_exceptions=True,
    )

    booked = [item for item in outcomes if isinstance(item, Appointment)]
    refused = [item for item in outcomes if isinstance(item, BookingConflictError)]
    assert (len(booked), len(refused)) == (1, CLIENTS - 1), outcomes
    assert await mongo_db.collection(Appointment).count_documents({}) == 1
    reservations = mongo_db.collection(SlotReservation)
    active = await reservations.count_documents({"active": True})
    assert active == 12 + 10
    assert (
        await reservations.count_documents(
            {"active": True, "appointment_id": {"$ne": booked[0].id}}
        )
        == 0
    )


async def test_one_patient_booked_with_two_providers_at_once_gets_one_booking(
    mongo_db: DatabaseManager, clients: list[AppointmentRepository]
) -> None:
    requests = [
        therapy_session(local(DAY, 14)),
        therapy_session(
            local(DAY, 14, 20),
            provider_id=PSYCHIATRIST,
            appointment_type=AppointmentType.MEDICATION_MANAGEMENT,
            duration_minutes=30,
        ),
    ]

    outcomes = await asyncio.gather(
        *(clients[n].create(request) for n, request in enumerate(requests)),
        return_exceptions=True,
    )

    assert sum(isinstance(item, Appointment) for item in outcomes) == 1
    assert sum(isinstance(item, BookingConflictError) for item in outcomes) == 1
    assert await mongo_db.collection(Appointment).count_documents({}) == 1


async def test_racing_reschedules_onto_one_free_time_move_only_one(
    mongo_db: DatabaseManager, clients: list[AppointmentRepository]
) -> None:
    first, second = clients[0], clients[1]
    one = await first.create(therapy_session(local(DAY, 9), patient_id="patient_a1"))
    two = await first.create(therapy_session(local(DAY, 12), patient_id="patient_b2"))

    outcomes = await asyncio.gather(
        first.reschedule(one.id, local(DAY, 15)),
        second.reschedule(two.id, local(DAY, 15, 15)),
        return_exceptions=True,
    )

    moved = [item for item in outcomes if isinstance(item, Appointment)]
    assert len(moved) == 1
    assert sum(isinstance(item, BookingConflictError) for item in outcomes) == 1
    assert await mongo_db.collection(SlotReservation).count_documents(
        {"active": True}
    ) == 2 * (12 + 10)
