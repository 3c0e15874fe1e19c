"""The crisis-language detector: the cases it must tell apart, one by one, and
its recall and false-alarm rate on the labelled corpus
(``tests/support/crisis_phrases.py``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache

import pytest

from tests.support.crisis_cases import (
    PAST,
    THIRD_PARTY,
    PhraseCase,
    negatives,
    positives,
)
from tests.support.crisis_phrases import DEVELOPMENT, HELD_OUT
from wellness_repo import (
    CrisisAssessment,
    CrisisSeverity,
    CrisisType,
    assess_text,
    highest_severity,
)

SI = CrisisType.SUICIDAL_IDEATION
SH = CrisisType.SELF_HARM
HO = CrisisType.HARM_TO_OTHERS
WARN = CrisisType.WARNING_SIGNS
THIRD = CrisisType.THIRD_PARTY_CONCERN
CORPUS = DEVELOPMENT + HELD_OUT


def own_current(found: Sequence[CrisisAssessment]) -> list[CrisisAssessment]:
    """The patient's own, current signals: what a clinician must act on."""
    return [a for a in found if not a.historical and a.crisis_type is not THIRD]


def found_types(text: str) -> set[CrisisType]:
    return {a.crisis_type for a in own_current(assess_text(text))}


def of_type(text: str, kind: CrisisType) -> CrisisAssessment:
    (assessment,) = [a for a in assess_text(text) if a.crisis_type is kind]
    return assessment


@cache
def judged(case: PhraseCase) -> tuple[CrisisAssessment, ...]:
    return tuple(assess_text(case.text))


def detected(case: PhraseCase) -> bool:
    return any(a.crisis_type in case.types for a in own_current(judged(case)))


# ------------------------------------------------------------ what it finds


def test_a_wish_to_die_is_high_severity_suicidal_ideation() -> None:
    text = "Honestly I just want to die."

    found = of_type(text, SI)

    assert found.severity is CrisisSeverity.HIGH
    assert found.requires_immediate_attention


def test_a_wish_to_sleep_and_never_wake_up_is_moderate_passive_ideation() -> None:
    text = "I wish I could go to sleep and never wake up."

    found = of_type(text, SI)

    assert found.severity is CrisisSeverity.MODERATE
    assert not found.requires_immediate_attention


def test_self_harm_done_is_high_and_an_urge_is_moderate() -> None:
    done = "I cut myself again last night."
    urge = "The urge to cut is really strong today."

    assert of_type(done, SH).severity is CrisisSeverity.HIGH
    assert of_type(urge, SH).severity is CrisisSeverity.MODERATE


def test_thoughts_of_hurting_a_named_person_are_harm_to_others() -> None:
    text = "I keep thinking about hurting my stepdad."

    assert of_type(text, HO).severity is CrisisSeverity.HIGH


def test_hopelessness_is_found_on_its_own() -> None:
    text = "Nothing is ever going to get better."

    assert found_types(text) == {CrisisType.HOPELESSNESS}


def test_chat_spellings_are_read_like_full_words() -> None:
    assert SI in found_types("kms")
    assert SI in found_types("I dont wanna be here anymore")


# ---------------------------------------------------- what it must tell apart


def test_i_would_never_hurt_myself_is_no_concern() -> None:
    assert assess_text("I would never hurt myself.") == []


def test_a_negation_that_does_not_reach_the_wish_leaves_it_a_concern() -> None:
    text = "I don't know why, but I want to die."

    assert SI in found_types(text)


def test_a_deadline_that_is_killing_me_is_an_idiom() -> None:
    assert assess_text("This deadline is killing me.") == []


def test_dying_to_see_it_is_an_idiom() -> None:
    assert assess_text("I'm dying to see the new Marvel movie.") == []


def test_a_friend_who_wants_to_die_is_a_concern_to_note_not_the_patients() -> None:
    text = "My friend said she wants to die."

    found = assess_text(text)

    assert [a.crisis_type for a in found] == [THIRD]
    assert found[0].severity is CrisisSeverity.MODERATE
    assert not found[0].requires_immediate_attention


def test_a_friend_with_a_plan_is_an_urgent_third_party_concern() -> None:
    text = "He told me he has a plan to kill himself."

    assert of_type(text, THIRD).severity is CrisisSeverity.HIGH


def test_cutting_years_ago_is_low_severity_history() -> None:
    found = of_type("I used to cut years ago.", SH)

    assert found.historical
    assert found.severity is CrisisSeverity.LOW
    assert not found.requires_immediate_attention


def test_a_suicide_attempt_years_ago_is_moderate_history() -> None:
    found = of_type("When I was fifteen I tried to kill myself.", SI)

    assert found.historical
    assert found.severity is CrisisSeverity.MODERATE


def test_past_self_harm_whose_urges_came_back_is_current() -> None:
    text = "I used to cut years ago and the urges came back this week."

    found = of_type(text, SH)

    assert not found.historical
    assert found.severity is CrisisSeverity.MODERATE


def test_an_accident_is_not_self_harm() -> None:
    assert assess_text("I burned myself on the stove making dinner.") == []


def test_an_essay_about_self_harm_is_not_the_patients_self_harm() -> None:
    text = "I'm writing an essay on self-harm in adolescents for my class."

    assert assess_text(text) == []


def test_a_question_answered_no_is_no_concern() -> None:
    text = "The nurse asked whether I had thoughts of suicide and I said no."

    assert assess_text(text) == []


def test_a_panic_attack_that_felt_like_dying_is_no_concern() -> None:
    text = "I had a panic attack and felt like I was going to die."

    assert assess_text(text) == []


# -------------------------------------------------------------- warning signs


def test_saying_goodbye_to_everyone_is_a_warning_sign() -> None:
    found = of_type("I've said my goodbyes to everyone.", WARN)

    assert found.severity is CrisisSeverity.HIGH


def test_giving_things_away_is_a_moderate_warning_sign() -> None:
    found = of_type("I've been giving away my things.", WARN)

    assert found.severity is CrisisSeverity.MODERATE


def test_giving_things_away_while_decluttering_is_no_concern() -> None:
    text = "I gave away my old clothes to charity while decluttering."

    assert assess_text(text) == []


def test_feeling_a_burden_is_a_warning_sign() -> None:
    assert WARN in found_types("I feel like a burden to my family.")


def test_a_plan_raises_passive_ideation_to_high() -> None:
    text = "I wish I was dead. I know exactly how I would do it."

    assert of_type(text, SI).severity is CrisisSeverity.HIGH


def test_the_means_raise_passive_ideation_to_high() -> None:
    text = "I want to disappear forever. I've been saving up my pills."

    assert of_type(text, SI).severity is CrisisSeverity.HIGH


def test_a_plan_the_means_and_intent_together_are_imminent() -> None:
    text = "I have a plan, I have the pills, and I'm going to kill myself."

    assert of_type(text, SI).severity is CrisisSeverity.IMMINENT
    assert of_type(text, WARN).severity is CrisisSeverity.IMMINENT


def test_stated_intent_for_tonight_is_imminent() -> None:
    text = "I'm going to kill myself tonight."

    assert of_type(text, SI).severity is CrisisSeverity.IMMINENT


def test_a_plan_for_a_weekend_trip_is_no_concern() -> None:
    assert assess_text("I have a plan for the weekend: hiking and reading.") == []


def test_pills_already_taken_are_imminent() -> None:
    text = "I just took all of my pills."

    assert of_type(text, SI).severity is CrisisSeverity.IMMINENT
    assert of_type(text, WARN).severity is CrisisSeverity.IMMINENT


def test_ideation_disowned_in_the_same_sentence_is_capped_at_moderate() -> None:
    text = "Sometimes I think about suicide but I would never act on it."

    assert of_type(text, SI).severity is CrisisSeverity.MODERATE


def test_wanting_to_kill_someone_after_buying_a_gun_is_imminent() -> None:
    text = "I bought a gun and I'm going to kill my ex."

    assert of_type(text, HO).severity is CrisisSeverity.IMMINENT


# ------------------------------------------------------------------- results


def test_blank_text_has_no_concern() -> None:
    assert assess_text("   \n ") == []


def test_each_type_is_assessed_once_most_severe_first() -> None:
    text = "I feel hopeless. I want to kill myself. I can't take it anymore."

    found = assess_text(text)

    assert [a.crisis_type for a in found] == [SI, CrisisType.HOPELESSNESS]
    assert of_type(text, CrisisType.HOPELESSNESS).matched_phrases == (
        "feel hopeless",
        "can not take it anymore",
    )


def test_more_evidence_of_one_type_raises_confidence() -> None:
    one = of_type("I feel hopeless.", CrisisType.HOPELESSNESS)
    two = of_type("I feel hopeless. There's no way out.", CrisisType.HOPELESSNESS)

    assert two.confidence > one.confidence


def test_highest_severity_ignores_history() -> None:
    found = assess_text("I used to cut years ago. I feel hopeless.")

    assert highest_severity(found) is CrisisSeverity.MODERATE


def test_reading_text_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    assess_text("I have a plan, I have the pills, and I'm going to kill myself.")

    assert caplog.records == []


# ------------------------------------------------------- the labelled corpus


def test_the_corpus_holds_at_least_150_positives_and_150_negatives() -> None:
    assert len(positives(CORPUS)) >= 150
    assert len(negatives(CORPUS)) >= 150


def test_recall_on_the_positives_is_at_least_95_percent() -> None:
    cases = positives(CORPUS)

    recall = sum(detected(case) for case in cases) / len(cases)

    assert recall >= 0.95


def test_the_false_alarm_rate_on_the_negatives_is_at_most_10_percent() -> None:
    cases = negatives(CORPUS)

    alarms = sum(bool(own_current(judged(case))) for case in cases) / len(cases)

    assert alarms <= 0.10


@pytest.mark.parametrize("kind", [SI, SH, HO, CrisisType.HOPELESSNESS, WARN])
def test_every_crisis_type_is_recalled_at_least_90_percent(kind: CrisisType) -> None:
    cases = [case for case in positives(CORPUS) if kind in case.types]

    found = sum(
        any(a.crisis_type is kind for a in own_current(judged(case))) for case in cases
    )

    assert found / len(cases) >= 0.90


def test_no_case_labelled_high_or_imminent_is_rated_lower() -> None:
    urgent = [
        case
        for case in positives(CORPUS)
        if case.severity is not None and case.severity.rank >= 2 and detected(case)
    ]

    under_rated = [
        case.text
        for case in urgent
        if highest_severity(own_current(judged(case)))
        not in (
            CrisisSeverity.HIGH,
            CrisisSeverity.IMMINENT,
        )
    ]

    assert under_rated == []


def test_the_labelled_severity_is_matched_in_at_least_90_percent() -> None:
    cases = [case for case in positives(CORPUS) if detected(case)]

    matched = sum(
        highest_severity(own_current(judged(case))) is case.severity for case in cases
    )

    assert matched / len(cases) >= 0.90


def test_other_peoples_risk_is_noted_as_theirs_in_at_least_90_percent() -> None:
    cases = [case for case in negatives(CORPUS) if case.kind == THIRD_PARTY]

    noted = sum(any(a.crisis_type is THIRD for a in judged(case)) for case in cases)

    assert noted / len(cases) >= 0.90


def test_the_patients_past_is_never_a_current_concern() -> None:
    cases = [case for case in negatives(CORPUS) if case.kind == PAST]

    current = [case.text for case in cases if own_current(judged(case))]

    assert current == []
