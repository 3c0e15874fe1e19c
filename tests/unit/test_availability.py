"""The availability rules as pure functions: working hours read in the
provider's own zone across daylight-saving changes, exceptions, buffers on
both sides of a booking, and the free-slot search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wellness_repo.analysis.availability import (
    Availability,
    BlockedPeriod,
    BusyInterval,
    CalendarRules,
    Unavailable,
    WorkingWindow,
    check_slot,
    free_slots,
)
from wellness_repo.repositories.appointment_slots import slot_starts

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_NINE_TO_FIVE = tuple(WorkingWindow(day, time(9), time(17)) for day in range(5))
RULES = CalendarRules("America/New_York", WEEKDAYS_NINE_TO_FIVE, buffer_minutes=10)
MONDAY = date(2027, 1, 11)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A New York wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def busy(start: datetime, minutes: int = 50) -> BusyInterval:
    return BusyInterval(start, start + timedelta(minutes=minutes))


def test_a_visit_inside_working_hours_is_available() -> None:
    assert check_slot(RULES, [], at(MONDAY, 9), 50) == Availability(True)


def test_a_visit_running_past_closing_is_outside_working_hours() -> None:
    verdict = check_slot(RULES, [], at(MONDAY, 16, 30), 50)

    assert verdict.reason is Unavailable.OUTSIDE_WORKING_HOURS


def test_weekends_are_outside_working_hours() -> None:
    saturday = MONDAY + timedelta(days=5)

    assert not check_slot(RULES, [], at(saturday, 10), 50)


def test_nine_local_is_fourteen_utc_in_winter_and_thirteen_after_the_change() -> None:
    before, after = date(2027, 3, 8), date(2027, 3, 15)

    assert check_slot(RULES, [], datetime(2027, 3, 8, 14, tzinfo=UTC), 50)
    assert not check_slot(RULES, [], datetime(2027, 3, 8, 13, tzinfo=UTC), 50)
    assert check_slot(RULES, [], datetime(2027, 3, 15, 13, tzinfo=UTC), 50)
    assert not check_slot(RULES, [], datetime(2027, 3, 15, 12, tzinfo=UTC), 50)
    assert (at(before, 9).hour, at(after, 9).hour) == (14, 13)


def test_the_autumn_change_moves_the_utc_window_back() -> None:
    monday_after_fall_back = date(2027, 11, 8)

    assert check_slot(RULES, [], datetime(2027, 11, 8, 14, tzinfo=UTC), 50)
    assert not check_slot(RULES, [], datetime(2027, 11, 8, 13, tzinfo=UTC), 50)
    assert at(monday_after_fall_back, 9).hour == 14


def test_a_blocked_period_makes_overlapping_times_unavailable() -> None:
    rules = CalendarRules(
        RULES.time_zone,
        RULES.windows,
        blocked=(BlockedPeriod(at(MONDAY, 12), at(MONDAY, 13)),),
    )

    assert check_slot(rules, [], at(MONDAY, 11, 30), 50).reason is Unavailable.BLOCKED
    assert check_slot(rules, [], at(MONDAY, 13), 50)


def test_the_buffer_is_kept_after_an_earlier_booking() -> None:
    booked = [busy(at(MONDAY, 10))]

    assert check_slot(RULES, booked, at(MONDAY, 10, 55), 50).reason is (
        Unavailable.CONFLICT
    )
    assert check_slot(RULES, booked, at(MONDAY, 11), 50)


def test_the_buffer_is_kept_before_a_later_booking() -> None:
    booked = [busy(at(MONDAY, 11))]

    assert not check_slot(RULES, booked, at(MONDAY, 10, 5), 50)
    assert check_slot(RULES, booked, at(MONDAY, 10), 50)


def test_free_slots_run_back_to_back_around_a_booking() -> None:
    found = free_slots(
        RULES,
        [busy(at(MONDAY, 10))],
        at(MONDAY, 0),
        at(MONDAY, 23),
        50,
        step_minutes=60,
    )

    assert [slot.astimezone(NEW_YORK).hour for slot in found] == [
        9, 11, 12, 13, 14, 15, 16,
    ]  # fmt: skip


def test_free_slots_drop_times_already_past() -> None:
    found = free_slots(
        RULES, [], at(MONDAY, 0), at(MONDAY, 23), 50,
        step_minutes=60, not_before=at(MONDAY, 12, 30),
    )  # fmt: skip

    assert found[0] == at(MONDAY, 13)


def test_free_slots_over_a_week_span_the_dst_change_at_local_nine() -> None:
    found = free_slots(
        RULES,
        [],
        at(date(2027, 3, 12), 0),
        at(date(2027, 3, 16), 0),
        480,
        step_minutes=60,
    )

    assert found == [datetime(2027, 3, 12, 14, tzinfo=UTC), at(date(2027, 3, 15), 9)]
    assert found[1] == datetime(2027, 3, 15, 13, tzinfo=UTC)


def test_slot_starts_cover_a_span_on_the_grid() -> None:
    start = datetime(2027, 1, 11, 15, 0, tzinfo=UTC)

    slots = slot_starts(start, start + timedelta(minutes=60), 5)

    assert len(slots) == 12
    assert slots[0] == start
    assert slots[-1] == start + timedelta(minutes=55)
