"""The tone scores of a patient's writing: VADER, averaged over sentences."""

from __future__ import annotations

from typing import Any

import pytest

from wellness_repo import SentimentScores, Tone, ValidationError, score_sentiment
from wellness_repo.analysis.sentiment import MAX_TEXT_LENGTH

GOOD_DAY = "Today was wonderful. I laughed with my sister and felt really happy."
BAD_DAY = "Everything went wrong. I feel awful, lonely and miserable."


def test_a_good_day_reads_positive() -> None:
    assert score_sentiment(GOOD_DAY).tone is Tone.POSITIVE


def test_a_bad_day_reads_negative() -> None:
    assert score_sentiment(BAD_DAY).tone is Tone.NEGATIVE


def test_a_plain_report_reads_neutral() -> None:
    assert score_sentiment("I went to the pharmacy at noon.").tone is Tone.NEUTRAL


def test_the_shares_of_tone_add_up_to_one() -> None:
    scores = score_sentiment(BAD_DAY)

    assert scores.positive + scores.neutral + scores.negative == pytest.approx(
        1.0, abs=0.01
    )


def test_one_bad_moment_does_not_swamp_an_otherwise_calm_entry() -> None:
    calm = "I walked to the park. I read my book. I made tea. I called my mum."
    one_bad_moment = calm + " Then I felt awful."

    scores = score_sentiment(one_bad_moment)

    assert scores.compound > -0.2


def test_a_long_entry_does_not_saturate_at_the_extreme() -> None:
    text = " ".join([BAD_DAY, "I went to work.", "I cooked dinner."] * 20)

    assert score_sentiment(text).compound > -0.9


def test_emoji_only_writing_is_scored() -> None:
    assert score_sentiment("\U0001f622\U0001f622").tone is Tone.NEGATIVE


def test_the_tone_thresholds_are_vaders_plus_and_minus_0_05() -> None:
    assert SentimentScores(0.05, 0.1, 0.9, 0.0).tone is Tone.POSITIVE
    assert SentimentScores(0.049, 0.1, 0.9, 0.0).tone is Tone.NEUTRAL
    assert SentimentScores(-0.05, 0.0, 0.9, 0.1).tone is Tone.NEGATIVE


def test_blank_text_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        score_sentiment("  \n ")

    assert (raised.value.field, raised.value.rule) == ("text", "blank")


def test_text_that_is_not_a_string_is_refused() -> None:
    not_text: Any = 42

    with pytest.raises(ValidationError) as raised:
        score_sentiment(not_text)

    assert (raised.value.field, raised.value.rule) == ("text", "type")


def test_text_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        score_sentiment("a" * (MAX_TEXT_LENGTH + 1))

    assert raised.value.rule == "max_length"
