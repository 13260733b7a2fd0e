"""The full-text index of the PostgreSQL driver, done so that it answers as SQLite's FTS5 does.

The words are cut in Python (`tokens`: letters and digits, case and accents
folded, as FTS5's unicode61 tokenizer and the search's own query parser do),
not by PostgreSQL's parser, which keeps 'example.com' or '3.5' whole and
would give the search another vocabulary than SQLite's. A story's five
fields go into one `tsvector` written as a literal: each field has its own
range of positions (`FIELD_START`), so a phrase never spans two fields and
every position says which field it is in (PostgreSQL's four weight letters
are one too few for five fields). The title has a `tsvector` of its own too,
for the title-only queries of autocompletion; a query restricted to other
fields is checked on the positions (`matches`).

Ranking is FTS5's bm25, computed from the positions of the query's words in
each candidate (taken out with `ts_filter`), the story's token count and the
table's totals (`fts_stats`): the same scores as SQLite's for the same
stories. The usual query shape is scored in the server (`ranking`); `bm25`
here scores the others, and is the reference the SQL follows.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.core.store.types import FieldWeights, SearchField, SearchText, TextQuery

FIELDS: tuple[SearchField, ...] = ("title", "topics", "provider", "excerpt", "related")
ALL_FIELDS = frozenset(FIELDS)
# Positions 1..16383 are all a tsvector holds; each field gets a range.
FIELD_START: dict[str, int] = {
    "title": 1,
    "topics": 1024,
    "provider": 2048,
    "excerpt": 3072,
    "related": 8192,
}
_MAX_POS = 16383
FIELD_END: dict[str, int] = {
    "title": 1023,
    "topics": 2047,
    "provider": 3071,
    "excerpt": 8191,
    "related": _MAX_POS,
}
_MAX_LEXEME = 2046  # bytes: PostgreSQL refuses longer lexemes
BM25_K1 = 1.2  # FTS5's bm25 constants
BM25_B = 0.75

_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Folded words of `text` (letters and digits; case and accents dropped)."""
    if text.isascii():
        return _WORD.findall(text.lower())
    composed = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFKD", composed)
    if decomposed != composed:  # accents to drop (curly quotes and dashes have none)
        decomposed = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(decomposed.casefold())


def field_of(position: int) -> str:
    """The field a position of the story `tsvector` lies in."""
    for name in reversed(FIELDS):
        if position >= FIELD_START[name]:
            return name
    return "title"


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class FtsRow:
    """One story's row of `articles_fts` (see `FTS_COLUMNS`)."""

    tsv: str  # the tsvector literal of every field
    title_tsv: str  # the tsvector literal of the title alone
    ntok: int  # tokens in every field (bm25's document length)


def fts_row(text: SearchText) -> FtsRow:
    """The index values of a story's text (what `articles_fts` holds beside the text)."""
    # The hot loop of a load: one `word:position` per token, left to PostgreSQL to
    # merge (tsvector input sorts the words and joins their positions, keeping 256).
    parts: list[str] = []
    ntok = 0
    title_literal = ""
    for name in FIELDS:
        words = tokens(getattr(text, name))
        ntok += len(words)
        start = FIELD_START[name]
        # Past the field's range: counted in ntok, not indexed.
        kept = words[: FIELD_END[name] - start + 1]
        positions: Sequence[int] = range(start, start + len(kept))
        if kept and max(map(len, kept)) > _LONG_WORD:  # PostgreSQL refuses such a word
            pairs = [
                (w, p)
                for w, p in zip(kept, positions, strict=True)
                if len(w.encode()) <= _MAX_LEXEME
            ]
            kept, positions = [w for w, _ in pairs], [p for _, p in pairs]
        parts.extend(map(_ENTRY.format, kept, positions))
        if name == "title":
            title_literal = " ".join(parts)
    literal = " ".join(parts)
    return FtsRow(literal, title_literal, ntok)


_ENTRY = "{}:{}"
_LONG_WORD = _MAX_LEXEME // 4  # characters: only a word this long may exceed the bytes


FTS_COLUMNS = (
    "id",
    "title",
    "topics",
    "provider",
    "excerpt",
    "related",
    "tsv",
    "title_tsv",
    "ntok",
)


def fts_record(article_id: int, text: SearchText) -> tuple[object, ...]:
    """The values of `FTS_COLUMNS` for one story (for COPY; also what a migration from
    SQLite writes, from the text of SQLite's `articles_fts`)."""
    row = fts_row(text)
    return (
        article_id,
        text.title,
        text.topics,
        text.provider,
        text.excerpt,
        text.related,
        row.tsv,
        row.title_tsv,
        row.ntok,
    )


# -- queries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compiled:
    """A `TextQuery` in tsquery form, with its phrases (each a tuple of lexemes) by group."""

    tsquery: str  # '' when the query can match nothing
    groups: tuple[tuple[tuple[str, ...], ...], ...]
    fields: frozenset[str]
    title_only: bool

    @property
    def lexemes(self) -> list[str]:
        """Every lexeme of the query, once."""
        return sorted({w for g in self.groups for p in g for w in p})

    @property
    def all_fields(self) -> bool:
        """True when the query is not restricted to some fields."""
        return self.fields == ALL_FIELDS


def compile_query(query: TextQuery) -> Compiled:
    """`query` as a tsquery (every term quoted: never an operator)."""
    fields = frozenset(query.fields) if query.fields else ALL_FIELDS
    groups: list[tuple[tuple[str, ...], ...]] = []
    for group in query.groups:
        phrases = tuple(dict.fromkeys(p for p in (tuple(tokens(t)) for t in group) if p))
        if not phrases:
            return Compiled("", (), fields, fields == {"title"})  # a group nothing satisfies
        groups.append(phrases)
    return compiled_of(tuple(groups), fields)


def compiled_of(
    groups: tuple[tuple[tuple[str, ...], ...], ...], fields: frozenset[str]
) -> Compiled:
    """The tsquery of these groups of phrases (lexemes) in these fields (the fields are
    checked on the positions, except for the title's own tsvector)."""
    parts = [
        "(" + " | ".join("(" + " <-> ".join(_quote(w) for w in p) + ")" for p in g) + ")"
        for g in groups
    ]
    return Compiled(" & ".join(parts), groups, fields, fields == {"title"})


Where = dict[str, list[int]]  # lexeme → its positions in one story


def _starts(phrase: tuple[str, ...], where: Where, fields: frozenset[str]) -> list[int]:
    """Start positions of `phrase` in a story, within the allowed `fields`."""
    starts = where.get(phrase[0], ())
    if len(phrase) > 1:
        rest = [set(where.get(w, ())) for w in phrase[1:]]
        starts = [p for p in starts if all(p + k in s for k, s in enumerate(rest, start=1))]
    if fields != ALL_FIELDS:
        starts = [p for p in starts if field_of(p) in fields]
    return list(starts)


def matches(compiled: Compiled, where: Where) -> bool:
    """True when a story's positions satisfy every group within the allowed fields."""
    return all(any(_starts(p, where, compiled.fields) for p in g) for g in compiled.groups)


@dataclass(frozen=True, slots=True)
class Totals:
    """The table's size for bm25: stories and tokens in all."""

    docs: int
    tokens: int


def _weigher(weights: FieldWeights) -> Callable[[Sequence[int]], float]:
    """positions → the sum of their fields' weights (FTS5's weighted phrase frequency)."""
    wt, wtp, wpr, we, wr = (float(getattr(weights, f)) for f in FIELDS)
    b1, b2, b3, b4 = (FIELD_START[f] for f in FIELDS[1:])

    def weigh(positions: Sequence[int]) -> float:
        total = 0.0
        for p in positions:
            if p < b1:
                total += wt
            elif p < b2:
                total += wtp
            elif p < b3:
                total += wpr
            elif p < b4:
                total += we
            else:
                total += wr
        return total

    return weigh


def bm25(
    compiled: Compiled,
    candidates: Iterable[tuple[int, int, Where]],
    weights: FieldWeights,
    totals: Totals,
    df: dict[tuple[str, ...], int] | None,
) -> list[tuple[float, int]]:
    """(score, id) of each matching candidate (id, token count, positions), best first, as
    FTS5's bm25 scores it (lower is better). `df`: stories holding each phrase (None:
    count them among the candidates, exact when the query is one OR group)."""
    phrases = [p for g in compiled.groups for p in g]
    by_first: dict[str, list[int]] = {}
    for i, p in enumerate(phrases):
        by_first.setdefault(p[0], []).append(i)
    slots: list[set[int]] = []
    start = 0
    for g in compiled.groups:
        slots.append(set(range(start, start + len(g))))
        start += len(g)
    weigh = _weigher(weights)
    fields = compiled.fields
    # The usual query: single words, every field; their positions are the hits.
    simple = fields == ALL_FIELDS and all(len(p) == 1 for p in phrases)
    one_group = len(slots) == 1
    rows: list[tuple[int, int, dict[int, float]]] = []
    for aid, ntok, where in candidates:
        freq: dict[int, float] = {}
        for lexeme, positions in where.items():
            for i in by_first.get(lexeme, ()):
                found = positions if simple else _starts(phrases[i], where, fields)
                if found:
                    freq[i] = weigh(found)
        if freq and (one_group or all(not s.isdisjoint(freq) for s in slots)):
            rows.append((aid, ntok, freq))
    if df is None:
        df = {}
        for _, _, freq in rows:
            for i in freq:
                df[phrases[i]] = df.get(phrases[i], 0) + 1
    n = max(totals.docs, 1)
    avgdl = totals.tokens / n if totals.tokens else 1.0
    idf = []
    for p in phrases:
        hit = df.get(p, 0)
        value = math.log((0.5 + n - hit) / (0.5 + hit))
        idf.append(value if value > 0 else 1e-6)
    out = []
    k1 = BM25_K1 + 1
    for aid, ntok, freq in rows:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * ntok / avgdl)
        score = sum(idf[i] * (f * k1) / (f + norm) for i, f in freq.items())
        out.append((-score, aid))
    out.sort()
    return out
