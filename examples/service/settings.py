"""The service's settings: its own ``WELLNESS_SERVICE_*`` variables, and the
package's ``WELLNESS_*`` settings beside them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from wellness_repo import Settings

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """How the example service runs.

    Every field can be set with ``WELLNESS_SERVICE_`` plus its name in capitals,
    e.g. ``WELLNESS_SERVICE_SYSTEM_NAME``. The connection, keys and limits are
    the package's own settings (``WELLNESS_MONGODB_URI``, ``WELLNESS_DATABASE``,
    ``WELLNESS_MAX_PAGE_SIZE`` ...), read into :attr:`wellness`.
    """

    model_config = SettingsConfigDict(
        env_prefix="WELLNESS_SERVICE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    title: str = Field(default="Wellness example service", min_length=1)
    system_name: str = Field(
        default="example-service",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9-]+$",
        description="the name of the system context that signs people in and "
        "checks their tokens; the audit trail records it",
    )
    docs: bool = Field(
        default=False,
        description="serve the OpenAPI page at /docs (off in production)",
    )
    wellness: Settings = Field(
        default_factory=Settings,
        description="the package's settings, from the WELLNESS_* variables",
    )
