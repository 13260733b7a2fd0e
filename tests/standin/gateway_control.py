"""The stand-in's gateway server: HELLO/IDENTIFY/RESUME, heartbeats, member requests, and
the test's controls over it (dispatch, forced closes, RECONNECT, INVALID_SESSION, holds)."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from .gateway import GatewayConnection, GatewaySession, IdentifyRecord, ResumeRecord
from .protocol import (
    CLOSE_ALREADY_AUTHENTICATED,
    CLOSE_AUTHENTICATION_FAILED,
    CLOSE_DECODE_ERROR,
    CLOSE_GOING_AWAY,
    CLOSE_INVALID_INTENTS,
    CLOSE_INVALID_SHARD,
    CLOSE_NORMAL,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_UNKNOWN_ERROR,
    CLOSE_UNKNOWN_OPCODE,
    GUILD_PRESENCES,
    HEARTBEAT,
    HEARTBEAT_ACK,
    HELLO,
    IDENTIFY,
    INVALID_SESSION,
    PRESENCE_UPDATE,
    RECONNECT,
    REQUEST_GUILD_MEMBERS,
    RESUME,
    VOICE_STATE_UPDATE,
)
from .state import StandInState

log = logging.getLogger(__name__)


class GatewayControl(StandInState):
    """Gateway sessions: serving the websocket, and sending dispatches to the right shard."""

    def _live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if not s.invalid]

    def _session_for(self, guild_id: str | None) -> GatewaySession | None:
        for session in reversed(self._live_sessions()):
            if session.shard is None:
                return session
            shard_id, count = session.shard
            if guild_id is None:
                if shard_id == 0:
                    return session
            elif (int(guild_id) >> 22) % count == shard_id:
                return session
        return None

    async def dispatch_event(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: str | int | None = None,
        required: bool = True,
    ) -> int | None:
        """Send a dispatch to the session that owns ``guild_id`` (shard 0 for DMs).

        If the session is momentarily disconnected the event is buffered and replayed on
        RESUME, like Discord does. Returns the sequence number used.
        """
        session = self._session_for(str(guild_id) if guild_id is not None else None)
        if session is None:
            if required:
                raise RuntimeError(f"no bot session is connected to receive {event}")
            return None
        seq = await session.dispatch(event, data)
        self._notify()
        return seq

    async def force_close(
        self, code: int = CLOSE_UNKNOWN_ERROR, *, shard_id: int | None = None
    ) -> int:
        """Close live gateway sockets with ``code``; returns how many.

        The default, CLOSE_UNKNOWN_ERROR (4000), is resumable.
        """
        closed = 0
        for session in self._live_sessions():
            if shard_id is not None and session.shard_id != shard_id:
                continue
            conn = session.conn
            if conn is None or not conn.open:
                continue
            session.conn = None  # dispatches from now on are buffered for the RESUME
            await conn.close(code, "stand-in forced close")
            closed += 1
        return closed

    async def send_reconnect(self) -> None:
        """RECONNECT (opcode 7): ask every connected client to reconnect and resume."""
        for session in self._live_sessions():
            if session.conn is not None:
                await session.conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """INVALID_SESSION (opcode 9). With ``resumable=False`` the client has to IDENTIFY again."""
        for session in self._live_sessions():
            conn = session.conn
            if not resumable:
                session.invalid = True
            if conn is not None:
                await conn.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})

    def hold_gateway(self) -> None:
        """New gateway sockets wait before HELLO until ``release_gateway()``."""
        self._gate.clear()

    def release_gateway(self) -> None:
        """Let held gateway sockets go on to HELLO."""
        self._gate.set()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=False, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, path=request.path, query=dict(request.query))
        self.connections.append(conn)
        try:
            await self._gate.wait()
            if request.query.get("encoding", "json") != "json":
                await conn.close(
                    CLOSE_DECODE_ERROR, "Only JSON encoding is supported by the stand-in."
                )
                return ws
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["standin"]}
            await conn.send({"op": HELLO, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    self.errors.append(f"gateway: undecodable frame {msg.data!r:.200}")
                    await conn.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                    break
                self.gateway_received.append(data)
                await self._on_gateway_op(conn, data)
        except Exception as exc:
            log.exception("stand-in gateway handler crashed")
            self.errors.append(f"gateway handler crashed: {exc!r}")
        finally:
            conn.closing = True
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # A client closing with 1000/1001 (normal, going away) ends its session, as on
                # Discord.
                if ws.close_code in (CLOSE_NORMAL, CLOSE_GOING_AWAY):
                    session.invalid = True
            self._notify()
        return ws

    async def _on_gateway_op(self, conn: GatewayConnection, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        d = msg.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, d or {})
        elif op == RESUME:
            await self._resume(conn, d or {})
        elif conn.session is None:
            await conn.close(CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
        elif op == PRESENCE_UPDATE:
            self.presence_updates.append(d)
        elif op == VOICE_STATE_UPDATE:
            pass  # nothing to model; recorded in gateway_received
        elif op == REQUEST_GUILD_MEMBERS:
            await self._request_members(conn.session, d or {})
        else:
            self.errors.append(f"gateway: unknown opcode {op}: {msg!r:.200}")
            await conn.close(CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
            return
        token = d.get("token")
        if not token or (self.expected_token is not None and token != self.expected_token):
            await conn.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        if "intents" not in d:
            await conn.close(CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return
        shard = tuple(d["shard"]) if d.get("shard") is not None else None
        if shard is not None and not (0 <= shard[0] < shard[1]):
            await conn.close(CLOSE_INVALID_SHARD, "Invalid shard.")
            return
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            token=token,
            intents=int(d["intents"]),
            shard=shard,  # type: ignore[arg-type]
            identify=d,
        )
        session.conn = conn
        conn.session = session
        self.sessions[session.session_id] = session
        loop_time = asyncio.get_running_loop().time()
        self.identifies.append(
            IdentifyRecord(session.session_id, session.shard, session.intents, d, loop_time)
        )
        owned = [gid for gid in self.world.guilds if self._owns(session, gid)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": copy.deepcopy(self.world.bot_user),
            "user_settings": {},
            "session_type": "normal",
            "session_id": session.session_id,
            "resume_gateway_url": self.resume_gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [{"id": gid, "unavailable": True} for gid in owned],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east", "us-central"],
            "auth": {},
            "application": {"id": self.world.application_id, "flags": self.application_flags},
            "_trace": ["standin-gateway"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await session.dispatch("READY", ready)
        all_members = session.has_intent(GUILD_PRESENCES)
        for gid in owned:
            await session.dispatch(
                "GUILD_CREATE", self.world.guild_create(gid, all_members=all_members)
            )
        self._notify()

    @staticmethod
    def _owns(session: GatewaySession, guild_id: str) -> bool:
        if session.shard is None:
            return True
        return (int(guild_id) >> 22) % session.shard[1] == session.shard[0]

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        session = self.sessions.get(str(d.get("session_id")))
        if session is None or session.invalid or session.token != d.get("token"):
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.conn
        if old is not None and old is not conn and old.open:
            await old.close(CLOSE_UNKNOWN_ERROR, "Session resumed elsewhere.")
        conn.session = session
        seq = int(d.get("seq") or 0)
        replayed = await session.attach_and_replay(conn, seq)
        self.resumes.append(
            ResumeRecord(
                session.session_id, seq, replayed, conn.path, asyncio.get_running_loop().time()
            )
        )
        self._notify()

    async def _request_members(self, session: GatewaySession, d: dict[str, Any]) -> None:
        g = self.world.guild(str(d["guild_id"]))
        members = g["members"]
        if d.get("user_ids"):
            wanted = {str(u) for u in d["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif d.get("query"):
            query = d["query"].lower()
            members = [m for m in members if m["user"]["username"].lower().startswith(query)]
        if d.get("limit"):
            members = members[: int(d["limit"])]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for index, chunk in enumerate(chunks):
            data: dict[str, Any] = {
                "guild_id": g["id"],
                "members": copy.deepcopy(chunk),
                "chunk_index": index,
                "chunk_count": len(chunks),
                "not_found": [],
            }
            if d.get("nonce") is not None:
                data["nonce"] = d["nonce"]
            if d.get("presences"):
                data["presences"] = []
            await session.dispatch("GUILD_MEMBERS_CHUNK", data)
