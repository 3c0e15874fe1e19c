"""What a filter means, stated in plain Python: the yardstick the filter compiler is
measured against.

``matches(document, filters)`` answers whether one stored document (a record's
``model_dump(by_alias=True)``) is selected by a mapping of lookups or a ``Q``
tree; ``ordered(documents, order_by)`` sorts documents as a listing must. Both
follow MongoDB's own matching and sorting rules, which the compiler targets, and
share no code with ``wellness_repo.query``: a bug there cannot hide here.

The rules, as MongoDB applies them:

- A path (``contact__name``, ``goals__progress``) is walked step by step. A step
  into a list of sub-documents visits every sub-document in it (scalars in such a
  list are passed over, an empty list yields nothing); a step into null, a scalar
  or an absent key ends the walk at *missing*.
- A test on a path holds when it holds at *any* place the walk reached; where
  that place holds a list, the test is tried on the whole list and on each of its
  elements (``tags="sleep"`` means "the tags contain sleep").
- Equality with ``None`` holds at missing and null places. ``ne``, ``nin``, the
  ``not`` prefix and ``~Q`` are plain negations of the positive test, so a record
  without the field matches them.
- Order comparisons (``gt``, ``range``) compare only values of the same kind:
  numbers with numbers, text with text, instants with instants. Missing and null
  never compare. Two comparisons on one path are separate tests: on a list, each
  may be met by a different element. ``range`` is one test: a single value must
  lie within both bounds.
- ``all`` holds when the path equals each of its values (possibly at different
  places); ``size`` and ``elem_match`` look at lists as wholes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

from wellness_repo import Q

__all__ = ["MISSING", "matches", "ordered", "stored_value"]


class _Missing:
    """The value at the end of a path that does not exist in a document."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_OPERATORS = frozenset(
    {
        "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "range",
        "contains", "icontains", "startswith", "istartswith", "endswith",
        "iendswith", "iexact", "regex", "iregex", "isnull", "exists", "all",
        "size", "elem_match",
    }
)  # fmt: skip
_ELEMENT_OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})
# Names a caller may use at the top of a path for a stored key of another name.
_STORED_NAMES = {"id": "_id", "plan_id": "_id", "revision": "_rev"}

Slots = list[Any]
Test = Callable[[Any], bool]


def matches(document: Mapping[str, Any], filters: Mapping[str, Any] | Q) -> bool:
    """Whether a stored document is selected by ``filters`` (lookups or a ``Q``)."""
    return _selected(document, filters, top=True)


def ordered(
    documents: Iterable[Mapping[str, Any]], order_by: Sequence[str]
) -> list[Mapping[str, Any]]:
    """``documents`` in listing order: by ``order_by`` (``-`` for descending), then
    by id ascending. Missing and null sort before every value."""
    keys = [
        (_stored_steps(name.lstrip("-"), top=True), -1 if name.startswith("-") else 1)
        for name in order_by
    ]
    if not any(steps == ["_id"] for steps, _ in keys):
        keys.append((["_id"], 1))

    def compare(left: Mapping[str, Any], right: Mapping[str, Any]) -> int:
        for steps, direction in keys:
            outcome = _compare_for_sort(
                _sort_value(left, steps), _sort_value(right, steps)
            )
            if outcome:
                return outcome * direction
        return 0

    return sorted(documents, key=functools.cmp_to_key(compare))


def stored_value(value: Any) -> Any:
    """A lookup value in the form stored documents hold: enums by value, calendar
    days as ``YYYY-MM-DD``, instants in UTC, sub-documents as dicts."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError("the reference compares timezone-aware instants only")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return stored_value(value.model_dump(by_alias=True))
    if isinstance(value, Mapping):
        return {key: stored_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [stored_value(item) for item in value]
    return value


# ------------------------------------------------------------------ filters


def _selected(
    document: Mapping[str, Any], filters: Mapping[str, Any] | Q, top: bool
) -> bool:
    if isinstance(filters, Q):
        return _q_selected(document, filters, top)
    return all(
        _lookup_holds(document, key, value, top) for key, value in filters.items()
    )


def _q_selected(document: Mapping[str, Any], q: Q, top: bool) -> bool:
    outcomes = [_selected(document, q.lookups, top)] if q.lookups else []
    outcomes += [_q_selected(document, child, top) for child in q.children]
    # An OR of nothing is an empty condition, which selects every record.
    held = any(outcomes) if q.connector == "or" and outcomes else all(outcomes)
    return not held if q.negated else held


def _lookup_holds(document: Mapping[str, Any], key: str, value: Any, top: bool) -> bool:
    steps = key.split("__")
    operator = "eq"
    if len(steps) > 1 and steps[-1] in _OPERATORS:
        operator = steps.pop()
    negated = len(steps) > 1 and steps[-1] == "not"
    if negated:
        steps.pop()
    slots = _slots(document, _stored_steps("__".join(steps), top=top))
    held = _OPERATOR_TESTS[operator](slots, value)
    return not held if negated else held


def _stored_steps(path: str, *, top: bool) -> list[str]:
    steps = path.split("__")
    if top:
        steps[0] = _STORED_NAMES.get(steps[0], steps[0])
    return steps


def _slots(node: Any, steps: Sequence[str]) -> Slots:
    """Every place the walk along ``steps`` reaches, ``MISSING`` where it ends."""
    if not steps:
        return [node]
    if isinstance(node, Mapping):
        if steps[0] not in node:
            return [MISSING]
        return _slots(node[steps[0]], steps[1:])
    if isinstance(node, list):
        return [
            slot
            for element in node
            if isinstance(element, Mapping)
            for slot in _slots(element, steps)
        ]
    return [MISSING]


def _anywhere(slots: Slots, test: Test) -> bool:
    """Whether ``test`` holds for some place, or some element of a list there."""
    for slot in slots:
        if test(slot):
            return True
        if isinstance(slot, list) and any(test(element) for element in slot):
            return True
    return False


def _same(left: Any, right: Any) -> bool:
    """BSON equality: numbers by value, lists in order, sub-documents field by
    field in order, never across kinds."""
    if _kind(left) != _kind(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, Mapping):
        return list(left) == list(right) and all(
            _same(left[name], right[name]) for name in left
        )
    return bool(left == right)


def _kind(value: Any) -> str:
    if value is MISSING or value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "instant"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "document"
    return type(value).__name__


def _equal_test(value: Any) -> Test:
    expected = stored_value(value)
    if expected is None:
        return lambda found: found is MISSING or found is None
    return lambda found: _same(found, expected)


def _order_test(value: Any, holds: Callable[[Any, Any], bool]) -> Test:
    bound = stored_value(value)

    def test(found: Any) -> bool:
        kind = _kind(found)
        return (
            kind not in ("null", "list")
            and kind == _kind(bound)
            and holds(found, bound)
        )

    return test


def _eq(slots: Slots, value: Any) -> bool:
    return _anywhere(slots, _equal_test(value))


def _in(slots: Slots, values: Iterable[Any]) -> bool:
    tests = [_equal_test(value) for value in values]
    return _anywhere(slots, lambda found: any(test(found) for test in tests))


def _comparison(holds: Callable[[Any, Any], bool]) -> Callable[[Slots, Any], bool]:
    return lambda slots, value: _anywhere(slots, _order_test(value, holds))


_gte = _comparison(lambda found, bound: found >= bound)
_lte = _comparison(lambda found, bound: found <= bound)


def _range(slots: Slots, bounds: Sequence[Any]) -> bool:
    low, high = bounds
    at_least = _order_test(low, lambda found, bound: found >= bound)
    at_most = _order_test(high, lambda found, bound: found <= bound)
    return _anywhere(slots, lambda found: at_least(found) and at_most(found))


def _text_anywhere(slots: Slots, test: Callable[[str], bool]) -> bool:
    return _anywhere(slots, lambda found: isinstance(found, str) and test(found))


def _contains(slots: Slots, value: Any) -> bool:
    """A list holding the value, or text holding it as a substring."""
    expected = stored_value(value)
    for slot in slots:
        if isinstance(slot, list) and any(_same(item, expected) for item in slot):
            return True
        if isinstance(slot, str) and isinstance(expected, str) and expected in slot:
            return True
    return False


def _icontains(slots: Slots, value: str) -> bool:
    """Text holding the value, or a list of text with an element equal to it,
    both ignoring case."""
    wanted = value.lower()
    for slot in slots:
        if isinstance(slot, str) and wanted in slot.lower():
            return True
        if isinstance(slot, list) and any(
            isinstance(item, str) and item.lower() == wanted for item in slot
        ):
            return True
    return False


def _regex(slots: Slots, pattern: str, flags: int = 0) -> bool:
    compiled = re.compile(pattern, flags)
    return _text_anywhere(slots, lambda found: compiled.search(found) is not None)


def _exists(slots: Slots, wanted: bool) -> bool:
    return any(slot is not MISSING for slot in slots) == wanted


def _size(slots: Slots, count: int) -> bool:
    return any(isinstance(slot, list) and len(slot) == count for slot in slots)


def _all(slots: Slots, values: Iterable[Any]) -> bool:
    return all(_eq(slots, value) for value in values)


def _elem_match(slots: Slots, condition: Mapping[str, Any] | Q) -> bool:
    """Some single element of a list meets every part of ``condition``: lookups
    on a sub-document's fields, or operators on a plain value."""
    if isinstance(condition, Q) or not set(condition) <= _ELEMENT_OPERATORS:

        def element_holds(element: Any) -> bool:
            return isinstance(element, Mapping) and _selected(element, condition, False)

    else:
        tests = [_element_test(name, operand) for name, operand in condition.items()]

        def element_holds(element: Any) -> bool:
            return all(test(element) for test in tests)

    return any(
        isinstance(slot, list) and any(element_holds(element) for element in slot)
        for slot in slots
    )


def _element_test(operator: str, operand: Any) -> Test:
    if operator == "eq":
        return _equal_test(operand)
    if operator == "ne":
        equal = _equal_test(operand)
        return lambda element: not equal(element)
    if operator in ("in", "nin"):
        tests = [_equal_test(item) for item in operand]
        wanted = operator == "in"
        return lambda element: any(test(element) for test in tests) == wanted
    return _order_test(operand, _ORDERINGS[operator])


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda found, bound: found > bound,
    "gte": lambda found, bound: found >= bound,
    "lt": lambda found, bound: found < bound,
    "lte": lambda found, bound: found <= bound,
}

_OPERATOR_TESTS: dict[str, Callable[[Slots, Any], bool]] = {
    "eq": _eq,
    "ne": lambda slots, value: not _eq(slots, value),
    "gt": _comparison(_ORDERINGS["gt"]),
    "gte": _gte,
    "lt": _comparison(_ORDERINGS["lt"]),
    "lte": _lte,
    "in": _in,
    "nin": lambda slots, values: not _in(slots, values),
    "range": _range,
    "contains": _contains,
    "icontains": _icontains,
    "startswith": lambda slots, text: _text_anywhere(
        slots, lambda found: found.startswith(text)
    ),
    "istartswith": lambda slots, text: _text_anywhere(
        slots, lambda found: found.lower().startswith(text.lower())
    ),
    "endswith": lambda slots, text: _text_anywhere(
        slots, lambda found: found.endswith(text)
    ),
    "iendswith": lambda slots, text: _text_anywhere(
        slots, lambda found: found.lower().endswith(text.lower())
    ),
    "iexact": lambda slots, text: _text_anywhere(
        slots, lambda found: found.lower() == text.lower()
    ),
    "regex": _regex,
    "iregex": lambda slots, pattern: _regex(slots, pattern, re.IGNORECASE),
    "isnull": lambda slots, wanted: _eq(slots, None) == wanted,
    "exists": _exists,
    "all": _all,
    "size": _size,
    "elem_match": _elem_match,
}


# -------------------------------------------------------------------- order


def _sort_value(document: Mapping[str, Any], steps: Sequence[str]) -> Any:
    (found,) = _slots(document, steps)
    return None if found is MISSING else found


def _compare_for_sort(left: Any, right: Any) -> int:
    if left is None or right is None:
        return (left is not None) - (right is not None)
    if _kind(left) != _kind(right):
        raise TypeError("the reference sorts fields holding one kind of value")
    return int(left > right) - int(left < right)
