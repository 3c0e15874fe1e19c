"""Keeping documents out of the driver's own logs.

At DEBUG, PyMongo's ``pymongo.command`` logger writes every command and reply,
documents included (truncated, not removed). A service that turns DEBUG on to
chase a bug would then log patients' notes. :func:`redact_driver_command_logs`
puts a filter on that logger that keeps what helps an operator (command name,
database, server, ids, duration, error code) and drops every document body.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

__all__ = ["redact_driver_command_logs"]

_SAFE_KEYS = (
    "message",
    "commandName",
    "databaseName",
    "requestId",
    "operationId",
    "driverConnectionId",
    "serverConnectionId",
    "serverHost",
    "serverPort",
    "durationMS",
)


class _CommandBodyRedactor(logging.Filter):
    """Rewrites each driver command log record to its safe fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields: Any = getattr(record.msg, "_kwargs", None)
        if not isinstance(fields, dict):
            record.msg = "driver command event (details withheld)"
            record.args = None
            return True
        kept = [f"{key}={_plain(fields[key])}" for key in _SAFE_KEYS if key in fields]
        failure = fields.get("failure")
        if isinstance(failure, dict):
            kept.append(f"code={failure.get('code')} {failure.get('codeName', '')}")
        record.msg = "; ".join(kept)
        record.args = None
        return True


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def redact_driver_command_logs() -> None:
    """Install the redaction filter on ``pymongo.command`` (once per process)."""
    logger = logging.getLogger("pymongo.command")
    if not any(isinstance(item, _CommandBodyRedactor) for item in logger.filters):
        logger.addFilter(_CommandBodyRedactor())
