"""The scope rules of the crisis detector: whether a crisis phrase in a sentence
is negated, about someone else, told as past, an accident, a topic of study or a
question answered "no", and whether it comes with intent, a plan or a near time.

Every rule works on a normalised sentence (see ``crisis_text``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["PERSON_NOUNS", "Sentence", "Subject"]

# ------------------------------------------------------------------ scope words

_NEGATORS = frozenset(
    {"not", "never", "no", "none", "without", "zero", "nor", "neither"}
    | {"denies", "denied", "deny", "denying"}
)
# "not" followed by these is not a negation of what comes after ("I don't know
# why I want to die", "I can't stop thinking about it").
_PSEUDO_NEGATED = frozenset(
    {"know", "sure", "care", "understand", "remember", "stop", "help", "wait"}
)
_PSEUDO_UNLESS_ABOUT = frozenset({"think", "see"})
_NOT_A_NEGATION = frozenset({("no", "one"), ("no", "matter"), ("not", "only")})
_FILLERS = frozenset({"really", "even", "just", "ever", "actually", "at", "all"})
_CLAUSE_BREAKS = frozenset(
    {",", "and", "but", "because", "so", "or", "then", "when", "if", "until"}
    | {"unless", "though", "although", "since", "while", "cause", "yet"}
)
_NEGATION_REACH = 5

_INTENT = re.compile(
    r"\b(?:going to|will|shall|decided to|about to|ready to|intend to|"
    r"plan to|planning to|planned to|mean it)\b"
)
_PLANNING = re.compile(r"\b(?:plan|plans|planning|planned|plan is) to\b")
_FEAR = re.compile(
    r"\b(?:scared|afraid|worried|terrified|fear|frightened|worry|scares)\b"
)
_DESIRE = re.compile(
    r"\b(?:want|wanted|wanting|urge|urges|tempted|thinking|think|thought|"
    r"thoughts|feel like|felt like|wish|craving|itch|itching|need)\b"
)
_TIMELINE = re.compile(
    r"\b(?:tonight|tomorrow|today|right now|this (?:weekend|evening|afternoon|"
    r"morning)|in (?:an|one|a few|two|a couple of) (?:hour|hours|minutes)|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"before (?:morning|sunrise|dawn))\b"
)
_FUTURE = re.compile(
    r"(?:\w+ )?(?:tonight|tomorrow|this (?:weekend|evening)|in (?:an|one|"
    r"a few|two) (?:hour|hours|minutes)|before (?:morning|sunrise|dawn))\b"
)
_PAST = re.compile(
    r"\b(?:used to|years ago|(?:a|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|several|many|a few|a couple of|\d+) years? ago|when i was (?:a |in |at )?"
    r"(?:kid|child|teen|teenager|younger|little|young|\d+|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
    r"high school|middle school|college|uni|university)|as a (?:kid|child|teen|"
    r"teenager)|in (?:high|middle) school|(?:back )?in college|back then|"
    r"back in|in the past|in (?:19|20)\d\d|in my (?:teens|twenties|thirties|"
    r"early|late)|long time ago|long ago|history of|old scars|scars from|"
    r"(?:years|months) (?:clean|free|sober)|clean for|no longer|"
    r"(?:have|has) not \w+(?: \w+)? (?:in|for) (?:years|months|\w+ years|"
    r"\w+ months|a long time|ages))\b"
)
_PRESENT = re.compile(
    r"\b(?:again|lately|recently|these days|nowadays|right now|tonight|"
    r"this (?:week|morning|evening)|last night|yesterday|came back|coming back|"
    r"(?:is|are) back|relapse|relapsed|relapsing|still (?:want|wanting|think|"
    r"thinking|feel|feeling|cut|cutting|hurt|hurting|have (?:the )?urges))\b"
)
_URGES = re.compile(r"\b(?:urge|urges|thoughts|feelings|temptation)\b")
_RESOLVED = re.compile(r"\b(?:anymore|any more|any longer|no longer|these days)\b")
_ACCIDENT = re.compile(
    r"\b(?:accident|accidentally|by accident|fell|fall|tripped|slipped|"
    r"stove|oven|iron|kettle|grill|pan|fence|broken glass|at the gym|workout|"
    r"playing|chopping|cooking|shaving|doing the dishes|moving (?:boxes|"
    r"furniture)|bike|sprain\w*|paper cut|hiking|climbing|running|camping|"
    r"gardening|garden|fishing|trail|while \w+ing|on (?:a|the) (?:rock|nail|"
    r"branch|edge|corner|table))\b"
)
_NOT_ACCIDENT = re.compile(r"\bnot (?:for |from |by |an? )?\w+")
_DELIBERATE = re.compile(
    r"\b(?:on purpose|deliberately|intentionally|until|till|over and over|"
    r"again and again|repeatedly|to punish|to feel|so hard)\b"
)
_STUDY_OR_MEDIA = re.compile(
    r"\b(?:essay|paper|course|lecture|training|workshop|seminar|research|"
    r"study|studies|statistics|rates|awareness|prevention|documentary|movie|"
    r"film|show|series|episode|podcast|song|lyrics|book|novel|article|news|"
    r"character|symptom|symptoms|common|learned about|learning about|"
    r"reading about|volunteer\w*)\b"
)
_DECLUTTER = re.compile(
    r"\b(?:charity|donat\w+|goodwill|thrift|declutter\w*|spring clean\w*|"
    r"garage sale|yard sale|moving|outgrown|too small|old clothes|kondo)\b"
)
_TRAVEL = re.compile(
    r"\b(?:trip|travel\w*|vacation|holiday|flight|airport|visiting|"
    r"out of town|conference|business|party|station|graduat\w+|last day|"
    r"leaving|moving|retir\w+|new job|coworkers|colleagues|classmates|team)\b"
)
_HUNTING = re.compile(r"\b(?:hunting|range|deer|season|target practice|clay)\b")
_DISAVOWAL = re.compile(
    r"\b(?:i (?:would|will) (?:never|not) (?:do it|act on (?:it|them|that|"
    r"those thoughts)|go through with it|actually do it)|i (?:have|had) no "
    r"(?:plan|plans|intention|intent)|i am not going to act on (?:it|them))\b"
)
_ASKED = re.compile(r"\basked (?:me )?(?:whether|if|about)\b")
_SAID_NO = re.compile(r"\b(?:said|answered|told (?:her|him|them)) no\b")
_AFTER_NEGATION = re.compile(
    r"^\s*(?:is|was|are|would be) (?:not|never) (?:an option|the answer|"
    r"something|on the table|happening)"
)

_STATE_WORDS = frozenset(
    {"feel", "feeling", "felt", "am", "was", "been", "get", "getting", "so"}
    | {"very", "really", "pretty", "actively", "passively", "still", "became"}
    | {"become", "is", "are", "were", "quite", "more"}
)
_SELF_WORDS = frozenset({"i", "me", "myself", "we", "us", "ourselves"})
_SECOND_PERSON = frozenset({"you", "your", "yourself", "yourselves"})
_THIRD_WORDS = frozenset(
    {"he", "she", "they", "him", "her", "them", "his", "their"}
    | {"himself", "herself", "themselves", "themself"}
)
PERSON_NOUNS = (
    "friend|friends|bestie|buddy|brother|sister|mom|mum|mother|dad|father|son|"
    "daughter|wife|husband|partner|boyfriend|girlfriend|ex|cousin|aunt|uncle|"
    "niece|nephew|grandma|grandpa|grandmother|grandfather|roommate|flatmate|"
    "housemate|coworker|coworkers|colleague|colleagues|classmate|classmates|"
    "neighbor|neighbour|neighbors|neighbours|teammate|boss|manager|supervisor|"
    "stepdad|stepfather|stepmom|stepmother|teacher|landlord|client|patient|"
    "student|kid|kids|child|children|baby|man|woman|guy|girl|boy|person|people|"
    "character|soldier|celebrity|teen|teenager|bully|abuser|family|parents"
)
"""Words for people other than the patient (a regex alternation)."""
_THIRD_NOUNS = frozenset(PERSON_NOUNS.split("|"))


class Subject(StrEnum):
    """Whose risk a phrase is about."""

    SELF = "self"
    """The patient's own ("I", "me", "myself")."""
    SELF_ASSUMED = "self_assumed"
    """No one is named: in a patient's own journal that is the patient."""
    SECOND_PERSON = "second_person"
    """"You", which patients often use about themselves."""
    OTHER = "other"
    """Someone else: a friend, a relative, a character."""


@dataclass(frozen=True, slots=True)
class Sentence:
    """One normalised sentence and the scope questions asked about its phrases."""

    text: str

    def tokens_before(self, position: int) -> list[str]:
        """The words (and commas) before ``position``, nearest last."""
        return self.text[:position].split()

    def negation(self, position: int) -> tuple[bool, bool]:
        """Whether the phrase at ``position`` is negated, and whether the
        negation says it has stopped ("no longer", "not ... anymore")."""
        before = self.tokens_before(position)
        clause = _clause_tail(before)[-_NEGATION_REACH:]
        for index, word in enumerate(clause):
            if word not in _NEGATORS:
                continue
            following = [w for w in clause[index + 1 :] if w not in _FILLERS]
            if _is_pseudo_negation(word, following):
                continue
            resolved = bool(_RESOLVED.search(self.text)) or (
                word == "no" and following[:1] == ["longer"]
            )
            return True, resolved
        return False, False

    def states_before(self, position: int) -> bool:
        """Whether the word before ``position`` says the patient feels or is
        what follows ("I feel *suicidal*"), rather than naming a topic."""
        before = self.tokens_before(position)[-1:]
        return bool(before) and before[0] in _STATE_WORDS

    def negated_after(self, end: int) -> bool:
        """Whether the words after a phrase deny it ("... is not an option")."""
        return bool(_AFTER_NEGATION.match(self.text[end:]))

    def subject(self, who: str | None, position: int) -> Subject:
        """Whose risk the phrase at ``position`` is about.

        Args:
            who: the pronoun the phrase itself names ("myself", "her"), if any.
        """
        if who is not None:
            return _subject_of_word(who)
        for word in reversed(self.tokens_before(position)):
            if word in _SELF_WORDS:
                return Subject.SELF
            if word in _SECOND_PERSON:
                return Subject.SECOND_PERSON
            if word in _THIRD_WORDS or word in _THIRD_NOUNS:
                return Subject.OTHER
        return Subject.SELF_ASSUMED

    def segment(self, position: int) -> str:
        """The part of the sentence, between contrasts ("but", "however"), that
        holds ``position``: the reach of a time reference."""
        start = 0
        end = len(self.text)
        for found in _CONTRAST.finditer(self.text):
            if found.end() <= position:
                start = found.end()
            elif found.start() >= position:
                end = found.start()
                break
        return self.text[start:end]

    def time_frame(self, position: int) -> tuple[bool, bool]:
        """Whether the phrase is told as past, and whether the same part of the
        sentence also says it is back now ("used to ... the urges came back")."""
        part = self.segment(position)
        past = bool(_PAST.search(part))
        return past, past and bool(_PRESENT.search(part))

    def urges_returned(self, position: int) -> bool:
        """Whether what is back is an urge or a thought, not the act itself."""
        return bool(_URGES.search(self.segment(position)))

    def clause_before(self, position: int) -> str:
        """The words of the clause before ``position``."""
        return " ".join(_clause_tail(self.tokens_before(position)))

    def intent_before(self, position: int) -> bool:
        """Whether the clause states an intention ("going to", "decided to")
        that is not a fear ("I'm scared I'll hurt myself")."""
        clause = self.clause_before(position)
        return bool(_INTENT.search(clause)) and not _FEAR.search(clause)

    def planning_before(self, position: int) -> bool:
        """Whether the clause speaks of a plan ("planning to")."""
        return bool(_PLANNING.search(self.clause_before(position)))

    def urge_before(self, position: int, end: int) -> bool:
        """Whether the phrase is an urge or a fear rather than an act."""
        clause = self.clause_before(position)
        after = self.text[end:].split()[:1]
        return bool(_DESIRE.search(clause) or _FEAR.search(clause)) or after[:1] in (
            ["urge"],
            ["urges"],
        )

    def answered_no(self, position: int) -> bool:
        """Whether the phrase is a question someone asked that the patient
        answered "no" ("the nurse asked if I had thoughts of suicide and I said
        no"); a question answered "yes", or not answered, still counts."""
        asked = _ASKED.search(self.text[:position])
        return asked is not None and bool(_SAID_NO.search(self.text[position:]))

    def disavowed_after(self, end: int) -> bool:
        """Whether the sentence goes on to disown acting on the thought."""
        return bool(_DISAVOWAL.search(self.text[end:]))

    def timed_after(self, end: int) -> bool:
        """Whether an act is given a near future time right after it ("ending it
        *tonight*"), which makes it a plan rather than a feeling."""
        following = " ".join(self.text[end:].split()[:4])
        return bool(_FUTURE.match(following))

    @property
    def has_timeline(self) -> bool:
        """Whether the sentence names a near time (tonight, this weekend)."""
        return bool(_TIMELINE.search(self.text))

    def accident_near(self, position: int) -> bool:
        """Whether the phrase tells of an accident, not a deliberate act."""
        part = _NOT_ACCIDENT.sub(" ", self.segment(position))
        return bool(_ACCIDENT.search(part)) and not re.search(
            r"\b(?:on purpose|deliberately|intentionally)\b", part
        )

    @property
    def deliberate(self) -> bool:
        """Whether the sentence marks an act as deliberate or prolonged."""
        return bool(_DELIBERATE.search(self.text))

    @property
    def about_study_or_media(self) -> bool:
        """Whether the sentence is about a course, a book, a film, the news."""
        return bool(_STUDY_OR_MEDIA.search(self.text))

    @property
    def decluttering(self) -> bool:
        """Whether giving things away is tidying up, not a farewell."""
        return bool(_DECLUTTER.search(self.text))

    @property
    def travelling(self) -> bool:
        """Whether a goodbye or an absence is a journey or an event."""
        return bool(_TRAVEL.search(self.text))

    @property
    def hunting(self) -> bool:
        """Whether a firearm is mentioned for sport."""
        return bool(_HUNTING.search(self.text))


_CONTRAST = re.compile(
    r"\b(?:but|however|although|though|yet|whereas|except|and now|but now)\b"
)


def _clause_tail(tokens: list[str]) -> list[str]:
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index] in _CLAUSE_BREAKS:
            return tokens[index + 1 :]
    return tokens


def _is_pseudo_negation(negator: str, following: list[str]) -> bool:
    head = following[:1]
    if head and (negator, head[0]) in _NOT_A_NEGATION:
        return True
    if not head:
        return False
    if head[0] in _PSEUDO_NEGATED:
        return True
    return head[0] in _PSEUDO_UNLESS_ABOUT and following[1:2] not in (
        ["about"],
        ["of"],
    )


def _subject_of_word(word: str) -> Subject:
    if word in _SELF_WORDS or word in {"my", "our", "mine"}:
        return Subject.SELF
    if word in _SECOND_PERSON:
        return Subject.SECOND_PERSON
    return Subject.OTHER
