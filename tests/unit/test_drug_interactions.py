"""The shipped psychiatric interaction table: the combinations a prescriber must
never miss are found, whichever way round and however the names are written,
and every rule carries a severity and a source."""

from __future__ import annotations

import pytest

from wellness_repo import (
    InteractionProvider,
    InteractionSeverity,
    TableInteractionProvider,
    find_interactions,
)
from wellness_repo.analysis.drug_interactions import drug_classes, generic_name
from wellness_repo.analysis.interaction_table import (
    BRAND_NAMES,
    DRUG_CLASSES,
    INTERACTION_RULES,
)


@pytest.mark.parametrize(
    ("new_drug", "current", "severity"),
    [
        ("phenelzine", "sertraline", InteractionSeverity.CONTRAINDICATED),
        ("sertraline", "tranylcypromine", InteractionSeverity.CONTRAINDICATED),
        ("linezolid", "escitalopram", InteractionSeverity.CONTRAINDICATED),
        ("venlafaxine", "isocarboxazid", InteractionSeverity.CONTRAINDICATED),
        ("tramadol", "fluoxetine", InteractionSeverity.MAJOR),
        ("sumatriptan", "citalopram", InteractionSeverity.MODERATE),
        ("ibuprofen", "lithium", InteractionSeverity.MAJOR),
        ("lithium", "lisinopril", InteractionSeverity.MAJOR),
        ("hydrochlorothiazide", "lithium carbonate", InteractionSeverity.MAJOR),
        ("fluvoxamine", "clozapine", InteractionSeverity.MAJOR),
        ("clozapine", "ciprofloxacin", InteractionSeverity.MAJOR),
        ("haloperidol", "citalopram", InteractionSeverity.MAJOR),
        ("escitalopram", "methadone", InteractionSeverity.MAJOR),
        ("ziprasidone", "escitalopram", InteractionSeverity.MAJOR),
        ("lamotrigine", "divalproex", InteractionSeverity.MAJOR),
    ],
)
def test_required_combinations_are_flagged_with_their_severity(
    new_drug: str, current: str, severity: InteractionSeverity
) -> None:
    found = find_interactions(new_drug, [current])

    assert found, f"{new_drug} with {current} was not flagged"
    assert found[0].severity is severity


def test_an_ssri_with_an_maoi_is_contraindicated_for_serotonin_syndrome() -> None:
    (found,) = find_interactions("Sertraline", ["Phenelzine"])

    assert found.severity is InteractionSeverity.CONTRAINDICATED
    assert "serotonin syndrome" in found.effect
    assert "prescribing information" in found.source


def test_names_match_whatever_their_case_spacing_brand_or_strength() -> None:
    assert generic_name("  ZOLOFT ") == "sertraline"
    assert generic_name("Sertraline hydrochloride 50 mg") == "sertraline"
    assert generic_name("Lithium carbonate ER") == "lithium carbonate"
    assert generic_name("Methylene   Blue") == "methylene blue"
    assert find_interactions("Nardil", ["Lexapro 10mg"])


def test_two_qt_prolonging_drugs_are_flagged_but_one_drug_twice_is_not() -> None:
    assert find_interactions("citalopram", ["haloperidol"])
    assert find_interactions("citalopram", ["Celexa"]) == []
    assert find_interactions("lithium", ["lithium carbonate"]) == []


def test_unknown_drugs_and_unrelated_pairs_are_not_flagged() -> None:
    assert find_interactions("Metformin", ["sertraline"]) == []
    assert find_interactions("sertraline", ["bupropion"]) == []
    assert find_interactions("sertraline", []) == []


def test_the_most_severe_interaction_comes_first() -> None:
    found = find_interactions(
        "escitalopram", ["sumatriptan", "haloperidol", "selegiline"]
    )

    assert [item.severity for item in found] == [
        InteractionSeverity.CONTRAINDICATED,
        InteractionSeverity.MAJOR,
        InteractionSeverity.MODERATE,
    ]
    assert [item.other_drug for item in found] == [
        "selegiline",
        "haloperidol",
        "sumatriptan",
    ]


def test_every_rule_has_a_severity_a_source_and_management() -> None:
    for rule in INTERACTION_RULES:
        assert isinstance(rule.severity, InteractionSeverity)
        assert len(rule.source) > 20
        assert rule.management
        assert rule.effect


def test_every_brand_maps_to_a_generic_in_the_table() -> None:
    assert all(generic in DRUG_CLASSES for generic in BRAND_NAMES.values())
    assert drug_classes("Clozaril") == DRUG_CLASSES["clozapine"]


async def test_the_table_provider_satisfies_the_pluggable_protocol() -> None:
    provider = TableInteractionProvider()

    found = await provider.interactions("tramadol", ["Zoloft"])

    assert isinstance(provider, InteractionProvider)
    assert found[0].other_drug == "sertraline"
