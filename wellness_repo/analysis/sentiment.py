"""The emotional tone of what a patient wrote, with VADER (Hutto & Gilbert 2014,
ICWSM-14), a validated lexicon-and-rules model that ships its lexicon, so
scoring needs no download and no network.

Plain functions over plain values (DESIGN.md rule 2). A journal entry runs to
many sentences, and VADER's compound score saturates towards -1 or +1 as a text
grows, so each sentence is scored and the scores are averaged: a long entry that
is mostly calm with one bad moment stays near calm. ``compound`` is -1 (most
negative) to +1 (most positive); ``positive``, ``neutral`` and ``negative`` are
the shares of the text in each tone and add up to about 1. The usual reading
(VADER's documentation) is positive at ``compound >= 0.05``, negative at
``<= -0.05``, neutral in between.

VADER was built for short social-media English. It reads words, not meaning:
"I questioned my negative thoughts and felt calmer" scores negative. The scores
describe tone for trends and prompts; they are not a risk assessment (that is
``crisis_language``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from wellness_repo.errors import ValidationError

__all__ = ["SentimentScores", "Tone", "score_sentiment"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_THRESHOLD = 0.05
MAX_TEXT_LENGTH = 100_000
"""The longest text scored, in characters (about forty pages)."""


class Tone(StrEnum):
    """The overall tone a compound score stands for."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


@dataclass(frozen=True, slots=True)
class SentimentScores:
    """The tone of one piece of writing.

    Attributes:
        compound: -1 (most negative) to +1 (most positive).
        positive: the share of the text that reads positive, 0..1.
        neutral: the share that reads neutral, 0..1.
        negative: the share that reads negative, 0..1.
    """

    compound: float
    positive: float
    neutral: float
    negative: float

    @property
    def tone(self) -> Tone:
        """Positive, neutral or negative, by VADER's usual thresholds."""
        if self.compound >= _THRESHOLD:
            return Tone.POSITIVE
        if self.compound <= -_THRESHOLD:
            return Tone.NEGATIVE
        return Tone.NEUTRAL


def score_sentiment(text: str) -> SentimentScores:
    """The tone of a patient's writing, averaged over its sentences.

    Raises:
        ValidationError: ``text`` is not a string, has no words, or is longer
            than :data:`MAX_TEXT_LENGTH`.
    """
    checked = _checked_text(text)
    analyzer = _analyzer()
    parts = [part for part in _SENTENCE_END.split(checked) if part.strip()]
    scores = [analyzer.polarity_scores(part) for part in parts]
    count = len(scores)
    return SentimentScores(
        compound=_mean(scores, "compound", count),
        positive=_mean(scores, "pos", count),
        neutral=_mean(scores, "neu", count),
        negative=_mean(scores, "neg", count),
    )


@cache
def _analyzer() -> Any:
    # Loading the lexicon takes about 10 ms; scoring only reads it afterwards,
    # so one analyzer serves every caller and thread.
    return SentimentIntensityAnalyzer()


def _checked_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ValidationError("text must be a string", field="text", rule="type")
    if not text.strip():
        raise ValidationError("text is blank", field="text", rule="blank")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(
            f"text may be at most {MAX_TEXT_LENGTH} characters",
            field="text",
            rule="max_length",
        )
    return text


def _mean(scores: list[dict[str, float]], key: str, count: int) -> float:
    return round(sum(float(score[key]) for score in scores) / count, 4)
