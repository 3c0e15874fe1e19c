"""Every document model the package stores, in one list for ``init_beanie`` and the
index tool."""

from __future__ import annotations

from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.care import CARE_MODELS
from wellness_repo.models.clinical import CLINICAL_MODELS
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.sessions import SESSIONS_MODELS

__all__ = ["DOCUMENT_MODELS"]

DOCUMENT_MODELS: tuple[type[WellnessDocument], ...] = (
    MoodEntry,
    *CLINICAL_MODELS,
    *SESSIONS_MODELS,
    *CARE_MODELS,
)
