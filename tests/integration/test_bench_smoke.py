"""The issue-8 benchmark script still runs: ``bench_scale.py --quick`` against
the test server prints every table (so the script cannot rot unnoticed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_scale.py"


def test_the_quick_benchmark_prints_every_row_and_the_size_ratio(
    mongodb_uri: str,
) -> None:
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--uri", mongodb_uri],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    lines = finished.stdout.splitlines()
    names = [line.split("|")[1].strip() for line in lines if line.startswith("| ")]
    for operation in (
        "create_many",
        "create, per call",
        "list_all, 1,000 entries",
        "get_by_id",
        "list_all, filters + sort + count",
        "analyze_mood_trends",
        "audit append",
    ):
        for pipeline in ("pipeline off", "pipeline on"):
            assert any(
                name.startswith(operation) and name.endswith(pipeline) for name in names
            ), (operation, pipeline, names)
    for query in ("a year of mood trend", "one patient's sessions", "one provider's"):
        # Both sides' ratio of the large size to the small one.
        assert any(
            line.startswith(f"| {query}") and line.count("x |") == 2 for line in lines
        ), query
    assert "documents/s" in finished.stdout
