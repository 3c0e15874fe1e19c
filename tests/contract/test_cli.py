"""The ``wellness-repo`` command: demo, health, indexes and migrate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from wellness_repo.cli import main


@pytest.fixture
def scratch_database(mongodb_uri: str) -> Iterator[str]:
    name = f"cli_{uuid.uuid4().hex[:12]}"
    yield name
    with MongoClient(mongodb_uri) as client:
        client.drop_database(name)


def test_demo_walks_the_pathway_on_the_embedded_backend(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["demo"])

    printed = capsys.readouterr().out
    assert code == 0
    assert "backend embedded" in printed
    assert "14 check-ins logged" in printed
    assert "suicidal_ideation" in printed
    assert "escalated" in printed
    assert "refused: the provider is already booked" in printed
    assert "Sertraline 50mg" in printed
    assert "declining" in printed
    assert "audit chain verified: True" in printed
    assert "private note" not in printed
    assert "better off without me" not in printed
    assert "jordan.lee@mail.example" not in printed


def test_demo_runs_against_a_real_server_and_leaves_nothing_behind(
    mongodb_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with MongoClient(mongodb_uri) as client:
        before = set(client.list_database_names())

    code = main(["demo", "--uri", mongodb_uri])

    with MongoClient(mongodb_uri) as client:
        after = set(client.list_database_names())
    assert code == 0
    assert "backend mongodb" in capsys.readouterr().out
    assert not {name for name in after - before if name.startswith("wellness_demo")}


def test_health_reports_the_server(
    mongodb_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["health", "--uri", mongodb_uri])

    assert code == 0
    assert capsys.readouterr().out.startswith("ok: mongodb 6.")


def test_index_check_fails_before_apply_and_passes_after(
    mongodb_uri: str, scratch_database: str
) -> None:
    where = ["--uri", mongodb_uri, "--database", scratch_database]

    before = main(["indexes", "check", *where])
    applied = main(["indexes", "apply", *where])
    after = main(["indexes", "check", *where])

    assert (before, applied, after) == (1, 0, 0)


def test_migrate_reports_each_kind_of_record(
    mongodb_uri: str, scratch_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["migrate", "--uri", mongodb_uri, "--database", scratch_database])

    assert code == 0
    assert "MoodEntry: 0 record(s) upgraded" in capsys.readouterr().out


def test_commands_needing_a_server_refuse_without_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WELLNESS_MONGODB_URI", raising=False)

    code = main(["indexes", "apply", "--uri", ""])

    assert code == 2
    assert "--uri" in capsys.readouterr().err
