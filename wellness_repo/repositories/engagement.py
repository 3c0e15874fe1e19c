"""Repositories for patient engagement: mood entries and their analytics.

The crisis hook: creating a mood entry reads the patient's daily averages of the
last ``MOOD_SIGNAL_DAYS`` days ending on the entry's day and records each warning
sign ``analysis.crisis_screening.assess_daily_mood`` finds there (a sharp fall
into that day, a run of very low days) as a crisis detection
(``source="mood_entry"``), in the same transaction as the entry on a replica
set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from wellness_repo.analysis.crisis_screening import assess_daily_mood
from wellness_repo.analysis.mood_trend_results import (
    MIN_LABEL_ENTRIES,
    DailyMood,
    MoodAverage,
    MoodTrends,
    TrendWindow,
)
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.errors import ValidationError
from wellness_repo.models.crisis import DetectionSource
from wellness_repo.models.engagement import MoodEntry, MoodScale, MoodType
from wellness_repo.models.types import is_aware, utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.crisis_recording import (
    CRISIS_DETECTOR,
    record_signals,
    with_detections,
)
from wellness_repo.repositories.mood_trends import (
    average_from_rows,
    average_pipeline,
    daily_from_rows,
    daily_pipeline,
    entries_match,
    trend_pipeline,
    trends_from_rows,
)
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.records import printable_id
from wellness_repo.security.context import acting_as

__all__ = ["MAX_TREND_DAYS", "MOOD_SIGNAL_DAYS", "MoodEntryRepository"]

MAX_TREND_DAYS = 730
"""The longest period one analysis covers (two years, compared with the two
before): longer spans belong in reporting, not in a request."""
MOOD_SIGNAL_DAYS = 7
"""How many days of daily averages, ending on a new entry's day, the crisis hook
reads: the sharp-fall and very-low-run signals look back at most a few days."""


class MoodEntryRepository(AsyncBaseRepository[MoodEntry]):
    """A patient's mood entries, and the trends clinicians and patients follow.

    Schema history: version 1 stored only ``mood_rating`` (1-10), ``tags`` and
    ``notes``; version 2 adds the scale, type, factors, triggers, side ratings
    and the normalised rating (see :meth:`migrate_entity_v1_to_v2`).

    ``detections`` is the crisis repository the mood hook records through.
    """

    model = MoodEntry

    def __init__(
        self,
        db_manager: DatabaseManager,
        logger: logging.Logger | None = None,
        *,
        model: type[MoodEntry] | None = None,
    ) -> None:
        super().__init__(db_manager, logger, model=model)
        self.detections = CrisisDetectionRepository(self.db, self.logger)

    async def create(self, entity: MoodEntry) -> MoodEntry:
        """Store a patient's mood entry, and record each crisis warning sign in
        their daily mood up to the entry's day as a crisis detection in the same
        transaction.

        The daily averages are read, as the crisis detector, by one indexed
        aggregation over the last ``MOOD_SIGNAL_DAYS`` days ending on the day of
        the entry's ``created_at``; a repeat of an open mood detection within
        the duplicate window is folded into it.

        Raises:
            ValidationError: the entry is invalid; nothing is written, and no
                detection.
        """

        async def write_and_assess() -> MoodEntry:
            stored = await super(MoodEntryRepository, self).create(entity)
            await self._assess(stored)
            return stored

        return await with_detections(self.db, write_and_assess)

    async def update(self, entity: MoodEntry) -> MoodEntry:
        """Store a changed mood entry (revision-guarded; ``patch`` comes here
        too), and assess the patient's daily mood up to its day again, as
        :meth:`create` does, in the same transaction: a rating corrected
        downwards can show a fall that was not there before.

        Raises:
            ValidationError: the entry is invalid; nothing is written.
            ConcurrencyError: the entry changed since it was read.
        """

        async def write_and_assess() -> MoodEntry:
            stored = await super(MoodEntryRepository, self).update(entity)
            await self._assess(stored)
            return stored

        return await with_detections(
            self.db, write_and_assess, stale_entity=self._entity
        )

    async def _assess(self, stored: MoodEntry) -> None:
        """Record each crisis warning sign in the patient's daily mood up to the
        day of ``stored`` (repeats of an open detection fold into it)."""
        with acting_as(CRISIS_DETECTOR):
            days = await self.recent_daily_averages(
                stored.user_id, MOOD_SIGNAL_DAYS, as_of=stored.created_at
            )
        signals = assess_daily_mood({mood.day: mood.average for mood in days})
        await record_signals(
            self.detections,
            stored.user_id,
            DetectionSource.MOOD_ENTRY,
            stored.id,
            signals,
        )

    async def create_many(self, entities: Sequence[MoodEntry]) -> list[MoodEntry]:
        """Store several mood entries at once (a bulk import from a device or
        another system), without the crisis hook.

        Imports are historical and large: reading each patient's daily averages
        for every entry would cost an aggregation per record, and a fall weeks
        old is not a crisis to alert on now. Use :meth:`create` for entries
        logged as they happen.
        """
        return await super().create_many(entities)

    async def recent_entries(self, user_id: str, days: int = 30) -> list[MoodEntry]:
        """A patient's entries of the last ``days`` days, newest first."""
        since = utc_now() - timedelta(days=days)
        page = await self.list_all(
            QueryOptions(
                filters={"user_id": user_id, "created_at__gte": since},
                order_by=["-created_at"],
            )
        )
        return page.items

    async def analyze_mood_trends(
        self,
        user_id: str,
        days_back: int = 30,
        *,
        as_of: datetime | None = None,
        mood_type: MoodType | str | None = None,
        min_label_entries: int = MIN_LABEL_ENTRIES,
    ) -> MoodTrends:
        """A patient's mood trends over the last ``days_back`` UTC days.

        Computed by one aggregation in the database: daily and ISO-week means,
        the trend line and its direction, volatility, best and worst weekday,
        the factors and triggers that go with higher or lower mood, logging
        streaks, and the comparison with the ``days_back`` days before. See
        :class:`~wellness_repo.analysis.mood_trend_results.MoodTrends`.

        Args:
            user_id: the patient.
            days_back: how many days, ending with today (or the day of
                ``as_of``), 1 to ``MAX_TREND_DAYS``.
            as_of: the moment whose UTC day ends the period (timezone-aware).
            mood_type: analyse only check-ins of this type.
            min_label_entries: how many entries must carry a factor or trigger
                (and how many must not) before it is compared.

        Raises:
            ValidationError: an invalid argument; nothing is read.
        """
        patient = _checked_patient(user_id)
        days = _checked_count(days_back, "days_back", MAX_TREND_DAYS)
        minimum = _checked_count(min_label_entries, "min_label_entries", 10_000)
        kind = _checked_mood_type(mood_type)
        window = TrendWindow.ending_at(_checked_moment(as_of), days)
        rows = await self._aggregate(
            trend_pipeline(window),
            match=entries_match(patient, window.previous_start, window.end, kind),
        )
        trends = trends_from_rows(rows, window, min_label_entries=minimum)
        self.logger.debug(
            "analysed mood trends of %s over %d days: %d entries",
            patient,
            days,
            trends.entries,
        )
        return trends

    async def recent_daily_averages(
        self, user_id: str, days: int, *, as_of: datetime | None = None
    ) -> list[DailyMood]:
        """A patient's mean normalised mood of each UTC day with entries, over
        the last ``days`` days ending today (or the day of ``as_of``), oldest
        first. The crisis signals read sharp drops and sustained lows from it.
        """
        patient = _checked_patient(user_id)
        count = _checked_count(days, "days", MAX_TREND_DAYS)
        window = TrendWindow.ending_at(_checked_moment(as_of), count)
        rows = await self._aggregate(
            daily_pipeline(), match=entries_match(patient, window.start, window.end)
        )
        return daily_from_rows(rows)

    async def mood_average_between(
        self, user_id: str, start: datetime, end: datetime
    ) -> MoodAverage:
        """A patient's mean normalised mood over entries from ``start`` up to
        ``end`` (excluded), computed in the database."""
        patient = _checked_patient(user_id)
        first = _checked_moment(start, "start")
        last = _checked_moment(end, "end")
        if last < first:
            raise ValidationError(
                "end must not be before start", field="end", rule="range"
            )
        rows = await self._aggregate(
            average_pipeline(), match=entries_match(patient, first, last)
        )
        return average_from_rows(rows)

    def migrate_entity_v1_to_v2(self, document: dict[str, Any]) -> dict[str, Any]:
        """Upgrade a version-1 entry: every version-1 rating was a general
        check-in on the 1-10 scale, with no factors or triggers recorded."""
        document.setdefault("mood_scale", MoodScale.ONE_TO_TEN.value)
        document.setdefault("mood_type", MoodType.GENERAL.value)
        document.setdefault("contributing_factors", [])
        document.setdefault("triggers", [])
        rating = document.get("mood_rating")
        if isinstance(rating, int | float):
            document["normalized_rating"] = MoodScale.ONE_TO_TEN.normalize(rating)
        return document


def _checked_patient(user_id: Any) -> str:
    if not isinstance(user_id, str) or printable_id(user_id) is None:
        raise ValidationError(
            "user_id must be a patient id: at most 64 letters, digits or _ . : -",
            field="user_id",
            rule="format",
            entity=MoodEntry.entity_name(),
        )
    return user_id


def _checked_count(value: Any, field: str, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{field} must be a whole number", field=field, rule="type"
        )
    if not 1 <= value <= highest:
        raise ValidationError(
            f"{field} must be between 1 and {highest}", field=field, rule="range"
        )
    return value


def _checked_mood_type(value: Any) -> MoodType | None:
    if value is None:
        return None
    try:
        return MoodType(value)
    except ValueError:
        raise ValidationError(
            "mood_type is not a known mood type", field="mood_type", rule="enum"
        ) from None


def _checked_moment(value: Any, field: str = "as_of") -> datetime:
    if value is None and field == "as_of":
        return utc_now()
    if not is_aware(value):
        raise ValidationError(
            f"{field} must be a timezone-aware datetime, e.g. tzinfo=UTC",
            field=field,
            rule="timezone_required",
        )
    moment: datetime = value
    return moment
