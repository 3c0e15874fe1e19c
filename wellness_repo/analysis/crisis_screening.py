"""Crisis signals from screening answers and mood logs: PHQ-9 item 9, the
Columbia suicide screener, and a sharp or sustained fall in daily mood.

Plain functions over plain values (DESIGN.md rule 2); each returns the
``CrisisAssessment`` list the crisis repository records, empty when there is no
concern. The answers are the patient's own report, so confidence is 1.0 for the
instruments; severity carries the urgency.

PHQ-9 item 9 (Kroenke, Spitzer & Williams 2001, J Gen Intern Med 16:606-613)
asks how often, over the last two weeks, the patient had "thoughts that you
would be better off dead or of hurting yourself". Any answer above 0 calls for a
clinician's safety follow-up whatever the total score; the item cannot tell
passive from active thoughts, so it is a prompt to screen with the C-SSRS, not a
triage of its own. Here "several days" (1) is moderate and "more than half the
days" or "nearly every day" (2, 3) high.

C-SSRS screener (Columbia-Suicide Severity Rating Scale, Screen Version, "since
last contact / recent" form with triage points; Posner et al. 2011, Am J
Psychiatry 168:1266-1277; Columbia Lighthouse Project screener, 2021 edition).
Six yes/no questions: (1) wish to be dead, (2) non-specific active thoughts of
killing oneself, both over the past month; (3) thoughts of a method, (4) some
intent to act, (5) a worked-out plan with intent, asked only when (2) is yes;
(6) any suicidal behaviour ever, with a follow-up on whether it was within the
past three months. The published triage: high risk is yes to 4 or 5, or to 6
within the past three months; moderate is yes to 3, or to 6 more than three
months ago; low is yes to 1 or 2 only.

Mood: daily averages on the normalised 0..1 scale (1 is the best mood). A sharp
drop is a fall of at least ``sharp_drop`` (0.3) from one calendar day to the
next, judged on the latest day; sustained very low mood is the latest
``low_days`` (3) consecutive calendar days all averaging at or below
``very_low`` (0.2). Both are warning signs, not proof of risk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from wellness_repo.analysis.crisis_language import (
    CrisisAssessment,
    CrisisSeverity,
    CrisisType,
)
from wellness_repo.analysis.instruments import Instrument, score_responses
from wellness_repo.errors import ValidationError

__all__ = [
    "CssrsRisk",
    "CssrsScreenerAnswers",
    "assess_cssrs_screener",
    "assess_daily_mood",
    "assess_phq9_item9",
    "cssrs_triage",
]

_PHQ9_SEVERITY = {
    1: CrisisSeverity.MODERATE,
    2: CrisisSeverity.HIGH,
    3: CrisisSeverity.HIGH,
}
_PHQ9_FREQUENCY = {
    1: "several days",
    2: "more than half the days",
    3: "nearly every day",
}


def assess_phq9_item9(item_responses: Sequence[int]) -> list[CrisisAssessment]:
    """The suicide-risk signal of a completed PHQ-9: one assessment when item 9
    is above 0, none otherwise.

    Raises:
        ValidationError: the answers are not nine whole numbers 0..3 (the field
            names the item, e.g. ``item_responses.item_9``).
    """
    score = score_responses(Instrument.PHQ9, item_responses)
    if not score.requires_safety_follow_up:
        return []
    answer = int(item_responses[8])
    severity = _PHQ9_SEVERITY[answer]
    return [
        _assessment(
            severity,
            (f"PHQ-9 item 9: {_PHQ9_FREQUENCY[answer]}",),
        )
    ]


class CssrsRisk(StrEnum):
    """The C-SSRS screener's triage of suicide risk."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class CssrsScreenerAnswers:
    """A patient's answers to the C-SSRS screener.

    Questions 3 to 5 are asked only when question 2 is answered yes, and are
    ``None`` otherwise; ``behavior_past_three_months`` is asked only when
    question 6 is answered yes.

    Attributes:
        wish_to_be_dead: 1. wished to be dead or to go to sleep and not wake up.
        suicidal_thoughts: 2. had any actual thoughts of killing oneself.
        method: 3. thought about how one might do it.
        intent: 4. had these thoughts with some intention of acting on them.
        plan: 5. started to work out or worked out the details, and intends to
            carry out the plan.
        suicidal_behavior: 6. ever done, started or prepared anything to end
            one's life.
        behavior_past_three_months: 6, follow-up: was it within the past three
            months.
    """

    wish_to_be_dead: bool
    suicidal_thoughts: bool
    method: bool | None = None
    intent: bool | None = None
    plan: bool | None = None
    suicidal_behavior: bool = False
    behavior_past_three_months: bool | None = None


_FOLLOW_UPS = ("method", "intent", "plan")
_QUESTION_LABELS = {
    "wish_to_be_dead": "C-SSRS 1: wish to be dead",
    "suicidal_thoughts": "C-SSRS 2: suicidal thoughts",
    "method": "C-SSRS 3: thoughts of a method",
    "intent": "C-SSRS 4: some intent to act",
    "plan": "C-SSRS 5: a plan with intent",
    "suicidal_behavior": "C-SSRS 6: suicidal behaviour",
}
_RISK_SEVERITY = {
    CssrsRisk.LOW: CrisisSeverity.LOW,
    CssrsRisk.MODERATE: CrisisSeverity.MODERATE,
    CssrsRisk.HIGH: CrisisSeverity.HIGH,
}


def cssrs_triage(answers: CssrsScreenerAnswers) -> CssrsRisk:
    """The screener's triage of ``answers``.

    Raises:
        ValidationError: an answer is not a yes/no, a follow-up question is
            answered though the screener skips it (rule ``skip_logic``), or a
            question the screener asks is unanswered (rule ``required``).
    """
    _check_answers(answers)
    if answers.intent or answers.plan:
        return CssrsRisk.HIGH
    if answers.suicidal_behavior and answers.behavior_past_three_months:
        return CssrsRisk.HIGH
    if answers.method or answers.suicidal_behavior:
        return CssrsRisk.MODERATE
    if answers.wish_to_be_dead or answers.suicidal_thoughts:
        return CssrsRisk.LOW
    return CssrsRisk.NONE


def assess_cssrs_screener(answers: CssrsScreenerAnswers) -> list[CrisisAssessment]:
    """The suicide-risk signal of a completed C-SSRS screener: one assessment at
    the triaged level, none when every answer is no.

    Raises:
        ValidationError: as :func:`cssrs_triage`.
    """
    risk = cssrs_triage(answers)
    if risk is CssrsRisk.NONE:
        return []
    endorsed = tuple(
        label for name, label in _QUESTION_LABELS.items() if getattr(answers, name)
    )
    return [_assessment(_RISK_SEVERITY[risk], endorsed)]


def assess_daily_mood(
    daily_averages: Mapping[date, float],
    *,
    sharp_drop: float = 0.3,
    very_low: float = 0.2,
    low_days: int = 3,
) -> list[CrisisAssessment]:
    """Warning signs in a patient's recent daily mood: a sharp fall into the
    latest day, or the latest days all very low.

    Args:
        daily_averages: each calendar day's average normalised mood, 0..1.
        sharp_drop: the smallest day-over-day fall that counts as sharp.
        very_low: the daily average at or below which mood is very low.
        low_days: how many consecutive very low days count as sustained.

    Returns at most one ``WARNING_SIGNS`` assessment: moderate for sustained
    very low mood or a sharp fall that lands very low, low for another sharp
    fall.

    Raises:
        ValidationError: a key that is not a date, an average outside 0..1, or
            a threshold outside its range.
    """
    days = _checked_days(daily_averages)
    _check_thresholds(sharp_drop, very_low, low_days)
    if not days:
        return []
    latest = max(days)
    reasons: list[str] = []
    severity = CrisisSeverity.LOW
    previous = days.get(latest - timedelta(days=1))
    fall = None if previous is None else previous - days[latest]
    # The tolerance keeps a fall of exactly the threshold (0.7 -> 0.4) a fall of
    # the threshold despite binary floating point.
    if fall is not None and fall >= sharp_drop - 1e-9:
        reasons.append(f"mood fell {fall:.2f} in a day")
        if days[latest] <= very_low:
            severity = CrisisSeverity.MODERATE
    run = _low_run(days, latest, very_low)
    if run >= low_days:
        reasons.append(f"{run} consecutive days averaging at or below {very_low:g}")
        severity = CrisisSeverity.MODERATE
    if not reasons:
        return []
    return [
        CrisisAssessment(
            crisis_type=CrisisType.WARNING_SIGNS,
            severity=severity,
            confidence=0.7 if run >= low_days else 0.6,
            matched_phrases=tuple(reasons),
            requires_immediate_attention=False,
        )
    ]


def _assessment(severity: CrisisSeverity, phrases: tuple[str, ...]) -> CrisisAssessment:
    return CrisisAssessment(
        crisis_type=CrisisType.SUICIDAL_IDEATION,
        severity=severity,
        confidence=1.0,
        matched_phrases=phrases,
        requires_immediate_attention=severity.rank >= CrisisSeverity.HIGH.rank,
    )


def _check_answers(answers: Any) -> None:
    if not isinstance(answers, CssrsScreenerAnswers):
        raise ValidationError(
            "expected CssrsScreenerAnswers", field="answers", rule="type"
        )
    for name in ("wish_to_be_dead", "suicidal_thoughts", "suicidal_behavior"):
        _require_yes_no(name, getattr(answers, name))
    for name in _FOLLOW_UPS:
        value = getattr(answers, name)
        if answers.suicidal_thoughts:
            _require_yes_no(name, value)
        elif value is not None and value is not False:
            raise ValidationError(
                "questions 3 to 5 are asked only after a yes to question 2",
                field=name,
                rule="skip_logic",
            )
    recent = answers.behavior_past_three_months
    if answers.suicidal_behavior:
        _require_yes_no("behavior_past_three_months", recent)
    elif recent is not None and recent is not False:
        raise ValidationError(
            "the three-month follow-up is asked only after a yes to question 6",
            field="behavior_past_three_months",
            rule="skip_logic",
        )


def _require_yes_no(name: str, value: Any) -> None:
    if value is None:
        raise ValidationError(
            "the screener asks this question; answer yes or no",
            field=name,
            rule="required",
        )
    if not isinstance(value, bool):
        raise ValidationError(
            "answer yes or no (True or False)", field=name, rule="type"
        )


def _checked_days(daily_averages: Any) -> dict[date, float]:
    if not isinstance(daily_averages, Mapping):
        raise ValidationError(
            "daily averages must map each date to its average",
            field="daily_averages",
            rule="type",
        )
    days: dict[date, float] = {}
    for day, average in daily_averages.items():
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValidationError(
                "each key must be a calendar date", field="daily_averages", rule="type"
            )
        field = f"daily_averages.{day.isoformat()}"
        if isinstance(average, bool) or not isinstance(average, int | float):
            raise ValidationError(
                "an average must be a number", field=field, rule="type"
            )
        if math.isnan(average) or not 0.0 <= average <= 1.0:
            raise ValidationError(
                "a normalised average must be from 0 to 1", field=field, rule="range"
            )
        days[day] = float(average)
    return days


def _check_thresholds(sharp_drop: float, very_low: float, low_days: int) -> None:
    for name, value in (("sharp_drop", sharp_drop), ("very_low", very_low)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number", field=name, rule="type")
        if not 0.0 < value < 1.0:
            raise ValidationError("must be between 0 and 1", field=name, rule="range")
    if isinstance(low_days, bool) or not isinstance(low_days, int) or low_days < 2:
        raise ValidationError(
            "must be a whole number of at least 2", field="low_days", rule="range"
        )


def _low_run(days: Mapping[date, float], latest: date, very_low: float) -> int:
    run = 0
    day = latest
    while day in days and days[day] <= very_low:
        run += 1
        day -= timedelta(days=1)
    return run
