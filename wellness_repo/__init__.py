"""wellness-repo: the data layer of a professional mental-health platform.

Everything a service needs is importable from here; the submodules are internal.
"""

from wellness_repo.analysis.adherence import (
    AdherenceSummary,
    AdherenceTrend,
    DoseStatus,
    MedicationAdherence,
    MissedDosePatterns,
)
from wellness_repo.analysis.adherence_report import (
    AdherenceReport,
    AdherenceReportRow,
)
from wellness_repo.analysis.attendance import (
    AttendanceStatistics,
    summarize_attendance,
)
from wellness_repo.analysis.check_in_responses import (
    ResponseGenerator,
    ResponseRequest,
    SafetyPlanSteps,
    Technique,
    TemplateResponseGenerator,
)
from wellness_repo.analysis.crisis_language import (
    CrisisAssessment,
    CrisisSeverity,
    CrisisType,
    assess_text,
    highest_severity,
)
from wellness_repo.analysis.crisis_screening import (
    CssrsRisk,
    CssrsScreenerAnswers,
    assess_cssrs_screener,
    assess_daily_mood,
    assess_phq9_item9,
    cssrs_triage,
)
from wellness_repo.analysis.drug_interactions import (
    DrugInteraction,
    InteractionProvider,
    TableInteractionProvider,
    find_interactions,
)
from wellness_repo.analysis.instruments import (
    Instrument,
    ReliableChange,
    SeverityBand,
)
from wellness_repo.analysis.intents import (
    Intent,
    IntentResult,
    MoodLabel,
    recognise_intent,
)
from wellness_repo.analysis.interaction_table import InteractionSeverity
from wellness_repo.analysis.journal_prompts import (
    CBTTechnique,
    EntrySummary,
    JournalPrompt,
    JournalType,
    PromptReason,
)
from wellness_repo.analysis.login_bursts import LoginBurst, find_login_bursts
from wellness_repo.analysis.mood_goals import MoodGoalProgress
from wellness_repo.analysis.mood_trend_results import (
    DailyMood,
    LabelAssociation,
    LoggingStreaks,
    MoodAverage,
    MoodTrends,
    PeriodComparison,
    TrendDirection,
    TrendWindow,
    WeekdayMood,
    WeeklyMood,
)
from wellness_repo.analysis.mood_trends import MoodObservation, summarize_mood_trends
from wellness_repo.analysis.response_times import (
    DurationSummary,
    ResponseTimes,
    ResponseTimeStatistics,
)
from wellness_repo.analysis.sentiment import SentimentScores, Tone, score_sentiment
from wellness_repo.config import Settings
from wellness_repo.database.manager import (
    BackendKind,
    DatabaseManager,
    HealthReport,
    connect,
)
from wellness_repo.errors import (
    AccessDeniedError,
    AccountLockedError,
    AuthenticationError,
    BackendCapabilityError,
    BookingConflictError,
    ConcurrencyError,
    DataErasedError,
    DuplicateError,
    NotFoundError,
    RepositoryError,
    SessionExpiredError,
    ValidationError,
)
from wellness_repo.factories import (
    create_appointment_reminder_repository,
    create_appointment_repository,
    create_audit_log_repository,
    create_care_team_repository,
    create_clinical_signal_repository,
    create_conversation_repository,
    create_crisis_detection_repository,
    create_crisis_notification_repository,
    create_dose_log_repository,
    create_journal_entry_repository,
    create_medication_repository,
    create_mood_entry_repository,
    create_mood_goal_repository,
    create_provider_calendar_repository,
    create_provider_repository,
    create_referral_repository,
    create_safety_plan_repository,
    create_security_event_repository,
    create_therapeutic_relationship_repository,
    create_therapy_session_repository,
    create_treatment_plan_repository,
    create_user_account_repository,
    create_user_session_repository,
)
from wellness_repo.models.administration import UserAccount
from wellness_repo.models.appointments import (
    Appointment,
    AppointmentChange,
    AppointmentModality,
    AppointmentStatus,
    AppointmentType,
    Cancellation,
    CancelledBy,
)
from wellness_repo.models.audit import ActionType, AuditLog, AuditOutcome
from wellness_repo.models.base import (
    EmbeddedModel,
    SoftDeletableDocument,
    WellnessDocument,
)
from wellness_repo.models.care import (
    CareTeam,
    CareTeamMeeting,
    CareTeamMember,
    CareTeamRole,
    CareTeamStatus,
    CommunicationChannel,
    CommunicationPlan,
    MeetingFrequency,
    NetworkStatus,
    Provider,
    ProviderType,
)
from wellness_repo.models.clinical import (
    RelationshipStatus,
    SessionFrequency,
    StatusChange,
    TherapeuticRelationship,
    TherapyModality,
)
from wellness_repo.models.conversations import (
    CheckInResponse,
    Conversation,
    ConversationAnalytics,
    ConversationMessage,
    ConversationStatus,
    ConversationType,
    MessageSender,
)
from wellness_repo.models.crisis import (
    ACTIVE_DETECTION_STATUSES,
    DETECTION_TRANSITIONS,
    RESPONSE_TARGETS,
    CrisisDetection,
    CrisisNotification,
    DetectionSource,
    DetectionStatus,
    Escalation,
    NotificationKind,
    NotificationStatus,
    ResponseTargets,
)
from wellness_repo.models.dose_logs import DoseLog
from wellness_repo.models.engagement import (
    EmotionalState,
    MoodEntry,
    MoodScale,
    MoodType,
)
from wellness_repo.models.journals import (
    CrisisSummary,
    JournalEntry,
    SentimentRecord,
    ThoughtRecord,
)
from wellness_repo.models.medications import (
    DoseSchedule,
    InteractionAcknowledgment,
    InteractionWarning,
    Medication,
    MedicationForm,
    MedicationStatus,
    ScheduleKind,
    SideEffect,
    SideEffectSeverity,
)
from wellness_repo.models.mood_goals import MoodGoal, MoodGoalStatus
from wellness_repo.models.provider_calendars import (
    CalendarException,
    CalendarExceptionKind,
    ProviderCalendar,
    Weekday,
    WorkingHours,
)
from wellness_repo.models.referrals import (
    OPEN_REFERRAL_STATUSES,
    REFERRAL_RESPONSE_WINDOWS,
    REFERRAL_TRANSITIONS,
    Referral,
    ReferralOutcome,
    ReferralPriority,
    ReferralResult,
    ReferralStatus,
    ReferralStatusChange,
)
from wellness_repo.models.reminders import (
    AppointmentReminder,
    ReminderStatus,
    ReminderType,
)
from wellness_repo.models.safety_plans import (
    ContactMethod,
    PatientAcknowledgment,
    PlanStatus,
    SafetyContact,
    SafetyPlan,
)
from wellness_repo.models.security_events import (
    SecurityEvent,
    SecurityEventDetail,
    SecurityEventType,
    SessionEndReason,
    UserSession,
)
from wellness_repo.models.sessions import (
    ClinicalSignal,
    DapNote,
    FreeTextNote,
    HomeworkItem,
    NoteFormat,
    RiskLevel,
    SessionNote,
    SessionStatus,
    SessionType,
    SignalSource,
    SignalStatus,
    SoapNote,
    TherapySession,
)
from wellness_repo.models.treatment_plans import (
    GoalStatus,
    OutcomeMeasure,
    PhaseChange,
    ProgressEntry,
    TreatmentGoal,
    TreatmentPhase,
    TreatmentPlan,
)
from wellness_repo.models.types import (
    CalendarDate,
    Encrypted,
    EncryptionAlgorithm,
    UtcDatetime,
    new_id,
    utc_now,
)
from wellness_repo.query.compiler import compile_filters
from wellness_repo.query.options import QueryOptions, QueryResult
from wellness_repo.query.q import Q
from wellness_repo.repositories.accounts import (
    AuthenticationResult,
    UserAccountRepository,
)
from wellness_repo.repositories.appointment_reminders import (
    AppointmentReminderRepository,
    DeliveryError,
    DispatchReport,
    LoggingNotifier,
    Notifier,
    ReminderDispatcher,
)
from wellness_repo.repositories.appointments import AppointmentRepository
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.audit_reports import (
    DisclosureRecord,
    FailedActionSummary,
)
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
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.cache import cache_result
from wellness_repo.repository.sync import (
    BaseRepository,
    SyncDatabaseManager,
    connect_sync,
)
from wellness_repo.security.access_rules import AccessRule, RecordKind
from wellness_repo.security.audit_chain import (
    ChainProblem,
    ChainVerification,
    ProblemKind,
)
from wellness_repo.security.care_directory import CareDirectory
from wellness_repo.security.chained_auditor import ChainedAuditor
from wellness_repo.security.context import (
    AccessContext,
    PurposeOfUse,
    UserRole,
    acting_as,
    context_for_account,
    current_context,
)
from wellness_repo.security.field_cipher import CsfleCipher
from wellness_repo.security.key_management import (
    erase_patient_data_key,
    replace_local_master_key,
    rewrap_data_keys,
)
from wellness_repo.security.role_policy import RolePolicy

__all__ = [
    "ACTIVE_DETECTION_STATUSES",
    "DETECTION_TRANSITIONS",
    "OPEN_REFERRAL_STATUSES",
    "REFERRAL_RESPONSE_WINDOWS",
    "REFERRAL_TRANSITIONS",
    "RESPONSE_TARGETS",
    "AccessContext",
    "AccessDeniedError",
    "AccessRule",
    "AccountLockedError",
    "ActionType",
    "AdherenceReport",
    "AdherenceReportRow",
    "AdherenceSummary",
    "AdherenceTrend",
    "Appointment",
    "AppointmentChange",
    "AppointmentModality",
    "AppointmentReminder",
    "AppointmentReminderRepository",
    "AppointmentRepository",
    "AppointmentStatus",
    "AppointmentType",
    "AsyncBaseRepository",
    "AttendanceStatistics",
    "AuditLog",
    "AuditLogRepository",
    "AuditOutcome",
    "AuthenticationError",
    "AuthenticationResult",
    "BackendCapabilityError",
    "BackendKind",
    "BaseRepository",
    "BookingConflictError",
    "CBTTechnique",
    "CalendarDate",
    "CalendarException",
    "CalendarExceptionKind",
    "Cancellation",
    "CancelledBy",
    "CareDirectory",
    "CareTeam",
    "CareTeamMeeting",
    "CareTeamMember",
    "CareTeamRepository",
    "CareTeamRole",
    "CareTeamStatus",
    "ChainProblem",
    "ChainVerification",
    "ChainedAuditor",
    "CheckInResponse",
    "ClinicalSignal",
    "ClinicalSignalRepository",
    "CommunicationChannel",
    "CommunicationPlan",
    "ConcurrencyError",
    "ContactMethod",
    "Conversation",
    "ConversationAnalytics",
    "ConversationMessage",
    "ConversationMessageRepository",
    "ConversationRepository",
    "ConversationStatus",
    "ConversationType",
    "CrisisAssessment",
    "CrisisDetection",
    "CrisisDetectionRepository",
    "CrisisNotification",
    "CrisisNotificationRepository",
    "CrisisSeverity",
    "CrisisSummary",
    "CrisisType",
    "CsfleCipher",
    "CssrsRisk",
    "CssrsScreenerAnswers",
    "DailyMood",
    "DapNote",
    "DataErasedError",
    "DatabaseManager",
    "DeliveryError",
    "DetectionSource",
    "DetectionStatus",
    "DisclosureRecord",
    "DispatchReport",
    "DoseLog",
    "DoseLogRepository",
    "DoseSchedule",
    "DoseStatus",
    "DrugInteraction",
    "DuplicateError",
    "DurationSummary",
    "EmbeddedModel",
    "EmotionalState",
    "Encrypted",
    "EncryptionAlgorithm",
    "EntrySummary",
    "Escalation",
    "FailedActionSummary",
    "FreeTextNote",
    "GoalStatus",
    "HealthReport",
    "HomeworkItem",
    "Instrument",
    "Intent",
    "IntentResult",
    "InteractionAcknowledgment",
    "InteractionProvider",
    "InteractionSeverity",
    "InteractionWarning",
    "JournalEntry",
    "JournalPrompt",
    "JournalRepository",
    "JournalType",
    "LabelAssociation",
    "LoggingNotifier",
    "LoggingStreaks",
    "LoginBurst",
    "Medication",
    "MedicationAdherence",
    "MedicationForm",
    "MedicationRepository",
    "MedicationStatus",
    "MeetingFrequency",
    "MessageSender",
    "MissedDosePatterns",
    "MoodAverage",
    "MoodEntry",
    "MoodEntryRepository",
    "MoodGoal",
    "MoodGoalProgress",
    "MoodGoalRepository",
    "MoodGoalStatus",
    "MoodLabel",
    "MoodObservation",
    "MoodScale",
    "MoodTrends",
    "MoodType",
    "NetworkStatus",
    "NotFoundError",
    "NoteFormat",
    "NotificationKind",
    "NotificationStatus",
    "Notifier",
    "OutcomeMeasure",
    "PatientAcknowledgment",
    "PeriodComparison",
    "PhaseChange",
    "PlanStatus",
    "ProblemKind",
    "ProgressEntry",
    "PromptReason",
    "Provider",
    "ProviderCalendar",
    "ProviderCalendarRepository",
    "ProviderRepository",
    "ProviderType",
    "PurposeOfUse",
    "Q",
    "QueryOptions",
    "QueryResult",
    "RecordKind",
    "Referral",
    "ReferralOutcome",
    "ReferralPriority",
    "ReferralRepository",
    "ReferralResult",
    "ReferralStatus",
    "ReferralStatusChange",
    "RelationshipStatus",
    "ReliableChange",
    "ReminderDispatcher",
    "ReminderStatus",
    "ReminderType",
    "RepositoryError",
    "ResponseGenerator",
    "ResponseRequest",
    "ResponseTargets",
    "ResponseTimeStatistics",
    "ResponseTimes",
    "RiskLevel",
    "RolePolicy",
    "SafetyContact",
    "SafetyPlan",
    "SafetyPlanRepository",
    "SafetyPlanSteps",
    "ScheduleKind",
    "SecurityEvent",
    "SecurityEventDetail",
    "SecurityEventRepository",
    "SecurityEventType",
    "SentimentRecord",
    "SentimentScores",
    "SessionEndReason",
    "SessionExpiredError",
    "SessionFrequency",
    "SessionNote",
    "SessionStatus",
    "SessionType",
    "Settings",
    "SeverityBand",
    "SideEffect",
    "SideEffectSeverity",
    "SignalSource",
    "SignalStatus",
    "SoapNote",
    "SoftDeletableDocument",
    "StatusChange",
    "SyncDatabaseManager",
    "TableInteractionProvider",
    "Technique",
    "TemplateResponseGenerator",
    "TherapeuticRelationship",
    "TherapeuticRelationshipRepository",
    "TherapyModality",
    "TherapySession",
    "TherapySessionRepository",
    "ThoughtRecord",
    "Tone",
    "TreatmentGoal",
    "TreatmentPhase",
    "TreatmentPlan",
    "TreatmentPlanRepository",
    "TrendDirection",
    "TrendWindow",
    "UserAccount",
    "UserAccountRepository",
    "UserRole",
    "UserSession",
    "UserSessionRepository",
    "UtcDatetime",
    "ValidationError",
    "Weekday",
    "WeekdayMood",
    "WeeklyMood",
    "WellnessDocument",
    "WorkingHours",
    "acting_as",
    "assess_cssrs_screener",
    "assess_daily_mood",
    "assess_phq9_item9",
    "assess_text",
    "cache_result",
    "compile_filters",
    "connect",
    "connect_sync",
    "context_for_account",
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
    "cssrs_triage",
    "current_context",
    "erase_patient_data_key",
    "find_interactions",
    "find_login_bursts",
    "highest_severity",
    "new_id",
    "recognise_intent",
    "replace_local_master_key",
    "rewrap_data_keys",
    "score_sentiment",
    "summarize_attendance",
    "summarize_mood_trends",
    "utc_now",
]

__version__ = "0.1.0"
