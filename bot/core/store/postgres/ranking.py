"""FTS5's bm25 as one SQL statement, for the usual ranked query: one OR group of words
and phrases, in every field (what a question's rare words make).

The same formula as `fulltext.bm25`, which stays the reference and ranks the
other shapes: a phrase's frequency in a story is the sum of its fields'
weights over the phrase's start positions, its IDF comes from the stories
holding it, and a story's score sums over the phrases it holds. Scored in
the server, only the best `limit` stories cross to Python: sending every
candidate's positions and scoring them in Python cost twice the server's
own work (issue 16: `ask` p99 against SQLite's).

One statement text for every query (the words go in as arrays), so it is
parsed once per connection. A phrase's starts are found by shifting each of
its words' positions back by the word's place in the phrase: a start held
by all of its words is a match, as the tsquery's `<->` checks.
"""

from __future__ import annotations

from typing import Any

from bot.core.store.postgres.fulltext import BM25_B, BM25_K1, FIELD_START, FIELDS, Compiled
from bot.core.store.types import FieldWeights

_STARTS = [FIELD_START[f] for f in FIELDS[1:]]  # where each field after the title begins
# A start position's weight: that of its field ($7..$11, in FIELDS order).
_WEIGH = (
    f"CASE WHEN s < {_STARTS[0]} THEN $7::float8 WHEN s < {_STARTS[1]} THEN $8::float8 "
    f"WHEN s < {_STARTS[2]} THEN $9::float8 WHEN s < {_STARTS[3]} THEN $10::float8 "
    "ELSE $11::float8 END"
)
# bm25's N and average length, each read once per statement (an InitPlan).
_DOCS = "(SELECT greatest(docs, 1)::float8 FROM fts_stats)"
_AVGDL = (
    "(SELECT CASE WHEN tokens > 0 THEN tokens::float8 / greatest(docs, 1) ELSE 1 END "
    "FROM fts_stats)"
)
# Every constant a float8: a bare 0.75 is numeric, several times slower per row.
_K1 = f"{BM25_K1}::float8"
_NORM = f"{_K1} * ({1 - BM25_B}::float8 + {BM25_B}::float8 * f.ntok / {_AVGDL})"

# $1 the tsquery, $2 its lexemes; $3..$6 one row per (word of a phrase): the lexeme, the
# phrase's number, the word's place in it, the phrase's length; $7..$11 the field
# weights; $12 the limit.
RANKED_SQL = f"""
WITH pos AS MATERIALIZED (
    SELECT f.id AS article_id, f.ntok, u.lexeme, u.positions
    FROM articles_fts f
    CROSS JOIN LATERAL unnest(ts_filter(setweight(f.tsv, 'A', $2::text[]), '{{a}}')) u
    WHERE f.tsv @@ $1::tsquery
),
terms AS (
    SELECT * FROM unnest($3::text[], $4::int[], $5::int[], $6::int[]) t(lexeme, i, k, n)
),
starts AS (
    SELECT t.i, p.article_id, p.ntok, x AS s
    FROM pos p JOIN terms t ON t.lexeme = p.lexeme CROSS JOIN LATERAL unnest(p.positions) x
    WHERE t.n = 1
    UNION ALL
    SELECT q.i, q.article_id, q.ntok, q.s FROM (
        SELECT t.i, p.article_id, p.ntok, x - t.k AS s, t.n
        FROM pos p JOIN terms t ON t.lexeme = p.lexeme CROSS JOIN LATERAL unnest(p.positions) x
        WHERE t.n > 1
    ) q
    GROUP BY q.i, q.article_id, q.ntok, q.s, q.n
    HAVING count(*) = q.n
),
found AS MATERIALIZED (
    SELECT i, article_id, ntok::float8 AS ntok, sum({_WEIGH}) AS f
    FROM starts GROUP BY i, article_id, ntok
),
idf AS (
    SELECT i, CASE WHEN v > 0 THEN v ELSE 1e-6::float8 END AS idf
    FROM (SELECT i, ln(({_DOCS} + 0.5::float8 - df) / (df + 0.5::float8)) AS v
          FROM (SELECT i, count(*)::float8 AS df FROM found GROUP BY i) d) l
)
SELECT f.article_id, -sum(d.idf * f.f * ({_K1} + 1::float8) / (f.f + {_NORM})) AS score
FROM found f JOIN idf d USING (i)
GROUP BY f.article_id
ORDER BY score, f.article_id
LIMIT $12::integer
"""


def ranks_in_sql(compiled: Compiled) -> bool:
    """True when `RANKED_SQL` can rank this query: one OR group, every field."""
    return len(compiled.groups) == 1 and compiled.all_fields


def ranked_args(compiled: Compiled, weights: FieldWeights, limit: int) -> list[Any]:
    """The arguments of `RANKED_SQL` for `compiled` (see `ranks_in_sql`): it gives
    (article_id, score) of the best `limit` stories, best first; score as FTS5's (lower
    is better), ties by id."""
    lexemes: list[str] = []
    phrase: list[int] = []
    place: list[int] = []
    length: list[int] = []
    for i, words in enumerate(compiled.groups[0]):
        for k, word in enumerate(words):
            lexemes.append(word)
            phrase.append(i)
            place.append(k)
            length.append(len(words))
    field_weights = [float(getattr(weights, f)) for f in FIELDS]
    return [
        compiled.tsquery,
        compiled.lexemes,
        lexemes,
        phrase,
        place,
        length,
        *field_weights,
        limit,
    ]
