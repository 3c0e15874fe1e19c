"""``create_<name>_repository(db_manager, logger)``: the way services obtain
repositories.

Given an async ``DatabaseManager`` a factory returns the async repository; given a
``SyncDatabaseManager`` it returns the blocking facade over the same class.
"""

from __future__ import annotations

import logging
from typing import Any, overload

from wellness_repo.analysis.check_in_responses import ResponseGenerator
from wellness_repo.analysis.drug_interactions import InteractionProvider
from wellness_repo.database.manager import DatabaseManager
from wellness_repo.models.administration import UserAccount
from wellness_repo.models.appointments import Appointment
from wellness_repo.models.audit import AuditLog
from wellness_repo.models.care import CareTeam, Provider
from wellness_repo.models.clinical import TherapeuticRelationship
from wellness_repo.models.conversations import Conversation
from wellness_repo.models.crisis import CrisisDetection, CrisisNotification
from wellness_repo.models.dose_logs import DoseLog
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.journals import JournalEntry
from wellness_repo.models.medications import Medication
from wellness_repo.models.mood_goals import MoodGoal
from wellness_repo.models.provider_calendars import ProviderCalendar
from wellness_repo.models.referrals import Referral
from wellness_repo.models.reminders import AppointmentReminder
from wellness_repo.models.safety_plans import SafetyPlan
from wellness_repo.models.security_events import SecurityEvent, UserSession
from wellness_repo.models.sessions import ClinicalSignal, TherapySession
from wellness_repo.models.treatment_plans import TreatmentPlan
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.appointment_reminders import (
    AppointmentReminderRepository,
)
from wellness_repo.repositories.appointments import AppointmentRepository
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)
from wellness_repo.repositories.clinical_signals import ClinicalSignalRepository
from wellness_repo.repositories.conversation_messages import (
    ConversationMessageRepository,
)
from wellness_repo.repositories.conversations import ConversationRepository
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.dose_logs import DoseLogRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.journals import JournalRepository
from wellness_repo.repositories.medications import MedicationRepository
from wellness_repo.repositories.mood_goals import MoodGoalRepository
from wellness_repo.repositories.notifications import CrisisNotificationRepository
from wellness_repo.repositories.provider_calendars import ProviderCalendarRepository
from wellness_repo.repositories.referrals import ReferralRepository
from wellness_repo.repositories.safety_plans import SafetyPlanRepository
from wellness_repo.repositories.security_events import (
    SecurityEventRepository,
    UserSessionRepository,
)
from wellness_repo.repositories.sessions import TherapySessionRepository
from wellness_repo.repository.sync import BaseRepository, SyncDatabaseManager

__all__ = [
    "REPOSITORY_CLASSES",
    "create_appointment_reminder_repository",
    "create_appointment_repository",
    "create_audit_log_repository",
    "create_care_team_repository",
    "create_clinical_signal_repository",
    "create_conversation_repository",
    "create_crisis_detection_repository",
    "create_crisis_notification_repository",
    "create_dose_log_repository",
    "create_journal_entry_repository",
    "create_medication_repository",
    "create_mood_entry_repository",
    "create_mood_goal_repository",
    "create_provider_calendar_repository",
    "create_provider_repository",
    "create_referral_repository",
    "create_safety_plan_repository",
    "create_security_event_repository",
    "create_therapeutic_relationship_repository",
    "create_therapy_session_repository",
    "create_treatment_plan_repository",
    "create_user_account_repository",
    "create_user_session_repository",
]

# Every repository class, for commands that visit each kind of record.
REPOSITORY_CLASSES: tuple[type[Any], ...] = (
    MoodEntryRepository,
    MoodGoalRepository,
    JournalRepository,
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
    TherapySessionRepository,
    ClinicalSignalRepository,
    ProviderRepository,
    ReferralRepository,
    CareTeamRepository,
    UserSessionRepository,
    SecurityEventRepository,
    UserAccountRepository,
    AuditLogRepository,
    CrisisDetectionRepository,
    CrisisNotificationRepository,
    SafetyPlanRepository,
    MedicationRepository,
    DoseLogRepository,
    ConversationRepository,
    ConversationMessageRepository,
    AppointmentRepository,
    ProviderCalendarRepository,
    AppointmentReminderRepository,
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
def create_journal_entry_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> JournalRepository: ...
@overload
def create_journal_entry_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[JournalEntry]: ...
def create_journal_entry_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> JournalRepository | BaseRepository[JournalEntry]:
    """The repository of patients' journal entries, with the crisis hook."""
    built: JournalRepository | BaseRepository[JournalEntry] = _build(
        JournalRepository, db_manager, logger
    )
    return built


@overload
def create_mood_goal_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> MoodGoalRepository: ...
@overload
def create_mood_goal_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[MoodGoal]: ...
def create_mood_goal_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> MoodGoalRepository | BaseRepository[MoodGoal]:
    """The repository of patients' mood goals and their progress."""
    built: MoodGoalRepository | BaseRepository[MoodGoal] = _build(
        MoodGoalRepository, db_manager, logger
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


@overload
def create_user_session_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> UserSessionRepository: ...
@overload
def create_user_session_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[UserSession]: ...
def create_user_session_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> UserSessionRepository | BaseRepository[UserSession]:
    """The repository of signed-in sessions: open, check, slide and end them."""
    built: UserSessionRepository | BaseRepository[UserSession] = _build(
        UserSessionRepository, db_manager, logger
    )
    return built


@overload
def create_security_event_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> SecurityEventRepository: ...
@overload
def create_security_event_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[SecurityEvent]: ...
def create_security_event_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> SecurityEventRepository | BaseRepository[SecurityEvent]:
    """The append-only security record: sign-ins, lockouts, MFA, session ends."""
    built: SecurityEventRepository | BaseRepository[SecurityEvent] = _build(
        SecurityEventRepository, db_manager, logger
    )
    return built


@overload
def create_user_account_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> UserAccountRepository: ...
@overload
def create_user_account_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[UserAccount]: ...
def create_user_account_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> UserAccountRepository | BaseRepository[UserAccount]:
    """The repository of user accounts: sign-up, sign-in, lockout and MFA."""
    built: UserAccountRepository | BaseRepository[UserAccount] = _build(
        UserAccountRepository, db_manager, logger
    )
    return built


@overload
def create_audit_log_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> AuditLogRepository: ...
@overload
def create_audit_log_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[AuditLog]: ...
def create_audit_log_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> AuditLogRepository | BaseRepository[AuditLog]:
    """The tamper-evident audit trail: logged actions, verification, reports."""
    built: AuditLogRepository | BaseRepository[AuditLog] = _build(
        AuditLogRepository, db_manager, logger
    )
    return built


@overload
def create_crisis_detection_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> CrisisDetectionRepository: ...
@overload
def create_crisis_detection_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[CrisisDetection]: ...
def create_crisis_detection_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> CrisisDetectionRepository | BaseRepository[CrisisDetection]:
    """Crisis detections: recording, escalation, response times."""
    built: CrisisDetectionRepository | BaseRepository[CrisisDetection] = _build(
        CrisisDetectionRepository, db_manager, logger
    )
    return built


@overload
def create_crisis_notification_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> CrisisNotificationRepository: ...
@overload
def create_crisis_notification_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[CrisisNotification]: ...
def create_crisis_notification_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> CrisisNotificationRepository | BaseRepository[CrisisNotification]:
    """The crisis alert outbox that senders claim alerts from."""
    built: CrisisNotificationRepository | BaseRepository[CrisisNotification] = _build(
        CrisisNotificationRepository, db_manager, logger
    )
    return built


@overload
def create_safety_plan_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> SafetyPlanRepository: ...
@overload
def create_safety_plan_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[SafetyPlan]: ...
def create_safety_plan_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> SafetyPlanRepository | BaseRepository[SafetyPlan]:
    """Patients' Stanley-Brown safety plans, with versions and sign-off."""
    built: SafetyPlanRepository | BaseRepository[SafetyPlan] = _build(
        SafetyPlanRepository, db_manager, logger
    )
    return built


@overload
def create_conversation_repository(
    db_manager: DatabaseManager,
    logger: logging.Logger | None = None,
    response_generator: ResponseGenerator | None = None,
) -> ConversationRepository: ...
@overload
def create_conversation_repository(
    db_manager: SyncDatabaseManager,
    logger: logging.Logger | None = None,
    response_generator: ResponseGenerator | None = None,
) -> BaseRepository[Conversation]: ...
def create_conversation_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
    response_generator: ResponseGenerator | None = None,
) -> ConversationRepository | BaseRepository[Conversation]:
    """The check-in agent's conversations: messages, replies, crisis handling
    and analytics. ``response_generator`` replaces the default templates for
    replies to non-crisis messages."""
    built: ConversationRepository | BaseRepository[Conversation] = _build(
        ConversationRepository, db_manager, logger
    )
    if response_generator is not None:
        target = built.aio if isinstance(built, BaseRepository) else built
        target.response_generator = response_generator
    return built


@overload
def create_appointment_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> AppointmentRepository: ...
@overload
def create_appointment_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[Appointment]: ...
def create_appointment_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> AppointmentRepository | BaseRepository[Appointment]:
    """Appointments: availability, race-safe booking, changes and reminders."""
    built: AppointmentRepository | BaseRepository[Appointment] = _build(
        AppointmentRepository, db_manager, logger
    )
    return built


@overload
def create_provider_calendar_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> ProviderCalendarRepository: ...
@overload
def create_provider_calendar_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[ProviderCalendar]: ...
def create_provider_calendar_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> ProviderCalendarRepository | BaseRepository[ProviderCalendar]:
    """Providers' calendars: working hours, exceptions and buffers."""
    built: ProviderCalendarRepository | BaseRepository[ProviderCalendar] = _build(
        ProviderCalendarRepository, db_manager, logger
    )
    return built


@overload
def create_appointment_reminder_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> AppointmentReminderRepository: ...
@overload
def create_appointment_reminder_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[AppointmentReminder]: ...
def create_appointment_reminder_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> AppointmentReminderRepository | BaseRepository[AppointmentReminder]:
    """The appointment reminder outbox that dispatchers claim from."""
    built: AppointmentReminderRepository | BaseRepository[AppointmentReminder] = _build(
        AppointmentReminderRepository, db_manager, logger
    )
    return built


@overload
def create_medication_repository(
    db_manager: DatabaseManager,
    logger: logging.Logger | None = None,
    interactions: InteractionProvider | None = None,
) -> MedicationRepository: ...
@overload
def create_medication_repository(
    db_manager: SyncDatabaseManager,
    logger: logging.Logger | None = None,
    interactions: InteractionProvider | None = None,
) -> BaseRepository[Medication]: ...
def create_medication_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
    interactions: InteractionProvider | None = None,
) -> MedicationRepository | BaseRepository[Medication]:
    """Patients' medications: prescribing with the interaction check, status,
    side effects, refills, dose logging and adherence. ``interactions``
    replaces the shipped interaction table (a full drug database)."""
    built: MedicationRepository | BaseRepository[Medication] = _build(
        MedicationRepository, db_manager, logger
    )
    if interactions is not None:
        target = built.aio if isinstance(built, BaseRepository) else built
        target.interactions = interactions
    return built


@overload
def create_dose_log_repository(
    db_manager: DatabaseManager, logger: logging.Logger | None = None
) -> DoseLogRepository: ...
@overload
def create_dose_log_repository(
    db_manager: SyncDatabaseManager, logger: logging.Logger | None = None
) -> BaseRepository[DoseLog]: ...
def create_dose_log_repository(
    db_manager: DatabaseManager | SyncDatabaseManager,
    logger: logging.Logger | None = None,
) -> DoseLogRepository | BaseRepository[DoseLog]:
    """Patients' dose logs, each checked against its prescription."""
    built: DoseLogRepository | BaseRepository[DoseLog] = _build(
        DoseLogRepository, db_manager, logger
    )
    return built
