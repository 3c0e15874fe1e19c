"""The synchronous facade: the seed's blocking style (``repo.create(entry)``,
``repo.list_all(QueryOptions(...))``) over the async repositories, with the
caller's access context carried into the facade's own event-loop thread."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    BackendKind,
    BaseRepository,
    MoodEntry,
    MoodEntryRepository,
    NotFoundError,
    QueryOptions,
    SyncDatabaseManager,
    UserRole,
    ValidationError,
    acting_as,
    connect_sync,
    create_mood_entry_repository,
)
from wellness_repo.security.policy import PermitAllPolicy

THERAPIST = AccessContext(actor_id="therapist_456", role=UserRole.THERAPIST)


@pytest.fixture
def sync_db(backend: str, mongodb_uri: str) -> Iterator[SyncDatabaseManager]:
    """A blocking connection opened the way a service opens it: no default
    context, so every call needs the caller's own. The role policy is not the
    subject here (a therapist writes mood entries), so it permits everything."""
    manager = connect_sync(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        policy=PermitAllPolicy(),
    )
    try:
        yield manager
    finally:
        name = manager.manager.database_name
        manager.run(lambda: manager.manager.client.drop_database(name))
        manager.close()


@pytest.fixture
def repo(sync_db: SyncDatabaseManager) -> BaseRepository[MoodEntry]:
    return create_mood_entry_repository(sync_db)


def mood_entry(**changes: Any) -> MoodEntry:
    """A mood check-in as the seed's example logs it."""
    values: dict[str, Any] = {
        "user_id": "patient_123",
        "mood_rating": 7,
        "tags": ["good sleep", "exercise"],
        "notes": "Feeling more balanced today",
    }
    values.update(changes)
    return MoodEntry(**values)


def loop_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "wellness-repo-loop")


def test_factory_gives_the_blocking_facade_over_the_async_repository(
    sync_db: SyncDatabaseManager,
) -> None:
    repo = create_mood_entry_repository(sync_db)

    assert isinstance(repo, BaseRepository)
    assert isinstance(repo.aio, MoodEntryRepository)


def test_create_then_get_round_trips_an_entry(
    repo: BaseRepository[MoodEntry],
) -> None:
    with acting_as(THERAPIST):
        mood = repo.create(mood_entry())

        fetched = repo.get(mood.entry_id)

    assert fetched == mood
    assert fetched.revision == 1


def test_list_all_runs_the_seeds_query_style(
    repo: BaseRepository[MoodEntry],
) -> None:
    with acting_as(THERAPIST):
        for rating in (4, 7, 9):
            repo.create(mood_entry(mood_rating=rating))
        repo.create(mood_entry(user_id="patient_789", mood_rating=8))
        options = QueryOptions(
            filters={
                "user_id": "patient_123",
                "mood_rating__gte": 7,
                "created_at__gte": datetime.now(UTC) - timedelta(days=30),
                "tags__contains": "exercise",
            },
            order_by=["-created_at", "mood_rating"],
            limit=10,
            offset=0,
            include_count=True,
        )

        result = repo.list_all(options)

    assert sorted(entry.mood_rating for entry in result) == [7, 9]
    assert result.total_count == 2


def test_domain_methods_become_blocking_too(
    repo: BaseRepository[MoodEntry],
) -> None:
    now = datetime.now(UTC)
    with acting_as(THERAPIST):
        older = repo.create(mood_entry(created_at=now - timedelta(days=2)))
        newer = repo.create(mood_entry(created_at=now - timedelta(hours=1)))
        repo.create(mood_entry(created_at=now - timedelta(days=40)))

        recent = repo.recent_entries("patient_123", days=7)

    assert [entry.id for entry in recent] == [newer.id, older.id]


def test_the_callers_context_is_the_one_recorded(
    sync_db: SyncDatabaseManager, repo: BaseRepository[MoodEntry]
) -> None:
    with acting_as(THERAPIST):
        mood = repo.create(mood_entry())

        repo.delete(mood.id)

    raw = sync_db.run(
        lambda: sync_db.manager.collection(MoodEntry).find_one({"_id": mood.id})
    )
    assert raw["deleted_by"] == "therapist_456"


def test_a_call_without_a_context_is_denied(
    repo: BaseRepository[MoodEntry],
) -> None:
    with pytest.raises(AccessDeniedError):
        repo.create(mood_entry())


def test_a_context_set_in_one_thread_does_not_reach_another(
    repo: BaseRepository[MoodEntry],
) -> None:
    outcome: list[BaseException] = []

    def other_request() -> None:
        try:
            repo.list_all()
        except AccessDeniedError as error:
            outcome.append(error)

    with acting_as(THERAPIST):
        worker = threading.Thread(target=other_request)
        worker.start()
        worker.join()

    assert len(outcome) == 1


def test_errors_reach_the_caller_as_the_packages_own(
    repo: BaseRepository[MoodEntry],
) -> None:
    with acting_as(THERAPIST), pytest.raises(NotFoundError):
        repo.get("entry_that_was_never_written")


def test_plain_attributes_pass_through(repo: BaseRepository[MoodEntry]) -> None:
    model = repo.entity_model

    assert model is MoodEntry


def test_health_reports_through_the_blocking_manager(
    backend: str, sync_db: SyncDatabaseManager
) -> None:
    report = sync_db.health()

    assert report.ok is True
    assert report.backend is BackendKind(backend)


def test_closing_twice_is_safe(backend: str, mongodb_uri: str) -> None:
    before = loop_threads()
    manager = connect_sync(None if backend == "embedded" else mongodb_uri, "unused")
    manager.close()

    manager.close()

    assert loop_threads() == before


def test_closing_stops_the_loop_thread(backend: str, mongodb_uri: str) -> None:
    before = loop_threads()
    manager = connect_sync(None if backend == "embedded" else mongodb_uri, "unused")

    manager.close()

    assert loop_threads() == before


def test_a_failed_connect_leaves_no_loop_thread_behind() -> None:
    before = loop_threads()

    with pytest.raises(ValidationError):
        connect_sync("postgresql://clinic-db/wellness")

    assert loop_threads() == before
