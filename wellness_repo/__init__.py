"""wellness-repo: the data layer of a professional mental-health platform.

Everything a service needs is importable from here; the submodules are internal.
"""

from wellness_repo.analysis.attendance import (
    AttendanceStatistics,
    summarize_attendance,
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
from wellness_repo.analysis.instruments import (
    Instrument,
    ReliableChange,
    SeverityBand,
)
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
    ConcurrencyError,
    DataErasedError,
    DuplicateError,
    NotFoundError,
    RepositoryError,
    SessionExpiredError,
    ValidationError,
)
from wellness_repo.factories import (
    create_audit_log_repository,
    create_care_team_repository,
    create_clinical_signal_repository,
    create_crisis_detection_repository,
    create_crisis_notification_repository,
    create_journal_entry_repository,
    create_mood_entry_repository,
    create_mood_goal_repository,
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
from wellness_repo.models.mood_goals import MoodGoal, MoodGoalStatus
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
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.journals import JournalRepository
from wellness_repo.repositories.mood_goals import MoodGoalRepository
from wellness_repo.repositories.notifications import CrisisNotificationRepository
from wellness_repo.repositories.referrals import ReferralRepository
from wellness_repo.repositories.safety_plans import SafetyPlanRepository
from wellness_repo.repositories.security_events import (
    SecurityEventRepository,
    UserSessionRepository,
)
from wellness_repo.repositories.sessions import (
    ClinicalSignalRepository,
    TherapySessionRepository,
)
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
    "CBTTechnique",
    "CalendarDate",
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
    "ClinicalSignal",
    "ClinicalSignalRepository",
    "CommunicationChannel",
    "CommunicationPlan",
    "ConcurrencyError",
    "ContactMethod",
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
    "DetectionSource",
    "DetectionStatus",
    "DisclosureRecord",
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
    "JournalEntry",
    "JournalPrompt",
    "JournalRepository",
    "JournalType",
    "LabelAssociation",
    "LoggingStreaks",
    "LoginBurst",
    "MeetingFrequency",
    "MoodAverage",
    "MoodEntry",
    "MoodEntryRepository",
    "MoodGoal",
    "MoodGoalProgress",
    "MoodGoalRepository",
    "MoodGoalStatus",
    "MoodObservation",
    "MoodScale",
    "MoodTrends",
    "MoodType",
    "NetworkStatus",
    "NotFoundError",
    "NoteFormat",
    "NotificationKind",
    "NotificationStatus",
    "OutcomeMeasure",
    "PatientAcknowledgment",
    "PeriodComparison",
    "PhaseChange",
    "PlanStatus",
    "ProblemKind",
    "ProgressEntry",
    "PromptReason",
    "Provider",
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
    "RepositoryError",
    "ResponseTargets",
    "ResponseTimeStatistics",
    "ResponseTimes",
    "RiskLevel",
    "RolePolicy",
    "SafetyContact",
    "SafetyPlan",
    "SafetyPlanRepository",
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
    "SignalSource",
    "SignalStatus",
    "SoapNote",
    "SoftDeletableDocument",
    "StatusChange",
    "SyncDatabaseManager",
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
    "WeekdayMood",
    "WeeklyMood",
    "WellnessDocument",
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
    "create_audit_log_repository",
    "create_care_team_repository",
    "create_clinical_signal_repository",
    "create_crisis_detection_repository",
    "create_crisis_notification_repository",
    "create_journal_entry_repository",
    "create_mood_entry_repository",
    "create_mood_goal_repository",
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
    "find_login_bursts",
    "highest_severity",
    "new_id",
    "replace_local_master_key",
    "rewrap_data_keys",
    "score_sentiment",
    "summarize_attendance",
    "summarize_mood_trends",
    "utc_now",
]

__version__ = "0.1.0"
