"""The example service's error mapping: one request per status code, and filters
from the query string refused with 422 naming the parameter."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from examples.service.state import service_state
from tests.service.conftest import RunningService, SignedInUser
from tests.support.service_data import CALM_JOURNAL_CONTENT, MOOD_NOTE, mood_check_in
from wellness_repo import ConcurrencyError, JournalEntry, JournalRepository


def refusal(answer: Any, status: int) -> dict[str, Any]:
    """The body of a refused request, after checking its status."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_invalid_mood_entry_is_422_naming_the_field_and_rule(
    service: RunningService, patient: SignedInUser
) -> None:
    answer = await service.client.post(
        "/mood-entries",
        json=mood_check_in(11, notes=MOOD_NOTE),
        headers=patient.headers,
    )

    body = refusal(answer, 422)
    assert (body["field"], body["rule"]) == ("mood_rating", "less_than_equal")
    assert MOOD_NOTE not in answer.text
    listed = await service.client.get("/mood-entries", headers=patient.headers)
    assert listed.json()["items"] == []


async def test_a_body_of_the_wrong_shape_is_422_without_echoing_it(
    service: RunningService, patient: SignedInUser
) -> None:
    answer = await service.client.post(
        "/mood-entries",
        json={"mood_rating": "seven", "notes": MOOD_NOTE},
        headers=patient.headers,
    )

    body = refusal(answer, 422)
    assert (body["field"], body["rule"]) == ("mood_rating", "int_parsing")
    assert MOOD_NOTE not in answer.text


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ("mood_score__gte=7", "mood_score__gte", "unknown_field"),
        ("mood_rating__gte[$ne]=", "mood_rating__gte[$ne]", "unknown_field"),
        ("$where=sleep(1000)", "$where", "operator_injection"),
        ("user_id__$ne=x", "user_id__$ne", "operator_injection"),
        ('user_id={"$ne": null}', "user_id", "scalar_expected"),
        ("mood_rating__gte=seven", "mood_rating__gte", "int_parsing"),
        ("mood_rating=3&mood_rating=9", "mood_rating", "single_value"),
        ("limit=100000", "limit", "maximum"),
        ("include_count=maybe", "include_count", "type"),
    ],
)
async def test_a_filter_the_compiler_refuses_is_422_naming_the_parameter(
    service: RunningService,
    patient: SignedInUser,
    query: str,
    field: str,
    rule: str,
) -> None:
    answer = await service.client.get(f"/mood-entries?{query}", headers=patient.headers)

    body = refusal(answer, 422)
    assert (body["field"], body["rule"]) == (field, rule)


async def test_an_entry_that_is_not_there_is_404(
    service: RunningService, patient: SignedInUser
) -> None:
    answer = await service.client.get(
        "/mood-entries/65f1a2b3c4d5e6f7a8b9c0d1", headers=patient.headers
    )

    body = refusal(answer, 404)
    assert (body["entity"], body["entity_id"]) == (
        "MoodEntry",
        "65f1a2b3c4d5e6f7a8b9c0d1",
    )


async def test_a_retried_upload_of_the_same_entry_is_409_duplicate(
    service: RunningService, patient: SignedInUser
) -> None:
    check_in = mood_check_in(6, entry_id="offline-2026-03-16-0830")
    first = await service.client.post(
        "/mood-entries", json=check_in, headers=patient.headers
    )

    again = await service.client.post(
        "/mood-entries", json=check_in, headers=patient.headers
    )

    assert first.status_code == 201
    body = refusal(again, 409)
    assert (body["error"], body["entity"]) == ("duplicate", "MoodEntry")


async def test_an_edit_of_a_stale_revision_is_412(
    service: RunningService, patient: SignedInUser
) -> None:
    written = await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT},
        headers=patient.headers,
    )
    entry_id, read_at = written.json()["entry_id"], written.headers["ETag"]
    await service.client.patch(
        f"/journal-entries/{entry_id}",
        json={"tags": ["group"]},
        headers=patient.headers,
    )

    stale = await service.client.patch(
        f"/journal-entries/{entry_id}",
        json={"mood_after": 8},
        headers={**patient.headers, "If-Match": read_at},
    )

    body = refusal(stale, 412)
    assert (body["error"], body["expected_revision"]) == ("precondition_failed", 1)
    current = await service.client.get(
        f"/journal-entries/{entry_id}", headers=patient.headers
    )
    assert "mood_after" not in current.json()


async def test_a_malformed_if_match_is_422(
    service: RunningService, patient: SignedInUser
) -> None:
    written = await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT},
        headers=patient.headers,
    )

    answer = await service.client.patch(
        f"/journal-entries/{written.json()['entry_id']}",
        json={"mood_after": 8},
        headers={**patient.headers, "If-Match": "yesterday's version"},
    )

    body = refusal(answer, 422)
    assert (body["field"], body["rule"]) == ("If-Match", "etag")


class _AlwaysOvertaken(JournalRepository):
    """Journals whose every edit loses to another writer, as ``patch`` reports
    when the record keeps changing under it."""

    async def patch(
        self,
        entity_id: str,
        changes: Any,
        *,
        expected_revision: int | None = None,
    ) -> JournalEntry:
        raise ConcurrencyError(
            "the record kept changing; the patch was not applied",
            entity="JournalEntry",
            entity_id=entity_id,
        )


async def test_an_edit_that_keeps_losing_the_race_is_409(
    service: RunningService, patient: SignedInUser
) -> None:
    written = await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT},
        headers=patient.headers,
    )
    racing = dataclasses.replace(
        service.state, journals=_AlwaysOvertaken(service.state.db)
    )
    service.app.dependency_overrides[service_state] = lambda: racing

    answer = await service.client.patch(
        f"/journal-entries/{written.json()['entry_id']}",
        json={"mood_after": 8},
        headers=patient.headers,
    )

    body = refusal(answer, 409)
    assert body["error"] == "conflict"


async def test_a_role_that_may_not_read_diaries_is_403(
    service: RunningService, admin: SignedInUser
) -> None:
    answer = await service.client.get("/mood-entries", headers=admin.headers)

    body = refusal(answer, 403)
    assert body["error"] == "access_denied"


async def test_a_request_without_a_token_is_401(service: RunningService) -> None:
    answer = await service.client.get("/mood-entries")

    body = refusal(answer, 401)
    assert (body["error"], body["rule"]) == ("not_signed_in", "missing_token")
    assert answer.headers["WWW-Authenticate"] == "Bearer"


async def test_a_token_the_service_never_issued_is_401(
    service: RunningService,
) -> None:
    answer = await service.client.get(
        "/mood-entries", headers={"Authorization": "Bearer made-up-token"}
    )

    body = refusal(answer, 401)
    assert (body["error"], body["rule"]) == ("session_ended", "unknown")


async def test_a_token_is_refused_with_401_after_signing_out(
    service: RunningService, patient: SignedInUser
) -> None:
    signed_out = await service.client.delete(
        "/sessions/current", headers=patient.headers
    )

    answer = await service.client.get("/mood-entries", headers=patient.headers)

    assert signed_out.status_code == 204
    body = refusal(answer, 401)
    assert (body["error"], body["rule"]) == ("session_ended", "revoked")


async def test_a_wrong_password_is_401_and_opens_no_session(
    service: RunningService, patient: SignedInUser
) -> None:
    service.state.db.settings.failed_sign_in_floor_ms = 0

    answer = await service.client.post(
        "/sessions",
        json={"email": "maya.okafor@example.org", "password": "not-her-password-1"},
    )

    body = refusal(answer, 401)
    assert body["error"] == "sign_in_refused"
    assert "token" not in body
