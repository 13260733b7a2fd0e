"""The PostgreSQL store: a pool of connections to one database; `PostgresStore.open`.

Reads take a pooled connection per query (committed data only); a write
transaction holds one for its block. This process's writes take turns (as
on SQLite: `transaction(wait=False)` raises StoreBusy while one runs); other
processes' transactions run beside them, kept apart by row locks, the
stories' advisory lock (`loading.LOAD_LOCK`) and SKIP LOCKED outbox rows.
Job locks and the generation listener have a connection each (`jobs`,
`listen`). Identity of a story is its canonical URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg

from bot.core.store.base import Store, StoreTransaction
from bot.core.store.errors import StoreError, StoreUnavailable
from bot.core.store.postgres.articles import ArticleQueries
from bot.core.store.postgres.connection import (
    DRIVER_ERRORS,
    ConnDb,
    PoolDb,
    Writer,
    create_pool,
    scrub,
    store_error,
    store_errors,
)
from bot.core.store.postgres.embeddings import EmbeddingQueries, EmbeddingWriteQueries
from bot.core.store.postgres.feeds import FeedQueries, FeedWriteQueries
from bot.core.store.postgres.jobs import JobLockQueries, SessionLocks
from bot.core.store.postgres.listen import GenerationListener
from bot.core.store.postgres.loading import GENERATION_CHANNEL, LoadWriteQueries, settle_index
from bot.core.store.postgres.outbox import MatchingQueries, OutboxQueries, OutboxWriteQueries
from bot.core.store.postgres.schema import migrate
from bot.core.store.postgres.search import SearchQueries
from bot.core.store.postgres.subscriptions import SubscriptionQueries, SubscriptionWriteQueries
from bot.core.storeurl import redacted
from bot.core.waiting import wait_event

POLL_EVERY = 1.0  # seconds between generation reads while the listener is down
_CLOSE_TIMEOUT = 5.0


@store_errors
class PostgresTransaction(
    LoadWriteQueries,
    MatchingQueries,
    OutboxQueries,
    OutboxWriteQueries,
    SubscriptionQueries,
    SubscriptionWriteQueries,
    FeedQueries,
    FeedWriteQueries,
    EmbeddingWriteQueries,
    StoreTransaction,
):
    """A `StoreTransaction` on one connection of the pool, inside its BEGIN."""

    _in_transaction = True

    def __init__(self, conn: asyncpg.Connection, label: str, url: str) -> None:
        self._db = ConnDb(conn)
        self._label = label
        self._url = url


@store_errors
class PostgresStore(
    ArticleQueries,
    SearchQueries,
    SubscriptionQueries,
    OutboxQueries,
    FeedQueries,
    EmbeddingQueries,
    JobLockQueries,
    Store,
):
    """The `Store` of one PostgreSQL database. Open with `await PostgresStore.open(url)`."""

    multi_process = True

    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        super().__init__()
        self._url = url
        self._label = redacted(url)
        self._pool = pool
        self._db = PoolDb(pool)
        self._writer = Writer(pool)
        self._locks = SessionLocks(url)
        self._listener = GenerationListener(url, GENERATION_CHANNEL)

    @property
    def url(self) -> str:
        """The URL the store was opened with (password included: never print it; show
        `label`)."""
        return self._url

    @property
    def label(self) -> str:
        """The database's URL as it may be shown (password replaced by ***)."""
        return self._label

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10) -> PostgresStore:
        """Open (creating the schema and migrating as needed) the database at `url`, with a
        pool of at most `pool_size` connections.

        Raises StoreUnavailable when the server cannot be reached, StoreError (the
        database untouched) when it is not a newsbot database or of a newer schema.
        """
        label = redacted(url)
        try:
            pool = await create_pool(url, pool_size)
        except (*DRIVER_ERRORS, ValueError) as exc:
            detail = scrub(str(exc) or type(exc).__name__, url)
            if isinstance(store_error(label, url, exc), StoreUnavailable):
                raise StoreUnavailable(
                    f"store unavailable: {label}: cannot reach the database: {detail}"
                ) from None
            raise StoreError(f"{label}: cannot open the database: {detail}") from None
        try:
            async with pool.acquire() as conn:
                await migrate(conn, label)
        except StoreError:
            await _close_pool(pool)
            raise
        except DRIVER_ERRORS as exc:
            await _close_pool(pool)
            raise store_error(label, url, exc) from None
        except BaseException:
            await _close_pool(pool)
            raise
        return cls(url, pool)

    async def close(self) -> None:
        with suppress(Exception):
            await self._listener.close()
        with suppress(Exception):
            await self._locks.close()
        await _close_pool(self._pool)

    @property
    def writing(self) -> bool:
        return self._writer.busy

    @asynccontextmanager
    async def transaction(self, *, wait: bool = True) -> AsyncIterator[PostgresTransaction]:
        try:
            async with self._writer.transaction(wait=wait) as conn:
                tx = PostgresTransaction(conn, self._label, self._url)
                yield tx
                await settle_index(tx._db)
        except StoreError:
            raise
        except DRIVER_ERRORS as exc:  # BEGIN or COMMIT: the server gone, a conflict…
            raise store_error(self._label, self._url, exc) from exc

    async def wait_generation_change(self, seen: int, within: float) -> int:
        """The generation once it differs from `seen` (woken by NOTIFY), or after `within`
        seconds whatever it is; polls while the listener's connection is down."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            listening = await self._listener.ensure()
            event = self._listener.event()  # taken before the read: no NOTIFY slips by
            current = await self.generation()
            left = deadline - loop.time()
            if current != seen or left <= 0:
                return current
            await wait_event(event, left if listening else min(left, POLL_EVERY))


async def _close_pool(pool: asyncpg.Pool) -> None:
    """Close the pool, terminating connections still busy after a few seconds."""
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await pool.close()
    except Exception:  # closing never raises
        pool.terminate()
