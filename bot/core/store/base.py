"""The store's interface: `Store` (reads on committed data, lifecycle, transactions) and
`StoreTransaction` (the writes, and the reads that must see them), by area.

A driver (`bot.core.store.sqlite`) implements both; front ends and the core
see only these, never a connection.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import Self

from bot.core.store.articles import ArticleReads
from bot.core.store.embeddings import EmbeddingReads, EmbeddingWrites
from bot.core.store.feeds import FeedReads, FeedWrites
from bot.core.store.jobs import JobLocks
from bot.core.store.loading import LoadWrites
from bot.core.store.outbox import MatchingWrites, OutboxReads, OutboxWrites
from bot.core.store.search import SearchReads
from bot.core.store.subscriptions import SubscriptionReads, SubscriptionWrites


class StoreTransaction(
    LoadWrites,
    MatchingWrites,
    OutboxReads,
    OutboxWrites,
    SubscriptionReads,
    SubscriptionWrites,
    FeedReads,
    FeedWrites,
    EmbeddingWrites,
):
    """One write transaction (a unit of work): everything done through it commits
    together when the `Store.transaction()` block ends, or not at all. Its reads
    see its own writes."""


class Store(
    ArticleReads,
    SearchReads,
    SubscriptionReads,
    OutboxReads,
    FeedReads,
    EmbeddingReads,
    JobLocks,
):
    """An open store. Reads see committed data only, so questions are answered from a
    consistent snapshot while a long load is being written."""

    def __init__(self) -> None:
        # One load (reload) at a time per process; `loader.load_paths` holds it.
        self.load_lock = asyncio.Lock()

    @abstractmethod
    def transaction(self, *, wait: bool = True) -> AbstractAsyncContextManager[StoreTransaction]:
        """One write transaction: ``async with store.transaction() as tx: …``.

        Writes of this process queue one at a time; `wait=False` raises
        StoreBusy instead of queueing. Writes of other processes are waited
        for (up to a driver-defined timeout). An exception (or a cancellation)
        inside the block rolls everything back.
        """

    #: True for a backend that several bot processes may share (PostgreSQL); on
    #: SQLite one bot process holds the store and others are refused.
    multi_process: bool = False

    async def wait_generation_change(self, seen: int, within: float) -> int:
        """The store's generation once it differs from `seen`, or after `within` seconds
        whatever it is. This default polls once after `within`; a backend that can be
        told (PostgreSQL's LISTEN/NOTIFY) returns as soon as it changes."""
        await asyncio.sleep(within)
        return await self.generation()

    @property
    @abstractmethod
    def writing(self) -> bool:
        """True while a write transaction of this process is running."""

    @abstractmethod
    async def close(self) -> None:
        """Close the store; it cannot be used afterwards. Never raises."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
