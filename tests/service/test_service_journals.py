"""Journal entries through the example service: writing, reading, listing and
editing one's own, and crisis language handled end to end."""

from __future__ import annotations

from tests.service.conftest import RunningService, SignedInUser
from tests.support.service_data import (
    CALM_JOURNAL_CONTENT,
    CRISIS_JOURNAL_CONTENT,
    thought_record_entry,
)
from wellness_repo import acting_as, create_crisis_detection_repository

WRITTEN_KEYS = {
    "entry_id",
    "revision",
    "user_id",
    "content",
    "journal_type",
    "insights",
    "tags",
    "shared_with_care_team",
    "created_at",
}
"""What the response to a plain entry holds: what the patient sent (content),
the defaults of the fields she left out, and the record's bookkeeping."""


async def test_a_patient_writes_and_reads_back_a_thought_record(
    service: RunningService, patient: SignedInUser
) -> None:
    sent = thought_record_entry()

    written = await service.client.post(
        "/journal-entries", json=sent, headers=patient.headers
    )

    assert written.status_code == 201, written.text
    body = written.json()
    assert body["user_id"] == patient.user_id
    assert body["thought_record"]["situation"] == sent["thought_record"]["situation"]
    read = await service.client.get(
        f"/journal-entries/{body['entry_id']}", headers=patient.headers
    )
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["ETag"] == '"1"'


async def test_crisis_language_opens_a_detection_and_the_answer_echoes_only_the_entry(
    service: RunningService, patient: SignedInUser
) -> None:
    written = await service.client.post(
        "/journal-entries",
        json={"content": CRISIS_JOURNAL_CONTENT},
        headers=patient.headers,
    )

    assert written.status_code == 201, written.text
    body = written.json()
    assert set(body) == WRITTEN_KEYS
    assert body["content"] == CRISIS_JOURNAL_CONTENT
    with acting_as(service.state.system):
        detections = await create_crisis_detection_repository(
            service.state.db
        ).detections_for_patient(patient.user_id)
    assert detections
    assert {detection.source_id for detection in detections} == {body["entry_id"]}


async def test_a_patient_lists_her_own_entries_newest_first(
    service: RunningService, patient: SignedInUser, other_patient: SignedInUser
) -> None:
    await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT},
        headers=other_patient.headers,
    )
    first = await service.client.post(
        "/journal-entries", json=thought_record_entry(), headers=patient.headers
    )
    second = await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT, "tags": ["group"]},
        headers=patient.headers,
    )

    answer = await service.client.get("/journal-entries", headers=patient.headers)

    assert answer.status_code == 200
    assert [item["entry_id"] for item in answer.json()["items"]] == [
        second.json()["entry_id"],
        first.json()["entry_id"],
    ]
    tagged = await service.client.get(
        "/journal-entries?tag=group", headers=patient.headers
    )
    assert [item["entry_id"] for item in tagged.json()["items"]] == [
        second.json()["entry_id"]
    ]


async def test_another_patients_private_entry_is_not_found(
    service: RunningService, patient: SignedInUser, other_patient: SignedInUser
) -> None:
    written = await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT},
        headers=other_patient.headers,
    )

    answer = await service.client.get(
        f"/journal-entries/{written.json()['entry_id']}", headers=patient.headers
    )

    assert answer.status_code == 404
    assert CALM_JOURNAL_CONTENT not in answer.text


async def test_an_edit_with_the_current_revision_applies_and_moves_the_etag(
    service: RunningService, patient: SignedInUser
) -> None:
    written = await service.client.post(
        "/journal-entries",
        json={"content": CALM_JOURNAL_CONTENT},
        headers=patient.headers,
    )
    entry_id = written.json()["entry_id"]

    edited = await service.client.patch(
        f"/journal-entries/{entry_id}",
        json={"tags": ["group", "moving"], "mood_after": 7},
        headers={**patient.headers, "If-Match": written.headers["ETag"]},
    )

    assert edited.status_code == 200, edited.text
    assert (edited.json()["tags"], edited.json()["mood_after"]) == (
        ["group", "moving"],
        7,
    )
    assert edited.headers["ETag"] == '"2"'
