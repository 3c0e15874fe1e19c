"""Listing requests from query parameters: ``QueryOptions`` out of a URL.

``?mood_rating__gte=7&tags__contains=anxiety&order_by=-created_at&limit=10
&include_count=true`` becomes the ``QueryOptions`` a repository lists with. The
names ``order_by``, ``limit``, ``offset``, ``include_count``, ``fields`` and
``after`` are options; every other parameter is a filter and goes, as given,
through the package's filter compiler, which checks the field and operator
against the model and the value against the field's type. So an unknown field,
an operator smuggled into a name (``mood_rating__gte[$ne]``, ``$where``) or a
mapping given as a value (``{"$ne": null}``) is refused with a
``ValidationError`` naming the parameter.

Values arrive as text; the compiler converts them to the field's type. Only what
text cannot say is translated here: a repeated parameter is a list (for
``__in``, ``__nin``, ``__all`` and the two bounds of ``__range``), ``true`` and
``false`` are booleans for ``__isnull`` and ``__exists``, digits are a number
for ``__size``, and a value written as a JSON object is decoded so that the
compiler sees, and refuses or accepts (``__elem_match``), the mapping it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import QueryParams

from wellness_repo import QueryOptions, ValidationError, compile_filters

__all__ = ["query_options"]

_LIST_OPERATORS = frozenset({"in", "nin", "all", "range"})
_BOOLEAN_OPERATORS = frozenset({"isnull", "exists"})
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_OPTIONS = frozenset(
    {"order_by", "limit", "offset", "include_count", "fields", "after"}
)


def query_options(
    params: QueryParams,
    model: type[BaseModel],
    *,
    regex_max_length: int,
    reserved: Sequence[str] = (),
) -> QueryOptions:
    """The listing of ``model`` records the query parameters ask for.

    Args:
        params: the request's query parameters.
        model: the records listed; each filter is compiled against it here, so
            a refusal names the parameter exactly as the client wrote it.
        regex_max_length: the longest ``__regex`` accepted (the package's
            ``Settings.regex_max_length``).
        reserved: further names the route reads itself; they are not filters.

    Raises:
        ValidationError: a malformed option, a filter given twice where one
            value belongs, or anything the filter compiler refuses; ``field``
            is the query parameter, ``rule`` the compiler's.
    """
    filters: dict[str, Any] = {}
    for name in dict.fromkeys(params.keys()):
        if name in _OPTIONS or name in reserved:
            continue
        value = _filter_value(name, params.getlist(name))
        _check_filter(model, name, value, regex_max_length)
        filters[name] = value
    return QueryOptions(
        filters=filters,
        order_by=_names(params.getlist("order_by")),
        limit=_integer(params, "limit"),
        offset=_integer(params, "offset") or 0,
        include_count=_flag(params, "include_count"),
        fields=_names(params.getlist("fields")) or None,
        after=_single(params, "after"),
    )


def _check_filter(
    model: type[BaseModel], name: str, value: Any, regex_max_length: int
) -> None:
    try:
        compile_filters(model, {name: value}, regex_max_length=regex_max_length)
    except ValidationError as refused:
        # The compiler names the model path it stopped at ("mood_score"); the
        # client needs the parameter it sent ("mood_score__gte").
        raise ValidationError(
            refused.message,
            field=name,
            rule=refused.rule,
            entity=model.__name__,
        ) from None


def _filter_value(name: str, values: list[str]) -> Any:
    operator = name.rsplit("__", 1)[-1] if "__" in name else "eq"
    if operator in _LIST_OPERATORS:
        return [_decoded(value) for value in values]
    if len(values) > 1:
        raise ValidationError(
            "give this filter once; repeat only list lookups such as __in",
            field=name,
            rule="single_value",
        )
    value = values[0]
    if operator in _BOOLEAN_OPERATORS:
        return _boolean(value, name)
    if operator == "size" and value.isdigit():
        return int(value)
    return _decoded(value)


def _decoded(value: str) -> Any:
    if value.startswith("{") and value.endswith("}"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _boolean(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationError("expected true or false", field=name, rule="type")


def _names(values: list[str]) -> list[str]:
    # Accept both ?order_by=-created_at&order_by=mood_rating and a comma list.
    return [
        name.strip() for value in values for name in value.split(",") if name.strip()
    ]


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise ValidationError(f"give {name} once", field=name, rule="single_value")
    return values[0] if values else None


def _integer(params: QueryParams, name: str) -> int | None:
    value = _single(params, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(
            f"{name} must be a whole number", field=name, rule="type"
        ) from None


def _flag(params: QueryParams, name: str) -> bool:
    value = _single(params, name)
    return False if value is None else _boolean(value, name)
