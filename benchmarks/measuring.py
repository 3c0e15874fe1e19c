"""How the benchmarks measure: timing one call, alternating the two sides of a
comparison, and the Markdown table of medians and ratios.

The targets are ratios of medians measured in the same run, never absolute times:
the machines are shared and noisy.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table.

    Args:
        raw: seconds per timed call of the raw PyMongo side, ``None`` for a
            row without one.
        repository: seconds per timed call of the repository side.
        unit: ``"ms"`` or ``"us"``, how the cells show the seconds.
    """

    operation: str
    raw: list[float] | None
    repository: list[float]
    unit: str
    target: str
    verdict: str


def progress(message: str) -> None:
    """Report progress on stderr, keeping stdout for the table."""
    print(message, file=sys.stderr, flush=True)


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    """Seconds one awaited call takes, after a collection so GC stays out of it."""
    gc.collect()
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def compare(
    repeats: int,
    raw: Callable[[], Awaitable[Any]],
    repository: Callable[[], Awaitable[Any]],
    reset: Callable[[], Awaitable[Any]] | None = None,
) -> tuple[list[float], list[float]]:
    """Time both sides ``repeats`` times each, alternating which goes first.

    ``reset`` runs before every timed call, outside the clock (emptying the
    collection before a write, say), so both sides always do identical work.
    """
    raw_times: list[float] = []
    repository_times: list[float] = []
    for repeat in range(repeats):
        order = [(raw, raw_times), (repository, repository_times)]
        if repeat % 2:
            order.reverse()
        for work, times in order:
            if reset is not None:
                await reset()
            times.append(await timed(work))
    return raw_times, repository_times


def per_call(times: Sequence[float], calls: int) -> list[float]:
    """Seconds per call, from the seconds of timed runs of ``calls`` calls each."""
    return [elapsed / calls for elapsed in times]


def quartiles(times: Sequence[float]) -> tuple[float, float, float]:
    """p25, median and p75 of ``times``."""
    low, middle, high = statistics.quantiles(times, n=4, method="inclusive")
    return low, middle, high


def ratio_row(
    operation: str,
    raw: list[float],
    repository: list[float],
    *,
    unit: str,
    target: float | None,
) -> Row:
    """A table row comparing the two sides by the ratio of their medians."""
    ratio = statistics.median(repository) / statistics.median(raw)
    if target is None:
        return Row(operation, raw, repository, unit, "-", "informative")
    verdict = "met" if ratio <= target else "MISSED"
    return Row(operation, raw, repository, unit, f"<= {target:.1f}x", verdict)


def format_table(rows: Sequence[Row]) -> str:
    """The results as a Markdown table: median [p25-p75] per side."""
    scale = {"ms": 1e3, "us": 1e6}

    def cell(times: list[float] | None, unit: str) -> str:
        if times is None:
            return "-"
        if len(times) == 1:
            return f"{times[0] * scale[unit]:.2f} {unit} (best)"
        low, middle, high = (value * scale[unit] for value in quartiles(times))
        return f"{middle:.2f} {unit} [{low:.2f}-{high:.2f}]"

    lines = [
        "| operation | raw median [p25-p75] | repository median [p25-p75] "
        "| ratio | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        if row.raw is None:
            ratio = "-"
        else:
            ratio = (
                f"{statistics.median(row.repository) / statistics.median(row.raw):.2f}x"
            )
        lines.append(
            f"| {row.operation} | {cell(row.raw, row.unit)} "
            f"| {cell(row.repository, row.unit)} | {ratio} | {row.target} "
            f"| {row.verdict} |"
        )
    return "\n".join(lines)
