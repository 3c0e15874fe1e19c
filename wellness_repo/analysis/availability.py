"""Whether a provider can see someone at a given time, and which times are free:
pure functions over a provider's calendar rules and the intervals already booked.

Working hours are wall-clock times in the provider's IANA zone; everything else
(appointments, exceptions, the times asked about) is an instant in UTC. Each
working window is turned into instants for the local date it falls on, with
``zoneinfo``, so a 09:00 start is 14:00 UTC in January in New York and 13:00 UTC
after the March change, and a window is never shifted by a daylight-saving
transition that happens elsewhere in the week.

An appointment holds its provider from its start to its end plus the calendar's
buffer; two appointments conflict when those spans overlap. The same rule is
what the booking's slot reservations enforce, so a time found free here is one
the booking accepts unless someone else books it first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "Availability",
    "BlockedPeriod",
    "BusyInterval",
    "CalendarRules",
    "Unavailable",
    "WorkingWindow",
    "check_slot",
    "free_slots",
    "local_window_instants",
    "reserved_span",
]


@dataclass(frozen=True, slots=True)
class WorkingWindow:
    """A weekly working window: ``weekday`` 0 (Monday) to 6, local times."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class BlockedPeriod:
    """A period the provider cannot be booked (vacation, blocked time), UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """An appointment already holding the provider, UTC, without its buffer."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """A provider's calendar as the availability functions read it."""

    time_zone: str
    windows: tuple[WorkingWindow, ...]
    blocked: tuple[BlockedPeriod, ...] = ()
    buffer_minutes: int = 0


class Unavailable(StrEnum):
    """Why a time cannot be booked."""

    OUTSIDE_WORKING_HOURS = "outside_working_hours"
    BLOCKED = "blocked"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class Availability:
    """The answer for one proposed time: free, or the first reason it is not."""

    available: bool
    reason: Unavailable | None = None

    def __bool__(self) -> bool:
        return self.available


def local_window_instants(
    window: WorkingWindow, day: date, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The UTC instants a working window covers on one local date.

    A wall-clock time skipped by a spring-forward change is read with the
    offset in force before it (``fold=0``), as ``zoneinfo`` does.
    """
    start = datetime.combine(day, window.start, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, window.end, tzinfo=zone).astimezone(UTC)
    return start, end


def reserved_span(
    start: datetime, duration_minutes: int, buffer_minutes: int
) -> tuple[datetime, datetime]:
    """What a booking holds of its provider: from its start to its end plus the
    buffer."""
    return start, start + timedelta(minutes=duration_minutes + buffer_minutes)


def check_slot(
    rules: CalendarRules,
    busy: Iterable[BusyInterval],
    start: datetime,
    duration_minutes: int,
) -> Availability:
    """Whether the provider can be booked from ``start`` for ``duration_minutes``.

    The visit must lie inside one working window of the local day it starts
    on, overlap no blocked period, and keep the buffer from every busy interval
    on both sides.
    """
    zone = ZoneInfo(rules.time_zone)
    end = start + timedelta(minutes=duration_minutes)
    if not _inside_working_hours(rules, zone, start, end):
        return Availability(False, Unavailable.OUTSIDE_WORKING_HOURS)
    if any(_overlaps(start, end, block.start, block.end) for block in rules.blocked):
        return Availability(False, Unavailable.BLOCKED)
    if any(_conflicts(rules, start, end, interval) for interval in busy):
        return Availability(False, Unavailable.CONFLICT)
    return Availability(True)


def free_slots(
    rules: CalendarRules,
    busy: Sequence[BusyInterval],
    range_start: datetime,
    range_end: datetime,
    duration_minutes: int,
    *,
    step_minutes: int,
    not_before: datetime | None = None,
) -> list[datetime]:
    """Every start time from ``range_start`` up to ``range_end`` at which the
    provider could be booked for ``duration_minutes``, earliest first.

    Candidates begin at each working window's start and advance by
    ``step_minutes``; ``not_before`` (usually now) drops times already past.
    """
    zone = ZoneInfo(rules.time_zone)
    length = timedelta(minutes=duration_minutes)
    step = timedelta(minutes=step_minutes)
    floor = max(range_start, not_before) if not_before else range_start
    ordered = sorted(busy, key=lambda interval: interval.start)
    found: list[datetime] = []
    for window_start, window_end in _windows_between(rules, zone, floor, range_end):
        candidate = window_start
        while candidate + length <= window_end and candidate < range_end:
            if candidate >= floor and _free(rules, ordered, candidate, length):
                found.append(candidate)
            candidate += step
    return found


def _free(
    rules: CalendarRules,
    busy: Sequence[BusyInterval],
    start: datetime,
    length: timedelta,
) -> bool:
    end = start + length
    if any(_overlaps(start, end, block.start, block.end) for block in rules.blocked):
        return False
    return not any(_conflicts(rules, start, end, interval) for interval in busy)


def _windows_between(
    rules: CalendarRules, zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Each working window's instants on every local date the range touches,
    in time order."""
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        todays = sorted(
            (window for window in rules.windows if window.weekday == day.weekday()),
            key=lambda window: window.start,
        )
        for window in todays:
            opens, closes = local_window_instants(window, day, zone)
            if closes > start and opens < end:
                yield opens, closes
        day += timedelta(days=1)


def _inside_working_hours(
    rules: CalendarRules, zone: ZoneInfo, start: datetime, end: datetime
) -> bool:
    day = start.astimezone(zone).date()
    for window in rules.windows:
        if window.weekday != day.weekday():
            continue
        opens, closes = local_window_instants(window, day, zone)
        if opens <= start and end <= closes:
            return True
    return False


def _conflicts(
    rules: CalendarRules, start: datetime, end: datetime, interval: BusyInterval
) -> bool:
    buffer = timedelta(minutes=rules.buffer_minutes)
    return _overlaps(start, end + buffer, interval.start, interval.end + buffer)


def _overlaps(
    start: datetime, end: datetime, other_start: datetime, other_end: datetime
) -> bool:
    return start < other_end and other_start < end
