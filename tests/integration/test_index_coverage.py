"""Every repository query method is served by an index on the real server.

Each case of ``tests.support.index_coverage.CASES`` calls one repository method
over a seeded clinic (a few hundred records per collection, sixty patients) on a
client that records the commands it sends; each recorded ``find``,
``aggregate``, ``count``, ``findAndModify``, ``update`` or ``delete`` is then
explained. A collection scan, or a blocking sort that is not bounded by one
value of the index's leading key, fails the test with the method and its plan.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import wellness_repo.repositories
from tests.support.explain import recorded_database
from tests.support.index_coverage import (
    ALLOWED_SCANS,
    CASES,
    IN_PROGRESS,
    WRITES,
    uncovered,
)
from tests.support.index_coverage_clinic import seed_clinic
from wellness_repo.repository.base import AsyncBaseRepository

pytestmark = pytest.mark.integration


def public_repository_methods() -> dict[str, set[str]]:
    """Every public coroutine method of every repository class in
    ``wellness_repo.repositories`` (but the modules still being built), by
    method name, with the classes having it."""
    found: dict[str, set[str]] = {}
    for module_info in pkgutil.iter_modules(wellness_repo.repositories.__path__):
        if module_info.name.startswith(tuple(IN_PROGRESS)):
            continue
        module = importlib.import_module(
            f"wellness_repo.repositories.{module_info.name}"
        )
        for cls in vars(module).values():
            if not (
                inspect.isclass(cls)
                and issubclass(cls, AsyncBaseRepository)
                and cls.__module__ == module.__name__
            ):
                continue
            for name, member in inspect.getmembers(cls):
                if not name.startswith("_") and inspect.iscoroutinefunction(member):
                    found.setdefault(name, set()).add(cls.__name__)
    return found


def test_every_public_repository_method_is_a_coverage_case_or_a_listed_write() -> None:
    covered = {case.method for case in CASES} | ALLOWED_SCANS.keys()
    methods = public_repository_methods()
    unclassified = {
        name: sorted(classes)
        for name, classes in methods.items()
        if name not in covered and name not in WRITES
    }
    assert not unclassified, (
        "repository methods with no index-coverage case: add them to CASES (or, "
        "for a write by id, to WRITES) in tests/support/index_coverage.py: "
        f"{unclassified}"
    )
    assert all(ALLOWED_SCANS.values()), "every allowed scan needs its reason"


async def test_every_repository_query_method_is_served_by_an_index(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        seeded = await seed_clinic(db)
        problems: list[str] = []
        checked = set()
        for case in CASES:
            method, found = await uncovered(db, recorder, case, seeded)
            checked.add(method)
            if method not in ALLOWED_SCANS:
                problems += found
        assert not problems, "\n".join(problems)
        assert len(checked) >= 50, sorted(checked)
