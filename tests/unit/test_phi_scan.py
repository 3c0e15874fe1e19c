"""The suite-wide log scan finds personal data in any log line it is given."""

from __future__ import annotations

import logging

from tests.conftest import ROOT
from tests.support.phi_scan import PhiLogScanner, collect_markers

NOTE = "Jordan Avery told me she stopped taking sertraline on Tuesday"


def scanned(message: str, *args: object) -> PhiLogScanner:
    scanner = PhiLogScanner(collect_markers(ROOT / "tests"))
    # Kept from the root logger, where the suite's own scanner would (rightly)
    # fail this test for the leaks it plants on purpose.
    logger = logging.getLogger("wellness_repo.scan_check")
    logger.propagate = False
    logger.addHandler(scanner)
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(scanner)
    return scanner


def test_markers_include_data_builder_text_names_and_emails() -> None:
    markers = collect_markers(ROOT / "tests")

    assert NOTE in markers
    assert "Dr. Ana Ruiz" in markers
    assert "ana.ruiz@clinic.example" in markers


def test_a_note_in_a_formatted_argument_is_caught() -> None:
    scanner = scanned("stored note %s", NOTE)

    assert [leak.kind for leak in scanner.leaks] == ["test-data free text or a name"]
    assert scanner.leaks[0].logger == "wellness_repo.scan_check"


def test_any_email_address_is_caught_even_if_no_test_uses_it() -> None:
    scanner = scanned("login for someone.else@hospital.example failed")

    assert [leak.kind for leak in scanner.leaks] == ["an email address"]


def test_a_phone_number_is_caught() -> None:
    scanner = scanned("callback requested on (555) 123-4567")

    assert [leak.kind for leak in scanner.leaks] == ["a phone number"]


def test_ids_counts_and_durations_are_not_flagged() -> None:
    scanner = scanned(
        "read %d TherapySession records for patient_123 in %.1f ms (id %s)",
        12,
        3.25,
        "65f1c2a9e4b0d3a1c2b3c4d5",
    )

    assert scanner.leaks == []


def test_the_leak_record_never_keeps_the_text() -> None:
    scanner = scanned("note: %s", NOTE)

    assert NOTE not in repr(scanner.leaks)
