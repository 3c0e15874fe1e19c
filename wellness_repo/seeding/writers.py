"""How the units that cannot be written with one ``create_many`` per batch are
written: appointments (past visits imported, upcoming ones booked) and
check-in conversations (started, messaged and answered, closed).

Each writer takes a batch of records with deterministic ids and returns
``(written, already stored)``, like the runner's plain batch writer, so a
second run writes nothing and an interrupted one is completed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wellness_repo.errors import BookingConflictError, DuplicateError
from wellness_repo.models.appointments import Appointment
from wellness_repo.models.types import utc_now
from wellness_repo.query.options import QueryOptions
from wellness_repo.repositories.appointment_history import ENDED_STATUSES
from wellness_repo.repositories.appointments import AppointmentRepository
from wellness_repo.repositories.conversations import ConversationRepository
from wellness_repo.seeding.generators.conversations import SeededConversation

__all__ = ["write_appointments", "write_conversations"]


async def _stored(repository: Any, ids: Sequence[str]) -> dict[str, Any]:
    """The records of ``ids`` already stored (the batch is at most a page)."""
    if not ids or not await repository.count(id__in=list(ids)):
        return {}
    page = await repository.list_all(
        QueryOptions(filters={"id__in": list(ids)}, limit=len(ids))
    )
    return {record.id: record for record in page.items}


async def write_appointments(
    repository: AppointmentRepository, batch: Sequence[Appointment]
) -> tuple[int, int]:
    """Import the batch's past visits in one call (``import_history``) and book
    its upcoming ones one by one (``create``: working hours, reservations).
    An upcoming visit whose time has passed by now (``as_of`` lies in the past)
    is neither booked nor counted: nobody books yesterday."""
    stored = await _stored(repository, [visit.id for visit in batch])
    todo = [visit for visit in batch if visit.id not in stored]
    past = [visit for visit in todo if visit.status in ENDED_STATUSES]
    written = len(await repository.import_history(past)) if past else 0
    now = utc_now()
    for visit in todo:
        if visit.status in ENDED_STATUSES or visit.scheduled_start <= now:
            continue
        try:
            await repository.create(visit)
        except BookingConflictError:
            raise
        except DuplicateError:
            continue
        written += 1
    return written, len(stored)


async def write_conversations(
    repository: ConversationRepository, batch: Sequence[SeededConversation]
) -> tuple[int, int]:
    """Start each conversation not stored yet, have the patient's messages
    added and answered (after those already there, so an interrupted run
    resumes where it stopped), and close the finished ones."""
    stored = await _stored(repository, [seeded.id for seeded in batch])
    written = 0
    for seeded in batch:
        current = stored.get(seeded.id)
        if current is None:
            current = await repository.create(seeded.conversation)
            written += 1
        if not current.is_active:
            continue
        for text in seeded.messages[current.user_message_count :]:
            await repository.generate_ai_response(current.id, text)
        if seeded.closed:
            await repository.close_conversation(current.id)
    return written, len(batch) - written
