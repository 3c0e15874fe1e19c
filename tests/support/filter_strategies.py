"""Hypothesis strategies for the filters and orders a service might ask of care
plans: every lookup operator, on every kind of path, negated with ``not`` and
joined into ``Q`` trees.

Lookup values come from the vocabularies care plans are drawn from, often one
step beside a stored value (a millisecond, a day, one point), so comparisons
land on their boundaries. A filter never depends on the plans drawn with it,
which lets hypothesis shrink a failure down to the one or two plans that matter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from tests.support.care_plan_strategies import (
    CONTACTS,
    DAYS,
    EMAILS,
    GOAL_CODE_TEXT,
    GOAL_LABELS,
    GOALS,
    INSTANTS,
    NAMES,
    PATIENT_IDS,
    PHONE_NUMBERS,
    PLAN_IDS,
    PLAN_TAGS,
    PLAN_TITLES,
    PROGRESS,
    RATINGS,
    SCORES,
    STATUSES,
    TEXT_ALPHABET,
    WEIGHTS,
)
from tests.support.models import GoalStatus
from wellness_repo import Q

__all__ = ["FILTER_OPERATORS", "SORTABLE_PATHS", "filters", "orderings"]

# Zones lookup instants arrive in: the compiler must compare them in UTC.
OFFSETS = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))

EQUALITY = ("eq", "ne", "in", "nin", "isnull", "exists")
ORDERING = ("gt", "gte", "lt", "lte", "range")
TEXT_MATCHING = (
    "contains", "icontains", "startswith", "istartswith", "endswith",
    "iendswith", "iexact", "regex", "iregex",
)  # fmt: skip
LIST_ONLY = ("all", "size", "elem_match", "eq_list")
_TEXT = EQUALITY + ORDERING + TEXT_MATCHING
_NUMBER = EQUALITY + ORDERING
_STATUS = EQUALITY + TEXT_MATCHING
_TEXT_LIST = (*_TEXT, *LIST_ONLY)
_NUMBER_LIST = (*_NUMBER, "contains", *LIST_ONLY)


@dataclass(frozen=True, slots=True)
class LookupField:
    """A path lookups can name, and the values found there.

    Args:
        path: the lookup path, ``__``-separated (``goals__progress``).
        kind: what one value is: ``text``, ``status``, ``number``, ``instant``
            (calendar days included), ``goal`` or ``contact``.
        operators: the operators the path accepts (``eq_list``: equality with a
            whole list).
        values: the values stored records hold there, one element for lists.
        is_list: whether the path ends at a list.
        nullable: whether ``None`` is a fair equality value.
    """

    path: str
    kind: str
    operators: tuple[str, ...]
    values: st.SearchStrategy[Any]
    is_list: bool = False
    nullable: bool = True


PLAN_LOOKUP_FIELDS = (
    LookupField("id", "text", _TEXT, PLAN_IDS, nullable=False),
    LookupField("plan_id", "text", ("eq", "nin", "startswith", "gte"), PLAN_IDS),
    LookupField("patient_id", "text", _TEXT, PATIENT_IDS),
    LookupField("title", "text", _TEXT, PLAN_TITLES),
    LookupField("score", "number", _NUMBER, SCORES),
    LookupField("weight", "number", _NUMBER, WEIGHTS),
    LookupField("status", "status", _STATUS, STATUSES),
    LookupField("tags", "text", _TEXT_LIST, PLAN_TAGS, is_list=True),
    LookupField("scores", "number", _NUMBER_LIST, RATINGS, is_list=True),
    LookupField("contact__name", "text", _TEXT, NAMES),
    LookupField("contact__phone", "text", _TEXT, PHONE_NUMBERS),
    LookupField("review_on", "instant", _NUMBER, DAYS),
    LookupField("reviewed_at", "instant", _NUMBER, INSTANTS),
    LookupField("created_at", "instant", _NUMBER, INSTANTS),
    LookupField("updated_at", "instant", _NUMBER, INSTANTS),
    # Equality with None is refused on encrypted fields; isnull says it instead.
    LookupField(
        "email", "text", ("eq", "in", "isnull"), st.sampled_from(EMAILS),
        nullable=False,
    ),
    LookupField("private_note", "text", ("isnull",), st.just("")),
    LookupField("goals__code", "text", _TEXT, GOAL_CODE_TEXT),
    LookupField("goals__progress", "number", _NUMBER, PROGRESS),
    LookupField("goals__status", "status", _STATUS, STATUSES),
    LookupField("goals__labels", "text", _TEXT_LIST, GOAL_LABELS, is_list=True),
    LookupField(
        "goals", "goal", ("size", "isnull", "exists", "elem_match", "contains",
                          "eq_list"),
        GOALS, is_list=True,
    ),
    LookupField("contact", "contact", ("eq", "isnull", "exists"), CONTACTS),
)  # fmt: skip

# Lookups inside goals__elem_match name a goal's own fields.
GOAL_LOOKUP_FIELDS = tuple(
    LookupField(
        field.path.removeprefix("goals__"),
        field.kind,
        field.operators,
        field.values,
        field.is_list,
        field.nullable,
    )
    for field in PLAN_LOOKUP_FIELDS
    if field.path.startswith("goals__")
)


def _operators_of(fields: Sequence[LookupField]) -> tuple[str, ...]:
    return tuple(sorted({name for field in fields for name in field.operators}))


FILTER_OPERATORS = tuple(
    name for name in _operators_of(PLAN_LOOKUP_FIELDS) if name != "eq_list"
)
"""Every lookup operator (a test of ``eq`` covers whole-list values too)."""

SORTABLE_PATHS = (
    "id", "patient_id", "title", "score", "weight", "status", "contact__name",
    "contact__phone", "review_on", "reviewed_at", "created_at", "updated_at",
)  # fmt: skip

# Which piece of a stored text each text operator is given. (For icontains on a
# list of text only a whole element can match; see _operand.)
_FRAGMENT_PLACES = {
    "contains": "any", "icontains": "any", "iexact": "whole",
    "startswith": "start", "istartswith": "start",
    "endswith": "end", "iendswith": "end",
}  # fmt: skip


@st.composite
def _value(draw: st.DrawFn, field: LookupField, nullable: bool) -> Any:
    """One value for a lookup on ``field``: mostly one records hold, sometimes
    one step beside it, and ``None`` where that makes sense. Instants come in
    any of a few time zones, statuses as members or as stored text."""
    choice = draw(st.integers(0, 9))
    if nullable and field.nullable and choice == 9:
        return None
    value = draw(field.values)
    if choice in (7, 8):
        value = _beside(value, draw(st.sampled_from((-1, 1))))
    if isinstance(value, datetime):
        value = value.astimezone(draw(st.sampled_from(OFFSETS)))
    if isinstance(value, GoalStatus) and draw(st.booleans()):
        value = value.value
    return value


def _beside(value: Any, step: int) -> Any:
    """The value one step (a millisecond, a day, one) above or below ``value``."""
    if isinstance(value, datetime):
        return value + timedelta(milliseconds=step)
    if isinstance(value, date):
        return value + timedelta(days=step)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + step
    return value


def _recased(text: str, flips: list[bool]) -> str:
    changed = (
        char.swapcase() if flip else char
        for char, flip in zip(text, flips, strict=False)
    )
    return "".join(changed) + text[len(flips) :]


@st.composite
def _fragment(
    draw: st.DrawFn, texts: st.SearchStrategy[Any], where: str, recase: bool
) -> str:
    """A piece of a stored text (a prefix, a suffix, a whole or any part), or new
    text; with ``recase``, some letters change case."""
    source = draw(texts | st.text(TEXT_ALPHABET, max_size=6))
    source = source.value if isinstance(source, GoalStatus) else source
    start = 0 if where in ("start", "whole") else draw(st.integers(0, len(source)))
    end = len(source)
    if where in ("start", "any"):
        end = draw(st.integers(start, len(source)))
    text: str = source[start:end]
    if recase:
        text = _recased(text, draw(st.lists(st.booleans(), max_size=len(text))))
    return text


@st.composite
def _pattern(draw: st.DrawFn, texts: st.SearchStrategy[Any]) -> str:
    """A short regular expression built around stored text."""
    first = re.escape(draw(_fragment(texts, "any", False)))
    second = re.escape(draw(_fragment(texts, "any", False)))
    shapes = [
        first,
        f"^{first}",
        f"{first}$",
        f"{first}.*{second}",
        f"({first}|{second})",
        f"^{first}.?$",
    ]
    letters = [char for char in first if char.isalpha()]
    if letters:
        letter = draw(st.sampled_from(letters))
        shapes.append(first.replace(letter, f"[{letter.lower()}{letter.upper()}]", 1))
    return draw(st.sampled_from(shapes))


@st.composite
def _operand(draw: st.DrawFn, field: LookupField, operator: str) -> Any:
    """A value for ``operator`` on ``field``."""
    value = _value(field, nullable=False)
    if operator in ("eq", "ne"):
        return draw(_value(field, nullable=True))
    if operator in ("in", "nin"):
        return draw(st.lists(_value(field, nullable=True), max_size=4))
    if operator in ("gt", "gte", "lt", "lte"):
        return draw(value)
    if operator == "range":
        low, high = sorted(draw(st.tuples(value, value)), key=_ordering_key)
        return (low, high)
    if operator in ("isnull", "exists"):
        return draw(st.booleans())
    if operator == "contains" and field.is_list:
        return draw(value)
    if operator in _FRAGMENT_PLACES:
        place = _FRAGMENT_PLACES[operator]
        if operator == "icontains" and field.is_list:
            place = "whole"
        return draw(_fragment(field.values, place, operator.startswith("i")))
    if operator in ("regex", "iregex"):
        return draw(_pattern(field.values))
    if operator == "all":
        return draw(st.lists(value, min_size=1, max_size=3))
    if operator == "size":
        return draw(st.integers(0, 4))
    if operator == "eq_list":
        return draw(st.lists(value, max_size=3))
    if operator == "elem_match" and field.kind == "goal":
        return draw(_goal_conditions())
    if operator == "elem_match":
        return draw(_element_conditions(value))
    raise AssertionError(f"no operand strategy for {operator} on {field.path}")


def _ordering_key(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


@st.composite
def _element_conditions(
    draw: st.DrawFn, value: st.SearchStrategy[Any]
) -> dict[str, Any]:
    """Operators one list element must meet together, e.g. ``{"gte": 3, "lt": 5}``."""
    names = draw(
        st.lists(
            st.sampled_from(("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    return {
        name: draw(st.lists(value, max_size=3) if name in ("in", "nin") else value)
        for name in names
    }


@st.composite
def _goal_conditions(draw: st.DrawFn) -> Any:
    """What a single goal must meet inside ``goals__elem_match``: lookups on its
    fields, as a mapping, an OR of two groups, or negated."""
    lookups = draw(st.lists(_lookup(GOAL_LOOKUP_FIELDS), min_size=1, max_size=3))
    shape = draw(st.integers(0, 3))
    if shape == 0 and len(lookups) > 1:
        first, *rest = lookups
        return Q.from_mapping(dict([first])) | Q.from_mapping(dict(rest))
    if shape == 1:
        return ~Q.from_mapping(dict(lookups))
    return dict(lookups)


@st.composite
def _lookup(
    draw: st.DrawFn, fields: Sequence[LookupField], operator: str | None = None
) -> tuple[str, Any]:
    """One ``path__operator`` lookup on one of ``fields`` and its value;
    sometimes negated with ``not``.

    The operator (unless given) is drawn first and the field second, so that
    every operator is tried about as often however many fields accept it.
    """
    if operator is None:
        operator = draw(st.sampled_from(_operators_of(fields)))
    elif operator == "eq":
        operator = draw(st.sampled_from(("eq", "eq_list")))
    field = draw(st.sampled_from([f for f in fields if operator in f.operators]))
    value = draw(_operand(field, operator))
    if operator == "eq_list":
        operator = "eq"
    negated = draw(st.integers(0, 4)) == 4
    steps = [field.path, *(["not"] if negated else [])]
    if operator != "eq" or draw(st.booleans()):
        steps.append(operator)
    return "__".join(steps), value


def _joined(inner: st.SearchStrategy[Q]) -> st.SearchStrategy[Q]:
    """``Q`` trees one level deeper than ``inner``: ``|``, ``&`` and ``~``."""
    return st.one_of(
        st.tuples(inner, inner).map(lambda pair: pair[0] | pair[1]),
        st.tuples(inner, inner).map(lambda pair: pair[0] & pair[1]),
        inner.map(lambda q: ~q),
    )


_PLAN_LOOKUPS = _lookup(PLAN_LOOKUP_FIELDS)
ANY_FILTER = st.lists(_PLAN_LOOKUPS, min_size=1, max_size=3).map(dict) | st.recursive(
    st.lists(_PLAN_LOOKUPS, min_size=1, max_size=2).map(dict).map(Q.from_mapping),
    _joined,
    max_leaves=4,
)


@st.composite
def _around(draw: st.DrawFn, operator: str) -> Any:
    """A lookup using ``operator``, alone or joined (``&``, ``|``, negated) with
    any other filter."""
    focus = dict([draw(_lookup(PLAN_LOOKUP_FIELDS, operator))])
    shape = draw(st.integers(0, 4))
    if shape == 0:
        return focus
    alone = Q.from_mapping(focus)
    if shape == 1:
        return alone
    other = draw(ANY_FILTER)
    other = other if isinstance(other, Q) else Q.from_mapping(other)
    if shape == 2:
        return alone | other
    if shape == 3:
        return alone & other
    return ~alone | other


def filters(operator: str | None = None) -> st.SearchStrategy[Any]:
    """Filters on care plans: a mapping of lookups, or a ``Q`` tree of them
    joined with ``|``, ``&`` and ``~``. With ``operator``, each filter holds a
    lookup using it."""
    return ANY_FILTER if operator is None else _around(operator)


def orderings() -> st.SearchStrategy[list[str]]:
    """``order_by`` lists of up to three sortable fields, each either direction."""
    return st.lists(
        st.tuples(st.sampled_from(SORTABLE_PATHS), st.booleans()),
        max_size=3,
        unique_by=lambda entry: entry[0],
    ).map(lambda entries: [("-" if down else "") + path for path, down in entries])
