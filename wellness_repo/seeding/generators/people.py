"""Providers and accounts: the clinicians of the network and every patient's and
clinician's sign-in account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from wellness_repo.models.administration import UserAccount
from wellness_repo.models.care import NetworkStatus, Provider, ProviderType
from wellness_repo.security.context import UserRole
from wellness_repo.seeding.world import FIXTURE_EMAIL_DOMAIN, FixtureWorld

__all__ = [
    "FIXTURE_PASSWORD",
    "clinician_accounts",
    "patient_accounts",
    "providers",
]

FIXTURE_PASSWORD = "fixture-account-password-not-for-production"
"""The password of every seeded account. It is hashed once per run (argon2id is
deliberately slow) and that one hash is stored on every fixture account."""

# Provider types and their weights in an outpatient behavioural-health network,
# with the account role each signs in with and their usual specialties.
_CLINICIANS: tuple[tuple[ProviderType, UserRole, tuple[str, ...], int], ...] = (
    (
        ProviderType.THERAPIST,
        UserRole.THERAPIST,
        ("Cognitive Behavioral Therapy", "Anxiety Disorders", "Depression"),
        5,
    ),
    (
        ProviderType.PSYCHOLOGIST,
        UserRole.THERAPIST,
        ("Clinical Psychology", "Trauma and PTSD", "Psychological Assessment"),
        2,
    ),
    (
        ProviderType.LCSW,
        UserRole.THERAPIST,
        ("Clinical Social Work", "Family Systems", "Adjustment Disorders"),
        2,
    ),
    (
        ProviderType.PSYCHIATRIST,
        UserRole.PSYCHIATRIST,
        ("Adult Psychiatry", "Mood Disorders", "Psychopharmacology"),
        1,
    ),
)
_STATES = ("NY", "NJ", "CA", "TX", "IL", "MA", "WA", "PA", "OH", "CO")
_LICENSE_PREFIX = {
    ProviderType.THERAPIST: "LMHC",
    ProviderType.PSYCHOLOGIST: "PSY",
    ProviderType.LCSW: "LCSW",
    ProviderType.PSYCHIATRIST: "MD",
}


def _clinician_kind(
    world: FixtureWorld, index: int
) -> tuple[ProviderType, UserRole, tuple[str, ...]]:
    rng = world.random("provider-kind", index)
    weights = [weight for *_, weight in _CLINICIANS]
    kind, role, specialties, _ = rng.choices(_CLINICIANS, weights)[0]
    return kind, role, specialties


def providers(world: FixtureWorld) -> Iterator[list[Provider]]:
    """The provider network: licensed clinicians, most accepting new patients."""
    for index in world.provider_indices():
        fake = world.faker("providers", index)
        rng = world.random("providers", index)
        kind, _, specialties = _clinician_kind(world, index)
        first, last = fake.first_name(), fake.last_name()
        yield [
            Provider(
                id=world.provider_id(index),
                first_name=f"Dr. {first}"
                if kind is ProviderType.PSYCHIATRIST
                else first,
                last_name=last,
                provider_type=kind,
                specialties=list(rng.sample(specialties, 2)),
                license_number=f"{_LICENSE_PREFIX[kind]}{world.seed % 1000:03d}"
                f"{index:06d}",
                license_state=rng.choice(_STATES),
                license_expires_on=world.as_of + timedelta(days=rng.randint(90, 900)),
                accepting_new_patients=rng.random() < 0.7,
                network_status=NetworkStatus.IN_NETWORK
                if rng.random() < 0.85
                else NetworkStatus.OUT_OF_NETWORK,
                created_at=world.at(world.first_day - timedelta(days=365), 9),
            )
        ]


def clinician_accounts(world: FixtureWorld) -> Iterator[list[UserAccount]]:
    """Each provider's sign-in account; its id is the provider's id, so the
    therapist ids on patients' records are the clinicians' actor ids too."""
    for index in world.provider_indices():
        fake = world.faker("providers", index)
        _, role, _ = _clinician_kind(world, index)
        username = _username(fake.first_name(), fake.last_name(), world, "c", index)
        yield [
            UserAccount(
                id=world.provider_id(index),
                username=username,
                email=f"{username}@{FIXTURE_EMAIL_DOMAIN}",
                role=role,
                provider_id=world.provider_id(index),
                password_hash=world.password_hash,
                password_changed_at=world.at(world.first_day, 8),
                created_at=world.at(world.first_day - timedelta(days=365), 9),
            )
        ]


def patient_accounts(world: FixtureWorld) -> Iterator[list[UserAccount]]:
    """Every patient's account; its id is the patient id on their records."""
    for index in world.patient_indices():
        fake = world.faker("patients", index)
        profile = world.profile(index)
        username = _username(fake.first_name(), fake.last_name(), world, "p", index)
        joined = (profile.treatment_start or world.as_of) - timedelta(days=7)
        yield [
            UserAccount(
                id=profile.patient_id,
                username=username,
                email=f"{username}@{FIXTURE_EMAIL_DOMAIN}",
                role=UserRole.PATIENT,
                password_hash=world.password_hash,
                password_changed_at=world.at(joined, 10),
                created_at=world.at(joined, 10),
            )
        ]


def _username(first: str, last: str, world: FixtureWorld, kind: str, index: int) -> str:
    """``ana.ruiz.s42p17``: the seed and index keep names unique within and across
    fixture sets."""
    given = re.sub(r"[^a-z]", "", first.lower()) or "pat"
    family = re.sub(r"[^a-z]", "", last.lower()) or "doe"
    return f"{given[:20]}.{family[:20]}.s{world.seed}{kind}{index}"
