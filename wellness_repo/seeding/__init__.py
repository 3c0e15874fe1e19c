"""Deterministic synthetic fixtures: providers, patients and their care, written
through the repositories (``wellness-repo seed``, ``scripts/seed_fixtures.py``).

The plan is a list of small units (:data:`SEED_UNITS`), one per kind of record;
:func:`seed_fixtures` runs them in order, in batches, skipping what a previous
run with the same seed already stored.
"""

from wellness_repo.seeding.generators.people import FIXTURE_PASSWORD
from wellness_repo.seeding.plan import SEED_UNITS, SeedUnit
from wellness_repo.seeding.progress import progress_for
from wellness_repo.seeding.runner import SEEDER, SeedReport, UnitResult, seed_fixtures
from wellness_repo.seeding.world import FIXTURE_EMAIL_DOMAIN, FixtureWorld, fixture_id

__all__ = [
    "FIXTURE_EMAIL_DOMAIN",
    "FIXTURE_PASSWORD",
    "SEEDER",
    "SEED_UNITS",
    "FixtureWorld",
    "SeedReport",
    "SeedUnit",
    "UnitResult",
    "fixture_id",
    "progress_for",
    "seed_fixtures",
]
