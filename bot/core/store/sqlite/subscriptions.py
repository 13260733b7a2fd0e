"""SQLite queries of the subscriptions area."""

from __future__ import annotations

import aiosqlite

from bot.core.store.rows import OPTION_COLUMNS, option_values, subscription_from_row
from bot.core.store.sqlite.connection import fetch_all, fetch_one
from bot.core.store.types import PLAIN_OPTIONS, AlertOptions, Subscription, SubscriptionStatus

_SELECT = """
SELECT id, guild_id, channel_id, user_id, target, topic_key, topic, keywords, min_quality,
       created_at, status, status_reason, mention_role_id, thread, publish, max_per_hour,
       digest, digest_hour, on_update
FROM subscriptions
"""


class SubscriptionQueries:
    """`SubscriptionReads` over a connection (`_conn`)."""

    _conn: aiosqlite.Connection

    async def _one(self, where: str, args: tuple[object, ...]) -> Subscription | None:
        row = await fetch_one(self._conn, f"{_SELECT} WHERE {where}", args)
        return subscription_from_row(row) if row else None

    async def _count(self, where: str, args: tuple[object, ...]) -> int:
        row = await fetch_one(
            self._conn, f"SELECT count(*) AS n FROM subscriptions WHERE {where}", args
        )
        return int(row["n"]) if row else 0

    async def subscription(self, subscription_id: int) -> Subscription | None:
        return await self._one("id = ?", (subscription_id,))

    async def find_subscription(
        self, *, target: str, topic_key: str, keywords: tuple[str, ...], min_quality: float
    ) -> Subscription | None:
        return await self._one(
            "target = ? AND topic_key = ? AND keywords = ? AND min_quality = ?",
            (target, topic_key, " ".join(keywords), min_quality),
        )

    async def guild_subscriptions(self, guild_id: int) -> list[Subscription]:
        rows = await fetch_all(
            self._conn,
            f"{_SELECT} WHERE guild_id = ? AND channel_id IS NOT NULL ORDER BY id",
            (guild_id,),
        )
        return [subscription_from_row(r) for r in rows]

    async def user_subscriptions(self, user_id: int) -> list[Subscription]:
        rows = await fetch_all(
            self._conn, f"{_SELECT} WHERE target = ? ORDER BY id", (f"user:{user_id}",)
        )
        return [subscription_from_row(r) for r in rows]

    async def count_channel_subscriptions(self, guild_id: int | None) -> int:
        return await self._count(
            "guild_id IS ? AND channel_id IS NOT NULL AND status != 'disabled'", (guild_id,)
        )

    async def count_target_subscriptions(self, target: str) -> int:
        return await self._count("target = ? AND status != 'disabled'", (target,))

    async def subscription_counts(self) -> dict[str, int]:
        rows = await fetch_all(
            self._conn, "SELECT status, count(*) AS n FROM subscriptions GROUP BY status"
        )
        return {r["status"]: r["n"] for r in rows}


class SubscriptionWriteQueries:
    """`SubscriptionWrites` on a connection (`_conn`) inside a write transaction."""

    _conn: aiosqlite.Connection

    async def add_subscription(
        self,
        *,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        target: str,
        topic_key: str,
        topic: str,
        keywords: tuple[str, ...],
        min_quality: float,
        created_at: float,
        options: AlertOptions = PLAIN_OPTIONS,
    ) -> Subscription:
        cur = await self._conn.execute(
            "INSERT INTO subscriptions (guild_id, channel_id, user_id, target, topic_key, topic, "
            f"keywords, min_quality, created_at, {OPTION_COLUMNS}) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                guild_id,
                channel_id,
                user_id,
                target,
                topic_key,
                topic,
                " ".join(keywords),
                min_quality,
                created_at,
                *option_values(options),
            ),
        )
        new_id = cur.lastrowid
        await cur.close()
        row = await fetch_one(self._conn, f"{_SELECT} WHERE id = ?", (new_id,))
        assert row is not None
        return subscription_from_row(row)

    async def set_subscription_status(
        self, subscription_id: int, status: SubscriptionStatus, reason: str | None
    ) -> None:
        await self._conn.execute(
            "UPDATE subscriptions SET status = ?, status_reason = ? WHERE id = ?",
            (status, reason, subscription_id),
        )

    async def set_subscription_options(self, subscription_id: int, options: AlertOptions) -> None:
        await self._conn.execute(
            "UPDATE subscriptions SET mention_role_id = ?, thread = ?, publish = ?, "
            "max_per_hour = ?, digest = ?, digest_hour = ?, on_update = ? WHERE id = ?",
            (*option_values(options), subscription_id),
        )

    async def change_target_status(
        self, target: str, status: SubscriptionStatus, reason: str | None
    ) -> list[Subscription]:
        rows = await fetch_all(
            self._conn,
            "SELECT id FROM subscriptions WHERE target = ? AND status = 'active'",
            (target,),
        )
        ids = [int(r["id"]) for r in rows]
        if not ids:
            return []
        await self.set_target_status(target, status, reason)
        rows = await fetch_all(
            self._conn, f"{_SELECT} WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id", ids
        )
        return [subscription_from_row(r) for r in rows]

    async def set_target_status(
        self, target: str, status: SubscriptionStatus, reason: str | None
    ) -> int:
        cur = await self._conn.execute(
            "UPDATE subscriptions SET status = ?, status_reason = ? "
            "WHERE target = ? AND status = 'active'",
            (status, reason, target),
        )
        changed = max(cur.rowcount, 0)
        await cur.close()
        return changed

    async def delete_subscription(self, subscription_id: int) -> None:
        await self._conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
