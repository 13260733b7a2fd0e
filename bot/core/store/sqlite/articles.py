"""SQLite queries of the articles area: stories, topics, sources, meta and stats."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.records import Article, Related, canonical_url
from bot.core.store.rows import article_from_row, related_from_row
from bot.core.store.sqlite.connection import chunks, fetch_all, fetch_one, marks
from bot.core.store.types import OPERATOR, Audience, TopicCount

_ARTICLE_SQL = """
SELECT a.id, a.link, a.title, a.excerpt, a.body, a.published_at, a.amp_url, a.cdn_amp_url,
       a.original_url, a.quality, a.heat, a.is_published, a.images, a.secured, a.source,
       p.name AS provider_name, p.domain AS provider_domain
FROM articles a LEFT JOIN providers p ON p.id = a.provider_id
WHERE a.id IN ({marks})
"""
_TOPICS_OF_SQL = """
SELECT at.article_id, t.name
FROM article_topics at JOIN topics t ON t.id = at.topic_id
WHERE at.article_id IN ({marks})
ORDER BY at.article_id, at.position
"""
_RELATED_OF_SQL = """
SELECT article_id, link, title, excerpt, published_at, provider_name, provider_domain,
       quality, amp_url, cdn_amp_url, images
FROM related WHERE article_id IN ({marks})
ORDER BY article_id, position
"""


# Stories every source of which is a server's, none of them :guild's (NULL: a DM,
# which sees the operator's stories only).
HIDDEN_SQL = """
SELECT article_id FROM story_sources GROUP BY article_id
HAVING max(guild_id IS NULL) = 0 AND max(coalesce(guild_id = :guild, 0)) = 0
"""


class ArticleQueries:
    """`ArticleReads` over a connection (`_conn`) to the file at `_path`."""

    _conn: aiosqlite.Connection
    _path: Path

    async def get_articles(self, ids: Sequence[int]) -> list[Article]:
        if not ids:
            return []
        ids = list(dict.fromkeys(ids))
        sql_marks = marks(len(ids))
        rows = {
            r["id"]: r
            for r in await fetch_all(self._conn, _ARTICLE_SQL.format(marks=sql_marks), ids)
        }
        topics: dict[int, list[str]] = {}
        for r in await fetch_all(self._conn, _TOPICS_OF_SQL.format(marks=sql_marks), ids):
            topics.setdefault(r["article_id"], []).append(r["name"])
        related: dict[int, list[Related]] = {}
        for r in await fetch_all(self._conn, _RELATED_OF_SQL.format(marks=sql_marks), ids):
            related.setdefault(r["article_id"], []).append(related_from_row(r))
        return [
            article_from_row(rows[aid], topics.get(aid, ()), related.get(aid, ()))
            for aid in ids
            if aid in rows
        ]

    async def ids_by_url(self, urls: Iterable[str]) -> dict[str, int]:
        keys = list({canonical_url(u) for u in urls})
        out: dict[str, int] = {}
        for part in chunks(keys):
            rows = await fetch_all(
                self._conn, f"SELECT url, id FROM articles WHERE url IN ({marks(len(part))})", part
            )
            out.update({r["url"]: r["id"] for r in rows})
        return out

    async def topics(self) -> list[TopicCount]:
        rows = await fetch_all(
            self._conn,
            "SELECT t.name, count(at.article_id) AS n FROM topics t "
            "JOIN article_topics at ON at.topic_id = t.id GROUP BY t.id ORDER BY n DESC, t.name",
        )
        return [TopicCount(r["name"], r["n"]) for r in rows]

    async def latest_ids(
        self, *, topic: str | None = None, limit: int = 10, audience: Audience = OPERATOR
    ) -> list[int]:
        hidden = "" if audience.operator else f"AND a.id NOT IN ({HIDDEN_SQL})"
        topic_join = (
            "JOIN article_topics at ON at.article_id = a.id "
            "JOIN topics t ON t.id = at.topic_id AND t.key = :topic"
            if topic
            else ""
        )
        rows = await fetch_all(
            self._conn,
            f"SELECT a.id FROM articles a {topic_join} WHERE 1 {hidden} "
            "ORDER BY a.published_ts IS NULL, a.published_ts DESC, a.id DESC LIMIT :limit",
            {"topic": (topic or "").casefold(), "limit": limit, "guild": audience.guild_id},
        )
        return [r["id"] for r in rows]

    async def hidden_ids(self, audience: Audience) -> frozenset[int]:
        if audience.operator:
            return frozenset()
        rows = await fetch_all(self._conn, HIDDEN_SQL, {"guild": audience.guild_id})
        return frozenset(r["article_id"] for r in rows)

    async def known_sources(self) -> dict[str, str]:
        rows = await fetch_all(self._conn, "SELECT path, file_hash FROM sources")
        return {r["path"]: r["file_hash"] for r in rows}

    async def source_urls(self) -> dict[str, str]:
        rows = await fetch_all(self._conn, "SELECT path, url FROM sources")
        return {r["path"]: r["url"] for r in rows if r["url"]}

    async def generation(self) -> int:
        row = await fetch_one(self._conn, "SELECT value FROM meta WHERE key = 'generation'")
        return int(row["value"]) if row else 0

    async def get_meta(self, key: str) -> Any:
        row = await fetch_one(self._conn, "SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else None

    async def stats(self) -> dict[str, Any]:
        row = await fetch_one(
            self._conn,
            """
            SELECT
              (SELECT count(*) FROM articles) AS stories,
              (SELECT count(*) FROM topics
                WHERE id IN (SELECT topic_id FROM article_topics)) AS topics,
              (SELECT count(*) FROM providers
                WHERE id IN (SELECT provider_id FROM articles)) AS providers,
              (SELECT count(*) FROM related) AS related,
              (SELECT max(published_at) FROM articles) AS newest
            """,
        )
        assert row is not None
        db_bytes = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                db_bytes += os.path.getsize(str(self._path) + suffix)
        return {
            "stories": row["stories"],
            "topics": row["topics"],
            "providers": row["providers"],
            "related": row["related"],
            "newest": row["newest"],
            "db_bytes": db_bytes,
        }
