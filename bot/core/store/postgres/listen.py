"""The store's generation announced with LISTEN/NOTIFY, on a connection of its own.

`bump_generation` NOTIFYs a channel at commit; `GenerationListener` LISTENs
on it (a pooled connection would drop its LISTEN when returned to the pool),
so `wait_generation_change` wakes as soon as any process commits a change.
While the connection is lost, waiters poll; it connects again (backing off)
the next time one waits, and LISTENs again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from bot.core.store.postgres.connection import APP_LISTEN, DRIVER_ERRORS, connect
from bot.core.store.postgres.jobs import close_quietly

_RETRY_FIRST = 0.5  # seconds before the listener's first reconnection attempt
_RETRY_MAX = 30.0


class GenerationListener:
    """LISTEN on one channel over a dedicated connection; an event per NOTIFY."""

    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self._conn: asyncpg.Connection | None = None
        self._changed = asyncio.Event()
        self._retry_at = 0.0
        self._backoff = _RETRY_FIRST
        self._closed = False

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up."""
        return self._conn is not None and not self._conn.is_closed()

    def event(self) -> asyncio.Event:
        """Set by the next notification (or the loss of the connection)."""
        return self._changed

    async def ensure(self) -> bool:
        """Listen if not listening yet (at most once per backoff period); True when listening."""
        if self.listening:
            return True
        loop = asyncio.get_running_loop()
        if self._closed or loop.time() < self._retry_at:
            return False
        try:
            conn = await connect(self._url, APP_LISTEN)
        except (*DRIVER_ERRORS, ValueError):
            self._retry_at = loop.time() + self._backoff
            self._backoff = min(self._backoff * 2, _RETRY_MAX)
            return False
        try:
            await conn.add_listener(self._channel, self._notified)
        except DRIVER_ERRORS:
            conn.terminate()
            self._retry_at = loop.time() + self._backoff
            return False
        conn.add_termination_listener(self._lost)
        self._conn = conn
        self._backoff = _RETRY_FIRST
        return True

    def _notified(self, *_: Any) -> None:
        self._wake()

    def _lost(self, *_: Any) -> None:
        self._conn = None
        self._wake()  # waiters go back to polling until it listens again

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def close(self) -> None:
        """Stop listening."""
        self._closed = True
        conn, self._conn = self._conn, None
        await close_quietly(conn)
