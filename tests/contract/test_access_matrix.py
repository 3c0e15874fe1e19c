"""Every role against every repository and operation, under the role policy.

The clinic (``tests.support.access_data``) is seeded once per backend; each case
acts as one person on one of ``patient_123``'s records. The expected outcome of
each case is written out below as the policy states it:

- ``A``: allowed; the call succeeds on the record;
- ``D``: denied with ``AccessDeniedError``, and the denial is audited;
- ``H``: the record is outside the caller's reach and so invisible: ``get`` and
  ``update`` raise ``NotFoundError``, lists and counts leave it out, ``delete``
  returns ``False``;
- ``R``: refused by the repository's own error after the policy kept the write
  out of reach (a break-glass reader may see a record a workflow method then
  cannot move); nothing is written;
- ``-``: the repository offers no such call to anyone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import BACKENDS, drop_and_close
from tests.support.access_data import (
    ACTORS,
    Clinic,
    RecordingAuditor,
    actor_context,
    open_clinic_database,
    seed_accounts,
    seed_clinic,
)
from tests.support.access_subjects import SUBJECTS, Subject
from wellness_repo import (
    AccessDeniedError,
    DatabaseManager,
    NotFoundError,
    QueryOptions,
    RepositoryError,
    acting_as,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPERATIONS = ("create", "get", "list_all", "count", "update", "delete", "domain")

# One row per actor: the outcome of each operation, in the order above.
EXPECTED: dict[str, dict[str, str]] = {
    "mood_entries": {
        "patient": "A A A A A A -",
        "other_patient": "D H H H D H -",
        "therapist": "D A A A D D -",
        "psychiatrist": "D A A A D D -",
        "nurse": "D A A A D D -",
        "coordinator": "D A A A D D -",
        "outside_therapist": "D H H H D D -",
        "on_call": "D A A A D D -",
        "admin": "D D D D D D -",
        "auditor": "D D D D D D -",
        "system": "A A A A A A -",
    },
    "treatment_plans": {
        "patient": "D A A A D D D",
        "other_patient": "D H H H D D H",
        "therapist": "A A A A A A A",
        "psychiatrist": "A A A A A A A",
        "nurse": "A A A A A A A",
        "coordinator": "A A A A A A A",
        "outside_therapist": "D H H H D H H",
        "on_call": "D A A A D H D",
        "admin": "D D D D D D D",
        "auditor": "D D D D D D D",
        "system": "A A A A A A A",
    },
    "therapeutic_relationships": {
        "patient": "D A A A D D D",
        "other_patient": "D H H H D D H",
        "therapist": "A A A A A A A",
        "psychiatrist": "A A A A A A A",
        "nurse": "A A A A A A A",
        "coordinator": "A A A A A A A",
        "outside_therapist": "D H H H D H H",
        "on_call": "D A A A D H D",
        "admin": "D D D D D D D",
        "auditor": "D D D D D D D",
        "system": "A A A A A A A",
    },
    "therapy_sessions": {
        "patient": "D A A A D D D",
        "other_patient": "D H H H D D H",
        "therapist": "A A A A A A A",
        "psychiatrist": "A A A A A A A",
        "nurse": "A A A A A A A",
        "coordinator": "A A A A A A A",
        "outside_therapist": "D H H H D H H",
        "on_call": "D A A A D H D",
        "admin": "D D D D D D D",
        "auditor": "D D D D D D D",
        "system": "A A A A A A A",
    },
    "clinical_signals": {
        "patient": "D D D D - - D",
        "other_patient": "D D D D - - D",
        "therapist": "A A A A - - A",
        "psychiatrist": "A A A A - - A",
        "nurse": "A A A A - - A",
        "coordinator": "A A A A - - A",
        "outside_therapist": "D H H H - - H",
        "on_call": "D A A A - - R",
        "admin": "D D D D - - D",
        "auditor": "D D D D - - D",
        "system": "A A A A - - A",
    },
    "referrals": {
        "patient": "D A A A D D D",
        "other_patient": "D H H H D D H",
        "therapist": "A A A A A A A",
        "psychiatrist": "A A A A A A A",
        "nurse": "A A A A A A A",
        "coordinator": "A A A A A A A",
        "outside_therapist": "D H H H D H H",
        "on_call": "D A A A D H R",
        "admin": "D D D D D D D",
        "auditor": "D D D D D D D",
        "system": "A A A A A A A",
    },
    "care_teams": {
        "patient": "D A A A D D D",
        "other_patient": "D H H H D D D",
        "therapist": "A A A A A A A",
        "psychiatrist": "A A A A A A A",
        "nurse": "A A A A A A A",
        "coordinator": "A A A A A A A",
        "outside_therapist": "D H H H D H H",
        "on_call": "D A A A D H R",
        "admin": "D D D D D D D",
        "auditor": "D D D D D D D",
        "system": "A A A A A A A",
    },
    "providers": {
        "patient": "D A A A D D D",
        "other_patient": "D A A A D D D",
        "therapist": "D A A A D D D",
        "psychiatrist": "D A A A D D D",
        "nurse": "D A A A D D D",
        "coordinator": "D A A A D D D",
        "outside_therapist": "D A A A D D D",
        "on_call": "D A A A D D D",
        "admin": "A A A A A A A",
        "auditor": "D D D D D D D",
        "system": "A A A A A A A",
    },
    # The patient's own account; "update" edits it, the domain write closes
    # the account: an administrator's act, refused outright to everyone else.
    "user_accounts": {
        "patient": "D A A A A D D",
        "other_patient": "D H H H D D D",
        "therapist": "D H H H D D D",
        "psychiatrist": "D H H H D D D",
        "nurse": "D H H H D D D",
        "coordinator": "D H H H D D D",
        "outside_therapist": "D H H H D D D",
        "on_call": "D H H H D D D",
        "admin": "A A A A A A A",
        "auditor": "D H H H D D D",
        "system": "A A A A A A A",
    },
    # The patient's signed-in sessions; the domain write signs one out. No
    # one edits a session (update is refused for all: R).
    "user_sessions": {
        "patient": "D A A A R D A",
        "other_patient": "D H H H R D H",
        "therapist": "D H H H R D H",
        "psychiatrist": "D H H H R D H",
        "nurse": "D H H H R D H",
        "coordinator": "D H H H R D H",
        "outside_therapist": "D H H H R D H",
        "on_call": "D H H H R D H",
        "admin": "A A A A R A A",
        "auditor": "D H H H R D H",
        "system": "A A A A R A A",
    },
    # Events about the patient's account; the record is append-only for all.
    "security_events": {
        "patient": "A D D D D D A",
        "other_patient": "D D D D D D D",
        "therapist": "D D D D D D D",
        "psychiatrist": "D D D D D D D",
        "nurse": "D D D D D D D",
        "coordinator": "D D D D D D D",
        "outside_therapist": "D D D D D D D",
        "on_call": "D D D D D D D",
        "admin": "A A A A D D A",
        "auditor": "D D D D D D D",
        "system": "A A A A D D A",
    },
    # Read by auditors; appended only through log_action, which any context may
    # call (the entry names who recorded it); never created, changed or removed
    # through the repository's record methods.
    "audit_logs": {
        "patient": "D D D D D D A",
        "other_patient": "D D D D D D A",
        "therapist": "D D D D D D A",
        "psychiatrist": "D D D D D D A",
        "nurse": "D D D D D D A",
        "coordinator": "D D D D D D A",
        "outside_therapist": "D D D D D D A",
        "on_call": "D D D D D D A",
        "admin": "D D D D D D A",
        "auditor": "D A A A D D A",
        "system": "D A A A D D A",
    },
}


@dataclass
class World:
    """One seeded clinic on one backend."""

    db: DatabaseManager
    auditor: RecordingAuditor
    clinic: Clinic


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, mongodb_uri: str
) -> AsyncIterator[World]:
    """The clinic, seeded once per backend for the whole module."""
    auditor = RecordingAuditor()
    uri = None if request.param == "embedded" else mongodb_uri
    db = await open_clinic_database(uri, auditor)
    try:
        clinic = await seed_clinic(db)
        await seed_accounts(db, clinic)
        yield World(db, auditor, clinic)
    finally:
        await drop_and_close(db)


def _cases() -> list[Any]:
    cases = []
    for subject, rows in EXPECTED.items():
        for actor in ACTORS:
            outcomes = rows[actor].split()
            for operation, expected in zip(OPERATIONS, outcomes, strict=True):
                if expected == "-":
                    continue
                cases.append(
                    pytest.param(
                        subject,
                        actor,
                        operation,
                        expected,
                        id=f"{subject}-{actor}-{operation}",
                    )
                )
    return cases


@pytest.mark.parametrize(("subject", "actor", "operation", "expected"), _cases())
async def test_each_role_gets_exactly_what_the_policy_grants(
    world: World, subject: str, actor: str, operation: str, expected: str
) -> None:
    spec = SUBJECTS[subject]
    target = await _prepare(world, spec, operation)
    mark = len(world.auditor.events)
    context = actor_context(actor)

    observed = await _attempt(world, spec, operation, target, context)

    assert observed == expected
    if expected == "D":
        denials = world.auditor.denials_since(mark)
        assert denials, "the denial was not audited"
        assert denials[-1].context.actor_id == context.actor_id
    if expected != "A" and operation in ("update", "delete", "domain"):
        stored = await spec.repository(world.db).get(target.id)
        assert stored.revision == target.revision, "a refused write changed it"


async def _prepare(world: World, spec: Subject, operation: str) -> Any:
    """What the operation acts on: a seeded id for reads, a new record for
    ``create``, otherwise a record as the system stored it."""
    repo = spec.repository(world.db)
    if operation in ("get", "list_all", "count"):
        return spec.seeded(world.clinic)
    if operation == "create":
        return spec.new()
    if operation in spec.on_seeded:
        return await repo.get(spec.seeded(world.clinic))
    return await repo.create(spec.stored())


async def _attempt(
    world: World, spec: Subject, operation: str, target: Any, context: Any
) -> str:
    repo = spec.repository(world.db)
    try:
        with acting_as(context):
            return await _run(repo, spec, operation, target)
    except AccessDeniedError:
        return "D"
    except NotFoundError:
        return "H"
    except RepositoryError:
        return "R"


async def _run(repo: Any, spec: Subject, operation: str, target: Any) -> str:
    if operation == "create":
        await repo.create(target)
        return "A"
    if operation == "get":
        await repo.get(target)
        return "A"
    if operation == "list_all":
        page = await repo.list_all(QueryOptions(filters={"id": target}))
        return "A" if [item.id for item in page.items] == [target] else "H"
    if operation == "count":
        return "A" if await repo.count(id=target) == 1 else "H"
    if operation == "update":
        # As a caller would edit it: the record as they can read it, if they can.
        seen = await _readable(repo, target.id)
        await repo.update(spec.change(seen or target))
        return "A"
    if operation == "delete":
        return "A" if await repo.delete(target.id) else "H"
    assert spec.domain is not None
    await spec.domain(repo, target.id)
    return "A"


async def _readable(repo: Any, record_id: str) -> Any:
    try:
        return await repo.get_by_id(record_id)
    except AccessDeniedError:
        return None
