"""How the access matrix exercises each repository on ``patient_123``'s
records: which record each operation acts on, what a new record looks like, what
an edit changes, and the repository's main domain write."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tests.support.access_data import (
    PATIENT,
    PSYCHIATRIST,
    THERAPIST,
    Clinic,
    crisis_signal,
    session_with_process_notes,
)
from tests.support.account_data import patient_account
from tests.support.care_data import care_team, psychiatrist
from tests.support.clinical_data import depression_plan, relationship
from tests.support.sessions_data import seed_session
from wellness_repo import (
    CareTeamRole,
    CareTeamStatus,
    DatabaseManager,
    MoodEntry,
    PurposeOfUse,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    SessionFrequency,
    TreatmentPhase,
    UserRole,
    utc_now,
)
from wellness_repo.models.audit import ActionType, AuditLog
from wellness_repo.models.security_events import (
    SecurityEvent,
    SecurityEventType,
    UserSession,
    hash_session_token,
)
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.audit import AuditLogRepository
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.repositories.login_sessions import UserSessionRepository
from wellness_repo.repositories.referrals import ReferralRepository
from wellness_repo.repositories.security_events import SecurityEventRepository
from wellness_repo.repositories.sessions import (
    ClinicalSignalRepository,
    TherapySessionRepository,
)


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Subject:
    """How to exercise one repository on the patient's records.

    Args:
        repository: builds the repository on a database.
        seeded: the id of the seeded record the reads look for.
        new: a new record about the patient, for ``create``.
        stored: a record about the patient that the system stores before an
            ``update``, ``delete`` or domain write is tried on it.
        change: the edit an ``update`` makes.
        domain: the repository's main domain write, given a record's id.
        on_seeded: the writes that act on the seeded record rather than on a
            newly stored one (the patient has one active care team, one
            account; audit entries are never stored by the test).
    """

    repository: Callable[[DatabaseManager], Any]
    seeded: Callable[[Clinic], str]
    new: Callable[[], Any]
    stored: Callable[[], Any]
    change: Callable[[Any], Any]
    domain: Callable[[Any, str], Awaitable[Any]] | None = None
    on_seeded: tuple[str, ...] = ()


def _mood() -> MoodEntry:
    return MoodEntry(user_id=PATIENT, mood_rating=6, notes="Walked to the park")


def _pending_relationship() -> Any:
    return relationship(therapist_id=_unique("therapist"))


def _closed_team() -> Any:
    return care_team(status=CareTeamStatus.CLOSED, closed_at=utc_now())


def _referral() -> Referral:
    return Referral(
        patient_id=PATIENT,
        referring_provider_id=THERAPIST,
        receiving_provider_id=PSYCHIATRIST,
        referral_reason="Medication review after partial response",
        status_history=[
            ReferralStatusChange(
                from_status=None,
                to_status=ReferralStatus.PENDING,
                changed_at=utc_now(),
                changed_by=THERAPIST,
            )
        ],
    )


def _provider() -> Any:
    return psychiatrist(license_number="MD" + uuid.uuid4().hex[:8].upper())


def _scheduled_session() -> Any:
    return seed_session(
        status="scheduled",
        duration_minutes=None,
        session_notes=None,
        interventions_used=[],
        patient_mood_start=None,
        patient_mood_end=None,
        risk_assessment=None,
        homework_assigned=[],
    )


def _signal() -> Any:
    return crisis_signal(_unique("session"))


def _username() -> str:
    return f"jordan.{uuid.uuid4().hex[:8]}"


def _account() -> Any:
    name = _username()
    return patient_account(username=name, email=f"{name}@example.org")


def _login_session() -> UserSession:
    now = utc_now()
    return UserSession(
        user_id=PATIENT,
        token_hash=hash_session_token(uuid.uuid4().hex),
        expires_at=now + timedelta(hours=12),
        idle_timeout_seconds=1_800,
        idle_expires_at=now + timedelta(minutes=30),
    )


def _security_event() -> SecurityEvent:
    return SecurityEvent(
        user_id=PATIENT, event_type=SecurityEventType.MFA_ENROLLED, success=True
    )


def _audit_entry() -> AuditLog:
    return AuditLog(
        user_id=THERAPIST,
        role=UserRole.THERAPIST,
        purpose=PurposeOfUse.TREATMENT,
        action_type=ActionType.READ,
        resource_type="TreatmentPlan",
        summary="read TreatmentPlan",
    )


SUBJECTS: dict[str, Subject] = {
    "mood_entries": Subject(
        MoodEntryRepository,
        lambda clinic: clinic.mood_entry,
        _mood,
        _mood,
        lambda entry: entry.model_copy(update={"mood_rating": 7}),
    ),
    "treatment_plans": Subject(
        TreatmentPlanRepository,
        lambda clinic: clinic.plan,
        depression_plan,
        depression_plan,
        lambda plan: plan.model_copy(update={"estimated_duration_weeks": 20}),
        lambda repo, plan_id: repo.change_treatment_phase(
            plan_id, TreatmentPhase.MAINTENANCE, notes="Goals met; monthly check-ins"
        ),
    ),
    "therapeutic_relationships": Subject(
        TherapeuticRelationshipRepository,
        lambda clinic: clinic.relationship,
        _pending_relationship,
        _pending_relationship,
        lambda rel: rel.model_copy(
            update={"session_frequency": SessionFrequency.FORTNIGHTLY}
        ),
        lambda repo, relationship_id: repo.activate(relationship_id),
    ),
    "therapy_sessions": Subject(
        TherapySessionRepository,
        lambda clinic: clinic.session,
        _scheduled_session,
        session_with_process_notes,
        lambda session: session.model_copy(update={"duration_minutes": 55}),
        lambda repo, session_id: repo.record_risk_assessment(session_id, "moderate"),
    ),
    "clinical_signals": Subject(
        ClinicalSignalRepository,
        lambda clinic: clinic.signal,
        _signal,
        _signal,
        lambda signal: signal,
        lambda repo, signal_id: repo.claim_signal(signal_id, "crisis_worker_1"),
    ),
    "referrals": Subject(
        ReferralRepository,
        lambda clinic: clinic.referral,
        _referral,
        _referral,
        lambda referral: referral.model_copy(
            update={"referral_reason": "Medication review; sleep has worsened"}
        ),
        lambda repo, referral_id: repo.update_referral_status(
            referral_id, ReferralStatus.SENT
        ),
    ),
    "care_teams": Subject(
        CareTeamRepository,
        lambda clinic: clinic.team,
        _closed_team,
        _closed_team,
        lambda team: team.model_copy(
            update={"treatment_approach": "Therapy first, medication review monthly"}
        ),
        lambda repo, team_id: repo.add_team_member(
            team_id, _unique("pharmacist"), CareTeamRole.PHARMACIST
        ),
        on_seeded=("domain",),
    ),
    "providers": Subject(
        ProviderRepository,
        lambda clinic: clinic.provider,
        _provider,
        _provider,
        lambda provider: provider.model_copy(update={"accepting_new_patients": False}),
        lambda repo, provider_id: repo.renew_license(
            provider_id, date(utc_now().year + 2, 6, 30)
        ),
    ),
    "user_accounts": Subject(
        UserAccountRepository,
        lambda clinic: clinic.account,
        _account,
        _account,
        lambda account: account.model_copy(update={"username": _username()}),
        lambda repo, account_id: repo.deactivate_user(account_id),
        on_seeded=("update",),
    ),
    "user_sessions": Subject(
        UserSessionRepository,
        lambda clinic: clinic.login_session,
        _login_session,
        _login_session,
        lambda session: session.model_copy(update={"ip_address": "198.51.100.23"}),
        lambda repo, session_id: repo.revoke_session(session_id, "logout"),
    ),
    "security_events": Subject(
        SecurityEventRepository,
        lambda clinic: clinic.security_event,
        _security_event,
        _security_event,
        lambda event: event,
        lambda repo, _: repo.log_security_event(
            PATIENT, SecurityEventType.MFA_ENROLLED, True
        ),
    ),
    "audit_logs": Subject(
        AuditLogRepository,
        lambda clinic: clinic.audit_entry,
        _audit_entry,
        _audit_entry,
        lambda entry: entry,
        lambda repo, _: repo.log_action(
            PATIENT,
            ActionType.EXPORT,
            "MoodEntry",
            "export_0001",
            "Downloaded her mood history",
            patient_id=PATIENT,
        ),
        on_seeded=("update", "delete", "domain"),
    ),
}
