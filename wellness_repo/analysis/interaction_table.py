"""The shipped table of clinically important psychiatric drug interactions.

Two parts: which interaction classes each drug belongs to (generic names, with
common US brand names mapped to them), and which pairs of classes interact, how
badly, and on whose authority. The table is deliberately small: it covers the
combinations a psychiatric prescriber must never miss, not every interaction a
full drug database knows. Plug such a database in through
``analysis.drug_interactions.InteractionProvider``.

Sources are the US prescribing information (PI) of the drugs named, FDA safety
communications, and the CredibleMeds QTdrugs list (drugs with a known risk of
torsades de pointes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BRAND_NAMES",
    "DRUG_CLASSES",
    "INTERACTION_RULES",
    "InteractionClass",
    "InteractionRule",
    "InteractionSeverity",
]


class InteractionSeverity(StrEnum):
    """How serious an interaction is, most serious first."""

    CONTRAINDICATED = "contraindicated"
    """Never co-prescribe; refused unless the prescriber acknowledges it."""
    MAJOR = "major"
    """May be life-threatening; avoid, or change doses and monitor closely."""
    MODERATE = "moderate"
    """May worsen the patient's condition; monitor."""
    MINOR = "minor"
    """Of limited clinical effect."""

    @property
    def rank(self) -> int:
        """0 for contraindicated up to 3 for minor: sorts the worst first."""
        return list(InteractionSeverity).index(self)


class InteractionClass(StrEnum):
    """A group of drugs that interact alike."""

    SSRI = "ssri"
    SNRI = "snri"
    MAOI = "maoi"
    TRAMADOL = "tramadol"
    TRIPTAN = "triptan"
    LITHIUM = "lithium"
    NSAID = "nsaid"
    ACE_INHIBITOR = "ace_inhibitor"
    THIAZIDE = "thiazide"
    CLOZAPINE = "clozapine"
    STRONG_CYP1A2_INHIBITOR = "strong_cyp1a2_inhibitor"
    QT_PROLONGING = "qt_prolonging"
    """Known risk of torsades de pointes (CredibleMeds)."""
    VALPROATE = "valproate"
    LAMOTRIGINE = "lamotrigine"


@dataclass(frozen=True, slots=True)
class InteractionRule:
    """One interacting pair of classes (order does not matter)."""

    first: InteractionClass
    second: InteractionClass
    severity: InteractionSeverity
    effect: str
    """What can happen to the patient."""
    management: str
    """What the prescriber should do."""
    source: str
    """The citation the rule rests on."""


_C = InteractionClass
_S = InteractionSeverity

DRUG_CLASSES: Mapping[str, frozenset[InteractionClass]] = {
    name: frozenset(classes)
    for name, classes in {
        "citalopram": (_C.SSRI, _C.QT_PROLONGING),
        "escitalopram": (_C.SSRI, _C.QT_PROLONGING),
        "fluoxetine": (_C.SSRI,),
        "fluvoxamine": (_C.SSRI, _C.STRONG_CYP1A2_INHIBITOR),
        "paroxetine": (_C.SSRI,),
        "sertraline": (_C.SSRI,),
        "vilazodone": (_C.SSRI,),
        "venlafaxine": (_C.SNRI,),
        "desvenlafaxine": (_C.SNRI,),
        "duloxetine": (_C.SNRI,),
        "levomilnacipran": (_C.SNRI,),
        "phenelzine": (_C.MAOI,),
        "tranylcypromine": (_C.MAOI,),
        "isocarboxazid": (_C.MAOI,),
        "selegiline": (_C.MAOI,),
        "rasagiline": (_C.MAOI,),
        "linezolid": (_C.MAOI,),
        "methylene blue": (_C.MAOI,),
        "tramadol": (_C.TRAMADOL,),
        "almotriptan": (_C.TRIPTAN,),
        "eletriptan": (_C.TRIPTAN,),
        "frovatriptan": (_C.TRIPTAN,),
        "naratriptan": (_C.TRIPTAN,),
        "rizatriptan": (_C.TRIPTAN,),
        "sumatriptan": (_C.TRIPTAN,),
        "zolmitriptan": (_C.TRIPTAN,),
        "lithium": (_C.LITHIUM,),
        "lithium carbonate": (_C.LITHIUM,),
        "lithium citrate": (_C.LITHIUM,),
        "ibuprofen": (_C.NSAID,),
        "naproxen": (_C.NSAID,),
        "diclofenac": (_C.NSAID,),
        "celecoxib": (_C.NSAID,),
        "indomethacin": (_C.NSAID,),
        "meloxicam": (_C.NSAID,),
        "ketorolac": (_C.NSAID,),
        "lisinopril": (_C.ACE_INHIBITOR,),
        "enalapril": (_C.ACE_INHIBITOR,),
        "ramipril": (_C.ACE_INHIBITOR,),
        "captopril": (_C.ACE_INHIBITOR,),
        "benazepril": (_C.ACE_INHIBITOR,),
        "quinapril": (_C.ACE_INHIBITOR,),
        "hydrochlorothiazide": (_C.THIAZIDE,),
        "chlorthalidone": (_C.THIAZIDE,),
        "indapamide": (_C.THIAZIDE,),
        "metolazone": (_C.THIAZIDE,),
        "clozapine": (_C.CLOZAPINE,),
        "ciprofloxacin": (_C.STRONG_CYP1A2_INHIBITOR,),
        "enoxacin": (_C.STRONG_CYP1A2_INHIBITOR,),
        "haloperidol": (_C.QT_PROLONGING,),
        "methadone": (_C.QT_PROLONGING,),
        "ziprasidone": (_C.QT_PROLONGING,),
        "thioridazine": (_C.QT_PROLONGING,),
        "pimozide": (_C.QT_PROLONGING,),
        "chlorpromazine": (_C.QT_PROLONGING,),
        "ondansetron": (_C.QT_PROLONGING,),
        "valproate": (_C.VALPROATE,),
        "valproic acid": (_C.VALPROATE,),
        "divalproex": (_C.VALPROATE,),
        "lamotrigine": (_C.LAMOTRIGINE,),
    }.items()
}
"""Generic name (lower case) -> the interaction classes it belongs to."""

BRAND_NAMES: Mapping[str, str] = {
    "celexa": "citalopram",
    "lexapro": "escitalopram",
    "prozac": "fluoxetine",
    "sarafem": "fluoxetine",
    "luvox": "fluvoxamine",
    "paxil": "paroxetine",
    "zoloft": "sertraline",
    "viibryd": "vilazodone",
    "effexor": "venlafaxine",
    "effexor xr": "venlafaxine",
    "pristiq": "desvenlafaxine",
    "cymbalta": "duloxetine",
    "fetzima": "levomilnacipran",
    "nardil": "phenelzine",
    "parnate": "tranylcypromine",
    "marplan": "isocarboxazid",
    "emsam": "selegiline",
    "azilect": "rasagiline",
    "zyvox": "linezolid",
    "ultram": "tramadol",
    "conzip": "tramadol",
    "imitrex": "sumatriptan",
    "maxalt": "rizatriptan",
    "zomig": "zolmitriptan",
    "relpax": "eletriptan",
    "amerge": "naratriptan",
    "lithobid": "lithium",
    "advil": "ibuprofen",
    "motrin": "ibuprofen",
    "aleve": "naproxen",
    "naprosyn": "naproxen",
    "voltaren": "diclofenac",
    "celebrex": "celecoxib",
    "mobic": "meloxicam",
    "zestril": "lisinopril",
    "prinivil": "lisinopril",
    "vasotec": "enalapril",
    "altace": "ramipril",
    "microzide": "hydrochlorothiazide",
    "clozaril": "clozapine",
    "versacloz": "clozapine",
    "cipro": "ciprofloxacin",
    "haldol": "haloperidol",
    "dolophine": "methadone",
    "methadose": "methadone",
    "geodon": "ziprasidone",
    "orap": "pimozide",
    "zofran": "ondansetron",
    "depakote": "divalproex",
    "depakene": "valproic acid",
    "lamictal": "lamotrigine",
}
"""Common US brand name (lower case) -> its generic name in :data:`DRUG_CLASSES`."""

_SEROTONIN_SYNDROME = (
    "serotonin syndrome: agitation, hyperthermia, clonus, autonomic instability"
)
_LITHIUM_PI = "Lithium carbonate US prescribing information, 7 Drug Interactions"
_LITHIUM_TOXICITY = (
    "raised serum lithium and lithium toxicity (reduced renal lithium clearance)"
)
_LITHIUM_MANAGEMENT = (
    "avoid if possible; otherwise check serum lithium within 5 days of starting "
    "and after each dose change, and watch for toxicity"
)

INTERACTION_RULES: tuple[InteractionRule, ...] = (
    InteractionRule(
        _C.SSRI,
        _C.MAOI,
        _S.CONTRAINDICATED,
        _SEROTONIN_SYNDROME,
        "do not co-prescribe; allow 14 days between stopping an MAOI and "
        "starting an SSRI (5 weeks after fluoxetine before an MAOI)",
        "Zoloft (sertraline) US prescribing information, 4 Contraindications; "
        "FDA Drug Safety Communication on linezolid and methylene blue (2011)",
    ),
    InteractionRule(
        _C.SNRI,
        _C.MAOI,
        _S.CONTRAINDICATED,
        _SEROTONIN_SYNDROME,
        "do not co-prescribe; allow 14 days between stopping an MAOI and "
        "starting an SNRI (7 days the other way)",
        "Effexor XR (venlafaxine) US prescribing information, 4 Contraindications",
    ),
    InteractionRule(
        _C.SSRI,
        _C.TRAMADOL,
        _S.MAJOR,
        _SEROTONIN_SYNDROME + "; lowered seizure threshold",
        "prefer another analgesic; if combined, start low and monitor for "
        "serotonin toxicity and seizures",
        "Ultram (tramadol) US prescribing information, 5 Warnings and "
        "Precautions: Serotonin Syndrome Risk; Seizure Risk",
    ),
    InteractionRule(
        _C.SNRI,
        _C.TRAMADOL,
        _S.MAJOR,
        _SEROTONIN_SYNDROME + "; lowered seizure threshold",
        "prefer another analgesic; if combined, monitor for serotonin toxicity",
        "Ultram (tramadol) US prescribing information, 5 Warnings and "
        "Precautions: Serotonin Syndrome Risk",
    ),
    InteractionRule(
        _C.SSRI,
        _C.TRIPTAN,
        _S.MODERATE,
        _SEROTONIN_SYNDROME + " (rare)",
        "usually combined safely; tell the patient the symptoms of serotonin "
        "syndrome and review if they occur",
        "FDA Public Health Advisory: combined use of 5-HT1 agonists (triptans) "
        "with SSRIs or SNRIs (July 2006)",
    ),
    InteractionRule(
        _C.SNRI,
        _C.TRIPTAN,
        _S.MODERATE,
        _SEROTONIN_SYNDROME + " (rare)",
        "usually combined safely; tell the patient the symptoms of serotonin "
        "syndrome and review if they occur",
        "FDA Public Health Advisory: combined use of 5-HT1 agonists (triptans) "
        "with SSRIs or SNRIs (July 2006)",
    ),
    InteractionRule(
        _C.MAOI,
        _C.TRAMADOL,
        _S.CONTRAINDICATED,
        _SEROTONIN_SYNDROME,
        "do not co-prescribe, nor within 14 days of stopping the MAOI",
        "Ultram (tramadol) US prescribing information, 4 Contraindications",
    ),
    InteractionRule(
        _C.LITHIUM,
        _C.NSAID,
        _S.MAJOR,
        _LITHIUM_TOXICITY,
        _LITHIUM_MANAGEMENT,
        _LITHIUM_PI,
    ),
    InteractionRule(
        _C.LITHIUM,
        _C.ACE_INHIBITOR,
        _S.MAJOR,
        _LITHIUM_TOXICITY,
        _LITHIUM_MANAGEMENT,
        _LITHIUM_PI,
    ),
    InteractionRule(
        _C.LITHIUM,
        _C.THIAZIDE,
        _S.MAJOR,
        _LITHIUM_TOXICITY,
        _LITHIUM_MANAGEMENT,
        _LITHIUM_PI,
    ),
    InteractionRule(
        _C.CLOZAPINE,
        _C.STRONG_CYP1A2_INHIBITOR,
        _S.MAJOR,
        "several-fold rise in clozapine levels: sedation, hypotension, "
        "seizures, QT prolongation",
        "reduce the clozapine dose to one third and monitor levels; restore it "
        "when the inhibitor stops",
        "Clozaril (clozapine) US prescribing information, 2.6 Dosage "
        "Adjustments with Concomitant use of CYP1A2 Inhibitors; 7.1",
    ),
    InteractionRule(
        _C.QT_PROLONGING,
        _C.QT_PROLONGING,
        _S.MAJOR,
        "additive QT prolongation; torsades de pointes",
        "avoid the combination; if unavoidable, baseline and follow-up ECG and "
        "keep potassium and magnesium normal",
        "CredibleMeds QTdrugs list (Known Risk of TdP); Celexa (citalopram) US "
        "prescribing information, 5.2 QT-Prolongation and Torsade de Pointes",
    ),
    InteractionRule(
        _C.VALPROATE,
        _C.LAMOTRIGINE,
        _S.MAJOR,
        "lamotrigine levels about double: serious rash including "
        "Stevens-Johnson syndrome",
        "halve the lamotrigine dose and titrate by the valproate schedule",
        "Lamictal (lamotrigine) US prescribing information, Boxed Warning and "
        "2.1 General Dosing Considerations",
    ),
)
"""The interacting class pairs."""
