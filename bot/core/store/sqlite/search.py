"""SQLite queries of the search area: FTS5 MATCH queries and the search index snapshot.

A `TextQuery` is written in FTS5 syntax here (`fts_match`): each term is
quoted as an FTS5 string, so whatever a user typed is never an operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.store.rows import snapshot_from_rows
from bot.core.store.sqlite.connection import connect, fetch_all, fetch_tuples, marks
from bot.core.store.types import (
    FieldWeights,
    IndexSnapshot,
    ScoredId,
    SearchText,
    TextQuery,
)


def fts_string(term: str) -> str:
    """One term as an FTS5 string literal: whatever it holds, never an operator."""
    return '"' + term.replace('"', '""') + '"'


def fts_match(query: TextQuery) -> str:
    """`query` in FTS5 MATCH syntax: ``{title} : (("a" OR "b") AND ("c"))``."""
    body = " AND ".join("(" + " OR ".join(fts_string(t) for t in g) + ")" for g in query.groups)
    if query.fields:
        return "{" + " ".join(query.fields) + "} : (" + body + ")"
    return body


class SearchQueries:
    """`SearchReads` over the shared reader (`_conn`), and a private reader of the file at
    `_path` for the long scans of `index_snapshot`."""

    _conn: aiosqlite.Connection
    _path: Path

    async def match_ranked(
        self, query: TextQuery, weights: FieldWeights, *, limit: int
    ) -> list[ScoredId]:
        rows = await fetch_tuples(
            self._conn,
            "SELECT rowid, bm25(articles_fts, ?, ?, ?, ?, ?) AS score FROM articles_fts "
            "WHERE articles_fts MATCH ? ORDER BY score LIMIT ?",
            (
                weights.title,
                weights.topics,
                weights.provider,
                weights.excerpt,
                weights.related,
                fts_match(query),
                limit,
            ),
        )
        return list(map(ScoredId._make, rows))

    async def match_newest(self, query: TextQuery, *, limit: int) -> list[int]:
        rows = await fetch_tuples(
            self._conn,
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            (fts_match(query), limit),
        )
        return [rowid for (rowid,) in rows]

    async def search_texts(self, ids: Sequence[int]) -> dict[int, SearchText]:
        if not ids:
            return {}
        rows = await fetch_tuples(
            self._conn,
            "SELECT rowid, title, topics, provider, excerpt, related FROM articles_fts "
            f"WHERE rowid IN ({marks(len(ids))})",
            list(ids),
        )
        return {
            rowid: SearchText(
                title=title or "",
                topics=topics or "",
                provider=provider or "",
                excerpt=excerpt or "",
                related=related or "",
            )
            for rowid, title, topics, provider, excerpt, related in rows
        }

    async def index_snapshot(self) -> IndexSnapshot:
        # Its own connection: these scans take a while at 100,000 stories, and
        # questions on the shared reader must not queue behind them.
        conn = await connect(self._path, readonly=True)
        try:
            return await _snapshot(conn)
        finally:
            await conn.close()


async def _snapshot(conn: aiosqlite.Connection) -> IndexSnapshot:
    # Tuples, not sqlite3.Row: 100,000s of rows, turned into columns at once.
    conn.row_factory = None
    articles = await fetch_all(
        conn,
        "SELECT id, title, link, provider_id, published_ts, quality, heat "
        "FROM articles ORDER BY id",
    )
    providers = await fetch_all(conn, "SELECT id, name, domain FROM providers")
    topics = await fetch_all(conn, "SELECT id, name FROM topics")
    article_topics = await fetch_all(
        conn, "SELECT article_id, topic_id FROM article_topics ORDER BY article_id, position"
    )
    # Stored stories that list each other (or one lists the other) as related coverage.
    related_pairs = await fetch_all(
        conn, "SELECT r.article_id, a.id FROM related r JOIN articles a ON a.url = r.url"
    )
    shared = await fetch_all(
        conn,
        "SELECT group_concat(article_id) FROM related "
        "GROUP BY url HAVING count(DISTINCT article_id) > 1",
    )
    vocabulary = await fetch_all(conn, "SELECT term, doc FROM articles_vocab")
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
        shared_related=[tuple(int(x) for x in str(group).split(",")) for (group,) in shared],
        vocabulary=dict(vocabulary),
    )
