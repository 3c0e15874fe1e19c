"""The keyed hash chain that makes the audit trail tamper-evident: the audit key,
the canonical form of an entry, its MAC, and the diagnosis of a broken chain.

Entry *N*'s ``mac`` is HMAC-SHA256 under the audit key over the previous entry's
MAC (32 bytes; the genesis value for the first entry) followed by the canonical
encoding of entry *N* as stored, without its ``mac`` and ``sequence`` fields.
"As stored" means after field encryption, so verifying needs no decryption key.

The canonical encoding is BSON with the keys of every document sorted, so any
process, and the server's round trip, yields the same bytes for the same entry.

``sequence`` is left out of the MAC on purpose. The order of the chain is bound
by ``prev_mac`` alone; ``sequence`` is the position the append protocol claims
under a unique index, and the verifier checks it separately (it must count up
from 1 without gaps). Binding the order once, in the links, lets a diagnosis tell
an entry that was moved (authentic, but linked to another place) from one that
was altered or forged. No change goes unnoticed either way: a renumbering that
keeps the order leaves a gap or a wrong start, and one that changes it breaks a
link.

Deleting entries from the end of the chain leaves a shorter chain that still
verifies, and later appends continue it as if nothing happened. Only a tail
remembered outside the database reveals it: its sequence shows a chain that got
shorter, its MAC a chain that was cut back and written on anew.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import bson
from bson.errors import BSONError

from wellness_repo.errors import ValidationError
from wellness_repo.models.types import ID_PATTERN

if TYPE_CHECKING:
    from wellness_repo.config import Settings

__all__ = [
    "GENESIS_MAC",
    "ChainProblem",
    "ChainVerification",
    "ChainVerifier",
    "ProblemKind",
    "canonical_bytes",
    "chain_mac",
    "decode_audit_key",
    "entry_is_authentic",
    "resolve_audit_key",
]

_log = logging.getLogger("wellness_repo.audit")

GENESIS_MAC = "0" * 64
"""The ``prev_mac`` of the first entry of every chain."""

MIN_KEY_BYTES = 32
_UNSIGNED = frozenset({"mac", "sequence"})
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})+$")
_ID = re.compile(ID_PATTERN)
# A fixed, public derivation: every process of a development setup (and its
# `audit verify`) agrees on it, and nobody mistakes it for a secret.
_DEVELOPMENT_KEY = hashlib.sha256(b"wellness-repo development audit key v1").digest()
_warned_development_key = False


def decode_audit_key(text: str) -> bytes:
    """The audit key's bytes from its setting: hex digits, or else base64.

    Raises:
        ValueError: neither encoding, or fewer than 32 bytes. The message never
            repeats the key.
    """
    cleaned = text.strip()
    if _HEX.match(cleaned):
        key = bytes.fromhex(cleaned)
    else:
        try:
            key = base64.b64decode(cleaned, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            try:
                key = base64.b64decode(cleaned, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("the audit key must be hex or base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the audit key must be at least {MIN_KEY_BYTES} bytes")
    return key


def resolve_audit_key(settings: Settings) -> bytes:
    """The key the audit chain is signed with, from ``settings``.

    Unset, a fixed development key is used and a warning is logged once per
    process, unless ``settings.require_keys`` makes that a startup error.

    Raises:
        ValidationError: field ``audit_key``: rule ``key_format`` when the key is
            not hex or base64 of at least 32 bytes, ``required`` when no key is
            set while keys are required.
    """
    global _warned_development_key
    configured = settings.audit_key
    if configured is not None:
        try:
            return decode_audit_key(configured.get_secret_value())
        except ValueError as exc:
            raise ValidationError(
                str(exc), field="audit_key", rule="key_format"
            ) from None
    if settings.require_keys:
        raise ValidationError(
            "an audit key is required: set WELLNESS_AUDIT_KEY (hex or base64, "
            f"at least {MIN_KEY_BYTES} bytes)",
            field="audit_key",
            rule="required",
        )
    if not _warned_development_key:
        _warned_development_key = True
        _log.warning(
            "development audit key in use: set WELLNESS_AUDIT_KEY before storing "
            "real audit entries"
        )
    return _DEVELOPMENT_KEY


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """The bytes an entry's MAC covers: sorted-key BSON, without ``mac`` and
    ``sequence``."""
    signed = {key: entry[key] for key in sorted(entry) if key not in _UNSIGNED}
    return bson.encode({key: _sorted(value) for key, value in signed.items()})


def _sorted(value: Any) -> Any:
    # Runs on every append: exact type checks first, the ABC check (slow) last.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is list or kind is tuple:
        return [_sorted(item) for item in value]
    if kind is dict:
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, str | int | float | bytes | datetime):
        return value
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    return value


def chain_mac(key: bytes, prev_mac: str, entry: Mapping[str, Any]) -> str:
    """The MAC of ``entry`` following an entry whose MAC is ``prev_mac``.

    Raises:
        ValueError: ``prev_mac`` is not hex.
    """
    signer = hmac.new(key, bytes.fromhex(prev_mac), hashlib.sha256)
    signer.update(canonical_bytes(entry))
    return signer.hexdigest()


def entry_is_authentic(key: bytes, entry: Mapping[str, Any]) -> bool:
    """Whether a stored entry is exactly as it was appended (order aside)."""
    stored, prev_mac = entry.get("mac"), entry.get("prev_mac")
    if not isinstance(stored, str) or not isinstance(prev_mac, str):
        return False
    try:
        expected = chain_mac(key, prev_mac, entry)
    except (ValueError, BSONError):
        return False
    return hmac.compare_digest(expected, stored)


class ProblemKind(StrEnum):
    """How the stored chain differs from the one that was written."""

    MODIFIED = "modified"
    """An entry's content, MAC or sequence number was changed."""
    DELETED = "deleted"
    """Entries are missing: the reported sequence is the first one missing."""
    INSERTED = "inserted"
    """An entry that was never appended (or a second branch) sits in the chain."""
    REORDERED = "reordered"
    """An authentic entry sits at another place than the one it was written at."""


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first place where the audit chain is broken.

    Args:
        kind: what was done to it.
        sequence: the position in the chain (for a deletion, the first missing
            sequence number).
        entry_id: the entry found at that position; for a deletion, the entry
            after the gap, ``None`` when the end of the chain is missing.
    """

    kind: ProblemKind
    sequence: int
    entry_id: str | None


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of checking the whole audit chain.

    Args:
        ok: no problem was found.
        entries_checked: entries found intact before the first problem.
        last_sequence: the sequence of the last intact entry (0 when none).
        last_mac: its MAC; recording both outside the database lets a later
            check detect entries deleted from the end (pass them as
            ``expected_tail`` and ``expected_mac``).
        problem: the first problem, when there is one.
    """

    ok: bool
    entries_checked: int
    last_sequence: int
    last_mac: str
    problem: ChainProblem | None = None


class ChainVerifier:
    """Walks stored entries in sequence order and finds the first break.

    Pure: the caller streams entries in and, for an entry that does not fit,
    gives the entry after it and says whether any entry carries the MAC this one
    names as its predecessor's.

    Args:
        key: the audit key.
        min_length: a sequence number known to have been appended; a chain that
            ends before it lost entries from its end.
        anchor: ``(sequence, mac)`` of an entry recorded outside the database; a
            different entry at that sequence means the chain was cut back and
            written again from there.
    """

    def __init__(
        self,
        key: bytes,
        *,
        min_length: int = 0,
        anchor: tuple[int, str] | None = None,
    ) -> None:
        self._key = key
        self._min_length = max(min_length, anchor[0] if anchor else 0)
        self._anchor = anchor
        self._previous_mac = GENESIS_MAC
        self._before_previous_mac: str | None = None
        self._sequence = 0
        self.checked = 0

    @property
    def expected_sequence(self) -> int:
        """The sequence number the next entry must carry."""
        return self._sequence + 1

    def fits(self, entry: Mapping[str, Any]) -> bool:
        """Whether ``entry`` is authentic and follows the entries accepted so far."""
        return (
            entry.get("prev_mac") == self._previous_mac
            and _is_sequence(entry.get("sequence"), self.expected_sequence)
            and entry_is_authentic(self._key, entry)
            and not self._replaces_anchor(entry)
        )

    def _replaces_anchor(self, entry: Mapping[str, Any]) -> bool:
        if self._anchor is None:
            return False
        sequence, mac = self._anchor
        return self.expected_sequence == sequence and entry.get("mac") != mac

    def accept(self, entry: Mapping[str, Any]) -> None:
        """Move past an entry for which :meth:`fits` was true."""
        self._before_previous_mac = self._previous_mac
        self._previous_mac = str(entry["mac"])
        self._sequence += 1
        self.checked += 1

    def diagnose(
        self,
        entry: Mapping[str, Any],
        following: Mapping[str, Any] | None,
        predecessor_exists: bool,
    ) -> ChainProblem:
        """Say how ``entry``, which does not fit, came to be where it is.

        Args:
            following: the entry stored after it, if any.
            predecessor_exists: whether some other stored entry's MAC equals
                ``entry["prev_mac"]``.
        """
        position = self.expected_sequence
        entry_id = _entry_id(entry)
        linked = entry.get("prev_mac") == self._previous_mac
        if entry_is_authentic(self._key, entry):
            in_place = _is_sequence(entry.get("sequence"), position)
            if linked and in_place and self._replaces_anchor(entry):
                # Authentic and in place, yet not the entry remembered here: the
                # remembered one was deleted and the chain written on anew.
                return ChainProblem(ProblemKind.DELETED, position, entry_id)
            if linked:
                return ChainProblem(ProblemKind.MODIFIED, position, entry_id)
            if entry.get("prev_mac") == self._before_previous_mac:
                return ChainProblem(ProblemKind.INSERTED, position, entry_id)
            moved_from_start = (
                entry.get("prev_mac") == GENESIS_MAC and self._sequence > 0
            )
            if predecessor_exists or moved_from_start:
                return ChainProblem(ProblemKind.REORDERED, position, entry_id)
            return ChainProblem(ProblemKind.DELETED, position, entry_id)
        if following is not None and following.get("prev_mac") == self._previous_mac:
            return ChainProblem(ProblemKind.INSERTED, position, entry_id)
        return ChainProblem(ProblemKind.MODIFIED, position, entry_id)

    def finish(self, problem: ChainProblem | None) -> ChainVerification:
        """The verdict, once the entries ran out or a problem was found."""
        if problem is None and self._sequence < self._min_length:
            problem = ChainProblem(ProblemKind.DELETED, self._sequence + 1, None)
        return ChainVerification(
            ok=problem is None,
            entries_checked=self.checked,
            last_sequence=self._sequence,
            last_mac=self._previous_mac,
            problem=problem,
        )


def _is_sequence(value: Any, expected: int) -> bool:
    # A double 4.0 equals 4 but is not what the writer stored.
    return isinstance(value, int) and not isinstance(value, bool) and value == expected


def _entry_id(entry: Mapping[str, Any]) -> str | None:
    # A forged entry's "id" may be any text; only a well-formed id is reported.
    value = entry.get("_id")
    return value if isinstance(value, str) and _ID.match(value) else None
