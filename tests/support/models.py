"""Document models used only by the tests: they exercise what the package's own
models do not yet (sub-documents in lists, nested documents, dates, enums)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from wellness_repo import (
    CalendarDate,
    EmbeddedModel,
    Encrypted,
    EncryptionAlgorithm,
    UtcDatetime,
    WellnessDocument,
)


class GoalStatus(StrEnum):
    """Where a treatment goal stands."""

    OPEN = "open"
    MET = "met"
    DROPPED = "dropped"


class Goal(EmbeddedModel):
    """One measurable goal inside a care plan."""

    code: str
    progress: int = Field(ge=0, le=100)
    status: GoalStatus = GoalStatus.OPEN
    labels: list[str] = Field(default_factory=list)


class Contact(EmbeddedModel):
    """A person to call, nested (not in a list) inside the plan."""

    name: str
    phone: str | None = None


class CarePlanRecord(WellnessDocument):
    """A stand-in clinical record with every shape the query language handles."""

    ID_NAME: ClassVar[str] = "plan_id"

    patient_id: str
    title: str
    score: int | None = None
    weight: float = 0.0
    status: GoalStatus = GoalStatus.OPEN
    tags: list[str] = Field(default_factory=list)
    scores: list[int] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    contact: Contact | None = None
    review_on: CalendarDate | None = None
    reviewed_at: UtcDatetime | None = None
    email: Annotated[str | None, Encrypted(EncryptionAlgorithm.DETERMINISTIC)] = None
    private_note: Annotated[str | None, Encrypted()] = None

    class Settings:
        name = "test_care_plans"

    @property
    def plan_id(self) -> str:
        """The platform's name for this plan's id."""
        return self.id


TEST_MODELS = (CarePlanRecord,)
