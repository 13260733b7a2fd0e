"""SQLite queries of the outbox area: matching stories to subscriptions, and the ledger."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence

import aiosqlite

from bot.core.shards import ALL_SHARDS, ShardSpec, target_guild
from bot.core.store.rows import pending_edits_from_rows, pending_from_row
from bot.core.store.sqlite.connection import chunks, fetch_all, fetch_one, marks
from bot.core.store.types import (
    OutboxEntry,
    PendingAlert,
    PendingEdit,
    StoryFacts,
    SubscriptionRule,
)

_PENDING_SQL = """
SELECT o.id, o.subscription_id, o.article_id, s.target, s.topic, s.keywords, a.published_ts,
       o.batch, o.attempts, o.next_attempt_at, o.created_at, o.folded,
       s.mention_role_id, s.thread, s.publish, s.max_per_hour, s.digest, s.digest_hour,
       s.on_update
FROM outbox o
JOIN subscriptions s ON s.id = o.subscription_id
JOIN articles a ON a.id = o.article_id
WHERE o.state = 'pending' AND s.status = 'active' AND s.target = ?
"""

# `matches()` for the subscriptions without keywords, done by SQLite in one
# statement: a load can owe tens of thousands of rows (1,000 subscriptions ×
# 500 stories → 30,000), and matching and inserting them from Python took
# 0.3 s beside a 1.1 s load (bench/alerts.py). tests/core/alerts/test_alerts.py
# checks that this and `matches()` agree.
_MATCH_SQL = """
INSERT OR IGNORE INTO outbox (subscription_id, article_id, created_at)
SELECT s.id, a.id, :now
FROM json_each(:ids) AS j
JOIN articles a ON a.id = j.value
JOIN article_topics at ON at.article_id = a.id
JOIN topics t ON t.id = at.topic_id
JOIN subscriptions s ON s.topic_key = t.key AND s.status = 'active'
WHERE s.keywords = ''
  AND a.published_ts >= :oldest AND a.published_ts <= :newest
  AND a.first_stored_at >= s.created_at
  AND (s.min_quality <= 0 OR a.quality >= s.min_quality)
  AND (NOT EXISTS (SELECT 1 FROM story_sources ss WHERE ss.article_id = a.id)
       OR EXISTS (SELECT 1 FROM story_sources ss WHERE ss.article_id = a.id
                  AND (ss.guild_id IS NULL OR ss.guild_id = s.guild_id)))
"""


class OutboxQueries:
    """`OutboxReads` over a connection (`_conn`)."""

    _conn: aiosqlite.Connection

    async def pending_targets(self, *, shards: ShardSpec = ALL_SHARDS) -> dict[str, float]:
        rows = await fetch_all(
            self._conn,
            "SELECT s.target, min(s.guild_id) AS guild_id, min(o.next_attempt_at) AS due "
            "FROM outbox o JOIN subscriptions s ON s.id = o.subscription_id "
            "WHERE o.state = 'pending' AND s.status = 'active' GROUP BY s.target",
        )
        return {
            r["target"]: float(r["due"])
            for r in rows
            if shards.owns_guild(target_guild(r["target"], r["guild_id"]))
        }

    async def pending_for(self, target: str) -> list[PendingAlert]:
        rows = await fetch_all(self._conn, _PENDING_SQL, (target,))
        return [pending_from_row(r) for r in rows]

    async def delivered_to(self, target: str, article_ids: Sequence[int]) -> dict[int, int | None]:
        if not article_ids:
            return {}
        rows = await fetch_all(
            self._conn,
            "SELECT o.article_id, o.message_id FROM outbox o "
            "JOIN subscriptions s ON s.id = o.subscription_id "
            "WHERE o.state = 'sent' AND s.target = ? "
            f"AND o.article_id IN ({marks(len(article_ids))})",
            [target, *article_ids],
        )
        return {r["article_id"]: r["message_id"] for r in rows}

    async def outbox_counts(self) -> dict[str, int]:
        rows = await fetch_all(self._conn, "SELECT state, count(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}

    async def outbox_entry(self, subscription_id: int, article_id: int) -> OutboxEntry | None:
        r = await fetch_one(
            self._conn,
            "SELECT id, state, created_at, sent_at, message_id, last_error, next_attempt_at, "
            "folded FROM outbox WHERE subscription_id = ? AND article_id = ?",
            (subscription_id, article_id),
        )
        if r is None:
            return None
        return OutboxEntry(
            row_id=r["id"],
            state=r["state"],
            created_at=r["created_at"],
            sent_at=r["sent_at"],
            message_id=r["message_id"],
            last_error=r["last_error"],
            next_attempt_at=r["next_attempt_at"],
            folded=bool(r["folded"]),
        )

    async def sent_messages_since(self, subscription_id: int, since: float) -> list[float]:
        # A message that carried several of its stories counts once.
        rows = await fetch_all(
            self._conn,
            "SELECT min(sent_at) AS at FROM outbox WHERE subscription_id = ? "
            "AND state = 'sent' AND sent_at > ? GROUP BY coalesce(message_id, -id) ORDER BY at",
            (subscription_id, since),
        )
        return [float(r["at"]) for r in rows]

    async def crossposts_since(self, channel_id: int, since: float) -> list[float]:
        rows = await fetch_all(
            self._conn,
            "SELECT booked_at FROM crossposts WHERE channel_id = ? AND booked_at > ? "
            "ORDER BY booked_at",
            (channel_id, since),
        )
        return [float(r["booked_at"]) for r in rows]

    async def thread_intent(self, nonce: str) -> str | None:
        r = await fetch_one(self._conn, "SELECT name FROM alert_threads WHERE nonce = ?", (nonce,))
        return str(r["name"]) if r else None

    async def pending_edits(self, *, shards: ShardSpec = ALL_SHARDS) -> list[PendingEdit]:
        # Every story of a message that holds a changed one: the edit re-renders it whole.
        rows = await fetch_all(
            self._conn,
            "SELECT o.id, o.message_id, o.article_id, s.target, s.guild_id, s.topic, s.keywords "
            "FROM outbox o JOIN subscriptions s ON s.id = o.subscription_id "
            "WHERE o.state = 'sent' AND o.message_id IN (SELECT message_id FROM outbox "
            "WHERE edit_pending = 1 AND state = 'sent' AND message_id IS NOT NULL) "
            "AND s.status = 'active' ORDER BY o.message_id, o.id",
        )
        return pending_edits_from_rows(rows, shards)

    async def story_facts(
        self,
        ids: Sequence[int],
        *,
        since_ts: float | None,
        topic_keys: Collection[str] | None = None,
    ) -> list[StoryFacts]:
        # With `topic_keys`, only stories of those topics are read at all: most of
        # a big load is of topics nobody subscribed to.
        wanted = set(topic_keys) if topic_keys is not None else None
        out: list[StoryFacts] = []
        for part in chunks(ids):
            topics: dict[int, set[str]] = {}
            rows = await fetch_all(
                self._conn,
                "SELECT at.article_id, t.key FROM article_topics at "
                f"JOIN topics t ON t.id = at.topic_id WHERE at.article_id IN ({marks(len(part))})",
                part,
            )
            for r in rows:
                topics.setdefault(r["article_id"], set()).add(r["key"])
            if wanted is not None:
                part = [aid for aid, keys in topics.items() if not keys.isdisjoint(wanted)]
                if not part:
                    continue
            visible = await self._visible_to(part)
            # No floor: undated stories too ("why" must see them).
            rows = await fetch_all(
                self._conn,
                "SELECT id, title, excerpt, quality, published_ts, first_stored_at FROM articles "
                f"WHERE id IN ({marks(len(part))}) AND (? IS NULL OR published_ts >= ?)",
                [*part, since_ts, since_ts],
            )
            out.extend(
                StoryFacts(
                    id=r["id"],
                    title=r["title"],
                    excerpt=r["excerpt"],
                    quality=r["quality"],
                    published_ts=r["published_ts"],
                    first_stored_at=r["first_stored_at"],
                    topic_keys=frozenset(topics.get(r["id"], ())),
                    visible_to=visible.get(r["id"]),
                )
                for r in rows
            )
        return out

    async def _visible_to(self, ids: Sequence[int]) -> dict[int, frozenset[int]]:
        """id → the servers that may see it, for those of `ids` seen by some servers only."""
        rows = await fetch_all(
            self._conn,
            "SELECT article_id, group_concat(guild_id) AS guilds FROM story_sources "
            f"WHERE article_id IN ({marks(len(ids))}) GROUP BY article_id "
            "HAVING max(guild_id IS NULL) = 0",
            list(ids),
        )
        return {r["article_id"]: frozenset(int(g) for g in r["guilds"].split(",")) for r in rows}


class MatchingQueries:
    """`MatchingWrites` on a connection (`_conn`) inside a write transaction."""

    _conn: aiosqlite.Connection

    async def match_plain_subscriptions(
        self, article_ids: Sequence[int], *, now: float, oldest: float, newest: float
    ) -> int:
        if not article_ids:
            return 0
        # The statement's rowcount, not a total_changes difference: for this
        # INSERT … SELECT the latter was seen to over-count (45 for 41 rows).
        cur = await self._conn.execute(
            _MATCH_SQL,
            {"now": now, "ids": json.dumps(list(article_ids)), "oldest": oldest, "newest": newest},
        )
        written = max(cur.rowcount, 0)
        await cur.close()
        return written

    async def active_rules(
        self, *, with_keywords: bool | None = None
    ) -> dict[str, list[SubscriptionRule]]:
        where = "status = 'active'"
        if with_keywords is not None:
            where += " AND keywords != ''" if with_keywords else " AND keywords = ''"
        rows = await fetch_all(
            self._conn,
            "SELECT id, topic_key, keywords, min_quality, created_at, guild_id "
            f"FROM subscriptions WHERE {where}",
        )
        out: dict[str, list[SubscriptionRule]] = {}
        for r in rows:
            out.setdefault(r["topic_key"], []).append(
                SubscriptionRule(
                    id=r["id"],
                    topic_key=r["topic_key"],
                    keywords=tuple(r["keywords"].split()),
                    min_quality=r["min_quality"] or 0.0,
                    created_at=r["created_at"],
                    guild_id=r["guild_id"],
                )
            )
        return out

    async def request_edits(self, text_hashes: Mapping[int, str]) -> int:
        if not text_hashes:
            return 0
        cur = await self._conn.executemany(
            "UPDATE outbox SET edit_pending = 1 WHERE article_id = ? AND state = 'sent' "
            "AND message_id IS NOT NULL AND text_hash IS NOT NULL AND text_hash != ? "
            "AND subscription_id IN (SELECT id FROM subscriptions WHERE on_update = 'edit')",
            list(text_hashes.items()),
        )
        marked = max(cur.rowcount, 0)
        await cur.close()
        return marked

    async def add_outbox_rows(self, pairs: Sequence[tuple[int, int]], *, now: float) -> int:
        if not pairs:
            return 0
        cur = await self._conn.executemany(
            "INSERT OR IGNORE INTO outbox (subscription_id, article_id, created_at) VALUES (?,?,?)",
            [(sid, aid, now) for sid, aid in pairs],
        )
        written = max(cur.rowcount, 0)
        await cur.close()
        return written


class OutboxWriteQueries:
    """`OutboxWrites` on a connection (`_conn`) inside a write transaction."""

    _conn: aiosqlite.Connection

    async def claim(self, row_ids: Sequence[int], nonce: str) -> list[int]:
        if not row_ids:
            return []
        # One writer per file: every pending row asked for is claimed.
        pending = {
            r["id"]
            for part in chunks(list(row_ids))
            for r in await fetch_all(
                self._conn,
                f"SELECT id FROM outbox WHERE id IN ({marks(len(part))}) AND state = 'pending'",
                part,
            )
        }
        await self._conn.executemany(
            "UPDATE outbox SET batch = ? WHERE id = ? AND state = 'pending'",
            [(nonce, i) for i in row_ids],
        )
        return [i for i in row_ids if i in pending]

    async def release(self, row_ids: Sequence[int], *, error: str | None = None) -> None:
        # No error given: the row keeps the last one it had.
        await self._conn.executemany(
            "UPDATE outbox SET batch = NULL, last_error = coalesce(?, last_error) "
            "WHERE id = ? AND state = 'pending'",
            [(error, i) for i in row_ids],
        )

    async def mark_sent(
        self,
        row_ids: Sequence[int],
        *,
        message_id: int | None,
        now: float,
        text_hashes: Mapping[int, str] | None = None,
    ) -> None:
        await self._conn.executemany(
            "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, last_error = NULL "
            "WHERE id = ? AND state = 'pending'",
            [(now, message_id, i) for i in row_ids],
        )
        if text_hashes:
            await self._conn.executemany(
                "UPDATE outbox SET text_hash = ? WHERE article_id = ? "
                f"AND id IN ({marks(len(row_ids))})",
                [(h, aid, *row_ids) for aid, h in text_hashes.items()],
            )

    async def fold(self, row_ids: Sequence[int], *, until: float) -> None:
        await self._conn.executemany(
            "UPDATE outbox SET folded = 1, batch = NULL, next_attempt_at = ? "
            "WHERE id = ? AND state = 'pending'",
            [(until, i) for i in row_ids],
        )

    async def book_crosspost(
        self, channel_id: int, nonce: str, *, now: float, limit: int, window: float
    ) -> bool:
        if await fetch_one(self._conn, "SELECT 1 FROM crossposts WHERE nonce = ?", (nonce,)):
            return True
        cur = await self._conn.execute(
            "INSERT INTO crossposts (nonce, channel_id, booked_at) SELECT ?, ?, ? "
            "WHERE (SELECT count(*) FROM crossposts WHERE channel_id = ? AND booked_at > ?) < ?",
            (nonce, channel_id, now, channel_id, now - window, limit),
        )
        booked = cur.rowcount > 0
        await cur.close()
        return booked

    async def unbook_crosspost(self, nonce: str) -> None:
        await self._conn.execute("DELETE FROM crossposts WHERE nonce = ?", (nonce,))

    async def record_thread_intent(self, nonce: str, target: str, name: str, *, now: float) -> None:
        await self._conn.execute(
            "INSERT OR IGNORE INTO alert_threads (nonce, target, name, created_at) "
            "VALUES (?,?,?,?)",
            (nonce, target, name, now),
        )

    async def edits_done(self, row_ids: Sequence[int], text_hashes: Mapping[int, str]) -> None:
        await self._conn.executemany(
            "UPDATE outbox SET edit_pending = 0 WHERE id = ?", [(i,) for i in row_ids]
        )
        if text_hashes:
            await self._conn.executemany(
                "UPDATE outbox SET text_hash = ? WHERE article_id = ? "
                f"AND id IN ({marks(len(row_ids))})",
                [(h, aid, *row_ids) for aid, h in text_hashes.items()],
            )

    async def defer(
        self, row_ids: Sequence[int], *, until: float, attempts: int, error: str
    ) -> None:
        await self._conn.executemany(
            "UPDATE outbox SET next_attempt_at = ?, attempts = ?, last_error = ? "
            "WHERE id = ? AND state = 'pending'",
            [(until, attempts, error[:500], i) for i in row_ids],
        )

    async def mark_failed(self, row_ids: Sequence[int], *, error: str) -> None:
        await self._conn.executemany(
            "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1 "
            "WHERE id = ? AND state = 'pending'",
            [(error[:500], i) for i in row_ids],
        )
