"""Crisis signals in a patient's own words: suicidal ideation, self-harm, harm
to others, hopelessness and the warning signs that raise their urgency.

Plain functions over plain values (DESIGN.md rule 2), with no network and no
model: sentence-level, clause-aware rules over normalised text (``crisis_text``).
The phrases live in ``crisis_lexicon`` and the ``crisis_cues_*`` modules; the
scope rules (negation, whose risk, past or present, accident, topic of study) in
``crisis_scope``. A missed crisis costs far more than a false alarm, so the rules
were written for recall first and then narrowed.

How a passage is read:

- Each sentence is searched for crisis phrases after figures of speech are set
  aside ("this deadline is killing me", "dying to see it"): specific phrase
  families first, then a broad fallback (a wish, thought or intention followed,
  in the same clause, by dying or self-injury: "I hope I die in my sleep").
- A phrase is dropped when a negation reaches it within its clause ("I would
  never hurt myself"; not "I don't know why I want to die"), when the sentence
  goes on to deny it ("... is not an option"), when it is a question the patient
  answered "no", when it tells of an accident, or when it names a topic of a
  course, a book or the news.
- A phrase about someone else ("my friend said *she* wants to die") becomes one
  ``THIRD_PARTY_CONCERN``, never the patient's own ideation.
- A phrase told as past ("I used to cut years ago") is history: low severity
  (moderate for a suicide attempt, as the C-SSRS treats lifetime behaviour),
  marked ``historical`` and never urgent, unless the same part of the sentence
  says it is back ("... and the urges came back this week").
- Warning signs raise severity: a plan or the means makes ideation high; a plan
  and the means together, stated intent with a near time ("tonight"), an act
  given a near time ("ending it tonight"), or an attempt under way (pills
  already taken) make it imminent. Saying goodbye, giving things away and
  feeling a burden are warning signs of their own. "I think about it but would
  never act on it" caps ideation at moderate.

Validation (``tests/support/crisis_phrases.py`` and ``crisis_phrases_held_out``,
checked by ``tests/unit/test_crisis_language.py``): 631 short passages written
the way patients write (informal, misspelled, several sentences), each labelled
with the crisis types and the highest severity a clinician would give. 294 positives:
suicidal ideation (131 cases), self-harm (50), harm to others (33),
hopelessness (47), warning signs (60; a case may carry several). 337 negatives:
idioms and look-alike everyday sentences (114), everyday distress (66),
negations (53), other people's risk (38), the patient's past (35), clinical or
media talk about suicide (21), accidents (10). On the whole set: recall 0.993
(292 of 294; the misses are an allusion without any crisis word, "there's a
bridge near my house and I keep thinking about it", and a plan to "take the
pills on Friday" that cannot be told from taking medication), false-alarm rate
0.000 (0 of 337), the labelled severity matched in every detected case, no case
labelled high or imminent was rated lower, 37 of 38 third-party cases were
noted as such, and 31 of 35 past cases were noted as history (the other four
produced nothing).

Those figures flatter the rules, which were tuned on these cases. The honest
estimate for unseen wording comes from three held-out rounds, each written after
the rules were frozen and measured once before any change: recall 0.80 (48/60),
0.62 (28/45) and 0.67 (20/30; the first round measured with the fallback), 0.71
pooled; false-alarm rate 0.017, 0.022 and 0.033, 0.022 pooled. Expect a
patient's new phrasings to be missed about a quarter of the time: this detector
flags text for a clinician; it does not replace reading it, screening
instruments (``crisis_screening``) or asking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from wellness_repo.analysis.crisis_cue import Cue, Sign
from wellness_repo.analysis.crisis_lexicon import CUES, IDIOMS
from wellness_repo.analysis.crisis_scope import Sentence, Subject
from wellness_repo.analysis.crisis_text import has_humour, sentences

__all__ = [
    "CrisisAssessment",
    "CrisisSeverity",
    "CrisisType",
    "assess_text",
    "highest_severity",
]


class CrisisType(StrEnum):
    """What kind of risk a crisis signal points to."""

    SUICIDAL_IDEATION = "suicidal_ideation"
    SELF_HARM = "self_harm"
    HARM_TO_OTHERS = "harm_to_others"
    HOPELESSNESS = "hopelessness"
    WARNING_SIGNS = "warning_signs"
    THIRD_PARTY_CONCERN = "third_party_concern"


class CrisisSeverity(StrEnum):
    """How urgently a crisis signal needs a clinician, lowest first."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    IMMINENT = "imminent"

    @property
    def rank(self) -> int:
        """Position on the scale: 0 for low up to 3 for imminent."""
        return _RANKS[self]


_RANKS = {severity: rank for rank, severity in enumerate(CrisisSeverity)}


@dataclass(frozen=True, slots=True)
class CrisisAssessment:
    """One crisis signal found for a patient, with how sure and how urgent it is.

    Attributes:
        crisis_type: the kind of risk.
        severity: how urgently a clinician should look.
        confidence: 0..1, how sure the detector is that the signal is real.
        matched_phrases: the normalised phrases that triggered it; they quote the
            patient, so they are PHI and are never logged.
        requires_immediate_attention: true when the care team must act now
            (high or imminent risk that is current).
        historical: the signal is the patient's history ("I used to cut years
            ago"), noted for the record but not a current crisis.
    """

    crisis_type: CrisisType
    severity: CrisisSeverity
    confidence: float
    matched_phrases: tuple[str, ...]
    requires_immediate_attention: bool
    historical: bool = False


def highest_severity(
    assessments: Iterable[CrisisAssessment],
) -> CrisisSeverity | None:
    """The most urgent severity among current assessments, or ``None``."""
    current = [a.severity for a in assessments if not a.historical]
    return max(current, key=lambda severity: severity.rank) if current else None


def assess_text(text: str) -> list[CrisisAssessment]:
    """The crisis signals in a patient's text; an empty list means no concern.

    At most one assessment per crisis type, most severe first. The text is
    never logged, and only ``matched_phrases`` quotes it.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    hits = [hit for sentence in sentences(text) for hit in _hits_in(sentence)]
    if not hits:
        return []
    scale = 0.8 if has_humour(text) else 1.0
    found = _assess(hits, scale)
    return sorted(found, key=lambda a: (-a.severity.rank, _TYPE_ORDER[a.crisis_type]))


# ------------------------------------------------------------------- matching

_TYPE_ORDER = {kind: order for order, kind in enumerate(CrisisType)}
_ATTEMPT_BEFORE = re.compile(r"\b(?:tried|try|trying|attempted|attempting) to$")
_IDIOM_MARK = "figure"
SI = CrisisType.SUICIDAL_IDEATION
SH = CrisisType.SELF_HARM
HO = CrisisType.HARM_TO_OTHERS
HOPE = CrisisType.HOPELESSNESS
WARN = CrisisType.WARNING_SIGNS
LOW = CrisisSeverity.LOW
MODERATE = CrisisSeverity.MODERATE
HIGH = CrisisSeverity.HIGH
IMMINENT = CrisisSeverity.IMMINENT


@dataclass(frozen=True, slots=True)
class _Hit:
    """One crisis phrase found, judged in its sentence."""

    cue: Cue
    concern: CrisisType
    severity: CrisisSeverity
    confidence: float
    phrase: str
    other_person: bool
    historical: bool
    intent: bool
    imminent_intent: bool
    planned: bool
    span: tuple[int, int]


def _hits_in(sentence: Sentence) -> Iterator[_Hit]:
    text = sentence.text
    for idiom in IDIOMS:
        text = idiom.sub(_IDIOM_MARK, text)
    plain = Sentence(text)
    taken: list[tuple[int, int]] = []
    for cue in CUES:
        for match in cue.pattern.finditer(text):
            hit = _judge(cue, match, plain)
            if hit is None:
                continue
            if cue.fallback and any(_overlap(hit.span, span) for span in taken):
                continue
            taken.append(hit.span)
            yield hit


def _overlap(first: tuple[int, int], second: tuple[int, int]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def _judge(cue: Cue, match: re.Match[str], sentence: Sentence) -> _Hit | None:
    """The phrase as the patient meant it, or ``None`` if it is no signal."""
    core = "core" if match.groupdict().get("core") is not None else 0
    start, end = match.span(core)
    negated, stopped = sentence.negation(start)
    if sentence.negated_after(match.end()) or sentence.answered_no(start):
        negated, stopped = True, False
    if negated and not stopped:
        return None
    if _set_aside(cue, sentence, start):
        return None
    subject = sentence.subject(match.groupdict().get("who"), start)
    if subject in (Subject.OTHER, Subject.SELF_ASSUMED) and (
        sentence.about_study_or_media
    ):
        return None
    told_as_past, back_now = sentence.time_frame(start)
    historical = (told_as_past and not back_now) or negated
    severity = _phrase_severity(cue, sentence, start, end, historical, back_now)
    intent = cue.sign is Sign.INTENT or sentence.intent_before(start)
    timed = cue.act and sentence.timed_after(end)
    confidence = cue.confidence * (0.85 if subject is Subject.SECOND_PERSON else 1)
    return _Hit(
        cue=cue,
        concern=CrisisType(cue.concern),
        severity=severity,
        confidence=confidence,
        phrase=match.group(0),
        other_person=subject is Subject.OTHER,
        historical=historical,
        intent=intent,
        imminent_intent=(intent and sentence.has_timeline) or timed,
        planned=sentence.planning_before(start),
        span=match.span(),
    )


def _set_aside(cue: Cue, sentence: Sentence, start: int) -> bool:
    """Whether the sentence shows the phrase means something else."""
    if cue.concern == SH and sentence.accident_near(start):
        return True
    if cue.deliberate and not sentence.deliberate:
        return True
    if cue.topic and sentence.about_study_or_media:
        return not sentence.states_before(start)
    if cue.sign is Sign.GIVING_AWAY and sentence.decluttering:
        return True
    if cue.sign is Sign.FAREWELL and sentence.travelling:
        return True
    return cue.sign is Sign.MEANS and sentence.hunting


def _phrase_severity(
    cue: Cue,
    sentence: Sentence,
    start: int,
    end: int,
    historical: bool,
    back_now: bool,
) -> CrisisSeverity:
    severity = CrisisSeverity(cue.level)
    if cue.urge_level and sentence.urge_before(start, end):
        severity = CrisisSeverity(cue.urge_level)
    if back_now and cue.concern == SH and sentence.urges_returned(start):
        severity = _at_most(severity, MODERATE)
    if historical:
        attempt = cue.attempt or bool(
            _ATTEMPT_BEFORE.search(sentence.clause_before(start))
        )
        return MODERATE if attempt else LOW
    if cue.concern == SI and sentence.disavowed_after(end):
        severity = _at_most(severity, MODERATE)
    return severity


# ---------------------------------------------------------------- combining


def _assess(hits: Sequence[_Hit], scale: float) -> list[CrisisAssessment]:
    own = [hit for hit in hits if not hit.other_person]
    current = [hit for hit in own if not hit.historical]
    firm = [hit for hit in current if not hit.cue.needs_context]
    supporting = {hit.cue.name for hit in current if hit.cue.needs_context}
    counted = current if firm or len(supporting) >= 2 else []
    signs = {hit.cue.sign for hit in counted if hit.cue.sign is not None}
    if any(hit.planned for hit in counted):
        signs.add(Sign.PLAN)
    found: list[CrisisAssessment] = []
    for concern in (SI, SH, HO, HOPE):
        typed = [hit for hit in counted if hit.concern is concern]
        if typed:
            severity = _raised(concern, typed, signs)
            found.append(_assessment(concern, typed, severity, scale))
            continue
        past = [hit for hit in own if hit.historical and hit.concern is concern]
        if past:
            found.append(_history(concern, past, scale))
    warnings = [hit for hit in counted if hit.cue.sign is not None]
    if warnings:
        found.append(_warning(warnings, signs, counted, scale))
    elif past_signs := [h for h in own if h.historical and h.cue.sign is not None]:
        found.append(_history(WARN, past_signs, scale))
    others = [h for h in hits if h.other_person and not h.cue.needs_context]
    if others:
        found.append(_third_party(others, scale))
    return found


def _raised(
    concern: CrisisType, hits: Sequence[_Hit], signs: set[Sign]
) -> CrisisSeverity:
    """The severity of one current concern, raised by the warning signs."""
    severity = max((hit.severity for hit in hits), key=_rank)
    intent = any(hit.intent for hit in hits) or Sign.INTENT in signs
    imminent = any(hit.imminent_intent for hit in hits) or Sign.ACT_NOW in signs
    if concern is SI:
        if intent or signs & {Sign.PLAN, Sign.MEANS, Sign.FAREWELL, Sign.GIVING_AWAY}:
            severity = _at_least(severity, HIGH)
        if imminent or {Sign.PLAN, Sign.MEANS} <= signs:
            severity = IMMINENT
    elif concern is HO:
        if imminent or signs & {Sign.PLAN, Sign.MEANS}:
            severity = IMMINENT
        elif intent:
            severity = _at_least(severity, HIGH)
    elif concern is SH and signs & {Sign.MEANS, Sign.ACT_NOW}:
        severity = _at_least(severity, HIGH)
    elif concern is HOPE and Sign.BURDEN in signs:
        severity = _at_least(severity, MODERATE)
    return severity


def _warning(
    hits: Sequence[_Hit], signs: set[Sign], counted: Sequence[_Hit], scale: float
) -> CrisisAssessment:
    severity = max((hit.severity for hit in hits), key=_rank)
    ideation = any(hit.concern in (SI, HO) for hit in counted)
    stated = Sign.INTENT in signs or any(hit.intent for hit in counted)
    if {Sign.PLAN, Sign.MEANS} <= signs and (stated or ideation):
        severity = IMMINENT
    if Sign.ACT_NOW in signs or any(hit.imminent_intent for hit in hits):
        severity = IMMINENT
    if len(signs & {Sign.FAREWELL, Sign.GIVING_AWAY, Sign.BURDEN}) >= 2:
        severity = _at_least(severity, HIGH)
    return _assessment(WARN, hits, severity, scale)


def _third_party(hits: Sequence[_Hit], scale: float) -> CrisisAssessment:
    """Someone else's risk, which the patient's clinician should know of."""
    current = [hit for hit in hits if not hit.historical]
    if not current:
        return _history(CrisisType.THIRD_PARTY_CONCERN, hits, scale)
    urgent = any(hit.intent or hit.planned for hit in current)
    return _assessment(
        CrisisType.THIRD_PARTY_CONCERN, current, HIGH if urgent else MODERATE, scale
    )


def _history(
    concern: CrisisType, hits: Sequence[_Hit], scale: float
) -> CrisisAssessment:
    severity = max((hit.severity for hit in hits), key=_rank)
    return CrisisAssessment(
        crisis_type=concern,
        severity=_at_most(severity, MODERATE),
        confidence=_combined(hits, scale),
        matched_phrases=_phrases(hits),
        requires_immediate_attention=False,
        historical=True,
    )


def _assessment(
    concern: CrisisType,
    hits: Sequence[_Hit],
    severity: CrisisSeverity,
    scale: float,
) -> CrisisAssessment:
    return CrisisAssessment(
        crisis_type=concern,
        severity=severity,
        confidence=_combined(hits, scale),
        matched_phrases=_phrases(hits),
        requires_immediate_attention=severity.rank >= HIGH.rank,
    )


def _combined(hits: Sequence[_Hit], scale: float) -> float:
    """Independent pieces of evidence: each phrase leaves less room for doubt."""
    doubt = 1.0
    for phrase in {hit.phrase: hit.confidence for hit in hits}.values():
        doubt *= 1.0 - phrase
    return round(min(0.99, (1.0 - doubt) * scale), 2)


def _phrases(hits: Sequence[_Hit]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hit.phrase for hit in hits))


def _rank(severity: CrisisSeverity) -> int:
    return severity.rank


def _at_least(severity: CrisisSeverity, floor: CrisisSeverity) -> CrisisSeverity:
    return severity if severity.rank >= floor.rank else floor


def _at_most(severity: CrisisSeverity, ceiling: CrisisSeverity) -> CrisisSeverity:
    return severity if severity.rank <= ceiling.rank else ceiling
