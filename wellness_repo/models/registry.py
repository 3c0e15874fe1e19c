"""Every document model the package stores, in one list for ``init_beanie`` and the
index tool."""

from __future__ import annotations

from wellness_repo.models.administration import ACCOUNT_MODELS
from wellness_repo.models.appointment_slots import SLOT_MODELS
from wellness_repo.models.appointments import APPOINTMENT_MODELS
from wellness_repo.models.audit import AuditLog
from wellness_repo.models.base import WellnessDocument
from wellness_repo.models.care import CARE_MODELS
from wellness_repo.models.clinical import CLINICAL_MODELS
from wellness_repo.models.conversations import CONVERSATION_MODELS
from wellness_repo.models.crisis import CRISIS_MODELS
from wellness_repo.models.dose_logs import DoseLog
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.journals import JournalEntry
from wellness_repo.models.medications import Medication
from wellness_repo.models.mood_goals import MoodGoal
from wellness_repo.models.provider_calendars import CALENDAR_MODELS
from wellness_repo.models.reminders import REMINDER_MODELS
from wellness_repo.models.safety_plans import SafetyPlan
from wellness_repo.models.security_events import SECURITY_EVENT_MODELS
from wellness_repo.models.sessions import SESSIONS_MODELS

__all__ = ["DOCUMENT_MODELS"]

DOCUMENT_MODELS: tuple[type[WellnessDocument], ...] = (
    MoodEntry,
    MoodGoal,
    JournalEntry,
    *CLINICAL_MODELS,
    *SESSIONS_MODELS,
    *CARE_MODELS,
    *SECURITY_EVENT_MODELS,
    *ACCOUNT_MODELS,
    *CRISIS_MODELS,
    *CONVERSATION_MODELS,
    SafetyPlan,
    AuditLog,
    *APPOINTMENT_MODELS,
    *CALENDAR_MODELS,
    *SLOT_MODELS,
    *REMINDER_MODELS,
    Medication,
    DoseLog,
)
