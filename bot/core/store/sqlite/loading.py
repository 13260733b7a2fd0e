"""SQLite writes of the loading area: upserting stories, sources, pruning, meta.

Batch-shaped (a handful of executemany calls per call, not per story),
because every call crosses to aiosqlite's thread.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from bot.core.records import Article
from bot.core.store.prepared import Prepared, ProviderKey, prepare
from bot.core.store.rows import ARTICLE_COLUMNS, RELATED_COLUMNS, article_values, related_values
from bot.core.store.sqlite.connection import chunks, fetch_all, fetch_one, marks
from bot.core.store.types import SourceFile, UpsertResult

# The columns of `articles` a story's values fill, in the order of `_article_values`.
_UPDATE_ARTICLE_SQL = (
    f"UPDATE articles SET {', '.join(c + ' = ?' for c in ARTICLE_COLUMNS)} WHERE id = ?"
)
_INSERT_ARTICLE_SQL = (
    f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}, url, first_stored_at, id) "
    f"VALUES ({marks(len(ARTICLE_COLUMNS) + 3)})"
)
_INSERT_RELATED_SQL = (
    f"INSERT INTO related ({', '.join(RELATED_COLUMNS)}) VALUES ({marks(len(RELATED_COLUMNS))})"
)


async def delete_stories(conn: aiosqlite.Connection, ids: Sequence[int]) -> None:
    """Delete these stories, their full-text rows (FTS5 has no foreign keys) and the
    topics no story or subscription uses any more. Inside the caller's transaction."""
    for part in chunks(ids):
        await conn.execute(f"DELETE FROM articles_fts WHERE rowid IN ({marks(len(part))})", part)
        await conn.execute(f"DELETE FROM articles WHERE id IN ({marks(len(part))})", part)
    if ids:
        await conn.execute(
            "DELETE FROM topics WHERE id NOT IN (SELECT topic_id FROM article_topics) "
            "AND key NOT IN (SELECT topic_key FROM subscriptions)"
        )


class LoadWriteQueries:
    """`LoadWrites` on a connection (`_conn`) inside a write transaction."""

    _conn: aiosqlite.Connection

    async def upsert_articles(
        self, articles: Sequence[Article], *, now: float | None = None
    ) -> UpsertResult:
        return await self.upsert_prepared([prepare(a) for a in articles], now=now)

    async def upsert_prepared(
        self, items: Sequence[Prepared], *, now: float | None = None
    ) -> UpsertResult:
        conn = self._conn
        added: list[int] = []
        updated: list[int] = []
        unchanged = 0
        now = time.time() if now is None else now
        by_url: dict[str, Prepared] = {}
        for p in items:
            by_url.setdefault(p.url, p)  # a URL twice in one batch: the first wins
        if not by_url:
            return UpsertResult()
        existing = await self._existing(list(by_url))
        provider_ids = await self._provider_ids({p.provider for p in by_url.values() if p.provider})
        topic_ids = await self._topic_ids(by_url.values())

        inserts: list[Prepared] = []
        updates: list[tuple[Any, ...]] = []
        for url, p in by_url.items():
            prev = existing.get(url)
            if prev and prev[1] == p.content_hash:
                unchanged += 1
                continue
            pid = provider_ids.get(p.provider) if p.provider else None
            if prev:
                updates.append((*article_values(p, pid, now), prev[0]))
                updated.append(prev[0])
            else:
                inserts.append(p)

        if updates:
            await conn.executemany(_UPDATE_ARTICLE_SQL, updates)
            gone = [(aid,) for aid in updated]
            await conn.executemany("DELETE FROM article_topics WHERE article_id = ?", gone)
            await conn.executemany("DELETE FROM related WHERE article_id = ?", gone)
            await conn.executemany("DELETE FROM articles_fts WHERE rowid = ?", gone)
        if inserts:
            # Ids assigned here (we hold the write lock) spare a SELECT per batch.
            row = await fetch_one(conn, "SELECT coalesce(max(id), 0) AS top FROM articles")
            top = row["top"] if row else 0
            rows = []
            for n, p in enumerate(inserts, start=1):
                pid = provider_ids.get(p.provider) if p.provider else None
                rows.append((*article_values(p, pid, now), p.url, now, top + n))
                added.append(top + n)
                existing[p.url] = (top + n, p.content_hash)
            await conn.executemany(_INSERT_ARTICLE_SQL, rows)

        changed = set(added) | set(updated)
        written = [
            (existing[url][0], p) for url, p in by_url.items() if existing[url][0] in changed
        ]
        await conn.executemany(
            "INSERT OR IGNORE INTO article_topics (article_id, topic_id, position) VALUES (?,?,?)",
            [
                (aid, topic_ids[t.casefold()], i)
                for aid, p in written
                for i, t in enumerate(p.topics)
            ],
        )
        await conn.executemany(
            _INSERT_RELATED_SQL,
            [related_values(aid, i, r) for aid, p in written for i, r in enumerate(p.related)],
        )
        await conn.executemany(
            "INSERT INTO articles_fts (rowid, title, topics, provider, excerpt, related) "
            "VALUES (?,?,?,?,?,?)",
            [
                (aid, p.text.title, p.text.topics, p.text.provider, p.text.excerpt, p.text.related)
                for aid, p in written
            ],
        )
        return UpsertResult(added=added, updated=updated, unchanged=unchanged)

    async def _existing(self, urls: Sequence[str]) -> dict[str, tuple[int, str]]:
        """canonical url → (id, content hash) for the stored ones."""
        out: dict[str, tuple[int, str]] = {}
        for part in chunks(urls):
            rows = await fetch_all(
                self._conn,
                f"SELECT url, id, content_hash FROM articles WHERE url IN ({marks(len(part))})",
                part,
            )
            out.update({r["url"]: (r["id"], r["content_hash"]) for r in rows})
        return out

    async def _provider_ids(self, wanted: set[ProviderKey]) -> dict[ProviderKey, int]:
        if not wanted:
            return {}
        pairs = sorted((p.name, p.domain) for p in wanted)
        await self._conn.executemany(
            "INSERT OR IGNORE INTO providers (name, domain) VALUES (?, ?)", pairs
        )
        out: dict[ProviderKey, int] = {}
        names = sorted({p.name for p in wanted})
        for part in chunks(names):
            rows = await fetch_all(
                self._conn,
                f"SELECT id, name, domain FROM providers WHERE name IN ({marks(len(part))})",
                part,
            )
            for r in rows:
                key = ProviderKey(r["name"], r["domain"])
                if key in wanted:
                    out[key] = r["id"]
        return out

    async def _topic_ids(self, items: Iterable[Prepared]) -> dict[str, int]:
        wanted: dict[str, str] = {}
        for p in items:
            for t in p.topics:
                wanted.setdefault(t.casefold(), t)
        if not wanted:
            return {}
        await self._conn.executemany(
            "INSERT OR IGNORE INTO topics (key, name) VALUES (?, ?)", sorted(wanted.items())
        )
        out: dict[str, int] = {}
        for part in chunks(list(wanted)):
            rows = await fetch_all(
                self._conn, f"SELECT key, id FROM topics WHERE key IN ({marks(len(part))})", part
            )
            out.update({r["key"]: r["id"] for r in rows})
        return out

    async def record_sources(self, files: Iterable[SourceFile]) -> None:
        await self._conn.executemany(
            "INSERT INTO sources (path, file_hash, url) VALUES (?,?,?) "
            "ON CONFLICT (path) DO UPDATE SET file_hash = excluded.file_hash, url = excluded.url",
            [(f.path, f.file_hash, f.url) for f in files],
        )

    async def add_story_sources(
        self, article_ids: Iterable[int], source: str, guild_id: int | None
    ) -> None:
        await self._conn.executemany(
            "INSERT OR IGNORE INTO story_sources (article_id, source, guild_id) VALUES (?, ?, ?)",
            [(aid, source, guild_id) for aid in article_ids],
        )

    async def prune(self, roots: Sequence[str], present: set[str]) -> int:
        roots = [os.path.abspath(r) for r in roots]

        def under(path: str) -> bool:
            return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

        sources = await fetch_all(self._conn, "SELECT path, url FROM sources")
        gone_rows = [r for r in sources if under(r["path"]) and r["path"] not in present]
        gone = [r["path"] for r in gone_rows]
        # articles.source is not rewritten when an unchanged story's file moves to
        # another folder, so the gone files' own URLs count too.
        gone_urls = {r["url"] for r in gone_rows if r["url"]}
        await self._conn.executemany("DELETE FROM sources WHERE path = ?", [(p,) for p in gone])
        # A story stays while any present file still carries its URL.
        candidates = await fetch_all(
            self._conn,
            "SELECT id, source, url FROM articles "
            "WHERE url NOT IN (SELECT url FROM sources WHERE url IS NOT NULL)",
        )
        doomed = [
            r["id"]
            for r in candidates
            if (r["source"] and under(r["source"])) or r["url"] in gone_urls
        ]
        await delete_stories(self._conn, doomed)
        return len(doomed)

    async def bump_generation(self) -> None:
        await self._conn.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    async def set_meta(self, key: str, value: Any) -> None:
        await self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
