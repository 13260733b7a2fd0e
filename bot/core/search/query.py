"""Turning a typed question into search terms: cut, clean, fold, drop filler.

Everything here is pure and cheap; the store is not needed. The word lists
are general English (a standard stopword list) and general chat filler
("hey guys", "lol", "anyone seen", "link pls"), not words of any query set.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.core.text import fold

MAX_TERMS = 24  # more words than this add time, not precision


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A standard English stopword list (the usual IR list), minus words that are
# far more often content than function in news ("won", "new" is filler below).
STOPWORDS = _words(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t d ll m o re ve y ain aren couldn didn doesn hadn hasn
    haven isn ma mightn mustn needn shan shouldn wasn weren wouldn don also may might must
    shall us via per whats whos hows wheres thats theres lets im ive id youre dont cant
    get got gets getting go going goes went gone make made much many one ones really yet
    """
)

# Conversational filler of a chat channel: greetings, hedges, requests for a
# link, words that only say "a news item" without saying which.
FILLER = _words(
    """
    hey hi hello hiya heya yo sup howdy morning evening afternoon gm gn guys folks
    everyone everybody anyone anybody someone somebody all yall lol lmao rofl haha hehe
    xd omg ngl tbh imo imho idk iirc afaik btw fyi brb pls plz please thanks thank thx ty
    tia cheers ok okay k um uh uhh hmm ugh wow oh ah yeah yes yep nope nah well so like
    actually basically literally apparently maybe perhaps probably think thought guess
    wonder wondering know knew remember recall forgot forget find found seen see saw
    read heard hear share shared send sent post posted link links url source sources
    article articles story stories news item items piece pieces thing things stuff smth
    sth something anything everything nothing whatever tell show give gimme want wanted
    need looking look search searching quick q question random sorry dumb sure
    right wait real kinda sorta pretty long shot channel server bot newsbot here there
    asking ask friend advance can could would u ur r thx abt bc cuz cause any anything
    new news update updates info information lately latest newest recent recently today
    tonight yesterday week month ago
    """
)

# Words that ask for fresh stories: they raise the weight of recency.
RECENCY = _words("latest newest recent recently lately today tonight yesterday new current")
RECENCY_PHRASES = ("this week", "this month", "past week", "last week", "right now")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_WORD = re.compile(r"[^\W_]+")
_FIGURE = re.compile(r"(?<![\w.,])(\d{1,6})[.,](\d{1,3})(?![\w.,]?\d)")


@dataclass(slots=True)
class Parsed:
    """A question, cleaned: what was typed, and the terms that matter."""

    text: str  # as typed, after the length cut
    folded: str  # case/accent folded, punctuation → spaces, single-spaced
    tokens: list[str]  # every folded word, in order
    terms: list[str]  # content words, in order, duplicates removed
    weak: list[str] = field(default_factory=list)  # filler that may still be in a title ("needs")
    recency: bool = False
    was_cut: bool = False
    dropped: list[str] = field(default_factory=list)  # filler/stopwords removed


def clean_text(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut to `max_chars` (at a word boundary when one is near) and drop control chars."""
    was_cut = len(text) > max_chars
    if was_cut:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = cut[:space] if space > max_chars * 0.8 else cut
    text = _CONTROL.sub(" ", text)
    # Surrogates (lone halves from broken input) cannot be encoded for SQLite.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text, was_cut


def tokenize(text: str) -> list[str]:
    """Folded words: letters and digits, accents and case dropped."""
    if text.isascii():
        return _WORD.findall(text.lower())
    return _WORD.findall(fold(unicodedata.normalize("NFKC", text)))


def is_stop(word: str) -> bool:
    """True for a word that says nothing about which story is meant: a stopword, filler
    or a lone letter."""
    return word in STOPWORDS or word in FILLER or (len(word) == 1 and not word.isdigit())


def parse(question: str, *, max_chars: int = 300) -> Parsed:
    """Clean and split a question: its content terms and figures, weak filler, and whether
    it asks for recent stories."""
    text, was_cut = clean_text(question, max_chars)
    tokens = tokenize(text)
    folded = " ".join(tokens)
    recency = any(t in RECENCY for t in tokens) or any(
        p in f" {folded} " for p in (f" {x} " for x in RECENCY_PHRASES)
    )
    terms: list[str] = []
    weak: list[str] = []
    dropped: list[str] = []
    seen: set[str] = set()
    # '4.6 billion', '17,911', '25.8%': one figure, searched as the phrase '4 6'.
    pieces: set[str] = set()
    for m in _FIGURE.finditer(text):
        figure = f"{m.group(1)} {m.group(2)}"
        if figure not in seen:
            seen.add(figure)
            terms.append(figure)
            pieces.update((m.group(1), m.group(2)))
    for tok in tokens:
        if tok in pieces:
            continue
        if is_stop(tok) or len(tok) > 40:
            dropped.append(tok)
            if tok in FILLER and tok not in STOPWORDS and len(tok) >= 3 and tok not in seen:
                seen.add(tok)
                weak.append(tok)
            continue
        if tok not in seen:
            seen.add(tok)
            terms.append(tok)
    return Parsed(
        text=text,
        folded=folded,
        tokens=tokens,
        terms=terms[:MAX_TERMS],
        weak=weak[:MAX_TERMS],
        recency=recency,
        was_cut=was_cut,
        dropped=dropped,
    )


def normalize_title(title: str) -> str:
    """The form used to compare a typed value with a stored title."""
    return " ".join(tokenize(title))
