"""Settings for a process that uses wellness-repo, read from ``WELLNESS_*`` variables
and ``.env`` files."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PRIMARY_READ_COLLECTIONS", "Settings"]

# Collections whose reads decide safety or access: a stale read from a secondary
# could miss an open crisis, a revoked relationship or session, a lockout, a link
# of the audit chain, a just-added medication (interaction check) or a dose just
# logged (a second dose). Their reads go to the primary whatever
# ``read_preference`` says (``Settings.read_preference_for``).
PRIMARY_READ_COLLECTIONS = frozenset(
    {
        "audit_logs",
        "care_teams",
        "clinical_signals",
        "crisis_detections",
        "dose_logs",
        "medications",
        "notification_outbox",
        "safety_plans",
        "security_events",
        "therapeutic_relationships",
        "user_accounts",
        "user_sessions",
    }
)


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
    # Cluster consistency (issue 7): read concern, write-concern timeout, staleness.
    read_concern: Literal["local", "majority"] = Field(
        default="local",
        description="read concern level: majority never returns a write that a "
        "failover could roll back; needs write_concern majority",
    )
    write_concern_timeout_ms: int | None = Field(
        default=None,
        ge=1,
        le=600_000,
        description="wTimeoutMS: how long a write waits for its write concern "
        "before failing; unset waits indefinitely; a timed-out write may still "
        "have been applied",
    )
    max_staleness_seconds: int | None = Field(
        default=None,
        ge=90,
        le=86_400,
        description="maxStalenessSeconds: skip secondaries lagging more than this; "
        "only with a read_preference other than primary",
    )

    @model_validator(mode="after")
    def _consistent_cluster_options(self) -> Self:
        if self.read_concern == "majority" and self.write_concern != "majority":
            raise ValueError(
                "read_concern 'majority' with write_concern '1' would hide a "
                "process's own acknowledged writes from its next read; use "
                "write_concern 'majority' or read_concern 'local'"
            )
        if self.max_staleness_seconds is not None and self.read_preference == (
            "primary"
        ):
            raise ValueError(
                "max_staleness_seconds applies only to reads from secondaries; "
                "set read_preference to a non-primary mode or leave it unset"
            )
        return self

    def read_preference_for(self, collection: str) -> str:
        """The read preference for ``collection``: primary for the safety- and
        access-critical collections (``PRIMARY_READ_COLLECTIONS``), else the
        configured ``read_preference``."""
        if collection in PRIMARY_READ_COLLECTIONS:
            return "primary"
        return self.read_preference

    apply_indexes_on_connect: bool | None = Field(
        default=None,
        description="create missing indexes at connect; default: only when embedded",
    )
    # Login sessions (issue 4): the longest a session lives, and how long unused.
    session_lifetime_minutes: int = Field(
        default=720,
        ge=1,
        le=43_200,
        description="absolute lifetime of a login session; callers may ask for less",
    )
    session_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=1_440,
        description="a session unused this long ends (automatic logoff)",
    )
    # Accounts (issue 4): lockout after failed sign-ins, password hashing cost, MFA.
    lockout_threshold: int = Field(
        default=5, ge=1, le=100, description="failed sign-ins that lock an account"
    )
    lockout_minutes: int = Field(
        default=15, ge=1, le=1_440, description="how long a lockout lasts"
    )
    password_time_cost: int = Field(
        default=2, ge=2, le=20, description="argon2id passes (OWASP minimum 2)"
    )
    password_memory_kib: int = Field(
        default=19_456,
        ge=19_456,
        le=4_194_304,
        description="argon2id memory per hash in KiB (OWASP minimum 19456)",
    )
    password_parallelism: int = Field(
        default=1, ge=1, le=16, description="argon2id lanes"
    )
    failed_sign_in_floor_ms: int = Field(
        default=250,
        ge=0,
        le=5_000,
        description="a refused sign-in takes at least this long, so an unknown "
        "email cannot be told from a wrong password by timing",
    )
    totp_issuer: str = Field(
        default="Wellness",
        min_length=1,
        max_length=64,
        description="the name authenticator apps show next to the account",
    )
    # Audit trail (issue 4): the chain's HMAC key, and how long entries are kept.
    audit_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of the audit chain: hex or base64, at least 32 bytes; "
        "checked when the audit chain starts",
    )
    require_keys: bool = Field(
        default=False,
        description="refuse to start without configured keys (no development keys)",
    )
    audit_retention_years: int = Field(
        default=6,
        ge=6,
        le=100,
        description="years audit entries are kept (HIPAA: at least six)",
    )
    # Field-level encryption (issue 4): the local master key and the key vault.
    local_master_key: SecretStr | None = Field(
        default=None,
        description="base64 of 96 random bytes wrapping the data keys; unset means "
        "a development key (refused when require_keys is set)",
    )
    key_vault_namespace: str = Field(
        default="encryption.__keyVault",
        pattern=r"^[^.\s$/\\]+\.[^\s$]+$",
        description="database.collection of the data keys on a real server",
    )
    # Access control (issue 4): break-glass limit, care-directory cache lifetime.
    break_glass_max_minutes: int = Field(
        default=60,
        ge=1,
        le=1_440,
        description="the longest an emergency (break-glass) grant may last",
    )
    access_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        le=600,
        description="how long a clinician's patient list is reused before it is "
        "looked up again; bounds how late another process's revocation is seen",
    )
    # Crisis response (issue 5): duplicate window, alert retries, plan reviews.
    crisis_duplicate_window_minutes: int = Field(
        default=60,
        ge=1,
        le=1_440,
        description="repeats of a crisis episode this soon after it was detected "
        "update the open detection instead of raising another",
    )
    crisis_alert_retry_seconds: float = Field(
        default=15.0,
        ge=1,
        le=3_600,
        description="wait before the first retry of a failed crisis alert; "
        "doubled for each further failure",
    )
    crisis_alert_max_retry_seconds: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description="the longest wait between retries of a failed crisis alert",
    )
    safety_plan_review_days: int = Field(
        default=90,
        ge=1,
        le=365,
        description="a new safety plan version is due for review this many days on",
    )
    # Appointments (issue 6): booking grid, late cancellation, reminder retries.
    appointment_slot_minutes: int = Field(
        default=5,
        ge=1,
        le=60,
        description="the booking grid: appointment starts, lengths and buffers are "
        "whole multiples of it, and one reservation guards each slot",
    )
    appointment_late_cancel_hours: float = Field(
        default=24.0,
        ge=0,
        le=336,
        description="a cancellation with less notice than this is recorded as late",
    )
    appointment_reminder_retry_seconds: float = Field(
        default=60.0,
        ge=1,
        le=3_600,
        description="wait before the first retry of a failed appointment reminder; "
        "doubled for each further failure",
    )
    appointment_reminder_max_retry_seconds: float = Field(
        default=1_800.0,
        ge=1,
        le=86_400,
        description="the longest wait between retries of a failed reminder",
    )
    appointment_reminder_max_attempts: int = Field(
        default=5,
        ge=1,
        le=50,
        description="tries before a reminder is marked failed and given up",
    )
