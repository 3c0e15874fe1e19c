"""The fixture plan: one small unit per kind of record, in the order they depend
on each other. Adding a kind of record to the fixtures is adding a unit here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.appointments import AppointmentRepository
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.clinical import TherapeuticRelationshipRepository
from wellness_repo.repositories.conversations import ConversationRepository
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.dose_logs import DoseLogRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.journals import JournalRepository
from wellness_repo.repositories.medications import MedicationRepository
from wellness_repo.repositories.provider_calendars import ProviderCalendarRepository
from wellness_repo.repositories.safety_plans import SafetyPlanRepository
from wellness_repo.repositories.sessions import TherapySessionRepository
from wellness_repo.repositories.treatment_plans import TreatmentPlanRepository
from wellness_repo.seeding.generators import (
    care,
    conversations,
    crisis,
    engagement,
    medications,
    people,
    scheduling,
)
from wellness_repo.seeding.world import FixtureWorld
from wellness_repo.seeding.writers import write_appointments, write_conversations

__all__ = ["SEED_UNITS", "SeedUnit", "per_patient", "per_provider"]

Generator = Callable[[FixtureWorld], Iterable[Sequence[Any]]]
Writer = Callable[[Any, Sequence[Any]], Awaitable[tuple[int, int]]]


def per_patient(world: FixtureWorld) -> int:
    """A unit that yields one group of records per patient."""
    return len(world.patient_indices())


def per_provider(world: FixtureWorld) -> int:
    """A unit that yields one group of records per provider."""
    return len(world.provider_indices())


@dataclass(frozen=True, slots=True)
class SeedUnit:
    """One kind of fixture record: how to generate it and where it is stored.

    Args:
        name: the label in progress bars and the summary (``mood entries``).
        repository: the repository class the records are written through
            (``create_many``: validation, encryption, audit, domain hooks).
        generate: yields the records, one owner (patient or provider) at a time.
        owners: how many groups ``generate`` yields, for the progress bar.
        batch_size: records per ``create_many`` call.
        write: writes one batch of records not stored yet and returns
            ``(written, already stored)``, for units one ``create_many`` does
            not fit (``seeding.writers``); by default ``create_many``.
    """

    name: str
    repository: type[Any]
    generate: Generator
    owners: Callable[[FixtureWorld], int] = per_patient
    batch_size: int = 500
    write: Writer | None = None


SEED_UNITS: tuple[SeedUnit, ...] = (
    SeedUnit("providers", ProviderRepository, people.providers, per_provider),
    SeedUnit(
        "clinician accounts",
        UserAccountRepository,
        people.clinician_accounts,
        per_provider,
    ),
    SeedUnit("patient accounts", UserAccountRepository, people.patient_accounts),
    SeedUnit(
        "therapeutic relationships",
        TherapeuticRelationshipRepository,
        care.relationships,
    ),
    SeedUnit("treatment plans", TreatmentPlanRepository, care.treatment_plans),
    SeedUnit("therapy sessions", TherapySessionRepository, care.therapy_sessions),
    SeedUnit("mood entries", MoodEntryRepository, engagement.mood_entries),
    SeedUnit("journal entries", JournalRepository, engagement.journal_entries),
    SeedUnit(
        "crisis detections",
        CrisisDetectionRepository,
        crisis.crisis_detections,
        batch_size=50,
    ),
    SeedUnit("safety plans", SafetyPlanRepository, crisis.safety_plans, batch_size=50),
    SeedUnit(
        "provider calendars",
        ProviderCalendarRepository,
        scheduling.provider_calendars,
        per_provider,
    ),
    SeedUnit(
        "medications", MedicationRepository, medications.medications, batch_size=100
    ),
    SeedUnit("dose logs", DoseLogRepository, medications.dose_logs, batch_size=1000),
    SeedUnit(
        "appointments",
        AppointmentRepository,
        scheduling.appointments,
        batch_size=250,
        write=write_appointments,
    ),
    SeedUnit(
        "conversations",
        ConversationRepository,
        conversations.conversations,
        batch_size=50,
        write=write_conversations,
    ),
)
"""Every unit, in dependency order: people first, then care, then what patients
record, then crises, then calendars, medications with their doses,
appointments, and check-in conversations."""
