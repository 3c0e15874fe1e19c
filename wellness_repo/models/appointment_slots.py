"""Slot reservations: the bookkeeping that makes booking race-safe.

Time is cut into fixed slots (``Settings.appointment_slot_minutes``, 5 by
default). A booking holds one reservation per slot it covers for its provider
(from its start to its end plus the provider's buffer) and one per slot for its
patient (start to end). A unique index on ``(holder, slot_start)`` over the
active reservations lets only one booking hold a slot, so of two overlapping
bookings racing for the same provider or patient the server refuses the second,
whatever the timing. Released reservations stay inactive for a day for
diagnosis, then expire.

Reservations are internal: they carry ids and instants only, and are reachable
by system contexts alone. Their rule is clinical workflow (patients, admins and
auditors reach none) and they name no patient field, so a clinician's care
reach cannot confine them to anything and is refused too. The appointment
repository writes them under its own system context after authorizing the
caller's booking.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.clinical_fields import PersonId
from wellness_repo.models.types import UtcDatetime
from wellness_repo.security.access_rules import AccessRule, RecordKind

__all__ = ["SLOT_MODELS", "SlotReservation", "holder_of_patient", "holder_of_provider"]


def holder_of_provider(provider_id: str) -> str:
    """The reservation holder naming a provider's time."""
    return f"provider:{provider_id}"


def holder_of_patient(patient_id: str) -> str:
    """The reservation holder naming a patient's time."""
    return f"patient:{patient_id}"


class SlotReservation(WellnessDocument):
    """One slot of one provider's or patient's time, held by one appointment."""

    ACCESS: ClassVar[AccessRule] = AccessRule(RecordKind.CLINICAL_WORKFLOW)

    holder: Annotated[
        str, StringConstraints(pattern=r"^(provider|patient):[A-Za-z0-9_.:-]{1,64}$")
    ]
    slot_start: UtcDatetime
    appointment_id: PersonId
    active: bool = True
    released_at: UtcDatetime | None = None
    expires_after: UtcDatetime = Field(
        description="when the reservation may be removed: its slot's day has passed"
    )

    class Settings:
        name = "appointment_slots"


SLOT_MODELS: tuple[type[WellnessDocument], ...] = (SlotReservation,)
"""The document models of this module, for the registry."""
