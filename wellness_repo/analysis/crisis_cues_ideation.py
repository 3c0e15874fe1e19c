"""The phrasings of suicidal ideation, active ("I want to kill myself") and
passive ("I wish I could sleep and never wake up"), and of burden and death
wished for."""

from __future__ import annotations

from wellness_repo.analysis.crisis_cue import (
    HIGH,
    MODERATE,
    SI,
    Cue,
    Sign,
    cue,
)

__all__ = ["SUICIDAL_IDEATION"]

SUICIDAL_IDEATION: tuple[Cue, ...] = (
    cue("kill_self", SI, HIGH, 0.95, r"\bkill(?:ing|ed|s)? {self}\b", act=True),
    cue(
        "end_life",
        SI,
        HIGH,
        0.9,
        r"\b(?:end|ending|ended|take|taking|took) {poss} (?:own )?life\b"
        r"(?! (?:back|in |seriously|into|to the|forward|apart))",
        act=True,
    ),
    cue("end_it_all", SI, HIGH, 0.9, r"\bend(?:ing)? it all\b", act=True),
    cue(
        "end_it",
        SI,
        HIGH,
        0.75,
        r"\b(?:{want}|going|ready|plan|planning|decided|urge|need|feel like|"
        r"felt like|{thinking} (?:about|of)|enough \w+ to|close to|about to)"
        r"(?: to)? (?:just )?(?P<core>end(?:ing)? (?:it|everything|things))\b"
        r"(?! (?:with|between|off|for|on|early|there|here|now))",
        act=True,
    ),
    cue(
        "want_to_die",
        SI,
        HIGH,
        0.9,
        r"\b{want} to (?:just )?(?:die|stop living|not be alive)\b",
    ),
    cue(
        "death_as_relief",
        SI,
        MODERATE,
        0.8,
        r"\b(?:dying|death|being dead|not waking up|not being here) (?:sounds|"
        r"seems|feels|would be|is|looks) (?:like )?(?:a |such a )?(?:relief|"
        r"peaceful|better|easier|so nice|nice)\b",
    ),
    cue("should_die", SI, HIGH, 0.8, r"\bshould (?:just )?die\b"),
    cue(
        "want_to_be_dead",
        SI,
        HIGH,
        0.9,
        r"\b{want} to be dead\b(?! (?:honest|serious|tired|set|on|wrong|last|"
        r"weight|certain|sure|quiet))",
    ),
    cue(
        "better_off_dead",
        SI,
        MODERATE,
        0.8,
        r"\b(?:better off|rather be) dead\b(?! than)",
    ),
    cue(
        "suicidal",
        SI,
        HIGH,
        0.9,
        r"\bsuicidal\b(?! (?:prevention|awareness|patients|people|clients|teens))",
        topic=True,
    ),
    cue(
        "thinking_of_suicide",
        SI,
        HIGH,
        0.9,
        r"\b(?:{thinking}|plan|planning|commit|committing|urges?|ideas?)"
        r"(?: about| of| towards)? suicide\b",
    ),
    cue(
        "suicide_way_out",
        SI,
        HIGH,
        0.85,
        r"\b(?:suicide|dying|death|killing myself|ending it|ending my life) "
        r"(?:feels|seems|is|looks) (?:like )?(?:the|my|an|a)? ?(?:only )?"
        r"(?:way out|option|answer|choice|solution|way to (?:stop|end|escape))\b",
    ),
    cue(
        "suicide_attempt",
        SI,
        HIGH,
        0.9,
        r"\b(?:suicide attempt|attempted suicide|attempt(?:ed)? to kill|"
        r"hospitali[sz]ed (?:after|for) (?:an overdose|a suicide attempt|"
        r"trying to kill))\b",
        attempt=True,
    ),
    cue(
        "suicide_note",
        SI,
        HIGH,
        0.9,
        r"\bsuicide (?:note|letter|plan)s?\b",
        sign=Sign.PLAN,
    ),
    cue(
        "not_want_to_live",
        SI,
        HIGH,
        0.85,
        r"\b(?P<core>(?:do|did|does) not want to (?:live|be alive|keep living|"
        r"go on living))\b(?! (?:like this|this way|like that))",
    ),
    cue(
        "not_live_like_this",
        SI,
        MODERATE,
        0.7,
        r"\b(?P<core>(?:do|did|does) not want to (?:live|go on|keep living) "
        r"(?:like this|this way|like that))\b",
    ),
    cue(
        "bother_living",
        SI,
        MODERATE,
        0.7,
        r"\b(?:bother|point in|point of) (?:living|staying alive|being alive|"
        r"waking up|going on)\b",
    ),
    cue(
        "not_want_to_exist",
        SI,
        MODERATE,
        0.8,
        r"\b(?P<core>(?:(?:do|did|does) not|never) want to (?:exist|wake up|"
        r"be around|go on|be here(?= ?(?:$|,|anymore|any longer|on this earth|"
        r"in this world|at all))))",
    ),
    cue(
        "stop_existing",
        SI,
        MODERATE,
        0.8,
        r"\b(?:stop existing|cease to exist|not exist anymore)\b",
    ),
    cue(
        "not_sure_want_to_live",
        SI,
        MODERATE,
        0.75,
        r"\b(?P<core>not sure (?:if |that )?i (?:want|wanna) to (?:live|be alive|"
        r"keep living|go on))\b",
    ),
    cue(
        "tired_of_living",
        SI,
        MODERATE,
        0.75,
        r"\b(?:tired|sick|exhausted|done) (?:of|with) (?:living|life|being alive|"
        r"existing|being here)\b",
    ),
    cue(
        "wish_dead",
        SI,
        MODERATE,
        0.8,
        r"\bwish (?:that )?{subj} (?:was|were|could be|had been) (?:dead|gone|"
        r"never born|not alive)\b",
    ),
    cue(
        "wish_never_born",
        SI,
        MODERATE,
        0.8,
        r"\bwish (?:that )?{subj} (?:had )?never (?:been born|existed|woken up)\b",
    ),
    cue(
        "wish_could_die",
        SI,
        HIGH,
        0.85,
        r"\bwish (?:that )?{subj} (?:could|would) (?:just )?die\b",
    ),
    cue(
        "wish_could_vanish",
        SI,
        MODERATE,
        0.75,
        r"\bwish (?:that )?{subj} (?:could|would) (?:just )?(?:disappear|vanish|"
        r"not wake up|stop existing|cease to exist)\b"
        r"(?! (?:for|into|from|to|with|under|in\b|off))",
    ),
    cue(
        "never_wake_up",
        SI,
        MODERATE,
        0.8,
        r"\b(?:hope|hoping|pray|praying|wish)(?: \w+){0,3}? (?:that )?{subj} "
        r"(?P<core>(?:do not|will not|would not|never|does not) wake up)\b",
    ),
    cue(
        "sleep_forever",
        SI,
        MODERATE,
        0.75,
        r"\b(?:sleep forever|(?:sleep|asleep) and (?:never|not) (?:wake up|"
        r"wake))\b",
    ),
    cue(
        "not_mind_dying",
        SI,
        MODERATE,
        0.75,
        r"\b(?P<core>would not mind (?:dying|if i died|being dead|not waking up|"
        r"not existing))\b",
    ),
    cue(
        "no_reason_to_live",
        SI,
        MODERATE,
        0.8,
        r"\b(?P<core>(?:no|zero|not (?:see|have|find) (?:a|any)|see no|"
        r"can not (?:see|find|think of) (?:a|any)) reasons? (?:for me )?to "
        r"(?:live|go on|keep going|keep living|be alive|stay alive|be here)|"
        r"nothing (?:left )?to live for)\b",
    ),
    cue(
        "not_worth_living",
        SI,
        MODERATE,
        0.8,
        r"\b(?P<core>(?:(?:life|living|existing) (?:is |feels |seems )?not worth "
        r"it|not worth (?:living|being alive|staying alive)))\b",
    ),
    cue(
        "point_of_living",
        SI,
        MODERATE,
        0.7,
        r"\b(?P<core>(?:no|what is the) point (?:of|in) (?:living|being alive|"
        r"life))\b",
    ),
    cue(
        "better_off_without",
        SI,
        MODERATE,
        0.85,
        r"\b(?:better|happier|relieved|easier|fine) (?:off )?without "
        r"(?P<who>me|him|her|them)\b",
        sign=Sign.BURDEN,
    ),
    cue(
        "better_off_gone",
        SI,
        MODERATE,
        0.85,
        r"\b(?:better|happier|relieved|easier|fine) (?:off )?(?:if|when) {subj} "
        r"(?:just )?(?:(?:was|were|am|is) (?:gone|dead|never born)|(?:was|were|"
        r"am|is) (?:not|no longer) (?:here|around|alive))\b",
        sign=Sign.BURDEN,
    ),
    cue(
        "nobody_would_notice",
        SI,
        MODERATE,
        0.8,
        r"\b(?P<core>(?:nobody|no one|noone) (?:would|will) (?:even )?(?:notice|"
        r"care|miss me|be sad)(?: \w+){0,2}? if {subj} (?:was|were|died|"
        r"disappeared|left|killed)\b)",
    ),
    cue(
        "if_i_died",
        SI,
        MODERATE,
        0.75,
        r"\bif {subj} (?:died|was gone|were gone|disappeared|was dead|were dead|"
        r"killed myself|was not here|were not here)\b(?: \w+){0,6}? (?:would not|"
        r"will not|does not|would never) (?:matter|care|notice|miss)\b",
    ),
    cue(
        "would_anyone_care",
        SI,
        MODERATE,
        0.7,
        r"\b(?:would|will|does) (?:anyone|anybody) (?:even )?(?:care|notice|miss "
        r"me)(?: \w+){0,2}? if {subj} (?:was|were|died|disappeared|left|killed)\b",
    ),
    cue(
        "nobody_would_miss",
        SI,
        MODERATE,
        0.7,
        r"\b(?P<core>(?:nobody|no one|noone) (?:would|will) (?:even )?miss me)\b",
        sign=Sign.BURDEN,
    ),
    cue(
        "disappear",
        SI,
        MODERATE,
        0.6,
        r"\b(?:disappear (?:forever|for good|permanently)|want to (?:just )?"
        r"disappear\b(?! (?:for|into|from|to|with|under|in\b|off)))",
    ),
    cue(
        "want_it_to_end",
        SI,
        MODERATE,
        0.65,
        r"\b(?:want|need|wish) (?:it all|everything|all of (?:it|this)|life) to "
        r"(?:stop|end|be over)\b",
    ),
)
"""Wishes, thoughts and intentions of dying."""
