"""``create_<name>_repository(db_manager, logger)``: the way services obtain
repositories.

Given an async ``DatabaseManager`` a factory returns the async repository; given a
``SyncDatabaseManager`` it returns the blocking facade over the same class.
"""

from __future__ import annotations

import logging
from typing import Any, overload

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.models.care import CareTeam, Provider
from wellness_repo.models.clinical import TherapeuticRelationship
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.referrals import Referral
from wellness_repo.models.sessions import ClinicalSignal, TherapySession
from wellness_repo.models.treatment_plans import TreatmentPlan
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.referrals import ReferralRepository
from wellness_repo.repositories.sessions import (
    ClinicalSignalRepository,
    TherapySessionRepository,
)
from wellness_repo.repository.sync import BaseRepository, SyncDatabaseManager

__all__ = [
    "REPOSITORY_CLASSES",
    "create_care_team_repository",
    "create_clinical_signal_repository",
    "create_mood_entry_repository",
    "create_provider_repository",
    "create_referral_repository",
    "create_therapeutic_relationship_repository",
    "create_therapy_session_repository",
    "create_treatment_plan_repository",
]

# Every repository class, for commands that visit each kind of record.
REPOSITORY_CLASSES: tuple[type[Any], ...] = (
    MoodEntryRepository,
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
    TherapySessionRepository,
    ClinicalSignalRepository,
    ProviderRepository,
    ReferralRepository,
    CareTeamRepository,
)


def _build(
    repository_class: type[Any],
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None,
) -> Any:
    if isinstance(db_manager, SyncDatabaseManager):
        return BaseRepository(repository_class(db_manager.manager, logger), db_manager)
    if isinstance(db_manager, DatabaseManager):
        return repository_class(db_manager, logger)
    raise TypeError("db_manager must come from connect() or connect_sync()")


@overload
def create_mood_entry_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> MoodEntryRepository: ...
@overload
def create_mood_entry_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[MoodEntry]: ...
def create_mood_entry_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> MoodEntryRepository | BaseRepository[MoodEntry]:
    """The repository of patients' mood entries."""
    built: MoodEntryRepository | BaseRepository[MoodEntry] = _build(
        MoodEntryRepository, db_manager, logger
    )
    return built


@overload
def create_therapy_session_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> TherapySessionRepository: ...
@overload
def create_therapy_session_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[TherapySession]: ...
def create_therapy_session_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> TherapySessionRepository | BaseRepository[TherapySession]:
    """The repository of documented therapy sessions, with the crisis hook."""
    built: TherapySessionRepository | BaseRepository[TherapySession] = _build(
        TherapySessionRepository, db_manager, logger
    )
    return built


@overload
def create_clinical_signal_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> ClinicalSignalRepository: ...
@overload
def create_clinical_signal_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[ClinicalSignal]: ...
def create_clinical_signal_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> ClinicalSignalRepository | BaseRepository[ClinicalSignal]:
    """The queue of clinical signals awaiting crisis follow-up."""
    built: ClinicalSignalRepository | BaseRepository[ClinicalSignal] = _build(
        ClinicalSignalRepository, db_manager, logger
    )
    return built


@overload
def create_therapeutic_relationship_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> TherapeuticRelationshipRepository: ...
@overload
def create_therapeutic_relationship_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[TherapeuticRelationship]: ...
def create_therapeutic_relationship_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> TherapeuticRelationshipRepository | BaseRepository[TherapeuticRelationship]:
    """The repository of patients' relationships with their therapists."""
    built: (
        TherapeuticRelationshipRepository | BaseRepository[TherapeuticRelationship]
    ) = _build(TherapeuticRelationshipRepository, db_manager, logger)
    return built


@overload
def create_treatment_plan_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> TreatmentPlanRepository: ...
@overload
def create_treatment_plan_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[TreatmentPlan]: ...
def create_treatment_plan_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> TreatmentPlanRepository | BaseRepository[TreatmentPlan]:
    """The repository of treatment plans: phases, goal progress, outcomes."""
    built: TreatmentPlanRepository | BaseRepository[TreatmentPlan] = _build(
        TreatmentPlanRepository, db_manager, logger
    )
    return built


@overload
def create_provider_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> ProviderRepository: ...
@overload
def create_provider_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[Provider]: ...
def create_provider_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> ProviderRepository | BaseRepository[Provider]:
    """The repository of the provider network: credentials and specialties."""
    built: ProviderRepository | BaseRepository[Provider] = _build(
        ProviderRepository, db_manager, logger
    )
    return built


@overload
def create_referral_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> ReferralRepository: ...
@overload
def create_referral_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[Referral]: ...
def create_referral_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> ReferralRepository | BaseRepository[Referral]:
    """The repository of referrals between providers and their outcomes."""
    built: ReferralRepository | BaseRepository[Referral] = _build(
        ReferralRepository, db_manager, logger
    )
    return built


@overload
def create_care_team_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> CareTeamRepository: ...
@overload
def create_care_team_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[CareTeam]: ...
def create_care_team_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> CareTeamRepository | BaseRepository[CareTeam]:
    """The repository of patients' multidisciplinary care teams."""
    built: CareTeamRepository | BaseRepository[CareTeam] = _build(
        CareTeamRepository, db_manager, logger
    )
    return built
