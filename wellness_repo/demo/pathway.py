"""One patient's care pathway, walked through the public API as the people in it.

Each step acts under the access context of whoever would do it on the platform:
the enrolment service opens accounts, the therapist records care, the patient
logs moods and writes in her journal, an auditor reads the trail. The default
stages are on throughout (the role policy, field encryption, the audit chain), so
every step is authorised, encrypted and audited as it would be in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from wellness_repo.database.manager import DatabaseManager
from wellness_repo.demo.printing import PathwayPrinter
from wellness_repo.factories import (
    create_audit_log_repository,
    create_crisis_detection_repository,
    create_journal_entry_repository,
    create_mood_entry_repository,
    create_provider_repository,
    create_safety_plan_repository,
    create_therapeutic_relationship_repository,
    create_therapy_session_repository,
    create_treatment_plan_repository,
    create_user_account_repository,
)
from wellness_repo.models.care import Provider, ProviderType
from wellness_repo.models.clinical import TherapeuticRelationship, TherapyModality
from wellness_repo.models.engagement import MoodEntry
from wellness_repo.models.journals import JournalEntry
from wellness_repo.models.safety_plans import SafetyPlan
from wellness_repo.models.sessions import TherapySession
from wellness_repo.models.treatment_plans import TreatmentPhase, TreatmentPlan
from wellness_repo.models.types import utc_now
from wellness_repo.security.context import (
    AccessContext,
    UserRole,
    acting_as,
    context_for_account,
)

__all__ = ["CarePathway", "Cast"]

# The password is the demo's own; accounts keep only its argon2id hash.
_DEMO_PASSWORD = "lantern-over-quiet-water"
# Four weeks of evening check-ins: (days ago, rating, tags). Low at the start of
# treatment, lifting after behavioural activation, a dip in the last days.
CHECK_INS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (27, 3, ("anxiety", "work")),
    (25, 4, ("sleep",)),
    (23, 3, ("anxiety",)),
    (21, 5, ("exercise",)),
    (19, 5, ("family",)),
    (17, 6, ("exercise", "sleep")),
    (15, 6, ("work",)),
    (13, 7, ("family",)),
    (11, 7, ("exercise",)),
    (9, 8, ("exercise", "family")),
    (7, 7, ("sleep",)),
    (5, 6, ("work",)),
    (3, 4, ("anxiety", "work")),
    (1, 3, ("anxiety", "sleep")),
)
# What the patient writes on the worst evening: the detector must catch it.
CRISIS_ENTRY = (
    "Another sleepless night after the argument at work. I feel like a burden "
    "and I keep thinking everyone would be better off without me."
)


@dataclass(frozen=True)
class Cast:
    """The people of the pathway, as the contexts they act under."""

    patient_id: str
    therapist_id: str
    therapist: AccessContext
    patient: AccessContext
    auditor: AccessContext


def _on_ten(normalized: float) -> float:
    """A 0..1 normalised mood back on the 1-10 scale the patient used."""
    return 1 + 9 * normalized


class CarePathway:
    """The steps of the demo, each printing what it did."""

    def __init__(self, db: DatabaseManager, printer: PathwayPrinter) -> None:
        self.db = db
        self.printer = printer
        self.started = utc_now() - timedelta(minutes=1)
        self.now = datetime.now(UTC).replace(second=0, microsecond=0)

    async def enrol(self) -> Cast:
        """Step 1: the provider record and the three accounts."""
        self.printer.section("Provider and patient accounts")
        provider = await create_provider_repository(self.db).create(
            Provider(
                first_name="Maya",
                last_name="Okafor",
                provider_type=ProviderType.PSYCHOLOGIST,
                specialties=["Depression", "Anxiety"],
                accepting_new_patients=True,
            )
        )
        accounts = create_user_account_repository(self.db)
        therapist = await accounts.create_user(
            "dr.okafor",
            "m.okafor@clinic.example",
            _DEMO_PASSWORD,
            role=UserRole.THERAPIST,
            provider_id=provider.provider_id,
        )
        patient = await accounts.create_user(
            "jordan.lee",
            "jordan.lee@mail.example",
            _DEMO_PASSWORD,
            role=UserRole.PATIENT,
        )
        auditor = await accounts.create_user(
            "privacy.officer",
            "privacy@clinic.example",
            _DEMO_PASSWORD,
            role=UserRole.AUDITOR,
        )
        signed_in = await accounts.authenticate_user(
            email="jordan.lee@mail.example", password=_DEMO_PASSWORD
        )
        self.printer.table(
            ("account", "role", "acts as"),
            [
                (account.username, account.role, context_for_account(account).actor_id)
                for account in (therapist, patient, auditor)
            ],
        )
        self.printer.fact(
            f"patient signed in: {signed_in.user_id == patient.user_id}; "
            "passwords kept as argon2id hashes, emails encrypted"
        )
        return Cast(
            patient_id=patient.user_id,
            therapist_id=provider.provider_id,
            therapist=context_for_account(therapist),
            patient=context_for_account(patient),
            auditor=context_for_account(auditor),
        )

    async def begin_care(self, cast: Cast) -> str:
        """Step 2: the therapeutic relationship and the treatment plan."""
        self.printer.section("A therapeutic relationship and a treatment plan")
        # Intake (the enrolment service) assigns the therapist; from then on the
        # patient is in her care and the role policy lets her write the record.
        relationship = await create_therapeutic_relationship_repository(self.db).create(
            TherapeuticRelationship(
                patient_id=cast.patient_id,
                therapist_id=cast.therapist_id,
                therapy_modality=TherapyModality.CBT,
                relationship_status="active",
                start_date=date.today() - timedelta(days=28),
                treatment_focus=["Depression", "Anxiety"],
            )
        )
        with acting_as(cast.therapist):
            plan = await create_treatment_plan_repository(self.db).create(
                TreatmentPlan(
                    patient_id=cast.patient_id,
                    therapist_id=cast.therapist_id,
                    plan_name="CBT for depression",
                    primary_diagnosis="Major depressive disorder, moderate",
                    primary_diagnosis_code="F32.1",
                    treatment_goals=[
                        "Reduce depressive symptoms",
                        "Return to regular sleep",
                    ],
                    interventions=["Behavioural activation", "Thought records"],
                    estimated_duration_weeks=16,
                    phase=TreatmentPhase.ACTIVE,
                )
            )
        self.printer.table(
            ("record", "id", "status"),
            [
                ("relationship", relationship.relationship_id, "active, CBT"),
                ("treatment plan", plan.plan_id, f"{plan.phase}, 2 goals"),
            ],
        )
        return relationship.relationship_id

    async def track_progress(self, cast: Cast, relationship_id: str) -> None:
        """Step 3: two sessions, four weeks of moods, and the mood trend."""
        self.printer.section("Sessions, mood entries and the mood trend")
        with acting_as(cast.therapist):
            sessions = create_therapy_session_repository(self.db)
            for weeks_ago, start, end in ((3, 3, 5), (1, 5, 7)):
                await sessions.create(
                    TherapySession(
                        relationship_id=relationship_id,
                        patient_id=cast.patient_id,
                        therapist_id=cast.therapist_id,
                        session_date=date.today() - timedelta(weeks=weeks_ago),
                        session_type="individual",
                        duration_minutes=50,
                        session_notes="Reviewed activity schedule and thought record",
                        patient_mood_start=start,
                        patient_mood_end=end,
                        risk_assessment="low",
                    )
                )
        with acting_as(cast.patient):
            moods = create_mood_entry_repository(self.db)
            await moods.create_many(
                [
                    MoodEntry(
                        user_id=cast.patient_id,
                        mood_rating=rating,
                        tags=list(tags),
                        notes="(private note, never printed or logged)",
                        created_at=self.now - timedelta(days=days_ago),
                    )
                    for days_ago, rating, tags in CHECK_INS
                ]
            )
        with acting_as(cast.therapist):
            trends = await moods.analyze_mood_trends(cast.patient_id, days_back=28)
        self.printer.fact(f"2 sessions documented; {trends.entries} check-ins logged")
        self.printer.table(
            ("ISO week", "mean mood (1-10)", "entries"),
            [
                (week.week, f"{_on_ten(week.average):.1f}", week.entries)
                for week in trends.weekly
            ],
        )
        average = _on_ten(trends.average or 0.0)
        self.printer.fact(
            f"trend {trends.direction}, mean {average:.1f}; the last week fell "
            "back, which the therapist sees in the weekly means"
        )

    async def respond_to_crisis(self, cast: Cast) -> None:
        """Step 4: a journal entry raises a crisis, escalated; a safety plan."""
        self.printer.section("A journal entry, a crisis, its escalation, a safety plan")
        with acting_as(cast.patient):
            entry = await create_journal_entry_repository(self.db).create(
                JournalEntry(user_id=cast.patient_id, content=CRISIS_ENTRY)
            )
        summary = entry.crisis_summary
        if summary is None:
            raise RuntimeError("the crisis detector missed the demo's journal entry")
        self.printer.fact(
            f"journal entry {entry.entry_id} stored encrypted; detector found "
            f"{', '.join(summary.crisis_types)} at {summary.highest_severity} severity"
        )
        crises = create_crisis_detection_repository(self.db)
        with acting_as(cast.therapist):
            found = await crises.detections_for_patient(cast.patient_id)
            detection = max(found, key=lambda found: found.severity_rank)
            await crises.acknowledge(detection.detection_id, by=cast.therapist_id)
            escalated = await crises.escalate_crisis(
                detection_id=detection.detection_id,
                escalated_to="crisis_team",
                escalation_reason="Passive suicidal ideation with worsening mood",
                notified=["oncall_psychiatrist"],
            )
            plan = await create_safety_plan_repository(self.db).create(
                SafetyPlan(
                    patient_id=cast.patient_id,
                    created_by_provider_id=cast.therapist_id,
                    warning_signs=["Not sleeping", "Feeling like a burden"],
                    coping_strategies=["Paced breathing", "Walk outside"],
                    social_contacts=[{"name": "Sister", "phone": "(555) 123-4567"}],
                    reasons_to_live=["My niece", "Finishing my degree"],
                )
            )
        alerts = await crises.outbox.count(detection_id=detection.detection_id)
        self.printer.table(
            ("detection", "status", "escalations", "alerts queued"),
            [
                (
                    escalated.detection_id,
                    escalated.status,
                    len(escalated.escalations),
                    alerts,
                )
            ],
        )
        self.printer.fact(
            f"safety plan v{plan.version} with "
            f"{len(plan.professional_contacts)} professional contacts (988 added)"
        )

    async def review_audit(self, cast: Cast) -> None:
        """Step 7: the HIPAA-relevant log and the audit chain's verification."""
        self.printer.section("The HIPAA log and the audit chain")
        audit = create_audit_log_repository(self.db)
        with acting_as(cast.auditor):
            logs = await audit.get_hipaa_relevant_logs(
                start_date=self.started,
                end_date=utc_now() + timedelta(minutes=1),
                limit=500,
            )
            verified = await audit.verify_audit_chain()
        by_kind: dict[tuple[str, str], int] = {}
        for log in logs.items:
            key = (log.resource_type, str(log.action_type))
            by_kind[key] = by_kind.get(key, 0) + 1
        self.printer.table(
            ("record kind", "action", "entries"),
            [(kind, action, n) for (kind, action), n in sorted(by_kind.items())],
        )
        self.printer.fact(
            f"audit chain verified: {verified.ok} "
            f"({verified.entries_checked} entries checked)"
        )
