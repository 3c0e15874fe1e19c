"""The agent's default replies: one evidence-based template per intent, the
crisis reply with 988 and every step of the patient's safety plan, and the
pluggable generator protocol."""

from __future__ import annotations

import pytest

from wellness_repo import (
    Intent,
    MoodLabel,
    ResponseGenerator,
    ResponseRequest,
    SafetyPlanSteps,
    Technique,
    TemplateResponseGenerator,
)
from wellness_repo.analysis.check_in_responses import (
    PlanContact,
    crisis_response,
    template_response,
)

PLAN = SafetyPlanSteps(
    warning_signs=("Lying awake past 3am replaying the argument",),
    coping_strategies=("Box breathing for five minutes", "Walk the dog"),
    social_contacts=(PlanContact("Sister", "(555) 123-4567", by_text=True),),
    distraction_places=("The climbing gym on Fifth Street",),
    help_contacts=(PlanContact("Sam from the running club", "+1 555 987 6543"),),
    professional_contacts=(
        PlanContact("Dr. Rivera (therapist)", "555-201-7788"),
        PlanContact("988 Suicide & Crisis Lifeline", "988", by_text=True),
    ),
    environmental_safety=("Car keys with my partner on bad nights",),
    reasons_to_live=("My niece's graduation in June",),
)


def request(intent: Intent, **changes: object) -> ResponseRequest:
    values: dict[str, object] = {
        "intent": intent,
        "confidence": 0.8,
        "conversation_type": "mood_check_in",
        "user_text": "a message",
    }
    values.update(changes)
    return ResponseRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("intent", "technique"),
    [
        (Intent.ANXIETY, Technique.GROUNDING_5_4_3_2_1),
        (Intent.ANXIETY, Technique.PACED_BREATHING),
        (Intent.SLEEP, Technique.SLEEP_HYGIENE),
        (Intent.GRATITUDE, Technique.GRATITUDE_PRACTICE),
        (Intent.COPING_SKILL_REQUEST, Technique.PACED_BREATHING),
        (Intent.GREETING, Technique.MOOD_CHECK),
        (Intent.UNKNOWN, Technique.REFLECTIVE_LISTENING),
    ],
)
def test_each_intent_is_answered_with_its_technique(
    intent: Intent, technique: Technique
) -> None:
    reply = template_response(request(intent))

    assert technique in reply.techniques


def test_the_anxiety_reply_walks_through_grounding_and_breathing() -> None:
    text = template_response(request(Intent.ANXIETY)).text

    assert "five things you can see" in text
    assert "out for a count of six" in text


def test_a_low_mood_rating_gets_behavioural_activation() -> None:
    reply = template_response(request(Intent.MOOD_REPORT, mood_rating=3))

    assert reply.techniques == (Technique.BEHAVIOURAL_ACTIVATION,)
    assert "3 out of 10" in reply.text


def test_low_mood_words_without_a_rating_get_behavioural_activation() -> None:
    reply = template_response(
        request(Intent.MOOD_REPORT, mood_labels=(MoodLabel.SAD, MoodLabel.LONELY))
    )

    assert Technique.BEHAVIOURAL_ACTIVATION in reply.techniques


def test_a_good_mood_is_reinforced() -> None:
    reply = template_response(request(Intent.MOOD_REPORT, mood_rating=8))

    assert Technique.GRATITUDE_PRACTICE in reply.techniques


def test_an_anxious_request_for_a_skill_gets_grounding() -> None:
    reply = template_response(
        request(Intent.COPING_SKILL_REQUEST, mood_labels=(MoodLabel.ANXIOUS,))
    )

    assert Technique.GROUNDING_5_4_3_2_1 in reply.techniques


def test_the_crisis_reply_gives_988_by_call_and_text() -> None:
    text = crisis_response(PLAN).text

    assert "call or text 988" in text
    assert "911" in text


def test_the_crisis_reply_lists_every_step_of_the_safety_plan() -> None:
    text = crisis_response(PLAN).text

    for step in (
        *PLAN.warning_signs,
        *PLAN.coping_strategies,
        *PLAN.distraction_places,
        *PLAN.environmental_safety,
        *PLAN.reasons_to_live,
    ):
        assert step in text
    for contact in (
        *PLAN.social_contacts,
        *PLAN.help_contacts,
        *PLAN.professional_contacts,
    ):
        assert f"{contact.name}, {contact.phone}" in text


def test_the_crisis_reply_without_a_plan_still_gives_988() -> None:
    reply = crisis_response(None)

    assert "call or text 988" in reply.text
    assert "don't have a safety plan" in reply.text
    assert Technique.CRISIS_LINE in reply.techniques


def test_a_crisis_request_is_answered_by_the_crisis_reply() -> None:
    reply = template_response(request(Intent.CRISIS, safety_plan=PLAN))

    assert reply == crisis_response(PLAN)


def test_concern_for_someone_else_points_them_to_988() -> None:
    reply = template_response(request(Intent.UNKNOWN, concern_for_someone_else=True))

    assert "988" in reply.text
    assert Technique.CRISIS_LINE in reply.techniques


def test_templates_are_deterministic() -> None:
    first = template_response(request(Intent.SLEEP)).text

    again = template_response(request(Intent.SLEEP)).text

    assert first == again


def test_the_patients_words_stay_out_of_the_request_repr() -> None:
    described = repr(request(Intent.SLEEP, user_text="lay awake replaying it"))

    assert "lay awake" not in described


async def test_the_template_generator_satisfies_the_protocol() -> None:
    generator = TemplateResponseGenerator()

    text = await generator.generate(request(Intent.GRATITUDE))

    assert isinstance(generator, ResponseGenerator)
    assert text == template_response(request(Intent.GRATITUDE)).text
