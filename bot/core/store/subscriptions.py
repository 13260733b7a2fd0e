"""The store's interface, subscriptions area: data access only (rules and limits live in
`bot.core.alerts.subscriptions`)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from bot.core.store.types import PLAIN_OPTIONS, AlertOptions, Subscription, SubscriptionStatus


class SubscriptionReads(ABC):
    """Reading subscriptions: on committed data from the store, or inside a transaction."""

    @abstractmethod
    async def subscription(self, subscription_id: int) -> Subscription | None:
        """One subscription by id."""

    @abstractmethod
    async def find_subscription(
        self, *, target: str, topic_key: str, keywords: tuple[str, ...], min_quality: float
    ) -> Subscription | None:
        """The subscription with exactly these (unique) settings, in any status."""

    @abstractmethod
    async def guild_subscriptions(self, guild_id: int) -> list[Subscription]:
        """A server's channel subscriptions, oldest first."""

    @abstractmethod
    async def user_subscriptions(self, user_id: int) -> list[Subscription]:
        """A user's personal (DM) subscriptions, oldest first."""

    @abstractmethod
    async def count_channel_subscriptions(self, guild_id: int | None) -> int:
        """How many channel subscriptions of this server are not disabled."""

    @abstractmethod
    async def count_target_subscriptions(self, target: str) -> int:
        """How many subscriptions of this target are not disabled."""

    @abstractmethod
    async def subscription_counts(self) -> dict[str, int]:
        """status → how many subscriptions have it (statuses with none left out)."""


class SubscriptionWrites(ABC):
    """Changing subscriptions, inside a write transaction."""

    @abstractmethod
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
        """Create an active subscription and return it (with its new id). `topic_key`
        and `topic` are '' for a keyword-only one."""

    @abstractmethod
    async def set_subscription_options(self, subscription_id: int, options: AlertOptions) -> None:
        """Replace how one subscription's alerts land."""

    @abstractmethod
    async def set_subscription_status(
        self, subscription_id: int, status: SubscriptionStatus, reason: str | None
    ) -> None:
        """Set one subscription's status and the reason shown for it."""

    @abstractmethod
    async def set_target_status(
        self, target: str, status: SubscriptionStatus, reason: str | None
    ) -> int:
        """Give every *active* subscription of a target this status. Returns how many changed."""

    @abstractmethod
    async def change_target_status(
        self, target: str, status: SubscriptionStatus, reason: str | None
    ) -> list[Subscription]:
        """`set_target_status`, returning the subscriptions it changed (as they are now):
        one failure notice goes out per such change."""

    @abstractmethod
    async def delete_subscription(self, subscription_id: int) -> None:
        """Delete a subscription, and its outbox rows with it."""
