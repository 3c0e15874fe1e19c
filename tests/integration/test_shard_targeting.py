"""Repository queries carry the shard key where they can: measured, not guessed.

Every index-coverage case (``tests.support.index_coverage.CASES``) runs on the real
server with a recorder on; each query it sends is classified the way a mongos
would route it under the shard keys declared in ``indexes/*.json``. The
patient-facing reads listed here must stay single-shard; README's table of
targeted and scatter-gather methods is this measurement.
"""

from __future__ import annotations

import pytest

from tests.support.explain import recorded_database
from tests.support.index_coverage import CASES
from tests.support.index_coverage_clinic import seed_clinic
from tests.support.shard_targeting import (
    Routing,
    command_queries,
    declared_shard_keys,
    routing,
)

pytestmark = pytest.mark.integration

SINGLE_SHARD = frozenset(
    {
        "MoodEntryRepository.list_all",
        "MoodEntryRepository.find_by",
        "MoodEntryRepository.find_one_by",
        "MoodEntryRepository.count",
        "MoodEntryRepository.exists",
        "MoodEntryRepository.recent_entries",
        "MoodEntryRepository.analyze_mood_trends",
        "MoodEntryRepository.recent_daily_averages",
        "MoodEntryRepository.mood_average_between",
        "MoodGoalRepository.active_goals",
        "JournalRepository.entries_for_user",
        "JournalRepository.suggest_prompt",
        "TherapySessionRepository.patient_sessions",
        "TherapeuticRelationshipRepository.active_relationships_for_patient",
        "TreatmentPlanRepository.plans_for_patient",
        "ReferralRepository.referrals_for_patient",
        "CrisisDetectionRepository.detections_for_patient",
        "UserSessionRepository.validate_session",
        "AppointmentRepository.appointments_for_patient",
        "ProviderCalendarRepository.calendar_for",
        "MedicationRepository.medications_for_patient",
        "MedicationRepository.active_medications",
        "MedicationRepository.check_interactions",
        "DoseLogRepository.doses_for_medication",
        "ConversationRepository.conversations_for_user",
        "ConversationRepository.transcript",
        "ConversationMessageRepository.transcript",
    }
)
"""Methods whose every query on a sharded collection names one shard-key value."""


async def test_patient_facing_reads_target_one_shard(mongodb_uri: str) -> None:
    keys = declared_shard_keys()
    routed: dict[str, set[tuple[str, Routing]]] = {}
    async with recorded_database(mongodb_uri) as (db, recorder):
        seeded = await seed_clinic(db)
        for case in CASES:
            recorder.commands.clear()
            recorder.recording = True
            try:
                method = await case.run(seeded)
            finally:
                recorder.recording = False
            for command in recorder.commands:
                for collection, query in command_queries(command):
                    if collection in keys:
                        found = routing(query, keys[collection])
                        routed.setdefault(method, set()).add((collection, found))

    missing = SINGLE_SHARD - routed.keys()
    assert not missing, f"no recorded query on a sharded collection: {missing}"
    scattered = {
        method: sorted(routes)
        for method, routes in routed.items()
        if method in SINGLE_SHARD
        and any(found is not Routing.TARGETED for _, found in routes)
    }
    assert not scattered, scattered
