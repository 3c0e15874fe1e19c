"""Mood entries through the example service: logging one, and listing with
QueryOptions taken from the query string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.service.conftest import RunningService, SignedInUser
from tests.support.service_data import MOOD_NOTE, mood_check_in

MORNING = datetime(2026, 3, 16, 8, 30, tzinfo=UTC)


async def log_week(service: RunningService, user: SignedInUser) -> list[str]:
    """Seven check-ins, one a day from ``MORNING``; returns their ids in order."""
    days = [
        (3, ["sleep"]),
        (8, ["anxiety", "exercise"]),
        (7, ["anxiety"]),
        (5, ["work"]),
        (9, ["anxiety", "friends"]),
        (6, ["sleep"]),
        (7, ["exercise"]),
    ]
    ids = []
    for day, (rating, tags) in enumerate(days):
        when = (MORNING + timedelta(days=day)).isoformat()
        answer = await service.client.post(
            "/mood-entries",
            json=mood_check_in(rating, tags=tags, created_at=when),
            headers=user.headers,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["entry_id"])
    return ids


async def test_a_patient_logs_a_mood_entry_for_herself(
    service: RunningService, patient: SignedInUser
) -> None:
    answer = await service.client.post(
        "/mood-entries",
        json=mood_check_in(7, notes=MOOD_NOTE),
        headers=patient.headers,
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["user_id"] == patient.user_id
    assert (body["mood_rating"], body["normalized_rating"]) == (7, 6 / 9)
    assert body["notes"] == MOOD_NOTE
    assert answer.headers["ETag"] == '"1"'
    fetched = await service.client.get(
        f"/mood-entries/{body['entry_id']}", headers=patient.headers
    )
    assert fetched.json() == body


async def test_listing_takes_filters_order_and_paging_from_the_query_string(
    service: RunningService, patient: SignedInUser
) -> None:
    ids = await log_week(service, patient)

    answer = await service.client.get(
        "/mood-entries?mood_rating__gte=7&tags__contains=anxiety"
        "&order_by=-created_at&limit=10&include_count=true",
        headers=patient.headers,
    )

    assert answer.status_code == 200
    body = answer.json()
    assert [item["entry_id"] for item in body["items"]] == [ids[4], ids[2], ids[1]]
    assert (body["total_count"], body["has_more"]) == (3, False)


async def test_a_repeated_parameter_is_the_list_of_an_in_lookup(
    service: RunningService, patient: SignedInUser
) -> None:
    ids = await log_week(service, patient)

    answer = await service.client.get(
        "/mood-entries",
        params=[("mood_rating__in", "3"), ("mood_rating__in", "9")],
        headers=patient.headers,
    )

    assert answer.status_code == 200
    assert {item["entry_id"] for item in answer.json()["items"]} == {ids[0], ids[4]}


async def test_dates_and_projections_come_from_the_query_string(
    service: RunningService, patient: SignedInUser
) -> None:
    ids = await log_week(service, patient)
    since = (MORNING + timedelta(days=5)).isoformat()

    answer = await service.client.get(
        "/mood-entries",
        params={
            "created_at__gte": since,
            "order_by": "created_at",
            "fields": "mood_rating",
        },
        headers=patient.headers,
    )

    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [item["entry_id"] for item in items] == ids[5:]
    assert all("mood_rating" in item for item in items)
    assert not any({"notes", "tags", "triggers"} & set(item) for item in items)


async def test_pages_follow_the_cursor_to_the_end(
    service: RunningService, patient: SignedInUser
) -> None:
    ids = await log_week(service, patient)
    seen: list[str] = []

    params = {"order_by": "created_at", "limit": "3"}
    while True:
        answer = await service.client.get(
            "/mood-entries", params=params, headers=patient.headers
        )
        body = answer.json()
        seen += [item["entry_id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        params = {"order_by": "created_at", "limit": "3", "after": body["next_cursor"]}

    assert seen == ids


async def test_a_patient_lists_only_her_own_entries(
    service: RunningService, patient: SignedInUser, other_patient: SignedInUser
) -> None:
    await log_week(service, other_patient)
    mine = await service.client.post(
        "/mood-entries", json=mood_check_in(6), headers=patient.headers
    )

    answer = await service.client.get(
        "/mood-entries?include_count=true", headers=patient.headers
    )

    body = answer.json()
    assert body["total_count"] == 1
    assert body["items"][0]["entry_id"] == mine.json()["entry_id"]


async def test_a_therapist_lists_the_moods_of_a_patient_in_care_only(
    service: RunningService,
    patient: SignedInUser,
    other_patient: SignedInUser,
    therapist: SignedInUser,
) -> None:
    ids = await log_week(service, patient)
    await log_week(service, other_patient)

    answer = await service.client.get(
        "/mood-entries?order_by=created_at&include_count=true",
        headers=therapist.headers,
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["total_count"] == len(ids)
    assert [item["entry_id"] for item in body["items"]] == ids


async def test_a_therapist_may_not_write_in_a_patients_diary(
    service: RunningService, patient: SignedInUser, therapist: SignedInUser
) -> None:
    answer = await service.client.post(
        "/mood-entries", json=mood_check_in(4), headers=therapist.headers
    )

    assert answer.status_code == 403


async def test_true_and_false_in_the_query_string_are_booleans(
    service: RunningService, patient: SignedInUser
) -> None:
    with_note = await service.client.post(
        "/mood-entries",
        json=mood_check_in(5, notes=MOOD_NOTE),
        headers=patient.headers,
    )
    await service.client.post(
        "/mood-entries", json=mood_check_in(6), headers=patient.headers
    )

    answer = await service.client.get(
        "/mood-entries?notes__isnull=false", headers=patient.headers
    )

    assert [item["entry_id"] for item in answer.json()["items"]] == [
        with_note.json()["entry_id"]
    ]
