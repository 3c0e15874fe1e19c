"""What every fixture unit shares: the scale, deterministic ids, seeded random
sources, and each synthetic patient's clinical profile.

Everything here is a pure function of ``(seed, patients, as_of)``: the same three
give the same ids, the same people and the same histories, so a second run finds
every record it would write already stored.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from faker import Faker

__all__ = [
    "FIXTURE_EMAIL_DOMAIN",
    "PATIENTS_PER_PROVIDER",
    "Diagnosis",
    "FixtureWorld",
    "PatientProfile",
    "fixture_id",
]

PATIENTS_PER_PROVIDER = 25
"""One clinician per this many patients: a typical outpatient caseload."""
FIXTURE_EMAIL_DOMAIN = "fixtures.example.org"
"""Every seeded account's email is at this reserved domain, which marks it as a
fixture account (no real person can own an address there)."""

_NAMESPACE = uuid.UUID("6f1d3c1e-7a52-4f0b-9d8e-2c5b1a9e4d70")


def fixture_id(seed: int, kind: str, key: object) -> str:
    """A record id that depends only on the seed, the kind and the record's key:
    ``patient_1f0c...``. Re-running with the same seed yields the same ids."""
    digest = uuid.uuid5(_NAMESPACE, f"{seed}:{kind}:{key}").hex[:24]
    return f"{kind}_{digest}"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A working diagnosis a synthetic patient is treated for."""

    name: str
    code: str
    focus: tuple[str, ...]
    plan_name: str


DIAGNOSES: tuple[tuple[Diagnosis, float], ...] = (
    (
        Diagnosis(
            "Major depressive disorder, single episode, moderate",
            "F32.1",
            ("Depression", "Behavioral activation"),
            "CBT for Depression",
        ),
        0.30,
    ),
    (
        Diagnosis(
            "Generalized anxiety disorder",
            "F41.1",
            ("Anxiety", "Worry management"),
            "CBT for Generalized Anxiety",
        ),
        0.25,
    ),
    (
        Diagnosis(
            "Major depressive disorder, recurrent, mild",
            "F33.0",
            ("Depression", "Relapse prevention"),
            "MBCT for Recurrent Depression",
        ),
        0.15,
    ),
    (
        Diagnosis(
            "Post-traumatic stress disorder, chronic",
            "F43.12",
            ("Trauma", "Sleep"),
            "Trauma-focused CBT",
        ),
        0.10,
    ),
    (
        Diagnosis(
            "Social anxiety disorder",
            "F40.10",
            ("Social anxiety", "Exposure"),
            "Graded Exposure for Social Anxiety",
        ),
        0.10,
    ),
    (
        Diagnosis(
            "Adjustment disorder with mixed anxiety and depressed mood",
            "F43.23",
            ("Stress", "Coping skills"),
            "Brief Supportive Therapy",
        ),
        0.10,
    ),
)


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """One synthetic patient's clinical course, drawn once from their own seeded
    random source so every unit agrees on it.

    ``treatment_start`` is ``None`` for a patient still waiting for therapy;
    ``baseline`` is their usual mood (1-10) before treatment and ``improvement``
    how many points it rises over the first months of treatment.
    """

    index: int
    patient_id: str
    provider_index: int
    provider_id: str
    diagnosis: Diagnosis
    treatment_start: date | None
    baseline: float
    improvement: float
    adherence: float
    volatility: float
    journals_per_week: float
    crisis_day: date | None

    @property
    def in_treatment(self) -> bool:
        """Whether therapy has started (an active relationship)."""
        return self.treatment_start is not None


@dataclass(frozen=True)
class FixtureWorld:
    """The scale and shared facts of one fixture set.

    Args:
        seed: the seed every random source derives from.
        patients: how many patients; providers, relationships and histories
            scale with it.
        as_of: the last day of history (histories end the day before).
        history_days: how many days of mood history each patient has at most.
        password_hash: the argon2id hash every fixture account carries (made
            once per run from ``FIXTURE_PASSWORD``).
        part, parts: this worker's share when ``parts`` workers seed at once:
            the patients (and providers) whose index modulo ``parts`` is
            ``part``. Every record is drawn from its own seeded source, so the
            records are the same however the work is split.
    """

    seed: int
    patients: int
    as_of: date
    history_days: int = 90
    password_hash: str = field(default="", repr=False)
    part: int = 0
    parts: int = 1
    profiles_cache: dict[int, PatientProfile] = field(
        default_factory=dict, repr=False, compare=False
    )
    fakers_cache: dict[str, Faker] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def providers(self) -> int:
        """How many clinicians: one per ``PATIENTS_PER_PROVIDER`` patients."""
        return max(1, math.ceil(self.patients / PATIENTS_PER_PROVIDER))

    @property
    def first_day(self) -> date:
        """The first day of history."""
        return self.as_of - timedelta(days=self.history_days)

    def patient_indices(self) -> range:
        """The patients this worker seeds (all of them with one worker)."""
        return range(self.part, self.patients, self.parts)

    def provider_indices(self) -> range:
        """The providers this worker seeds (all of them with one worker)."""
        return range(self.part, self.providers, self.parts)

    def faker(self, unit: str, key: object) -> Faker:
        """A Faker for one record of one unit, seeded from the fixture seed, the
        unit name and the record's key (one instance per unit, re-seeded)."""
        fake = self.fakers_cache.get(unit)
        if fake is None:
            fake = self.fakers_cache[unit] = Faker("en_US")
        fake.seed_instance(f"{self.seed}:{unit}:{key}")
        return fake

    def random(self, unit: str, key: object = "") -> random.Random:
        """A random source for one unit (and optionally one record within it)."""
        return random.Random(f"{self.seed}:{unit}:{key}")

    def id(self, kind: str, key: object) -> str:
        """The deterministic id of the ``kind`` record with this key."""
        return fixture_id(self.seed, kind, key)

    def provider_id(self, index: int) -> str:
        """The id of provider ``index``; it is also their account's id and the
        ``therapist_id`` on their patients' records."""
        return self.id("provider", index)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """An aware UTC instant on ``day``."""
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    def profile(self, index: int) -> PatientProfile:
        """Patient ``index``'s clinical course (computed once, then reused)."""
        cached = self.profiles_cache.get(index)
        if cached is None:
            cached = self._draw_profile(index)
            self.profiles_cache[index] = cached
        return cached

    def _draw_profile(self, index: int) -> PatientProfile:
        rng = self.random("profile", index)
        diagnoses = [diagnosis for diagnosis, _ in DIAGNOSES]
        weights = [weight for _, weight in DIAGNOSES]
        diagnosis = rng.choices(diagnoses, weights)[0]
        provider_index = index % self.providers
        waiting = rng.random() < 0.10
        start = None
        if not waiting:
            earliest = max(14, self.history_days - 7)
            start = self.as_of - timedelta(days=rng.randint(14, earliest + 60))
        crisis_day = None
        if start is not None and rng.random() < 0.05:
            crisis_day = self.as_of - timedelta(days=rng.randint(2, self.history_days))
        return PatientProfile(
            index=index,
            patient_id=self.id("patient", index),
            provider_index=provider_index,
            provider_id=self.provider_id(provider_index),
            diagnosis=diagnosis,
            treatment_start=start,
            baseline=rng.uniform(3.2, 6.2),
            improvement=rng.uniform(0.5, 2.5) if rng.random() < 0.8 else 0.0,
            adherence=rng.uniform(0.45, 0.95),
            volatility=rng.uniform(0.6, 1.5),
            journals_per_week=rng.choice((0.0, 0.0, 0.5, 1.0, 1.0, 2.0)),
            crisis_day=crisis_day,
        )
