"""SQLite connections and the write transaction: how the driver talks to the file.

Two long-lived connections per store: a writer (every write goes through
`Writer.transaction()`, one at a time) and a reader with `query_only` that
sees committed data only. Long scans get a private reader (`connect`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.store.errors import StoreBusy

BUSY_TIMEOUT_MS = 30_000
CHUNK = 500  # ids per `IN (…)` list: well under SQLite's bound-parameter limit

T = TypeVar("T")


async def connect(path: Path, *, readonly: bool) -> aiosqlite.Connection:
    """A connection with the store's settings; rows come back as `sqlite3.Row`."""
    conn = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN ourselves
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            await conn.execute("PRAGMA query_only = ON")
        else:
            # WAL: durable at checkpoint, never corrupt.
            await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, args: Sequence[object] | dict[str, object] = ()
) -> list[sqlite3.Row]:
    """Every row of one query."""
    async with conn.execute(sql, args) as cur:
        return list(await cur.fetchall())


async def fetch_tuples(
    conn: aiosqlite.Connection, sql: str, args: Sequence[object] | dict[str, object] = ()
) -> list[tuple[Any, ...]]:
    """Every row of one query as plain tuples, for the hot paths of questions:
    `sqlite3.Row` and its by-name lookups cost twice as much per row."""
    async with conn.execute(sql, args) as cur:
        cur.row_factory = None
        return list(await cur.fetchall())


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, args: Sequence[object] | dict[str, object] = ()
) -> sqlite3.Row | None:
    """The first row of one query, or None."""
    async with conn.execute(sql, args) as cur:
        return await cur.fetchone()


def marks(n: int) -> str:
    """'?,?,?' for an `IN (…)` list of n values."""
    return ",".join("?" * n)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    """`items` in lists of at most `size`."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


class Writer:
    """The write connection and the lock that makes this process's writes take turns."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        """True while a write transaction of this process is running."""
        return self._lock.locked()

    @asynccontextmanager
    async def transaction(self, *, wait: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE … COMMIT` around the block; ROLLBACK when it raises."""
        if not wait and self._lock.locked():
            raise StoreBusy("another write to the store is running")
        async with self._lock:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                # Cancelling the await does not stop aiosqlite's thread: the BEGIN
                # still runs (maybe after waiting out another process's lock) and
                # would leave this connection inside a transaction for good.
                await asyncio.shield(self._rollback_quietly())
                raise
            try:
                yield self.conn
            except BaseException:
                # Shielded: a cancelled task must still roll back, or the
                # connection is left inside an open transaction.
                await asyncio.shield(self.conn.execute("ROLLBACK"))
                raise
            await self.conn.execute("COMMIT")

    async def _rollback_quietly(self) -> None:
        with suppress(sqlite3.Error):  # a BEGIN that failed (busy) left nothing to undo
            await self.conn.execute("ROLLBACK")
