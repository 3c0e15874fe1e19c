"""Every query the appointment, calendar, reservation and reminder repositories
send is served by an index on the real server, over a seeded month of a
clinic's appointments: no collection scan, no unpinned in-memory sort, no index
walked end to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.appointment_data import (
    THERAPIST,
    local,
    next_weekday,
    therapy_session,
    weekday_after,
    weekday_calendar,
)
from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import (
    AppointmentReminder,
    AppointmentRepository,
    DatabaseManager,
    ProviderCalendarRepository,
    ReminderDispatcher,
    ReminderType,
)

pytestmark = pytest.mark.integration

PROVIDERS = [f"therapist_{number:03d}" for number in range(8)]
COLLECTIONS = (
    "appointments",
    "provider_calendars",
    "appointment_slots",
    "appointment_reminders",
)
COMMANDS = ("find", "aggregate", "count", "findAndModify", "update", "delete")


def on_appointment_collections(command: dict[str, Any]) -> bool:
    return any(command.get(name) in COLLECTIONS for name in COMMANDS)


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    found = await unindexed_stages(db, command)
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    planner = explained.get("queryPlanner", {})
    for stage in plan_stages(planner.get("winningPlan", {})):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
    return found


async def seed_clinic(db: DatabaseManager) -> AppointmentRepository:
    """Eight therapists, each seeing four patients a day for two weeks."""
    calendars = ProviderCalendarRepository(db)
    appointments = AppointmentRepository(db)
    first = next_weekday()
    for provider in [*PROVIDERS, THERAPIST]:
        await calendars.create(weekday_calendar(provider))
    for offset in range(14):
        day = first + timedelta(days=offset)
        if day.weekday() > 4:
            continue
        for number, provider in enumerate(PROVIDERS):
            for hour in (9, 11, 13, 15):
                patient = f"patient_{number:02d}{hour:02d}"
                await appointments.create(
                    therapy_session(
                        local(day, hour), provider_id=provider, patient_id=patient
                    )
                )
    return appointments


async def test_appointment_queries_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        appointments = await seed_clinic(db)
        day = next_weekday()
        recorder.recording = True

        booked = await appointments.create(
            therapy_session(local(day, 16), provider_id=PROVIDERS[0])
        )
        await appointments.check_availability(PROVIDERS[1], local(day, 10), 50)
        await appointments.find_free_slots(
            PROVIDERS[2], local(day, 0), local(day, 0) + timedelta(days=7), 50
        )
        page = await appointments.appointments_for_patient(
            "patient_0109", start=local(day, 0), limit=3
        )
        await appointments.appointments_for_patient(
            "patient_0109", limit=3, after=page.next_cursor
        )
        await appointments.provider_schedule(
            PROVIDERS[3], local(day, 0), local(day, 0) + timedelta(days=5)
        )
        await appointments.send_appointment_reminders(
            booked.id, [ReminderType.EMAIL, ReminderType.SMS]
        )
        await appointments.reminders.reminders_for_appointment(booked.id)
        await appointments.reschedule(booked.id, local(weekday_after(day), 14))
        recorder.recording = False  # the clock moves on: every reminder is due
        await db.collection(AppointmentReminder).update_many(
            {}, {"$set": {"available_at": local(day, 0) - timedelta(days=30)}}
        )
        recorder.recording = True
        await ReminderDispatcher(appointments.reminders).dispatch_due()
        await appointments.cancel(booked.id, "Patient started a new job")
        recorder.recording = False

        commands = [c for c in recorder.commands if on_appointment_collections(c)]
        problems = {}
        for command in commands:
            found = await scan_problems(db, command)
            if found:
                problems[repr(command)[:300]] = found

    assert len(commands) > 20
    assert problems == {}
