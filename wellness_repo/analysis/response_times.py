"""How fast clinicians respond to crises: the reference computation.

Plain functions over plain values (DESIGN.md rule 2). The crisis repository
computes the same statistics inside the database as an aggregation pipeline; the
tests check that both agree on the same detections.

Definitions (both implementations follow them exactly):

- a duration runs from detection to the step: acknowledgment, first escalation,
  closing (resolved or false positive); steps not reached are left out;
- the median and the 90th percentile interpolate linearly between the two
  nearest ranks (rank ``q * (n - 1)`` of the sorted values, counting from 0),
  the method spreadsheets call PERCENTILE.INC;
- "within target" counts durations at or under the severity's target in
  ``RESPONSE_TARGETS``: acknowledge for acknowledgment, act for escalation,
  resolve for closing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = [
    "DurationSummary",
    "ResponseRecord",
    "ResponseTimeStatistics",
    "ResponseTimes",
    "percentile",
    "summarize_durations",
    "summarize_response_times",
]


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """One crisis detection's response, as the statistics need it.

    Attributes:
        targets: the severity's targets for acknowledging, acting (escalating)
            and closing, counted from ``detected_at``.
    """

    detected_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    closed_at: datetime | None
    targets: tuple[timedelta, timedelta, timedelta]


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """How long one response step took across detections, in seconds.

    ``mean``, ``median`` and ``p90`` are ``None`` when no detection reached
    the step.
    """

    count: int = 0
    mean_seconds: float | None = None
    median_seconds: float | None = None
    p90_seconds: float | None = None
    within_target: int = 0


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """Time to acknowledge, to escalate and to close a crisis."""

    acknowledge: DurationSummary = field(default_factory=DurationSummary)
    escalate: DurationSummary = field(default_factory=DurationSummary)
    resolve: DurationSummary = field(default_factory=DurationSummary)


@dataclass(frozen=True, slots=True)
class ResponseTimeStatistics:
    """A team's crisis response times, overall and per acknowledging clinician.

    Attributes:
        detections: how many detections the statistics cover.
        overall: every covered detection together.
        by_provider: the same, per clinician who acknowledged the detection.
    """

    detections: int
    overall: ResponseTimes
    by_provider: Mapping[str, ResponseTimes]


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ascending values, interpolated linearly
    between the nearest ranks; ``None`` for no values."""
    if not sorted_values:
        return None
    rank = q * (len(sorted_values) - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    lower = float(sorted_values[low])
    return lower + (float(sorted_values[high]) - lower) * (rank - low)


def summarize_durations(
    durations: Iterable[tuple[float, float]],
) -> DurationSummary:
    """Summarise ``(seconds taken, target seconds)`` pairs of one step."""
    pairs = sorted(durations)
    if not pairs:
        return DurationSummary()
    values = [taken for taken, _ in pairs]
    return DurationSummary(
        count=len(values),
        mean_seconds=sum(values) / len(values),
        median_seconds=percentile(values, 0.5),
        p90_seconds=percentile(values, 0.9),
        within_target=sum(1 for taken, target in pairs if taken <= target),
    )


def _response_times(records: Sequence[ResponseRecord]) -> ResponseTimes:
    steps: list[list[tuple[float, float]]] = [[], [], []]
    for record in records:
        reached = (record.acknowledged_at, record.escalated_at, record.closed_at)
        for index, when in enumerate(reached):
            if when is not None:
                taken = (when - record.detected_at).total_seconds()
                target = record.targets[index].total_seconds()
                steps[index].append((taken, target))
    acknowledge, escalate, resolve = (summarize_durations(step) for step in steps)
    return ResponseTimes(acknowledge=acknowledge, escalate=escalate, resolve=resolve)


def summarize_response_times(
    records: Iterable[ResponseRecord],
) -> ResponseTimeStatistics:
    """Response-time statistics of detections, overall and per acknowledger."""
    covered = list(records)
    providers: dict[str, list[ResponseRecord]] = {}
    for record in covered:
        if record.acknowledged_by is not None:
            providers.setdefault(record.acknowledged_by, []).append(record)
    return ResponseTimeStatistics(
        detections=len(covered),
        overall=_response_times(covered),
        by_provider={
            provider: _response_times(own)
            for provider, own in sorted(providers.items())
        },
    )
