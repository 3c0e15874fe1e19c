"""Therapy sessions, and the clinical signals they raise for crisis follow-up."""

from __future__ import annotations

from wellness_repo.models.base import WellnessDocument

__all__ = ["SESSIONS_MODELS"]

SESSIONS_MODELS: tuple[type[WellnessDocument], ...] = ()
