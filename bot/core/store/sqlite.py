"""The article store: one SQLite file (WAL), schema migrations, reads and upserts.

Two connections: a writer (every write goes through `transaction()`, one at a
time) and a reader that only ever sees committed data, so questions keep
being answered from a consistent snapshot while a long load is being written.

Identity of a story is its canonical URL (`records.canonical_url`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.records import Article, Image, Provider, Related, canonical_url

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 30_000

# Each entry migrates from version N-1 to N. Append, never edit a shipped one.
MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

    CREATE TABLE providers (
        id      INTEGER PRIMARY KEY,
        name    TEXT NOT NULL,
        domain  TEXT NOT NULL DEFAULT '',
        UNIQUE (name, domain)
    );

    CREATE TABLE articles (
        id              INTEGER PRIMARY KEY,
        url             TEXT NOT NULL UNIQUE,       -- canonical URL: the identity
        link            TEXT NOT NULL,              -- the URL as written in the record
        title           TEXT NOT NULL,
        excerpt         TEXT NOT NULL DEFAULT '',
        body            TEXT NOT NULL DEFAULT '',
        published_at    TEXT,                       -- ISO 8601, UTC
        published_ts    REAL,                       -- same, as epoch seconds, for sorting
        amp_url         TEXT,
        cdn_amp_url     TEXT,
        original_url    TEXT,
        quality         REAL,
        heat            REAL,
        is_published    INTEGER,
        provider_id     INTEGER REFERENCES providers(id),
        images          TEXT NOT NULL DEFAULT '[]', -- JSON list of {url,width,height,title}
        secured         TEXT,
        source          TEXT,                       -- absolute path of the record file
        content_hash    TEXT NOT NULL,
        first_stored_at REAL NOT NULL,
        updated_at      REAL NOT NULL
    );
    CREATE INDEX articles_published ON articles (published_ts DESC);
    CREATE INDEX articles_provider ON articles (provider_id);
    CREATE INDEX articles_first_stored ON articles (first_stored_at);

    CREATE TABLE topics (
        id    INTEGER PRIMARY KEY,
        key   TEXT NOT NULL UNIQUE,   -- casefolded name: topics are case-insensitive
        name  TEXT NOT NULL           -- display name, as first seen
    );

    CREATE TABLE article_topics (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        topic_id   INTEGER NOT NULL REFERENCES topics(id),
        position   INTEGER NOT NULL,
        PRIMARY KEY (article_id, topic_id)
    ) WITHOUT ROWID;
    CREATE INDEX article_topics_topic ON article_topics (topic_id, article_id);

    -- Other outlets' coverage, in record order. `url` is canonical, so a join on
    -- articles.url finds the stored story when the related link is itself stored.
    CREATE TABLE related (
        article_id      INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        position        INTEGER NOT NULL,
        url             TEXT NOT NULL,
        link            TEXT NOT NULL,
        title           TEXT NOT NULL,
        excerpt         TEXT NOT NULL DEFAULT '',
        published_at    TEXT,
        provider_name   TEXT,
        provider_domain TEXT,
        quality         REAL,
        amp_url         TEXT,
        cdn_amp_url     TEXT,
        images          TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (article_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX related_url ON related (url);

    -- rowid = articles.id; written in the same transaction as the article.
    CREATE VIRTUAL TABLE articles_fts USING fts5 (
        title, topics, provider, excerpt, related,
        tokenize = "unicode61 remove_diacritics 2"
    );
    CREATE VIRTUAL TABLE articles_vocab USING fts5vocab (articles_fts, row);

    -- Which file produced which story, and the file's bytes hash, so an
    -- unchanged file is not even parsed on the next load.
    CREATE TABLE sources (
        path      TEXT PRIMARY KEY,
        file_hash TEXT NOT NULL,
        url       TEXT
    ) WITHOUT ROWID;

    CREATE TABLE subscriptions (
        id            INTEGER PRIMARY KEY,
        guild_id      INTEGER,                 -- server it was made in (NULL: from a DM)
        channel_id    INTEGER,                 -- target channel; NULL: DM to user_id
        user_id       INTEGER NOT NULL,        -- who made it; the DM recipient
        target        TEXT NOT NULL,           -- 'channel:<id>' or 'user:<id>'
        topic_key     TEXT NOT NULL,           -- topics.key
        topic         TEXT NOT NULL,           -- display name
        keywords      TEXT NOT NULL DEFAULT '',-- space-separated, casefolded; any one must match
        min_quality   REAL NOT NULL DEFAULT 0,
        created_at    REAL NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'paused', 'disabled')),
        status_reason TEXT,
        UNIQUE (target, topic_key, keywords, min_quality)
    );
    CREATE INDEX subscriptions_topic ON subscriptions (topic_key, status);
    CREATE INDEX subscriptions_guild ON subscriptions (guild_id);
    CREATE INDEX subscriptions_user ON subscriptions (user_id);

    -- One row per (subscription, story): the ledger that makes alerts
    -- exactly-once. Written in the load's transaction; marked sent only after
    -- Discord accepted the message.
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        article_id      INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error      TEXT,
        created_at      REAL NOT NULL,
        sent_at         REAL,
        message_id      INTEGER,
        UNIQUE (subscription_id, article_id)
    );
    CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);
    """,
    # 2: alerts claim their rows before sending. `batch` is the nonce of the
    # message the row is (being) sent in; kept across a crash, a retry sends
    # the same rows with the same nonce, so Discord deduplicates the message.
    """
    ALTER TABLE outbox ADD COLUMN batch TEXT;
    """,
]


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says why and where."""


class StoreBusy(StoreError):
    """Another write (a reload) is running in this process."""


@dataclass(slots=True)
class UpsertResult:
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0


def _now() -> float:
    return time.time()


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _images_json(images: Iterable[Image]) -> str:
    return json.dumps(
        [{"url": i.url, "width": i.width, "height": i.height, "title": i.title} for i in images],
        ensure_ascii=False,
    )


def _images_from(raw: str | None) -> tuple[Image, ...]:
    if not raw:
        return ()
    return tuple(
        Image(
            url=d["url"], width=d.get("width"), height=d.get("height"), title=d.get("title") or ""
        )
        for d in json.loads(raw)
    )


def _dt(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


async def _connect(path: Path, *, readonly: bool) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN ourselves
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            await conn.execute("PRAGMA query_only = ON")
        else:
            await conn.execute(
                "PRAGMA synchronous = NORMAL"
            )  # WAL: durable at checkpoint, never corrupt
    except BaseException:
        await conn.close()
        raise
    return conn


class Store:
    """Open with `await Store.open(path)`; close with `await store.close()`."""

    def __init__(self, path: Path, read: aiosqlite.Connection, write: aiosqlite.Connection) -> None:
        self.path = path
        self.read = read
        self.write = write
        self._write_lock = asyncio.Lock()
        self.load_lock = asyncio.Lock()  # one load (reload) at a time per process

    # -- lifecycle -------------------------------------------------------

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open (creating and migrating as needed) the store at `path`."""
        p = Path(path)
        if p.exists() and p.is_dir():
            raise StoreError(f"{p}: is a folder, not a database file")
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            write = await _connect(p, readonly=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{p}: cannot open the database: {exc}") from None
        try:
            await cls._migrate(p, write)
            read = await _connect(p, readonly=True)
        except BaseException:
            await write.close()
            raise
        return cls(p, read, write)

    @staticmethod
    async def _migrate(path: Path, conn: aiosqlite.Connection) -> None:
        try:
            async with conn.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a newsbot database ({exc})") from None
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: database schema version {version} is newer than this newsbot "
                f"understands ({SCHEMA_VERSION}); upgrade newsbot or use another file. "
                "The file was not changed."
            )
        if version == 0:
            async with conn.execute("SELECT count(*) FROM sqlite_master") as cur:
                (n,) = await cur.fetchone() or (0,)
            if n:
                raise StoreError(f"{path}: is an SQLite file but not a newsbot database")
        try:
            mode = await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a newsbot database ({exc})") from None
        if mode and str(mode[0]).lower() != "wal":
            raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode[0]})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            # executescript would COMMIT on its own; run statements inside one
            # explicit transaction so a failed migration leaves the old schema.
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _split_sql(MIGRATIONS[target - 1]):
                    await conn.execute(stmt)
                await conn.execute(f"PRAGMA user_version = {target}")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        for conn in (self.read, self.write):
            with suppress(Exception):
                await conn.close()

    @asynccontextmanager
    async def extra_reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """A private read-only connection, for long scans that must not make the
        shared reader's short queries wait."""
        conn = await _connect(self.path, readonly=True)
        try:
            yield conn
        finally:
            await conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- writes ----------------------------------------------------------

    @property
    def writing(self) -> bool:
        """True while a write transaction of this process is running."""
        return self._write_lock.locked()

    @asynccontextmanager
    async def transaction(self, *, wait: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: all of it commits, or none of it.

        `wait=False` raises StoreBusy instead of queueing behind another write
        of this process. Other processes are waited for (busy timeout).
        """
        if not wait and self._write_lock.locked():
            raise StoreBusy("another write to the store is running")
        async with self._write_lock:
            try:
                await self.write.execute("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                # Cancelling the await does not stop aiosqlite's thread: the BEGIN
                # still runs (maybe after waiting out another process's lock) and
                # would leave this connection inside a transaction for good.
                await asyncio.shield(self._rollback_quietly())
                raise
            try:
                yield self.write
            except BaseException:
                # Shielded: a cancelled task must still roll back, or the
                # connection is left inside an open transaction.
                await asyncio.shield(self.write.execute("ROLLBACK"))
                raise
            await self.write.execute("COMMIT")

    async def _rollback_quietly(self) -> None:
        with suppress(sqlite3.Error):  # a BEGIN that failed (busy) left nothing to undo
            await self.write.execute("ROLLBACK")

    async def generation(self) -> int:
        """A counter bumped by every write that changes stories (any process)."""
        async with self.read.execute("SELECT value FROM meta WHERE key = 'generation'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    async def bump_generation(conn: aiosqlite.Connection) -> None:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    @staticmethod
    async def set_meta(conn: aiosqlite.Connection, key: str, value: Any) -> None:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    async def get_meta(self, key: str) -> Any:
        async with self.read.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return json.loads(row[0]) if row else None

    async def known_sources(self) -> dict[str, str]:
        """path → bytes hash of every file loaded before."""
        async with self.read.execute("SELECT path, file_hash FROM sources") as cur:
            return {p: h for p, h in await cur.fetchall()}

    @staticmethod
    async def upsert_articles(
        conn: aiosqlite.Connection, articles: Sequence[Article], *, now: float | None = None
    ) -> UpsertResult:
        """Insert new stories, rewrite changed ones, leave identical ones alone."""
        return await Store.upsert_prepared(conn, [prepare(a) for a in articles], now=now)

    @staticmethod
    async def upsert_prepared(
        conn: aiosqlite.Connection, items: Sequence[Prepared], *, now: float | None = None
    ) -> UpsertResult:
        """`upsert_articles` for stories already turned into rows (by `prepare`, in a worker).

        Batch-shaped (a handful of executemany calls per call, not per story)
        because every call crosses to aiosqlite's thread.
        """
        result = UpsertResult()
        now = _now() if now is None else now
        by_url: dict[str, Prepared] = {}
        for p in items:
            by_url.setdefault(p.url, p)  # a URL twice in one batch: the first wins
        if not by_url:
            return result
        existing = await _existing(conn, list(by_url))
        provider_ids = await _provider_ids(
            conn, {p.provider for p in by_url.values() if p.provider}
        )
        topic_ids = await _topic_ids(conn, by_url.values())

        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for url, p in by_url.items():
            prev = existing.get(url)
            if prev and prev[1] == p.content_hash:
                result.unchanged += 1
                continue
            pid = provider_ids.get(p.provider) if p.provider else None
            row = (*p.row, pid, p.content_hash, now)
            if prev:
                updates.append((*row, prev[0]))
                result.updated.append(prev[0])
            else:
                inserts.append((*row, url, now))

        if updates:
            await conn.executemany(
                f"UPDATE articles SET {', '.join(c + '=?' for c in _ROW_COLUMNS)}, provider_id=?, "
                "content_hash=?, updated_at=? WHERE id=?",
                updates,
            )
            gone = [(aid,) for aid in result.updated]
            await conn.executemany("DELETE FROM article_topics WHERE article_id = ?", gone)
            await conn.executemany("DELETE FROM related WHERE article_id = ?", gone)
            await conn.executemany("DELETE FROM articles_fts WHERE rowid = ?", gone)
        if inserts:
            # Ids assigned here (we hold the write lock) spare a SELECT per batch.
            async with conn.execute("SELECT coalesce(max(id), 0) FROM articles") as cur:
                (top,) = await cur.fetchone() or (0,)
            cols = ", ".join(_ROW_COLUMNS)
            await conn.executemany(
                f"INSERT INTO articles ({cols}, provider_id, content_hash, updated_at, url, "
                f"first_stored_at, id) VALUES ({','.join('?' * (len(_ROW_COLUMNS) + 6))})",
                [(*row, top + n) for n, row in enumerate(inserts, start=1)],
            )
            for n, row in enumerate(inserts, start=1):
                result.added.append(top + n)
                existing[row[-2]] = (top + n, row[-4])

        changed = set(result.added) | set(result.updated)
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
            f"INSERT INTO related (article_id, position, {', '.join(_RELATED_COLUMNS)}) "
            f"VALUES ({','.join('?' * (len(_RELATED_COLUMNS) + 2))})",
            [(aid, i, *r) for aid, p in written for i, r in enumerate(p.related)],
        )
        await conn.executemany(
            "INSERT INTO articles_fts (rowid, title, topics, provider, excerpt, related) "
            "VALUES (?,?,?,?,?,?)",
            [(aid, *p.fts) for aid, p in written],
        )
        return result

    @staticmethod
    async def record_sources(
        conn: aiosqlite.Connection, rows: Iterable[tuple[str, str, str | None]]
    ) -> None:
        """Remember (path, bytes hash, canonical url) of loaded files."""
        await conn.executemany(
            "INSERT INTO sources (path, file_hash, url) VALUES (?,?,?) "
            "ON CONFLICT (path) DO UPDATE SET file_hash = excluded.file_hash, url = excluded.url",
            list(rows),
        )

    @staticmethod
    async def prune(conn: aiosqlite.Connection, roots: Sequence[str], present: set[str]) -> int:
        """Delete stories whose record files under `roots` are gone. Returns how many."""
        roots = [os.path.abspath(r) for r in roots]

        def under(path: str) -> bool:
            return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

        async with conn.execute("SELECT path, url FROM sources") as cur:
            gone_rows = [(p, u) for p, u in await cur.fetchall() if under(p) and p not in present]
        gone = [p for p, _ in gone_rows]
        # articles.source is not rewritten when an unchanged story's file moves to
        # another folder, so the gone files' own URLs count too.
        gone_urls = {u for _, u in gone_rows if u}
        await conn.executemany("DELETE FROM sources WHERE path = ?", [(p,) for p in gone])
        # A story stays while any present file still carries its URL.
        async with conn.execute(
            "SELECT id, source, url FROM articles "
            "WHERE url NOT IN (SELECT url FROM sources WHERE url IS NOT NULL)"
        ) as cur:
            doomed = [
                aid
                for aid, src, url in await cur.fetchall()
                if (src and under(src)) or url in gone_urls
            ]
        for i in range(0, len(doomed), 500):
            part = doomed[i : i + 500]
            marks = ",".join("?" * len(part))
            await conn.execute(f"DELETE FROM articles_fts WHERE rowid IN ({marks})", part)
            await conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", part)
        if doomed:
            await conn.execute(
                "DELETE FROM topics WHERE id NOT IN (SELECT topic_id FROM article_topics) "
                "AND key NOT IN (SELECT topic_key FROM subscriptions)"
            )
        return len(doomed)

    # -- reads -----------------------------------------------------------

    async def get_articles(self, ids: Sequence[int]) -> list[Article]:
        """Stories by id, in the order asked; ids that no longer exist are skipped."""
        if not ids:
            return []
        ids = list(dict.fromkeys(ids))
        marks = ",".join("?" * len(ids))
        rows: dict[int, Any] = {}
        async with self.read.execute(
            "SELECT a.id, a.link, a.title, a.excerpt, a.body, a.published_at, a.amp_url, "
            "a.cdn_amp_url, a.original_url, a.quality, a.heat, a.is_published, p.name, p.domain, "
            f"a.images, a.secured, a.source FROM articles a LEFT JOIN providers p ON p.id = a.provider_id "
            f"WHERE a.id IN ({marks})",
            ids,
        ) as cur:
            for r in await cur.fetchall():
                rows[r[0]] = r
        topics: dict[int, list[str]] = {}
        async with self.read.execute(
            "SELECT at.article_id, t.name FROM article_topics at JOIN topics t ON t.id = at.topic_id "
            f"WHERE at.article_id IN ({marks}) ORDER BY at.article_id, at.position",
            ids,
        ) as cur:
            for aid, name in await cur.fetchall():
                topics.setdefault(aid, []).append(name)
        related: dict[int, list[Related]] = {}
        async with self.read.execute(
            "SELECT article_id, link, title, excerpt, published_at, provider_name, provider_domain, "
            f"quality, amp_url, cdn_amp_url, images FROM related WHERE article_id IN ({marks}) "
            "ORDER BY article_id, position",
            ids,
        ) as cur:
            for r in await cur.fetchall():
                related.setdefault(r[0], []).append(
                    Related(
                        title=r[2],
                        url=r[1],
                        excerpt=r[3],
                        published=_dt(r[4]),
                        provider=Provider(r[5], r[6] or "") if r[5] else None,
                        quality=r[7],
                        amp_url=r[8],
                        cdn_amp_url=r[9],
                        images=_images_from(r[10]),
                    )
                )
        out: list[Article] = []
        for aid in ids:
            r = rows.get(aid)
            if r is None:
                continue
            out.append(
                Article(
                    id=r[0],
                    url=r[1],
                    title=r[2],
                    excerpt=r[3],
                    body=r[4],
                    published=_dt(r[5]),
                    amp_url=r[6],
                    cdn_amp_url=r[7],
                    original_url=r[8],
                    quality=r[9],
                    heat=r[10],
                    is_published=None if r[11] is None else bool(r[11]),
                    provider=Provider(r[12], r[13] or "") if r[12] is not None else None,
                    topics=tuple(topics.get(aid, ())),
                    images=_images_from(r[14]),
                    related=tuple(related.get(aid, ())),
                    secured=r[15],
                    source=r[16],
                )
            )
        return out

    async def get_article(self, article_id: int) -> Article | None:
        found = await self.get_articles([article_id])
        return found[0] if found else None

    async def ids_by_url(self, urls: Iterable[str]) -> dict[str, int]:
        """canonical URL → id, for the URLs that are stored."""
        keys = list({canonical_url(u) for u in urls})
        out: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            async with self.read.execute(
                f"SELECT url, id FROM articles WHERE url IN ({','.join('?' * len(part))})", part
            ) as cur:
                out.update({u: aid for u, aid in await cur.fetchall()})
        return out

    async def stored_urls(self, urls: Iterable[str]) -> set[str]:
        """The canonical forms of those `urls` that are stories in the store."""
        return set(await self.ids_by_url(urls))

    async def topics(self) -> list[tuple[str, int]]:
        """(topic, story count), most stories first."""
        async with self.read.execute(
            "SELECT t.name, count(at.article_id) AS n FROM topics t "
            "JOIN article_topics at ON at.topic_id = t.id GROUP BY t.id ORDER BY n DESC, t.name"
        ) as cur:
            return [(name, n) for name, n in await cur.fetchall()]

    async def latest_ids(self, *, topic: str | None = None, limit: int = 10) -> list[int]:
        """Newest stories first, optionally of one topic (exact, case-insensitive)."""
        if topic:
            q = (
                "SELECT a.id FROM articles a JOIN article_topics at ON at.article_id = a.id "
                "JOIN topics t ON t.id = at.topic_id WHERE t.key = ? "
                "ORDER BY a.published_ts IS NULL, a.published_ts DESC, a.id DESC LIMIT ?"
            )
            args: tuple[Any, ...] = (topic.casefold(), limit)
        else:
            q = (
                "SELECT id FROM articles ORDER BY published_ts IS NULL, published_ts DESC, "
                "id DESC LIMIT ?"
            )
            args = (limit,)
        async with self.read.execute(q, args) as cur:
            return [aid for (aid,) in await cur.fetchall()]

    async def stats(self) -> dict[str, Any]:
        async def one(q: str) -> Any:
            async with self.read.execute(q) as cur:
                row = await cur.fetchone()
            return row[0] if row else None

        db_bytes = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                db_bytes += os.path.getsize(str(self.path) + suffix)
        return {
            "stories": await one("SELECT count(*) FROM articles"),
            "topics": await one(
                "SELECT count(*) FROM topics WHERE id IN (SELECT topic_id FROM article_topics)"
            ),
            "providers": await one(
                "SELECT count(*) FROM providers WHERE id IN (SELECT provider_id FROM articles)"
            ),
            "related": await one("SELECT count(*) FROM related"),
            "newest": await one("SELECT max(published_at) FROM articles"),
            "db_bytes": db_bytes,
        }


_ROW_COLUMNS = (
    "link",
    "title",
    "excerpt",
    "body",
    "published_at",
    "published_ts",
    "amp_url",
    "cdn_amp_url",
    "original_url",
    "quality",
    "heat",
    "is_published",
    "images",
    "secured",
    "source",
)
_RELATED_COLUMNS = (
    "url",
    "link",
    "title",
    "excerpt",
    "published_at",
    "provider_name",
    "provider_domain",
    "quality",
    "amp_url",
    "cdn_amp_url",
    "images",
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A story as the rows the store writes; cheap to pickle between processes."""

    url: str  # canonical
    content_hash: str
    row: tuple[Any, ...]  # values for _ROW_COLUMNS
    provider: tuple[str, str] | None
    topics: tuple[str, ...]
    related: tuple[tuple[Any, ...], ...]  # values for _RELATED_COLUMNS
    fts: tuple[str, str, str, str, str]


def prepare(a: Article) -> Prepared:
    """Everything about a story that can be computed without the database."""
    return Prepared(
        url=a.canonical_url,
        content_hash=a.content_hash(),
        row=(
            a.url,
            a.title,
            a.excerpt,
            a.body,
            _iso(a.published),
            a.published.timestamp() if a.published else None,
            a.amp_url,
            a.cdn_amp_url,
            a.original_url,
            a.quality,
            a.heat,
            None if a.is_published is None else int(a.is_published),
            _images_json(a.images),
            a.secured,
            a.source,
        ),
        provider=(a.provider.name, a.provider.domain) if a.provider else None,
        topics=a.topics,
        related=tuple(
            (
                canonical_url(r.url),
                r.url,
                r.title,
                r.excerpt,
                _iso(r.published),
                r.provider.name if r.provider else None,
                r.provider.domain if r.provider else None,
                r.quality,
                r.amp_url,
                r.cdn_amp_url,
                _images_json(r.images),
            )
            for r in a.related
        ),
        fts=fts_columns(a),
    )


def fts_columns(a: Article) -> tuple[str, str, str, str, str]:
    """The text the full-text index holds for a story: title, topics, provider, excerpt, related."""
    provider = f"{a.provider.name} {a.provider.domain}" if a.provider else ""
    excerpt = a.excerpt or a.body[:1000]
    related = " \n".join(f"{r.title} {r.provider.name if r.provider else ''}" for r in a.related)
    return a.title, " \n".join(a.topics), provider, excerpt, related


async def _existing(conn: aiosqlite.Connection, urls: Sequence[str]) -> dict[str, tuple[int, str]]:
    """canonical url → (id, content hash) for the stored ones."""
    out: dict[str, tuple[int, str]] = {}
    for i in range(0, len(urls), 500):
        part = urls[i : i + 500]
        q = f"SELECT url, id, content_hash FROM articles WHERE url IN ({','.join('?' * len(part))})"
        async with conn.execute(q, part) as cur:
            for url, aid, h in await cur.fetchall():
                out[url] = (aid, h)
    return out


async def _provider_ids(
    conn: aiosqlite.Connection, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    if not wanted:
        return {}
    await conn.executemany(
        "INSERT OR IGNORE INTO providers (name, domain) VALUES (?, ?)", sorted(wanted)
    )
    out: dict[tuple[str, str], int] = {}
    names = sorted({name for name, _ in wanted})
    for i in range(0, len(names), 500):
        part = names[i : i + 500]
        async with conn.execute(
            f"SELECT id, name, domain FROM providers WHERE name IN ({','.join('?' * len(part))})",
            part,
        ) as cur:
            for pid, name, domain in await cur.fetchall():
                if (name, domain) in wanted:
                    out[(name, domain)] = pid
    return out


async def _topic_ids(conn: aiosqlite.Connection, items: Iterable[Prepared]) -> dict[str, int]:
    wanted: dict[str, str] = {}
    for p in items:
        for t in p.topics:
            wanted.setdefault(t.casefold(), t)
    if not wanted:
        return {}
    await conn.executemany(
        "INSERT OR IGNORE INTO topics (key, name) VALUES (?, ?)", sorted(wanted.items())
    )
    out: dict[str, int] = {}
    keys = list(wanted)
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        async with conn.execute(
            f"SELECT key, id FROM topics WHERE key IN ({','.join('?' * len(part))})", part
        ) as cur:
            out.update({k: tid for k, tid in await cur.fetchall()})
    return out


def _split_sql(script: str) -> list[str]:
    """Statements of a migration script (no ';' or '--' inside its literals)."""
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [stmt.strip() for stmt in code.split(";") if stmt.strip()]
