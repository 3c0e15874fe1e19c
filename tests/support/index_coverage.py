"""Index coverage of every repository query method: a table of (repository
factory, method, arguments) cases over the clinic of
``tests.support.index_coverage_clinic``, and the check that explains each
command a case's call really sent.

A new query method gets a line in :data:`CASES` (and, if it legitimately scans,
an entry in :data:`ALLOWED_SCANS` with the reason); ``test_index_coverage``
fails on any public repository method that has no case and is not listed in
:data:`WRITES` (or in a module of :data:`IN_PROGRESS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tests.support.account_data import PATIENT_PASSWORD
from tests.support.explain import CommandRecorder, plan_stages
from tests.support.index_coverage_clinic import (
    NOW,
    PATIENT,
    PATIENTS,
    THERAPIST,
    TODAY,
    Seeded,
)
from tests.support.index_coverage_operation_cases import OPERATION_CASES
from wellness_repo import (
    DatabaseManager,
    Instrument,
    QueryOptions,
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

Arguments = Callable[[Seeded], Mapping[str, Any]]


def _none(_: Seeded) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    """One call of a repository query method: ``factory(db).method(**arguments)``."""

    factory: Callable[[DatabaseManager], Any]
    method: str
    arguments: Arguments = _none

    async def run(self, seeded: Seeded) -> str:
        """Call the method; return its name as ``Repository.method``."""
        repository = self.factory(seeded.db)
        await getattr(repository, self.method)(**self.arguments(seeded))
        return f"{type(repository).__name__}.{self.method}"


# -------------------------------------------------------------------- cases

moods_ = create_mood_entry_repository
sessions_ = create_therapy_session_repository


def _patient(_: Seeded) -> Mapping[str, Any]:
    return {"patient_id": PATIENT}


CASES: tuple[Case, ...] = (
    # The shared pipeline's reads, as a service calls them for one patient.
    Case(moods_, "get_by_id", lambda s: {"entity_id": s.ids["mood"]}),
    Case(moods_, "get", lambda s: {"entity_id": s.ids["mood"]}),
    Case(
        moods_,
        "list_all",
        lambda _: {
            "options": QueryOptions(
                filters={"user_id": PATIENT, "mood_rating__gte": 3},
                order_by=["-created_at"],
                include_count=True,
            )
        },
    ),
    Case(moods_, "find_by", lambda _: {"user_id": PATIENT}),
    Case(moods_, "find_one_by", lambda _: {"user_id": PATIENT}),
    Case(moods_, "count", lambda _: {"user_id": PATIENT}),
    Case(moods_, "exists", lambda _: {"user_id": PATIENT}),
    # Mood.
    Case(moods_, "recent_entries", lambda _: {"user_id": PATIENT}),
    Case(moods_, "analyze_mood_trends", lambda _: {"user_id": PATIENT}),
    Case(moods_, "recent_daily_averages", lambda _: {"user_id": PATIENT, "days": 14}),
    Case(
        moods_,
        "mood_average_between",
        lambda _: {"user_id": PATIENT, "start": NOW - timedelta(days=30), "end": NOW},
    ),
    Case(create_mood_goal_repository, "active_goals", lambda _: {"user_id": PATIENT}),
    Case(
        create_mood_goal_repository,
        "mood_goal_progress",
        lambda s: {"goal_id": s.ids["goal"]},
    ),
    # Journals.
    Case(
        create_journal_entry_repository,
        "entries_for_user",
        lambda _: {"user_id": PATIENT, "tag": "sleep"},
    ),
    Case(
        create_journal_entry_repository,
        "suggest_prompt",
        lambda _: {"user_id": PATIENT},
    ),
    # Sessions and their signals.
    Case(sessions_, "patient_sessions", _patient),
    Case(
        sessions_,
        "sessions_for_relationship",
        lambda _: {"relationship_id": f"relationship_{PATIENT}"},
    ),
    Case(
        sessions_,
        "sessions_between",
        lambda _: {
            "start": TODAY - timedelta(days=30),
            "end": TODAY,
            "therapist_id": THERAPIST,
        },
    ),
    Case(
        sessions_,
        "sessions_between",
        lambda _: {"start": TODAY - timedelta(days=30), "end": TODAY, **_patient(_)},
    ),
    Case(sessions_, "attendance_statistics", _patient),
    Case(sessions_, "attendance_statistics", lambda _: {"therapist_id": THERAPIST}),
    Case(
        sessions_,
        "attendance_statistics",
        lambda _: {"relationship_id": f"relationship_{PATIENT}"},
    ),
    Case(create_clinical_signal_repository, "pending_signals"),
    Case(
        create_clinical_signal_repository,
        "signals_for_session",
        lambda s: {"session_id": s.ids["session"]},
    ),
    Case(
        create_clinical_signal_repository,
        "release_stalled_claims",
        lambda _: {"older_than": timedelta(minutes=5)},
    ),
    # Clinical care.
    Case(
        create_therapeutic_relationship_repository,
        "active_relationships_for_therapist",
        lambda _: {"therapist_id": THERAPIST},
    ),
    Case(
        create_therapeutic_relationship_repository,
        "active_relationships_for_patient",
        _patient,
    ),
    Case(
        create_therapeutic_relationship_repository,
        "caseload_size",
        lambda _: {"therapist_id": THERAPIST},
    ),
    Case(create_treatment_plan_repository, "plans_for_patient", _patient),
    Case(
        create_treatment_plan_repository,
        "plans_needing_safety_follow_up",
        lambda _: {"therapist_id": THERAPIST},
    ),
    Case(
        create_treatment_plan_repository,
        "outcome_trajectory",
        lambda s: {"plan_id": s.ids["plan"], "instrument": Instrument.PHQ9},
    ),
    Case(
        create_provider_repository,
        "find_providers_by_specialty",
        lambda _: {"specialty": "Addiction", "accepting_patients": True},
    ),
    Case(
        create_provider_repository, "licenses_expiring_within", lambda _: {"days": 90}
    ),
    Case(create_care_team_repository, "active_care_team", _patient),
    Case(
        create_care_team_repository,
        "care_teams_of_provider",
        lambda _: {"provider_id": THERAPIST},
    ),
    Case(create_referral_repository, "referrals_for_patient", _patient),
    Case(
        create_referral_repository,
        "referral_queue",
        lambda _: {"receiving_provider_id": THERAPIST},
    ),
    Case(create_referral_repository, "overdue_referrals"),
    Case(create_safety_plan_repository, "versions", _patient),
    Case(create_safety_plan_repository, "active_plan", _patient),
    Case(
        create_safety_plan_repository,
        "get_version",
        lambda s: {"plan_id": s.ids["safety_plan"], "version": 1},
    ),
    Case(
        create_safety_plan_repository,
        "review_due",
        lambda _: {"before": TODAY + timedelta(days=10)},
    ),
    # Crises.
    Case(create_crisis_detection_repository, "active_crises"),
    Case(create_crisis_detection_repository, "overdue_crises"),
    Case(create_crisis_detection_repository, "detections_for_patient", _patient),
    Case(
        create_crisis_detection_repository,
        "response_time_statistics",
        lambda s: {"since": NOW - timedelta(days=30), "team_id": s.ids["team"]},
    ),
    Case(create_crisis_notification_repository, "pending"),
    Case(
        create_crisis_notification_repository,
        "claim",
        lambda _: {"worker_id": "worker-1", "lease": timedelta(minutes=1)},
    ),
    # Accounts, sign-in and security.
    Case(
        create_user_account_repository,
        "find_by_email",
        lambda _: {"email": "member.007@example.org"},
    ),
    Case(
        create_user_session_repository,
        "validate_session",
        lambda s: {"token": s.token},
    ),
    Case(
        create_user_session_repository,
        "active_sessions",
        lambda _: {"user_id": "user_003"},
    ),
    Case(
        create_security_event_repository,
        "recent_events",
        lambda _: {"user_id": "user_003"},
    ),
    Case(
        create_security_event_repository,
        "failed_login_bursts",
        lambda _: {"since": NOW - timedelta(hours=1), "threshold": 3},
    ),
    Case(
        create_user_account_repository,
        "authenticate_user",
        lambda _: {"email": "member.007@example.org", "password": PATIENT_PASSWORD},
    ),
    # The audit trail.
    Case(create_audit_log_repository, "verify_audit_chain"),
    Case(
        create_audit_log_repository,
        "get_hipaa_relevant_logs",
        lambda _: {
            "start_date": NOW - timedelta(days=1),
            "end_date": NOW + timedelta(days=1),
        },
    ),
    Case(
        create_audit_log_repository,
        "failed_actions",
        lambda _: {"since": NOW - timedelta(days=1)},
    ),
    Case(
        create_audit_log_repository,
        "accounting_of_disclosures",
        lambda _: {
            "patient_id": PATIENTS[3],
            "start": NOW - timedelta(days=1),
            "end": NOW + timedelta(days=1),
        },
    ),
    # Appointments, calendars, reminders, medications, doses, conversations.
    *(Case(*row) for row in OPERATION_CASES),
)

ALLOWED_SCANS: dict[str, str] = {
    # "Repository.method": "why it may scan, and why that stays small",
}
"""Methods whose queries may scan, each with the reason."""

IN_PROGRESS: dict[str, str] = {}
"""Module name prefixes of ``wellness_repo.repositories`` whose methods the
completeness check skips for now, each with the reason (remove a prefix once
that area's cases are in :data:`CASES`)."""


WRITES: frozenset[str] = frozenset(
    {
        # The pipeline's writes, and every write of one record by its id.
        "create", "create_many", "update", "patch", "delete", "migrate_stored",
        # Accounts: sign-up, sign-in and MFA read one account by its unique
        # email or id (find_by_email's index) and write it back.
        "create_user", "change_password", "lock_account",
        "unlock_account", "deactivate_user", "begin_mfa_enrollment",
        "confirm_mfa_enrollment", "verify_mfa", "use_recovery_code", "disable_mfa",
        "create_session", "revoke_session", "revoke_all_sessions",
        "log_security_event", "log_action",
        # Clinical writes by id.
        "activate", "pause", "end_relationship", "change_treatment_phase",
        "update_treatment_progress", "record_outcome_measure",
        "record_safety_follow_up", "record_risk_assessment",
        "record_homework_review", "claim_signal", "mark_signal_processed",
        "add_team_member", "remove_team_member", "change_member_role",
        "record_team_meeting", "close_care_team", "renew_license",
        "create_referral", "update_referral_status", "change_referral_priority",
        "record_authorization", "document_referral_outcome", "revise_plan",
        "acknowledge_by_patient", "set_mood_goal", "close_mood_goal",
        "cancel_mood_goal", "analyze_sentiment", "share_with_care_team",
        "unshare_from_care_team", "acknowledge", "escalate_crisis", "resolve",
        "mark_false_positive", "record_detection", "process_clinical_signals",
        "enqueue", "mark_sent", "mark_failed",
        # Operational writes by id: an appointment's status changes (cancel
        # also releases its reservations and open reminders by appointment id,
        # the appointment_reservations and appointment_reminders indexes), the
        # booking transaction wrapper, a medication's lifecycle, a new
        # conversation (an insert) and a conversation's closing and rating.
        "cancel", "confirm", "check_in", "complete", "mark_no_show", "book",
        "discontinue_medication", "pause_medication", "resume_medication",
        "record_refill", "report_side_effect", "start_conversation",
        "close_conversation", "record_satisfaction",
    }
)  # fmt: skip
"""Public repository methods that write; the queries they send select records
by id or by a unique key."""


async def uncovered(
    db: DatabaseManager, recorder: CommandRecorder, case: Case, seeded: Seeded
) -> tuple[str, list[str]]:
    """Run one case with the recorder on; explain every command it sent.

    Returns the method's name and one message per command that a collection
    scan serves, or a blocking sort that no candidate index could avoid, naming
    the command and the winning plan.
    """
    recorder.commands.clear()
    recorder.recording = True
    try:
        method = await case.run(seeded)
    finally:
        recorder.recording = False
    if not recorder.commands:
        return method, [f"{method} sent no explainable command"]
    problems = []
    for command in recorder.commands:
        planner = await query_planner(db, command)
        found = growing_stages(planner["winningPlan"])
        if found == ["SORT"] and any(
            not growing_stages(plan) for plan in planner.get("rejectedPlans", [])
        ):
            # An index provides the order; on a small result the planner may
            # still prefer a top-k sort (both plans end the trial together).
            continue
        if found:
            problems.append(
                f"{method}: {', '.join(found)} for {_short(command)}; "
                f"plan: {_outline(planner['winningPlan'])}"
            )
    return method, problems


async def query_planner(db: DatabaseManager, command: dict[str, Any]) -> Any:
    """The ``queryPlanner`` section of the command's explain output."""
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    planner = explained.get("queryPlanner")
    if planner is None:
        planner = next(
            stage["$cursor"]["queryPlanner"]
            for stage in explained.get("stages", [])
            if "$cursor" in stage
        )
    return planner


def growing_stages(plan: Any) -> list[str]:
    """The stages of a plan whose cost grows with the collection: a collection
    scan, and a blocking sort unless an index scan under it is pinned to one
    value of its leading key (one patient's records, say)."""
    found = []
    for stage in plan_stages(plan):
        if stage["stage"] == "COLLSCAN":
            found.append("COLLSCAN")
        elif stage["stage"] == "SORT" and not _pinned(stage):
            found.append("SORT")
    return sorted(set(found))


def _pinned(sort_stage: dict[str, Any]) -> bool:
    for stage in plan_stages(sort_stage.get("inputStage", {})):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            bounds = stage.get("indexBounds", {}).get(leading, [])
            if len(bounds) == 1 and _is_point(bounds[0]):
                return True
    return False


def _is_point(interval: str) -> bool:
    # "[v, v]", where v may itself hold ", ".
    inner = interval[1:-1]
    half, odd = divmod(len(inner) - 2, 2)
    return (
        interval.startswith("[")
        and interval.endswith("]")
        and not odd
        and inner == f"{inner[:half]}, {inner[:half]}"
    )


def _outline(plan: Any) -> str:
    return " > ".join(
        stage["stage"] + (f"({stage['indexName']})" if "indexName" in stage else "")
        for stage in plan_stages(plan)
    )


def _short(command: dict[str, Any]) -> str:
    kept: dict[str, Any] = {
        key: command[key]
        for key in ("find", "aggregate", "count", "findAndModify", "update", "delete")
        if key in command
    }
    for key in ("filter", "query", "sort", "pipeline", "updates", "deletes"):
        if key in command:
            kept[key] = command[key]
    return json.dumps(kept, default=str)[:400]
