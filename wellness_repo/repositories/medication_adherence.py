"""Gathering what the adherence analysis needs for a patient and a period:
which medications count, the doses their schedules expected while they were
active, and the database's tally of logged doses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from wellness_repo.analysis.adherence import (
    AdherenceSummary,
    ScheduledDose,
    expand_schedule,
    summarize_adherence,
)
from wellness_repo.analysis.adherence_report import (
    AdherenceReport,
    MedicationFacts,
    PeriodDoses,
    build_adherence_report,
)
from wellness_repo.models.medications import Medication, MedicationStatus
from wellness_repo.repositories.dose_logs import LATE_AFTER, DoseLogRepository

__all__ = [
    "active_intervals",
    "adherence_over_days",
    "adherence_report",
    "medication_facts",
    "overlapping",
    "patient_time_zone",
    "period_doses",
]

_BEGINNING = datetime.min.replace(tzinfo=UTC)
_NEVER = ((datetime.max.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)),)


def active_intervals(
    medication: Medication,
) -> Sequence[tuple[datetime, datetime | None]]:
    """The UTC intervals in which the medication was active, from its status
    history; empty (always active) for a record without history.

    The first active entry stands for the whole prescription from its start
    date (it is written when the medication is added, possibly after the
    start date); a pause or discontinuation closes an interval and a resume
    opens the next.
    """
    if not medication.status_history:
        return ()
    intervals: list[tuple[datetime, datetime | None]] = []
    opened: datetime | None = None
    for index, change in enumerate(medication.status_history):
        if change.status is MedicationStatus.ACTIVE and opened is None:
            opened = _BEGINNING if index == 0 else change.changed_at
        elif change.status is not MedicationStatus.ACTIVE and opened is not None:
            intervals.append((opened, change.changed_at))
            opened = None
    if opened is not None:
        intervals.append((opened, None))
    return intervals or _NEVER


def overlapping(
    medications: Sequence[Medication], first_day: date, last_day: date
) -> list[Medication]:
    """The medications prescribed on any day from ``first_day`` to
    ``last_day``, in start-date order."""
    return sorted(
        (
            medication
            for medication in medications
            if medication.start_date <= last_day
            and (medication.end_date is None or medication.end_date >= first_day)
        ),
        key=lambda medication: (medication.start_date, medication.id),
    )


def patient_time_zone(medications: Sequence[Medication]) -> str:
    """The zone a patient's periods are counted in: the one most of their
    medications' schedules name (UTC when they have none)."""
    zones = Counter(medication.schedule.time_zone for medication in medications)
    return zones.most_common(1)[0][0] if zones else "UTC"


def medication_facts(medication: Medication) -> MedicationFacts:
    """What the report shows of a medication."""
    return MedicationFacts(
        medication_id=medication.id,
        medication_name=medication.medication_name,
        strength=medication.strength,
        status=medication.status.value,
        as_needed=medication.as_needed,
    )


async def period_doses(
    doses: DoseLogRepository,
    patient_id: str,
    medications: Sequence[Medication],
    first_day: date,
    last_day: date,
    due_by: datetime,
) -> PeriodDoses:
    """The doses each scheduled medication expected from ``first_day`` to
    ``last_day`` (within its own dates, while active, due by ``due_by``), and
    the tally of the patient's logs over the same days."""
    scheduled: dict[str, list[ScheduledDose]] = {}
    for medication in medications:
        if medication.as_needed:
            continue
        first = max(first_day, medication.start_date)
        last = min(last_day, medication.end_date or last_day)
        scheduled[medication.id] = (
            expand_schedule(
                medication.id,
                medication.schedule.times,
                medication.schedule.time_zone,
                first,
                last,
                active=active_intervals(medication),
                due_by=due_by,
            )
            if first <= last
            else []
        )
    tally = await doses.dose_tally(patient_id, first_day, last_day, due_by)
    return PeriodDoses(first_day, last_day, scheduled, tally)


async def adherence_over_days(
    doses: DoseLogRepository,
    patient_id: str,
    medications: Sequence[Medication],
    period_days: int,
    as_of: datetime,
) -> AdherenceSummary:
    """Adherence over the ``period_days`` local days ending on ``as_of``'s day
    in the patient's zone, counting doses :data:`LATE_AFTER` past their time."""
    zone = ZoneInfo(patient_time_zone(medications))
    last = as_of.astimezone(zone).date()
    first = last - timedelta(days=period_days - 1)
    counted = overlapping(medications, first, last)
    period = await period_doses(
        doses, patient_id, counted, first, last, as_of - LATE_AFTER
    )
    summary = summarize_adherence(
        period.scheduled,
        [medication.id for medication in counted if medication.as_needed],
        period.tally,
    )
    return AdherenceSummary(
        medications=summary.medications,
        doses_scheduled=summary.doses_scheduled,
        doses_taken=summary.doses_taken,
        days_due=summary.days_due,
        days_covered=summary.days_covered,
        start_date=first,
        end_date=last,
    )


async def adherence_report(
    doses: DoseLogRepository,
    patient_id: str,
    medications: Sequence[Medication],
    first: date,
    last: date,
    as_of: datetime,
) -> AdherenceReport:
    """The report for ``first`` to ``last`` against the period of equal length
    just before it, counting doses :data:`LATE_AFTER` past their time."""
    due_by = as_of - LATE_AFTER
    previous_last = first - timedelta(days=1)
    previous_first = previous_last - timedelta(days=(last - first).days)
    current_medications = overlapping(medications, first, last)
    current = await period_doses(
        doses, patient_id, current_medications, first, last, due_by
    )
    previous = await period_doses(
        doses,
        patient_id,
        overlapping(medications, previous_first, previous_last),
        previous_first,
        previous_last,
        due_by,
    )
    facts = [medication_facts(medication) for medication in current_medications]
    return build_adherence_report(patient_id, facts, current, previous)
