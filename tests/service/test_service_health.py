"""The example service's health check: backend kind and ping, 503 when down."""

from __future__ import annotations

from tests.service.conftest import RunningService


async def test_health_reports_the_backend_and_a_good_ping(
    service: RunningService, backend: str
) -> None:
    answer = await service.client.get("/health")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["backend"], body["ping"]) == ("ok", backend, "ok")
    assert body["latency_ms"] >= 0


async def test_health_answers_503_when_the_database_is_down(
    service: RunningService, backend: str
) -> None:
    await service.state.db.close()

    answer = await service.client.get("/health")

    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["backend"], body["ping"]) == (
        "unavailable",
        backend,
        "failed",
    )


async def test_health_needs_no_sign_in_and_shows_no_database_name(
    service: RunningService,
) -> None:
    answer = await service.client.get("/health")

    assert answer.status_code == 200
    assert service.state.db.database_name not in answer.text
