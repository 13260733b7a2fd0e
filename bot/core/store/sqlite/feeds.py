"""SQLite queries of the feeds area: feeds, their entries, and same-event links."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import aiosqlite

from bot.core.store.feeds import EventCandidate, FeedEntry, FeedRow
from bot.core.store.rows import feed_from_row
from bot.core.store.sqlite.connection import chunks, fetch_all, fetch_one, marks
from bot.core.store.sqlite.loading import delete_stories
from bot.core.store.types import Audience

_SELECT = """
SELECT f.id, f.url, f.guild_id, f.added_by, f.title, f.topics, f.every, f.state, f.reason,
       f.etag, f.last_modified, f.body_hash, f.failures, f.gone, f.polls, f.last_fetch,
       f.next_fetch, f.created_at,
       (SELECT count(*) FROM feed_entries e
         WHERE e.feed_id = f.id AND e.article_id IS NOT NULL) AS stories
FROM feeds f
"""
# Neither paused nor disabled: the feeds a schedule fetches.
_LIVE = "f.state NOT IN ('paused', 'disabled')"


class FeedQueries:
    """`FeedReads` over a connection (`_conn`)."""

    _conn: aiosqlite.Connection

    async def feeds(self, audience: Audience) -> list[FeedRow]:
        if audience.operator:
            rows = await fetch_all(self._conn, f"{_SELECT} ORDER BY f.id")
        elif audience.guild_id is None:
            return []
        else:
            rows = await fetch_all(
                self._conn, f"{_SELECT} WHERE f.guild_id = ? ORDER BY f.id", (audience.guild_id,)
            )
        return [feed_from_row(r) for r in rows]

    async def feed(self, feed_id: int) -> FeedRow | None:
        row = await fetch_one(self._conn, f"{_SELECT} WHERE f.id = ?", (feed_id,))
        return feed_from_row(row) if row else None

    async def find_feed(self, url: str, guild_id: int | None) -> FeedRow | None:
        row = await fetch_one(
            self._conn, f"{_SELECT} WHERE f.url = ? AND f.guild_id IS ?", (url, guild_id)
        )
        return feed_from_row(row) if row else None

    async def count_feeds(self, guild_id: int | None) -> int:
        row = await fetch_one(
            self._conn, "SELECT count(*) AS n FROM feeds WHERE guild_id IS ?", (guild_id,)
        )
        return int(row["n"]) if row else 0

    async def due_feeds(self, now: float) -> list[FeedRow]:
        rows = await fetch_all(
            self._conn,
            f"{_SELECT} WHERE {_LIVE} AND coalesce(f.next_fetch, 0) <= ? "
            "ORDER BY coalesce(f.next_fetch, 0), f.id",
            (now,),
        )
        return [feed_from_row(r) for r in rows]

    async def next_feed_due(self) -> float | None:
        row = await fetch_one(
            self._conn, f"SELECT min(coalesce(f.next_fetch, 0)) AS t FROM feeds f WHERE {_LIVE}"
        )
        return None if row is None or row["t"] is None else float(row["t"])

    async def event_candidates(self, since_ts: float, until_ts: float) -> list[EventCandidate]:
        rows = await fetch_all(
            self._conn,
            "SELECT a.id, a.title, a.url, a.published_ts, p.name AS provider "
            "FROM articles a LEFT JOIN providers p ON p.id = a.provider_id "
            "WHERE a.published_ts BETWEEN ? AND ?",
            (since_ts, until_ts),
        )
        return [
            EventCandidate(r["id"], r["title"], r["url"], r["published_ts"], r["provider"])
            for r in rows
        ]


class FeedWriteQueries:
    """`FeedWrites` on a connection (`_conn`) inside a write transaction."""

    _conn: aiosqlite.Connection

    async def add_feed(
        self,
        *,
        url: str,
        guild_id: int | None,
        added_by: int | None,
        topics: Sequence[str],
        every: float,
        created_at: float,
    ) -> FeedRow:
        cur = await self._conn.execute(
            "INSERT INTO feeds (url, guild_id, added_by, topics, every, created_at, next_fetch) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (url, guild_id, added_by, json.dumps(list(topics)), every, created_at, created_at),
        )
        row = await fetch_one(self._conn, f"{_SELECT} WHERE f.id = ?", (cur.lastrowid,))
        assert row is not None  # just inserted, in this transaction
        return feed_from_row(row)

    async def save_feed(self, feed: FeedRow) -> None:
        await self._conn.execute(
            """
            UPDATE feeds SET url = ?, title = ?, topics = ?, every = ?, state = ?, reason = ?,
                   etag = ?, last_modified = ?, body_hash = ?, failures = ?, gone = ?, polls = ?,
                   last_fetch = ?, next_fetch = ?
            WHERE id = ?
            """,
            (
                feed.url,
                feed.title,
                json.dumps(list(feed.topics)),
                feed.every,
                feed.state,
                feed.reason,
                feed.etag,
                feed.last_modified,
                feed.body_hash,
                feed.failures,
                feed.gone,
                feed.polls,
                feed.last_fetch,
                feed.next_fetch,
                feed.id,
            ),
        )

    async def delete_feed(self, feed_id: int) -> int:
        source = f"feed:{feed_id}"
        rows = await fetch_all(
            self._conn,
            "SELECT s.article_id FROM story_sources s JOIN articles a ON a.id = s.article_id "
            "WHERE s.source = ? AND NOT EXISTS "
            "(SELECT 1 FROM story_sources o WHERE o.article_id = s.article_id AND o.source != ?) "
            # A record file carrying the story keeps it, recorded as a source or not.
            "AND NOT EXISTS (SELECT 1 FROM sources f WHERE f.url = a.url)",
            (source, source),
        )
        doomed = [r["article_id"] for r in rows]
        await self._conn.execute("DELETE FROM story_sources WHERE source = ?", (source,))
        await self._conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
        await delete_stories(self._conn, doomed)
        return len(doomed)

    async def feed_entries(self, feed_id: int) -> dict[str, FeedEntry]:
        rows = await fetch_all(
            self._conn,
            "SELECT key, entry_hash, article_id, silent FROM feed_entries WHERE feed_id = ?",
            (feed_id,),
        )
        return {
            r["key"]: FeedEntry(r["key"], r["entry_hash"], r["article_id"], bool(r["silent"]))
            for r in rows
        }

    async def save_feed_entries(self, feed_id: int, entries: Iterable[FeedEntry]) -> None:
        await self._conn.executemany(
            "INSERT INTO feed_entries (feed_id, key, entry_hash, article_id, silent) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (feed_id, key) DO UPDATE SET entry_hash = excluded.entry_hash, "
            "article_id = excluded.article_id, silent = excluded.silent",
            [(feed_id, e.key, e.entry_hash, e.article_id, int(e.silent)) for e in entries],
        )

    async def stories_by_url(self, urls: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in chunks(list(urls)):
            rows = await fetch_all(
                self._conn, f"SELECT url, id FROM articles WHERE url IN ({marks(len(part))})", part
            )
            out.update({r["url"]: r["id"] for r in rows})
        return out

    async def keep_shared(self, article_ids: Iterable[int]) -> None:
        await self._conn.executemany(
            "INSERT INTO story_sources (article_id, source, guild_id) "
            "SELECT ?1, 'folder', NULL "
            "WHERE NOT EXISTS (SELECT 1 FROM story_sources WHERE article_id = ?1)",
            [(aid,) for aid in article_ids],
        )

    async def link_related(self, pairs: Iterable[tuple[int, int]]) -> int:
        given = [(a, b) for a, b in pairs if a != b]
        both = set(given) | {(b, a) for a, b in given}
        before = self._conn.total_changes
        # One row per (story, other story): the other's headline, link and outlet, appended
        # after the story's own related links, as a record lists other outlets' coverage.
        await self._conn.executemany(
            """
            INSERT INTO related (article_id, position, url, link, title, excerpt, published_at,
                                 provider_name, provider_domain, quality, amp_url, cdn_amp_url,
                                 images)
            SELECT ?1, (SELECT coalesce(max(position), -1) + 1 FROM related WHERE article_id = ?1),
                   o.url, o.link, o.title, o.excerpt, o.published_at, p.name, p.domain,
                   o.quality, o.amp_url, o.cdn_amp_url, o.images
            FROM articles o LEFT JOIN providers p ON p.id = o.provider_id
            WHERE o.id = ?2
              AND EXISTS (SELECT 1 FROM articles WHERE id = ?1)
              AND NOT EXISTS (SELECT 1 FROM related WHERE article_id = ?1 AND url = o.url)
            """,
            sorted(both),
        )
        return self._conn.total_changes - before
