"""The phrasings of harm: suicide methods and attempts under way, self-harm acts
and urges, and thoughts or plans of hurting other people."""

from __future__ import annotations

from wellness_repo.analysis.crisis_cue import (
    CUT_FOLLOWS,
    HIGH,
    HO,
    IMMINENT,
    MODERATE,
    SH,
    SI,
    Cue,
    Sign,
    cue,
)

__all__ = ["HARM_TO_OTHERS", "SELF_HARM", "SUICIDE_METHODS"]

SUICIDE_METHODS: tuple[Cue, ...] = (
    cue(
        "jump_from_height",
        SI,
        HIGH,
        0.8,
        r"\b(?:jump|jumping|jumped|throw myself|throwing myself) (?:off|from) "
        r"(?:a|the|my) (?:\w+ )?(?:bridge|building|roof|balcony|cliff|overpass|"
        r"parking garage|tower|window)\b(?! into)",
        act=True,
    ),
    cue(
        "in_front_of_traffic",
        SI,
        HIGH,
        0.85,
        r"\b(?:jump|jumping|step|stepping|walk|walking|throw myself|throwing "
        r"myself) in front of (?:a|the|an) (?:\w+ )?(?:train|bus|car|truck|lorry|"
        r"subway|tram)\b",
        act=True,
    ),
    cue(
        "hope_to_be_hit",
        SI,
        MODERATE,
        0.8,
        r"\b(?:wish|wishing|hope|hoping|pray|praying)(?: that)? (?:a|the|some) "
        r"(?:\w+ )?(?:car|bus|truck|train|plane|driver) (?:would |will |could )?"
        r"(?:hit|hits|crash|crashes|kill|kills) (?:me|into me)\b",
    ),
    cue(
        "hope_to_get_killed",
        SI,
        MODERATE,
        0.8,
        r"\b(?:wish|hope|hoping) (?:i|to) (?:get|got|would get) (?:hit|run over|"
        r"killed)\b",
    ),
    cue(
        "thinking_of_jumping",
        SI,
        HIGH,
        0.7,
        r"\b(?:{thinking}|urge to|want to|wanted to) (?:about |of )?(?:just )?"
        r"(?:jumping|jump)\b(?! (?:rope|jacks|in\b|into|on\b|at\b|the gun|"
        r"ship|start))",
        act=True,
    ),
    cue(
        "method_on_self",
        SI,
        HIGH,
        0.9,
        r"\b(?:hang|hanging|hanged|hung|shoot|shooting|drown|drowning|poison|"
        r"poisoning|suffocate|suffocating|gas|gassing|electrocute) {self}\b",
        act=True,
    ),
    cue(
        "wrists",
        SI,
        HIGH,
        0.9,
        r"\b(?:slit|slitting|cut|cutting|slash|slashing) {poss} (?:wrists?|"
        r"throat)\b",
    ),
    cue(
        "overdose",
        SI,
        HIGH,
        0.85,
        r"\b(?:take|took|taking|{thinking} about|want to|going to|plan to|"
        r"planning to|tried to|try to|trying to|an|urge to|talking about|talks "
        r"about|talked about) (?:\w+ )?(?P<core>overdos\w*(?: on (?:my |all my |"
        r"all of my |the |some )?(?:\w+ )?{pills})?)",
        act=True,
    ),
    cue(
        "swallow_them_all",
        SI,
        HIGH,
        0.8,
        r"\b(?:{thinking} about|want to|wanted to|urge to|tempted to|going to|"
        r"could)(?: just)? (?P<core>(?:swallow|swallowing|take|taking|down|"
        r"downing) (?:all|every one|the whole bottle|a handful|the rest) (?:of )?"
        r"(?:them|my {pills}|the {pills}|the bottle))\b",
        act=True,
    ),
    cue("feel_like_dying", SI, MODERATE, 0.6, r"\bfeel(?:ing)? like dying\b"),
    cue(
        "thinking_of_death",
        SI,
        MODERATE,
        0.6,
        r"\b(?:{thinking}) (?:about|of) (?:death|dying)\b",
    ),
    cue(
        "pills_taken",
        SI,
        IMMINENT,
        0.9,
        r"\bi (?:have )?(?:just |already )?(?:took|taken|swallowed|downed) "
        r"(?:all|every one|the whole bottle|a (?:whole )?bottle|a handful|"
        r"a bunch|a lot|lots|loads|too many|\d\d+|twenty|thirty|forty|fifty) "
        r"(?:of )?(?:my |the )?(?:{pills}|"
        r"of them)\b(?! (?:for the day|this morning|today|on time|like))",
        sign=Sign.ACT_NOW,
    ),
)
"""Ways of dying named as intended, imagined or under way."""

SELF_HARM: tuple[Cue, ...] = (
    cue(
        "cut_self",
        SH,
        HIGH,
        0.9,
        r"\b(?:cut|cuts|cutting) {self}\b",
        urge_level=MODERATE,
    ),
    cue(
        "cutting_body",
        SH,
        HIGH,
        0.85,
        r"\b(?:cutting (?:again|is\b|was\b|helps|has been|makes)|(?:cut|cutting|"
        r"burn|burning|burned|burnt|scratch|scratching|scratched|carve|carving|"
        r"carved) my (?:arms?|legs?|thighs?|skin|stomach|hips?)|(?:burn|burning|"
        r"burned|burnt|scratch|scratching|scratched) my wrists?)\b",
        urge_level=MODERATE,
    ),
    cue(
        "i_cut",
        SH,
        HIGH,
        0.8,
        r"\b(?P<who>i) (?:\w+ ){0,2}?(?P<core>cut)" + CUT_FOLLOWS,
        urge_level=MODERATE,
    ),
    cue(
        "urge_to_cut",
        SH,
        MODERATE,
        0.85,
        r"\b(?:urges?|want|wanted|wanting|need|needing|itch|itching|tempted|"
        r"craving) to cut" + CUT_FOLLOWS,
    ),
    cue(
        "back_to_self_harm",
        SH,
        HIGH,
        0.85,
        r"\b(?:started|start|starting|back to|went back to|relapsed (?:and|into)|"
        r"go back to) (?:cutting|self harm\w*|burning myself|hurting myself)\b",
    ),
    cue(
        "self_harm",
        SH,
        HIGH,
        0.85,
        r"\bself (?:harm|harmed|harming|harms|injury|injure|injured|injuring|"
        r"mutilation|mutilate)\b",
        urge_level=MODERATE,
        topic=True,
    ),
    cue(
        "harm_self",
        SH,
        HIGH,
        0.85,
        r"\b(?:hurt|hurting|hurts|harm|harmed|harming|burn|burning|burned|burnt|"
        r"scratch|scratching|scratched|bruise|bruising) {self}\b",
        urge_level=MODERATE,
    ),
    cue(
        "hit_self",
        SH,
        MODERATE,
        0.75,
        r"\b(?:hit|hitting|punch|punching|punched|starve|starving|starved) "
        r"{self}\b",
    ),
    cue("made_self_bleed", SH, HIGH, 0.85, r"\bmade {self} bleed\b"),
    cue(
        "blade_on_body",
        SH,
        HIGH,
        0.8,
        r"\b(?:used|use|using|took|take|taking) (?:a|the|my) (?:razor|blade|"
        r"knife|lighter|scissors|compass|pencil sharpener blade) (?:on|to) my "
        r"(?:arms?|legs?|thighs?|skin|wrists?|stomach|hips?)\b",
    ),
    cue(
        "picking_skin",
        SH,
        MODERATE,
        0.65,
        r"\b(?:pick|picking|picked|tear|tearing|tore) (?:at )?my (?:skin|scabs|"
        r"arms?|face|wounds)\b",
        deliberate=True,
    ),
    cue(
        "punch_wall",
        SH,
        MODERATE,
        0.75,
        r"\b(?:punch|punched|punching|hit|hitting|kick|kicked|kicking) (?:the|a) "
        r"(?:wall|door|mirror) (?:until|till|so hard)\b",
    ),
    cue(
        "bang_head",
        SH,
        MODERATE,
        0.75,
        r"\b(?:bang|banged|banging|hit|hitting|slam|slammed|slamming) my "
        r"(?:head|hand|hands|fist|fingers|arm) (?:against|into|on|in) (?:the|a) "
        r"(?:wall|door|desk|floor|table|car door)\b",
        deliberate=True,
    ),
    cue(
        "fresh_cuts",
        SH,
        HIGH,
        0.8,
        r"\b(?:fresh|new|deep) (?:cuts|wounds|burns)\b(?! of)",
    ),
    cue(
        "hide_cuts",
        SH,
        MODERATE,
        0.7,
        r"\bhid(?:e|ing) (?:the |my )?(?:cuts|scars|burns|marks)\b",
    ),
    cue(
        "razor_comfort",
        SH,
        HIGH,
        0.75,
        r"\b(?:razor|razors|blade|blades) (?:is|are) the only\b",
    ),
    cue(
        "deserve_pain",
        SH,
        MODERATE,
        0.7,
        r"\bi deserve to (?:hurt|suffer|be hurt|feel pain|bleed)\b",
    ),
    cue(
        "cut_too_deep",
        SH,
        HIGH,
        0.85,
        r"\b(?:cut|went) too deep\b",
        sign=Sign.ACT_NOW,
    ),
)
"""Self-injury acts and urges."""

HARM_TO_OTHERS: tuple[Cue, ...] = (
    cue(
        "harm_person",
        HO,
        HIGH,
        0.85,
        r"\b{subj} (?:\w+ ){0,3}?(?:want|wants|wanted|wanting|going|plan|plans|"
        r"planning|will|would like|feel like|felt like|keep thinking about|"
        r"{thinking} about|{thinking} of|{thinking}|dream about|urges? to|"
        r"tempted to)(?: to)?(?: (?:really|just|actually|seriously|literally))? "
        r"(?P<core>(?:kill|killing|hurt|hurting|harm|harming|stab|stabbing|shoot|"
        r"shooting|strangle|strangling|choke|choking|beat up|beating up|beat|"
        r"beating|attack|attacking|murder|murdering|poison|poisoning|punch|"
        r"punching|smash|bash) {person})",
        act=True,
    ),
    cue(
        "could_hurt_person",
        HO,
        HIGH,
        0.75,
        r"\b{subj} (?:could|might) (?:really |actually |seriously )?"
        r"(?P<core>(?:hurt|harm|stab|shoot|strangle|attack) {person})",
        act=True,
    ),
    cue(
        "could_kill_person",
        HO,
        MODERATE,
        0.5,
        r"\b{subj} (?:could|might) (?:really |actually |seriously )?"
        r"(?P<core>(?:kill|murder) {person})",
    ),
    cue(
        "run_over",
        HO,
        HIGH,
        0.8,
        r"\b(?:run|running|ran) (?:him|her|them) over\b",
    ),
    cue(
        "want_them_dead",
        HO,
        MODERATE,
        0.6,
        r"\b(?P<who>i) (?:\w+ ){0,2}?(?:want|wish|hope) (?:him|her|them|my \w+|"
        r"that \w+) (?:to die|would die|was dead|were dead|dead)\b",
    ),
    cue(
        "make_them_pay",
        HO,
        MODERATE,
        0.6,
        r"\bmake (?:him|her|them)(?: all)? (?:pay|suffer)\b",
    ),
    cue(
        "mass_violence",
        HO,
        HIGH,
        0.9,
        r"\b(?:shoot up|bomb|blow up) (?:the|my|our|this) (?:school|office|"
        r"workplace|work|class|church|mall|building)\b|\bbring (?:a|my|the) "
        r"(?:gun|knife|weapon) to (?:school|work|class)\b",
        act=True,
    ),
)
"""Thoughts, wishes and plans of hurting other people."""
