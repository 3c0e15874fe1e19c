"""A small clinic for the access tests: one patient in CBT for depression, the
people around her in every role, and a recording auditor that keeps every event.

Who is who:

- ``patient_123`` has an active CBT relationship with ``therapist_456`` and an
  active care team led by ``psychiatrist_789`` with ``nurse_314`` and the care
  coordinator ``coordinator_222``;
- ``patient_901`` is another patient, in therapy with ``therapist_999``;
- ``psychiatrist_555`` is on call and has never treated ``patient_123``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pydantic import Field

from tests.conftest import SYSTEM, drop_and_close
from tests.support.account_data import patient_account
from tests.support.care_data import care_team, psychiatrist
from tests.support.clinical_data import active_relationship, depression_plan
from tests.support.models import TEST_MODELS
from tests.support.sessions_data import seed_session
from wellness_repo import (
    AccessContext,
    CareTeamMember,
    CareTeamRole,
    ClinicalSignal,
    DatabaseManager,
    MoodEntry,
    PurposeOfUse,
    SoftDeletableDocument,
    UserRole,
    connect,
)
from wellness_repo.models.audit import ActionType
from wellness_repo.models.security_events import SecurityEventType
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
from wellness_repo.security.access_rules import AccessRule, RecordKind
from wellness_repo.security.audit import AccessEvent
from wellness_repo.security.care_directory import CareDirectory
from wellness_repo.security.context import context_for_account
from wellness_repo.security.role_policy import RolePolicy

PATIENT = "patient_123"
OTHER_PATIENT = "patient_901"
THERAPIST = "therapist_456"
PSYCHIATRIST = "psychiatrist_789"
NURSE = "nurse_314"
COORDINATOR = "coordinator_222"
OUTSIDE_THERAPIST = "therapist_999"
ON_CALL = "psychiatrist_555"
ADMIN_ACCOUNT = "account_admin_007"
AUDITOR_ACCOUNT = "account_auditor_042"

PSYCHOTHERAPY_NOTE = "Process note: transference around her father's illness"
EMERGENCY_REASON = "Patient reported an overdose on the crisis line"


@dataclass(frozen=True)
class Account:
    """The identity part of a sign-in account, as ``UserAccount`` carries it."""

    user_id: str
    role: UserRole
    provider_id: str | None = None


def clinician(provider_id: str, role: UserRole) -> AccessContext:
    """The context a clinician's account signs in with."""
    return context_for_account(Account(f"account_{provider_id}", role, provider_id))


def person(account_id: str, role: UserRole) -> AccessContext:
    """The context a patient's, admin's or auditor's account signs in with."""
    return context_for_account(Account(account_id, role))


def on_call_grant(minutes: float = 30) -> AccessContext:
    """The on-call psychiatrist's break-glass grant for the crisis line."""
    return AccessContext.break_glass(
        ON_CALL, UserRole.PSYCHIATRIST, EMERGENCY_REASON, minutes=minutes
    )


def actor_context(actor: str) -> AccessContext:
    """The context of one of the clinic's actors, by the name the tests use."""
    contexts: dict[str, Callable[[], AccessContext]] = {
        "patient": lambda: person(PATIENT, UserRole.PATIENT),
        "other_patient": lambda: person(OTHER_PATIENT, UserRole.PATIENT),
        "therapist": lambda: clinician(THERAPIST, UserRole.THERAPIST),
        "psychiatrist": lambda: clinician(PSYCHIATRIST, UserRole.PSYCHIATRIST),
        "nurse": lambda: clinician(NURSE, UserRole.NURSE),
        "coordinator": lambda: clinician(COORDINATOR, UserRole.CARE_COORDINATOR),
        "outside_therapist": lambda: clinician(OUTSIDE_THERAPIST, UserRole.THERAPIST),
        "on_call": on_call_grant,
        "admin": lambda: person(ADMIN_ACCOUNT, UserRole.ADMIN),
        "auditor": lambda: replace(
            person(AUDITOR_ACCOUNT, UserRole.AUDITOR), purpose=PurposeOfUse.AUDIT
        ),
        "system": lambda: SYSTEM,
    }
    return contexts[actor]()


ACTORS = (
    "patient",
    "other_patient",
    "therapist",
    "psychiatrist",
    "nurse",
    "coordinator",
    "outside_therapist",
    "on_call",
    "admin",
    "auditor",
    "system",
)


@dataclass
class RecordingAuditor:
    """Keeps every access event, so tests can check what was audited."""

    events: list[AccessEvent] = field(default_factory=list)

    async def record(self, event: AccessEvent) -> None:
        self.events.append(event)

    def denials_since(self, mark: int) -> list[AccessEvent]:
        """The denied events recorded after the first ``mark`` events."""
        return [event for event in self.events[mark:] if event.outcome == "denied"]


class SharedReflection(SoftDeletableDocument):
    """A stand-in for the coming journal entries: written by the patient, seen by
    her clinicians only once she shares it."""

    ID_NAME: ClassVar[str] = "entry_id"
    PATIENT_FIELD: ClassVar[str | None] = "user_id"
    ACCESS: ClassVar[AccessRule] = AccessRule(
        RecordKind.PATIENT_AUTHORED, shared_field="shared_with_care_team"
    )

    user_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=5_000)
    shared_with_care_team: bool = False

    class Settings:
        name = "test_shared_reflections"


async def open_clinic_database(
    uri: str | None, auditor: RecordingAuditor, policy: RolePolicy | None = None
) -> DatabaseManager:
    """A fresh database under the role policy, auditing into ``auditor``."""
    return await connect(
        uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        document_models=(*TEST_MODELS, SharedReflection),
        apply_indexes=True,
        policy=policy or RolePolicy(),
        auditor=auditor,
    )


@dataclass
class Clinic:
    """The ids of the records seeded about the clinic's patients."""

    mood_entry: str = ""
    other_mood_entry: str = ""
    relationship: str = ""
    plan: str = ""
    session: str = ""
    signal: str = ""
    referral: str = ""
    team: str = ""
    provider: str = ""
    account: str = ""
    login_session: str = ""
    security_event: str = ""
    audit_entry: str = ""


def team_of_patient() -> Any:
    """The patient's active care team: psychiatrist leading, nurse, coordinator."""
    return care_team(
        primary_provider_id=PSYCHIATRIST,
        members=[
            CareTeamMember(provider_id=PSYCHIATRIST, role=CareTeamRole.PSYCHIATRIST),
            CareTeamMember(provider_id=NURSE, role=CareTeamRole.NURSE),
            CareTeamMember(provider_id=COORDINATOR, role=CareTeamRole.CARE_COORDINATOR),
        ],
    )


def session_with_process_notes(**changes: Any) -> Any:
    """A documented session whose psychotherapy notes the therapist wrote."""
    values: dict[str, Any] = {
        "psychotherapy_notes": PSYCHOTHERAPY_NOTE,
        "psychotherapy_notes_author_id": THERAPIST,
    }
    values.update(changes)
    return seed_session(**values)


def session_without_process_notes() -> Any:
    """A documented session on which nobody has written psychotherapy notes."""
    return session_with_process_notes(
        psychotherapy_notes=None, psychotherapy_notes_author_id=None
    )


def crisis_signal(session_id: str) -> ClinicalSignal:
    """A pending request for crisis follow-up raised by a high-risk session."""
    return ClinicalSignal(
        patient_id=PATIENT,
        source="session",
        source_id=session_id,
        source_revision=1,
        risk_level="high",
        raised_by=THERAPIST,
    )


async def seed_clinic(db: DatabaseManager) -> Clinic:
    """Store the clinic's records under the system context."""
    clinic = Clinic()
    relationships = TherapeuticRelationshipRepository(db)
    clinic.relationship = (await relationships.create(active_relationship())).id
    await relationships.create(
        active_relationship(patient_id=OTHER_PATIENT, therapist_id=OUTSIDE_THERAPIST)
    )
    clinic.team = (await CareTeamRepository(db).create(team_of_patient())).id
    moods = MoodEntryRepository(db)
    clinic.mood_entry = (
        await moods.create(MoodEntry(user_id=PATIENT, mood_rating=4, notes="Low day"))
    ).id
    clinic.other_mood_entry = (
        await moods.create(MoodEntry(user_id=OTHER_PATIENT, mood_rating=7))
    ).id
    clinic.plan = (await TreatmentPlanRepository(db).create(depression_plan())).id
    clinic.session = (
        await TherapySessionRepository(db).create(session_with_process_notes())
    ).id
    clinic.signal = (
        await ClinicalSignalRepository(db).create(crisis_signal(clinic.session))
    ).id
    clinic.referral = (
        await ReferralRepository(db).create_referral(
            PATIENT, THERAPIST, PSYCHIATRIST, "Medication evaluation for depression"
        )
    ).id
    clinic.provider = (await ProviderRepository(db).create(psychiatrist())).id
    return clinic


async def seed_accounts(db: DatabaseManager, clinic: Clinic) -> None:
    """Store the patient's account (its id is her patient id), a signed-in
    session of it, a security event about it, and one audit-trail entry."""
    clinic.account = (
        await UserAccountRepository(db).create(patient_account(id=PATIENT))
    ).id
    session, _token = await UserSessionRepository(db).create_session(PATIENT)
    clinic.login_session = session.id
    clinic.security_event = (
        await SecurityEventRepository(db).log_security_event(
            PATIENT, SecurityEventType.LOGIN_SUCCESS, True
        )
    ).id
    clinic.audit_entry = (
        await AuditLogRepository(db).log_action(
            THERAPIST,
            ActionType.READ,
            "TreatmentPlan",
            clinic.plan or "plan_0001",
            "Reviewed the treatment plan before the session",
            patient_id=PATIENT,
        )
    ).id


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ClinicDatabase:
    """A database under the role policy, with its auditor and care lookup."""

    db: DatabaseManager
    auditor: RecordingAuditor
    directory: CareDirectory
    clock: FakeClock


@dataclass
class ClinicDb(ClinicDatabase):
    """The database with the clinic seeded in it."""

    clinic: Clinic = field(default_factory=Clinic)


@asynccontextmanager
async def clinic_database_on(
    backend: str, mongodb_uri: str
) -> AsyncIterator[ClinicDatabase]:
    """A database on ``backend`` under the role policy, dropped afterwards; care
    lookups are cached for 30 s of a clock the tests move by hand."""
    clock = FakeClock()
    directory = CareDirectory(ttl_seconds=30, clock=clock)
    auditor = RecordingAuditor()
    uri = None if backend == "embedded" else mongodb_uri
    db = await open_clinic_database(uri, auditor, RolePolicy(directory))
    try:
        yield ClinicDatabase(db, auditor, directory, clock)
    finally:
        await drop_and_close(db)


async def reseeded(database: ClinicDatabase) -> ClinicDb:
    """The clinic seeded afresh: every collection emptied, the care lookup's
    cache and the audit record dropped, the clock left where it was."""
    db = database.db
    for name in await db.database.list_collection_names():
        await db.database[name].delete_many({})
    database.directory.forget()
    database.auditor.events.clear()
    clinic = await seed_clinic(db)
    return ClinicDb(db, database.auditor, database.directory, database.clock, clinic)
