"""`JobLocks` for PostgreSQL: session advisory locks on a connection of their own.

A pooled connection is reset when it goes back to the pool (its session
advisory locks released), so the locks live on one dedicated connection for
as long as the store is open. The server releases them when that connection
ends, however the process died, so another process's next `try_hold` takes
the job over. `holds` asks the connection, so a lost one is noticed.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

import asyncpg

from bot.core.store.postgres.connection import APP_JOBS, DRIVER_ERRORS, connect

JOB_LOCK_CLASS = 0x6E6A6F62  # 'njob': the first key of every job lock, the job's hash the second
PING_TIMEOUT = 5.0  # seconds a job connection may take to answer before it counts as lost


async def close_quietly(conn: asyncpg.Connection | None) -> None:
    """Close `conn` (terminate it if it does not close in time); never raises."""
    if conn is None or conn.is_closed():
        return
    try:
        async with asyncio.timeout(2.0):
            await conn.close()
    except (TimeoutError, *DRIVER_ERRORS):
        conn.terminate()


class SessionLocks:
    """Job locks held on one dedicated connection of this process."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection | None = None
        self._held: set[str] = set()
        self._lock = asyncio.Lock()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._held.clear()  # a new session holds nothing
            self._conn = await connect(self._url, APP_JOBS)
        return self._conn

    async def _alive(self) -> bool:
        """True when the locks' connection still answers; forgets the locks otherwise."""
        conn = self._conn
        if conn is None or conn.is_closed():
            self._held.clear()
            return False
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation
            # that arrives as the ping answers, and the job it guards never stops.
            async with asyncio.timeout(PING_TIMEOUT):
                await conn.fetchval("SELECT 1")
        except (TimeoutError, *DRIVER_ERRORS):
            self._held.clear()
            self._conn = None
            conn.terminate()
            return False
        return True

    async def try_hold(self, job: str) -> bool:
        """Take `job`'s lock unless another session holds it; never waits for it."""
        async with self._lock:
            if job in self._held and await self._alive():
                return True
            conn = await self._connection()
            got = await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", JOB_LOCK_CLASS, job
            )
            if got:
                self._held.add(job)
            return bool(got)

    async def holds(self, job: str) -> bool:
        """True while `job`'s lock is held on a connection that still answers."""
        async with self._lock:
            return job in self._held and await self._alive()

    async def let_go(self, job: str) -> None:
        """Release `job`'s lock if held here."""
        async with self._lock:
            if job not in self._held:
                return
            self._held.discard(job)
            conn = self._conn
            if conn is not None and not conn.is_closed():
                # A server that stopped answering keeps the lock until the session ends.
                with suppress(TimeoutError, *DRIVER_ERRORS):
                    async with asyncio.timeout(PING_TIMEOUT):
                        await conn.fetchval(
                            "SELECT pg_advisory_unlock($1, hashtext($2))", JOB_LOCK_CLASS, job
                        )

    async def close(self) -> None:
        """Close the connection: the server releases every lock it held."""
        self._held.clear()
        conn, self._conn = self._conn, None
        await close_quietly(conn)


class JobLockQueries:
    """`JobLocks` of the store, on its `SessionLocks` (`_locks`)."""

    _locks: SessionLocks

    async def try_hold(self, job: str) -> bool:
        return await self._locks.try_hold(job)

    async def holds(self, job: str) -> bool:
        return await self._locks.holds(job)

    async def let_go(self, job: str) -> None:
        await self._locks.let_go(job)
