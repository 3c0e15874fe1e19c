"""Crisis signals from screening answers and mood: PHQ-9 item 9, the C-SSRS
screener's triage, and sharp or sustained falls in daily mood."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from wellness_repo import (
    CrisisSeverity,
    CrisisType,
    CssrsRisk,
    CssrsScreenerAnswers,
    ValidationError,
    assess_cssrs_screener,
    assess_daily_mood,
    assess_phq9_item9,
    cssrs_triage,
)

# A moderately depressed patient's PHQ-9, item 9 last.
PHQ9_WITHOUT_ITEM_9 = [2, 2, 1, 2, 1, 2, 1, 1]
MONDAY = date(2026, 3, 16)


def days(*averages: float, last: date = MONDAY) -> dict[date, float]:
    """Consecutive daily averages ending on ``last``."""
    first = last - timedelta(days=len(averages) - 1)
    return {first + timedelta(days=n): value for n, value in enumerate(averages)}


# ------------------------------------------------------------------- PHQ-9


def test_phq9_with_item_9_at_zero_is_no_concern() -> None:
    assert assess_phq9_item9([*PHQ9_WITHOUT_ITEM_9, 0]) == []


def test_phq9_item_9_on_several_days_is_moderate_suicidal_ideation() -> None:
    (found,) = assess_phq9_item9([*PHQ9_WITHOUT_ITEM_9, 1])

    assert found.crisis_type is CrisisType.SUICIDAL_IDEATION
    assert found.severity is CrisisSeverity.MODERATE
    assert not found.requires_immediate_attention


@pytest.mark.parametrize("answer", [2, 3])
def test_phq9_item_9_on_most_days_needs_immediate_attention(answer: int) -> None:
    (found,) = assess_phq9_item9([*PHQ9_WITHOUT_ITEM_9, answer])

    assert found.severity is CrisisSeverity.HIGH
    assert found.requires_immediate_attention


def test_phq9_with_an_answer_out_of_range_is_refused_by_item() -> None:
    with pytest.raises(ValidationError) as raised:
        assess_phq9_item9([*PHQ9_WITHOUT_ITEM_9, 4])

    assert (raised.value.field, raised.value.rule) == ("item_responses.item_9", "range")


# ------------------------------------------------------------------- C-SSRS


def test_cssrs_all_no_is_no_risk_and_no_concern() -> None:
    answers = CssrsScreenerAnswers(wish_to_be_dead=False, suicidal_thoughts=False)

    assert cssrs_triage(answers) is CssrsRisk.NONE
    assert assess_cssrs_screener(answers) == []


def test_cssrs_a_wish_to_be_dead_only_is_low_risk() -> None:
    answers = CssrsScreenerAnswers(wish_to_be_dead=True, suicidal_thoughts=False)

    assert cssrs_triage(answers) is CssrsRisk.LOW


def test_cssrs_suicidal_thoughts_without_method_or_intent_are_low_risk() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=True,
        suicidal_thoughts=True,
        method=False,
        intent=False,
        plan=False,
    )

    assert cssrs_triage(answers) is CssrsRisk.LOW


def test_cssrs_thoughts_of_a_method_are_moderate_risk() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=True,
        suicidal_thoughts=True,
        method=True,
        intent=False,
        plan=False,
    )

    assert cssrs_triage(answers) is CssrsRisk.MODERATE


@pytest.mark.parametrize(("intent", "plan"), [(True, False), (False, True)])
def test_cssrs_intent_or_a_plan_is_high_risk(intent: bool, plan: bool) -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=True,
        suicidal_thoughts=True,
        method=True,
        intent=intent,
        plan=plan,
    )

    assert cssrs_triage(answers) is CssrsRisk.HIGH


def test_cssrs_behaviour_within_three_months_is_high_risk() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=False,
        suicidal_thoughts=False,
        suicidal_behavior=True,
        behavior_past_three_months=True,
    )

    assert cssrs_triage(answers) is CssrsRisk.HIGH


def test_cssrs_behaviour_longer_ago_is_moderate_risk() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=False,
        suicidal_thoughts=False,
        suicidal_behavior=True,
        behavior_past_three_months=False,
    )

    assert cssrs_triage(answers) is CssrsRisk.MODERATE


def test_cssrs_high_risk_is_a_high_assessment_naming_the_answers() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=True,
        suicidal_thoughts=True,
        method=True,
        intent=True,
        plan=False,
    )

    (found,) = assess_cssrs_screener(answers)

    assert found.severity is CrisisSeverity.HIGH
    assert found.requires_immediate_attention
    assert found.matched_phrases == (
        "C-SSRS 1: wish to be dead",
        "C-SSRS 2: suicidal thoughts",
        "C-SSRS 3: thoughts of a method",
        "C-SSRS 4: some intent to act",
    )


def test_cssrs_follow_up_answered_after_a_no_to_question_2_is_refused() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=True, suicidal_thoughts=False, intent=True
    )

    with pytest.raises(ValidationError) as raised:
        cssrs_triage(answers)

    assert (raised.value.field, raised.value.rule) == ("intent", "skip_logic")


def test_cssrs_follow_up_left_unanswered_after_a_yes_is_refused() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=True, suicidal_thoughts=True, method=True, intent=None
    )

    with pytest.raises(ValidationError) as raised:
        cssrs_triage(answers)

    assert (raised.value.field, raised.value.rule) == ("intent", "required")


def test_cssrs_behaviour_without_its_three_month_answer_is_refused() -> None:
    answers = CssrsScreenerAnswers(
        wish_to_be_dead=False, suicidal_thoughts=False, suicidal_behavior=True
    )

    with pytest.raises(ValidationError) as raised:
        cssrs_triage(answers)

    assert raised.value.field == "behavior_past_three_months"


def test_cssrs_answer_that_is_not_yes_or_no_is_refused() -> None:
    sloppy: Any = "yes"
    answers = CssrsScreenerAnswers(wish_to_be_dead=sloppy, suicidal_thoughts=False)

    with pytest.raises(ValidationError) as raised:
        cssrs_triage(answers)

    assert (raised.value.field, raised.value.rule) == ("wish_to_be_dead", "type")


# --------------------------------------------------------------------- mood


def test_steady_mood_is_no_concern() -> None:
    assert assess_daily_mood(days(0.6, 0.55, 0.62, 0.58)) == []


def test_a_fall_of_the_threshold_in_a_day_is_a_low_warning_sign() -> None:
    (found,) = assess_daily_mood(days(0.7, 0.4))

    assert found.crisis_type is CrisisType.WARNING_SIGNS
    assert found.severity is CrisisSeverity.LOW
    assert found.matched_phrases == ("mood fell 0.30 in a day",)


def test_a_fall_just_short_of_the_threshold_is_no_concern() -> None:
    assert assess_daily_mood(days(0.7, 0.41)) == []


def test_a_sharp_fall_that_lands_very_low_is_moderate() -> None:
    (found,) = assess_daily_mood(days(0.6, 0.15))

    assert found.severity is CrisisSeverity.MODERATE


def test_a_fall_across_a_missing_day_is_not_day_over_day() -> None:
    daily = {MONDAY - timedelta(days=2): 0.8, MONDAY: 0.4}

    assert assess_daily_mood(daily) == []


def test_three_very_low_days_in_a_row_are_a_moderate_warning_sign() -> None:
    (found,) = assess_daily_mood(days(0.5, 0.2, 0.1, 0.15))

    assert found.severity is CrisisSeverity.MODERATE
    assert "3 consecutive days averaging at or below 0.2" in found.matched_phrases


def test_very_low_days_broken_by_a_better_one_are_not_sustained() -> None:
    assert assess_daily_mood(days(0.1, 0.15, 0.5, 0.2, 0.1)) == []


def test_an_old_fall_followed_by_recovery_is_no_concern_now() -> None:
    assert assess_daily_mood(days(0.8, 0.3, 0.5, 0.6)) == []


def test_no_days_logged_is_no_concern() -> None:
    assert assess_daily_mood({}) == []


def test_an_average_outside_0_to_1_is_refused_naming_the_day() -> None:
    with pytest.raises(ValidationError) as raised:
        assess_daily_mood({MONDAY: 7.0})

    assert (raised.value.field, raised.value.rule) == (
        "daily_averages.2026-03-16",
        "range",
    )


def test_a_timestamp_key_is_refused_as_not_a_calendar_day() -> None:
    stamped: Any = {datetime(2026, 3, 16, 9, 0): 0.5}

    with pytest.raises(ValidationError) as raised:
        assess_daily_mood(stamped)

    assert (raised.value.field, raised.value.rule) == ("daily_averages", "type")


def test_a_threshold_outside_0_to_1_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        assess_daily_mood(days(0.5), sharp_drop=3)

    assert (raised.value.field, raised.value.rule) == ("sharp_drop", "range")
