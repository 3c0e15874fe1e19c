"""The clinic the index-coverage test explains its queries over: a few hundred
records per collection across sixty patients and six therapists, written
through the repositories (appointments, medications and conversations are
seeded by ``tests.support.index_coverage_operations``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.account_data import patient_password_hash
from tests.support.care_data import care_team, psychiatrist
from tests.support.clinical_data import active_relationship, depression_plan
from tests.support.crisis_data import seed_detection
from tests.support.index_coverage_operations import seed_operations
from tests.support.journal_data import seed_entry
from tests.support.safety_plan_data import seed_plan
from tests.support.sessions_data import seed_session
from wellness_repo import (
    DatabaseManager,
    Instrument,
    MoodEntry,
    MoodGoal,
    MoodScale,
    UserRole,
    create_audit_log_repository,
    create_care_team_repository,
    create_crisis_detection_repository,
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

PATIENTS = [f"patient_{number:03d}" for number in range(60)]
THERAPISTS = [f"therapist_{number:02d}" for number in range(6)]
PATIENT = PATIENTS[7]
THERAPIST = THERAPISTS[1]
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@dataclass
class Seeded:
    """Ids of seeded records that the cases' arguments name."""

    db: DatabaseManager
    ids: dict[str, str] = field(default_factory=dict)
    token: str = ""
    records: dict[str, Any] = field(default_factory=dict)
    """Seeded records a case passes whole (an appointment to remind of)."""


# ------------------------------------------------------------------ seeding


async def seed_clinic(db: DatabaseManager) -> Seeded:
    """A few hundred records per collection across sixty patients and six
    therapists, written through the repositories (so the audit trail, the
    clinical signals and the key vault fill up as they do in production)."""
    seeded = Seeded(db)
    moods = create_mood_entry_repository(db)
    stored_moods = await moods.create_many(
        [
            MoodEntry(
                user_id=patient,
                mood_scale=MoodScale.ONE_TO_TEN,
                mood_rating=1 + (day * 7 + index) % 10,
                tags=["sleep", "work", "family"][: (day + index) % 4],
                created_at=NOW - timedelta(days=day, hours=index % 12),
            )
            for index, patient in enumerate(PATIENTS)
            for day in range(0, 60, 10)
        ]
    )
    seeded.ids["mood"] = stored_moods[42].id
    goals = create_mood_goal_repository(db)
    for patient in PATIENTS[:20]:
        goal = await goals.set_mood_goal(
            MoodGoal(
                user_id=patient,
                target_scale=MoodScale.ONE_TO_TEN,
                target_average=7.0,
                period_start=TODAY - timedelta(days=20),
                period_end=TODAY + timedelta(days=10),
            )
        )
        seeded.ids.setdefault("goal", goal.goal_id)
    journals = create_journal_entry_repository(db)
    await journals.create_many(
        [
            seed_entry(
                user_id=patient, created_at=NOW - timedelta(days=day), tags=["sleep"]
            )
            for patient in PATIENTS
            for day in range(2)
        ]
    )
    await _seed_care(db, seeded)
    await _seed_sessions(db, seeded)
    await _seed_crises(db, seeded)
    await _seed_accounts(db, seeded)
    await seed_operations(
        db, seeded.ids, seeded.records, PATIENTS, THERAPISTS, PATIENT, TODAY
    )
    return seeded


async def _seed_care(db: DatabaseManager, seeded: Seeded) -> None:
    providers = create_provider_repository(db)
    stored = await providers.create_many(
        [
            psychiatrist(
                license_number=f"MD{10000 + number}",
                license_expires_on=TODAY + timedelta(days=number * 9),
                specialty=["Adult Psychiatry", "Child Psychiatry", "Addiction"][
                    number % 3
                ],
                accepting_new_patients=bool(number % 2),
            )
            for number in range(80)
        ]
    )
    seeded.ids["provider"] = stored[0].id
    teams = await create_care_team_repository(db).create_many(
        [
            care_team(patient_id=patient, primary_provider_id=THERAPISTS[index % 6])
            for index, patient in enumerate(PATIENTS)
        ]
    )
    seeded.ids["team"] = teams[7].id
    relationships = await create_therapeutic_relationship_repository(db).create_many(
        [
            active_relationship(patient_id=patient, therapist_id=THERAPISTS[index % 6])
            for index, patient in enumerate(PATIENTS)
        ]
    )
    seeded.ids["relationship"] = relationships[7].id
    plans = create_treatment_plan_repository(db)
    stored_plans = await plans.create_many(
        [
            depression_plan(patient_id=patient, therapist_id=THERAPISTS[index % 6])
            for index, patient in enumerate(PATIENTS)
        ]
    )
    for plan in stored_plans[:20]:
        await plans.record_outcome_measure(
            plan.id, Instrument.PHQ9, [1, 1, 1, 1, 1, 1, 1, 0, 0]
        )
    seeded.ids["plan"] = stored_plans[7].id
    referrals = create_referral_repository(db)
    for index, patient in enumerate(PATIENTS[:30]):
        await referrals.create_referral(
            patient, THERAPISTS[index % 6], THERAPISTS[(index + 1) % 6], "Medication"
        )
    plans_repo = create_safety_plan_repository(db)
    stored_safety = await plans_repo.create_many(
        [
            seed_plan(
                patient_id=patient,
                next_review_on=TODAY + timedelta(days=index),
            )
            for index, patient in enumerate(PATIENTS)
        ]
    )
    seeded.ids["safety_plan"] = stored_safety[7].id


async def _seed_sessions(db: DatabaseManager, seeded: Seeded) -> None:
    sessions = create_therapy_session_repository(db)
    stored = await sessions.create_many(
        [
            seed_session(
                patient_id=patient,
                therapist_id=THERAPISTS[index % 6],
                relationship_id=f"relationship_{patient}",
                session_date=TODAY - timedelta(weeks=week),
                risk_assessment="high" if (index + week) % 17 == 0 else "low",
            )
            for index, patient in enumerate(PATIENTS)
            for week in range(5)
        ]
    )
    seeded.ids["session"] = stored[0].id


async def _seed_crises(db: DatabaseManager, seeded: Seeded) -> None:
    crises = create_crisis_detection_repository(db)
    # Each detection is recorded in a transaction with its alert in the outbox.
    await crises.create_many(
        [
            seed_detection(
                patient_id=patient,
                source_id=f"journal_entry_{index:04d}",
                detected_at=NOW - timedelta(minutes=index),
            )
            for index, patient in enumerate(PATIENTS[:40])
        ]
    )


async def _seed_accounts(db: DatabaseManager, seeded: Seeded) -> None:
    accounts = create_user_account_repository(db)
    password_hash = patient_password_hash()
    for number in range(15):
        account = await accounts.create_user(
            f"member.{number:03d}",
            f"member.{number:03d}@example.org",
            password_hash=password_hash,
            role=UserRole.PATIENT,
        )
        seeded.ids.setdefault("account", account.id)
    logins = create_user_session_repository(db)
    for number in range(30):
        _, token = await logins.create_session(f"user_{number % 20:03d}")
        seeded.token = seeded.token or token
    events = create_security_event_repository(db)
    for number in range(60):
        await events.log_security_event(
            f"user_{number % 20:03d}", "login_failure", False, "198.51.100.23"
        )
    audit = create_audit_log_repository(db)
    for number in range(20):
        await audit.log_action(
            "therapist_01",
            "disclose",
            "TherapySession",
            f"session_{number:04d}",
            "Sent session summaries to the patient's insurer",
            patient_id=PATIENTS[number % 10],
            purpose="payment",
            recipient="Acme Health Insurance",
        )
