"""What one crisis phrase family is: its pattern, the concern it signals, its base
severity, the warning sign it is, and how a match is read.

Each :class:`Cue` is one family of phrasings over normalised text (see
``crisis_text``), with the concern it signals, its base severity and how sure a
match is. Patterns may name, in a ``who`` group, the pronoun that says whose risk
it is ("kill *myself*", "end *her* life"), and, in a ``core`` group, the part a
negation must precede ("I don't *want to die*"); without a ``core`` the whole
match is the core.

Concerns and severities are the string values of ``CrisisType`` and
``CrisisSeverity`` (``crisis_language`` defines them and maps these back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from wellness_repo.analysis.crisis_scope import PERSON_NOUNS

__all__ = [
    "HIGH",
    "HO",
    "HOPE",
    "IMMINENT",
    "LOW",
    "MODERATE",
    "SH",
    "SI",
    "WARN",
    "Cue",
    "Sign",
    "cue",
]


class Sign(StrEnum):
    """A warning sign that raises the urgency of whatever else is said."""

    PLAN = "plan"
    MEANS = "means"
    INTENT = "intent"
    FAREWELL = "farewell"
    GIVING_AWAY = "giving_away"
    BURDEN = "burden"
    ACT_NOW = "act_now"
    """An attempt or injury happening now (pills already taken)."""


@dataclass(frozen=True, slots=True)
class Cue:
    """One family of crisis phrasings.

    Attributes:
        name: a short label, for tests and tuning (never the patient's words).
        concern: the ``CrisisType`` value it signals.
        level: the ``CrisisSeverity`` value of a plain, current match.
        confidence: 0..1, how often such a match is a real signal.
        pattern: the compiled phrase pattern.
        sign: the warning sign it also is, if any.
        needs_context: counts only beside another crisis phrase ("I have a
            plan" alone is a weekend plan).
        urge_level: for self-harm acts, the level when the phrase is an urge
            or a fear ("I want to cut") rather than an act ("I cut").
        attempt: a suicide attempt; told as past it stays a moderate concern.
        topic: a noun that is also a subject of study ("self-harm"); dropped in
            sentences about a course, a book or the news unless the patient
            says they feel it.
        deliberate: needs the sentence to mark the act as deliberate.
        act: an act (not a feeling) that, followed by a near time ("ending it
            tonight"), is timed and so imminent.
        fallback: a broad operator-and-concept pattern that only counts where
            no specific phrase already matched the same words.
    """

    name: str
    concern: str
    level: str
    confidence: float
    pattern: re.Pattern[str]
    sign: Sign | None = None
    needs_context: bool = False
    urge_level: str | None = None
    attempt: bool = False
    topic: bool = False
    deliberate: bool = False
    act: bool = False
    fallback: bool = False


_SLOTS = {
    "{self}": r"(?P<who>myself|himself|herself|themselves|themself|yourself)",
    "{poss}": r"(?P<who>my|his|her|their|your)",
    "{subj}": r"(?P<who>i|he|she|they|you)",
    "{person}": (
        r"(?:him|her|them|someone|somebody|anyone|anybody|everyone|everybody|"
        r"people|others|other people|(?:my|his|her|their|the|that|this|those|"
        r"our) (?:\w+ )?(?:" + PERSON_NOUNS + r"))(?! (?:feelings|chances|career|"
        r"reputation|pride|ego|business|grades))"
    ),
    "{pills}": (
        r"(?:pills|meds|medication|medications|tablets|painkillers|sleeping pills|"
        r"antidepressants|insulin|tylenol|paracetamol)"
    ),
    "{want}": (
        r"(?:want|wanted|wanting|wants|wish|wishing|wished|desire|ready|"
        r"deserve|deserves)"
    ),
    "{thinking}": (
        r"(?:think|thinking|thought|thoughts|considering|considered|consider|"
        r"contemplating|contemplated|contemplate|fantasi[sz]e|fantasi[sz]ing|"
        r"fantasi[sz]ed|imagine|imagining|imagined|picturing|dream|dreaming)"
    ),
}

CUT_FOLLOWS = (
    r"(?= ?(?:$|,|and\b|but\b|because\b|again|myself|tonight|today|yesterday|"
    r"last night|this (?:morning|week|evening)|so\b|deep|when\b|until\b|"
    r"to (?:feel|cope|punish|calm|numb|release)|years|months|for years|"
    r"in (?:high|middle) school|as a|is\b|was\b|so bad|really bad))"
)


def _p(pattern: str) -> re.Pattern[str]:
    for slot, alternative in _SLOTS.items():
        pattern = pattern.replace(slot, alternative)
    return re.compile(pattern)


def cue(
    name: str,
    concern: str,
    level: str,
    confidence: float,
    pattern: str,
    *,
    sign: Sign | None = None,
    needs_context: bool = False,
    urge_level: str | None = None,
    attempt: bool = False,
    topic: bool = False,
    deliberate: bool = False,
    act: bool = False,
    fallback: bool = False,
) -> Cue:
    """A cue from a pattern written with the shared slots (``{self}``,
    ``{poss}``, ``{subj}``, ``{person}``, ``{pills}``, ``{want}``,
    ``{thinking}``)."""
    return Cue(
        name,
        concern,
        level,
        confidence,
        _p(pattern),
        sign=sign,
        needs_context=needs_context,
        urge_level=urge_level,
        attempt=attempt,
        topic=topic,
        deliberate=deliberate,
        act=act,
        fallback=fallback,
    )


SI, SH, HO = "suicidal_ideation", "self_harm", "harm_to_others"
HOPE, WARN = "hopelessness", "warning_signs"
LOW, MODERATE, HIGH, IMMINENT = "low", "moderate", "high", "imminent"
