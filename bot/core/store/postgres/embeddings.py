"""PostgreSQL queries of the embeddings area: the `embeddings` table (vectors as bytea).

As in SQLite: a vector row is current while its `content_hash` equals the
story's; writes bump the meta counter ``embeddings:<model>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.store.postgres.connection import ConnDb, Db
from bot.core.store.rows import embeddings_version_key
from bot.core.store.types import EmbeddingCounts, EmbeddingRow, EmbeddingTask, SearchText

_CURRENT = "e.model = $1 AND e.content_hash = a.content_hash"


class EmbeddingQueries:
    """`EmbeddingReads` over `_db` (the pool)."""

    _db: Db

    async def stories_awaiting_embedding(self, model: str, limit: int) -> list[EmbeddingTask]:
        rows = await self._db.fetch(
            "SELECT a.id, a.content_hash, f.title, f.topics, f.provider, f.excerpt, f.related "
            "FROM articles a JOIN articles_fts f ON f.id = a.id "
            "WHERE NOT EXISTS "
            f"(SELECT 1 FROM embeddings e WHERE e.article_id = a.id AND {_CURRENT}) "
            "ORDER BY a.id LIMIT $2",
            model,
            limit,
        )
        return [
            EmbeddingTask(
                r["id"],
                r["content_hash"],
                SearchText(
                    r["title"] or "",
                    r["topics"] or "",
                    r["provider"] or "",
                    r["excerpt"] or "",
                    r["related"] or "",
                ),
            )
            for r in rows
        ]

    async def embedding_matrix(
        self, model: str, *, after: int = 0, limit: int | None = None
    ) -> list[EmbeddingRow]:
        rows = await self._db.fetch(
            "SELECT e.article_id, e.content_hash, e.vector FROM embeddings e "
            f"JOIN articles a ON a.id = e.article_id WHERE {_CURRENT} AND e.article_id > $2 "
            "ORDER BY e.article_id LIMIT $3",
            model,
            after,
            limit,  # NULL: no limit
        )
        return [EmbeddingRow(r[0], r[1], bytes(r[2])) for r in rows]

    async def embedding_counts(self, model: str) -> EmbeddingCounts:
        row = await self._db.fetchrow(
            "SELECT (SELECT count(*) FROM articles) AS stories, "
            "(SELECT count(*) FROM embeddings e JOIN articles a ON a.id = e.article_id "
            f"WHERE {_CURRENT}) AS embedded",
            model,
        )
        stories, embedded = (int(row["stories"]), int(row["embedded"])) if row else (0, 0)
        return EmbeddingCounts(embedded=embedded, awaiting=stories - embedded)

    async def embedding_version(self, model: str) -> int:
        value = await self._db.fetchval(
            "SELECT value FROM meta WHERE key = $1", embeddings_version_key(model)
        )
        return int(value) if value is not None else 0


class EmbeddingWriteQueries:
    """`EmbeddingWrites` on `_db` (the transaction's connection)."""

    _db: ConnDb

    async def put_embeddings(self, model: str, rows: Sequence[EmbeddingRow]) -> None:
        if not rows:
            return
        by_id = {r.article_id: r for r in rows}  # one story twice: the last one stays
        # INSERT … SELECT: a story deleted since its text was read inserts nothing.
        await self._db.execute(
            "INSERT INTO embeddings (article_id, model, content_hash, vector) "
            "SELECT a.id, $1, v.content_hash, v.vector "
            "FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS v(id, content_hash, vector) "
            "JOIN articles a ON a.id = v.id "
            "ON CONFLICT (article_id, model) DO UPDATE SET "
            "content_hash = excluded.content_hash, vector = excluded.vector",
            model,
            list(by_id),
            [r.content_hash for r in by_id.values()],
            [bytes(r.vector) for r in by_id.values()],
        )
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES ($1, '1') "
            "ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
            embeddings_version_key(model),
        )
