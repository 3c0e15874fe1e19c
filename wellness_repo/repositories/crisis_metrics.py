"""Crisis response-time statistics as one aggregation pipeline, and the reading
of its result.

The pipeline follows the definitions in ``wellness_repo.analysis.response_times``
exactly (durations from detection, linear-interpolated percentiles, targets per
severity); the tests hold the two against each other. Each step's durations are
sorted and pushed into one array per group to pick the percentiles, so a group
is bounded by MongoDB's 100 MB stage memory: about ten million detections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wellness_repo.analysis.crisis_language import CrisisSeverity
from wellness_repo.analysis.response_times import (
    DurationSummary,
    ResponseTimes,
    ResponseTimeStatistics,
)
from wellness_repo.models.crisis import RESPONSE_TARGETS

__all__ = ["read_statistics", "response_time_pipeline"]

# Each response step: the field that marks it, and its target in the table.
_STEPS = (
    ("acknowledge", "acknowledged_at", "acknowledge"),
    ("escalate", "escalated_at", "act"),
    ("resolve", "resolved_at", "resolve"),
)
_MS_PER_SECOND = 1000.0


def _targets_ms(target: str) -> list[int]:
    """One target of every severity in milliseconds, indexed by severity rank."""
    return [
        int(getattr(RESPONSE_TARGETS[severity], target).total_seconds() * 1000)
        for severity in CrisisSeverity
    ]


def _percentile(q: float) -> dict[str, Any]:
    """The ``q`` quantile of the group's sorted ``values``, interpolated linearly
    between the nearest ranks."""
    return {
        "$let": {
            "vars": {"rank": {"$multiply": [q, {"$subtract": ["$count", 1]}]}},
            "in": {
                "$let": {
                    "vars": {
                        "low": {
                            "$arrayElemAt": [
                                "$values",
                                {"$toInt": {"$floor": "$$rank"}},
                            ]
                        },
                        "high": {
                            "$arrayElemAt": ["$values", {"$toInt": {"$ceil": "$$rank"}}]
                        },
                        "fraction": {"$subtract": ["$$rank", {"$floor": "$$rank"}]},
                    },
                    "in": {
                        "$add": [
                            "$$low",
                            {
                                "$multiply": [
                                    {"$subtract": ["$$high", "$$low"]},
                                    "$$fraction",
                                ]
                            },
                        ]
                    },
                }
            },
        }
    }


def _step_stages(field: str, target: str, group: str | None) -> list[dict[str, Any]]:
    return [
        {"$match": {field: {"$ne": None}}},
        {
            "$project": {
                "taken": {"$subtract": [f"${field}", "$detected_at"]},
                "target": {"$arrayElemAt": [_targets_ms(target), "$severity_rank"]},
                "provider": "$acknowledged_by",
            }
        },
        {"$sort": {"taken": 1}},
        {
            "$group": {
                "_id": "$provider" if group else None,
                "values": {"$push": "$taken"},
                "count": {"$sum": 1},
                "mean": {"$avg": "$taken"},
                "within_target": {
                    "$sum": {"$cond": [{"$lte": ["$taken", "$target"]}, 1, 0]}
                },
            }
        },
        {
            "$project": {
                "count": 1,
                "mean": 1,
                "within_target": 1,
                "median": _percentile(0.5),
                "p90": _percentile(0.9),
            }
        },
    ]


def response_time_pipeline() -> list[dict[str, Any]]:
    """The stages after the repository's ``$match`` on the covered detections."""
    facets: dict[str, list[dict[str, Any]]] = {"covered": [{"$count": "n"}]}
    for name, field, target in _STEPS:
        facets[name] = _step_stages(field, target, None)
        facets[f"{name}_by_provider"] = _step_stages(field, target, "provider")
    return [{"$facet": facets}]


def _summary(row: Mapping[str, Any] | None) -> DurationSummary:
    # The embedded backend groups an empty input into one row with no values;
    # MongoDB returns no row. Both mean that no detection reached the step.
    if row is None or not row.get("count"):
        return DurationSummary()
    return DurationSummary(
        count=int(row["count"]),
        mean_seconds=float(row["mean"]) / _MS_PER_SECOND,
        median_seconds=float(row["median"]) / _MS_PER_SECOND,
        p90_seconds=float(row["p90"]) / _MS_PER_SECOND,
        within_target=int(row["within_target"]),
    )


def _times(rows: Mapping[str, Mapping[str, Any] | None]) -> ResponseTimes:
    return ResponseTimes(
        acknowledge=_summary(rows.get("acknowledge")),
        escalate=_summary(rows.get("escalate")),
        resolve=_summary(rows.get("resolve")),
    )


def read_statistics(result: Sequence[Mapping[str, Any]]) -> ResponseTimeStatistics:
    """The statistics from the pipeline's single result document."""
    facets = result[0] if result else {}
    covered = facets.get("covered") or [{"n": 0}]
    overall = {name: next(iter(facets.get(name) or []), None) for name, _, _ in _STEPS}
    providers: dict[str, dict[str, Mapping[str, Any] | None]] = {}
    for name, _, _ in _STEPS:
        for row in facets.get(f"{name}_by_provider") or []:
            providers.setdefault(str(row["_id"]), {})[name] = row
    return ResponseTimeStatistics(
        detections=int(covered[0]["n"]),
        overall=_times(overall),
        by_provider={
            provider: _times(rows) for provider, rows in sorted(providers.items())
        },
    )
