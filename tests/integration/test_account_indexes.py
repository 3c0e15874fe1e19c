"""Every query and guarded write the account repository sends to ``user_accounts``
is served by an index on the real server, over a few hundred accounts: no
collection scan, no in-memory sort, no index walked end to end."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.account_data import (
    PATIENT_EMAIL,
    PATIENT_PASSWORD,
    ManualClock,
    code_at,
    patient_account,
)
from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from wellness_repo import AuthenticationError, DatabaseManager
from wellness_repo.repositories.accounts import UserAccountRepository

pytestmark = pytest.mark.integration

ACCOUNTS = 300


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes the command's cost grow with the number of accounts."""
    found = await unindexed_stages(db, command)
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    for stage in plan_stages(explained["queryPlanner"]["winningPlan"]):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
    return found


def on_accounts(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The commands addressed to the accounts collection."""
    return [c for c in commands if next(iter(c.values())) == "user_accounts"]


async def test_account_queries_and_guarded_writes_are_served_by_indexes(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        clock = ManualClock()
        accounts = UserAccountRepository(db, clock=clock)
        await accounts.create_many(
            [
                patient_account(
                    username=f"patient.{number:03d}",
                    email=f"patient.{number:03d}@example.org",
                )
                for number in range(ACCOUNTS)
            ]
        )
        patient = await accounts.create(patient_account())
        secret, _ = await accounts.begin_mfa_enrollment(patient.id)
        codes = await accounts.confirm_mfa_enrollment(
            patient.id, code_at(secret, clock())
        )
        clock.advance(seconds=30)
        recorder.recording = True

        await accounts.find_by_email(PATIENT_EMAIL)
        await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
        with pytest.raises(AuthenticationError):
            await accounts.authenticate_user(PATIENT_EMAIL, "not-the-password-123")
        with pytest.raises(AuthenticationError):
            await accounts.authenticate_user("nobody@example.org", PATIENT_PASSWORD)
        await accounts.verify_mfa(patient.id, code_at(secret, clock()))
        await accounts.use_recovery_code(patient.id, codes[0])
        await accounts.lock_account(patient.id)
        await accounts.unlock_account(patient.id)
        await accounts.change_password(
            patient.id, PATIENT_PASSWORD, "heron-over-the-quiet-lake"
        )
        await accounts.deactivate_user(patient.id)
        recorder.recording = False

        commands = on_accounts(recorder.commands)
        assert len(commands) >= 14
        for command in commands:
            assert await scan_problems(db, command) == [], command


async def test_an_email_lookup_uses_the_unique_email_index(mongodb_uri: str) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        accounts = UserAccountRepository(db)
        await accounts.create_many(
            [
                patient_account(
                    username=f"patient.{number:03d}",
                    email=f"patient.{number:03d}@example.org",
                )
                for number in range(ACCOUNTS)
            ]
        )
        await accounts.create(patient_account())
        recorder.recording = True

        await accounts.find_by_email(PATIENT_EMAIL)
        recorder.recording = False

        (command,) = on_accounts(recorder.commands)
        explained = await db.database.command(
            {"explain": command, "verbosity": "queryPlanner"}
        )
        used = {
            stage["indexName"]
            for stage in plan_stages(explained["queryPlanner"]["winningPlan"])
            if stage["stage"] == "IXSCAN"
        }
        assert used == {"one_account_per_email"}
