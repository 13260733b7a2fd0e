"""PostgreSQL queries of the feeds area: feeds, their entries, and same-event links."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from bot.core.store.feeds import EventCandidate, FeedEntry, FeedRow
from bot.core.store.postgres.connection import ConnDb, Db, count_of
from bot.core.store.postgres.loading import delete_stories
from bot.core.store.rows import feed_from_row
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
    """`FeedReads` over `_db` (the pool, or a transaction's connection)."""

    _db: Db

    async def feeds(self, audience: Audience) -> list[FeedRow]:
        if audience.operator:
            rows = await self._db.fetch(f"{_SELECT} ORDER BY f.id")
        elif audience.guild_id is None:
            return []
        else:
            rows = await self._db.fetch(
                f"{_SELECT} WHERE f.guild_id = $1 ORDER BY f.id", audience.guild_id
            )
        return [feed_from_row(r) for r in rows]

    async def feed(self, feed_id: int) -> FeedRow | None:
        row = await self._db.fetchrow(f"{_SELECT} WHERE f.id = $1", feed_id)
        return feed_from_row(row) if row else None

    async def find_feed(self, url: str, guild_id: int | None) -> FeedRow | None:
        row = await self._db.fetchrow(
            f"{_SELECT} WHERE f.url = $1 AND f.guild_id IS NOT DISTINCT FROM $2::bigint",
            url,
            guild_id,
        )
        return feed_from_row(row) if row else None

    async def count_feeds(self, guild_id: int | None) -> int:
        n = await self._db.fetchval(
            "SELECT count(*) FROM feeds WHERE guild_id IS NOT DISTINCT FROM $1::bigint", guild_id
        )
        return int(n or 0)

    async def due_feeds(self, now: float) -> list[FeedRow]:
        rows = await self._db.fetch(
            f"{_SELECT} WHERE {_LIVE} AND coalesce(f.next_fetch, 0) <= $1 "
            "ORDER BY coalesce(f.next_fetch, 0), f.id",
            float(now),
        )
        return [feed_from_row(r) for r in rows]

    async def next_feed_due(self) -> float | None:
        t = await self._db.fetchval(
            f"SELECT min(coalesce(f.next_fetch, 0)) FROM feeds f WHERE {_LIVE}"
        )
        return None if t is None else float(t)

    async def event_candidates(self, since_ts: float, until_ts: float) -> list[EventCandidate]:
        rows = await self._db.fetch(
            "SELECT a.id, a.title, a.url, a.published_ts, p.name AS provider "
            "FROM articles a LEFT JOIN providers p ON p.id = a.provider_id "
            "WHERE a.published_ts BETWEEN $1 AND $2 ORDER BY a.id",
            float(since_ts),
            float(until_ts),
        )
        return [
            EventCandidate(r["id"], r["title"], r["url"], r["published_ts"], r["provider"])
            for r in rows
        ]


class FeedWriteQueries:
    """`FeedWrites` on `_db` (the transaction's connection)."""

    _db: ConnDb

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
        new_id = await self._db.fetchval(
            "INSERT INTO feeds (url, guild_id, added_by, topics, every, created_at, next_fetch) "
            "VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            url,
            guild_id,
            added_by,
            json.dumps(list(topics)),
            float(every),
            float(created_at),
        )
        row = await self._db.fetchrow(f"{_SELECT} WHERE f.id = $1", new_id)
        assert row is not None  # just inserted, in this transaction
        return feed_from_row(row)

    async def save_feed(self, feed: FeedRow) -> None:
        await self._db.execute(
            """
            UPDATE feeds SET url = $1, title = $2, topics = $3, every = $4, state = $5,
                   reason = $6, etag = $7, last_modified = $8, body_hash = $9, failures = $10,
                   gone = $11, polls = $12, last_fetch = $13, next_fetch = $14
            WHERE id = $15
            """,
            feed.url,
            feed.title,
            json.dumps(list(feed.topics)),
            float(feed.every),
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
        )

    async def delete_feed(self, feed_id: int) -> int:
        source = f"feed:{feed_id}"
        rows = await self._db.fetch(
            "SELECT s.article_id FROM story_sources s JOIN articles a ON a.id = s.article_id "
            "WHERE s.source = $1 AND NOT EXISTS "
            "(SELECT 1 FROM story_sources o WHERE o.article_id = s.article_id AND o.source != $1) "
            # A record file carrying the story keeps it, recorded as a source or not.
            "AND NOT EXISTS (SELECT 1 FROM sources f WHERE f.url = a.url)",
            source,
        )
        doomed = [r["article_id"] for r in rows]
        await self._db.execute("DELETE FROM story_sources WHERE source = $1", source)
        await self._db.execute("DELETE FROM feeds WHERE id = $1", feed_id)
        await delete_stories(self._db, doomed)
        return len(doomed)

    async def feed_entries(self, feed_id: int) -> dict[str, FeedEntry]:
        rows = await self._db.fetch(
            "SELECT key, entry_hash, article_id, silent FROM feed_entries WHERE feed_id = $1",
            feed_id,
        )
        return {
            r["key"]: FeedEntry(r["key"], r["entry_hash"], r["article_id"], bool(r["silent"]))
            for r in rows
        }

    async def save_feed_entries(self, feed_id: int, entries: Iterable[FeedEntry]) -> None:
        by_key = {e.key: e for e in entries}  # one key twice: the last one stays
        if not by_key:
            return
        await self._db.execute(
            "INSERT INTO feed_entries (feed_id, key, entry_hash, article_id, silent) "
            "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::int[]) "
            "ON CONFLICT (feed_id, key) DO UPDATE SET entry_hash = excluded.entry_hash, "
            "article_id = excluded.article_id, silent = excluded.silent",
            feed_id,
            list(by_key),
            [e.entry_hash for e in by_key.values()],
            [e.article_id for e in by_key.values()],
            [int(e.silent) for e in by_key.values()],
        )

    async def stories_by_url(self, urls: Sequence[str]) -> dict[str, int]:
        if not urls:
            return {}
        rows = await self._db.fetch(
            "SELECT url, id FROM articles WHERE url = ANY($1::text[])", list(urls)
        )
        return {r["url"]: r["id"] for r in rows}

    async def keep_shared(self, article_ids: Iterable[int]) -> None:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return
        await self._db.execute(
            "INSERT INTO story_sources (article_id, source, guild_id) "
            "SELECT x, 'folder', NULL FROM unnest($1::bigint[]) AS x "
            "WHERE NOT EXISTS (SELECT 1 FROM story_sources WHERE article_id = x) "
            "ON CONFLICT DO NOTHING",
            ids,
        )

    async def link_related(self, pairs: Iterable[tuple[int, int]]) -> int:
        given = [(a, b) for a, b in pairs if a != b]
        both = set(given) | {(b, a) for a, b in given}
        # One row per (story, other story): the other's headline, link and outlet, appended
        # after the story's own related links, as a record lists other outlets' coverage.
        # One statement per pair, in order: each one's position follows the last one's.
        written = 0
        for a, b in sorted(both):
            status = await self._db.execute(
                """
            INSERT INTO related (article_id, position, url, link, title, excerpt, published_at,
                                 provider_name, provider_domain, quality, amp_url, cdn_amp_url,
                                 images)
            SELECT $1, (SELECT coalesce(max(position), -1) + 1 FROM related WHERE article_id = $1),
                   o.url, o.link, o.title, o.excerpt, o.published_at, p.name, p.domain,
                   o.quality, o.amp_url, o.cdn_amp_url, o.images
            FROM articles o LEFT JOIN providers p ON p.id = o.provider_id
            WHERE o.id = $2
              AND EXISTS (SELECT 1 FROM articles WHERE id = $1)
              AND NOT EXISTS (SELECT 1 FROM related WHERE article_id = $1 AND url = o.url)
            """,
                a,
                b,
            )
            written += count_of(status)
        return written
