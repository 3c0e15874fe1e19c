"""How driver errors met during a failover or an outage are translated: a
transaction cut off by a lost connection is as safe to run again as one that
lost a race, and its message says the database could not be reached."""

from __future__ import annotations

from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError

from wellness_repo import ConcurrencyError, RepositoryError
from wellness_repo.errors import translate_driver_error

TRANSIENT = "TransientTransactionError"


def test_a_transaction_cut_off_by_a_lost_connection_says_so_and_can_run_again() -> None:
    cut_off = AutoReconnect("connection closed", errors=None)
    cut_off._add_error_label(TRANSIENT)

    error = translate_driver_error(cut_off, entity="MoodEntry")

    assert isinstance(error, ConcurrencyError)
    assert "could not be reached" in str(error)
    assert "conflicted" not in str(error)
    assert error.cause is cut_off


def test_a_transaction_without_a_primary_to_select_says_so() -> None:
    no_primary = ServerSelectionTimeoutError("No primary available for writes")
    no_primary._add_error_label(TRANSIENT)

    error = translate_driver_error(no_primary, entity="JournalEntry")

    assert isinstance(error, ConcurrencyError)
    assert "could not be reached" in str(error)


def test_a_write_conflict_in_a_transaction_still_reads_as_a_conflict() -> None:
    conflict = OperationFailure(
        "WriteConflict", code=112, details={"errorLabels": [TRANSIENT]}
    )

    error = translate_driver_error(conflict, entity="MoodEntry")

    assert isinstance(error, ConcurrencyError)
    assert "conflicted with another write" in str(error)


def test_a_lost_connection_outside_a_transaction_is_a_plain_repository_error() -> None:
    error = translate_driver_error(
        AutoReconnect("connection reset"), entity="MoodEntry"
    )

    assert type(error) is RepositoryError
    assert "could not be reached" in str(error)
