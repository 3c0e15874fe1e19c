"""What a patient means by a check-in message: the intent, how sure the reading
is, and the mood they mention (a 1-10 rating, mood words).

Plain functions over plain values (DESIGN.md rule 2), no model and no network:
weighted phrase cues per intent over lower-cased text, with a negation window
("I'm not anxious" is no anxiety cue). The conversation repository calls
:func:`recognise_intent` for every message a patient sends and stores the
result; the response templates (``check_in_responses``) answer by intent.

Crisis comes first and always wins: the crisis detector (``crisis_language``)
reads the message, and any current signal of the patient's own risk (not a
friend's, not the patient's past) makes the intent :attr:`Intent.CRISIS`
whatever else the message says ("hi, I can't sleep and I want to die" is a
crisis, not a greeting or a sleep question). Otherwise the intent with the
highest cue weight wins; a greeting or goodbye loses to anything substantive
said with it, since "hi, I've been so anxious" is about the anxiety.

Confidence is the recogniser's certainty in the chosen intent, 0..1: it grows
with the cue weight found and shrinks when a second intent scored close. A
message with no cue at all is :attr:`Intent.UNKNOWN` with confidence 0 (no
intent recognised), and the templates then ask the patient to say more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from wellness_repo.analysis.crisis_language import (
    CrisisAssessment,
    CrisisType,
    assess_text,
)

__all__ = [
    "Intent",
    "IntentResult",
    "MoodLabel",
    "mood_labels_in",
    "mood_rating_in",
    "own_crisis_signals",
    "recognise_intent",
]


class Intent(StrEnum):
    """What a patient's check-in message is about."""

    GREETING = "greeting"
    MOOD_REPORT = "mood_report"
    ANXIETY = "anxiety"
    SLEEP = "sleep"
    COPING_SKILL_REQUEST = "coping_skill_request"
    """The patient asks for something to do: a technique, an exercise, tips."""
    CRISIS = "crisis"
    """A current risk to the patient's own safety (the crisis detector's call)."""
    GRATITUDE = "gratitude"
    GOODBYE = "goodbye"
    UNKNOWN = "unknown"
    """No intent recognised."""


class MoodLabel(StrEnum):
    """The mood words recognised in a message, reduced to a fixed vocabulary so
    that analytics store a label, never the patient's own words."""

    SAD = "sad"
    ANXIOUS = "anxious"
    STRESSED = "stressed"
    OVERWHELMED = "overwhelmed"
    ANGRY = "angry"
    LONELY = "lonely"
    TIRED = "tired"
    NUMB = "numb"
    OKAY = "okay"
    CALM = "calm"
    HAPPY = "happy"
    HOPEFUL = "hopeful"


@dataclass(frozen=True, slots=True)
class IntentResult:
    """The reading of one message.

    Attributes:
        intent: what the message is about.
        confidence: 0..1, how sure the reading is (0 for :attr:`Intent.UNKNOWN`).
        mood_rating: a 1 (worst) to 10 (best) rating the patient gave, if any.
        mood_labels: the mood words mentioned, as labels, in order of mention.
        crisis_signals: every current crisis signal the detector found (the
            patient's own and, noted for the care team, concern for another
            person); historical ones are left out.
    """

    intent: Intent
    confidence: float
    mood_rating: int | None = None
    mood_labels: tuple[MoodLabel, ...] = ()
    crisis_signals: tuple[CrisisAssessment, ...] = ()

    @property
    def is_crisis(self) -> bool:
        """Whether the message carries a current risk to the patient."""
        return self.intent is Intent.CRISIS


# A negation reaches a word within its clause, up to a "but" that turns it.
_NEGATION = re.compile(
    r"(?:\b(?:not|no|never|nothing|without)\b|n't)(?:(?!\bbut\b)[^.!?,;]){0,20}$"
)

# (pattern, weight) per intent. Weights: 3 says the intent by itself, 2 is a
# strong hint, 1 is a weak one that needs company.
_CUES: dict[Intent, tuple[tuple[str, float], ...]] = {
    Intent.GREETING: (
        (r"^(?:hi|hello|hey|hiya|howdy|yo)\b", 2.0),
        (r"\bgood (?:morning|afternoon|evening)\b", 2.0),
        (r"\b(?:hi|hello|hey) there\b", 1.0),
        (r"\bhow are you\b", 1.0),
    ),
    Intent.GOODBYE: (
        (r"\b(?:bye|goodbye|good night|goodnight|see you|see ya|talk later)\b", 3.0),
        (r"\b(?:got to|gotta|have to|need to) go\b", 2.0),
        (r"\b(?:that'?s all|signing off|logging off|heading to bed)\b", 2.0),
        (r"\bthanks? (?:for (?:the chat|listening|today)|again)\b", 1.0),
    ),
    Intent.GRATITUDE: (
        (r"\b(?:grateful|thankful|appreciative)\b", 3.0),
        (r"\bgratitude\b", 2.0),
        (r"\b(?:thank you|thanks)\b", 1.0),
        (r"\b(?:i appreciate|appreciated|lucky to have|blessed)\b", 2.0),
        (r"\bgood thing(?:s)? (?:today|that happened)\b", 2.0),
    ),
    Intent.ANXIETY: (
        (r"\b(?:anxious|anxiety|panic(?:king|ky)?|panic attacks?)\b", 3.0),
        (r"\b(?:nervous|worried|worrying|on edge|freaking out|scared)\b", 2.0),
        (r"\b(?:racing (?:heart|thoughts)|heart (?:is )?pounding)\b", 2.0),
        (r"\b(?:can'?t (?:breathe|calm down|stop worrying)|tight chest)\b", 2.0),
        (r"\b(?:stressed|stress|tense|dread)\b", 1.0),
    ),
    Intent.SLEEP: (
        (r"\b(?:insomnia|can'?t (?:fall |get to )?sleep|couldn'?t sleep)\b", 3.0),
        (r"\b(?:sleep(?:ing)?|slept|asleep|awake)\b", 2.0),
        (r"\b(?:nightmares?|bedtime|wak(?:e|ing) up at|up all night)\b", 2.0),
        (r"\b(?:tossing and turning|3 ?am|4 ?am)\b", 2.0),
        (r"\b(?:tired|exhausted|drained)\b", 1.0),
    ),
    Intent.COPING_SKILL_REQUEST: (
        (r"\b(?:coping (?:skill|strateg|technique|tool)\w*)\b", 3.0),
        (r"\bwhat (?:can|should) i do\b", 3.0),
        (r"\bhow (?:do|can) i (?:cope|calm|stop|deal|relax)", 3.0),
        (r"\b(?:any (?:tips|ideas|advice|suggestions)|give me (?:a|an|some))\b", 2.0),
        (r"\b(?:an? (?:exercise|technique|skill)|breathing exercise)\b", 2.0),
        (r"\b(?:help me (?:calm|relax|cope|get through)|need help)\b", 2.0),
        (r"\b(?:help|cope|coping)\b", 1.0),
    ),
    Intent.MOOD_REPORT: (
        (r"\b(?:my mood|mood (?:is|was|today))\b", 3.0),
        (r"\b(?:i'?m|i am|i feel|feeling|i'?ve been|felt)\b", 1.0),
        (r"\b(?:sad|down|low|depressed|blue|miserable|lonely|numb|empty)\b", 2.0),
        (r"\b(?:happy|good|great|fine|okay|ok|better|calm|content|hopeful)\b", 1.0),
        (r"\b(?:angry|irritable|frustrated|overwhelmed|upset)\b", 2.0),
        (r"\b(?:tired|exhausted|drained|worn out)\b", 1.0),
    ),
}
_COMPILED = {
    intent: tuple((re.compile(pattern), weight) for pattern, weight in cues)
    for intent, cues in _CUES.items()
}
# Greetings and goodbyes wrap what matters: they win only when nothing else
# scored. Among the rest a tie goes to the more specific intent.
_WRAPPERS = (Intent.GREETING, Intent.GOODBYE)
# Feelings flip when negated ("not anxious"); a negated sleep is the complaint
# itself ("didn't sleep", "haven't slept"), so sleep cues are never negated.
_NEGATABLE = frozenset({Intent.ANXIETY, Intent.MOOD_REPORT, Intent.GRATITUDE})
_TIE_ORDER = (
    Intent.ANXIETY,
    Intent.SLEEP,
    Intent.COPING_SKILL_REQUEST,
    Intent.MOOD_REPORT,
    Intent.GRATITUDE,
    Intent.GOODBYE,
    Intent.GREETING,
)

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUMBER = r"(10|[1-9]|one|two|three|four|five|six|seven|eight|nine|ten)"
_OUT_OF_TEN = re.compile(rf"\b{_NUMBER}\s*(?:/|out of|of)\s*(?:10|ten)\b")
_RATED = re.compile(
    rf"\b(?:mood|rate (?:it|myself|my mood|today)|rating|score|i'?d say|"
    rf"feel(?:ing)?(?: like)?|i'?m(?: at)?|today is|today'?s|maybe|probably)"
    rf"\s+(?:(?:is|was|of|at|about|around|like|maybe|probably)\s+)*"
    rf"(?:(?:a|an)\s+)?{_NUMBER}\b"
    rf"(?!\s*(?:am|pm|hours?|days?|weeks?|months?|years?|minutes?|times?|%))"
)

_MOOD_WORDS: tuple[tuple[str, MoodLabel], ...] = (
    (r"sad|down|low|depressed|blue|miserable|empty|hopeless", MoodLabel.SAD),
    (r"anxious|nervous|worried|panicky|on edge|scared", MoodLabel.ANXIOUS),
    (r"stressed|tense|under pressure", MoodLabel.STRESSED),
    (r"overwhelmed|swamped", MoodLabel.OVERWHELMED),
    (r"angry|irritable|frustrated|annoyed|furious", MoodLabel.ANGRY),
    (r"lonely|alone|isolated", MoodLabel.LONELY),
    (r"tired|exhausted|drained|worn out", MoodLabel.TIRED),
    (r"numb|flat", MoodLabel.NUMB),
    (r"okay|ok|fine|alright|so-so|meh", MoodLabel.OKAY),
    (r"calm|relaxed|peaceful|settled", MoodLabel.CALM),
    (
        r"happy|great|content|cheerful|better|"
        r"(?:feel(?:ing)?|i'?m|i am) (?:pretty |really |quite |so |very )?good",
        MoodLabel.HAPPY,
    ),
    (r"hopeful|optimistic|motivated", MoodLabel.HOPEFUL),
)
_MOOD_PATTERNS = tuple(
    (re.compile(rf"\b(?:{words})\b"), label) for words, label in _MOOD_WORDS
)


def recognise_intent(
    text: str, crisis_signals: Sequence[CrisisAssessment] | None = None
) -> IntentResult:
    """The intent of a patient's message, with its confidence and the mood
    mentioned.

    Args:
        text: the message as the patient wrote it; never logged.
        crisis_signals: what the crisis detector found in ``text``, when the
            caller ran it already; read here otherwise.
    """
    found = assess_text(text) if crisis_signals is None else list(crisis_signals)
    current = tuple(signal for signal in found if not signal.historical)
    lowered = _normalised(text)
    rating = mood_rating_in(lowered)
    labels = mood_labels_in(lowered)
    own = own_crisis_signals(current)
    if own:
        confidence = max(signal.confidence for signal in own)
        return IntentResult(
            Intent.CRISIS, round(max(confidence, 0.5), 2), rating, labels, current
        )
    scores = _scores(lowered)
    if rating is not None:
        scores[Intent.MOOD_REPORT] = scores.get(Intent.MOOD_REPORT, 0.0) + 3.0
    intent, confidence = _chosen(scores)
    return IntentResult(intent, confidence, rating, labels, current)


def own_crisis_signals(
    signals: Sequence[CrisisAssessment],
) -> tuple[CrisisAssessment, ...]:
    """The current signals of the patient's own risk: not history, and not a
    concern for someone else."""
    return tuple(
        signal
        for signal in signals
        if not signal.historical
        and signal.crisis_type is not CrisisType.THIRD_PARTY_CONCERN
    )


def mood_rating_in(text: str) -> int | None:
    """A 1-10 mood rating written in the message ("about a 4 out of 10", "mood
    is 7", "I'd say six"), or ``None``."""
    lowered = _normalised(text)
    match = _OUT_OF_TEN.search(lowered) or _RATED.search(lowered)
    if match is None:
        return None
    value = match.group(1)
    return _NUMBER_WORDS[value] if value in _NUMBER_WORDS else int(value)


def mood_labels_in(text: str) -> tuple[MoodLabel, ...]:
    """The mood words of the message as labels, each once, in order of mention;
    a negated word ("not happy") is left out."""
    lowered = _normalised(text)
    found: list[tuple[int, MoodLabel]] = []
    for pattern, label in _MOOD_PATTERNS:
        for match in pattern.finditer(lowered):
            if not _negated(lowered, match.start()):
                found.append((match.start(), label))
                break
    return tuple(dict.fromkeys(label for _, label in sorted(found)))


def _normalised(text: str) -> str:
    if not isinstance(text, str):
        return ""
    return " ".join(text.lower().replace("\u2019", "'").split())


def _negated(text: str, start: int) -> bool:
    return _NEGATION.search(text[max(0, start - 30) : start]) is not None


def _scores(text: str) -> dict[Intent, float]:
    scores: dict[Intent, float] = {}
    for intent, cues in _COMPILED.items():
        total = 0.0
        for pattern, weight in cues:
            match = pattern.search(text)
            if match is None:
                continue
            if intent in _NEGATABLE and _negated(text, match.start()):
                continue
            total += weight
        if total:
            scores[intent] = total
    return scores


def _chosen(scores: dict[Intent, float]) -> tuple[Intent, float]:
    substantive = {
        intent: score
        for intent, score in scores.items()
        if intent not in _WRAPPERS and score >= 2.0
    }
    pool = substantive or scores
    if not pool:
        return Intent.UNKNOWN, 0.0
    ranked = sorted(pool, key=lambda intent: (-pool[intent], _TIE_ORDER.index(intent)))
    best = ranked[0]
    top = pool[best]
    runner_up = pool[ranked[1]] if len(ranked) > 1 else 0.0
    certainty = min(0.95, 0.35 + 0.15 * top)
    confidence = certainty * (1.0 - 0.4 * runner_up / top)
    return best, round(max(0.05, confidence), 2)
