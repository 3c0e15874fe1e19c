"""The application: one database connection per process, opened and closed by
the lifespan, and the routers that use it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from wellness_repo import connect

from .errors import install_error_handlers
from .routes import appointments, health, journals, mood, sessions
from .settings import ServiceSettings
from .state import ServiceState

__all__ = ["ROUTERS", "app_from_environment", "create_app"]

_log = logging.getLogger("wellness_service.app")

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    sessions.router,
    mood.router,
    journals.router,
    appointments.router,
)
"""Every router the service serves; a new kind of record adds its router here."""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service, configured by ``settings`` (default: the environment).

    The database is opened when the application starts (one ``DatabaseManager``
    for the process, with no default access context: every request brings its
    own) and closed when it stops.
    """
    chosen = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await connect(settings=chosen.wellness)
        app.state.service = ServiceState.open(db, chosen.system_name)
        _log.info("service started on the %s backend", db.backend)
        try:
            yield
        finally:
            await db.close()
            _log.info("service stopped")

    app = FastAPI(
        title=chosen.title,
        lifespan=lifespan,
        docs_url="/docs" if chosen.docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if chosen.docs else None,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """The service as configured by ``WELLNESS_SERVICE_*`` and ``WELLNESS_*``
    variables; the factory ``uvicorn --factory`` calls."""
    return create_app(ServiceSettings())
