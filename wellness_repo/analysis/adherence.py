"""Medication adherence, computed from a schedule and tallies of logged doses.

No database here (DESIGN rule 2): the medication repository tallies dose logs
with an aggregation pipeline, and :func:`tally_doses` is the same tally in
plain Python, which the tests hold the pipeline to.

Definitions:

- **Scheduled doses** come from expanding a schedule's local times ("08:00")
  in the patient's IANA time zone over calendar days, so a daily 08:00 dose is
  at 08:00 local on both sides of a daylight-saving change. A local time that
  does not exist on a spring-forward day falls an hour later (02:30 becomes
  03:30); one that exists twice on a fall-back day is the first. Only doses
  while the medication was active (not paused, not yet discontinued) and
  already due count.
- **Doses taken / doses scheduled**: a dose logged taken or late counts as
  taken. Per medication and day, taken doses are capped at the doses scheduled
  that day, so a duplicate or an extra dose never lifts adherence.
- **Proportion of days covered (PDC)**: days on which every scheduled dose was
  taken, over days with at least one scheduled dose. Overall, a day is covered
  when every scheduled medication's doses that day were all taken.
- **As-needed (PRN)** medications have no scheduled doses: they are reported
  with the doses taken and left out of every denominator.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "TAKEN_STATUSES",
    "TIME_OF_DAY_BUCKETS",
    "WEEKDAYS",
    "AdherenceSummary",
    "AdherenceTrend",
    "DoseStatus",
    "DoseTally",
    "LoggedDose",
    "MedicationAdherence",
    "MissedDosePatterns",
    "ScheduledDose",
    "StatusCounts",
    "adherence_trend",
    "expand_schedule",
    "missed_dose_patterns",
    "summarize_adherence",
    "tally_doses",
    "time_of_day",
]

TREND_THRESHOLD = 0.05
"""A change in the dose rate smaller than this (5 points) is ``stable``."""

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
"""ISO weekday 1..7 -> name, at index weekday - 1."""

TIME_OF_DAY_BUCKETS = (
    ("night", 0),
    ("morning", 6),
    ("afternoon", 12),
    ("evening", 18),
)
"""Buckets of the local hour a dose was scheduled at, with their first hour."""


class DoseStatus(StrEnum):
    """What happened to one dose."""

    TAKEN = "taken"
    LATE = "late"
    """Taken, but well after its scheduled time."""
    MISSED = "missed"
    SKIPPED = "skipped"
    """Left out on purpose, with a reason (nausea, a clinician's advice)."""


TAKEN_STATUSES = frozenset({DoseStatus.TAKEN, DoseStatus.LATE})


class AdherenceTrend(StrEnum):
    """How adherence moved against the previous period of equal length."""

    IMPROVING = "improving"
    DECLINING = "declining"
    STABLE = "stable"
    INSUFFICIENT_DATA = "insufficient_data"


@dataclass(frozen=True, slots=True)
class ScheduledDose:
    """One dose a schedule expects: when (UTC), and when locally."""

    medication_id: str
    scheduled_for: datetime
    local_date: date
    local_time: str
    """``HH:MM`` as the schedule names it."""

    @property
    def weekday(self) -> int:
        """ISO weekday of the local date, 1 (Monday) to 7 (Sunday)."""
        return self.local_date.isoweekday()


@dataclass(frozen=True, slots=True)
class LoggedDose:
    """What the tally needs of one dose log."""

    medication_id: str
    local_date: date
    local_time: str | None
    """The scheduled slot's local time; ``None`` for as-needed doses."""
    status: DoseStatus


@dataclass(slots=True)
class StatusCounts:
    """Logged doses of one medication on one day, by status."""

    taken: int = 0
    late: int = 0
    missed: int = 0
    skipped: int = 0

    def add(self, status: DoseStatus, count: int = 1) -> None:
        """Count ``count`` more doses with ``status``."""
        setattr(self, status.value, getattr(self, status.value) + count)


@dataclass(frozen=True, slots=True)
class DoseTally:
    """Dose logs counted two ways: per medication and local day by status, and
    taken doses per medication, slot time and weekday (for missed patterns)."""

    days: Mapping[tuple[str, date], StatusCounts] = field(default_factory=dict)
    slots: Mapping[tuple[str, str, int], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MedicationAdherence:
    """Adherence to one medication over a period."""

    medication_id: str
    as_needed: bool
    doses_scheduled: int
    doses_taken: int
    """Taken on time or late, never more than scheduled on any day."""
    doses_late: int
    doses_missed: int
    doses_skipped: int
    doses_unrecorded: int
    """Scheduled, due, and not logged at all (counted as not taken)."""
    days_due: int
    days_covered: int
    as_needed_doses: int
    """For an as-needed medication: the doses logged taken."""

    @property
    def dose_rate(self) -> float | None:
        """Doses taken / doses scheduled; ``None`` with nothing scheduled."""
        if not self.doses_scheduled:
            return None
        return self.doses_taken / self.doses_scheduled

    @property
    def pdc(self) -> float | None:
        """Proportion of days covered; ``None`` with no day due."""
        return self.days_covered / self.days_due if self.days_due else None


@dataclass(frozen=True, slots=True)
class AdherenceSummary:
    """Adherence per medication and overall (as-needed medications excluded
    from the overall numbers)."""

    medications: tuple[MedicationAdherence, ...]
    doses_scheduled: int
    doses_taken: int
    days_due: int
    days_covered: int
    start_date: date | None = None
    """The first local day of the period, when the caller set it."""
    end_date: date | None = None
    """The last local day of the period (inclusive), when the caller set it."""

    @property
    def dose_rate(self) -> float | None:
        """Doses taken / doses scheduled over every scheduled medication."""
        if not self.doses_scheduled:
            return None
        return self.doses_taken / self.doses_scheduled

    @property
    def pdc(self) -> float | None:
        """Days on which every scheduled dose was taken / days with any due."""
        return self.days_covered / self.days_due if self.days_due else None

    def for_medication(self, medication_id: str) -> MedicationAdherence | None:
        """The row of one medication, if it is in the summary."""
        return next(
            (row for row in self.medications if row.medication_id == medication_id),
            None,
        )


@dataclass(frozen=True, slots=True)
class MissedDosePatterns:
    """Scheduled doses not taken (missed, skipped or never logged), by local
    time of day and by weekday, every bucket present."""

    by_time_of_day: Mapping[str, int]
    by_weekday: Mapping[str, int]

    @property
    def total(self) -> int:
        """All doses not taken."""
        return sum(self.by_weekday.values())


def expand_schedule(
    medication_id: str,
    times: Sequence[str],
    time_zone: str,
    first_day: date,
    last_day: date,
    *,
    active: Sequence[tuple[datetime, datetime | None]] = (),
    due_by: datetime | None = None,
) -> list[ScheduledDose]:
    """The doses a schedule expects from ``first_day`` to ``last_day``
    (inclusive local dates), in time order.

    Args:
        times: local ``HH:MM`` times of the daily doses.
        time_zone: the patient's IANA zone, e.g. ``America/New_York``.
        active: ``(from, until)`` UTC intervals in which the medication was
            active (``until`` ``None``: still active); empty means always.
        due_by: doses scheduled after this instant are not yet due and left out.
    """
    zone = ZoneInfo(time_zone)
    clock = sorted((text, time.fromisoformat(text)) for text in set(times))
    doses = []
    day = first_day
    while day <= last_day:
        for text, local in clock:
            instant = datetime.combine(day, local, tzinfo=zone).astimezone(UTC)
            if due_by is not None and instant > due_by:
                continue
            if active and not any(
                start <= instant and (end is None or instant < end)
                for start, end in active
            ):
                continue
            doses.append(ScheduledDose(medication_id, instant, day, text))
        day += timedelta(days=1)
    return doses


def tally_doses(logs: Iterable[LoggedDose]) -> DoseTally:
    """Count dose logs as the repository's pipeline does (the reference)."""
    days: dict[tuple[str, date], StatusCounts] = defaultdict(StatusCounts)
    slots: Counter[tuple[str, str, int]] = Counter()
    for log in logs:
        days[(log.medication_id, log.local_date)].add(log.status)
        if log.local_time is not None and log.status in TAKEN_STATUSES:
            slots[(log.medication_id, log.local_time, log.local_date.isoweekday())] += 1
    return DoseTally(days=dict(days), slots=dict(slots))


def summarize_adherence(
    scheduled: Mapping[str, Sequence[ScheduledDose]],
    as_needed: Sequence[str],
    tally: DoseTally,
) -> AdherenceSummary:
    """Adherence of each medication and overall.

    Args:
        scheduled: per scheduled medication id, its due doses in the period
            (from :func:`expand_schedule`).
        as_needed: ids of the as-needed medications to report.
        tally: the period's dose logs, counted.
    """
    rows = []
    covered_by_day: dict[date, bool] = {}
    for medication_id, doses in scheduled.items():
        per_day = Counter(dose.local_date for dose in doses)
        counts = Counter[str]()
        for day, due in per_day.items():
            logged = tally.days.get((medication_id, day), StatusCounts())
            taken = min(logged.taken + logged.late, due)
            missed = min(logged.missed, due - taken)
            skipped = min(logged.skipped, due - taken - missed)
            counts["taken"] += taken
            counts["late"] += min(logged.late, taken)
            counts["missed"] += missed
            counts["skipped"] += skipped
            counts["covered"] += taken == due
            covered_by_day[day] = covered_by_day.get(day, True) and taken == due
        scheduled_total = len(doses)
        rows.append(
            MedicationAdherence(
                medication_id=medication_id,
                as_needed=False,
                doses_scheduled=scheduled_total,
                doses_taken=counts["taken"],
                doses_late=counts["late"],
                doses_missed=counts["missed"],
                doses_skipped=counts["skipped"],
                doses_unrecorded=scheduled_total
                - counts["taken"]
                - counts["missed"]
                - counts["skipped"],
                days_due=len(per_day),
                days_covered=counts["covered"],
                as_needed_doses=0,
            )
        )
    for medication_id in as_needed:
        used = sum(
            counts.taken + counts.late
            for (owner, _day), counts in tally.days.items()
            if owner == medication_id
        )
        rows.append(
            MedicationAdherence(
                medication_id=medication_id,
                as_needed=True,
                doses_scheduled=0,
                doses_taken=0,
                doses_late=0,
                doses_missed=0,
                doses_skipped=0,
                doses_unrecorded=0,
                days_due=0,
                days_covered=0,
                as_needed_doses=used,
            )
        )
    scheduled_rows = [row for row in rows if not row.as_needed]
    return AdherenceSummary(
        medications=tuple(rows),
        doses_scheduled=sum(row.doses_scheduled for row in scheduled_rows),
        doses_taken=sum(row.doses_taken for row in scheduled_rows),
        days_due=len(covered_by_day),
        days_covered=sum(covered_by_day.values()),
    )


def time_of_day(local_time: str) -> str:
    """The bucket (night, morning, afternoon, evening) of a local ``HH:MM``."""
    hour = int(local_time[:2])
    name = TIME_OF_DAY_BUCKETS[0][0]
    for bucket, first_hour in TIME_OF_DAY_BUCKETS:
        if hour >= first_hour:
            name = bucket
    return name


def missed_dose_patterns(
    scheduled: Iterable[ScheduledDose], tally: DoseTally
) -> MissedDosePatterns:
    """Scheduled doses not taken, by local time of day and weekday.

    For each medication, slot time and weekday, the doses expected minus those
    logged taken (never below zero).
    """
    expected = Counter(
        (dose.medication_id, dose.local_time, dose.weekday) for dose in scheduled
    )
    by_time = dict.fromkeys((name for name, _ in TIME_OF_DAY_BUCKETS), 0)
    by_weekday = dict.fromkeys(WEEKDAYS, 0)
    for key, due in expected.items():
        not_taken = max(due - tally.slots.get(key, 0), 0)
        _medication, local_time, weekday = key
        by_time[time_of_day(local_time)] += not_taken
        by_weekday[WEEKDAYS[weekday - 1]] += not_taken
    return MissedDosePatterns(by_time_of_day=by_time, by_weekday=by_weekday)


def adherence_trend(
    current: float | None,
    previous: float | None,
    *,
    threshold: float = TREND_THRESHOLD,
) -> AdherenceTrend:
    """Improving, declining or stable between two dose rates (0..1)."""
    if current is None or previous is None:
        return AdherenceTrend.INSUFFICIENT_DATA
    change = current - previous
    if change >= threshold:
        return AdherenceTrend.IMPROVING
    if change <= -threshold:
        return AdherenceTrend.DECLINING
    return AdherenceTrend.STABLE
