"""Checking that the queries a repository sends are served by an index: capture
the exact commands with a driver listener, then ask the server to explain them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

from tests.conftest import SYSTEM
from tests.support.models import TEST_MODELS
from wellness_repo import DatabaseManager, connect

EXPLAINABLE = ("find", "aggregate", "count", "findAndModify", "update", "delete")


@dataclass
class CommandRecorder(monitoring.CommandListener):
    """Keeps every explainable command the client sends, as sent."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    recording: bool = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording and event.command_name in EXPLAINABLE:
            command = {
                key: value
                for key, value in event.command.items()
                if key not in ("lsid", "$db", "$clusterTime", "txnNumber")
            }
            self.commands.append(command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@asynccontextmanager
async def recorded_database(
    uri: str,
) -> AsyncIterator[tuple[DatabaseManager, CommandRecorder]]:
    """A fresh real-server database whose client records the commands it sends."""
    recorder = CommandRecorder()
    manager = await connect(
        uri,
        f"explain_{uuid.uuid4().hex[:12]}",
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


def plan_stages(plan: Any) -> Iterator[dict[str, Any]]:
    """Every stage of an explain plan tree."""
    if isinstance(plan, dict):
        if "stage" in plan:
            yield plan
        for value in plan.values():
            yield from plan_stages(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from plan_stages(item)


async def unindexed_stages(
    manager: DatabaseManager, command: dict[str, Any]
) -> list[str]:
    """The stages of the winning plan that make a query cost grow with the data.

    A collection scan always does. A blocking sort does unless the index scan
    under it is pinned to one value of its leading key (one patient's records,
    say): then the sort is bounded by what one patient has, not by the data set.
    """
    explained = await manager.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    planner = explained.get("queryPlanner") or _first_cursor_stage(explained)
    found = []
    for stage in plan_stages(planner["winningPlan"]):
        if stage["stage"] == "COLLSCAN":
            found.append("COLLSCAN")
        elif stage["stage"] == "SORT" and not _pinned_index_scan(stage):
            found.append("SORT")
    return found


def _pinned_index_scan(sort_stage: dict[str, Any]) -> bool:
    for stage in plan_stages(sort_stage.get("inputStage", {})):
        if stage["stage"] != "IXSCAN":
            continue
        leading = next(iter(stage["keyPattern"]))
        bounds = stage.get("indexBounds", {}).get(leading, [])
        if len(bounds) == 1 and _is_point(bounds[0]):
            return True
    return False


def _is_point(interval: str) -> bool:
    # "[v, v]" with v itself free to hold ", " (BinData(6, ...) of an encrypted
    # lookup), so the two halves are compared rather than split at a comma.
    if not (interval.startswith("[") and interval.endswith("]")):
        return False
    inner = interval[1:-1]
    half, odd = divmod(len(inner) - 2, 2)
    return not odd and inner == f"{inner[:half]}, {inner[:half]}"


def _first_cursor_stage(explained: dict[str, Any]) -> dict[str, Any]:
    # An aggregation's explain nests the query planner under its $cursor stage.
    for stage in explained.get("stages", []):
        if "$cursor" in stage:
            planner: dict[str, Any] = stage["$cursor"]["queryPlanner"]
            return planner
    raise AssertionError("no query planner in the explain output")
