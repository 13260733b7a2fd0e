"""PostgreSQL queries of the articles area: stories, topics, sources, meta and stats."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.records import Article, Related, canonical_url
from bot.core.store.postgres.connection import Db
from bot.core.store.rows import article_from_row, related_from_row
from bot.core.store.types import OPERATOR, Audience, TopicCount

_ARTICLE_SQL = """
SELECT a.id, a.link, a.title, a.excerpt, a.body, a.published_at, a.amp_url, a.cdn_amp_url,
       a.original_url, a.quality, a.heat, a.is_published, a.images, a.secured, a.source,
       p.name AS provider_name, p.domain AS provider_domain
FROM articles a LEFT JOIN providers p ON p.id = a.provider_id
WHERE a.id = ANY($1::bigint[])
"""
_TOPICS_OF_SQL = """
SELECT at.article_id, t.name
FROM article_topics at JOIN topics t ON t.id = at.topic_id
WHERE at.article_id = ANY($1::bigint[])
ORDER BY at.article_id, at.position
"""
_RELATED_OF_SQL = """
SELECT article_id, link, title, excerpt, published_at, provider_name, provider_domain,
       quality, amp_url, cdn_amp_url, images
FROM related WHERE article_id = ANY($1::bigint[])
ORDER BY article_id, position
"""

# Stories every source of which is a server's, none of them $1's (NULL: a DM, which
# sees the operator's stories only).
HIDDEN_SQL = """
SELECT article_id FROM story_sources GROUP BY article_id
HAVING bool_and(guild_id IS NOT NULL) AND NOT coalesce(bool_or(guild_id = $1::bigint), false)
"""


class ArticleQueries:
    """`ArticleReads` over `_db` (the pool: committed data)."""

    _db: Db

    async def get_articles(self, ids: Sequence[int]) -> list[Article]:
        if not ids:
            return []
        ids = list(dict.fromkeys(ids))
        rows = {r["id"]: r for r in await self._db.fetch(_ARTICLE_SQL, ids)}
        topics: dict[int, list[str]] = {}
        for r in await self._db.fetch(_TOPICS_OF_SQL, ids):
            topics.setdefault(r["article_id"], []).append(r["name"])
        related: dict[int, list[Related]] = {}
        for r in await self._db.fetch(_RELATED_OF_SQL, ids):
            related.setdefault(r["article_id"], []).append(related_from_row(r))
        return [
            article_from_row(rows[aid], topics.get(aid, ()), related.get(aid, ()))
            for aid in ids
            if aid in rows
        ]

    async def ids_by_url(self, urls: Iterable[str]) -> dict[str, int]:
        keys = list({canonical_url(u) for u in urls})
        if not keys:
            return {}
        rows = await self._db.fetch(
            "SELECT url, id FROM articles WHERE url = ANY($1::text[])", keys
        )
        return {r["url"]: r["id"] for r in rows}

    async def topics(self) -> list[TopicCount]:
        rows = await self._db.fetch(
            "SELECT t.name, count(at.article_id) AS n FROM topics t "
            "JOIN article_topics at ON at.topic_id = t.id GROUP BY t.id "
            'ORDER BY n DESC, t.name COLLATE "C"'
        )
        return [TopicCount(r["name"], r["n"]) for r in rows]

    async def latest_ids(
        self, *, topic: str | None = None, limit: int = 10, audience: Audience = OPERATOR
    ) -> list[int]:
        args: list[Any] = [limit]
        hidden = ""
        if not audience.operator:
            args.append(audience.guild_id)
            hidden = f"AND a.id NOT IN ({HIDDEN_SQL.replace('$1', f'${len(args)}')})"
        topic_join = ""
        if topic:
            args.append(topic.casefold())
            topic_join = (
                "JOIN article_topics at ON at.article_id = a.id "
                f"JOIN topics t ON t.id = at.topic_id AND t.key = ${len(args)}"
            )
        rows = await self._db.fetch(
            f"SELECT a.id FROM articles a {topic_join} WHERE true {hidden} "
            "ORDER BY a.published_ts DESC NULLS LAST, a.id DESC LIMIT $1",
            *args,
        )
        return [r["id"] for r in rows]

    async def hidden_ids(self, audience: Audience) -> frozenset[int]:
        if audience.operator:
            return frozenset()
        rows = await self._db.fetch(HIDDEN_SQL, audience.guild_id)
        return frozenset(r["article_id"] for r in rows)

    async def known_sources(self) -> dict[str, str]:
        rows = await self._db.fetch("SELECT path, file_hash FROM sources")
        return {r["path"]: r["file_hash"] for r in rows}

    async def source_urls(self) -> dict[str, str]:
        rows = await self._db.fetch("SELECT path, url FROM sources")
        return {r["path"]: r["url"] for r in rows if r["url"]}

    async def generation(self) -> int:
        value = await self._db.fetchval("SELECT value FROM meta WHERE key = 'generation'")
        return int(value) if value is not None else 0

    async def get_meta(self, key: str) -> Any:
        value = await self._db.fetchval("SELECT value FROM meta WHERE key = $1", key)
        return json.loads(value) if value is not None else None

    async def stats(self) -> dict[str, Any]:
        row = await self._db.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM articles) AS stories,
              (SELECT count(*) FROM topics
                WHERE id IN (SELECT topic_id FROM article_topics)) AS topics,
              (SELECT count(*) FROM providers
                WHERE id IN (SELECT provider_id FROM articles)) AS providers,
              (SELECT count(*) FROM related) AS related,
              (SELECT max(published_at COLLATE "C") FROM articles) AS newest,
              pg_database_size(current_database()) AS db_bytes
            """
        )
        assert row is not None
        return {
            "stories": row["stories"],
            "topics": row["topics"],
            "providers": row["providers"],
            "related": row["related"],
            "newest": row["newest"],
            "db_bytes": int(row["db_bytes"]),
        }
