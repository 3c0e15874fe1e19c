"""Care coordination: providers, referrals and care teams."""

from __future__ import annotations

from wellness_repo.models.base import WellnessDocument

__all__ = ["CARE_MODELS"]

CARE_MODELS: tuple[type[WellnessDocument], ...] = ()
