"""The adherence report: one row per medication, missed-dose patterns, and the
trend against the previous period of equal length. Pure: it arranges what
``analysis.adherence`` computes for the two periods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from wellness_repo.analysis.adherence import (
    AdherenceSummary,
    AdherenceTrend,
    DoseTally,
    MedicationAdherence,
    MissedDosePatterns,
    ScheduledDose,
    adherence_trend,
    missed_dose_patterns,
    summarize_adherence,
)

__all__ = [
    "AdherenceReport",
    "AdherenceReportRow",
    "MedicationFacts",
    "PeriodDoses",
    "build_adherence_report",
]


@dataclass(frozen=True, slots=True)
class MedicationFacts:
    """What a report row says about the medication itself."""

    medication_id: str
    medication_name: str
    strength: str | None
    status: str
    as_needed: bool


@dataclass(frozen=True, slots=True)
class PeriodDoses:
    """One period's expected doses per scheduled medication, and its tally."""

    start_date: date
    end_date: date
    scheduled: Mapping[str, Sequence[ScheduledDose]]
    tally: DoseTally


@dataclass(frozen=True, slots=True)
class AdherenceReportRow:
    """One medication in the report."""

    medication_id: str
    medication_name: str
    strength: str | None
    status: str
    as_needed: bool
    current: MedicationAdherence
    previous: MedicationAdherence | None
    """``None`` when the medication had nothing due in the previous period."""
    trend: AdherenceTrend
    missed_patterns: MissedDosePatterns


@dataclass(frozen=True, slots=True)
class AdherenceReport:
    """A patient's adherence from ``start_date`` to ``end_date`` (inclusive
    local dates) with the previous period of the same length before it."""

    patient_id: str
    start_date: date
    end_date: date
    previous_start_date: date
    previous_end_date: date
    rows: tuple[AdherenceReportRow, ...]
    overall: AdherenceSummary
    previous_overall: AdherenceSummary
    trend: AdherenceTrend
    """Overall dose rate against the previous period's."""
    missed_patterns: MissedDosePatterns
    """Doses not taken across every scheduled medication."""

    def row(self, medication_id: str) -> AdherenceReportRow | None:
        """The row of one medication, if it is in the report."""
        return next(
            (row for row in self.rows if row.medication_id == medication_id), None
        )


def build_adherence_report(
    patient_id: str,
    medications: Sequence[MedicationFacts],
    current: PeriodDoses,
    previous: PeriodDoses,
) -> AdherenceReport:
    """Arrange two periods' doses into the report, rows in the order given."""
    as_needed = [item.medication_id for item in medications if item.as_needed]
    now = summarize_adherence(current.scheduled, as_needed, current.tally)
    before = summarize_adherence(previous.scheduled, as_needed, previous.tally)
    rows = []
    for item in medications:
        row_now = now.for_medication(item.medication_id)
        if row_now is None:
            continue
        row_before = before.for_medication(item.medication_id)
        if row_before is not None and not (
            row_before.doses_scheduled or row_before.as_needed_doses
        ):
            row_before = None
        rows.append(
            AdherenceReportRow(
                medication_id=item.medication_id,
                medication_name=item.medication_name,
                strength=item.strength,
                status=item.status,
                as_needed=item.as_needed,
                current=row_now,
                previous=row_before,
                trend=adherence_trend(
                    row_now.dose_rate,
                    row_before.dose_rate if row_before else None,
                ),
                missed_patterns=missed_dose_patterns(
                    current.scheduled.get(item.medication_id, ()), current.tally
                ),
            )
        )
    every_dose = [dose for doses in current.scheduled.values() for dose in doses]
    return AdherenceReport(
        patient_id=patient_id,
        start_date=current.start_date,
        end_date=current.end_date,
        previous_start_date=previous.start_date,
        previous_end_date=previous.end_date,
        rows=tuple(rows),
        overall=_dated(now, current),
        previous_overall=_dated(before, previous),
        trend=adherence_trend(now.dose_rate, before.dose_rate),
        missed_patterns=missed_dose_patterns(every_dose, current.tally),
    )


def _dated(summary: AdherenceSummary, period: PeriodDoses) -> AdherenceSummary:
    return AdherenceSummary(
        medications=summary.medications,
        doses_scheduled=summary.doses_scheduled,
        doses_taken=summary.doses_taken,
        days_due=summary.days_due,
        days_covered=summary.days_covered,
        start_date=period.start_date,
        end_date=period.end_date,
    )
