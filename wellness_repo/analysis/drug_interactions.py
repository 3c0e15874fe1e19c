"""Checking a new prescription against the patient's other medications.

:func:`find_interactions` looks drug names up in the shipped table
(``analysis.interaction_table``): generic names and common brand names, case
and spacing ignored, a trailing salt or formulation word ("sertraline
hydrochloride", "lithium carbonate ER") tolerated. A drug the table does not
know is simply not flagged, so the table is a safety net, not a clearance.

:class:`InteractionProvider` is what the medication repository calls; the
default :class:`TableInteractionProvider` reads the shipped table, and a full
drug database plugs in by implementing the same one method.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from wellness_repo.analysis.interaction_table import (
    BRAND_NAMES,
    DRUG_CLASSES,
    INTERACTION_RULES,
    InteractionClass,
    InteractionSeverity,
)

__all__ = [
    "DrugInteraction",
    "InteractionProvider",
    "TableInteractionProvider",
    "drug_classes",
    "find_interactions",
    "generic_name",
]

_SPACES = re.compile(r"[\s\-_/]+")


@dataclass(frozen=True, slots=True)
class DrugInteraction:
    """An interaction between the drug being added and one already prescribed.

    ``new_drug`` and ``other_drug`` are the generic names the table matched.
    """

    new_drug: str
    other_drug: str
    severity: InteractionSeverity
    effect: str
    management: str
    source: str


@runtime_checkable
class InteractionProvider(Protocol):
    """Where interaction knowledge comes from: the shipped table, or a full drug
    database behind the same call."""

    async def interactions(
        self, new_drug: str, current_drugs: Sequence[str]
    ) -> list[DrugInteraction]:
        """Interactions of ``new_drug`` with each of ``current_drugs`` (names as
        prescribed), the most severe first."""
        ...


class TableInteractionProvider:
    """The default provider: the small psychiatric table shipped with the
    package."""

    async def interactions(
        self, new_drug: str, current_drugs: Sequence[str]
    ) -> list[DrugInteraction]:
        """See :func:`find_interactions`."""
        return find_interactions(new_drug, current_drugs)


def generic_name(name: str) -> str | None:
    """The table's generic name for a drug name as prescribed, or ``None``.

    Tries the whole name, then drops trailing words one at a time, so "Zoloft
    50 mg" and "Lithium carbonate ER" both resolve.
    """
    words = _SPACES.sub(" ", name.strip().lower()).split(" ")
    while words:
        candidate = " ".join(words)
        if candidate in DRUG_CLASSES:
            return candidate
        if candidate in BRAND_NAMES:
            return BRAND_NAMES[candidate]
        words.pop()
    return None


def drug_classes(name: str) -> frozenset[InteractionClass]:
    """The interaction classes a drug name belongs to (empty if unknown)."""
    generic = generic_name(name)
    return DRUG_CLASSES[generic] if generic else frozenset()


def find_interactions(
    new_drug: str, current_drugs: Sequence[str]
) -> list[DrugInteraction]:
    """Every interaction of ``new_drug`` with ``current_drugs`` in the table,
    most severe first; one entry per interacting rule and drug.

    The same drug prescribed twice is not an interaction (it is a duplicate
    prescription, which the prescriber sees in the medication list).
    """
    new_generic = generic_name(new_drug)
    if new_generic is None:
        return []
    new_classes = DRUG_CLASSES[new_generic]
    found: list[DrugInteraction] = []
    for other in current_drugs:
        other_generic = generic_name(other)
        if other_generic is None or _same_drug(new_generic, other_generic):
            continue
        other_classes = DRUG_CLASSES[other_generic]
        for rule in INTERACTION_RULES:
            forward = rule.first in new_classes and rule.second in other_classes
            backward = rule.second in new_classes and rule.first in other_classes
            if forward or backward:
                found.append(
                    DrugInteraction(
                        new_drug=new_generic,
                        other_drug=other_generic,
                        severity=rule.severity,
                        effect=rule.effect,
                        management=rule.management,
                        source=rule.source,
                    )
                )
    found.sort(key=lambda item: (item.severity.rank, item.other_drug))
    return found


def _same_drug(first: str, second: str) -> bool:
    # "lithium" and "lithium carbonate" are one drug in two spellings.
    return first == second or first.split(" ")[0] == second.split(" ")[0]
