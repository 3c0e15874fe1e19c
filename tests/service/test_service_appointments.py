"""Appointments through the example service: a clinician books a visit for a
patient in their care, both see it, and an overlapping booking is a 409."""

from __future__ import annotations

from datetime import timedelta

from tests.service.conftest import RunningService, SignedInUser
from tests.support.appointment_data import local, next_weekday
from tests.support.service_data import SESSION_AGENDA, THERAPIST_PROVIDER_ID


def session_at(patient: SignedInUser, hour: int, minute: int = 0) -> dict[str, object]:
    """A 50-minute telehealth CBT session next week, at ``hour`` in New York."""
    return {
        "patient_id": patient.user_id,
        "appointment_type": "therapy_session",
        "modality": "telehealth",
        "scheduled_start": local(next_weekday(), hour, minute).isoformat(),
        "duration_minutes": 50,
        "agenda": SESSION_AGENDA,
    }


async def test_a_therapist_books_a_session_the_patient_then_sees(
    service: RunningService, patient: SignedInUser, therapist: SignedInUser
) -> None:
    booked = await service.client.post(
        "/appointments", json=session_at(patient, 10), headers=therapist.headers
    )

    assert booked.status_code == 201, booked.text
    body = booked.json()
    assert (body["provider_id"], body["status"]) == (THERAPIST_PROVIDER_ID, "scheduled")
    mine = await service.client.get("/appointments", headers=patient.headers)
    assert [item["appointment_id"] for item in mine.json()["items"]] == [
        body["appointment_id"]
    ]
    day = local(next_weekday(), 0)
    schedule = await service.client.get(
        "/appointments",
        params={"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()},
        headers=therapist.headers,
    )
    assert [item["appointment_id"] for item in schedule.json()["items"]] == [
        body["appointment_id"]
    ]


async def test_an_overlapping_booking_is_409_and_books_nothing(
    service: RunningService, patient: SignedInUser, therapist: SignedInUser
) -> None:
    first = await service.client.post(
        "/appointments", json=session_at(patient, 10), headers=therapist.headers
    )

    overlapping = await service.client.post(
        "/appointments", json=session_at(patient, 10, 30), headers=therapist.headers
    )

    assert first.status_code == 201, first.text
    assert overlapping.status_code == 409, overlapping.text
    assert overlapping.json()["error"] == "booking_conflict"
    assert overlapping.json()["conflict"] in {"provider", "patient"}
    mine = await service.client.get("/appointments", headers=patient.headers)
    assert len(mine.json()["items"]) == 1


async def test_a_patient_may_not_book_clinical_visits_herself(
    service: RunningService, patient: SignedInUser, therapist: SignedInUser
) -> None:
    request = {**session_at(patient, 14), "provider_id": THERAPIST_PROVIDER_ID}

    answer = await service.client.post(
        "/appointments", json=request, headers=patient.headers
    )

    assert answer.status_code == 403, answer.text
