"""Scoring PHQ-9 and GAD-7: totals, severity bands, the PHQ-9 self-harm item,
reliable change from baseline, and the errors bad answers get."""

from __future__ import annotations

import pytest

from wellness_repo.analysis.instruments import (
    INSTRUMENTS,
    Instrument,
    ReliableChange,
    SeverityBand,
    classify_change,
    parse_instrument,
    score_responses,
    severity_band,
)
from wellness_repo.errors import ValidationError

PHQ9 = Instrument.PHQ9
GAD7 = Instrument.GAD7


def answers_adding_up_to(total: int, items: int) -> list[int]:
    """Answers (0-3) filled from the first item on, adding up to ``total``."""
    answers = []
    for _ in range(items):
        answers.append(min(3, total))
        total -= answers[-1]
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, SeverityBand.MINIMAL),
        (4, SeverityBand.MINIMAL),
        (5, SeverityBand.MILD),
        (9, SeverityBand.MILD),
        (10, SeverityBand.MODERATE),
        (14, SeverityBand.MODERATE),
        (15, SeverityBand.MODERATELY_SEVERE),
        (19, SeverityBand.MODERATELY_SEVERE),
        (20, SeverityBand.SEVERE),
        (27, SeverityBand.SEVERE),
    ],
)
def test_phq9_totals_fall_in_the_published_bands(
    total: int, band: SeverityBand
) -> None:
    score = score_responses(PHQ9, answers_adding_up_to(total, 9))

    assert (score.total, score.severity) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, SeverityBand.MINIMAL),
        (4, SeverityBand.MINIMAL),
        (5, SeverityBand.MILD),
        (9, SeverityBand.MILD),
        (10, SeverityBand.MODERATE),
        (14, SeverityBand.MODERATE),
        (15, SeverityBand.SEVERE),
        (21, SeverityBand.SEVERE),
    ],
)
def test_gad7_totals_fall_in_the_published_bands(
    total: int, band: SeverityBand
) -> None:
    score = score_responses(GAD7, answers_adding_up_to(total, 7))

    assert (score.total, score.severity) == (total, band)


def test_gad7_has_no_moderately_severe_band() -> None:
    bands = {severity_band(GAD7, total) for total in range(22)}

    assert SeverityBand.MODERATELY_SEVERE not in bands


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_needs_safety_follow_up_even_at_a_minimal_total(
    item9: int,
) -> None:
    score = score_responses(PHQ9, [0, 0, 0, 0, 0, 0, 0, 0, item9])

    assert score.severity is SeverityBand.MINIMAL
    assert score.requires_safety_follow_up
    assert score.positive_safety_items == (9,)


def test_phq9_item9_at_zero_needs_no_safety_follow_up_even_when_severe() -> None:
    score = score_responses(PHQ9, [3, 3, 3, 3, 3, 3, 3, 3, 0])

    assert score.severity is SeverityBand.SEVERE
    assert not score.requires_safety_follow_up
    assert score.positive_safety_items == ()


def test_gad7_has_no_safety_item() -> None:
    score = score_responses(GAD7, [3, 3, 3, 3, 3, 3, 3])

    assert not score.requires_safety_follow_up


@pytest.mark.parametrize(
    ("baseline", "total", "expected"),
    [
        (18, 12, ReliableChange.IMPROVEMENT),
        (18, 13, ReliableChange.NO_RELIABLE_CHANGE),
        (12, 18, ReliableChange.DETERIORATION),
        (12, 17, ReliableChange.NO_RELIABLE_CHANGE),
        (18, 0, ReliableChange.IMPROVEMENT),
        (15, 15, ReliableChange.NO_RELIABLE_CHANGE),
    ],
)
def test_phq9_reliable_change_takes_a_change_of_at_least_six_points(
    baseline: int, total: int, expected: ReliableChange
) -> None:
    assert classify_change(PHQ9, baseline, total) is expected


@pytest.mark.parametrize(
    ("baseline", "total", "expected"),
    [
        (15, 11, ReliableChange.IMPROVEMENT),
        (15, 12, ReliableChange.NO_RELIABLE_CHANGE),
        (8, 12, ReliableChange.DETERIORATION),
        (8, 11, ReliableChange.NO_RELIABLE_CHANGE),
    ],
)
def test_gad7_reliable_change_takes_a_change_of_at_least_four_points(
    baseline: int, total: int, expected: ReliableChange
) -> None:
    assert classify_change(GAD7, baseline, total) is expected


def test_thresholds_are_those_of_nhs_talking_therapies() -> None:
    thresholds = {
        instrument: definition.reliable_change_threshold
        for instrument, definition in INSTRUMENTS.items()
    }

    assert thresholds == {PHQ9: 6, GAD7: 4}


@pytest.mark.parametrize("count", [0, 8, 10])
def test_a_phq9_with_the_wrong_number_of_answers_is_refused(count: int) -> None:
    with pytest.raises(ValidationError) as refused:
        score_responses(PHQ9, [1] * count)

    assert (refused.value.field, refused.value.rule) == (
        "item_responses",
        "item_count",
    )


def test_a_gad7_given_nine_answers_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        score_responses(GAD7, [1] * 9)

    assert refused.value.rule == "item_count"


@pytest.mark.parametrize(("answer", "item"), [(4, 3), (-1, 7)])
def test_an_answer_out_of_range_is_refused_naming_the_item(
    answer: int, item: int
) -> None:
    answers = [1] * 9
    answers[item - 1] = answer

    with pytest.raises(ValidationError) as refused:
        score_responses(PHQ9, answers)

    assert refused.value.field == f"item_responses.item_{item}"
    assert refused.value.rule == "range"


@pytest.mark.parametrize("answer", [True, 1.0, "2", None])
def test_an_answer_that_is_not_a_whole_number_is_refused_naming_the_item(
    answer: object,
) -> None:
    answers: list[object] = [1, 1, 1, 1, answer, 1, 1]

    with pytest.raises(ValidationError) as refused:
        score_responses(GAD7, answers)  # type: ignore[arg-type]

    assert (refused.value.field, refused.value.rule) == (
        "item_responses.item_5",
        "type",
    )


@pytest.mark.parametrize("responses", ["120000000", {"item_1": 1}, 7])
def test_answers_must_come_as_a_list_in_item_order(responses: object) -> None:
    with pytest.raises(ValidationError) as refused:
        score_responses(PHQ9, responses)  # type: ignore[arg-type]

    assert (refused.value.field, refused.value.rule) == ("item_responses", "type")


@pytest.mark.parametrize("total", [-1, 28])
def test_a_total_outside_the_instrument_range_has_no_band(total: int) -> None:
    with pytest.raises(ValidationError) as refused:
        severity_band(PHQ9, total)

    assert (refused.value.field, refused.value.rule) == ("total_score", "range")


@pytest.mark.parametrize(
    ("name", "instrument"),
    [("PHQ-9", PHQ9), ("phq9", PHQ9), ("GAD-7", GAD7), ("gad 7", GAD7), (GAD7, GAD7)],
)
def test_instruments_are_recognised_by_their_usual_names(
    name: str, instrument: Instrument
) -> None:
    assert parse_instrument(name) is instrument


@pytest.mark.parametrize("name", ["BDI-II", "", None, 9])
def test_an_unsupported_instrument_is_refused(name: object) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_instrument(name)

    assert (refused.value.field, refused.value.rule) == (
        "instrument",
        "unknown_instrument",
    )
