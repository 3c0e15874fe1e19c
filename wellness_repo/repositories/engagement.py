"""Repositories for patient engagement: mood entries."""

from __future__ import annotations

from datetime import timedelta

from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repository.base import AsyncBaseRepository

__all__ = ["MoodEntryRepository"]


class MoodEntryRepository(AsyncBaseRepository[MoodEntry]):
    """A patient's mood entries."""

    model = MoodEntry

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
