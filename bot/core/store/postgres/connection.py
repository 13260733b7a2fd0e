"""PostgreSQL connections: the pool, the write transaction, and asyncpg's errors as the store's.

Reads take a connection of the pool for one query (`PoolDb`), so each sees
committed data; a write transaction holds one connection for its block
(`ConnDb`). Both offer the same few calls, so the query mixins do not care
which they run on. No asyncpg exception leaves the driver: `store_error`
turns each into a `StoreError`, a lost or refused connection into
`StoreUnavailable` ("store unavailable: …"), never showing the password.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from bot.core.store.errors import StoreBusy, StoreError, StoreUnavailable, translating

CONNECT_TIMEOUT = 10.0  # seconds to reach the server before the store is unavailable
# application_name of each kind of connection: what pg_stat_activity shows an operator.
APP_POOL = "newsbot"
APP_JOBS = "newsbot-jobs"
APP_LISTEN = "newsbot-listen"
LOCK_TIMEOUT_MS = 30_000  # as SQLite's busy timeout: a row lock waited for at most this

# What says "the server did not answer" rather than "this statement is wrong": the
# connection lost or refused, the server shutting down or out of resources, a lock
# not granted in time, a deadlock or serialization failure (retrying later works).
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    # The client's protocol lost track (an operation cut off with its connection).
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.QueryCanceledError,
)
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    asyncio.TimeoutError,
)


def scrub(text: str, url: str) -> str:
    """`text` with the password of `url` (as typed and decoded) replaced by ***."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        for form in {password, unquote(password)}:
            if form:
                text = text.replace(form, "***")
    return text


def store_error(label: str, url: str, exc: BaseException) -> StoreError:
    """The store's error for an asyncpg one (or a socket's): callers never see the driver's."""
    detail = scrub(str(exc) or type(exc).__name__, url)
    if isinstance(exc, _UNAVAILABLE):
        return StoreUnavailable(f"store unavailable: {label}: {detail}")
    return StoreError(f"{label}: {detail}")


# Every public coroutine of the store and transaction classes: asyncpg's errors leave
# as a `StoreError` naming the database (redacted).
store_errors = translating(
    DRIVER_ERRORS,
    lambda self, exc: store_error(self._label, self._url, exc),
)


def count_of(status: str) -> int:
    """The row count of a command status ('UPDATE 3', 'INSERT 0 5' → 3, 5)."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class Db:
    """The calls the query mixins make; `PoolDb` and `ConnDb` implement them."""

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Every row of one query."""
        raise NotImplementedError

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one query, or None."""
        raise NotImplementedError

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first value of the first row, or None."""
        raise NotImplementedError

    async def execute(self, sql: str, *args: Any) -> str:
        """Run one statement; its command status ('UPDATE 3')."""
        raise NotImplementedError

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each set of arguments."""
        raise NotImplementedError


class ConnDb(Db):
    """The calls on one connection (a transaction's, or a private reader's)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.index_writes = 0  # stories indexed or unindexed here (`loading.settle_index`)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        return await self.conn.execute(sql, *args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        rows = list(args)
        if rows:
            await self.conn.executemany(sql, rows)

    async def copy(self, table: str, columns: Sequence[str], records: list[tuple]) -> None:
        """Bulk insert with COPY (an order of magnitude faster than INSERTs)."""
        if records:
            await self.conn.copy_records_to_table(table, records=records, columns=list(columns))


class PoolDb(Db):
    """The calls, each on a connection of the pool taken for it (committed data only)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        async with self.pool.acquire() as conn:
            return await conn.execute(sql, *args)

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        rows = list(args)
        if rows:
            async with self.pool.acquire() as conn:
                await conn.executemany(sql, rows)


async def connect(url: str, application_name: str) -> asyncpg.Connection:
    """One connection outside the pool (job locks, the listener)."""
    return await asyncpg.connect(
        url, timeout=CONNECT_TIMEOUT, server_settings={"application_name": application_name}
    )


async def setup_connection(conn: asyncpg.Connection) -> None:
    """Settings of every connection of the pool.

    Sequential scans off: the planner prices a full-text `@@` on a row as one
    cheap operator, so for a word in a sixth of the stories it would read the
    whole table, decompressing every row's tsvector, rather than use the GIN
    index: five times slower. Every query of the driver has an index to use;
    the long scans of `index_snapshot` turn them back on for themselves.
    JIT off: compiling a question's query took longer (170 ms) than running it.
    Custom plans always: a prepared statement's generic plan, chosen after five
    runs, cannot see how common a question's words are, and walked the whole
    table backwards by id for a `@@ … ORDER BY id DESC LIMIT` whose words were
    rare (30 ms where the GIN index takes 4); planning costs a tenth of a ms.
    """
    await conn.execute(
        f"SET lock_timeout = {LOCK_TIMEOUT_MS}; SET enable_seqscan = off; SET jit = off; "
        "SET plan_cache_mode = force_custom_plan"
    )


async def keep_session(conn: asyncpg.Connection) -> None:
    """What a connection going back to the pool needs beyond asyncpg's rollback of an
    open transaction: nothing. The driver keeps no session state on pooled connections
    (its advisory locks are transaction-level, its LISTEN has a connection of its own),
    and asyncpg's default reset would cost a round trip on every query."""


async def create_pool(url: str, size: int) -> asyncpg.Pool:
    """A pool of at most `size` connections to `url` (asyncpg reconnects lazily)."""
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max(1, size),
        timeout=CONNECT_TIMEOUT,
        init=setup_connection,
        reset=keep_session,
        server_settings={"application_name": APP_POOL},
        max_inactive_connection_lifetime=300.0,
    )


class Writer:
    """The lock that makes this process's writes take turns, and the transaction itself."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        """True while a write transaction of this process is running."""
        return self._lock.locked()

    @asynccontextmanager
    async def transaction(self, *, wait: bool = True) -> AsyncIterator[asyncpg.Connection]:
        """BEGIN … COMMIT on a connection of the pool; ROLLBACK when the block raises.

        A connection lost meanwhile rolls the transaction back on the server (it
        never committed); the pool replaces the connection for the next call.
        """
        if not wait and self._lock.locked():
            raise StoreBusy("another write to the store is running")
        async with self._lock, self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                yield conn
            except BaseException:
                # Shielded: a cancelled task must still roll back, or the connection
                # goes back to the pool inside an open transaction.
                with suppress(*DRIVER_ERRORS):
                    await asyncio.shield(tx.rollback())
                raise
            await tx.commit()
