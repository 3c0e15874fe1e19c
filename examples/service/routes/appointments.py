"""Appointments: a clinician books a visit for a patient in their care, and both
list the visits they may see. The package refuses a booking that overlaps one
the provider (with their buffer) or the patient already holds (409)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict

from wellness_repo import (
    Appointment,
    AppointmentModality,
    AppointmentType,
    ValidationError,
    acting_as,
)

from ..auth import Caller
from ..errors import validated
from ..preconditions import set_etag
from ..state import ServiceState, service_state
from .records import page_body, record_body

__all__ = ["APPOINTMENT_FIELDS", "BookingRequest", "router"]

router = APIRouter(prefix="/appointments", tags=["appointments"])
State = Annotated[ServiceState, Depends(service_state)]

APPOINTMENT_FIELDS = (
    "provider_id",
    "patient_id",
    "appointment_type",
    "modality",
    "scheduled_start",
    "duration_minutes",
    "status",
    "agenda",
    "location",
    "telehealth_link",
    "cancellation",
    "confirmed_at",
    "checked_in_at",
    "completed_at",
    "booked_by",
    "created_at",
    "updated_at",
)
"""What an appointment's body shows (its change history stays out)."""


class BookingRequest(BaseModel):
    """A visit to book. The provider is the signed-in clinician unless
    ``provider_id`` names another (the role policy decides whether the caller may
    book for them); the package checks the calendar, the grid and overlaps."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str
    appointment_type: AppointmentType
    modality: AppointmentModality
    scheduled_start: datetime
    duration_minutes: int | None = None
    provider_id: str | None = None
    agenda: list[str] | None = None
    location: str | None = None
    telehealth_link: str | None = None


@router.post("", status_code=status.HTTP_201_CREATED)
async def book(
    body: BookingRequest, caller: Caller, state: State, response: Response
) -> dict[str, Any]:
    """Book a visit; 409 (``booking_conflict``) when the provider or the patient
    is already booked then."""
    values = body.model_dump(exclude_none=True)
    values.setdefault("provider_id", caller.provider_id)
    if values["provider_id"] is None:
        raise ValidationError(
            "name the provider: only a clinician books with themselves",
            field="provider_id",
            rule="required",
            entity="Appointment",
        )
    appointment = validated(Appointment, values, entity="Appointment")
    with acting_as(caller):
        booked = await state.appointments.create(appointment)
    set_etag(response, booked.revision)
    return record_body(booked, APPOINTMENT_FIELDS)


@router.get("")
async def list_appointments(
    caller: Caller,
    state: State,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """A clinician's schedule from ``start`` to ``end`` (both required), or a
    patient's own appointments (optionally within ``start``..``end``), by
    scheduled start; ``after`` is the previous page's ``next_cursor``."""
    with acting_as(caller):
        if caller.provider_id is None:
            page = await state.appointments.appointments_for_patient(
                caller.actor_id, start=start, end=end, limit=limit, after=after
            )
        else:
            if start is None or end is None:
                raise ValidationError(
                    "a schedule needs start and end",
                    field="end" if start else "start",
                    rule="required",
                    entity="Appointment",
                )
            page = await state.appointments.provider_schedule(
                caller.provider_id, start, end, limit=limit, after=after
            )
    return page_body(page, APPOINTMENT_FIELDS)


@router.get("/{appointment_id}")
async def get_appointment(
    appointment_id: str, caller: Caller, state: State, response: Response
) -> dict[str, Any]:
    """One appointment the caller may see (404 when there is none)."""
    with acting_as(caller):
        appointment = await state.appointments.get(appointment_id)
    set_etag(response, appointment.revision)
    return record_body(appointment, APPOINTMENT_FIELDS)
