"""Subscriptions as data: create (with limits and duplicates), list, remove, pause/resume.

A subscription follows a topic (one the store may not know yet: feeds add topics
every day), or only keywords (no topic: any story whose title or excerpt names
one of them); `AlertOptions` say how its alerts land. Subscribing again with the
same filters and other options updates the options.

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

from rapidfuzz import fuzz, process, utils

from bot.core.alerts.explain import Preview, WhyAnswer, preview, why
from bot.core.alerts.matching import keyword_list
from bot.core.settings import Settings
from bot.core.store import Store, StoreTransaction
from bot.core.store.types import AlertOptions, Subscription
from bot.core.store.types import SubscriptionStatus as Status

__all__ = [
    "MAX_KEYWORDS",
    "AlertOptions",
    "AlreadySubscribed",
    "LimitReached",
    "Limits",
    "NotAllowed",
    "Preview",
    "Status",
    "Subscribed",
    "Subscription",
    "SubscriptionError",
    "UnknownSubscription",
    "WhyAnswer",
    "check_options",
    "for_guild",
    "get",
    "may_remove",
    "normalize_keywords",
    "personal",
    "preview",
    "removable",
    "remove",
    "set_status",
    "subscribe",
    "target_for",
    "why",
]
MAX_KEYWORDS = 10
MAX_PER_HOUR = 60  # a cap above this is no cap: Discord's own limits come first
Outcome = Literal["created", "resumed", "updated"]


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


@dataclass(frozen=True, slots=True)
class Subscribed:
    """What `subscribe` did: the subscription, `outcome` ('created', 'resumed' from
    paused/disabled, 'updated': same filters, new options), whether its topic has
    stories yet (`known_topic`; always True for keyword-only), and a close existing
    topic to suggest when it has none (`suggestion`, never applied by itself)."""

    subscription: Subscription
    outcome: Outcome
    known_topic: bool = True
    suggestion: str | None = None


def check_options(options: AlertOptions, *, personal: bool) -> AlertOptions:
    """`options` when they make sense for this target; SubscriptionError naming the
    option that does not."""
    if options.digest not in ("off", "daily"):
        raise SubscriptionError(f"digest is 'off' or 'daily', not {options.digest!r}.")
    if options.on_update not in ("ignore", "edit"):
        raise SubscriptionError(f"on_update is 'ignore' or 'edit', not {options.on_update!r}.")
    if not 0 <= options.digest_hour <= 23:
        raise SubscriptionError(
            f"digest_hour is an hour of the day in UTC, 0 to 23 (not {options.digest_hour})."
        )
    if options.max_per_hour is not None and not 1 <= options.max_per_hour <= MAX_PER_HOUR:
        raise SubscriptionError(
            f"max_per_hour is from 1 to {MAX_PER_HOUR} (not {options.max_per_hour})."
        )
    if personal and (options.mention_role_id is not None or options.thread or options.publish):
        raise SubscriptionError(
            "mention, thread and publish are for channel alerts; a DM has no roles, "
            "threads or followers."
        )
    return options


async def _topic_known(store: Store, key: str) -> tuple[bool, str | None]:
    """Whether some stored story has this topic; if not, the closest topic that does."""
    names = [t.name for t in await store.topics()]
    if any(n.casefold() == key for n in names):
        return True, None
    found = process.extractOne(
        key, names, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=60
    )
    return False, found[0] if found else None


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
    topic: str | None,
    user_id: int,
    guild_id: int | None,
    channel_id: int | None,
    keywords: str | None = None,
    min_quality: float = 0.0,
    options: AlertOptions | None = None,
    limits: Limits | None = None,
    now: float | None = None,
) -> Subscribed:
    """Create a subscription, resume the same one if it was paused or disabled, or give
    an active twin (same target and filters) the new `options`.

    `topic` is the display name (the resolved one when the store knows it; any
    name otherwise, followed until stories of it arrive); None or '' subscribes
    to `keywords` alone. Raises AlreadySubscribed (an active twin with the same
    options), LimitReached, SubscriptionError.
    """
    limits = limits or Limits()
    kws = normalize_keywords(keywords)
    quality = float(min_quality or 0.0)
    if not 0 <= quality <= 100:
        raise SubscriptionError("min_quality is a score from 0 to 100.")
    name = " ".join((topic or "").split())
    if not name and not kws:
        raise SubscriptionError("Give a topic, keywords, or both.")
    if len(name) > 100:
        raise SubscriptionError("A topic name is at most 100 characters.")
    opts = check_options(options or AlertOptions(), personal=channel_id is None)
    target = target_for(channel_id=channel_id, user_id=user_id)
    key = name.casefold()
    known, suggestion = await _topic_known(store, key) if key else (True, None)
    async with store.transaction() as tx:
        existing = await tx.find_subscription(
            target=target, topic_key=key, keywords=kws, min_quality=quality
        )
        if existing is not None:
            if existing.status == "active":
                if existing.options == opts:
                    where = "by DM" if existing.personal else "in that channel"
                    raise AlreadySubscribed(
                        f"Already subscribed to {existing.label} {where} with the same "
                        f"filters (subscription #{existing.id}).",
                        existing,
                    )
                await tx.set_subscription_options(existing.id, opts)
                updated = await tx.subscription(existing.id)
                assert updated is not None
                return Subscribed(updated, "updated", known, suggestion)
            if existing.status == "disabled":
                await _check_limits(
                    tx, guild_id=guild_id, channel_id=channel_id, user_id=user_id, limits=limits
                )
            await tx.set_subscription_options(existing.id, opts)
            await tx.set_subscription_status(existing.id, "active", None)
            resumed = await tx.subscription(existing.id)
            assert resumed is not None
            return Subscribed(resumed, "resumed", known, suggestion)
        await _check_limits(
            tx, guild_id=guild_id, channel_id=channel_id, user_id=user_id, limits=limits
        )
        sub = await tx.add_subscription(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            target=target,
            topic_key=key,
            topic=name,
            keywords=kws,
            min_quality=quality,
            created_at=time.time() if now is None else now,
            options=opts,
        )
        return Subscribed(sub, "created", known, suggestion)


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
