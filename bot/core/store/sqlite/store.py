"""The SQLite store: one file (WAL), a shared reader, one writer; `SQLiteStore.open`.

Two connections: a writer (every write goes through `transaction()`, one at
a time) and a reader that only ever sees committed data, so questions keep
being answered from a consistent snapshot while a long load is being written.
Identity of a story is its canonical URL (`records.canonical_url`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiosqlite

from bot.core.store.base import Store, StoreTransaction
from bot.core.store.errors import StoreError, StoreUnavailable, translating
from bot.core.store.sqlite.articles import ArticleQueries
from bot.core.store.sqlite.connection import Writer, connect
from bot.core.store.sqlite.embeddings import EmbeddingQueries, EmbeddingWriteQueries
from bot.core.store.sqlite.feeds import FeedQueries, FeedWriteQueries
from bot.core.store.sqlite.jobs import JobLockQueries
from bot.core.store.sqlite.loading import LoadWriteQueries
from bot.core.store.sqlite.outbox import MatchingQueries, OutboxQueries, OutboxWriteQueries
from bot.core.store.sqlite.schema import migrate
from bot.core.store.sqlite.search import SearchQueries
from bot.core.store.sqlite.subscriptions import SubscriptionQueries, SubscriptionWriteQueries


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The store's error for an sqlite3 one: callers never see the driver's exceptions."""
    kind = StoreUnavailable if isinstance(exc, sqlite3.OperationalError) else StoreError
    return kind(f"{path}: {exc}")


# Every public coroutine of the store and transaction classes: an sqlite3 error leaves
# as a `StoreError` naming the file.
_store_errors = translating((sqlite3.Error,), lambda self, exc: store_error(self._path, exc))


@_store_errors
class SQLiteTransaction(
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
    """A `StoreTransaction` on the writer connection, inside its `BEGIN IMMEDIATE`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path


@_store_errors
class SQLiteStore(
    ArticleQueries,
    SearchQueries,
    SubscriptionQueries,
    OutboxQueries,
    FeedQueries,
    EmbeddingQueries,
    JobLockQueries,
    Store,
):
    """The `Store` of one SQLite file. Open with `await SQLiteStore.open(path)`."""

    def __init__(self, path: Path, read: aiosqlite.Connection, write: aiosqlite.Connection) -> None:
        super().__init__()
        self._path = path
        self._conn = read
        self._writer = Writer(write)
        self._held: dict[str, int] = {}

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> SQLiteStore:
        """Open (creating and migrating as needed) the store at `path`.

        Raises StoreError, leaving the file untouched, when it is a folder,
        not a newsbot database, or of a newer schema.
        """
        p = Path(path)
        if p.exists() and p.is_dir():
            raise StoreError(f"{p}: is a folder, not a database file")
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            write = await connect(p, readonly=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{p}: cannot open the database: {exc}") from None
        try:
            await migrate(p, write)
            read = await connect(p, readonly=True)
        except BaseException:
            await write.close()
            raise
        return cls(p, read, write)

    async def close(self) -> None:
        self._let_go_all()
        for conn in (self._conn, self._writer.conn):
            with suppress(Exception):
                await conn.close()

    @property
    def writing(self) -> bool:
        return self._writer.busy

    @asynccontextmanager
    async def transaction(self, *, wait: bool = True) -> AsyncIterator[SQLiteTransaction]:
        try:
            async with self._writer.transaction(wait=wait) as conn:
                yield SQLiteTransaction(conn, self._path)
        except sqlite3.Error as exc:  # BEGIN or COMMIT: locked past the timeout, disk full…
            raise store_error(self._path, exc) from exc
