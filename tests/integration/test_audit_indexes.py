"""Every query the audit trail sends is served by its declared index on the real
server over a seeded trail: the chain's tail and walk, the HIPAA report, failed
action monitoring and the accounting of disclosures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import DatabaseManager, PurposeOfUse, utc_now
from wellness_repo.models.audit import ActionType, AuditOutcome
from wellness_repo.repositories.audit import AuditLogRepository

pytestmark = pytest.mark.integration

PATIENTS = [f"patient_{number:03d}" for number in range(40)]
ACTORS = [f"therapist_{number:03d}" for number in range(12)]
ACTIONS = [ActionType.READ, ActionType.UPDATE, ActionType.DISCLOSE, ActionType.EXPORT]
PURPOSES = [
    PurposeOfUse.TREATMENT,
    PurposeOfUse.PAYMENT,
    PurposeOfUse.PATIENT_REQUEST,
    PurposeOfUse.AUDIT,
]
OUTCOMES = [AuditOutcome.OK] * 5 + [AuditOutcome.DENIED, AuditOutcome.FAILED]


async def seed_trail(audit: AuditLogRepository, count: int) -> None:
    """``count`` logged actions spread over patients, actors, purposes and
    outcomes, most of them HIPAA-relevant."""
    for first in range(0, count, 50):
        await asyncio.gather(
            *(
                audit.log_action(
                    ACTORS[number % len(ACTORS)],
                    ACTIONS[number % len(ACTIONS)],
                    "patient_record",
                    PATIENTS[number % len(PATIENTS)],
                    "Released records to the requesting party",
                    hipaa_relevant=number % 9 != 0,
                    patient_id=PATIENTS[number % len(PATIENTS)],
                    purpose=PURPOSES[number % len(PURPOSES)],
                    recipient="Valley Life Insurance",
                    outcome=OUTCOMES[number % len(OUTCOMES)],
                )
                for number in range(first, min(first + 50, count))
            )
        )


async def indexes_used(db: DatabaseManager, command: dict[str, Any]) -> set[str]:
    """The names of the indexes the winning plan of ``command`` scans."""
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    planner = explained.get("queryPlanner") or next(
        stage["$cursor"]["queryPlanner"]
        for stage in explained["stages"]
        if "$cursor" in stage
    )
    return {
        stage["indexName"]
        for stage in plan_stages(planner["winningPlan"])
        if stage["stage"] == "IXSCAN"
    }


def sent(
    commands: list[dict[str, Any]], name: str, mentions: str
) -> list[dict[str, Any]]:
    """The recorded ``name`` commands whose text mentions ``mentions``."""
    return [
        command
        for command in commands
        if next(iter(command)) == name and mentions in repr(command)
    ]


async def test_every_audit_query_is_served_by_its_declared_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        audit = AuditLogRepository(db)
        recorder.recording = True
        await seed_trail(audit, 600)
        start = utc_now() - timedelta(hours=1)
        end = utc_now() + timedelta(hours=1)

        await audit.get_hipaa_relevant_logs(start, end, limit=50)
        await audit.failed_actions(start)
        await audit.accounting_of_disclosures("patient_007", start, end)
        verification = await audit.verify_audit_chain(batch_size=100)

        commands = recorder.commands
        tail = sent(commands, "find", "'sequence': -1")[0]
        walk = sent(commands, "find", "'sequence': 1")[0]
        hipaa = sent(commands, "find", "hipaa_relevant")[0]
        failures = sent(commands, "aggregate", "outcome")
        disclosures = sent(commands, "find", "patient_ids")[0]
        checked = [tail, walk, hipaa, *failures, disclosures]
        problems = [await unindexed_stages(db, command) for command in checked]
        used = [await indexes_used(db, command) for command in checked]

    assert verification.ok
    assert len(failures) == 2
    assert problems == [[]] * len(checked)
    assert used == [
        {"chain_sequence"},
        {"chain_sequence"},
        {"hipaa_timeline"},
        {"failed_actions"},
        {"failed_actions"},
        {"patient_disclosures"},
    ]
