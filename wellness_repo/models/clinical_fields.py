"""Field types shared by the clinical records: people's ids, short clinical
labels, and free-text clinical notes (always stored encrypted)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from wellness_repo.models.types import ID_PATTERN, Encrypted

__all__ = ["ActorId", "ClinicalLabel", "ClinicalNote", "PersonId"]

PersonId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""The id of a patient or a provider, in the platform's one id convention."""

ActorId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
"""Who made a change: the access context's actor id, as the audit trail has it."""

ClinicalLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
"""A short clinical term from a list (a treatment focus, an intervention)."""

ClinicalNote = Annotated[str | None, Encrypted(), Field(max_length=10_000)]
"""Free text a clinician writes (a reason, a note); random-encrypted, so it can
be read back but never searched or sorted on."""
