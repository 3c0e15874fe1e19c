"""Normalising a patient's text for the crisis detector: lower case, straight
apostrophes, contractions and common chat spellings expanded ("can't" -> "can
not", "im" -> "i am", "kms" -> "kill myself"), and punctuation reduced to
sentence breaks and commas (kept as a "," token, since a comma ends the reach of
a negation).
"""

from __future__ import annotations

import re
import unicodedata

from wellness_repo.analysis.crisis_scope import Sentence

__all__ = ["has_humour", "normalise", "sentences"]

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_LAUGHTER = re.compile(r"[\U0001F602\U0001F923\U0001F606]")

# Whole-word rewrites, applied in this order after lower-casing.
_REWRITES: tuple[tuple[str, str], ...] = (
    (r"won't|wont", "will not"),
    (r"can't|cant|cannot", "can not"),
    (r"shan't", "shall not"),
    (r"ain't", "is not"),
    (r"(\w+)n't", r"\1 not"),
    (
        r"(do|did|does|is|was|are|were|would|could|should|have|has|had)nt",
        r"\1 not",
    ),
    (r"i'm|im", "i am"),
    (r"i've|ive", "i have"),
    (r"i'll", "i will"),
    (r"i'd", "i would"),
    (r"(you|we|they)'re|(you|they)re", r"\1\2 are"),
    (r"(\w+)'ve", r"\1 have"),
    (r"(\w+)'ll", r"\1 will"),
    (r"(\w+)'d", r"\1 would"),
    (
        r"(he|she|it|that|there|what|who|everything|nothing|life|this|tonight|"
        r"today|tomorrow)'s",
        r"\1 is",
    ),
    (r"(that|there|what)s", r"\1 is"),
    (r"(\w+)'s", r"\1"),
    (r"wanna", "want to"),
    (r"gonna", "going to"),
    (r"gotta", "got to"),
    (r"tryna", "trying to"),
    (r"kms", "kill myself"),
    (r"kys", "kill yourself"),
    (r"unalive", "kill"),
    (r"off(ing)? myself", r"kill\1 myself"),
    (r"sewerslide|su1cide", "suicide"),
    (r"od(?:'d|ed)?", "overdose"),
    (r"rn", "right now"),
    (r"tmrw|tmr", "tomorrow"),
    (r"idk", "i do not know"),
    (r"ppl", "people"),
    (r"u", "you"),
    (r"ur", "your"),
    (r"bc|cuz|'cause", "because"),
    (r"self-(harm|injur|mutilat)", r"self \1"),
    (r"(my|him|her|them|your) self", r"\1self"),
    (r"themself", "themselves"),
)
_COMPILED_REWRITES = tuple(
    (re.compile(rf"(?<![\w'])(?:{pattern})(?![\w'])"), repl)
    for pattern, repl in _REWRITES
)
_SENTENCE_END = re.compile(r"[.!?;:\n\r]+")
_CLAUSE_MARK = re.compile(r"[,()\[\]\u2014\u2013]|\s-\s")
_NOT_WORD = re.compile(r"[^a-z0-9' ,]+")
_ELONGATED = re.compile(r"([a-z])\1{2,}")

_HUMOUR = re.compile(r"\b(?:lol|lmao|haha\w*|jk|just kidding)\b")


def normalise(text: str) -> str:
    """Lower-cased text with contractions and chat spellings expanded."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = _LAUGHTER.sub(" lol ", text)
    text = _ELONGATED.sub(r"\1\1", text)
    for pattern, replacement in _COMPILED_REWRITES:
        text = pattern.sub(replacement, text)
    return text.replace("'", " ")


def sentences(text: str) -> list[Sentence]:
    """The normalised sentences of ``text``, commas kept as separate tokens."""
    found = []
    for raw in _SENTENCE_END.split(normalise(text)):
        marked = _CLAUSE_MARK.sub(" , ", raw)
        words = _NOT_WORD.sub(" ", marked.replace("-", " ")).split()
        if words:
            found.append(Sentence(" ".join(words)))
    return found


def has_humour(text: str) -> bool:
    """Whether the text laughs at itself ("lol", "jk"), which lowers certainty."""
    return bool(_HUMOUR.search(normalise(text)))
