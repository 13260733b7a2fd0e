"""The SQLite schema: numbered migrations, and opening a file safely at the current version.

`PRAGMA user_version` holds the version of a file. Each MIGRATIONS entry
takes a file from version N-1 to N; a shipped entry is never edited, so a
file written by any release opens unchanged (only newer entries run on it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from bot.core.store.errors import StoreError

SCHEMA_VERSION = 6

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
    # 3: where each story came from, for per-server visibility (see store.types.Audience).
    # A story without rows here is the operator's (the record folder) and serves every server.
    """
    CREATE TABLE story_sources (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        source     TEXT NOT NULL,   -- 'folder', 'feed:<id>', ...
        guild_id   INTEGER,         -- the server that owns the source; NULL: the operator
        PRIMARY KEY (article_id, source)
    ) WITHOUT ROWID;
    CREATE INDEX story_sources_guild ON story_sources (guild_id, article_id);
    """,
    # 4 (issue 15): how alerts land. Per-subscription options; outbox rows that a cap
    # folded into a digest, the hash of the text a message showed (to notice an
    # edited story) and edits owed; crossposts booked per channel (Discord allows 10
    # an hour) and the thread each message starts, both written before the call.
    """
    ALTER TABLE subscriptions ADD COLUMN mention_role_id INTEGER;
    ALTER TABLE subscriptions ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscriptions ADD COLUMN publish INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscriptions ADD COLUMN max_per_hour INTEGER;
    ALTER TABLE subscriptions ADD COLUMN digest TEXT NOT NULL DEFAULT 'off';
    ALTER TABLE subscriptions ADD COLUMN digest_hour INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscriptions ADD COLUMN on_update TEXT NOT NULL DEFAULT 'ignore';
    ALTER TABLE outbox ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN text_hash TEXT;
    ALTER TABLE outbox ADD COLUMN edit_pending INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX outbox_subscription_sent ON outbox (subscription_id, sent_at);
    CREATE INDEX outbox_article ON outbox (article_id, state);
    CREATE INDEX outbox_edits ON outbox (message_id) WHERE edit_pending = 1;
    CREATE TABLE crossposts (
        nonce      TEXT PRIMARY KEY,    -- the message booked
        channel_id INTEGER NOT NULL,
        booked_at  REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX crossposts_channel ON crossposts (channel_id, booked_at);
    CREATE TABLE alert_threads (
        nonce      TEXT PRIMARY KEY,    -- the message that starts it
        target     TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 5 (issue 14): RSS/Atom feeds: the feeds with their polling state, and what each one
    # last carried (an unchanged entry is not rewritten; the first poll stores silently).
    """
    CREATE TABLE feeds (
        id            INTEGER PRIMARY KEY,
        url           TEXT NOT NULL,
        guild_id      INTEGER,                 -- the server that added it; NULL: the operator
        added_by      INTEGER,                 -- Discord user id, when added from Discord
        title         TEXT NOT NULL DEFAULT '',
        topics        TEXT NOT NULL DEFAULT '[]',  -- JSON list, added to every entry's
        every         REAL NOT NULL,           -- seconds between fetches
        state         TEXT NOT NULL DEFAULT 'new'
                      CHECK (state IN ('new', 'ok', 'error', 'paused', 'disabled', 'refused')),
        reason        TEXT,
        etag          TEXT,
        last_modified TEXT,
        body_hash     TEXT,                    -- of the last body parsed
        failures      INTEGER NOT NULL DEFAULT 0,  -- consecutive failed fetches
        gone          INTEGER NOT NULL DEFAULT 0,  -- consecutive 404/410 answers
        polls         INTEGER NOT NULL DEFAULT 0,  -- fetches that stored entries
        last_fetch    REAL,
        next_fetch    REAL,
        created_at    REAL NOT NULL
    );
    CREATE UNIQUE INDEX feeds_owner_url ON feeds (coalesce(guild_id, 0), url);
    CREATE INDEX feeds_due ON feeds (state, next_fetch);

    CREATE TABLE feed_entries (
        feed_id     INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,             -- the entry's canonical URL
        entry_hash  TEXT NOT NULL,
        article_id  INTEGER REFERENCES articles(id) ON DELETE SET NULL,
        silent      INTEGER NOT NULL DEFAULT 0, -- stored by the feed's first poll: never alerts
        PRIMARY KEY (feed_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX feed_entries_article ON feed_entries (article_id);
    CREATE INDEX story_sources_source ON story_sources (source);
    """,
    # 6 (issue 12): sentence vectors per story and model. `content_hash` is the story's
    # at embedding time: a story edited since then awaits a new vector.
    """
    CREATE TABLE embeddings (
        article_id   INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        model        TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        vector       BLOB NOT NULL,   -- layout: bot.core.embeddings.vectors
        PRIMARY KEY (article_id, model)
    );  -- a rowid table: rows of about a kilobyte are what WITHOUT ROWID is not for
    CREATE INDEX embeddings_model ON embeddings (model, article_id);
    """,
]


def script_statements(script: str) -> list[str]:
    """Statements of a migration script (no ';' or '--' inside its literals)."""
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [stmt.strip() for stmt in code.split(";") if stmt.strip()]


async def migrate(path: Path, conn: aiosqlite.Connection) -> None:
    """Bring the file behind `conn` to SCHEMA_VERSION in WAL mode, or refuse it.

    Refused, with the file untouched: a newer schema, a file that is not
    SQLite, an SQLite file of another program. A failed step leaves the
    previous version.
    """
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
            for stmt in script_statements(MIGRATIONS[target - 1]):
                await conn.execute(stmt)
            await conn.execute(f"PRAGMA user_version = {target}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
