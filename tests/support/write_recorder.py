"""Which session and transaction each write ran in, seen from the driver.

Transaction tests on the real server use it to show that a clinical write and
the record it must never be without (a signal, an alert) went out in one
transaction and were committed together.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

from tests.conftest import SYSTEM
from tests.support.models import TEST_MODELS
from wellness_repo import DatabaseManager, Settings, connect

__all__ = ["WriteRecorder", "recorded_writes"]


_KEY_VAULT_DATABASE = Settings().key_vault_namespace.split(".")[0]


@dataclass
class WriteRecorder(monitoring.CommandListener):
    """Keeps, for each watched write command and every commit, the target
    collection, the session and the transaction number.

    Audit-trail appends are left out: they run outside every transaction on
    purpose, so that an aborted attempt is still on record.
    """

    watched: tuple[str, ...] = ("insert",)
    writes: list[tuple[str, Any, Any]] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name == "commitTransaction":
            target: Any = name
        elif name in self.watched:
            target = event.command.get(name)
        else:
            return
        if target == "audit_logs" or event.database_name == _KEY_VAULT_DATABASE:
            # A patient's first encrypted value creates their data key, in the
            # server-wide key vault: a write of whichever test came first.
            return
        lsid = event.command.get("lsid", {}).get("id")
        self.writes.append((str(target), lsid, event.command.get("txnNumber")))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@asynccontextmanager
async def recorded_writes(
    uri: str, prefix: str, watched: tuple[str, ...] = ("insert",)
) -> AsyncIterator[tuple[DatabaseManager, WriteRecorder]]:
    """A fresh real-server database whose writes ``recorder`` sees; dropped after."""
    recorder = WriteRecorder(watched)
    manager = await connect(
        uri,
        f"{prefix}_{uuid.uuid4().hex[:12]}",
        context=SYSTEM,
        document_models=TEST_MODELS,
        apply_indexes=True,
        driver_options={"event_listeners": [recorder]},
    )
    try:
        yield manager, recorder
    finally:
        await manager.client.drop_database(manager.database_name)
        await manager.close()
