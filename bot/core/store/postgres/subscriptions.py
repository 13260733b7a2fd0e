"""PostgreSQL queries of the subscriptions area."""

from __future__ import annotations

from typing import Any

from bot.core.store.postgres.connection import ConnDb, Db, count_of
from bot.core.store.rows import OPTION_COLUMNS, option_values, subscription_from_row
from bot.core.store.types import PLAIN_OPTIONS, AlertOptions, Subscription, SubscriptionStatus

_COLUMNS = """
id, guild_id, channel_id, user_id, target, topic_key, topic, keywords, min_quality,
created_at, status, status_reason, mention_role_id, thread, publish, max_per_hour,
digest, digest_hour, on_update
"""
_SELECT = f"SELECT {_COLUMNS} FROM subscriptions"


class SubscriptionQueries:
    """`SubscriptionReads` over `_db` (the pool, or a transaction's connection)."""

    _db: Db

    async def _one(self, where: str, *args: Any) -> Subscription | None:
        row = await self._db.fetchrow(f"{_SELECT} WHERE {where}", *args)
        return subscription_from_row(row) if row else None

    async def _count(self, where: str, *args: Any) -> int:
        n = await self._db.fetchval(f"SELECT count(*) FROM subscriptions WHERE {where}", *args)
        return int(n or 0)

    async def subscription(self, subscription_id: int) -> Subscription | None:
        return await self._one("id = $1", subscription_id)

    async def find_subscription(
        self, *, target: str, topic_key: str, keywords: tuple[str, ...], min_quality: float
    ) -> Subscription | None:
        return await self._one(
            "target = $1 AND topic_key = $2 AND keywords = $3 AND min_quality = $4",
            target,
            topic_key,
            " ".join(keywords),
            float(min_quality),
        )

    async def guild_subscriptions(self, guild_id: int) -> list[Subscription]:
        rows = await self._db.fetch(
            f"{_SELECT} WHERE guild_id = $1 AND channel_id IS NOT NULL ORDER BY id", guild_id
        )
        return [subscription_from_row(r) for r in rows]

    async def user_subscriptions(self, user_id: int) -> list[Subscription]:
        rows = await self._db.fetch(f"{_SELECT} WHERE target = $1 ORDER BY id", f"user:{user_id}")
        return [subscription_from_row(r) for r in rows]

    async def count_channel_subscriptions(self, guild_id: int | None) -> int:
        return await self._count(
            "guild_id IS NOT DISTINCT FROM $1::bigint AND channel_id IS NOT NULL "
            "AND status != 'disabled'",
            guild_id,
        )

    async def count_target_subscriptions(self, target: str) -> int:
        return await self._count("target = $1 AND status != 'disabled'", target)

    async def subscription_counts(self) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT status, count(*) AS n FROM subscriptions GROUP BY status"
        )
        return {r["status"]: r["n"] for r in rows}


class SubscriptionWriteQueries:
    """`SubscriptionWrites` on `_db` (the transaction's connection)."""

    _db: ConnDb

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
        row = await self._db.fetchrow(
            "INSERT INTO subscriptions (guild_id, channel_id, user_id, target, topic_key, topic, "
            f"keywords, min_quality, created_at, {OPTION_COLUMNS}) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) "
            f"RETURNING {_COLUMNS}",
            guild_id,
            channel_id,
            user_id,
            target,
            topic_key,
            topic,
            " ".join(keywords),
            float(min_quality),
            float(created_at),
            *option_values(options),
        )
        assert row is not None
        return subscription_from_row(row)

    async def set_subscription_status(
        self, subscription_id: int, status: SubscriptionStatus, reason: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE subscriptions SET status = $1, status_reason = $2 WHERE id = $3",
            status,
            reason,
            subscription_id,
        )

    async def set_subscription_options(self, subscription_id: int, options: AlertOptions) -> None:
        await self._db.execute(
            "UPDATE subscriptions SET mention_role_id = $1, thread = $2, publish = $3, "
            "max_per_hour = $4, digest = $5, digest_hour = $6, on_update = $7 WHERE id = $8",
            *option_values(options),
            subscription_id,
        )

    async def change_target_status(
        self, target: str, status: SubscriptionStatus, reason: str | None
    ) -> list[Subscription]:
        rows = await self._db.fetch(
            "SELECT id FROM subscriptions WHERE target = $1 AND status = 'active'", target
        )
        ids = [int(r["id"]) for r in rows]
        if not ids:
            return []
        await self.set_target_status(target, status, reason)
        rows = await self._db.fetch(f"{_SELECT} WHERE id = ANY($1::bigint[]) ORDER BY id", ids)
        return [subscription_from_row(r) for r in rows]

    async def set_target_status(
        self, target: str, status: SubscriptionStatus, reason: str | None
    ) -> int:
        status_text = await self._db.execute(
            "UPDATE subscriptions SET status = $1, status_reason = $2 "
            "WHERE target = $3 AND status = 'active'",
            status,
            reason,
            target,
        )
        return count_of(status_text)

    async def delete_subscription(self, subscription_id: int) -> None:
        await self._db.execute("DELETE FROM subscriptions WHERE id = $1", subscription_id)
