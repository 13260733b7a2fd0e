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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.core.alerts.matching import keyword_list
from bot.core.settings import Settings
from bot.core.store import Store, StoreTransaction
from bot.core.store.types import Subscription
from bot.core.store.types import SubscriptionStatus as Status

__all__ = [
    "MAX_KEYWORDS",
    "AlreadySubscribed",
    "LimitReached",
    "Limits",
    "NotAllowed",
    "Status",
    "Subscription",
    "SubscriptionError",
    "UnknownSubscription",
    "for_guild",
    "get",
    "may_remove",
    "normalize_keywords",
    "personal",
    "removable",
    "remove",
    "set_status",
    "subscribe",
    "target_for",
]
MAX_KEYWORDS = 10


class SubscriptionError(Exception):
    """A refusal whose message is written for the user."""


class LimitReached(SubscriptionError):
    """The server or the user already has as many subscriptions as `Limits` allows."""

    pass


class AlreadySubscribed(SubscriptionError):
    """An active subscription with the same target and filters exists (`subscription`)."""

    def __init__(self, message: str, subscription: Subscription) -> None:
        super().__init__(message)
        self.subscription = subscription


class NotAllowed(SubscriptionError):
    """The user may not remove that subscription."""

    pass


class UnknownSubscription(SubscriptionError):
    """No subscription has that id (any more)."""

    pass


@dataclass(frozen=True, slots=True)
class Limits:
    """How many subscriptions a server's channels and a user's DMs may hold (disabled ones
    do not count)."""

    per_guild: int = Settings.max_subs_per_guild  # channel subscriptions of one server
    per_user: int = Settings.max_subs_per_user  # personal (DM) subscriptions of one user

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits a running bot or console was configured with."""
        return cls(per_guild=settings.max_subs_per_guild, per_user=settings.max_subs_per_user)


def target_for(*, channel_id: int | None, user_id: int) -> str:
    """The alert target: the channel when there is one, else the user's DMs."""
    return f"channel:{channel_id}" if channel_id is not None else f"user:{user_id}"


def normalize_keywords(raw: str | None) -> tuple[str, ...]:
    """Folded, de-duplicated words; refuses more than MAX_KEYWORDS."""
    kws = keyword_list(raw or "")
    if len(kws) > MAX_KEYWORDS:
        raise SubscriptionError(
            f"Use at most {MAX_KEYWORDS} keywords (any one of them must match)."
        )
    return kws


async def _check_limits(
    tx: StoreTransaction,
    *,
    guild_id: int | None,
    channel_id: int | None,
    user_id: int,
    limits: Limits,
) -> None:
    # Disabled subscriptions (their channel is gone) do not count: they can never
    # send again, and a deleted channel must not use up a server's quota.
    if channel_id is not None:
        n = await tx.count_channel_subscriptions(guild_id)
        if n >= limits.per_guild:
            raise LimitReached(
                f"This server already has {n} channel subscriptions (the limit is "
                f"{limits.per_guild}). Remove one with /unsubscribe first."
            )
    else:
        n = await tx.count_target_subscriptions(f"user:{user_id}")
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
    async with store.transaction() as tx:
        existing = await tx.find_subscription(
            target=target, topic_key=key, keywords=kws, min_quality=quality
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
                    tx, guild_id=guild_id, channel_id=channel_id, user_id=user_id, limits=limits
                )
            await tx.set_subscription_status(existing.id, "active", None)
            resumed = await tx.subscription(existing.id)
            assert resumed is not None
            return resumed, "resumed"
        await _check_limits(
            tx, guild_id=guild_id, channel_id=channel_id, user_id=user_id, limits=limits
        )
        sub = await tx.add_subscription(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            target=target,
            topic_key=key,
            topic=topic,
            keywords=kws,
            min_quality=quality,
            created_at=time.time() if now is None else now,
        )
        return sub, "created"


async def get(store: Store, subscription_id: int) -> Subscription | None:
    """One subscription by id, or None."""
    return await store.subscription(subscription_id)


async def for_guild(store: Store, guild_id: int) -> list[Subscription]:
    """The server's channel subscriptions, oldest first."""
    return await store.guild_subscriptions(guild_id)


async def personal(store: Store, user_id: int) -> list[Subscription]:
    """The user's DM subscriptions, oldest first."""
    return await store.user_subscriptions(user_id)


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
    async with store.transaction() as tx:
        await tx.delete_subscription(sub.id)
    return sub


async def set_status(
    store: Store, subscription_id: int, status: Status, reason: str | None = None
) -> None:
    """Set one subscription's status (and the reason shown for it)."""
    async with store.transaction() as tx:
        await tx.set_subscription_status(subscription_id, status, reason)
