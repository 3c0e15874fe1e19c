"""The check-in agent's replies as the repository gets them: the steps of a
patient's safety plan for the crisis reply, and a plugged-in generator's reply
with the template answering when the generator fails."""

from __future__ import annotations

import logging

from wellness_repo.analysis.check_in_responses import (
    PlanContact,
    ResponseGenerator,
    ResponseRequest,
    SafetyPlanSteps,
    template_response,
)
from wellness_repo.models.conversations import MAX_MESSAGE_LENGTH
from wellness_repo.models.safety_plans import ContactMethod, SafetyContact, SafetyPlan

__all__ = ["generated_reply", "safety_plan_steps"]


async def generated_reply(
    generator: ResponseGenerator, request: ResponseRequest, logger: logging.Logger
) -> str:
    """``generator``'s reply to a non-crisis message; the template's if the
    generator raises or gives no text (logged without the patient's words)."""
    try:
        reply = await generator.generate(request)
    except Exception as exc:
        logger.warning(
            "response generator %s failed (%s); the template replied",
            type(generator).__name__,
            type(exc).__name__,
        )
        return template_response(request).text
    if not isinstance(reply, str) or not reply.strip():
        logger.warning(
            "response generator %s gave no text; the template replied",
            type(generator).__name__,
        )
        return template_response(request).text
    return reply.strip()[:MAX_MESSAGE_LENGTH]


def safety_plan_steps(plan: SafetyPlan) -> SafetyPlanSteps:
    """The steps of ``plan`` in the form the crisis reply lists them."""
    return SafetyPlanSteps(
        warning_signs=tuple(plan.warning_signs),
        coping_strategies=tuple(plan.coping_strategies),
        social_contacts=_contacts(plan.social_contacts),
        distraction_places=tuple(plan.distraction_places),
        help_contacts=_contacts(plan.help_contacts),
        professional_contacts=_contacts(plan.professional_contacts),
        environmental_safety=tuple(plan.environmental_safety),
        reasons_to_live=tuple(plan.reasons_to_live),
    )


def _contacts(contacts: list[SafetyContact]) -> tuple[PlanContact, ...]:
    return tuple(
        PlanContact(
            name=contact.name,
            phone=contact.phone,
            by_text=ContactMethod.TEXT in contact.methods,
        )
        for contact in contacts
    )
