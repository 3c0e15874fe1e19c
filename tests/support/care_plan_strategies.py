"""Hypothesis strategies for care plans, and the clinical vocabularies their
values come from.

Values come from small realistic vocabularies (patients, plan titles, tags, goal
codes, review days and instants) with freshly generated ones mixed in, so that
optional fields are often unset, lists are often empty or hold repeats, and plans
tie on sort keys. ``tests.support.filter_strategies`` draws lookup values from
the same vocabularies, so filters select telling subsets of the plans.

Generated text keeps to ASCII letters, digits, space and the regular-expression
metacharacters ``. * ( + ? $ ^ [``: lower-casing it is exactly what MongoDB's
case-insensitive matching does, and the metacharacters prove that text operators
escape what they are given.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from tests.support.models import CarePlanRecord, Contact, Goal, GoalStatus

__all__ = [
    "CONTACTS",
    "DAYS",
    "EMAILS",
    "GOALS",
    "GOAL_CODE_TEXT",
    "GOAL_LABELS",
    "INSTANTS",
    "NAMES",
    "PATIENT_IDS",
    "PHONE_NUMBERS",
    "PLAN_IDS",
    "PLAN_TAGS",
    "PLAN_TITLES",
    "PROGRESS",
    "RATINGS",
    "SCORES",
    "STATUSES",
    "TEXT_ALPHABET",
    "WEIGHTS",
    "care_plan_sets",
]

TEXT_ALPHABET = string.ascii_letters + string.digits + " .*(+?$^["
FIRST_DAY = date(2024, 1, 1)
FIRST_INSTANT = datetime(2024, 1, 1, tzinfo=UTC)

PATIENTS = ("patient_101", "patient_102", "patient_207", "patient_350")
TITLES = (
    "Sleep hygiene plan",
    "sleep HYGIENE plan",
    "CBT for panic (phase 2)",
    "Relapse prevention. Week 4",
    "Exposure ladder 3+ steps?",
    "Budget $40 per session",
    "^Safety plan review",
)
TAGS = ("sleep", "Sleep", "anxiety", "work stress", "family", "c++ course", "PTSD")
GOAL_CODES = ("walk 20 min", "sleep 7h", "journal daily", "Call sponsor", "PHQ9 [10")
LABELS = ("physical", "Physical", "social", "cbt", "CBT", "homework", "[draft]")
CONTACT_NAMES = ("Dr. Ana Ruiz", "dr. ana ruiz", "Sam Okafor", "Mum", "Crisis line")
PHONES = ("+1 555 0100", "+44 20 7946 0958", "988")
EMAILS = ("ana.ruiz@clinic.example", "sam.okafor@example.org", "mum@example.net")
REVIEW_DAYS = tuple(FIRST_DAY + timedelta(days=n) for n in (0, 1, 31, 180))
REVIEW_INSTANTS = tuple(
    FIRST_INSTANT + timedelta(milliseconds=n) for n in (0, 1, 999, 86_400_000)
)


def _clinical_text(pool: Sequence[str], max_size: int = 12) -> st.SearchStrategy[str]:
    """Mostly the realistic values in ``pool``, sometimes generated text."""
    fresh = st.text(TEXT_ALPHABET, max_size=max_size)
    return st.one_of(st.sampled_from(pool), st.sampled_from(pool), fresh)


PATIENT_IDS = st.sampled_from(PATIENTS)
PLAN_IDS = st.integers(0, 999).map(lambda number: f"plan_{number:03d}")
PLAN_TITLES = _clinical_text(TITLES, max_size=20)
SCORES = st.integers(0, 27)
WEIGHTS = st.sampled_from((0.0, 0.5, 1.0, 2.5)) | st.floats(0, 5, allow_nan=False).map(
    lambda weight: round(weight, 2)
)
STATUSES = st.sampled_from(GoalStatus)
PLAN_TAGS = _clinical_text(TAGS)
RATINGS = st.integers(0, 10)
GOAL_CODE_TEXT = _clinical_text(GOAL_CODES)
PROGRESS = st.sampled_from((0, 50, 100)) | st.integers(0, 100)
GOAL_LABELS = _clinical_text(LABELS)
NAMES = _clinical_text(CONTACT_NAMES)
PHONE_NUMBERS = st.sampled_from(PHONES)
DAYS = st.sampled_from(REVIEW_DAYS) | st.dates(
    FIRST_DAY, FIRST_DAY + timedelta(days=500)
)
INSTANTS = st.sampled_from(REVIEW_INSTANTS) | st.integers(0, 400 * 86_400_000).map(
    lambda ms: FIRST_INSTANT + timedelta(milliseconds=ms)
)
"""UTC instants at MongoDB's millisecond precision, often repeated."""

GOALS = st.builds(
    Goal,
    code=GOAL_CODE_TEXT,
    progress=PROGRESS,
    status=STATUSES,
    labels=st.lists(GOAL_LABELS, max_size=3),
)
CONTACTS = st.builds(Contact, name=NAMES, phone=st.none() | PHONE_NUMBERS)
_PLAN_VALUES = {
    "patient_id": PATIENT_IDS,
    "title": PLAN_TITLES,
    "score": st.none() | SCORES,
    "weight": WEIGHTS,
    "status": STATUSES,
    "tags": st.lists(PLAN_TAGS, max_size=4),
    "scores": st.lists(RATINGS, max_size=5),
    "goals": st.lists(GOALS, max_size=3),
    "contact": st.none() | CONTACTS,
    "review_on": st.none() | DAYS,
    "reviewed_at": st.none() | INSTANTS,
    "created_at": INSTANTS,
    "updated_at": st.none() | INSTANTS,
    "email": st.none() | st.sampled_from(EMAILS),
    "private_note": st.none() | st.just("Prefers evening sessions"),
}
PLAN_FIELDS = st.fixed_dictionaries(_PLAN_VALUES)
"""Everything of a care plan but its id."""
PLAN_CHANGES = st.fixed_dictionaries({}, optional=_PLAN_VALUES)
"""Some fields of a care plan, to vary a sibling plan by."""

# A plan and up to two siblings that differ from it in a few fields: siblings
# make the ties and near-misses that sorting, paging and matching must get right.
_PLAN_FAMILIES = st.tuples(
    PLAN_IDS, PLAN_FIELDS, st.lists(st.tuples(PLAN_IDS, PLAN_CHANGES), max_size=2)
)


@st.composite
def care_plan_sets(draw: st.DrawFn, max_families: int = 10) -> list[CarePlanRecord]:
    """At least one care plan, with distinct ids (``plan_017``), in families of
    up to three similar plans; a plan whose id is already taken is left out."""
    plans: dict[str, CarePlanRecord] = {}
    for plan_id, fields, siblings in draw(
        st.lists(_PLAN_FAMILIES, min_size=1, max_size=max_families)
    ):
        plans.setdefault(plan_id, CarePlanRecord(id=plan_id, **fields))
        for sibling_id, changes in siblings:
            plans.setdefault(
                sibling_id, CarePlanRecord(id=sibling_id, **{**fields, **changes})
            )
    return list(plans.values())
