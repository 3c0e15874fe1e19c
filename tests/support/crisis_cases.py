"""The labelled case type of the crisis-language corpus, and how cases are
written down (see ``crisis_phrases``)."""

from __future__ import annotations

from dataclasses import dataclass

from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType

__all__ = [
    "ACCIDENT",
    "CLINICAL",
    "EVERYDAY",
    "HIGH",
    "HO",
    "HOPE",
    "IDIOM",
    "IMMINENT",
    "LOW",
    "MODERATE",
    "NEGATION",
    "PAST",
    "POSITIVE",
    "SH",
    "SI",
    "THIRD_PARTY",
    "WARN",
    "PhraseCase",
    "negative_cases",
    "negatives",
    "positive_case",
    "positives",
]

SI = CrisisType.SUICIDAL_IDEATION
SH = CrisisType.SELF_HARM
HO = CrisisType.HARM_TO_OTHERS
HOPE = CrisisType.HOPELESSNESS
WARN = CrisisType.WARNING_SIGNS

LOW = CrisisSeverity.LOW
MODERATE = CrisisSeverity.MODERATE
HIGH = CrisisSeverity.HIGH
IMMINENT = CrisisSeverity.IMMINENT

# What a negative case is an example of.
NEGATION = "negation"
IDIOM = "idiom"
THIRD_PARTY = "third_party"
PAST = "past"
EVERYDAY = "everyday_distress"
CLINICAL = "clinical_or_media"
ACCIDENT = "accident"
POSITIVE = "positive"


@dataclass(frozen=True, slots=True)
class PhraseCase:
    """One labelled passage.

    Attributes:
        text: what the patient wrote.
        kind: ``"positive"`` or the kind of negative (``NEGATION``...).
        types: for positives, the crisis types that must be found (any one of
            them counts towards recall; all of them towards type agreement).
        severity: for positives, the highest severity a clinician would give.
    """

    text: str
    kind: str
    types: frozenset[CrisisType] = frozenset()
    severity: CrisisSeverity | None = None

    @property
    def is_positive(self) -> bool:
        """Whether the patient's own, current words express a crisis."""
        return self.kind == POSITIVE


def positive_case(
    text: str, severity: CrisisSeverity, *types: CrisisType
) -> PhraseCase:
    """A passage expressing the patient's own, current crisis."""
    return PhraseCase(text, POSITIVE, frozenset(types), severity)


def negative_cases(kind: str, *texts: str) -> list[PhraseCase]:
    """Passages expressing no current crisis of the patient's own."""
    return [PhraseCase(text, kind) for text in texts]


def positives(cases: tuple[PhraseCase, ...]) -> list[PhraseCase]:
    """The cases expressing the patient's own, current crisis."""
    return [case for case in cases if case.is_positive]


def negatives(cases: tuple[PhraseCase, ...]) -> list[PhraseCase]:
    """The cases expressing no current crisis of the patient's own."""
    return [case for case in cases if not case.is_positive]
