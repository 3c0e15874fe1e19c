"""Clinical records: therapeutic relationships and treatment plans."""

from __future__ import annotations

from wellness_repo.models.base import WellnessDocument

__all__ = ["CLINICAL_MODELS"]

CLINICAL_MODELS: tuple[type[WellnessDocument], ...] = ()
