"""The store's interface, outbox area: matching new stories to subscriptions, and the
ledger of alerts owed (see `bot.core.alerts.matching` for the life of a row)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence

from bot.core.shards import ALL_SHARDS, ShardSpec
from bot.core.store.types import (
    OutboxEntry,
    PendingAlert,
    PendingEdit,
    StoryFacts,
    SubscriptionRule,
)


class OutboxReads(ABC):
    """Reading the outbox: on committed data from the store, or inside a transaction
    (the dispatcher plans and claims a message in one)."""

    @abstractmethod
    async def pending_targets(self, *, shards: ShardSpec = ALL_SHARDS) -> dict[str, float]:
        """target → the earliest time one of its pending rows (of active
        subscriptions) may be tried; only targets whose guild `shards` owns
        (`ShardSpec.owns_guild`: DMs belong to shard 0)."""

    @abstractmethod
    async def pending_for(self, target: str) -> list[PendingAlert]:
        """Every pending row of one target's active subscriptions, due or not."""

    @abstractmethod
    async def delivered_to(self, target: str, article_ids: Sequence[int]) -> dict[int, int | None]:
        """article id → message id, for those stories already sent to `target`
        (through any of its subscriptions)."""

    @abstractmethod
    async def outbox_counts(self) -> dict[str, int]:
        """state → how many outbox rows have it (states with none left out)."""

    @abstractmethod
    async def outbox_entry(self, subscription_id: int, article_id: int) -> OutboxEntry | None:
        """The outbox row of this (subscription, story), in any state, or None."""

    @abstractmethod
    async def story_facts(
        self,
        ids: Sequence[int],
        *,
        since_ts: float | None,
        topic_keys: Collection[str] | None = None,
    ) -> list[StoryFacts]:
        """What matching needs of each of these stories published at or after
        `since_ts` (None: all of them, undated ones too); with `topic_keys`, only of
        stories with one of those topics."""

    @abstractmethod
    async def sent_messages_since(self, subscription_id: int, since: float) -> list[float]:
        """When each distinct message that carried this subscription's alerts was sent,
        for those sent after `since`, oldest first."""

    @abstractmethod
    async def crossposts_since(self, channel_id: int, since: float) -> list[float]:
        """When each crosspost booked for this channel after `since` was booked, oldest first."""

    @abstractmethod
    async def thread_intent(self, nonce: str) -> str | None:
        """The thread name recorded for the message with `nonce` before it was sent, or None."""

    @abstractmethod
    async def pending_edits(self, *, shards: ShardSpec = ALL_SHARDS) -> list[PendingEdit]:
        """Sent alert messages whose stories changed and whose subscriptions edit on
        update, one per message; only in targets whose guild `shards` owns (as
        `pending_targets`)."""


class MatchingWrites(ABC):
    """Filling the outbox from new stories, inside the load's transaction."""

    @abstractmethod
    async def match_plain_subscriptions(
        self, article_ids: Sequence[int], *, now: float, oldest: float, newest: float
    ) -> int:
        """Write a pending row for every (active subscription *without keywords*, story)
        pair that `bot.core.alerts.matching.matches` accepts, in one statement.

        The rules: the story has the subscription's topic, was first stored
        when the subscription existed, was published between `oldest` and
        `newest`, and meets its minimum quality. Pairs already in the outbox
        are left alone. Returns how many rows were written.
        """

    @abstractmethod
    async def active_rules(
        self, *, with_keywords: bool | None = None
    ) -> dict[str, list[SubscriptionRule]]:
        """Active subscriptions grouped by topic key: all of them, or only those with
        keywords (True) or without (False)."""

    @abstractmethod
    async def request_edits(self, text_hashes: Mapping[int, str]) -> int:
        """For each story id → hash of its title and excerpt now: mark its sent alerts of
        subscriptions with on_update 'edit' whose message showed another text. Returns
        how many rows were marked."""

    @abstractmethod
    async def add_outbox_rows(self, pairs: Sequence[tuple[int, int]], *, now: float) -> int:
        """A pending row per (subscription id, story id) pair not in the outbox yet.
        Returns how many were written."""


class OutboxWrites(ABC):
    """Moving outbox rows along, inside a write transaction. Every method touches only
    rows still pending."""

    @abstractmethod
    async def claim(self, row_ids: Sequence[int], nonce: str) -> list[int]:
        """Record that these rows go out in the message with `nonce` (committed
        before the message is sent, so a retry re-sends the same rows).

        Returns the ids claimed, in the order given: those still pending and not
        held by another process's transaction at that moment (PostgreSQL skips a
        locked row rather than wait for it). Send only those."""

    @abstractmethod
    async def release(self, row_ids: Sequence[int], *, error: str | None = None) -> None:
        """Unclaim rows that did not go out (safe to regroup); with `error`, note it."""

    @abstractmethod
    async def mark_sent(
        self,
        row_ids: Sequence[int],
        *,
        message_id: int | None,
        now: float,
        text_hashes: Mapping[int, str] | None = None,
    ) -> None:
        """These rows were delivered in message `message_id`; `text_hashes` (story id →
        hash of the title and excerpt sent) lets a later edit of the story be noticed."""

    @abstractmethod
    async def fold(self, row_ids: Sequence[int], *, until: float) -> None:
        """Hold these rows back until `until` (max_per_hour): then they go out together
        in one digest message."""

    @abstractmethod
    async def book_crosspost(
        self, channel_id: int, nonce: str, *, now: float, limit: int, window: float
    ) -> bool:
        """Book a crosspost of the message with `nonce` in this channel if fewer than
        `limit` were booked there in the last `window` seconds; True when it is booked
        (now, or by an earlier attempt of the same message). Done before the message
        is sent, so a crash still counts it and the count survives a restart."""

    @abstractmethod
    async def unbook_crosspost(self, nonce: str) -> None:
        """The message with `nonce` was not crossposted after all: free its booking."""

    @abstractmethod
    async def record_thread_intent(self, nonce: str, target: str, name: str, *, now: float) -> None:
        """Record, before the call, that the message with `nonce` starts a thread `name`
        (threads take no nonce: after a crash the sender is asked to look for it)."""

    @abstractmethod
    async def edits_done(self, row_ids: Sequence[int], text_hashes: Mapping[int, str]) -> None:
        """The alert message of these sent rows was edited to show these texts."""

    @abstractmethod
    async def defer(
        self, row_ids: Sequence[int], *, until: float, attempts: int, error: str
    ) -> None:
        """Try these rows again at `until`; they keep their claim (the message may exist)."""

    @abstractmethod
    async def mark_failed(self, row_ids: Sequence[int], *, error: str) -> None:
        """These rows will never be accepted as they are: failed, with the error
        (one more attempt counted)."""
