"""Scoring standardised outcome questionnaires (PHQ-9, GAD-7): totals, severity
bands, the PHQ-9 self-harm item, and reliable change since a baseline.

Plain functions over plain values (DESIGN.md rule 2): the treatment-plan
repository fetches a plan, calls these, and stores what they return.

Reliable change follows NHS Talking Therapies: a fall of at least 6 points on the
PHQ-9 (4 on the GAD-7) from baseline is reliable improvement, a rise of at least
as much is reliable deterioration. "At least" is deliberate: a change exactly
equal to the threshold counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wellness_repo.errors import ValidationError

__all__ = [
    "INSTRUMENTS",
    "Instrument",
    "InstrumentDefinition",
    "InstrumentScore",
    "ReliableChange",
    "SeverityBand",
    "classify_change",
    "parse_instrument",
    "score_responses",
    "severity_band",
]


class Instrument(StrEnum):
    """A validated questionnaire a patient completes to measure their symptoms."""

    PHQ9 = "PHQ-9"
    """Patient Health Questionnaire: nine items on depression, each 0-3."""
    GAD7 = "GAD-7"
    """Generalised Anxiety Disorder scale: seven items on anxiety, each 0-3."""


class SeverityBand(StrEnum):
    """How severe the symptoms a total score describes are."""

    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SEVERE = "severe"


class ReliableChange(StrEnum):
    """Whether a score moved from baseline by more than measurement error."""

    IMPROVEMENT = "reliable_improvement"
    DETERIORATION = "reliable_deterioration"
    NO_RELIABLE_CHANGE = "no_reliable_change"


@dataclass(frozen=True, slots=True)
class InstrumentDefinition:
    """What scoring one questionnaire needs to know about it.

    Args:
        item_count: how many items the patient answers.
        max_item_score: the highest answer to one item (answers start at 0).
        bands: ``(highest total, band)`` pairs in rising order.
        reliable_change_threshold: the smallest change from baseline, in points,
            that counts as reliable.
        safety_items: 1-based items whose answer above 0 needs a clinician's
            safety follow-up whatever the total.
    """

    instrument: Instrument
    item_count: int
    max_item_score: int
    bands: tuple[tuple[int, SeverityBand], ...]
    reliable_change_threshold: int
    safety_items: tuple[int, ...] = ()

    @property
    def max_total(self) -> int:
        """The highest total score the questionnaire allows."""
        return self.item_count * self.max_item_score


INSTRUMENTS: dict[Instrument, InstrumentDefinition] = {
    Instrument.PHQ9: InstrumentDefinition(
        instrument=Instrument.PHQ9,
        item_count=9,
        max_item_score=3,
        bands=(
            (4, SeverityBand.MINIMAL),
            (9, SeverityBand.MILD),
            (14, SeverityBand.MODERATE),
            (19, SeverityBand.MODERATELY_SEVERE),
            (27, SeverityBand.SEVERE),
        ),
        reliable_change_threshold=6,
        # Item 9 asks about thoughts of being better off dead or of self-harm.
        safety_items=(9,),
    ),
    Instrument.GAD7: InstrumentDefinition(
        instrument=Instrument.GAD7,
        item_count=7,
        max_item_score=3,
        bands=(
            (4, SeverityBand.MINIMAL),
            (9, SeverityBand.MILD),
            (14, SeverityBand.MODERATE),
            (21, SeverityBand.SEVERE),
        ),
        reliable_change_threshold=4,
    ),
}


@dataclass(frozen=True, slots=True)
class InstrumentScore:
    """One completed questionnaire, scored.

    Args:
        total: the sum of the item answers.
        severity: the band the total falls in.
        positive_safety_items: the 1-based safety items answered above 0.
    """

    instrument: Instrument
    total: int
    severity: SeverityBand
    positive_safety_items: tuple[int, ...]

    @property
    def requires_safety_follow_up(self) -> bool:
        """Whether a clinician must follow up on risk, whatever the total."""
        return bool(self.positive_safety_items)


def parse_instrument(value: Any) -> Instrument:
    """The questionnaire named by ``value``: ``"PHQ-9"``, ``"phq9"``, ``"GAD-7"``.

    Raises:
        ValidationError: ``value`` names no supported questionnaire.
    """
    if isinstance(value, Instrument):
        return value
    if isinstance(value, str):
        wanted = _plain_name(value)
        for instrument in Instrument:
            if wanted in (_plain_name(instrument.value), _plain_name(instrument.name)):
                return instrument
    names = ", ".join(instrument.value for instrument in Instrument)
    raise ValidationError(
        f"not a supported instrument; expected one of {names}",
        field="instrument",
        rule="unknown_instrument",
    )


def score_responses(
    instrument: Instrument, item_responses: Sequence[int]
) -> InstrumentScore:
    """Score one completed questionnaire from its item answers, in item order.

    Raises:
        ValidationError: the wrong number of answers, or an answer that is not a
            whole number in the item's range; the field names the item
            (``item_responses.item_9``).
    """
    definition = INSTRUMENTS[instrument]
    answers = _checked_answers(definition, item_responses)
    total = sum(answers)
    positive = tuple(item for item in definition.safety_items if answers[item - 1] > 0)
    return InstrumentScore(
        instrument=instrument,
        total=total,
        severity=severity_band(instrument, total),
        positive_safety_items=positive,
    )


def severity_band(instrument: Instrument, total: int) -> SeverityBand:
    """The severity band a total score of ``instrument`` falls in.

    Raises:
        ValidationError: ``total`` is outside the instrument's range.
    """
    definition = INSTRUMENTS[instrument]
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValidationError(
            "a total score must be a whole number", field="total_score", rule="type"
        )
    if not 0 <= total <= definition.max_total:
        raise ValidationError(
            f"a {instrument.value} total must be from 0 to {definition.max_total}",
            field="total_score",
            rule="range",
        )
    for highest, band in definition.bands:
        if total <= highest:
            return band
    raise AssertionError("the bands cover every total")  # pragma: no cover


def classify_change(
    instrument: Instrument, baseline_total: int, total: int
) -> ReliableChange:
    """Whether ``total`` is a reliable change from ``baseline_total``.

    On both instruments a lower score means fewer symptoms, so a fall of at
    least the threshold is improvement and a rise of at least it deterioration.
    """
    severity_band(instrument, baseline_total)
    severity_band(instrument, total)
    threshold = INSTRUMENTS[instrument].reliable_change_threshold
    change = total - baseline_total
    if change <= -threshold:
        return ReliableChange.IMPROVEMENT
    if change >= threshold:
        return ReliableChange.DETERIORATION
    return ReliableChange.NO_RELIABLE_CHANGE


def _checked_answers(
    definition: InstrumentDefinition, item_responses: Any
) -> list[int]:
    name = definition.instrument.value
    if isinstance(item_responses, str | bytes) or not isinstance(
        item_responses, Sequence
    ):
        raise ValidationError(
            f"{name} answers must be a list of whole numbers, in item order",
            field="item_responses",
            rule="type",
        )
    if len(item_responses) != definition.item_count:
        raise ValidationError(
            f"{name} needs exactly {definition.item_count} item answers, "
            f"got {len(item_responses)}",
            field="item_responses",
            rule="item_count",
        )
    answers: list[int] = []
    for number, answer in enumerate(item_responses, start=1):
        # bool is an int subclass, and True is not an answer to a questionnaire.
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ValidationError(
                f"{name} item {number} must be a whole number",
                field=f"item_responses.item_{number}",
                rule="type",
            )
        if not 0 <= answer <= definition.max_item_score:
            raise ValidationError(
                f"{name} item {number} must be from 0 to {definition.max_item_score}",
                field=f"item_responses.item_{number}",
                rule="range",
            )
        answers.append(answer)
    return answers


def _plain_name(value: str) -> str:
    return "".join(character for character in value.upper() if character.isalnum())
