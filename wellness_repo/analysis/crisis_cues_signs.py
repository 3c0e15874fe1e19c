"""The phrasings of warning signs: feeling a burden, giving things away, saying
goodbye, a plan, the means, and stated intent."""

from __future__ import annotations

from wellness_repo.analysis.crisis_cue import (
    HIGH,
    IMMINENT,
    MODERATE,
    SI,
    WARN,
    Cue,
    Sign,
    cue,
)

__all__ = ["WARNING_SIGNS"]

WARNING_SIGNS: tuple[Cue, ...] = (
    cue(
        "burden",
        WARN,
        MODERATE,
        0.8,
        r"\b(?:am|feel like|feels like|felt like|feel|being|become|became|just|"
        r"only|such) (?:just |only |such |nothing but )?(?:a |an )?(?:\w+ )?"
        r"burden\b|\bburden (?:to|on|for) (?:everyone|everybody|my \w+|them|"
        r"people|others)\b",
        sign=Sign.BURDEN,
    ),
    cue(
        "giving_away",
        WARN,
        MODERATE,
        0.7,
        r"\b(?:giving|gave|give|given|getting rid of|got rid of) (?:away )?"
        r"(?:all )?(?:of )?{poss} (?:things|stuff|belongings|possessions|prized "
        r"\w+|favou?rite \w+|guitar|records|games|jewelry|jewellery|books|"
        r"collection|cat|dog|pets?|bird|rabbit)\b|\bgiving (?:things|stuff|"
        r"belongings) away\b",
        sign=Sign.GIVING_AWAY,
    ),
    cue(
        "will_not_need_it",
        WARN,
        MODERATE,
        0.7,
        r"\b(?P<core>will not (?:need|be needing|be using) (?:it|them|him|her|"
        r"these|this|my \w+|any of (?:it|this|them))(?: anymore| any longer| "
        r"where i am going)?)(?= ?(?:$|,|anymore|any longer|where))",
        sign=Sign.GIVING_AWAY,
    ),
    cue(
        "arrangements",
        WARN,
        HIGH,
        0.8,
        r"\b(?:take care of|look after|have|get|adopt) my (?:cat|dog|pets?|kids|"
        r"children|plants|things|stuff) (?:when|after|once) i am (?:gone|dead|"
        r"not here|no longer here)\b|\b(?:after|once|when) i (?:am|will be) "
        r"(?:dead|no longer (?:here|alive|around))\b",
        sign=Sign.GIVING_AWAY,
    ),
    cue(
        "this_is_goodbye",
        WARN,
        HIGH,
        0.85,
        r"\bthis is (?:my )?(?:final |last )?goodbye\b|\bgoodbye (?:forever|"
        r"everyone|everybody|world|cruel world|for good)\b|\b(?:said|say|"
        r"saying) (?:my )?(?:final |last )?goodbyes\b|\b(?:said|say|saying) "
        r"(?:my )?(?:final |last )?goodbye to (?:everyone|everybody|all of you|"
        r"my family|my loved ones|the people i love|everyone i love)\b",
        sign=Sign.FAREWELL,
    ),
    cue(
        "goodbye_letters",
        WARN,
        HIGH,
        0.8,
        r"\b(?:letters?|notes?|messages?) to (?:\w+ ){0,3}?(?:to )?say goodbye\b",
        sign=Sign.FAREWELL,
    ),
    cue(
        "not_around_long",
        WARN,
        HIGH,
        0.75,
        r"\b(?P<core>will not be (?:around|here) (?:much longer|for (?:much )?"
        r"longer|for long|tomorrow|next week|anymore|any longer))\b",
        sign=Sign.FAREWELL,
    ),
    cue(
        "when_you_read_this",
        WARN,
        IMMINENT,
        0.85,
        r"\bby the time (?:you|anyone|anybody|someone|somebody|they|people|my "
        r"\w+) (?:read|reads|find|finds|see|sees) this\b",
        sign=Sign.FAREWELL,
    ),
    cue(
        "last_words",
        WARN,
        HIGH,
        0.7,
        r"\bmy last (?:words|message|note|letter|entry|post|journal entry)\b",
        sign=Sign.FAREWELL,
    ),
    cue(
        "note_for_family",
        WARN,
        HIGH,
        0.7,
        r"\b(?:wrote|written|writing|left|leave) (?:a )?(?:note|notes|letter|"
        r"letters) (?:for|to) (?:my (?:family|kids|children|parents|mom|mum|dad|"
        r"wife|husband|partner|sister|brother|son|daughter|loved ones)|everyone)\b",
        sign=Sign.FAREWELL,
        needs_context=True,
    ),
    cue(
        "bare_goodbye",
        WARN,
        HIGH,
        0.6,
        r"^(?:goodbye|bye|farewell)(?: all| everyone)?$",
        sign=Sign.FAREWELL,
        needs_context=True,
    ),
    cue(
        "deserves_better",
        WARN,
        MODERATE,
        0.5,
        r"\bdeserves? (?:better|someone better) than me\b",
        sign=Sign.BURDEN,
        needs_context=True,
    ),
    cue(
        "sorry_for_everything",
        WARN,
        MODERATE,
        0.5,
        r"\bsorry for everything\b",
        sign=Sign.FAREWELL,
        needs_context=True,
    ),
    cue(
        "worked_out_how",
        WARN,
        HIGH,
        0.8,
        r"\b(?:worked|figured|planned|thought) out (?:exactly )?(?:how|when|where)"
        r"(?: and (?:how|when|where))*\b(?! to (?!do it|die|end|kill))",
        sign=Sign.PLAN,
        needs_context=True,
    ),
    cue(
        "know_how_i_would",
        WARN,
        HIGH,
        0.8,
        r"\bknow (?:exactly )?how (?:i|to) (?:would |will |am going to )?"
        r"(?:do it|kill myself|end it|end my life|die)\b",
        sign=Sign.PLAN,
    ),
    cue(
        "picked_a_date",
        WARN,
        HIGH,
        0.7,
        r"\b(?:picked|chose|chosen|set|decided on) (?:a|the) (?:date|day|time|"
        r"place|spot|bridge|method)\b",
        sign=Sign.PLAN,
        needs_context=True,
    ),
    cue(
        "research_method",
        SI,
        HIGH,
        0.85,
        r"\b(?:researched|researching|looked up|googled|googling|searched|"
        r"searching) (?:\w+ ){0,3}?(?:how (?:many|much) (?:\w+ ){0,2}?(?:it "
        r"takes|to take|would it take|to die|would kill)|lethal dose|ways to "
        r"(?:die|kill myself|end it)|how to (?:die|kill myself|end my life|hang|"
        r"overdose)|painless ways)\b|\blethal (?:dose|amount)\b",
        sign=Sign.PLAN,
    ),
    cue(
        "have_a_plan",
        WARN,
        HIGH,
        0.7,
        r"\b(?:have|got|made|come up with|came up with) (?:(?:\w+ ){1,4}and )?"
        r"(?:a|the) plan\b|\bhave it all planned\b",
        sign=Sign.PLAN,
        needs_context=True,
    ),
    cue(
        "stockpiling",
        WARN,
        HIGH,
        0.85,
        r"\b(?:stockpil\w+|sav(?:ed|ing) up|hoard\w*|collect(?:ed|ing)|stash\w*) "
        r"(?:\w+ ){0,2}?{pills}\b",
        sign=Sign.MEANS,
    ),
    cue(
        "enough_to_die",
        SI,
        HIGH,
        0.85,
        r"\benough (?:\w+ )?{pills} to (?:die|kill myself|end it|end my life|do "
        r"it|overdose)\b",
        sign=Sign.MEANS,
    ),
    cue(
        "loaded_gun",
        WARN,
        HIGH,
        0.75,
        r"\b(?:loaded|load|loading) (?:the|my|a) (?:gun|pistol|rifle|shotgun|"
        r"revolver)\b|\bnoose\b",
        sign=Sign.MEANS,
    ),
    cue(
        "have_the_means",
        WARN,
        HIGH,
        0.7,
        r"\b(?:have|got|bought|hid|hiding|keep|kept) (?:a |the |my |some |enough "
        r"|all (?:of )?(?:my |the )?)?(?:(?:bottle|box|pack|stash|supply|handful) "
        r"of (?:my |the )?)?(?:gun|guns|pistol|rifle|firearm|rope|{pills}|"
        r"razor blades?|blades?|razors?|knife|knives|poison|charcoal|bullets|"
        r"ammo)\b|\b(?:the |my )?(?:gun|pistol|rope|{pills}|blades?) (?:is|are) "
        r"ready\b",
        sign=Sign.MEANS,
        needs_context=True,
    ),
    cue(
        "made_up_my_mind",
        WARN,
        HIGH,
        0.7,
        r"\b(?:made up my mind|my mind is made up)\b",
        sign=Sign.INTENT,
        needs_context=True,
    ),
    cue(
        "tonight_is_the_night",
        WARN,
        HIGH,
        0.7,
        r"\b(?:tonight|today|tomorrow) is the (?:night|day)\b",
        sign=Sign.INTENT,
        needs_context=True,
    ),
    cue(
        "have_decided",
        WARN,
        HIGH,
        0.6,
        r"^(?:i (?:have )?)?(?:finally )?decided$",
        sign=Sign.INTENT,
        needs_context=True,
    ),
    cue(
        "decided_to_do_it",
        WARN,
        HIGH,
        0.75,
        r"\bdecided (?:to (?:die|do it|go through with it)|it is time)\b",
        sign=Sign.INTENT,
    ),
    cue(
        "going_to_do_it",
        WARN,
        HIGH,
        0.6,
        r"\b(?:going to|will) (?:do it|go through with it)\b|\b(?P<who>i) "
        r"(?:really )?mean it\b",
        sign=Sign.INTENT,
        needs_context=True,
    ),
)
"""Signs that raise the urgency of whatever else is said."""
