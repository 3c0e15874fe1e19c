"""The audit chain without a database: the audit key, the canonical form of an
entry, its MAC, the diagnosis of each kind of break, turning an access event into
an entry, and the retention rules."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest
from bson.binary import Binary

from wellness_repo import AccessContext, PurposeOfUse, Settings, UserRole
from wellness_repo.database.indexes import load_index_specs
from wellness_repo.errors import ValidationError
from wellness_repo.models.audit import ActionType, AuditOutcome
from wellness_repo.security import audit_chain
from wellness_repo.security.audit import AccessEvent
from wellness_repo.security.audit_chain import (
    GENESIS_MAC,
    ChainProblem,
    ChainVerification,
    ChainVerifier,
    ProblemKind,
    canonical_bytes,
    chain_mac,
    decode_audit_key,
    entry_is_authentic,
    resolve_audit_key,
)
from wellness_repo.security.chained_auditor import ChainedAuditor
from wellness_repo.security.policy import Operation

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
STARTED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def build_chain(count: int, key: bytes = KEY) -> list[dict[str, Any]]:
    """``count`` chained entries as the writer stores them: reads of one
    patient's therapy sessions, a minute apart."""
    entries = []
    prev_mac = GENESIS_MAC
    for number in range(1, count + 1):
        entry: dict[str, Any] = {
            "_id": f"audit_{number:04d}",
            "at": STARTED + timedelta(minutes=number),
            "user_id": "therapist_221",
            "action_type": "read",
            "resource_type": "TherapySession",
            "resource_ids": [f"session_{number:04d}"],
            "patient_ids": ["patient_4417"],
            "sequence": number,
            "prev_mac": prev_mac,
        }
        entry["mac"] = prev_mac = chain_mac(key, prev_mac, entry)
        entries.append(entry)
    return entries


def verify(
    entries: list[dict[str, Any]],
    min_length: int = 0,
    anchor: tuple[int, str] | None = None,
) -> ChainVerification:
    """Run the verifier over stored entries as the repository does, looking up
    predecessors among the entries themselves."""
    verifier = ChainVerifier(KEY, min_length=min_length, anchor=anchor)
    macs = {entry.get("mac"): entry.get("_id") for entry in entries}
    for index, entry in enumerate(entries):
        if verifier.fits(entry):
            verifier.accept(entry)
            continue
        following = entries[index + 1] if index + 1 < len(entries) else None
        owner = macs.get(entry.get("prev_mac"))
        exists = owner is not None and owner != entry.get("_id")
        return verifier.finish(verifier.diagnose(entry, following, exists))
    return verifier.finish(None)


def resigned(entry: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """``entry`` changed and given a fresh MAC under the real key, as only a
    holder of the key could."""
    changed = {**entry, **changes}
    changed["mac"] = chain_mac(KEY, changed["prev_mac"], changed)
    return changed


# ------------------------------------------------------------------ audit key


def test_a_hex_audit_key_of_32_bytes_is_accepted() -> None:
    assert decode_audit_key(KEY.hex()) == KEY


def test_a_base64_audit_key_is_accepted() -> None:
    assert decode_audit_key(base64.b64encode(KEY).decode()) == KEY


def test_a_url_safe_base64_audit_key_is_accepted() -> None:
    key = bytes([251] * 32)

    assert decode_audit_key(base64.urlsafe_b64encode(key).decode()) == key


def test_a_short_audit_key_is_refused_without_repeating_it() -> None:
    short = "a1b2c3d4" * 7

    with pytest.raises(ValueError, match="at least 32 bytes") as refused:
        decode_audit_key(short)

    assert short not in str(refused.value)


def test_an_audit_key_in_neither_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="hex or base64"):
        decode_audit_key("correct horse battery staple, not a key!!")


def test_a_malformed_audit_key_setting_names_the_field_and_rule() -> None:
    settings = Settings(audit_key="too-short")

    with pytest.raises(ValidationError) as refused:
        resolve_audit_key(settings)

    assert (refused.value.field, refused.value.rule) == ("audit_key", "key_format")
    assert "too-short" not in str(refused.value)


def test_a_missing_audit_key_is_a_startup_error_when_keys_are_required() -> None:
    with pytest.raises(ValidationError) as refused:
        resolve_audit_key(Settings(require_keys=True))

    assert (refused.value.field, refused.value.rule) == ("audit_key", "required")


def test_a_missing_audit_key_falls_back_to_the_development_key_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(audit_chain, "_warned_development_key", False)
    caplog.set_level(logging.WARNING, logger="wellness_repo.audit")

    first = resolve_audit_key(Settings())
    second = resolve_audit_key(Settings())

    warnings = [r for r in caplog.records if "development audit key" in r.message]
    assert first == second
    assert len(first) == 32
    assert len(warnings) == 1


def test_a_configured_audit_key_is_used() -> None:
    assert resolve_audit_key(Settings(audit_key=OTHER_KEY.hex())) == OTHER_KEY


# ------------------------------------------------------------ canonical form


def test_the_canonical_form_ignores_key_order_at_every_depth() -> None:
    written = {"b": 1, "a": {"y": [{"q": 1, "p": 2}], "x": "sertraline 50mg"}}
    read_back = {"a": {"x": "sertraline 50mg", "y": [{"p": 2, "q": 1}]}, "b": 1}

    assert canonical_bytes(written) == canonical_bytes(read_back)


def test_the_canonical_form_leaves_out_the_mac_and_the_sequence() -> None:
    entry = build_chain(1)[0]

    renumbered = {**entry, "sequence": 99, "mac": "f" * 64}

    assert canonical_bytes(renumbered) == canonical_bytes(entry)


def test_an_entry_survives_a_bson_round_trip_with_its_mac_intact() -> None:
    entry = build_chain(1)[0]
    entry["description"] = Binary(b"\x01ciphertext-of-a-note", 6)
    entry["mac"] = chain_mac(KEY, GENESIS_MAC, entry)
    options = bson.CodecOptions(tz_aware=True, tzinfo=UTC)

    stored = bson.decode(bson.encode(entry), codec_options=options)

    assert entry_is_authentic(KEY, stored)


def test_the_mac_depends_on_the_key_the_predecessor_and_every_field() -> None:
    entry = build_chain(1)[0]
    base = chain_mac(KEY, GENESIS_MAC, entry)

    variants = [
        chain_mac(OTHER_KEY, GENESIS_MAC, entry),
        chain_mac(KEY, "1" * 64, entry),
        chain_mac(KEY, GENESIS_MAC, {**entry, "user_id": "therapist_222"}),
        chain_mac(KEY, GENESIS_MAC, {**entry, "resource_ids": []}),
    ]

    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_an_entry_with_a_malformed_predecessor_mac_is_not_authentic() -> None:
    entry = {**build_chain(1)[0], "prev_mac": "not hex"}

    assert not entry_is_authentic(KEY, entry)


# ----------------------------------------------------------------- diagnosis


def test_an_untouched_chain_verifies_and_reports_its_tail() -> None:
    entries = build_chain(5)

    result = verify(entries)

    assert result == ChainVerification(
        ok=True,
        entries_checked=5,
        last_sequence=5,
        last_mac=entries[-1]["mac"],
    )


def test_an_empty_chain_verifies() -> None:
    assert verify([]).ok


def test_a_changed_field_is_reported_as_modified_at_its_sequence() -> None:
    entries = build_chain(5)
    entries[2] = {**entries[2], "user_id": "admin_007"}

    result = verify(entries)

    assert result.problem == ChainProblem(ProblemKind.MODIFIED, 3, "audit_0003")
    assert result.entries_checked == 2


def test_a_replaced_mac_is_reported_as_modified() -> None:
    entries = build_chain(4)
    entries[1] = {**entries[1], "mac": "a" * 64}

    assert verify(entries).problem == ChainProblem(
        ProblemKind.MODIFIED, 2, "audit_0002"
    )


def test_a_changed_sequence_number_is_reported_as_modified() -> None:
    entries = build_chain(4)
    entries[3] = {**entries[3], "sequence": 7}

    assert verify(entries).problem == ChainProblem(
        ProblemKind.MODIFIED, 4, "audit_0004"
    )


def test_a_sequence_stored_as_a_double_is_reported_as_modified() -> None:
    entries = build_chain(3)
    entries[1] = {**entries[1], "sequence": 2.0}

    assert verify(entries).problem == ChainProblem(
        ProblemKind.MODIFIED, 2, "audit_0002"
    )


def test_a_deleted_entry_is_reported_at_the_first_missing_sequence() -> None:
    entries = build_chain(6)
    del entries[3]

    assert verify(entries).problem == ChainProblem(ProblemKind.DELETED, 4, "audit_0005")


def test_a_deletion_hidden_by_renumbering_is_still_reported_as_deleted() -> None:
    entries = build_chain(6)
    del entries[3]
    for number, entry in enumerate(entries, start=1):
        entry["sequence"] = number

    assert verify(entries).problem == ChainProblem(ProblemKind.DELETED, 4, "audit_0005")


def test_a_deleted_first_entry_is_reported_as_deleted_at_one() -> None:
    entries = build_chain(3)[1:]

    assert verify(entries).problem == ChainProblem(ProblemKind.DELETED, 1, "audit_0002")


def test_a_forged_entry_spliced_into_the_chain_is_reported_as_inserted() -> None:
    entries = build_chain(5)
    forged = {
        **entries[2],
        "_id": "audit_9999",
        "user_id": "therapist_221",
        "resource_ids": ["session_0100"],
        "prev_mac": entries[1]["mac"],
        "mac": "b" * 64,
    }
    for entry in entries[2:]:
        entry["sequence"] += 1

    result = verify([*entries[:2], forged, *entries[2:]])

    assert result.problem == ChainProblem(ProblemKind.INSERTED, 3, "audit_9999")


def test_a_second_branch_signed_with_the_key_is_reported_as_inserted() -> None:
    entries = build_chain(3)
    branch = resigned(entries[1], _id="audit_0777", user_id="nurse_310")

    result = verify([entries[0], entries[1], branch, entries[2]])

    assert result.problem == ChainProblem(ProblemKind.INSERTED, 3, "audit_0777")


def test_two_swapped_entries_are_reported_as_reordered() -> None:
    entries = build_chain(5)
    entries[1]["sequence"], entries[2]["sequence"] = 3, 2

    result = verify([entries[0], entries[2], entries[1], *entries[3:]])

    assert result.problem == ChainProblem(ProblemKind.REORDERED, 2, "audit_0003")


def test_the_first_entry_moved_later_is_reported_as_reordered() -> None:
    entries = build_chain(3)
    entries[0]["sequence"], entries[1]["sequence"] = 2, 1

    result = verify([entries[1], entries[0], entries[2]])

    assert result.problem == ChainProblem(ProblemKind.REORDERED, 1, "audit_0002")


def test_an_entry_moved_away_from_its_place_is_reported_as_reordered() -> None:
    entries = build_chain(6)
    moved = [entries[0], entries[4], entries[1], entries[2], entries[3], entries[5]]

    result = verify(moved)

    assert result.problem == ChainProblem(ProblemKind.REORDERED, 2, "audit_0005")


def test_an_entry_signed_with_another_key_is_reported_as_modified() -> None:
    entries = build_chain(2)
    entries.append(build_chain(3, key=OTHER_KEY)[2])
    entries[2]["prev_mac"] = entries[1]["mac"]

    assert verify(entries).problem == ChainProblem(
        ProblemKind.MODIFIED, 3, "audit_0003"
    )


def test_a_truncated_tail_passes_unless_the_tail_is_known() -> None:
    entries = build_chain(8)[:5]

    unknown = verify(entries)
    known = verify(entries, min_length=8)

    assert unknown.ok
    assert known.problem == ChainProblem(ProblemKind.DELETED, 6, None)


def test_a_tail_cut_back_and_written_anew_is_found_by_its_remembered_mac() -> None:
    original = build_chain(6)
    rewritten = original[:4]
    for replaced in original[4:]:
        rewritten.append(
            resigned(replaced, user_id="admin_001", prev_mac=rewritten[-1]["mac"])
        )

    by_length = verify(rewritten, min_length=6)
    by_mac = verify(rewritten, anchor=(6, original[5]["mac"]))

    assert by_length.ok
    assert by_mac.problem == ChainProblem(ProblemKind.DELETED, 6, "audit_0006")


def test_a_forged_entry_reports_no_id_that_is_not_a_well_formed_id() -> None:
    entries = build_chain(3)
    entries[1] = {**entries[1], "_id": "Jordan Avery's record"}

    result = verify(entries)

    assert result.problem == ChainProblem(ProblemKind.MODIFIED, 2, None)


# ------------------------------------------------- access events into entries


def auditor() -> ChainedAuditor:
    return ChainedAuditor()


def test_an_access_event_becomes_an_entry_of_ids_and_shapes() -> None:
    context = AccessContext("therapist_221", UserRole.THERAPIST)
    event = AccessEvent(
        entity="TherapySession",
        operation=Operation.READ,
        context=context,
        record_ids=("session_0001", "session_0002"),
        query_shape="{'patient_id': 'str'}",
        patient_ids=("patient_4417",),
        at=STARTED,
    )

    entry = auditor().entry_for(event)

    assert (entry.user_id, entry.role, entry.purpose) == (
        "therapist_221",
        UserRole.THERAPIST,
        PurposeOfUse.TREATMENT,
    )
    assert entry.action_type is ActionType.READ
    assert entry.outcome is AuditOutcome.OK
    assert entry.resource_ids == ["session_0001", "session_0002"]
    assert entry.patient_ids == ["patient_4417"]
    assert entry.query_shape == "{'patient_id': 'str'}"
    assert entry.summary == "read TherapySession"
    assert entry.at == STARTED
    assert entry.description is None
    assert not entry.emergency


def test_a_denied_access_becomes_a_denied_entry() -> None:
    context = AccessContext("patient_4417", UserRole.PATIENT)
    event = AccessEvent(
        entity="AuditLog", operation=Operation.READ, context=context, outcome="denied"
    )

    entry = auditor().entry_for(event)

    assert entry.outcome is AuditOutcome.DENIED
    assert entry.hipaa_relevant


def test_a_break_glass_access_is_flagged_with_its_reason() -> None:
    reason = "Patient unresponsive in the waiting room; on-call psychiatrist"
    context = AccessContext(
        "psychiatrist_310",
        UserRole.PSYCHIATRIST,
        PurposeOfUse.EMERGENCY,
        emergency_reason=reason,
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    event = AccessEvent(
        entity="SafetyPlan",
        operation=Operation.READ,
        context=context,
        record_ids=("plan_0042",),
        patient_ids=("patient_4417",),
    )

    entry = auditor().entry_for(event)

    assert entry.emergency
    assert entry.emergency_reason == reason
    assert entry.hipaa_relevant


def test_an_ordinary_read_of_records_about_no_patient_is_not_hipaa_relevant() -> None:
    context = AccessContext("patient_4417", UserRole.PATIENT)
    event = AccessEvent(entity="Provider", operation=Operation.READ, context=context)

    assert not auditor().entry_for(event).hipaa_relevant


# ------------------------------------------------------------------ retention


def test_audit_retention_below_six_years_is_refused() -> None:
    with pytest.raises(ValueError, match="audit_retention_years"):
        Settings(audit_retention_years=5)


def test_audit_retention_defaults_to_six_years() -> None:
    assert Settings().audit_retention_years == 6


def test_the_audit_trail_has_no_expiring_index() -> None:
    (spec,) = [s for s in load_index_specs() if s.collection == "audit_logs"]

    assert spec.indexes
    assert all(index.expire_after_seconds is None for index in spec.indexes)


def test_the_audit_trail_has_a_unique_index_on_the_sequence_alone() -> None:
    (spec,) = [s for s in load_index_specs() if s.collection == "audit_logs"]

    unique = [index.keys for index in spec.indexes if index.unique]

    assert unique == [(("sequence", 1),)]
