"""SQLite queries of the embeddings area: the `embeddings` table (migration 4).

A vector row is current while its `content_hash` equals the story's; a story
whose hash moved on (edited) or that has no row for a model awaits embedding.
Writes bump the meta counter ``embeddings:<model>`` so searchers notice new
vectors with one lookup instead of counting rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from bot.core.store.rows import embeddings_version_key
from bot.core.store.sqlite.connection import fetch_one, fetch_tuples
from bot.core.store.types import EmbeddingCounts, EmbeddingRow, EmbeddingTask, SearchText

_CURRENT = "e.model = ? AND e.content_hash = a.content_hash"


class EmbeddingQueries:
    """`EmbeddingReads` over the shared reader (`_conn`)."""

    _conn: aiosqlite.Connection

    async def stories_awaiting_embedding(self, model: str, limit: int) -> list[EmbeddingTask]:
        rows = await fetch_tuples(
            self._conn,
            "SELECT a.id, a.content_hash, f.title, f.topics, f.provider, f.excerpt, f.related "
            "FROM articles a JOIN articles_fts f ON f.rowid = a.id "
            "WHERE NOT EXISTS "
            f"(SELECT 1 FROM embeddings e WHERE e.article_id = a.id AND {_CURRENT}) "
            "ORDER BY a.id LIMIT ?",
            (model, limit),
        )
        return [
            EmbeddingTask(
                aid,
                chash,
                SearchText(title or "", topics or "", provider or "", excerpt or "", related or ""),
            )
            for aid, chash, title, topics, provider, excerpt, related in rows
        ]

    async def embedding_matrix(
        self, model: str, *, after: int = 0, limit: int | None = None
    ) -> list[EmbeddingRow]:
        rows = await fetch_tuples(
            self._conn,
            "SELECT e.article_id, e.content_hash, e.vector FROM embeddings e "
            f"JOIN articles a ON a.id = e.article_id WHERE {_CURRENT} AND e.article_id > ? "
            "ORDER BY e.article_id LIMIT ?",
            (model, after, -1 if limit is None else limit),
        )
        return list(map(EmbeddingRow._make, rows))

    async def embedding_counts(self, model: str) -> EmbeddingCounts:
        row = await fetch_one(
            self._conn,
            "SELECT count(*) AS stories, "
            f"(SELECT count(*) FROM embeddings e JOIN articles a ON a.id = e.article_id "
            f"WHERE {_CURRENT}) AS embedded FROM articles",
            (model,),
        )
        stories, embedded = (int(row["stories"]), int(row["embedded"])) if row else (0, 0)
        return EmbeddingCounts(embedded=embedded, awaiting=stories - embedded)

    async def embedding_version(self, model: str) -> int:
        row = await fetch_one(
            self._conn, "SELECT value FROM meta WHERE key = ?", (embeddings_version_key(model),)
        )
        return int(row["value"]) if row else 0


class EmbeddingWriteQueries:
    """`EmbeddingWrites` on the transaction's connection (`_conn`)."""

    _conn: aiosqlite.Connection

    async def put_embeddings(self, model: str, rows: Sequence[EmbeddingRow]) -> None:
        if not rows:
            return
        # INSERT … SELECT: a story deleted since its text was read inserts nothing.
        await self._conn.executemany(
            "INSERT INTO embeddings (article_id, model, content_hash, vector) "
            "SELECT id, ?, ?, ? FROM articles WHERE id = ? "
            "ON CONFLICT (article_id, model) DO UPDATE SET "
            "content_hash = excluded.content_hash, vector = excluded.vector",
            [(model, r.content_hash, r.vector, r.article_id) for r in rows],
        )
        await self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (embeddings_version_key(model),),
        )
