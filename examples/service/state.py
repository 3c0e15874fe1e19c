"""What the service holds for the life of the process: the one database
connection and the repositories built on it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from wellness_repo import (
    AccessContext,
    AppointmentRepository,
    DatabaseManager,
    JournalRepository,
    MoodEntryRepository,
    UserAccountRepository,
    UserSessionRepository,
    create_appointment_repository,
    create_journal_entry_repository,
    create_mood_entry_repository,
    create_user_account_repository,
    create_user_session_repository,
)

__all__ = ["ServiceState", "service_state"]


@dataclass(frozen=True, slots=True)
class ServiceState:
    """The process-wide connection and repositories.

    Repositories hold no per-request state (the access context travels with the
    request), so one of each serves every request.

    Args:
        system: the context that signs people in and checks bearer tokens; it is
            never used for a patient's or clinician's own request.
    """

    db: DatabaseManager
    system: AccessContext
    accounts: UserAccountRepository
    sessions: UserSessionRepository
    moods: MoodEntryRepository
    journals: JournalRepository
    appointments: AppointmentRepository

    @classmethod
    def open(cls, db: DatabaseManager, system_name: str) -> ServiceState:
        """The repositories of a freshly connected database."""
        return cls(
            db=db,
            system=AccessContext.system(system_name),
            accounts=create_user_account_repository(db),
            sessions=create_user_session_repository(db),
            moods=create_mood_entry_repository(db),
            journals=create_journal_entry_repository(db),
            appointments=create_appointment_repository(db),
        )


def service_state(request: Request) -> ServiceState:
    """The state the lifespan opened, for route dependencies."""
    state: ServiceState = request.app.state.service
    return state
