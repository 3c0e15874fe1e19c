"""Attendance of therapy sessions: how many took place, were cancelled or were
missed, and the rates clinicians and practices watch for disengagement.

Plain functions over plain values (DESIGN.md rule 2). The session repository
counts outcomes with an aggregation in the database and builds the same
``AttendanceStatistics`` through :meth:`AttendanceStatistics.from_counts`; the
tests check it against :func:`summarize_attendance` over the same sessions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["AttendanceStatistics", "summarize_attendance"]

ATTENDED = "attended"
CANCELLED = "cancelled"
NO_SHOW = "no_show"
OUTCOMES = (ATTENDED, CANCELLED, NO_SHOW)
"""The statuses that count: a session still scheduled has no outcome yet."""


@dataclass(frozen=True, slots=True)
class AttendanceStatistics:
    """How a patient (or a relationship, or a caseload) kept their sessions.

    Rates are fractions of the sessions with an outcome (attended, cancelled or
    missed); they are ``None`` when there is no such session, because a rate of
    zero would claim a pattern nobody has observed.
    """

    attended: int
    cancelled: int
    no_show: int

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> AttendanceStatistics:
        """Statistics from a count per session status; other statuses are ignored.

        Args:
            counts: e.g. ``{"attended": 9, "no_show": 2, "scheduled": 1}``.
        """
        return cls(
            attended=int(counts.get(ATTENDED, 0)),
            cancelled=int(counts.get(CANCELLED, 0)),
            no_show=int(counts.get(NO_SHOW, 0)),
        )

    @property
    def total(self) -> int:
        """Sessions with an outcome: attended, cancelled or missed."""
        return self.attended + self.cancelled + self.no_show

    @property
    def attendance_rate(self) -> float | None:
        """The share of sessions the patient attended."""
        return self._share(self.attended)

    @property
    def cancellation_rate(self) -> float | None:
        """The share of sessions cancelled in advance."""
        return self._share(self.cancelled)

    @property
    def no_show_rate(self) -> float | None:
        """The share of sessions missed without notice, an early sign of
        disengagement or deterioration."""
        return self._share(self.no_show)

    def _share(self, count: int) -> float | None:
        return count / self.total if self.total else None


def summarize_attendance(statuses: Iterable[str]) -> AttendanceStatistics:
    """Attendance statistics of a list of session statuses.

    Args:
        statuses: one status per session (``SessionStatus`` values or their
            strings); scheduled sessions have no outcome yet and do not count.
    """
    counts = Counter(str(status) for status in statuses)
    return AttendanceStatistics.from_counts(counts)
