"""wellness-repo: the data layer of a professional mental-health platform.

Everything a service needs is importable from here; the submodules are internal.
"""

from wellness_repo.analysis.attendance import (
    AttendanceStatistics,
    summarize_attendance,
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
    create_clinical_signal_repository,
    create_mood_entry_repository,
    create_therapy_session_repository,
)
from wellness_repo.models.base import (
    EmbeddedModel,
    SoftDeletableDocument,
    WellnessDocument,
)
from wellness_repo.models.engagement import MoodEntry
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
from wellness_repo.repositories.engagement import MoodEntryRepository
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
    "AccessContext",
    "AccessDeniedError",
    "AsyncBaseRepository",
    "AttendanceStatistics",
    "BackendCapabilityError",
    "BackendKind",
    "BaseRepository",
    "CalendarDate",
    "ClinicalSignal",
    "ClinicalSignalRepository",
    "ConcurrencyError",
    "DapNote",
    "DatabaseManager",
    "DuplicateError",
    "EmbeddedModel",
    "Encrypted",
    "EncryptionAlgorithm",
    "FreeTextNote",
    "HealthReport",
    "HomeworkItem",
    "MoodEntry",
    "MoodEntryRepository",
    "NotFoundError",
    "NoteFormat",
    "PurposeOfUse",
    "Q",
    "QueryOptions",
    "QueryResult",
    "RepositoryError",
    "RiskLevel",
    "SessionNote",
    "SessionStatus",
    "SessionType",
    "Settings",
    "SignalSource",
    "SignalStatus",
    "SoapNote",
    "SoftDeletableDocument",
    "SyncDatabaseManager",
    "TherapySession",
    "TherapySessionRepository",
    "UserRole",
    "UtcDatetime",
    "ValidationError",
    "WellnessDocument",
    "acting_as",
    "cache_result",
    "compile_filters",
    "connect",
    "connect_sync",
    "create_clinical_signal_repository",
    "create_mood_entry_repository",
    "create_therapy_session_repository",
    "current_context",
    "new_id",
    "summarize_attendance",
    "utc_now",
]

__version__ = "0.1.0"
