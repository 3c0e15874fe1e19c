"""The phrases the crisis detector looks for, and the idioms it ignores.

The phrase families are split by concern (``crisis_cues_ideation``,
``crisis_cues_harm``, ``crisis_cues_signs``); hopelessness, the broad
operator-and-concept fallbacks and the figures of speech live here, with
:data:`CUES`, the order the detector tries them in (specific phrases first, the
fallbacks last).
"""

from __future__ import annotations

import re

from wellness_repo.analysis.crisis_cue import (
    HIGH,
    HOPE,
    LOW,
    MODERATE,
    SH,
    SI,
    Cue,
    cue,
)
from wellness_repo.analysis.crisis_cues_harm import (
    HARM_TO_OTHERS,
    SELF_HARM,
    SUICIDE_METHODS,
)
from wellness_repo.analysis.crisis_cues_ideation import SUICIDAL_IDEATION
from wellness_repo.analysis.crisis_cues_signs import WARNING_SIGNS

__all__ = ["CUES", "IDIOMS"]

_HOPELESSNESS = (
    cue(
        "hopeless",
        HOPE,
        MODERATE,
        0.8,
        r"\b(?:feel|feels|feeling|felt|am|was|been|so|completely|totally|utterly|"
        r"just|really|(?:life|everything|things|it|it all|my (?:life|future|"
        r"situation)) (?:is|are|feels|seems|looks)) hopeless\b",
    ),
    cue(
        "lost_hope",
        HOPE,
        MODERATE,
        0.8,
        r"\b(?:(?:lost|losing|lose|given up|giving up)(?: on)? (?:all )?(?:my )?"
        r"hope|(?P<core>no (?:more )?hope))\b",
    ),
    cue(
        "never_better",
        HOPE,
        MODERATE,
        0.75,
        r"\b(?P<core>(?:never|not ever) (?:going to |gonna )?(?:get|be|getting) "
        r"(?:any )?better|nothing (?:is )?(?:ever )?(?:going to |will )?(?:ever )?"
        r"(?:get|gets|getting) better)\b",
    ),
    cue(
        "doubt_it_gets_better",
        HOPE,
        MODERATE,
        0.7,
        r"\b(?P<core>(?:not think|not believe|doubt) (?:that )?(?:things|it|life|"
        r"anything|i) (?:will|is going to|are going to|am going to|can) (?:ever )?"
        r"(?:get|be|feel) (?:any )?better)\b",
    ),
    cue(
        "nothing_changes",
        HOPE,
        LOW,
        0.6,
        r"\b(?P<core>nothing (?:will |is going to )?(?:ever )?(?:change|changes|"
        r"works|helps|improves))\b",
    ),
    cue(
        "never_end",
        HOPE,
        LOW,
        0.55,
        r"\b(?P<core>never (?:going to |gonna )?end)\b",
    ),
    cue(
        "no_way_out",
        HOPE,
        MODERATE,
        0.75,
        r"\b(?P<core>(?:no|the only|only one) way out|no escape)\b",
    ),
    cue("trapped", HOPE, LOW, 0.6, r"\b(?:feel|feeling|felt) trapped\b"),
    cue(
        "can_not_go_on",
        HOPE,
        MODERATE,
        0.75,
        r"\b(?P<core>can not (?:go on|keep going|carry on)(?: like this)?)"
        r"(?= ?(?:$|,|anymore|any more|any longer|like this|and|but))",
    ),
    cue(
        "can_not_take_it",
        HOPE,
        MODERATE,
        0.75,
        r"\b(?P<core>can not (?:do this|take (?:it|this|much more)|cope|"
        r"handle (?:it|this|life))(?: like this)? (?:anymore|any more|any longer))",
    ),
    cue(
        "what_is_the_point",
        HOPE,
        LOW,
        0.6,
        r"\bwhat is the point(?: (?:of|in) (?:anything|trying|it all|going on|"
        r"any of this|everything))?(?= ?(?:$|,|anymore))",
    ),
    cue(
        "no_point",
        HOPE,
        LOW,
        0.6,
        r"\b(?P<core>(?:no|not see the|not see any|see no) point (?:in |of )?"
        r"(?:trying|anything|going on|it anymore|anymore))\b",
    ),
    cue(
        "pointless",
        HOPE,
        LOW,
        0.6,
        r"\b(?:it is|it all is|everything is|life is|it all feels|everything "
        r"feels) (?:all )?(?:so )?pointless\b",
    ),
    cue(
        "giving_up_on_life",
        HOPE,
        MODERATE,
        0.7,
        r"\bgiv(?:ing|e|en) up on (?:everything|life|myself|living|it all)\b",
    ),
    cue(
        "given_up",
        HOPE,
        LOW,
        0.55,
        r"\bi (?:have|am) (?:just )?(?:given|giving) up(?= ?(?:$|,|on trying))",
    ),
    cue(
        "nothing_ahead",
        HOPE,
        LOW,
        0.65,
        r"\b(?P<core>nothing to look forward to)\b",
    ),
    cue(
        "no_future",
        HOPE,
        MODERATE,
        0.7,
        r"\b(?P<core>(?:see|have) no future|no future for me|(?:do not|can not) "
        r"(?:have|see) a future)\b",
    ),
    cue(
        "worthless",
        HOPE,
        LOW,
        0.6,
        r"\b(?:am|feel|feeling|felt) (?:so |completely |totally |utterly )?"
        r"worthless\b",
    ),
    cue(
        "nothing_left",
        HOPE,
        MODERATE,
        0.65,
        r"\b(?P<core>nothing left for me)\b",
    ),
    cue("done_trying", HOPE, LOW, 0.55, r"\bdone trying\b"),
    cue(
        "i_give_up",
        HOPE,
        LOW,
        0.55,
        r"\bi (?:just |officially )?give up(?= ?(?:$|,|on (?:everything|life|"
        r"myself|trying|living)))",
    ),
    cue(
        "nothing_i_do_matters",
        HOPE,
        LOW,
        0.55,
        r"\b(?P<core>nothing (?:i (?:do|say|try) )?matters)\b",
    ),
)

_OPERATOR = (
    r"(?:want|wants|wanted|wanting|wish|wishing|hope|hoping|pray|praying|"
    r"{thinking} (?:about|of)|keep thinking about|considering|considered|"
    r"contemplating|planning|plan|going to|ready to|about to|should|deserve to|"
    r"urges? to|tempted to|feel like|felt like|would rather|long to|longing to|"
    r"talking about|talks about|talked about|dream of|dreaming of)"
)
_CONCEPTS_ACTIVE = (
    r"(?:(?<!going )to die\b(?! in my sleep)|i die\b(?! in my sleep)|"
    r"kill(?:ing)? myself|end(?:ing)? (?:it|my life|everything)\b(?! (?:with|"
    r"between|off|for|on|early|there|here|now))|overdos\w+|hang(?:ing)? myself|"
    r"shoot(?:ing)? myself|driv\w+ (?:my car |the car |off )?(?:into|off) "
    r"(?:a|the) (?:wall|tree|bridge|cliff|truck|lorry|pole|river|ditch|road|"
    r"highway|overpass|oncoming \w+)|crash(?:ing)? (?:my|the) car (?:on purpose|"
    r"into (?:a|the) (?:wall|tree|bridge|pole|truck))|us(?:e|ing) (?:it|them|"
    r"the gun|a gun|the knife|a knife|the rope|the pills) on myself|"
    r"stop(?:ping)? living)"
)
_CONCEPTS_PASSIVE = (
    r"(?:not (?:exist|existing|be alive|being alive|be here|being here|wake up|"
    r"waking up|be around|being around)\b|(?:disappear|"
    r"vanish)\b(?! (?:for|into|from|to|with|under|in\b|off))|be gone(?= ?(?:$|"
    r",|forever|for good|and\b|so\b|already))|"
    r"cease to exist|stop existing|sleep forever|never wake up|be dead\b"
    r"(?! (?:honest|serious|tired|set|on|wrong|last|certain|sure|quiet))|"
    r"(?:i |to )?die in my sleep)"
)
_CONCEPTS_SELF_HARM = (
    r"(?:cut(?:ting)? (?:myself|my (?:arms?|legs?|thighs?|skin|stomach))|"
    r"(?:hurt|hurting|burn|burning|harm|harming|scratch|scratching|hit|hitting) "
    r"myself|self harm\w*|make myself bleed)"
)

_FALLBACKS = (
    cue(
        "operator_active_death",
        SI,
        HIGH,
        0.7,
        r"\b" + _OPERATOR + r"(?: \w+){0,4}? (?P<core>" + _CONCEPTS_ACTIVE + ")",
        act=True,
        fallback=True,
    ),
    cue(
        "operator_passive_death",
        SI,
        MODERATE,
        0.6,
        r"\b" + _OPERATOR + r"(?: \w+){0,4}? (?P<core>" + _CONCEPTS_PASSIVE + ")",
        fallback=True,
    ),
    cue(
        "operator_self_harm",
        SH,
        MODERATE,
        0.65,
        r"\b" + _OPERATOR + r"(?: \w+){0,4}? (?P<core>" + _CONCEPTS_SELF_HARM + ")",
        fallback=True,
    ),
)

CUES: tuple[Cue, ...] = (
    *SUICIDAL_IDEATION,
    *SUICIDE_METHODS,
    *SELF_HARM,
    *HARM_TO_OTHERS,
    *_HOPELESSNESS,
    *WARNING_SIGNS,
    *_FALLBACKS,
)
"""Every phrase family the detector looks for."""

IDIOMS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"\bdying (?:to|for)\b",
        r"\b(?:die|died|dying|dead)(?: of| from)? (?:laughing|laughter|"
        r"embarrassment|shame|boredom|cringe|cuteness|jealousy)\b",
        r"\bto die for\b",
        r"\b(?:bored|scared|sick|worried|tired|frightened|freezing) to death\b",
        r"\bdie on (?:this|that|the|a) hill\b",
        r"\b(?:hit|kick|slap|smack|punch) myself for\b",
        r"\bcould (?:sleep|nap) forever\b",
        r"\b(?:love|loved|loves) \w+(?: \w+)? to death\b",
        r"\bkill(?:ing|ed|s)? (?:it|time|some time|two birds)\b",
        r"\b(?:would|could) kill for\b",
        r"\bkill(?:ing|ed)? (?:myself|me) (?:laughing|with laughter)\b",
        r"\bkilling myself (?:at work|with work|working|over|to (?:finish|get|"
        r"meet|make))\b",
        r"\b(?:just )?kill me now\b",
        r"\brather (?:die|be dead) than\b",
        r"\bcould (?:just )?die\b",
        r"\b(?:career|social|political) suicide\b",
        r"\bsuicide (?:mission|squad|run|doors|sprints?|drills?)\b",
        r"\bburn(?:ed|t|ing)? (?:myself |me )?out\b",
        r"\bhopeless (?:at|with|romantic|case)\b",
        r"\bshoot (?:me|you|him|her) (?:a|an) (?:text|message|email|line|dm)\b",
        r"\bkilling (?:me|us)\b",
        r"\b(?:could|would|going to|will) (?:kill|murder|strangle) (?:him|her|"
        r"them|you|my \w+) for (?:\w+ing|that|this|being|not)\b",
    )
)
"""Figures of speech removed before matching ("this deadline is killing me")."""
