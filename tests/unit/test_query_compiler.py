"""The filter compiler without a database: the MongoDB filters, sorts and cursors it
builds from lookups, and the lookups, orders and cursors it refuses.

Every refusal is a ``ValidationError`` that names the offending key in ``.field``
and the broken rule in ``.rule``, so a service can answer its caller precisely.
How fast compiling is belongs to the benchmarks, not here: timings on shared
machines make flaky assertions.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import bson
import pytest
from pydantic import BaseModel

from tests.support.models import CarePlanRecord, Goal, GoalStatus
from wellness_repo import (
    Appointment,
    JournalEntry,
    Medication,
    MoodEntry,
    Q,
    QueryOptions,
    ValidationError,
)
from wellness_repo.query.compiler import (
    MAX_LOOKUPS,
    MAX_NESTING,
    MAX_REGEX_LENGTH,
    EncryptedLookup,
    compile_filters,
    compile_projection,
    compile_sort,
    cursor_condition,
    decode_cursor,
    encode_cursor,
)

BERLIN_SUMMER = timezone(timedelta(hours=2))
REVIEWED_AT = datetime(2024, 3, 4, 15, 30, 12, 345000, tzinfo=UTC)


def compiled(lookups: dict[str, Any] | Q) -> dict[str, Any]:
    """The MongoDB filter for lookups on care plans."""
    return compile_filters(CarePlanRecord, lookups).filter


def refusal(lookups: dict[str, Any] | Q) -> tuple[str | None, str | None]:
    """The field and rule of the error compiling ``lookups`` raises."""
    with pytest.raises(ValidationError) as raised:
        compile_filters(CarePlanRecord, lookups)
    return raised.value.field, raised.value.rule


def forged_cursor(payload: dict[str, Any]) -> str:
    """A token shaped like the service's cursors, with any payload."""
    return base64.urlsafe_b64encode(bson.encode(payload)).decode("ascii").rstrip("=")


# ------------------------------------------------------------- what compiles


def test_a_path_without_an_operator_means_equality() -> None:
    query = compiled({"patient_id": "patient_123"})

    assert query == {"patient_id": "patient_123"}


def test_the_platform_id_name_and_id_both_name_the_stored_id() -> None:
    by_platform_name = compiled({"plan_id": "plan_017"})
    by_id = compiled({"id__in": ["plan_017", "plan_018"]})

    assert by_platform_name == {"_id": "plan_017"}
    assert by_id == {"_id": {"$in": ["plan_017", "plan_018"]}}


def test_a_comparison_compiles_to_its_mongodb_operator() -> None:
    query = compiled({"score__gte": 10})

    assert query == {"score": {"$gte": 10}}


def test_a_path_through_a_list_of_goals_uses_dotted_notation() -> None:
    query = compiled({"goals__progress__lt": 50})

    assert query == {"goals.progress": {"$lt": 50}}


def test_a_nested_text_prefix_is_escaped_and_case_insensitive() -> None:
    query = compiled({"contact__name__istartswith": "Dr. A"})

    assert query == {"contact.name": {"$regex": r"^Dr\.\ A", "$options": "i"}}


def test_contains_on_text_escapes_regular_expression_characters() -> None:
    query = compiled({"title__contains": "(phase 2)"})

    assert query == {"title": {"$regex": r"\(phase\ 2\)"}}


def test_contains_on_a_list_asks_for_the_element() -> None:
    query = compiled({"tags__contains": "sleep"})

    assert query == {"tags": "sleep"}


def test_icontains_on_a_list_of_text_matches_a_whole_element_ignoring_case() -> None:
    query = compiled({"tags__icontains": "Sleep"})

    assert query == {"tags": {"$regex": "^Sleep$", "$options": "i"}}


def test_a_whole_list_value_compares_with_the_whole_stored_list() -> None:
    query = compiled({"tags": ("sleep", "anxiety")})

    assert query == {"tags": ["sleep", "anxiety"]}


def test_isnull_compiles_to_null_equality_and_its_negation() -> None:
    missing = compiled({"reviewed_at__isnull": True})
    present = compiled({"reviewed_at__isnull": False})

    assert missing == {"reviewed_at": None}
    assert present == {"reviewed_at": {"$ne": None}}


def test_in_may_ask_for_null_among_its_values() -> None:
    query = compiled({"score__in": [None, 27]})

    assert query == {"score": {"$in": [None, 27]}}


def test_an_instant_in_another_zone_is_compared_in_utc() -> None:
    query = compiled(
        {"reviewed_at__gt": datetime(2024, 3, 4, 17, 30, tzinfo=BERLIN_SUMMER)}
    )

    assert query == {"reviewed_at": {"$gt": datetime(2024, 3, 4, 15, 30, tzinfo=UTC)}}


def test_an_iso_instant_with_an_offset_is_read_to_millisecond_precision() -> None:
    query = compiled({"reviewed_at__lte": "2024-03-04T17:30:12.345678+02:00"})

    assert query == {"reviewed_at": {"$lte": REVIEWED_AT}}


def test_a_calendar_range_compares_stored_day_strings_inclusively() -> None:
    query = compiled({"review_on__range": (date(2024, 1, 1), "2024-03-31")})

    assert query == {"review_on": {"$gte": "2024-01-01", "$lte": "2024-03-31"}}


def test_range_on_a_list_needs_one_value_within_both_bounds() -> None:
    query = compiled({"goals__code__range": ("call", "walk")})

    assert query == {
        "goals": {"$elemMatch": {"code": {"$gte": "call", "$lte": "walk"}}}
    }


def test_range_on_a_list_of_values_needs_one_value_within_both_bounds() -> None:
    query = compiled({"scores__range": (5, 9)})

    assert query == {"scores": {"$elemMatch": {"$gte": 5, "$lte": 9}}}


def test_an_enum_value_or_member_is_compared_by_its_stored_value() -> None:
    by_value = compiled({"status": "met"})
    by_member = compiled({"goals__status": GoalStatus.DROPPED})

    assert by_value == {"status": "met"}
    assert by_member == {"goals.status": "dropped"}


def test_an_enum_member_name_is_coerced_to_the_stored_value() -> None:
    query = compiled({"status": "MET"})

    assert query == {"status": "met"}


def test_elem_match_on_goals_compiles_the_goal_lookups() -> None:
    query = compiled({"goals__elem_match": {"status": "met", "progress__gte": 80}})

    assert query == {
        "goals": {"$elemMatch": {"status": "met", "progress": {"$gte": 80}}}
    }


def test_a_guard_sees_each_lookups_stored_top_field_and_joins_its_condition() -> None:
    seen: list[tuple[str, str]] = []

    def guard(field: str, key: str) -> dict[str, Any] | None:
        seen.append((field, key))
        return {"patient_id": "p1"} if field == "contact" else None

    query = compile_filters(
        CarePlanRecord,
        Q(id="plan_1")
        | Q(contact__name__not__startswith="A", goals__elem_match={"code": "x"}),
        guard=guard,
    ).filter

    assert seen == [
        ("_id", "id"),
        ("contact", "contact__name__not__startswith"),
        ("goals", "goals__elem_match"),
    ]
    # The condition wraps the lookup with its `not`, never the whole query.
    assert query == {
        "$or": [
            {"_id": "plan_1"},
            {
                "$and": [
                    {"$nor": [{"contact.name": {"$regex": "^A"}}]},
                    {"patient_id": "p1"},
                ],
                "goals": {"$elemMatch": {"code": "x"}},
            },
        ]
    }


def test_a_guard_that_refuses_a_field_stops_the_whole_filter() -> None:
    def guard(field: str, key: str) -> None:
        if field == "private_note":
            raise ValidationError("hidden", field=key, rule="hidden_field")

    with pytest.raises(ValidationError) as raised:
        compile_filters(
            CarePlanRecord,
            Q(title="x") | (Q(score=1) & ~Q(private_note=None)),
            guard=guard,
        )
    assert (raised.value.field, raised.value.rule) == ("private_note", "hidden_field")


def test_elem_match_on_scores_takes_operators_one_score_must_meet_together() -> None:
    query = compiled({"scores__elem_match": {"gte": 3, "lt": 5}})

    assert query == {"scores": {"$elemMatch": {"$gte": 3, "$lt": 5}}}


def test_all_and_size_look_at_the_list_as_a_whole() -> None:
    query = compiled({"tags__all": ["sleep", "anxiety"], "scores__size": 0})

    assert query == {"tags": {"$all": ["sleep", "anxiety"]}, "scores": {"$size": 0}}


def test_not_before_an_operator_negates_that_lookup() -> None:
    query = compiled({"status__not__in": ["dropped", "met"]})

    assert query == {"$nor": [{"status": {"$in": ["dropped", "met"]}}]}


def test_two_lookups_on_one_field_are_joined_with_and() -> None:
    query = compiled({"score__gte": 5, "score__lt": 10})

    assert query == {"$and": [{"score": {"$gte": 5}}, {"score": {"$lt": 10}}]}


def test_q_objects_compose_with_or_and_not() -> None:
    query = compiled(Q(score__gte=20) | ~Q(tags__contains="crisis"))

    assert query == {"$or": [{"score": {"$gte": 20}}, {"$nor": [{"tags": "crisis"}]}]}


def test_equality_on_the_deterministic_encrypted_field_is_left_to_encrypt() -> None:
    query = compile_filters(CarePlanRecord, {"email": "ana.ruiz@clinic.example"})

    assert query.filter == {
        "email": EncryptedLookup("email", "ana.ruiz@clinic.example")
    }
    assert query.has_encrypted_values


@pytest.mark.parametrize("field", ["email", "private_note"])
def test_none_on_an_encrypted_field_means_isnull_as_everywhere(field: str) -> None:
    query = compile_filters(CarePlanRecord, {field: None})

    assert query.filter == {field: None}
    assert not query.has_encrypted_values


def test_a_goal_value_compiles_to_its_stored_sub_document() -> None:
    goal = Goal(code="sleep 7h", progress=40, labels=["cbt"])

    query = compiled({"goals__contains": goal})

    assert query == {
        "goals": {
            "code": "sleep 7h",
            "progress": 40,
            "status": "open",
            "labels": ["cbt"],
        }
    }


def test_a_sort_ends_with_the_id_so_pages_are_stable() -> None:
    sort = compile_sort(CarePlanRecord, ["-score", "contact__name"])

    assert sort == [("score", -1), ("contact.name", 1), ("_id", 1)]


def test_a_cursor_reads_back_the_sort_values_it_was_made_from() -> None:
    sort = compile_sort(CarePlanRecord, ["-score", "contact__name"])
    last_on_page = {"_id": "plan_017", "score": 14, "contact": None}

    values = decode_cursor(sort, encode_cursor(sort, last_on_page))

    assert values == [14, None, "plan_017"]


def test_a_descending_cursor_lets_nulls_follow_every_value() -> None:
    sort = compile_sort(CarePlanRecord, ["-score"])

    condition = cursor_condition(sort, [14, "plan_017"])

    assert condition == {
        "$or": [
            {"$or": [{"score": {"$lt": 14}}, {"score": None}]},
            {"score": 14, "_id": {"$gt": "plan_017"}},
        ]
    }


# -------------------------------------------------------------- what refuses


def test_an_unknown_field_is_refused() -> None:
    assert refusal({"severity__gte": 3}) == ("severity", "unknown_field")


def test_an_unknown_field_of_a_sub_document_is_refused() -> None:
    assert refusal({"contact__nickname__istartswith": "sam"}) == (
        "contact.nickname",
        "unknown_field",
    )


def test_an_operator_given_as_a_value_is_refused() -> None:
    assert refusal({"patient_id": {"$ne": None}}) == ("patient_id", "scalar_expected")


def test_an_operator_given_as_a_key_is_refused() -> None:
    assert refusal({"$where": "sleep(1000)"}) == ("$where", "operator_injection")


def test_an_operator_given_as_a_lookup_step_is_refused() -> None:
    assert refusal({"patient_id__$gt": ""}) == ("patient_id__$gt", "operator_injection")


@pytest.mark.parametrize(
    "lookups",
    [
        {"tags__in": [{"$gt": ""}]},
        {"tags": [{"$ne": None}]},
        {"scores__all": [{"$gte": 0}]},
        {"id__nin": ["plan_017", {"$exists": True}]},
    ],
    ids=["in", "whole_list", "all", "nin"],
)
def test_an_operator_hidden_inside_a_list_of_values_is_refused(
    lookups: dict[str, Any],
) -> None:
    (key,) = lookups

    assert refusal(lookups) == (key, "scalar_expected")


def test_an_operator_hidden_in_a_scalar_elem_match_is_refused() -> None:
    assert refusal({"scores__elem_match": {"in": [{"$gt": 0}]}}) == (
        "scores__elem_match",
        "scalar_expected",
    )


def test_a_bad_lookup_inside_goal_elem_match_names_the_outer_key() -> None:
    assert refusal({"goals__elem_match": {"progress__gte": "most"}}) == (
        "goals__elem_match.progress__gte",
        "int_parsing",
    )


def test_a_regular_expression_longer_than_the_limit_is_refused() -> None:
    pattern = "a" * (MAX_REGEX_LENGTH + 1)

    assert refusal({"title__regex": pattern}) == ("title__regex", "max_length")


def test_an_invalid_regular_expression_is_refused() -> None:
    assert refusal({"title__iregex": "(panic"}) == ("title__iregex", "regex_syntax")


@pytest.mark.parametrize(
    "lookups",
    [
        {"reviewed_at__gte": datetime(2024, 3, 4, 15, 30)},
        {"created_at__lt": datetime(2024, 3, 4, 15, 30)},
        {"reviewed_at__gte": "2024-03-04T15:30:00"},
        {"created_at__in": ["2024-03-04T15:30:00"]},
    ],
    ids=["datetime", "required_datetime", "iso_string", "iso_string_in_list"],
)
def test_an_instant_without_a_time_zone_is_refused(lookups: dict[str, Any]) -> None:
    (key,) = lookups

    assert refusal(lookups) == (key, "timezone_required")


def test_a_value_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        compile_filters(MoodEntry, {"mood_rating__gte": "high"})

    assert (raised.value.field, raised.value.rule) == (
        "mood_rating__gte",
        "int_parsing",
    )


def test_a_range_with_its_bounds_reversed_is_refused() -> None:
    assert refusal({"score__range": (20, 5)}) == ("score__range", "range")


def test_a_negative_size_is_refused_as_below_its_minimum() -> None:
    assert refusal({"tags__size": -1}) == ("tags__size", "minimum")


def test_all_of_no_values_is_refused() -> None:
    assert refusal({"tags__all": []}) == ("tags__all", "non_empty")


@pytest.mark.parametrize(
    "key",
    ["score__icontains", "review_on__startswith", "weight__regex", "scores__iexact"],
)
def test_a_text_operator_on_a_field_without_text_is_refused(key: str) -> None:
    assert refusal({key: "1"}) == (key, "operator_type")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("email__ne", "sam.okafor@example.org"),
        ("email__istartswith", "sam"),
        ("email__gt", "a"),
    ],
)
def test_the_deterministic_encrypted_field_refuses_all_but_eq_in_isnull(
    key: str, value: str
) -> None:
    assert refusal({key: value}) == (key, "encrypted_field")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("private_note", "Prefers evening sessions"),
        ("private_note__in", ["Prefers evening sessions"]),
        ("private_note__icontains", "evening"),
    ],
)
def test_the_random_encrypted_field_refuses_all_but_isnull(
    key: str, value: Any
) -> None:
    assert refusal({key: value}) == (key, "encrypted_field")


@pytest.mark.parametrize("name", ["tags", "-goals__progress", "email"])
def test_sorting_on_a_list_or_an_encrypted_field_is_refused(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        compile_sort(CarePlanRecord, [name])

    assert (raised.value.field, raised.value.rule) == (
        f"order_by.{name.lstrip('-')}",
        "not_sortable",
    )


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (JournalEntry, "sentiment"),
        (Appointment, "-cancellation"),
        (Medication, "schedule"),
    ],
)
def test_sorting_on_a_sub_document_is_refused_since_no_cursor_could_carry_it(
    model: type[BaseModel], name: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        compile_sort(model, [name])

    assert (raised.value.field, raised.value.rule) == (
        f"order_by.{name.lstrip('-')}",
        "not_sortable",
    )


def test_sorting_on_dates_enums_and_numbers_is_allowed() -> None:
    assert compile_sort(Appointment, ["-scheduled_start", "status"]) == [
        ("scheduled_start", -1),
        ("status", 1),
        ("_id", 1),
    ]


def test_an_unknown_sort_or_projected_field_is_named_by_its_argument() -> None:
    with pytest.raises(ValidationError) as unknown_sort:
        compile_sort(CarePlanRecord, ["-nosuch"])
    with pytest.raises(ValidationError) as unknown_field:
        compile_projection(CarePlanRecord, ["contact.nosuch"])

    assert (unknown_sort.value.field, unknown_sort.value.rule) == (
        "order_by.nosuch",
        "unknown_field",
    )
    assert (unknown_field.value.field, unknown_field.value.rule) == (
        "fields.contact.nosuch",
        "unknown_field",
    )


def test_a_cursor_from_a_differently_ordered_listing_is_refused() -> None:
    by_score = compile_sort(CarePlanRecord, ["-score"])
    by_title = compile_sort(CarePlanRecord, ["title"])
    token = encode_cursor(by_score, {"_id": "plan_017", "score": 14})

    with pytest.raises(ValidationError) as raised:
        decode_cursor(by_title, token)

    assert (raised.value.field, raised.value.rule) == ("after", "cursor_mismatch")


@pytest.mark.parametrize("token", ["not-a-cursor", "", "%%%", "é"])
def test_a_garbage_cursor_is_refused(token: str) -> None:
    sort = compile_sort(CarePlanRecord, ["-score"])

    with pytest.raises(ValidationError) as raised:
        decode_cursor(sort, token)

    assert (raised.value.field, raised.value.rule) == ("after", "cursor")


@pytest.mark.parametrize(
    "payload",
    [
        {"k": 5},
        {"k": [5], "v": []},
        {"k": [["score", -1], ["_id", 1]], "v": []},
        {"k": [["score", -1], ["_id", 1]], "v": [14]},
    ],
    ids=["keys_not_a_list", "key_not_a_pair", "no_values", "too_few_values"],
)
def test_a_cursor_of_well_formed_bson_but_the_wrong_shape_is_refused(
    payload: dict[str, Any],
) -> None:
    sort = compile_sort(CarePlanRecord, ["-score"])

    with pytest.raises(ValidationError) as raised:
        decode_cursor(sort, forged_cursor(payload))

    assert (raised.value.field, raised.value.rule) == ("after", "cursor")


def test_a_cursor_carrying_operators_as_its_values_is_refused() -> None:
    sort = compile_sort(CarePlanRecord, ["score"])
    token = forged_cursor(
        {"k": [["score", 1], ["_id", 1]], "v": [{"$ne": -1}, {"$gt": ""}]}
    )

    with pytest.raises(ValidationError) as raised:
        decode_cursor(sort, token)

    assert (raised.value.field, raised.value.rule) == ("after", "cursor")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"limit": -1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ],
    ids=["negative_limit", "zero_limit", "negative_offset"],
)
def test_query_options_refuse_a_page_bound_below_its_minimum(
    options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        QueryOptions(**options)

    assert (raised.value.field, raised.value.rule) == (field, "minimum")


@pytest.mark.parametrize("limit", [True, 2.5, "500"])
def test_query_options_refuse_a_limit_that_is_not_a_whole_number(limit: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        QueryOptions(limit=limit)

    assert (raised.value.field, raised.value.rule) == ("limit", "type")


@pytest.mark.parametrize(
    ("filters", "rule"),
    [
        ({"normalized_rating__lt": "inf"}, "finite_number"),
        ({"normalized_rating__range": ["nan", "0.5"]}, "finite_number"),
        ({"normalized_rating": float("-inf")}, "finite_number"),
        ({"mood_rating__gt": "99999999999999999999"}, "int64_range"),
        ({"mood_rating__in": [3, -(2**64)]}, "int64_range"),
    ],
)
def test_numbers_a_query_cannot_compare_as_meant_are_refused(
    filters: dict[str, Any], rule: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        compile_filters(MoodEntry, filters)

    assert (raised.value.field, raised.value.rule) == (next(iter(filters)), rule)


def test_an_offset_past_64_bits_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        QueryOptions(offset=2**63)

    assert (raised.value.field, raised.value.rule) == ("offset", "maximum")


def test_lookups_inside_elem_match_count_toward_the_query_limit() -> None:
    inner = {"progress__gte": 1, "status": "met", "code__startswith": "G"}
    lookups: dict[str, Any] = {"patient_id__ne": "x"}
    lookups.update(
        {"goals__elem_match": Q(*[Q(**inner) for _ in range(MAX_LOOKUPS // 3)])}
    )

    with pytest.raises(ValidationError) as raised:
        compile_filters(CarePlanRecord, lookups)

    assert raised.value.rule == "max_lookups"


def test_a_filter_nested_past_the_limit_is_refused_by_rule() -> None:
    where = Q(patient_id="patient_123")
    for _ in range(MAX_NESTING + 1):
        where = ~where & Q(patient_id__ne="patient_999")

    with pytest.raises(ValidationError) as raised:
        compile_filters(CarePlanRecord, where)

    assert (raised.value.field, raised.value.rule) == ("filters", "max_nesting")
