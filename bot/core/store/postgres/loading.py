"""PostgreSQL writes of the loading area: upserting stories, sources, pruning, meta.

Bulk-shaped: new stories, their topics, related links and index rows go in
with COPY, the rest as one statement over arrays. Transactions of several
processes run at once on PostgreSQL, so every write of stories first takes a
transaction-level advisory lock (`LOAD_LOCK`): two loads never interleave,
and a second one sees the first one's stories once it may go on.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from bot.core.records import Article
from bot.core.store.postgres.connection import ConnDb
from bot.core.store.postgres.fulltext import FTS_COLUMNS, fts_record
from bot.core.store.prepared import Prepared, ProviderKey, prepare
from bot.core.store.rows import ARTICLE_COLUMNS, RELATED_COLUMNS, article_values, related_values
from bot.core.store.types import SourceFile, UpsertResult

log = logging.getLogger(__name__)

LOAD_LOCK = 0x6E657773_626F7402  # 'newsbot' + 2: the stories' writer, one at a time
GENERATION_CHANNEL = "newsbot_generation"  # NOTIFY'd by bump_generation

_UPDATE_ARTICLE_SQL = (
    "UPDATE articles SET "
    + ", ".join(f"{c} = ${n}" for n, c in enumerate(ARTICLE_COLUMNS, start=1))
    + f" WHERE id = ${len(ARTICLE_COLUMNS) + 1}"
)
_INSERT_COLUMNS = (*ARTICLE_COLUMNS, "url", "first_stored_at", "id")


async def lock_stories(db: ConnDb) -> None:
    """Wait for (and hold until commit) the right to write stories."""
    await db.execute("SELECT pg_advisory_xact_lock($1)", LOAD_LOCK)


async def add_index_rows(db: ConnDb, records: list[tuple[Any, ...]]) -> None:
    """Insert rows of `articles_fts` (`fts_record`) and count them in `fts_stats`."""
    if not records:
        return
    # COPY is binary in asyncpg, which has no binary tsvector: the rows go into a
    # twin with text in its place (kept by the connection, emptied at commit), then
    # across with a cast. Still several times faster than an INSERT of arrays.
    await db.execute(_FTS_IN_SQL)
    await db.copy("fts_in", FTS_COLUMNS, records)
    await db.execute(
        f"INSERT INTO articles_fts ({', '.join(FTS_COLUMNS)}) "
        f"SELECT {', '.join(_FTS_CAST)} FROM fts_in"
    )
    await db.execute("TRUNCATE fts_in")
    db.index_writes += len(records)
    await db.execute(
        "UPDATE fts_stats SET docs = docs + $1, tokens = tokens + $2",
        len(records),
        sum(int(r[-1]) for r in records),
    )


_FTS_IN_SQL = (
    "CREATE TEMP TABLE IF NOT EXISTS fts_in (id bigint, title text, topics text, "
    "provider text, excerpt text, related text, tsv text, title_tsv text, ntok integer) "
    "ON COMMIT DELETE ROWS"
)
_FTS_CAST = [f"{c}::tsvector" if c.endswith("tsv") else c for c in FTS_COLUMNS]


async def drop_index_rows(db: ConnDb, ids: Sequence[int]) -> None:
    """Delete these stories' rows of `articles_fts`, and uncount them."""
    if not ids:
        return
    row = await db.fetchrow(
        "WITH gone AS (DELETE FROM articles_fts WHERE id = ANY($1::bigint[]) RETURNING ntok) "
        "SELECT count(*) AS n, coalesce(sum(ntok), 0) AS t FROM gone",
        list(ids),
    )
    if row and row["n"]:
        await db.execute(
            "UPDATE fts_stats SET docs = docs - $1, tokens = tokens - $2", row["n"], int(row["t"])
        )
        db.index_writes += int(row["n"])


async def settle_index(db: ConnDb) -> None:
    """Before a transaction that (un)indexed stories commits: merge the GIN indexes'
    pending lists, and refresh the planner's statistics of `articles_fts` when the
    transaction changed as many rows as would make autovacuum analyze it.

    Questions come right after a load, before autovacuum gets to the table: a GIN
    index then scans its whole pending list (up to 4 MB) on every search, and the
    planner guesses with the statistics of an emptier table. At 20,000 stories that
    made a question's full-text queries fifteen times slower.
    """
    if not db.index_writes:
        return
    try:
        async with db.conn.transaction():  # a savepoint: a refusal must not undo the load
            await db.execute(
                "SELECT gin_clean_pending_list('articles_fts_tsv'::regclass), "
                "gin_clean_pending_list('articles_fts_title'::regclass)"
            )
    except asyncpg.InsufficientPrivilegeError:
        log.info("store: not the owner of the full-text indexes; autovacuum will merge them")
    docs = int(await db.fetchval("SELECT docs FROM fts_stats") or 0)
    if db.index_writes >= _ANALYZE_BASE + _ANALYZE_SHARE * docs:  # autovacuum's defaults
        # Only the columns questions filter on: the text columns cost most to sample.
        await db.execute("ANALYZE articles_fts (id, tsv, title_tsv)")  # not the owner: skipped
    db.index_writes = 0


_ANALYZE_BASE = 50
_ANALYZE_SHARE = 0.1


async def settle_after_copy(conn: asyncpg.Connection, stories: int) -> None:
    """`settle_index` for `newsbot migrate`, which wrote `stories` index rows on `conn`."""
    db = ConnDb(conn)
    db.index_writes = stories
    await settle_index(db)


async def drop_story_rows(db: ConnDb, ids: Sequence[int]) -> None:
    """Delete these stories' topics and related links (tables without foreign keys)."""
    await db.execute("DELETE FROM article_topics WHERE article_id = ANY($1::bigint[])", list(ids))
    await db.execute("DELETE FROM related WHERE article_id = ANY($1::bigint[])", list(ids))


async def delete_stories(db: ConnDb, ids: Sequence[int]) -> None:
    """Delete these stories (their index rows uncounted) and the topics no story or
    subscription uses any more. Inside the caller's transaction."""
    if not ids:
        return
    await lock_stories(db)
    await drop_index_rows(db, ids)
    await drop_story_rows(db, ids)
    await db.execute("DELETE FROM articles WHERE id = ANY($1::bigint[])", list(ids))
    await db.execute(
        "DELETE FROM topics t WHERE NOT EXISTS (SELECT 1 FROM article_topics a "
        "WHERE a.topic_id = t.id) AND NOT EXISTS (SELECT 1 FROM subscriptions s "
        "WHERE s.topic_key = t.key)"
    )


class LoadWriteQueries:
    """`LoadWrites` on `_db` (the transaction's connection)."""

    _db: ConnDb

    async def upsert_articles(
        self, articles: Sequence[Article], *, now: float | None = None
    ) -> UpsertResult:
        return await self.upsert_prepared([prepare(a) for a in articles], now=now)

    async def upsert_prepared(
        self, items: Sequence[Prepared], *, now: float | None = None
    ) -> UpsertResult:
        db = self._db
        now = time.time() if now is None else now
        by_url: dict[str, Prepared] = {}
        for p in items:
            by_url.setdefault(p.url, p)  # a URL twice in one batch: the first wins
        if not by_url:
            return UpsertResult()
        await lock_stories(db)
        existing = await self._existing(list(by_url))
        provider_ids = await self._provider_ids({p.provider for p in by_url.values() if p.provider})
        topic_ids = await self._topic_ids(by_url.values())

        added: list[int] = []
        updated: list[int] = []
        unchanged = 0
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
            await db.executemany(_UPDATE_ARTICLE_SQL, updates)
            await drop_story_rows(db, updated)
            await drop_index_rows(db, updated)
        if inserts:
            # Ids as SQLite assigns them (one above the highest): safe under the
            # stories' lock, and the same ids as a SQLite store given the same loads.
            top = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM articles"))
            rows = []
            for n, p in enumerate(inserts, start=1):
                pid = provider_ids.get(p.provider) if p.provider else None
                rows.append((*article_values(p, pid, now), p.url, now, top + n))
                added.append(top + n)
                existing[p.url] = (top + n, p.content_hash)
            await db.copy("articles", _INSERT_COLUMNS, rows)

        changed = set(added) | set(updated)
        written = [
            (existing[url][0], p) for url, p in by_url.items() if existing[url][0] in changed
        ]
        topic_rows = []
        for aid, p in written:
            seen: set[int] = set()
            for i, t in enumerate(p.topics):
                tid = topic_ids[t.casefold()]
                if tid not in seen:  # 'AI' and 'ai' in one story: the first one counts
                    seen.add(tid)
                    topic_rows.append((aid, tid, i))
        await db.copy("article_topics", ("article_id", "topic_id", "position"), topic_rows)
        await db.copy(
            "related",
            RELATED_COLUMNS,
            [related_values(aid, i, r) for aid, p in written for i, r in enumerate(p.related)],
        )
        await add_index_rows(db, [fts_record(aid, p.text) for aid, p in written])
        return UpsertResult(added=added, updated=updated, unchanged=unchanged)

    async def _existing(self, urls: Sequence[str]) -> dict[str, tuple[int, str]]:
        """canonical url → (id, content hash) for the stored ones."""
        rows = await self._db.fetch(
            "SELECT url, id, content_hash FROM articles WHERE url = ANY($1::text[])", list(urls)
        )
        return {r["url"]: (r["id"], r["content_hash"]) for r in rows}

    async def _provider_ids(self, wanted: set[ProviderKey]) -> dict[ProviderKey, int]:
        if not wanted:
            return {}
        pairs = sorted((p.name, p.domain) for p in wanted)
        names = [n for n, _ in pairs]
        domains = [d for _, d in pairs]
        await self._db.execute(
            "INSERT INTO providers (name, domain) "
            "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
            names,
            domains,
        )
        rows = await self._db.fetch(
            "SELECT p.id, p.name, p.domain FROM providers p "
            "JOIN unnest($1::text[], $2::text[]) AS w(name, domain) "
            "ON w.name = p.name AND w.domain = p.domain",
            names,
            domains,
        )
        return {ProviderKey(r["name"], r["domain"]): r["id"] for r in rows}

    async def _topic_ids(self, items: Iterable[Prepared]) -> dict[str, int]:
        wanted: dict[str, str] = {}
        for p in items:
            for t in p.topics:
                wanted.setdefault(t.casefold(), t)
        if not wanted:
            return {}
        pairs = sorted(wanted.items())
        keys = [k for k, _ in pairs]
        await self._db.execute(
            "INSERT INTO topics (key, name) SELECT * FROM unnest($1::text[], $2::text[]) "
            "ON CONFLICT DO NOTHING",
            keys,
            [n for _, n in pairs],
        )
        rows = await self._db.fetch("SELECT key, id FROM topics WHERE key = ANY($1::text[])", keys)
        return {r["key"]: r["id"] for r in rows}

    async def record_sources(self, files: Iterable[SourceFile]) -> None:
        by_path = {f.path: f for f in files}  # one path twice: the last one stays
        if not by_path:
            return
        await self._db.execute(
            "INSERT INTO sources (path, file_hash, url) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
            "ON CONFLICT (path) DO UPDATE SET file_hash = excluded.file_hash, url = excluded.url",
            list(by_path),
            [f.file_hash for f in by_path.values()],
            [f.url for f in by_path.values()],
        )

    async def add_story_sources(
        self, article_ids: Iterable[int], source: str, guild_id: int | None
    ) -> None:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return
        await self._db.execute(
            "INSERT INTO story_sources (article_id, source, guild_id) "
            "SELECT x, $2, $3::bigint FROM unnest($1::bigint[]) AS x ON CONFLICT DO NOTHING",
            ids,
            source,
            guild_id,
        )

    async def prune(self, roots: Sequence[str], present: set[str]) -> int:
        roots = [os.path.abspath(r) for r in roots]

        def under(path: str) -> bool:
            return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

        await lock_stories(self._db)
        sources = await self._db.fetch("SELECT path, url FROM sources")
        gone_rows = [r for r in sources if under(r["path"]) and r["path"] not in present]
        gone = [r["path"] for r in gone_rows]
        # articles.source is not rewritten when an unchanged story's file moves to
        # another folder, so the gone files' own URLs count too.
        gone_urls = {r["url"] for r in gone_rows if r["url"]}
        if gone:
            await self._db.execute("DELETE FROM sources WHERE path = ANY($1::text[])", gone)
        # A story stays while any present file still carries its URL.
        candidates = await self._db.fetch(
            "SELECT a.id, a.source, a.url FROM articles a "
            "WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.url = a.url)"
        )
        doomed = [
            r["id"]
            for r in candidates
            if (r["source"] and under(r["source"])) or r["url"] in gone_urls
        ]
        await delete_stories(self._db, doomed)
        return len(doomed)

    async def bump_generation(self) -> None:
        value = await self._db.fetchval(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text "
            "RETURNING value"
        )
        # Delivered at commit, to every process listening (`wait_generation_change`).
        await self._db.execute("SELECT pg_notify($1, $2)", GENERATION_CHANNEL, str(value))

    async def set_meta(self, key: str, value: Any) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            json.dumps(value),
        )
