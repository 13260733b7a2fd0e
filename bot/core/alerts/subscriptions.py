"""Subscriptions as data: create (with limits and duplicates), list, remove, pause/resume.

Front ends (the Discord cog, the console) decide *who may* do what, because
only they know the invoker's permissions; this module enforces the rules that
hold everywhere: one subscription per (target, topic, keywords, quality),
per-server and per-user limits, a personal subscription is its owner's alone.
Nothing here imports discord.

Targets: ``channel:<id>`` posts in a channel; ``user:<id>`` sends a DM.
Statuses: ``active``; ``paused`` (delivery hit a fixable problem: missing
permission, DMs closed — subscribing again resumes it); ``disabled`` (the
channel is gone; kept so `/subscriptions` can say why alerts stopped).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from bot.core.alerts.matching import keyword_list
from bot.core.store.sqlite import Store

Status = Literal["active", "paused", "disabled"]
MAX_KEYWORDS = 10


class SubscriptionError(Exception):
    """A refusal whose message is written for the user."""


class LimitReached(SubscriptionError):
    pass


class AlreadySubscribed(SubscriptionError):
    def __init__(self, message: str, subscription: Subscription) -> None:
        super().__init__(message)
        self.subscription = subscription


class NotAllowed(SubscriptionError):
    pass


class UnknownSubscription(SubscriptionError):
    pass


@dataclass(frozen=True, slots=True)
class Limits:
    per_guild: int = 25  # channel subscriptions of one server
    per_user: int = 10  # personal (DM) subscriptions of one user


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    guild_id: int | None
    channel_id: int | None
    user_id: int
    target: str
    topic_key: str
    topic: str
    keywords: tuple[str, ...]
    min_quality: float
    created_at: float
    status: str
    status_reason: str | None

    @property
    def personal(self) -> bool:
        return self.channel_id is None

    def filters(self) -> str:
        """'keywords: robot arm · quality ≥ 70', or '' when there are none."""
        parts = []
        if self.keywords:
            parts.append("keywords: " + " ".join(self.keywords))
        if self.min_quality > 0:
            parts.append(f"quality ≥ {self.min_quality:g}")
        return " · ".join(parts)

    def state(self) -> str:
        """'active', or 'paused: <why>'."""
        if self.status == "active":
            return "active"
        return f"{self.status}: {self.status_reason}" if self.status_reason else self.status


_COLUMNS = (
    "id, guild_id, channel_id, user_id, target, topic_key, topic, keywords, min_quality, "
    "created_at, status, status_reason"
)


def _row(r: Sequence[object]) -> Subscription:
    return Subscription(
        id=int(r[0]),  # type: ignore[call-overload]
        guild_id=r[1],  # type: ignore[arg-type]
        channel_id=r[2],  # type: ignore[arg-type]
        user_id=int(r[3]),  # type: ignore[call-overload]
        target=str(r[4]),
        topic_key=str(r[5]),
        topic=str(r[6]),
        keywords=tuple(str(r[7]).split()),
        min_quality=float(r[8] or 0),  # type: ignore[arg-type]
        created_at=float(r[9]),  # type: ignore[arg-type]
        status=str(r[10]),
        status_reason=r[11],  # type: ignore[arg-type]
    )


def target_for(*, channel_id: int | None, user_id: int) -> str:
    return f"channel:{channel_id}" if channel_id is not None else f"user:{user_id}"


def normalize_keywords(raw: str | None) -> tuple[str, ...]:
    """Folded, de-duplicated words; refuses more than MAX_KEYWORDS."""
    kws = keyword_list(raw or "")
    if len(kws) > MAX_KEYWORDS:
        raise SubscriptionError(
            f"Use at most {MAX_KEYWORDS} keywords (any one of them must match)."
        )
    return kws


async def _one(conn: aiosqlite.Connection, sql: str, args: Sequence[object]) -> Subscription | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM subscriptions {sql}", args) as cur:
        row = await cur.fetchone()
    return _row(row) if row else None


async def _count(conn: aiosqlite.Connection, sql: str, args: Sequence[object]) -> int:
    async with conn.execute(f"SELECT count(*) FROM subscriptions WHERE {sql}", args) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _check_limits(
    conn: aiosqlite.Connection,
    *,
    guild_id: int | None,
    channel_id: int | None,
    user_id: int,
    limits: Limits,
) -> None:
    # Disabled subscriptions (their channel is gone) do not count: they can never
    # send again, and a deleted channel must not use up a server's quota.
    if channel_id is not None:
        n = await _count(
            conn, "guild_id IS ? AND channel_id IS NOT NULL AND status != 'disabled'", (guild_id,)
        )
        if n >= limits.per_guild:
            raise LimitReached(
                f"This server already has {n} channel subscriptions (the limit is "
                f"{limits.per_guild}). Remove one with /unsubscribe first."
            )
    else:
        n = await _count(conn, "target = ? AND status != 'disabled'", (f"user:{user_id}",))
        if n >= limits.per_user:
            raise LimitReached(
                f"You already have {n} personal subscriptions (the limit is "
                f"{limits.per_user}). Remove one with /unsubscribe first."
            )


async def subscribe(
    store: Store,
    *,
    topic: str,
    user_id: int,
    guild_id: int | None,
    channel_id: int | None,
    keywords: str | None = None,
    min_quality: float = 0.0,
    limits: Limits | None = None,
    now: float | None = None,
) -> tuple[Subscription, Literal["created", "resumed"]]:
    """Create a subscription, or resume the same one if it was paused or disabled.

    `topic` is the resolved display name (topic keys are its casefold).
    Raises AlreadySubscribed (active twin), LimitReached, SubscriptionError.
    """
    limits = limits or Limits()
    kws = normalize_keywords(keywords)
    quality = float(min_quality or 0.0)
    if not 0 <= quality <= 100:
        raise SubscriptionError("min_quality is a score from 0 to 100.")
    target = target_for(channel_id=channel_id, user_id=user_id)
    key = topic.casefold()
    kw_text = " ".join(kws)
    async with store.transaction() as conn:
        existing = await _one(
            conn,
            "WHERE target = ? AND topic_key = ? AND keywords = ? AND min_quality = ?",
            (target, key, kw_text, quality),
        )
        if existing is not None:
            if existing.status == "active":
                where = "by DM" if existing.personal else "in that channel"
                raise AlreadySubscribed(
                    f"Already subscribed to {existing.topic} {where} with the same filters "
                    f"(subscription #{existing.id}).",
                    existing,
                )
            if existing.status == "disabled":
                await _check_limits(
                    conn, guild_id=guild_id, channel_id=channel_id, user_id=user_id, limits=limits
                )
            await conn.execute(
                "UPDATE subscriptions SET status = 'active', status_reason = NULL WHERE id = ?",
                (existing.id,),
            )
            resumed = await _one(conn, "WHERE id = ?", (existing.id,))
            assert resumed is not None
            return resumed, "resumed"
        await _check_limits(
            conn, guild_id=guild_id, channel_id=channel_id, user_id=user_id, limits=limits
        )
        created = time.time() if now is None else now
        cur = await conn.execute(
            "INSERT INTO subscriptions (guild_id, channel_id, user_id, target, topic_key, topic, "
            "keywords, min_quality, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (guild_id, channel_id, user_id, target, key, topic, kw_text, quality, created),
        )
        new_id = cur.lastrowid
        sub = await _one(conn, "WHERE id = ?", (new_id,))
        assert sub is not None
        return sub, "created"


async def get(store: Store, subscription_id: int) -> Subscription | None:
    return await _one(store.read, "WHERE id = ?", (subscription_id,))


async def for_guild(store: Store, guild_id: int) -> list[Subscription]:
    """The server's channel subscriptions, oldest first."""
    async with store.read.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE guild_id = ? AND channel_id IS NOT NULL "
        "ORDER BY id",
        (guild_id,),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def personal(store: Store, user_id: int) -> list[Subscription]:
    """The user's DM subscriptions, oldest first."""
    async with store.read.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE target = ? ORDER BY id", (f"user:{user_id}",)
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


def may_remove(
    sub: Subscription, *, user_id: int, may_manage_channel: Callable[[Subscription], bool]
) -> bool:
    """A personal subscription: only its owner. A channel one: whoever the front end says
    manages that channel (Manage Channels there, or Manage Server)."""
    if sub.personal:
        return sub.user_id == user_id
    return may_manage_channel(sub)


async def removable(
    store: Store,
    *,
    user_id: int,
    guild_id: int | None,
    may_manage_channel: Callable[[Subscription], bool],
) -> list[Subscription]:
    """What `/unsubscribe` offers this user: their own, then the server's they manage."""
    out = await personal(store, user_id)
    if guild_id is not None:
        out += [
            s
            for s in await for_guild(store, guild_id)
            if may_remove(s, user_id=user_id, may_manage_channel=may_manage_channel)
        ]
    return out


async def remove(
    store: Store,
    subscription_id: int,
    *,
    user_id: int,
    guild_id: int | None,
    may_manage_channel: Callable[[Subscription], bool],
) -> Subscription:
    """Delete a subscription (its pending alerts go with it). Checks ownership again:
    an autocomplete value can be typed or forged."""
    sub = await get(store, subscription_id)
    if sub is None:
        raise UnknownSubscription("That subscription no longer exists.")
    foreign = not sub.personal and sub.guild_id != guild_id
    if foreign or not may_remove(sub, user_id=user_id, may_manage_channel=may_manage_channel):
        raise NotAllowed(
            "You can remove your own subscriptions, and channel subscriptions of this server "
            "in channels you manage (Manage Channels, or Manage Server)."
        )
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub.id,))
    return sub


async def set_target_status(
    conn: aiosqlite.Connection, target: str, status: Status, reason: str | None
) -> int:
    """Pause or disable every active subscription of a target (they share its fate:
    the same channel or the same DM). Returns how many changed."""
    before = conn.total_changes
    await conn.execute(
        "UPDATE subscriptions SET status = ?, status_reason = ? WHERE target = ? AND status = 'active'",
        (status, reason, target),
    )
    return conn.total_changes - before


async def set_status(
    store: Store, subscription_id: int, status: Status, reason: str | None = None
) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE subscriptions SET status = ?, status_reason = ? WHERE id = ?",
            (status, reason, subscription_id),
        )
