"""The next journal prompt for a patient, chosen from their recent entries: the
CBT techniques they used, whether their mood lifted, the tone of their writing,
the topics they tag, and any crisis signal.

Plain functions over plain values (DESIGN.md rule 2): the journal repository
reads the recent entries, reduces each to an :class:`EntrySummary` (no text,
only what the choice needs), and calls :func:`suggest_prompt`.

The choice, first rule that applies:

1. A current crisis signal in the last entries: a grounding prompt that points
   to the safety plan and to people to contact, never a technique that asks the
   patient to dwell on painful thoughts.
2. No entries yet: a gentle first prompt.
3. A thought record left without a balanced thought: finish it.
4. Writing mostly negative in tone (mean compound <= -0.3 over the last three
   scored entries): behavioural activation, one small manageable step.
5. A technique after which mood rose by 2 points or more: that technique again.
6. A frequent tag with a matching technique (worry -> worry time, sleep ->
   mindfulness...): that technique, unless it was the last one used.
7. Otherwise the core technique used least recently, so practice rotates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from wellness_repo.errors import ValidationError

__all__ = [
    "CBTTechnique",
    "EntrySummary",
    "JournalPrompt",
    "JournalType",
    "PromptReason",
    "suggest_prompt",
]


class JournalType(StrEnum):
    """What kind of writing a journal entry is."""

    THERAPEUTIC = "therapeutic"
    """Structured work with a CBT technique."""
    FREE_WRITING = "free_writing"
    GUIDED = "guided"
    """Written to a prompt the platform suggested."""
    GRATITUDE = "gratitude"
    REFLECTION = "reflection"
    HOMEWORK = "homework"
    """Between-session work a therapist assigned."""


class CBTTechnique(StrEnum):
    """The cognitive-behavioural technique an entry practises."""

    THOUGHT_RECORD = "thought_record"
    COGNITIVE_RESTRUCTURING = "cognitive_restructuring"
    BEHAVIORAL_ACTIVATION = "behavioral_activation"
    BEHAVIORAL_EXPERIMENT = "behavioral_experiment"
    EXPOSURE = "exposure"
    GRATITUDE = "gratitude"
    MINDFULNESS = "mindfulness"
    PROBLEM_SOLVING = "problem_solving"
    SELF_COMPASSION = "self_compassion"
    VALUES_CLARIFICATION = "values_clarification"
    WORRY_TIME = "worry_time"


class PromptReason(StrEnum):
    """Why a prompt was chosen, so the app can say so to the patient."""

    SAFETY_FIRST = "safety_first"
    FIRST_ENTRY = "first_entry"
    FINISH_THOUGHT_RECORD = "finish_thought_record"
    LOW_TONE = "low_tone"
    HELPED_BEFORE = "helped_before"
    RECURRING_TOPIC = "recurring_topic"
    ROTATION = "rotation"


@dataclass(frozen=True, slots=True)
class EntrySummary:
    """What the prompt choice needs to know about one recent entry.

    Attributes:
        technique: the CBT technique practised, if any.
        tags: the entry's tags.
        mood_before: mood 1..10 before writing, if recorded.
        mood_after: mood 1..10 after writing, if recorded.
        sentiment_compound: the entry's VADER compound score, if analysed.
        unfinished_thought_record: a thought record without a balanced thought.
        crisis_signal: the entry carries a current crisis signal.
    """

    technique: CBTTechnique | None = None
    tags: tuple[str, ...] = ()
    mood_before: int | None = None
    mood_after: int | None = None
    sentiment_compound: float | None = None
    unfinished_thought_record: bool = False
    crisis_signal: bool = False


@dataclass(frozen=True, slots=True)
class JournalPrompt:
    """A suggested next journal entry."""

    text: str
    technique: CBTTechnique | None
    journal_type: JournalType
    reason: PromptReason


_LOW_TONE = -0.3
_TONE_WINDOW = 3
_CRISIS_WINDOW = 3
_MOOD_LIFT = 2
_ROTATION = (
    CBTTechnique.THOUGHT_RECORD,
    CBTTechnique.BEHAVIORAL_ACTIVATION,
    CBTTechnique.GRATITUDE,
    CBTTechnique.MINDFULNESS,
    CBTTechnique.PROBLEM_SOLVING,
    CBTTechnique.SELF_COMPASSION,
)
_TOPICS = {
    "anxiety": CBTTechnique.WORRY_TIME,
    "worry": CBTTechnique.WORRY_TIME,
    "panic": CBTTechnique.EXPOSURE,
    "avoidance": CBTTechnique.EXPOSURE,
    "sleep": CBTTechnique.MINDFULNESS,
    "insomnia": CBTTechnique.MINDFULNESS,
    "stress": CBTTechnique.MINDFULNESS,
    "motivation": CBTTechnique.BEHAVIORAL_ACTIVATION,
    "depression": CBTTechnique.BEHAVIORAL_ACTIVATION,
    "conflict": CBTTechnique.PROBLEM_SOLVING,
    "work": CBTTechnique.PROBLEM_SOLVING,
    "relationships": CBTTechnique.PROBLEM_SOLVING,
    "self-criticism": CBTTechnique.SELF_COMPASSION,
    "shame": CBTTechnique.SELF_COMPASSION,
    "guilt": CBTTechnique.SELF_COMPASSION,
    "negative thoughts": CBTTechnique.COGNITIVE_RESTRUCTURING,
    "thought-challenging": CBTTechnique.COGNITIVE_RESTRUCTURING,
}
_PROMPTS = {
    CBTTechnique.THOUGHT_RECORD: (
        "Think of a moment today when your mood shifted. What was happening, "
        "what went through your mind, and how strongly did you feel it (0-100)?"
    ),
    CBTTechnique.COGNITIVE_RESTRUCTURING: (
        "Pick one thought that has been weighing on you. What would you say to "
        "a friend who had that same thought?"
    ),
    CBTTechnique.BEHAVIORAL_ACTIVATION: (
        "Name one small thing you could do tomorrow that used to bring you a "
        "little pleasure or a sense of achievement. When will you do it?"
    ),
    CBTTechnique.BEHAVIORAL_EXPERIMENT: (
        "Write down a prediction you are making about something coming up, and "
        "a small way you could test whether it comes true."
    ),
    CBTTechnique.EXPOSURE: (
        "List a few situations you have been avoiding, from easiest to hardest. "
        "Which one feels possible to approach this week?"
    ),
    CBTTechnique.GRATITUDE: (
        "Write about three things, however small, that went well today and what "
        "part you played in them."
    ),
    CBTTechnique.MINDFULNESS: (
        "Take a few slow breaths. What do you notice right now in your body, "
        "your thoughts and around you, without judging any of it?"
    ),
    CBTTechnique.PROBLEM_SOLVING: (
        "Describe one problem that is on your mind, list every possible next "
        "step you can think of, and choose one to try."
    ),
    CBTTechnique.SELF_COMPASSION: (
        "Write to yourself about something you are struggling with, in the "
        "words a kind and understanding friend would use."
    ),
    CBTTechnique.VALUES_CLARIFICATION: (
        "What matters most to you in how you treat people and spend your days? "
        "Write about one small step towards it."
    ),
    CBTTechnique.WORRY_TIME: (
        "Set aside ten minutes for your worries. Write each one down, then mark "
        "which ones you can act on and which you can let wait."
    ),
}
_SAFETY_PROMPT = (
    "You have been carrying a lot lately. Open your safety plan, choose one "
    "coping step you can do in the next hour, and write down one person you "
    "could reach out to today. If you are in danger now, call or text 988."
)
_FIRST_PROMPT = (
    "Welcome to your journal. How are you feeling right now, and what has been "
    "on your mind today?"
)
_FINISH_PROMPT = (
    "Come back to the thought you recorded last time. What evidence does not "
    "fit it, and what would a more balanced thought sound like?"
)


def suggest_prompt(recent: Sequence[EntrySummary]) -> JournalPrompt:
    """The next journal prompt for a patient, from their recent entries, newest
    first.

    Raises:
        ValidationError: ``recent`` holds something other than summaries.
    """
    entries = _checked(recent)
    if any(entry.crisis_signal for entry in entries[:_CRISIS_WINDOW]):
        return JournalPrompt(
            _SAFETY_PROMPT, None, JournalType.GUIDED, PromptReason.SAFETY_FIRST
        )
    if not entries:
        return JournalPrompt(
            _FIRST_PROMPT, None, JournalType.FREE_WRITING, PromptReason.FIRST_ENTRY
        )
    if entries[0].unfinished_thought_record:
        return JournalPrompt(
            _FINISH_PROMPT,
            CBTTechnique.THOUGHT_RECORD,
            JournalType.THERAPEUTIC,
            PromptReason.FINISH_THOUGHT_RECORD,
        )
    if _tone_is_low(entries):
        return _prompt(CBTTechnique.BEHAVIORAL_ACTIVATION, PromptReason.LOW_TONE)
    helped = _technique_that_helped(entries)
    if helped is not None:
        return _prompt(helped, PromptReason.HELPED_BEFORE)
    topical = _technique_for_topics(entries)
    if topical is not None:
        return _prompt(topical, PromptReason.RECURRING_TOPIC)
    return _prompt(_least_recent(entries), PromptReason.ROTATION)


def _prompt(technique: CBTTechnique, reason: PromptReason) -> JournalPrompt:
    kind = (
        JournalType.GRATITUDE
        if technique is CBTTechnique.GRATITUDE
        else JournalType.THERAPEUTIC
    )
    return JournalPrompt(_PROMPTS[technique], technique, kind, reason)


def _tone_is_low(entries: Sequence[EntrySummary]) -> bool:
    scored = [
        entry.sentiment_compound
        for entry in entries
        if entry.sentiment_compound is not None
    ][:_TONE_WINDOW]
    return len(scored) == _TONE_WINDOW and sum(scored) / len(scored) <= _LOW_TONE


def _technique_that_helped(entries: Sequence[EntrySummary]) -> CBTTechnique | None:
    for entry in entries:
        if (
            entry.technique is not None
            and entry.mood_before is not None
            and entry.mood_after is not None
            and entry.mood_after - entry.mood_before >= _MOOD_LIFT
        ):
            return entry.technique
    return None


def _technique_for_topics(entries: Sequence[EntrySummary]) -> CBTTechnique | None:
    counts = Counter(tag.strip().lower() for entry in entries for tag in entry.tags)
    last = entries[0].technique
    for tag, _count in counts.most_common():
        technique = _TOPICS.get(tag)
        if technique is not None and technique is not last:
            return technique
    return None


def _least_recent(entries: Sequence[EntrySummary]) -> CBTTechnique:
    last_used = {}
    for age, entry in enumerate(entries):
        if entry.technique is not None and entry.technique not in last_used:
            last_used[entry.technique] = age
    never = [technique for technique in _ROTATION if technique not in last_used]
    if never:
        return never[0]
    return max(_ROTATION, key=lambda technique: last_used[technique])


def _checked(recent: object) -> list[EntrySummary]:
    if isinstance(recent, str | bytes) or not isinstance(recent, Sequence):
        raise ValidationError(
            "recent entries must be a list of summaries", field="recent", rule="type"
        )
    entries = list(recent)
    if not all(isinstance(entry, EntrySummary) for entry in entries):
        raise ValidationError(
            "recent entries must be EntrySummary values", field="recent", rule="type"
        )
    return entries
