"""What the check-in agent says back: the :class:`ResponseGenerator` protocol and
the default, deterministic templates per intent.

The templates follow established, low-risk self-help techniques and say which
one they use (:class:`Technique`):

- anxiety: 5-4-3-2-1 grounding and paced breathing with a longer out-breath
  (about six breaths a minute), both used in CBT for panic and anxiety;
- sleep: the stimulus-control and sleep-hygiene parts of CBT for insomnia (a
  fixed wake time, out of bed after about twenty minutes awake, no screens or
  caffeine late, the bed for sleep only);
- a low mood: behavioural activation (one small, planned, doable activity);
- a good mood or gratitude: reinforcement and "three good things";
- a crisis: the Stanley-Brown safety plan's steps and the 988 Suicide & Crisis
  Lifeline, by call or text.

A language model can be plugged in as another :class:`ResponseGenerator`; it is
never required. Whatever is plugged in, a crisis is always answered by
:func:`crisis_response` (see the conversation repository): what a person at
risk is told must be fixed, reviewed text that always carries 988 and their
own safety plan, not generated prose.

Pure functions over plain values (DESIGN.md rule 2); nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from wellness_repo.analysis.intents import Intent, MoodLabel

__all__ = [
    "LIFELINE_TEXT",
    "CheckInReply",
    "PlanContact",
    "ResponseGenerator",
    "ResponseRequest",
    "SafetyPlanSteps",
    "Technique",
    "TemplateResponseGenerator",
    "crisis_response",
    "template_response",
]

LIFELINE_TEXT = (
    "You can call or text 988, the Suicide & Crisis Lifeline, at any hour. "
    "If you are in immediate danger, call 911 or go to the nearest emergency "
    "department."
)
"""The crisis line sentence every crisis response carries."""


class Technique(StrEnum):
    """The evidence-based technique a templated response offers."""

    SAFETY_PLAN = "safety_plan"
    CRISIS_LINE = "crisis_line"
    GROUNDING_5_4_3_2_1 = "grounding_5_4_3_2_1"
    PACED_BREATHING = "paced_breathing"
    SLEEP_HYGIENE = "sleep_hygiene"
    BEHAVIOURAL_ACTIVATION = "behavioural_activation"
    GRATITUDE_PRACTICE = "gratitude_practice"
    MOOD_CHECK = "mood_check"
    REFLECTIVE_LISTENING = "reflective_listening"


@dataclass(frozen=True, slots=True)
class PlanContact:
    """A person or service from the patient's safety plan, as the response
    names them."""

    name: str
    phone: str
    by_text: bool = False


@dataclass(frozen=True, slots=True)
class SafetyPlanSteps:
    """The steps of the patient's active safety plan, in the order the
    Stanley-Brown plan works through them."""

    warning_signs: tuple[str, ...] = ()
    coping_strategies: tuple[str, ...] = ()
    social_contacts: tuple[PlanContact, ...] = ()
    distraction_places: tuple[str, ...] = ()
    help_contacts: tuple[PlanContact, ...] = ()
    professional_contacts: tuple[PlanContact, ...] = ()
    environmental_safety: tuple[str, ...] = ()
    reasons_to_live: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseRequest:
    """What a response generator is told about the message it answers.

    Attributes:
        intent: the recognised intent and ``confidence`` in it.
        conversation_type: the conversation's type (``mood_check_in``...).
        user_text: the patient's message, for a generator that reads it (a
            language model); PHI, kept out of ``repr`` and never logged.
        mood_rating: a 1-10 rating the patient gave, if any.
        mood_labels: the mood words the patient used, as labels.
        safety_plan: the patient's active safety plan steps (crisis only);
            ``None`` when they have no plan.
        concern_for_someone_else: the message tells of another person's
            risk ("my friend said she wants to die").
    """

    intent: Intent
    confidence: float
    conversation_type: str
    user_text: str = field(repr=False)
    mood_rating: int | None = None
    mood_labels: tuple[MoodLabel, ...] = ()
    safety_plan: SafetyPlanSteps | None = None
    concern_for_someone_else: bool = False


@dataclass(frozen=True, slots=True)
class CheckInReply:
    """A templated response and the techniques it offers."""

    text: str
    techniques: tuple[Technique, ...]


@runtime_checkable
class ResponseGenerator(Protocol):
    """Writes the agent's reply to one patient message.

    The default is :class:`TemplateResponseGenerator`. Another implementation
    (a language model behind a service) returns the reply text; it must not
    log ``request.user_text``. Crisis messages never reach it.
    """

    async def generate(self, request: ResponseRequest) -> str:
        """The reply to the message described by ``request``."""
        ...


class TemplateResponseGenerator:
    """The default generator: :func:`template_response`, deterministic."""

    async def generate(self, request: ResponseRequest) -> str:
        """The templated reply to the message described by ``request``."""
        return template_response(request).text


def template_response(request: ResponseRequest) -> CheckInReply:
    """The deterministic reply for the request's intent."""
    if request.intent is Intent.CRISIS:
        return crisis_response(request.safety_plan)
    if request.concern_for_someone_else:
        return _THIRD_PARTY
    if request.intent is Intent.MOOD_REPORT:
        return _mood_reply(request.mood_rating, request.mood_labels)
    if request.intent is Intent.COPING_SKILL_REQUEST:
        return _coping_reply(request.mood_labels)
    return _FIXED.get(request.intent, _FIXED[Intent.UNKNOWN])


def crisis_response(plan: SafetyPlanSteps | None) -> CheckInReply:
    """The reply to a crisis: care, the 988 Lifeline, and the patient's own
    safety plan steps (or, without a plan, where to make one)."""
    lines = [
        "I'm really glad you told me. What you are feeling matters, and you "
        "don't have to go through it alone.",
        LIFELINE_TEXT,
    ]
    if plan is None:
        lines.append(
            "You don't have a safety plan with us yet. Your therapist can make "
            "one with you; until then, please reach out to 988 or someone you "
            "trust now."
        )
    else:
        lines.append("Your safety plan, one step at a time:")
        lines.extend(_plan_lines(plan))
    lines.append("I've let your care team know so they can follow up with you.")
    return CheckInReply(
        "\n".join(lines), (Technique.CRISIS_LINE, Technique.SAFETY_PLAN)
    )


def _plan_lines(plan: SafetyPlanSteps) -> list[str]:
    steps: list[tuple[str, Sequence[str]]] = [
        ("Warning signs to notice", plan.warning_signs),
        ("Things you can do on your own", plan.coping_strategies),
        ("People who help take your mind off things", _contacts(plan.social_contacts)),
        ("Places that help", plan.distraction_places),
        ("People you can ask for help", _contacts(plan.help_contacts)),
        ("Professionals and services", _contacts(plan.professional_contacts)),
        ("Making your surroundings safer", plan.environmental_safety),
        ("Your reasons for living", plan.reasons_to_live),
    ]
    return [
        f"{number}. {title}: {'; '.join(items)}"
        for number, (title, items) in enumerate(
            ((title, items) for title, items in steps if items), start=1
        )
    ]


def _contacts(contacts: Sequence[PlanContact]) -> list[str]:
    return [
        f"{contact.name}, {contact.phone}"
        + (" (call or text)" if contact.by_text else "")
        for contact in contacts
    ]


def _mood_reply(rating: int | None, labels: Sequence[MoodLabel]) -> CheckInReply:
    low = {MoodLabel.SAD, MoodLabel.LONELY, MoodLabel.NUMB, MoodLabel.TIRED}
    good = {MoodLabel.HAPPY, MoodLabel.CALM, MoodLabel.HOPEFUL}
    if rating is None and not labels:
        return _FIXED[Intent.GREETING]
    heard = (
        f"Thank you for telling me your mood is {rating} out of 10. " if rating else ""
    )
    if (rating is not None and rating <= 4) or (rating is None and low & set(labels)):
        return CheckInReply(
            heard + "When mood is low, waiting to feel motivated rarely works; "
            "doing one small thing first often lifts it a little. Is there one "
            "manageable activity you could do in the next hour, such as a "
            "ten-minute walk, a shower, or a message to a friend? Afterwards, "
            "notice how you feel.",
            (Technique.BEHAVIOURAL_ACTIVATION,),
        )
    if (rating is not None and rating >= 7) or (rating is None and good & set(labels)):
        return CheckInReply(
            heard + "That's good to hear. What helped today? Noticing what works "
            "makes it easier to do again on harder days.",
            (Technique.GRATITUDE_PRACTICE, Technique.MOOD_CHECK),
        )
    return CheckInReply(
        heard + "Thanks for checking in. What has shaped your mood most today, "
        "and is there one thing that would make the rest of it a bit better?",
        (Technique.MOOD_CHECK, Technique.BEHAVIOURAL_ACTIVATION),
    )


def _coping_reply(labels: Sequence[MoodLabel]) -> CheckInReply:
    if MoodLabel.ANXIOUS in labels or MoodLabel.STRESSED in labels:
        return _FIXED[Intent.ANXIETY]
    if MoodLabel.SAD in labels or MoodLabel.NUMB in labels:
        return _mood_reply(None, labels)
    return CheckInReply(
        "Here is one to try now: paced breathing. Breathe in through your nose "
        "for a count of four and out slowly for a count of six, for two to "
        "three minutes. If your mind is racing, try 5-4-3-2-1 grounding instead: "
        "name five things you see, four you can touch, three you hear, two you "
        "smell and one you taste.",
        (Technique.PACED_BREATHING, Technique.GROUNDING_5_4_3_2_1),
    )


_THIRD_PARTY = CheckInReply(
    "It sounds like you are worried about someone's safety, and that is a lot "
    "to carry. If they may be in danger, they (or you, on their behalf) can call "
    "or text 988, the Suicide & Crisis Lifeline, at any hour; if the danger is "
    "immediate, call 911. Staying with them and listening helps. How are you "
    "doing yourself?",
    (Technique.CRISIS_LINE,),
)

_FIXED: dict[Intent, CheckInReply] = {
    Intent.GREETING: CheckInReply(
        "Hello, it's good to hear from you. How are you feeling right now, on a "
        "scale from 1 (the worst) to 10 (the best)?",
        (Technique.MOOD_CHECK,),
    ),
    Intent.ANXIETY: CheckInReply(
        "That sounds really uncomfortable. Let's slow things down together. "
        "First, 5-4-3-2-1 grounding: name five things you can see, four you can "
        "touch, three you can hear, two you can smell and one you can taste. "
        "Then paced breathing: in for a count of four, out for a count of six, "
        "for two to three minutes. Anxiety rises and falls; it will pass.",
        (Technique.GROUNDING_5_4_3_2_1, Technique.PACED_BREATHING),
    ),
    Intent.SLEEP: CheckInReply(
        "Sleep troubles are hard. A few steps from CBT for insomnia help most "
        "people: get up at the same time every day, even after a bad night; if "
        "you are awake for about twenty minutes, get up and do something quiet "
        "in dim light until you feel sleepy; keep the bed for sleep; and avoid "
        "caffeine after midday and screens in the last hour before bed.",
        (Technique.SLEEP_HYGIENE,),
    ),
    Intent.GRATITUDE: CheckInReply(
        "It's lovely that you noticed that. Gratitude is worth holding on to: "
        "tonight, try writing down three good things from today and why each "
        "one happened.",
        (Technique.GRATITUDE_PRACTICE,),
    ),
    Intent.GOODBYE: CheckInReply(
        "Thank you for checking in today. Take care of yourself, and remember "
        "you can call or text 988 at any hour if things get hard.",
        (Technique.CRISIS_LINE,),
    ),
    Intent.UNKNOWN: CheckInReply(
        "I want to make sure I understand. Could you tell me a little more "
        "about how you are feeling right now?",
        (Technique.REFLECTIVE_LISTENING,),
    ),
}
