"""PostgreSQL queries of the outbox area: matching stories to subscriptions, and the ledger.

Several processes may dispatch from one database. Inside a transaction,
`pending_for` locks the rows it returns (`FOR UPDATE … SKIP LOCKED`): rows
another process is planning right now are simply not seen, so no two
transactions plan the same row; `claim` skips locked rows too, and says which
rows it claimed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from bot.core.shards import ALL_SHARDS, ShardSpec, target_guild
from bot.core.store.postgres.connection import ConnDb, Db, count_of
from bot.core.store.rows import pending_edits_from_rows, pending_from_row
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
WHERE o.state = 'pending' AND s.status = 'active' AND s.target = $1
ORDER BY o.id
"""

# `matches()` for the subscriptions without keywords, in one statement (see the SQLite
# driver's twin; tests/core/alerts/test_alerts.py checks that they agree).
_MATCH_SQL = """
INSERT INTO outbox (subscription_id, article_id, created_at)
SELECT s.id, a.id, $2
FROM unnest($1::bigint[]) AS j(id)
JOIN articles a ON a.id = j.id
JOIN article_topics at ON at.article_id = a.id
JOIN topics t ON t.id = at.topic_id
JOIN subscriptions s ON s.topic_key = t.key AND s.status = 'active'
WHERE s.keywords = ''
  AND a.published_ts >= $3 AND a.published_ts <= $4
  AND a.first_stored_at >= s.created_at
  AND (s.min_quality <= 0 OR a.quality >= s.min_quality)
  AND (NOT EXISTS (SELECT 1 FROM story_sources ss WHERE ss.article_id = a.id)
       OR EXISTS (SELECT 1 FROM story_sources ss WHERE ss.article_id = a.id
                  AND (ss.guild_id IS NULL OR ss.guild_id = s.guild_id)))
ON CONFLICT DO NOTHING
"""


class OutboxQueries:
    """`OutboxReads` over `_db` (the pool, or a transaction's connection)."""

    _db: Db
    _in_transaction: bool = False

    async def pending_targets(self, *, shards: ShardSpec = ALL_SHARDS) -> dict[str, float]:
        rows = await self._db.fetch(
            "SELECT s.target, min(s.guild_id) AS guild_id, min(o.next_attempt_at) AS due "
            "FROM outbox o JOIN subscriptions s ON s.id = o.subscription_id "
            "WHERE o.state = 'pending' AND s.status = 'active' GROUP BY s.target"
        )
        return {
            r["target"]: float(r["due"])
            for r in rows
            if shards.owns_guild(target_guild(r["target"], r["guild_id"]))
        }

    async def pending_for(self, target: str) -> list[PendingAlert]:
        sql = _PENDING_SQL
        if self._in_transaction:
            # Rows another process's transaction is planning are left to it.
            sql += " FOR UPDATE OF o SKIP LOCKED"
        rows = await self._db.fetch(sql, target)
        return [pending_from_row(r) for r in rows]

    async def delivered_to(self, target: str, article_ids: Sequence[int]) -> dict[int, int | None]:
        if not article_ids:
            return {}
        rows = await self._db.fetch(
            "SELECT o.article_id, o.message_id FROM outbox o "
            "JOIN subscriptions s ON s.id = o.subscription_id "
            "WHERE o.state = 'sent' AND s.target = $1 AND o.article_id = ANY($2::bigint[]) "
            "ORDER BY o.id",
            target,
            list(article_ids),
        )
        return {r["article_id"]: r["message_id"] for r in rows}

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._db.fetch("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}

    async def outbox_entry(self, subscription_id: int, article_id: int) -> OutboxEntry | None:
        r = await self._db.fetchrow(
            "SELECT id, state, created_at, sent_at, message_id, last_error, next_attempt_at, "
            "folded FROM outbox WHERE subscription_id = $1 AND article_id = $2",
            subscription_id,
            article_id,
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
        rows = await self._db.fetch(
            "SELECT min(sent_at) AS at FROM outbox WHERE subscription_id = $1 "
            "AND state = 'sent' AND sent_at > $2 GROUP BY coalesce(message_id, -id) ORDER BY at",
            subscription_id,
            float(since),
        )
        return [float(r["at"]) for r in rows]

    async def crossposts_since(self, channel_id: int, since: float) -> list[float]:
        rows = await self._db.fetch(
            "SELECT booked_at FROM crossposts WHERE channel_id = $1 AND booked_at > $2 "
            "ORDER BY booked_at",
            channel_id,
            float(since),
        )
        return [float(r["booked_at"]) for r in rows]

    async def thread_intent(self, nonce: str) -> str | None:
        name = await self._db.fetchval("SELECT name FROM alert_threads WHERE nonce = $1", nonce)
        return str(name) if name is not None else None

    async def pending_edits(self, *, shards: ShardSpec = ALL_SHARDS) -> list[PendingEdit]:
        # Every story of a message that holds a changed one: the edit re-renders it whole.
        rows = await self._db.fetch(
            "SELECT o.id, o.message_id, o.article_id, s.target, s.guild_id, s.topic, s.keywords "
            "FROM outbox o JOIN subscriptions s ON s.id = o.subscription_id "
            "WHERE o.state = 'sent' AND o.message_id IN (SELECT message_id FROM outbox "
            "WHERE edit_pending = 1 AND state = 'sent' AND message_id IS NOT NULL) "
            "AND s.status = 'active' ORDER BY o.message_id, o.id"
        )
        return pending_edits_from_rows(rows, shards)

    async def story_facts(
        self,
        ids: Sequence[int],
        *,
        since_ts: float | None,
        topic_keys: Collection[str] | None = None,
    ) -> list[StoryFacts]:
        if not ids:
            return []
        # With `topic_keys`, only stories of those topics are read at all: most of
        # a big load is of topics nobody subscribed to.
        topics: dict[int, set[str]] = {}
        rows = await self._db.fetch(
            "SELECT at.article_id, t.key FROM article_topics at "
            "JOIN topics t ON t.id = at.topic_id WHERE at.article_id = ANY($1::bigint[])",
            list(ids),
        )
        for r in rows:
            topics.setdefault(r["article_id"], set()).add(r["key"])
        part = list(dict.fromkeys(ids))
        if topic_keys is not None:
            wanted = set(topic_keys)
            part = [aid for aid in part if not topics.get(aid, set()).isdisjoint(wanted)]
            if not part:
                return []
        visible = await self._visible_to(part)
        # No floor: undated stories too ("why" must see them).
        rows = await self._db.fetch(
            "SELECT id, title, excerpt, quality, published_ts, first_stored_at FROM articles "
            "WHERE id = ANY($1::bigint[]) AND ($2::float8 IS NULL OR published_ts >= $2) "
            "ORDER BY id",
            part,
            since_ts,
        )
        return [
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
        ]

    async def _visible_to(self, ids: Sequence[int]) -> dict[int, frozenset[int]]:
        """id → the servers that may see it, for those of `ids` seen by some servers only."""
        rows = await self._db.fetch(
            "SELECT article_id, array_agg(guild_id) AS guilds FROM story_sources "
            "WHERE article_id = ANY($1::bigint[]) GROUP BY article_id "
            "HAVING bool_and(guild_id IS NOT NULL)",
            list(ids),
        )
        return {r["article_id"]: frozenset(int(g) for g in r["guilds"]) for r in rows}


class MatchingQueries:
    """`MatchingWrites` on `_db` (the transaction's connection)."""

    _db: ConnDb

    async def match_plain_subscriptions(
        self, article_ids: Sequence[int], *, now: float, oldest: float, newest: float
    ) -> int:
        if not article_ids:
            return 0
        status = await self._db.execute(
            _MATCH_SQL, list(article_ids), float(now), float(oldest), float(newest)
        )
        return count_of(status)

    async def active_rules(
        self, *, with_keywords: bool | None = None
    ) -> dict[str, list[SubscriptionRule]]:
        where = "status = 'active'"
        if with_keywords is not None:
            where += " AND keywords != ''" if with_keywords else " AND keywords = ''"
        rows = await self._db.fetch(
            "SELECT id, topic_key, keywords, min_quality, created_at, guild_id "
            f"FROM subscriptions WHERE {where} ORDER BY id"
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
        status = await self._db.execute(
            "UPDATE outbox o SET edit_pending = 1 FROM unnest($1::bigint[], $2::text[]) "
            "AS h(article_id, text_hash) WHERE o.article_id = h.article_id "
            "AND o.state = 'sent' AND o.message_id IS NOT NULL AND o.text_hash IS NOT NULL "
            "AND o.text_hash != h.text_hash "
            "AND o.subscription_id IN (SELECT id FROM subscriptions WHERE on_update = 'edit')",
            list(text_hashes),
            list(text_hashes.values()),
        )
        return count_of(status)

    async def add_outbox_rows(self, pairs: Sequence[tuple[int, int]], *, now: float) -> int:
        if not pairs:
            return 0
        unique = list(dict.fromkeys(pairs))
        status = await self._db.execute(
            "INSERT INTO outbox (subscription_id, article_id, created_at) "
            "SELECT s, a, $3 FROM unnest($1::bigint[], $2::bigint[]) AS p(s, a) "
            "ON CONFLICT DO NOTHING",
            [s for s, _ in unique],
            [a for _, a in unique],
            float(now),
        )
        return count_of(status)


class OutboxWriteQueries:
    """`OutboxWrites` on `_db` (the transaction's connection)."""

    _db: ConnDb

    async def claim(self, row_ids: Sequence[int], nonce: str) -> list[int]:
        if not row_ids:
            return []
        # SKIP LOCKED: a row another process's transaction holds is not claimed here
        # (nor waited for); the caller sends only the rows it got.
        rows = await self._db.fetch(
            "UPDATE outbox SET batch = $1 WHERE id IN (SELECT id FROM outbox "
            "WHERE id = ANY($2::bigint[]) AND state = 'pending' FOR UPDATE SKIP LOCKED) "
            "RETURNING id",
            nonce,
            list(row_ids),
        )
        claimed = {r["id"] for r in rows}
        return [i for i in row_ids if i in claimed]

    async def release(self, row_ids: Sequence[int], *, error: str | None = None) -> None:
        # No error given: the row keeps the last one it had.
        await self._db.execute(
            "UPDATE outbox SET batch = NULL, last_error = coalesce($1, last_error) "
            "WHERE id = ANY($2::bigint[]) AND state = 'pending'",
            error,
            list(row_ids),
        )

    async def mark_sent(
        self,
        row_ids: Sequence[int],
        *,
        message_id: int | None,
        now: float,
        text_hashes: Mapping[int, str] | None = None,
    ) -> None:
        await self._db.execute(
            "UPDATE outbox SET state = 'sent', sent_at = $1, message_id = $2, last_error = NULL "
            "WHERE id = ANY($3::bigint[]) AND state = 'pending'",
            float(now),
            message_id,
            list(row_ids),
        )
        if text_hashes:
            await self._set_text_hashes(row_ids, text_hashes)

    async def _set_text_hashes(
        self, row_ids: Sequence[int], text_hashes: Mapping[int, str]
    ) -> None:
        await self._db.execute(
            "UPDATE outbox o SET text_hash = h.text_hash "
            "FROM unnest($1::bigint[], $2::text[]) AS h(article_id, text_hash) "
            "WHERE o.article_id = h.article_id AND o.id = ANY($3::bigint[])",
            list(text_hashes),
            list(text_hashes.values()),
            list(row_ids),
        )

    async def fold(self, row_ids: Sequence[int], *, until: float) -> None:
        await self._db.execute(
            "UPDATE outbox SET folded = 1, batch = NULL, next_attempt_at = $1 "
            "WHERE id = ANY($2::bigint[]) AND state = 'pending'",
            float(until),
            list(row_ids),
        )

    async def book_crosspost(
        self, channel_id: int, nonce: str, *, now: float, limit: int, window: float
    ) -> bool:
        if await self._db.fetchval("SELECT 1 FROM crossposts WHERE nonce = $1", nonce):
            return True
        # Bookings of one channel counted under a lock of that channel: two processes
        # booking at once must not both take the last slot.
        await self._db.execute(
            "SELECT pg_advisory_xact_lock(hashtext('crosspost'), hashtext($1::text))",
            str(channel_id),
        )
        status = await self._db.execute(
            "INSERT INTO crossposts (nonce, channel_id, booked_at) SELECT $1, $2, $3 "
            "WHERE (SELECT count(*) FROM crossposts WHERE channel_id = $2 AND booked_at > $4) < $5 "
            "ON CONFLICT DO NOTHING",
            nonce,
            channel_id,
            float(now),
            float(now - window),
            limit,
        )
        return count_of(status) > 0

    async def unbook_crosspost(self, nonce: str) -> None:
        await self._db.execute("DELETE FROM crossposts WHERE nonce = $1", nonce)

    async def record_thread_intent(self, nonce: str, target: str, name: str, *, now: float) -> None:
        await self._db.execute(
            "INSERT INTO alert_threads (nonce, target, name, created_at) VALUES ($1,$2,$3,$4) "
            "ON CONFLICT DO NOTHING",
            nonce,
            target,
            name,
            float(now),
        )

    async def edits_done(self, row_ids: Sequence[int], text_hashes: Mapping[int, str]) -> None:
        await self._db.execute(
            "UPDATE outbox SET edit_pending = 0 WHERE id = ANY($1::bigint[])", list(row_ids)
        )
        if text_hashes:
            await self._set_text_hashes(row_ids, text_hashes)

    async def defer(
        self, row_ids: Sequence[int], *, until: float, attempts: int, error: str
    ) -> None:
        await self._db.execute(
            "UPDATE outbox SET next_attempt_at = $1, attempts = $2, last_error = $3 "
            "WHERE id = ANY($4::bigint[]) AND state = 'pending'",
            float(until),
            attempts,
            error[:500],
            list(row_ids),
        )

    async def mark_failed(self, row_ids: Sequence[int], *, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET state = 'failed', last_error = $1, attempts = attempts + 1 "
            "WHERE id = ANY($2::bigint[]) AND state = 'pending'",
            error[:500],
            list(row_ids),
        )
