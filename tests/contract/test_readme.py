"""README.md's Python snippets run as written, on both backends."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from pymongo import MongoClient

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_snippets() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_snippet_runs(
    number: int, backend: str, mongodb_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"readme_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("WELLNESS_DATABASE", database)
    if backend == "embedded":
        monkeypatch.delenv("WELLNESS_MONGODB_URI", raising=False)
    else:
        monkeypatch.setenv("WELLNESS_MONGODB_URI", mongodb_uri)
    code = compile(BLOCKS[number], f"README.md python block {number}", "exec")

    try:
        exec(code, {"__name__": f"readme_block_{number}"})
    finally:
        if backend == "mongodb":
            with MongoClient(mongodb_uri) as client:
                client.drop_database(database)
