"""The example service on each backend, driven in-process with httpx.

Each test gets the application with its lifespan running (one
``DatabaseManager``, the role policy that ``connect`` installs, as in
production) and a client that talks to it through ``httpx.ASGITransport``. The
embedded backend gets a new in-memory database; the real server reuses the
session's shared test database (``tests/conftest.py``), emptied afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time

import httpx
import pytest
from fastapi import FastAPI

from examples.service import ServiceSettings, create_app
from examples.service.state import ServiceState
from tests.conftest import empty_and_close
from tests.support.appointment_data import WEEKDAYS
from tests.support.service_data import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    OTHER_PATIENT_EMAIL,
    OTHER_PATIENT_PASSWORD,
    OTHER_PATIENT_USERNAME,
    SERVICE_PATIENT_EMAIL,
    SERVICE_PATIENT_PASSWORD,
    SERVICE_PATIENT_USERNAME,
    THERAPIST_EMAIL,
    THERAPIST_PASSWORD,
    THERAPIST_PROVIDER_ID,
    THERAPIST_USERNAME,
    therapist_provider,
)
from wellness_repo import (
    Provider,
    ProviderCalendar,
    Settings,
    TherapeuticRelationship,
    UserRole,
    WorkingHours,
    acting_as,
    create_provider_calendar_repository,
    create_provider_repository,
    create_therapeutic_relationship_repository,
)


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """An account that signed in through the service, and its request headers."""

    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>``."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True, slots=True)
class RunningService:
    """The application with its lifespan running, and a client for it."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def state(self) -> ServiceState:
        """What the lifespan opened: the connection and repositories."""
        state: ServiceState = self.app.state.service
        return state

    async def open_account(
        self, username: str, email: str, password: str, role: UserRole
    ) -> None:
        """Open an account the way the clinic's sign-up step does."""
        with acting_as(self.state.system):
            await self.state.accounts.create_user(
                username, email, password=password, role=role
            )

    async def sign_in(self, email: str, password: str) -> SignedInUser:
        """Sign in through ``POST /sessions``."""
        answer = await self.client.post(
            "/sessions", json={"email": email, "password": password}
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return SignedInUser(body["user_id"], body["token"])


def service_settings(backend: str, request: pytest.FixtureRequest) -> Settings:
    """The package settings for one test's service: its own database (a new one
    embedded, the shared one on the real server) with the key vault inside it."""
    if backend == "embedded":
        name = f"test_{uuid.uuid4().hex[:16]}"
        return Settings(database=name, key_vault_namespace=f"{name}.__keyVault")
    name = request.getfixturevalue("shared_database")
    return Settings(
        mongodb_uri=request.getfixturevalue("mongodb_uri"),
        database=name,
        key_vault_namespace=f"{name}.__keyVault",
        apply_indexes_on_connect=False,
    )


@pytest.fixture
async def service(
    backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[RunningService]:
    """The example service on the parametrized backend, started and stopped
    through its lifespan around the test."""
    settings = service_settings(backend, request)
    app = create_app(ServiceSettings(wellness=settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://clinic.test"
        ) as client:
            running = RunningService(app, client)
            try:
                yield running
            finally:
                if backend == "mongodb":
                    # Emptied through the service's own connection (reopened
                    # if the test closed it); the lifespan's close is then a
                    # no-op.
                    uri = request.getfixturevalue("mongodb_uri")
                    await empty_and_close(running.state.db, uri)


@pytest.fixture
async def patient(service: RunningService) -> SignedInUser:
    """A patient who has signed in through the service."""
    await service.open_account(
        SERVICE_PATIENT_USERNAME,
        SERVICE_PATIENT_EMAIL,
        SERVICE_PATIENT_PASSWORD,
        UserRole.PATIENT,
    )
    return await service.sign_in(SERVICE_PATIENT_EMAIL, SERVICE_PATIENT_PASSWORD)


@pytest.fixture
async def other_patient(service: RunningService) -> SignedInUser:
    """Another patient of the clinic, signed in."""
    await service.open_account(
        OTHER_PATIENT_USERNAME,
        OTHER_PATIENT_EMAIL,
        OTHER_PATIENT_PASSWORD,
        UserRole.PATIENT,
    )
    return await service.sign_in(OTHER_PATIENT_EMAIL, OTHER_PATIENT_PASSWORD)


@pytest.fixture
async def admin(service: RunningService) -> SignedInUser:
    """The clinic's administrator, signed in: manages accounts, never reads
    patients' diaries."""
    await service.open_account(
        ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD, UserRole.ADMIN
    )
    return await service.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
async def therapist(service: RunningService, patient: SignedInUser) -> SignedInUser:
    """The patient's CBT therapist: in the provider directory, with an account,
    a weekday calendar in New York, and the patient in their care; signed in."""
    db = service.state.db
    with acting_as(service.state.system):
        await create_provider_repository(db).create(Provider(**therapist_provider()))
        await service.state.accounts.create_user(
            THERAPIST_USERNAME,
            THERAPIST_EMAIL,
            password=THERAPIST_PASSWORD,
            role=UserRole.THERAPIST,
            provider_id=THERAPIST_PROVIDER_ID,
        )
        await create_provider_calendar_repository(db).create(
            ProviderCalendar(
                provider_id=THERAPIST_PROVIDER_ID,
                time_zone="America/New_York",
                weekly_hours=[
                    WorkingHours(weekday=day, start=time(9), end=time(17))
                    for day in WEEKDAYS
                ],
                buffer_minutes=10,
            )
        )
        relationships = create_therapeutic_relationship_repository(db)
        relationship = await relationships.create(
            TherapeuticRelationship(
                patient_id=patient.user_id,
                therapist_id=THERAPIST_PROVIDER_ID,
                therapy_modality="cbt",
            )
        )
        await relationships.activate(relationship.relationship_id)
    return await service.sign_in(THERAPIST_EMAIL, THERAPIST_PASSWORD)
