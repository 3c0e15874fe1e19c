"""wellness-repo: the data layer of a professional mental-health platform.

Everything a service needs is importable from here; the submodules are internal.
"""

from wellness_repo.analysis.attendance import (
    AttendanceStatistics,
    summarize_attendance,
)
from wellness_repo.analysis.instruments import (
    Instrument,
    ReliableChange,
    SeverityBand,
)
from wellness_repo.config import Settings
from wellness_repo.database.manager import (
    BackendKind,
    DatabaseManager,
    HealthReport,
    connect,
)
from wellness_repo.errors import (
    AccessDeniedError,
    BackendCapabilityError,
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    RepositoryError,
    ValidationError,
)
from wellness_repo.factories import (
    create_care_team_repository,
    create_clinical_signal_repository,
    create_mood_entry_repository,
    create_provider_repository,
    create_referral_repository,
    create_therapeutic_relationship_repository,
    create_therapy_session_repository,
    create_treatment_plan_repository,
)
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
from wellness_repo.models.engagement import MoodEntry
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
from wellness_repo.repository.base import AsyncBaseRepository
from wellness_repo.repository.cache import cache_result
from wellness_repo.repository.sync import (
    BaseRepository,
    SyncDatabaseManager,
    connect_sync,
)
from wellness_repo.security.context import (
    AccessContext,
    PurposeOfUse,
    UserRole,
    acting_as,
    current_context,
)

__all__ = [
    "OPEN_REFERRAL_STATUSES",
    "REFERRAL_RESPONSE_WINDOWS",
    "REFERRAL_TRANSITIONS",
    "AccessContext",
    "AccessDeniedError",
    "AsyncBaseRepository",
    "AttendanceStatistics",
    "BackendCapabilityError",
    "BackendKind",
    "BaseRepository",
    "CalendarDate",
    "CareTeam",
    "CareTeamMeeting",
    "CareTeamMember",
    "CareTeamRepository",
    "CareTeamRole",
    "CareTeamStatus",
    "ClinicalSignal",
    "ClinicalSignalRepository",
    "CommunicationChannel",
    "CommunicationPlan",
    "ConcurrencyError",
    "DapNote",
    "DatabaseManager",
    "DuplicateError",
    "EmbeddedModel",
    "Encrypted",
    "EncryptionAlgorithm",
    "FreeTextNote",
    "GoalStatus",
    "HealthReport",
    "HomeworkItem",
    "Instrument",
    "MeetingFrequency",
    "MoodEntry",
    "MoodEntryRepository",
    "NetworkStatus",
    "NotFoundError",
    "NoteFormat",
    "OutcomeMeasure",
    "PhaseChange",
    "ProgressEntry",
    "Provider",
    "ProviderRepository",
    "ProviderType",
    "PurposeOfUse",
    "Q",
    "QueryOptions",
    "QueryResult",
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
    "RiskLevel",
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
    "TreatmentGoal",
    "TreatmentPhase",
    "TreatmentPlan",
    "TreatmentPlanRepository",
    "UserRole",
    "UtcDatetime",
    "ValidationError",
    "WellnessDocument",
    "acting_as",
    "cache_result",
    "compile_filters",
    "connect",
    "connect_sync",
    "create_care_team_repository",
    "create_clinical_signal_repository",
    "create_mood_entry_repository",
    "create_provider_repository",
    "create_referral_repository",
    "create_therapeutic_relationship_repository",
    "create_therapy_session_repository",
    "create_treatment_plan_repository",
    "current_context",
    "new_id",
    "summarize_attendance",
    "utc_now",
]

__version__ = "0.1.0"
