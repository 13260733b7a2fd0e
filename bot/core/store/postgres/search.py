"""PostgreSQL queries of the search area: full-text candidates, bm25, and the index snapshot.

A `TextQuery` becomes a tsquery (`fulltext.compile_query`) answered by the
GIN indexes. Ranked queries read, per candidate, only the positions of the
query's words and score them with FTS5's bm25: in the server for the usual
shape (`ranking`), in Python for the others (`fulltext.bm25`). See
`fulltext` for why the words are cut in Python.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg

from bot.core.store.postgres.connection import Db
from bot.core.store.postgres.fulltext import (
    Compiled,
    Totals,
    Where,
    bm25,
    compile_query,
    compiled_of,
    matches,
)
from bot.core.store.postgres.ranking import RANKED_SQL, ranked_args, ranks_in_sql
from bot.core.store.rows import snapshot_from_rows
from bot.core.store.types import (
    FieldWeights,
    IndexSnapshot,
    ScoredId,
    SearchText,
    TextQuery,
)

# Only the query's words, each with its positions (setweight marks them, ts_filter keeps
# them, unnest gives them as arrays): a row per (story, word of the query it holds), with
# the table's totals for bm25 (one row of fts_stats) to spare a round trip.
_POSITIONS_SQL = (
    "SELECT f.id, f.ntok, u.lexeme, u.positions, s.docs, s.tokens "
    "FROM fts_stats s, articles_fts f "
    "CROSS JOIN LATERAL unnest(ts_filter(setweight(f.{column}, 'A', $2::text[]), '{{a}}')) u "
    "WHERE f.{column} @@ $1::tsquery"
)


def _column(compiled: Compiled) -> str:
    return "title_tsv" if compiled.title_only else "tsv"


class SearchQueries:
    """`SearchReads` over `_db` (the pool), and a pooled connection of its own for the long
    scans of `index_snapshot`."""

    _db: Db
    _pool: asyncpg.Pool

    async def _search(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of a full-text query (the pool's connections plan them with the GIN
        indexes: see `connection.setup_connection`)."""
        return await self._db.fetch(sql, *args)

    async def _positions(self, compiled: Compiled) -> tuple[list[tuple[int, int, Where]], Totals]:
        """(id, token count, lexeme → positions) of every story the query's tsquery matches,
        and the table's totals."""
        rows = await self._search(
            _POSITIONS_SQL.format(column=_column(compiled)), compiled.tsquery, compiled.lexemes
        )
        by_id: dict[int, tuple[int, int, Where]] = {}
        for aid, ntok, lexeme, positions, _, _ in rows:
            found = by_id.get(aid)
            if found is None:
                found = by_id[aid] = (aid, ntok, {})
            found[2][lexeme] = positions
        totals = Totals(int(rows[0]["docs"]), int(rows[0]["tokens"])) if rows else Totals(0, 0)
        return list(by_id.values()), totals

    async def match_ranked(
        self, query: TextQuery, weights: FieldWeights, *, limit: int
    ) -> list[ScoredId]:
        compiled = compile_query(query)
        if not compiled.tsquery or limit <= 0:
            return []
        if ranks_in_sql(compiled):
            rows = await self._search(RANKED_SQL, *ranked_args(compiled, weights, limit))
            return [ScoredId(r["article_id"], r["score"]) for r in rows]
        candidates, totals = await self._positions(compiled)
        if not candidates:
            return []
        df = None if len(compiled.groups) == 1 else await self._phrase_counts(compiled)
        scored = bm25(compiled, candidates, weights, totals, df)
        return [ScoredId(aid, score) for score, aid in scored[:limit]]

    async def _phrase_counts(self, compiled: Compiled) -> dict[tuple[str, ...], int]:
        """Stories holding each phrase of the query (in its fields), for bm25's IDF."""
        out: dict[tuple[str, ...], int] = {}
        for group in compiled.groups:
            for phrase in group:
                if phrase in out:
                    continue
                alone = compiled_of(((phrase,),), compiled.fields)
                found, _ = await self._positions(alone)
                out[phrase] = sum(1 for _, _, where in found if matches(alone, where))
        return out

    async def match_newest(self, query: TextQuery, *, limit: int) -> list[int]:
        compiled = compile_query(query)
        if not compiled.tsquery or limit <= 0:
            return []
        if compiled.title_only or compiled.all_fields:
            column = _column(compiled)
            rows = await self._search(
                f"SELECT id FROM articles_fts WHERE {column} @@ $1::tsquery "
                "ORDER BY id DESC LIMIT $2",
                compiled.tsquery,
                limit,
            )
            return [r["id"] for r in rows]
        # Other fields: the tsquery finds the stories, their positions say where.
        found = [
            aid
            for aid, _, where in (await self._positions(compiled))[0]
            if matches(compiled, where)
        ]
        return sorted(found, reverse=True)[:limit]

    async def search_texts(self, ids: Sequence[int]) -> dict[int, SearchText]:
        if not ids:
            return {}
        rows = await self._db.fetch(
            "SELECT id, title, topics, provider, excerpt, related FROM articles_fts "
            "WHERE id = ANY($1::bigint[])",
            list(ids),
        )
        return {
            r["id"]: SearchText(
                title=r["title"] or "",
                topics=r["topics"] or "",
                provider=r["provider"] or "",
                excerpt=r["excerpt"] or "",
                related=r["related"] or "",
            )
            for r in rows
        }

    async def index_snapshot(self) -> IndexSnapshot:
        # A connection of its own, in one repeatable-read snapshot: the scans take a
        # while at 100,000 stories, and questions on the pool must not queue behind them.
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            await conn.execute("SET LOCAL enable_seqscan = on")  # whole tables, read once
            return await _snapshot(conn)


async def _snapshot(conn: asyncpg.Connection) -> IndexSnapshot:
    articles = await conn.fetch(
        "SELECT id, title, link, provider_id, published_ts, quality, heat FROM articles ORDER BY id"
    )
    providers = await conn.fetch("SELECT id, name, domain FROM providers ORDER BY id")
    topics = await conn.fetch("SELECT id, name FROM topics ORDER BY id")
    article_topics = await conn.fetch(
        "SELECT article_id, topic_id FROM article_topics ORDER BY article_id, position"
    )
    # Stored stories that list each other (or one lists the other) as related coverage.
    related_pairs = await conn.fetch(
        "SELECT r.article_id, a.id FROM related r JOIN articles a ON a.url = r.url "
        "ORDER BY r.article_id, r.position"
    )
    shared = await conn.fetch(
        "SELECT array_agg(article_id ORDER BY article_id, position) FROM related "
        'GROUP BY url HAVING count(DISTINCT article_id) > 1 ORDER BY url COLLATE "C"'
    )
    vocabulary = await conn.fetch("SELECT word, ndoc FROM ts_stat('SELECT tsv FROM articles_fts')")
    # In a thread: at 100,000 stories the reshaping takes a tenth of a second,
    # which on the event loop would hold up every question meanwhile.
    return await asyncio.to_thread(
        _assemble, articles, providers, topics, article_topics, related_pairs, shared, vocabulary
    )


def _assemble(
    articles: list[Any],
    providers: list[Any],
    topics: list[Any],
    article_topics: list[Any],
    related_pairs: list[Any],
    shared: list[Any],
    vocabulary: list[Any],
) -> IndexSnapshot:
    """The snapshot from the rows of its queries, in this driver's forms."""
    return snapshot_from_rows(
        articles,
        providers,
        topics,
        article_topics,
        related_pairs,
        shared_related=[tuple(group) for (group,) in shared],
        vocabulary={word: int(n) for word, n in vocabulary},
    )
