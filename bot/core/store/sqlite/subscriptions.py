"""SQLite queries of the subscriptions area."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict

import aiosqlite

from bot.core.store.sqlite.connection import fetch_all, fetch_one
from bot.core.store.types import PLAIN_OPTIONS, AlertOptions, Subscription, SubscriptionStatus

_SELECT = """
SELECT id, guild_id, channel_id, user_id, target, topic_key, topic, keywords, min_quality,
       created_at, status, status_reason, mention_role_id, thread, publish, max_per_hour,
       digest, digest_hour, on_update
FROM subscriptions
"""


def _subscription(r: sqlite3.Row) -> Subscription:
    return Subscription(
        id=int(r["id"]),
        guild_id=r["guild_id"],
        channel_id=r["channel_id"],
        user_id=int(r["user_id"]),
        target=str(r["target"]),
        topic_key=str(r["topic_key"]),
        topic=str(r["topic"]),
        keywords=tuple(str(r["keywords"]).split()),  # stored space-separated
        min_quality=float(r["min_quality"] or 0),
        created_at=float(r["created_at"]),
        status=str(r["status"]),
        status_reason=r["status_reason"],
        **asdict(alert_options(r)),
    )


def alert_options(r: sqlite3.Row) -> AlertOptions:
    """The alert options of a row that holds a subscription's option columns."""
    return AlertOptions(
        mention_role_id=r["mention_role_id"],
        thread=bool(r["thread"]),
        publish=bool(r["publish"]),
        max_per_hour=r["max_per_hour"],
        digest=r["digest"],
        digest_hour=int(r["digest_hour"]),
        on_update=r["on_update"],
    )


def _option_values(o: AlertOptions) -> tuple[object, ...]:
    return (
        o.mention_role_id,
        int(o.thread),
        int(o.publish),
        o.max_per_hour,
        o.digest,
        o.digest_hour,
        o.on_update,
    )


_OPTION_COLUMNS = "mention_role_id, thread, publish, max_per_hour, digest, digest_hour, on_update"


class SubscriptionQueries:
    """`SubscriptionReads` over a connection (`_conn`)."""

    _conn: aiosqlite.Connection

    async def _one(self, where: str, args: tuple[object, ...]) -> Subscription | None:
        row = await fetch_one(self._conn, f"{_SELECT} WHERE {where}", args)
        return _subscription(row) if row else None

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
        return [_subscription(r) for r in rows]

    async def user_subscriptions(self, user_id: int) -> list[Subscription]:
        rows = await fetch_all(
            self._conn, f"{_SELECT} WHERE target = ? ORDER BY id", (f"user:{user_id}",)
        )
        return [_subscription(r) for r in rows]

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
            f"keywords, min_quality, created_at, {_OPTION_COLUMNS}) "
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
                *_option_values(options),
            ),
        )
        new_id = cur.lastrowid
        await cur.close()
        row = await fetch_one(self._conn, f"{_SELECT} WHERE id = ?", (new_id,))
        assert row is not None
        return _subscription(row)

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
            (*_option_values(options), subscription_id),
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
        return [_subscription(r) for r in rows]

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
