"""Revisions as HTTP entity tags: ``ETag`` on the way out, ``If-Match`` on the
way in, so a client's edit applies only to the revision it read."""

from __future__ import annotations

import re

from fastapi import Response

from wellness_repo import ValidationError

__all__ = ["expected_revision", "set_etag"]

_ETAG = re.compile(r'^(?:W/)?"(\d{1,12})"$|^(\d{1,12})$')


def set_etag(response: Response, revision: int) -> None:
    """Tag the response with the record's revision."""
    response.headers["ETag"] = f'"{revision}"'


def expected_revision(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` header names; ``None`` when there is none or
    it is ``*`` (any revision).

    Raises:
        ValidationError: a header that is not one revision tag (field
            ``If-Match``, rule ``etag``).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise ValidationError(
            'If-Match takes one revision tag from an ETag, e.g. "3"',
            field="If-Match",
            rule="etag",
        )
    return int(match.group(1) or match.group(2))
