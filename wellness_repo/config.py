"""Settings for a process that uses wellness-repo, read from ``WELLNESS_*`` variables
and ``.env`` files."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Connection and behaviour settings.

    Every field can be set with an environment variable named ``WELLNESS_`` plus the
    field name in capitals, e.g. ``WELLNESS_MONGODB_URI``. Leaving ``mongodb_uri``
    unset selects the embedded in-process backend.
    """

    model_config = SettingsConfigDict(
        env_prefix="WELLNESS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    mongodb_uri: SecretStr | None = Field(
        default=None,
        description="mongodb:// or mongodb+srv:// URI; unset means embedded backend",
    )
    database: str = Field(default="wellness", min_length=1, max_length=63)
    min_pool_size: int = Field(default=0, ge=0, le=1000)
    max_pool_size: int = Field(default=100, ge=1, le=1000)
    connect_timeout_ms: int = Field(default=5_000, ge=100, le=120_000)
    server_selection_timeout_ms: int = Field(default=10_000, ge=100, le=120_000)
    socket_timeout_ms: int | None = Field(default=None, ge=100)
    max_page_size: int = Field(default=500, ge=1, le=100_000)
    regex_max_length: int = Field(default=256, ge=1, le=10_000)
    query_timeout_ms: int = Field(default=30_000, ge=100, le=600_000)
    cache_ttl_seconds: float = Field(default=0.0, ge=0)
    read_preference: Literal[
        "primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"
    ] = "primary"
    write_concern: Literal["majority", "1"] = "majority"
    apply_indexes_on_connect: bool | None = Field(
        default=None,
        description="create missing indexes at connect; default: only when embedded",
    )
