"""Gateway sessions and connections (the websocket half of the stand-in)."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .protocol import DISPATCH

log = logging.getLogger(__name__)

REPLAY_BUFFER = 2000


class GatewayConnection:
    """One websocket. Sends JSON text frames, or a zlib-stream if the client asked for it."""

    def __init__(self, ws: web.WebSocketResponse, *, path: str, query: dict[str, str]) -> None:
        self.ws = ws
        self.path = path
        self.query = query
        self.session: GatewaySession | None = None
        self.closing = False
        self.sent: list[dict[str, Any]] = []
        # discord.py asks for compress=zlib-stream (or zstd-stream when a zstd module is
        # importable). zlib-stream is one deflate context for the whole connection, each
        # message ending in a Z_SYNC_FLUSH marker. Anything else gets plain text frames, which
        # discord.py also accepts (it only decompresses binary frames).
        self._zlib = zlib.compressobj() if query.get("compress") == "zlib-stream" else None

    @property
    def compression(self) -> str | None:
        return "zlib-stream" if self._zlib is not None else None

    @property
    def open(self) -> bool:
        return not self.closing and not self.ws.closed

    async def send(self, payload: dict[str, Any]) -> bool:
        if not self.open:
            return False
        text = json.dumps(payload, separators=(",", ":"))
        try:
            if self._zlib is not None:
                data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway send failed (%s); treating the connection as gone", exc)
            return False
        self.sent.append(payload)
        return True

    async def close(self, code: int, message: str = "") -> None:
        self.closing = True
        if not self.ws.closed:
            await self.ws.close(code=code, message=message.encode())


@dataclass
class GatewaySession:
    """A resumable session: sequence counter plus a replay buffer of sent dispatches."""

    session_id: str
    token: str
    intents: int
    shard: tuple[int, int] | None
    identify: dict[str, Any]
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))
    conn: GatewayConnection | None = None
    invalid: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    @property
    def connected(self) -> bool:
        return self.conn is not None and self.conn.open

    def has_intent(self, flag: int) -> bool:
        return bool(self.intents & flag)

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Number the event, keep it for RESUME, and send it if a socket is attached."""
        async with self.lock:
            self.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
            self.buffer.append(payload)
            if self.conn is not None and not await self.conn.send(payload):
                self.conn = None
            return self.seq

    async def attach_and_replay(self, conn: GatewayConnection, after_seq: int) -> int:
        """Attach a resumed socket, replay what it missed, then send RESUMED."""
        async with self.lock:
            self.conn = conn
            missed = [m for m in self.buffer if m["s"] > after_seq]
            for payload in missed:
                await conn.send(payload)
            self.seq += 1
            resumed = {"op": DISPATCH, "t": "RESUMED", "s": self.seq, "d": {}}
            self.buffer.append(resumed)
            await conn.send(resumed)
            return len(missed)


@dataclass
class ResumeRecord:
    session_id: str
    seq: int
    replayed: int
    path: str
    at: float


@dataclass
class IdentifyRecord:
    session_id: str
    shard: tuple[int, int] | None
    intents: int
    payload: dict[str, Any]
    at: float
