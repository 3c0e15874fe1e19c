"""The aggregation pipelines behind a patient's mood analytics, and the reading
of their results.

Everything that grows with the number of entries runs in the database: grouping
by UTC day, ISO week and weekday, the sums behind the trend line and the spread
of daily means, the per-label sums behind factor and trigger associations, and
the previous period's totals. Python then divides a handful of sums.

The stages keep to what both backends do: dates are grouped with
``$dateToString`` (``%Y-%m-%d``, ISO ``%G-W%V`` and ``%u``), never ``$dateTrunc``
or ``$isoWeek``, which the embedded backend lacks, and no group uses
``$stdDevPop``; the spread is summed from centred squares instead, which is also
the numerically sound way.

Entries stored before schema version 2 have no ``normalized_rating``; the
pipelines derive it from their 1-10 rating, so an analysis is right before
``migrate_stored`` has run too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from wellness_repo.analysis.mood_trend_results import (
    MIN_LABEL_ENTRIES,
    DailyMood,
    LabelAssociation,
    MoodAverage,
    MoodTrends,
    TrendWindow,
    WeekdayMood,
    WeeklyMood,
)
from wellness_repo.models.engagement import MoodType

__all__ = [
    "average_from_rows",
    "average_pipeline",
    "daily_from_rows",
    "daily_pipeline",
    "entries_match",
    "trend_pipeline",
    "trends_from_rows",
]

_DAY_FORMAT = "%Y-%m-%d"
_MS_PER_DAY = 86_400_000

_DAY = {"$dateToString": {"format": _DAY_FORMAT, "date": "$created_at"}}
_RATING = {
    "$ifNull": [
        "$normalized_rating",
        # Schema 1 entries were all rated 1-10.
        {"$divide": [{"$subtract": ["$mood_rating", 1]}, 9]},
    ]
}
_CURRENT_ONLY = {"$match": {"current": True}}


def entries_match(
    user_id: str,
    start: datetime,
    end: datetime,
    mood_type: MoodType | None = None,
) -> dict[str, Any]:
    """The filter for one patient's entries from ``start`` up to ``end``
    (excluded), optionally of one mood type; served by the timeline index."""
    match: dict[str, Any] = {
        "user_id": user_id,
        "created_at": {"$gte": start, "$lt": end},
    }
    if mood_type is MoodType.GENERAL:
        # Schema 1 entries have no type and were all general check-ins.
        match["mood_type"] = {"$in": [mood_type.value, None]}
    elif mood_type is not None:
        match["mood_type"] = mood_type.value
    return match


def trend_pipeline(window: TrendWindow) -> list[dict[str, Any]]:
    """The stages computing a trend analysis over entries of ``window``'s period
    and its previous period (the caller's match selects both)."""
    by_day = {
        "$group": {
            "_id": "$day",
            "average": {"$avg": "$rating"},
            "entries": {"$sum": 1},
            "weekday": {"$first": "$weekday"},
            "x": {"$first": "$x"},
        }
    }
    return [
        {
            "$project": {
                "_id": 0,
                "day": _DAY,
                "week": {"$dateToString": {"format": "%G-W%V", "date": "$created_at"}},
                "weekday": {"$dateToString": {"format": "%u", "date": "$created_at"}},
                "x": _day_index(window.start),
                "rating": _RATING,
                "factors": "$contributing_factors",
                "triggers": "$triggers",
                "current": {"$gte": ["$created_at", window.start]},
            }
        },
        {
            "$facet": {
                "periods": _period_totals(),
                "daily": [_CURRENT_ONLY, by_day, {"$sort": {"_id": 1}}],
                "weekly": [
                    _CURRENT_ONLY,
                    {
                        "$group": {
                            "_id": "$week",
                            "average": {"$avg": "$rating"},
                            "entries": {"$sum": 1},
                        }
                    },
                ],
                "weekdays": [
                    _CURRENT_ONLY,
                    by_day,
                    {
                        "$group": {
                            "_id": "$weekday",
                            "average": {"$avg": "$average"},
                            "days": {"$sum": 1},
                        }
                    },
                ],
                "line": [_CURRENT_ONLY, by_day, *_centred_sums()],
                "factors": _label_sums("$factors"),
                "triggers": _label_sums("$triggers"),
            }
        },
    ]


def trends_from_rows(
    rows: Sequence[Mapping[str, Any]],
    window: TrendWindow,
    *,
    min_label_entries: int = MIN_LABEL_ENTRIES,
) -> MoodTrends:
    """The analysis from the one document :func:`trend_pipeline` produces."""
    result = rows[0] if rows else {}
    periods = {
        bool(row["_id"]): row for row in _nonempty(result.get("periods", []), "entries")
    }
    current = _average(periods.get(True))
    previous = _average(periods.get(False))
    current_total = float(periods.get(True, {}).get("total", 0.0))
    slope, volatility = _line(_nonempty(result.get("line", []), "days"))
    return MoodTrends.assemble(
        window,
        current=current,
        previous=previous,
        previous_days_logged=int(periods.get(False, {}).get("days", 0)),
        daily=daily_from_rows(result.get("daily", [])),
        weekly=[
            WeeklyMood(
                week=str(row["_id"]),
                average=float(row["average"]),
                entries=int(row["entries"]),
            )
            for row in _nonempty(result.get("weekly", []), "entries")
        ],
        weekdays=[
            WeekdayMood(
                weekday=int(row["_id"]),
                average=float(row["average"]),
                days=int(row["days"]),
            )
            for row in _nonempty(result.get("weekdays", []), "days")
        ],
        slope_per_day=slope,
        volatility=volatility,
        factors=_associations(result.get("factors", []), current, current_total),
        triggers=_associations(result.get("triggers", []), current, current_total),
        min_label_entries=min_label_entries,
    )


def daily_pipeline() -> list[dict[str, Any]]:
    """The stages computing the mean normalised rating of each UTC day."""
    return [
        {"$project": {"_id": 0, "day": _DAY, "rating": _RATING}},
        {
            "$group": {
                "_id": "$day",
                "average": {"$avg": "$rating"},
                "entries": {"$sum": 1},
            }
        },
        {"$sort": {"_id": 1}},
    ]


def daily_from_rows(rows: Sequence[Mapping[str, Any]]) -> list[DailyMood]:
    """Daily means from rows grouped by day, in day order."""
    found = [
        DailyMood(
            day=date.fromisoformat(str(row["_id"])),
            average=float(row["average"]),
            entries=int(row["entries"]),
        )
        for row in _nonempty(rows, "entries")
    ]
    return sorted(found, key=lambda item: item.day)


def average_pipeline() -> list[dict[str, Any]]:
    """The stages computing the mean normalised rating of the matched entries."""
    return [
        {"$project": {"_id": 0, "rating": _RATING}},
        {
            "$group": {
                "_id": None,
                "entries": {"$sum": 1},
                "total": {"$sum": "$rating"},
            }
        },
    ]


def average_from_rows(rows: Sequence[Mapping[str, Any]]) -> MoodAverage:
    """The mean from the row :func:`average_pipeline` produces (if any)."""
    found = _nonempty(rows, "entries")
    return _average(found[0] if found else None)


# ------------------------------------------------------------------ stages


def _day_index(start: datetime) -> dict[str, Any]:
    # Whole days since the period's first midnight: the x of the trend line.
    return {"$floor": {"$divide": [{"$subtract": ["$created_at", start]}, _MS_PER_DAY]}}


def _period_totals() -> list[dict[str, Any]]:
    return [
        {
            "$group": {
                "_id": "$current",
                "entries": {"$sum": 1},
                "total": {"$sum": "$rating"},
                "days": {"$addToSet": "$day"},
            }
        },
        {"$project": {"entries": 1, "total": 1, "days": {"$size": "$days"}}},
    ]


def _centred_sums() -> list[dict[str, Any]]:
    # Sums of centred products over the daily means: slope = sxy / sxx and
    # variance = syy / n, without the cancellation of raw power sums.
    dx = {"$subtract": ["$points.x", "$mean_x"]}
    dy = {"$subtract": ["$points.y", "$mean_y"]}
    return [
        {
            "$group": {
                "_id": None,
                "points": {"$push": {"x": "$x", "y": "$average"}},
                "mean_x": {"$avg": "$x"},
                "mean_y": {"$avg": "$average"},
                "days": {"$sum": 1},
            }
        },
        {"$unwind": "$points"},
        {
            "$group": {
                "_id": None,
                "days": {"$first": "$days"},
                "sxy": {"$sum": {"$multiply": [dx, dy]}},
                "sxx": {"$sum": {"$multiply": [dx, dx]}},
                "syy": {"$sum": {"$multiply": [dy, dy]}},
            }
        },
    ]


def _label_sums(labels: str) -> list[dict[str, Any]]:
    return [
        _CURRENT_ONLY,
        {"$unwind": labels},
        {
            "$group": {
                "_id": labels,
                "entries": {"$sum": 1},
                "total": {"$sum": "$rating"},
            }
        },
    ]


# ----------------------------------------------------------------- reading


def _nonempty(rows: Sequence[Mapping[str, Any]], count: str) -> list[Mapping[str, Any]]:
    # The embedded backend answers a group over no documents with one row of
    # zeros (or nulls) where a server answers with none; both mean "nothing".
    return [row for row in rows if row.get(count)]


def _average(row: Mapping[str, Any] | None) -> MoodAverage:
    if row is None or not row.get("entries"):
        return MoodAverage(average=None, entries=0)
    entries = int(row["entries"])
    return MoodAverage(average=float(row["total"]) / entries, entries=entries)


def _line(rows: Sequence[Mapping[str, Any]]) -> tuple[float | None, float | None]:
    if not rows or int(rows[0]["days"]) < 2:
        return None, None
    row = rows[0]
    slope = float(row["sxy"]) / float(row["sxx"])
    volatility = math.sqrt(max(float(row["syy"]), 0.0) / int(row["days"]))
    return slope, volatility


def _associations(
    rows: Sequence[Mapping[str, Any]], current: MoodAverage, current_total: float
) -> list[LabelAssociation]:
    found = []
    for row in _nonempty(rows, "entries"):
        entries = int(row["entries"])
        without = current.entries - entries
        if without <= 0:
            continue
        total = float(row["total"])
        rest = current_total - total
        found.append(
            LabelAssociation(
                label=str(row["_id"]),
                entries_with=entries,
                entries_without=without,
                average_with=total / entries,
                average_without=rest / without,
            )
        )
    return found
