"""Adherence arithmetic without a database: schedules expanded in the patient's
local time (daylight saving included), doses taken against doses scheduled,
proportion of days covered, missed-dose patterns and the trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.medication_data import NEW_YORK, local_instant
from wellness_repo import AdherenceTrend, DoseStatus
from wellness_repo.analysis.adherence import (
    LoggedDose,
    ScheduledDose,
    adherence_trend,
    expand_schedule,
    missed_dose_patterns,
    summarize_adherence,
    tally_doses,
    time_of_day,
)

MONDAY = date(2026, 2, 2)
LAMOTRIGINE = "med_lamotrigine"
HYDROXYZINE = "med_hydroxyzine"
SERTRALINE = "med_sertraline"


def taken(medication: str, day: date, clock: str | None) -> LoggedDose:
    return LoggedDose(medication, day, clock, DoseStatus.TAKEN)


def a_week_of_twice_daily() -> list[ScheduledDose]:
    return expand_schedule(
        LAMOTRIGINE, ["08:00", "20:00"], NEW_YORK, MONDAY, MONDAY + timedelta(days=6)
    )


# ------------------------------------------------------------ expansion


def test_eight_oclock_stays_eight_oclock_local_across_spring_forward() -> None:
    doses = expand_schedule(
        SERTRALINE, ["08:00"], NEW_YORK, date(2026, 3, 7), date(2026, 3, 9)
    )

    assert [dose.scheduled_for.hour for dose in doses] == [13, 12, 12]
    assert {dose.local_time for dose in doses} == {"08:00"}


def test_a_time_skipped_by_spring_forward_falls_an_hour_later() -> None:
    (dose,) = expand_schedule(
        SERTRALINE, ["02:30"], NEW_YORK, date(2026, 3, 8), date(2026, 3, 8)
    )

    assert dose.scheduled_for == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_a_time_repeated_by_fall_back_is_due_once_at_its_first_occurrence() -> None:
    doses = expand_schedule(
        SERTRALINE, ["01:30"], NEW_YORK, date(2026, 11, 1), date(2026, 11, 1)
    )

    assert [dose.scheduled_for for dose in doses] == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    ]


def test_doses_not_yet_due_and_doses_while_paused_are_not_expected() -> None:
    paused_at = local_instant(MONDAY + timedelta(days=2), "12:00")
    resumed_at = local_instant(MONDAY + timedelta(days=4), "12:00")
    due_by = local_instant(MONDAY + timedelta(days=6), "12:00")

    doses = expand_schedule(
        LAMOTRIGINE,
        ["08:00", "20:00"],
        NEW_YORK,
        MONDAY,
        MONDAY + timedelta(days=6),
        active=[(datetime.min.replace(tzinfo=UTC), paused_at), (resumed_at, None)],
        due_by=due_by,
    )

    # 14 slots: 4 fall in the pause (Wed 20:00 .. Fri 08:00), 1 is not due yet.
    assert len(doses) == 9


# ------------------------------------------------------------ the hand example


def test_eleven_of_fourteen_twice_daily_doses_taken_by_hand() -> None:
    # Monday..Sunday at 08:00 and 20:00: Tuesday evening and all of Thursday
    # not taken; a PRN hydroxyzine taken twice must not enter any denominator.
    scheduled = a_week_of_twice_daily()
    tuesday, thursday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    not_taken = {(tuesday, "20:00"), (thursday, "08:00"), (thursday, "20:00")}
    logs = [
        taken(LAMOTRIGINE, dose.local_date, dose.local_time)
        for dose in scheduled
        if (dose.local_date, dose.local_time) not in not_taken
    ]
    logs += [taken(HYDROXYZINE, MONDAY, None), taken(HYDROXYZINE, MONDAY, None)]

    summary = summarize_adherence(
        {LAMOTRIGINE: scheduled}, [HYDROXYZINE], tally_doses(logs)
    )

    row = summary.for_medication(LAMOTRIGINE)
    assert row is not None
    assert (row.doses_taken, row.doses_scheduled) == (11, 14)
    assert row.dose_rate == 11 / 14
    assert (row.days_covered, row.days_due) == (5, 7)
    assert row.doses_unrecorded == 3
    prn = summary.for_medication(HYDROXYZINE)
    assert prn is not None
    assert prn.as_needed_doses == 2
    assert prn.dose_rate is None
    assert (summary.doses_taken, summary.doses_scheduled) == (11, 14)
    assert summary.pdc == 5 / 7


def test_duplicate_and_extra_doses_never_lift_adherence_past_the_schedule() -> None:
    scheduled = a_week_of_twice_daily()[:2]
    logs = [taken(LAMOTRIGINE, MONDAY, "08:00")] * 5

    summary = summarize_adherence({LAMOTRIGINE: scheduled}, [], tally_doses(logs))

    assert (summary.doses_taken, summary.doses_scheduled) == (2, 2)
    assert summary.pdc == 1.0


def test_missed_skipped_late_and_unlogged_doses_are_told_apart() -> None:
    scheduled = a_week_of_twice_daily()[:4]
    logs = [
        LoggedDose(LAMOTRIGINE, MONDAY, "08:00", DoseStatus.LATE),
        LoggedDose(LAMOTRIGINE, MONDAY, "20:00", DoseStatus.MISSED),
        LoggedDose(
            LAMOTRIGINE, MONDAY + timedelta(days=1), "08:00", DoseStatus.SKIPPED
        ),
    ]

    row = summarize_adherence(
        {LAMOTRIGINE: scheduled}, [], tally_doses(logs)
    ).medications[0]

    assert (row.doses_taken, row.doses_late) == (1, 1)
    assert (row.doses_missed, row.doses_skipped, row.doses_unrecorded) == (1, 1, 1)
    assert row.days_covered == 0


def test_overall_days_are_covered_only_when_every_medication_was_taken() -> None:
    twice = a_week_of_twice_daily()[:4]
    once = expand_schedule(
        SERTRALINE, ["08:00"], NEW_YORK, MONDAY, MONDAY + timedelta(1)
    )
    logs = [taken(LAMOTRIGINE, dose.local_date, dose.local_time) for dose in twice]
    logs.append(taken(SERTRALINE, MONDAY, "08:00"))

    summary = summarize_adherence(
        {LAMOTRIGINE: twice, SERTRALINE: once}, [], tally_doses(logs)
    )

    assert (summary.doses_taken, summary.doses_scheduled) == (5, 6)
    assert (summary.days_covered, summary.days_due) == (1, 2)


# ------------------------------------------------------------ patterns, trend


def test_missed_doses_are_grouped_by_time_of_day_and_weekday() -> None:
    scheduled = a_week_of_twice_daily()
    logs = [
        taken(LAMOTRIGINE, dose.local_date, dose.local_time)
        for dose in scheduled
        if not (dose.local_time == "20:00" and dose.weekday >= 5)
    ]

    patterns = missed_dose_patterns(scheduled, tally_doses(logs))

    assert patterns.by_time_of_day == {
        "night": 0, "morning": 0, "afternoon": 0, "evening": 3,
    }  # fmt: skip
    assert patterns.by_weekday["friday"] == 1
    assert patterns.by_weekday["sunday"] == 1
    assert patterns.by_weekday["monday"] == 0
    assert patterns.total == 3


def test_time_of_day_buckets_follow_the_local_hour() -> None:
    assert [time_of_day(t) for t in ("00:30", "06:00", "11:59", "12:00", "18:00")] == [
        "night", "morning", "morning", "afternoon", "evening",
    ]  # fmt: skip


def test_trend_compares_dose_rates_with_a_five_point_dead_band() -> None:
    assert adherence_trend(0.9, 0.7) is AdherenceTrend.IMPROVING
    assert adherence_trend(0.6, 0.8) is AdherenceTrend.DECLINING
    assert adherence_trend(0.81, 0.8) is AdherenceTrend.STABLE
    assert adherence_trend(0.8, None) is AdherenceTrend.INSUFFICIENT_DATA


# ------------------------------------------------------------ properties

slots = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.sampled_from(["08:00", "20:00"]),
        st.sampled_from(list(DoseStatus)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(slots)
def test_counts_always_add_up_to_the_doses_scheduled(
    logged: list[tuple[int, str, DoseStatus]],
) -> None:
    scheduled = a_week_of_twice_daily()
    logs = [
        LoggedDose(LAMOTRIGINE, MONDAY + timedelta(days=day), clock, status)
        for day, clock, status in logged
    ]

    row = summarize_adherence(
        {LAMOTRIGINE: scheduled}, [], tally_doses(logs)
    ).medications[0]

    parts = (
        row.doses_taken + row.doses_missed + row.doses_skipped + row.doses_unrecorded
    )
    assert parts == row.doses_scheduled == 14
    assert 0 <= row.days_covered <= row.days_due == 7
    assert row.doses_late <= row.doses_taken
    patterns = missed_dose_patterns(scheduled, tally_doses(logs))
    assert patterns.total >= row.doses_scheduled - row.doses_taken
