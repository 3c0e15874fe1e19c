"""Scheduling: each clinician's calendar and each patient's appointments.

Every clinician works weekdays, eight hours from 08:00, 09:00 or 10:00 in the
US time zone of their clinic, with a ten-minute buffer between visits. Each
patient in treatment keeps one weekly hour with their clinician (so no two of
a caseload's visits collide): an intake first, then weekly therapy sessions.
Visits before ``as_of`` are history (mostly completed, some no-shows, some
cancelled by the patient or the clinic); the next three weekly visits from
``as_of`` on are upcoming (scheduled, some already confirmed).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wellness_repo.models.appointments import (
    Appointment,
    AppointmentModality,
    AppointmentStatus,
    AppointmentType,
    Cancellation,
    CancelledBy,
)
from wellness_repo.models.provider_calendars import (
    ProviderCalendar,
    Weekday,
    WorkingHours,
)
from wellness_repo.seeding.world import FixtureWorld

__all__ = [
    "UPCOMING_WEEKS",
    "US_TIME_ZONES",
    "appointments",
    "provider_calendars",
    "provider_zone",
]

US_TIME_ZONES = (
    ("America/New_York", 45),
    ("America/Chicago", 25),
    ("America/Denver", 10),
    ("America/Los_Angeles", 20),
)
"""The clinics' zones, weighted roughly by population."""
UPCOMING_WEEKS = 3
_WORKDAYS = tuple(Weekday)[:5]
_DAY_STARTS = (8, 9, 9, 10)
_VISIT_MINUTES = 50
_CLINIC = "Suite 210, 400 Main Street"
_CANCEL_REASONS = {
    CancelledBy.PATIENT: (
        "Patient unwell with a cold",
        "Childcare fell through",
        "Work shift changed at short notice",
    ),
    CancelledBy.CLINIC: ("Clinician out sick", "Clinic closed for staff training"),
}


def provider_zone(world: FixtureWorld, provider_index: int) -> str:
    """The IANA zone of clinician ``provider_index``'s clinic (their patients
    live there too)."""
    rng = world.random("provider-zone", provider_index)
    zones = [zone for zone, _ in US_TIME_ZONES]
    return rng.choices(zones, [weight for _, weight in US_TIME_ZONES])[0]


def _day_start(world: FixtureWorld, provider_index: int) -> int:
    return world.random("provider-hours", provider_index).choice(_DAY_STARTS)


def provider_calendars(world: FixtureWorld) -> Iterator[list[ProviderCalendar]]:
    """One calendar per clinician: weekdays, eight hours, in their zone."""
    for index in world.provider_indices():
        start = _day_start(world, index)
        yield [
            ProviderCalendar(
                id=world.id("calendar", index),
                provider_id=world.provider_id(index),
                time_zone=provider_zone(world, index),
                weekly_hours=[
                    WorkingHours(weekday=day, start=time(start), end=time(start + 8))
                    for day in _WORKDAYS
                ],
                buffer_minutes=10,
                created_at=world.at(world.first_day, 8),
            )
        ]


def appointments(world: FixtureWorld) -> Iterator[list[Appointment]]:
    """Each patient's visits: the past ones with their outcome, then the
    upcoming ones (ordered by time)."""
    for index in world.patient_indices():
        profile = world.profile(index)
        if profile.treatment_start is None:
            yield []
            continue
        rng = world.random("appointments", index)
        zone = ZoneInfo(provider_zone(world, profile.provider_index))
        # The patient's place in the caseload decides their weekly hour.
        place = index // world.providers
        weekday = place % 5
        hour = _day_start(world, profile.provider_index) + 1 + (place // 5) % 6
        modality = rng.choice(
            (AppointmentModality.IN_PERSON, AppointmentModality.TELEHEALTH)
        )
        day = profile.treatment_start + timedelta(
            days=(weekday - profile.treatment_start.weekday()) % 7
        )
        last = world.as_of + timedelta(weeks=UPCOMING_WEEKS)
        visits = []
        week = 0
        while day < last:
            start = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
            visit = _visit(world, index, week, start, modality, rng)
            if day >= world.first_day:
                visits.append(
                    visit if day >= world.as_of else _outcome(world, visit, rng)
                )
            week += 1
            day += timedelta(weeks=1)
        yield visits


def _visit(
    world: FixtureWorld,
    index: int,
    week: int,
    start: datetime,
    modality: AppointmentModality,
    rng: random.Random,
) -> Appointment:
    profile = world.profile(index)
    key = f"{index}:{week}"
    place: dict[str, object] = {}
    if modality is AppointmentModality.IN_PERSON:
        place["location"] = _CLINIC
    else:
        place["telehealth_link"] = (
            f"https://telehealth.example.org/visit/{world.id('visit', key)}"
        )
    booked = start - timedelta(days=rng.randint(6, 13))
    return Appointment(
        id=world.id("appointment", key),
        provider_id=profile.provider_id,
        patient_id=profile.patient_id,
        appointment_type=(
            AppointmentType.INTAKE_ASSESSMENT
            if week == 0
            else AppointmentType.THERAPY_SESSION
        ),
        modality=modality,
        scheduled_start=start,
        duration_minutes=_VISIT_MINUTES,
        status=(
            AppointmentStatus.CONFIRMED
            if rng.random() < 0.4
            else AppointmentStatus.SCHEDULED
        ),
        agenda=["Review the week and homework"] if week else ["Intake assessment"],
        booked_by=profile.provider_id,
        created_at=booked,
        **place,
    )


def _outcome(
    world: FixtureWorld, visit: Appointment, rng: random.Random
) -> Appointment:
    """A past visit as it turned out: completed (about 85%), a no-show (about
    7%) or cancelled (about 8%, mostly by the patient, some late)."""
    roll = rng.random()
    start = visit.scheduled_start
    changes: dict[str, object] = {"confirmed_at": start - timedelta(days=1)}
    if roll < 0.85 or visit.appointment_type is AppointmentType.INTAKE_ASSESSMENT:
        changes.update(
            status=AppointmentStatus.COMPLETED,
            checked_in_at=start - timedelta(minutes=rng.randint(2, 10)),
            completed_at=start + timedelta(minutes=visit.duration_minutes),
        )
    elif roll < 0.92:
        changes.update(status=AppointmentStatus.NO_SHOW)
    else:
        party = CancelledBy.PATIENT if rng.random() < 0.8 else CancelledBy.CLINIC
        notice = timedelta(hours=rng.choice((3, 12, 30, 50, 72)))
        cancelled_at = start - notice
        changes.update(
            status=AppointmentStatus.CANCELLED,
            confirmed_at=None,
            cancellation=Cancellation(
                reason=rng.choice(_CANCEL_REASONS[party]),
                cancelled_by=(
                    visit.patient_id
                    if party is CancelledBy.PATIENT
                    else visit.provider_id
                ),
                cancelled_by_party=party,
                cancelled_at=cancelled_at,
                late=notice < timedelta(hours=24),
                notice_minutes=int(notice.total_seconds() // 60),
            ),
        )
    values = visit.model_dump()
    values.update(changes)
    outcome: Appointment = Appointment.model_validate(values)
    return outcome
