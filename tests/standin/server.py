# The wait_* helpers take ``timeout=`` on purpose: tests read better as
# ``await standin.wait_for_callback(it, timeout=1)`` than wrapped in asyncio.timeout blocks.
# ruff: noqa: ASYNC109
"""A small fake Discord (REST + gateway) that the real discord.py client can log into.

Ground truth for every shape here is discord.py 2.7's own code (http.py, gateway.py, state.py,
interactions.py, webhook/async_.py) plus Discord's documented behaviour. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import WSMsgType, web

from . import payloads as p
from . import validation as v
from .faults import KNOWN_ERRORS, Faults, RateLimits, rate_limited_body
from .gateway import (
    DIRECT_MESSAGES,
    GUILD_MESSAGES,
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
    GatewayConnection,
    GatewaySession,
    IdentifyRecord,
    ResumeRecord,
)
from .world import Ref, World, default_world

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
T = TypeVar("T")

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
# Flags a bot may set when creating a message; anything else is silently dropped by Discord.
CREATABLE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | v.IS_COMPONENTS_V2
EDITABLE_FLAGS = SUPPRESS_EMBEDS | v.IS_COMPONENTS_V2

# Which callback types Discord accepts for which interaction type.
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    p.APPLICATION_COMMAND: {4, 5, 9},
    p.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    p.APPLICATION_COMMAND_AUTOCOMPLETE: {8},
    p.MODAL_SUBMIT: {4, 5, 6, 7},
}
# Unverified bot: message-content and members intents are "limited", not denied.
DEFAULT_APPLICATION_FLAGS = (1 << 23) | (1 << 19) | (1 << 15)


# ----------------------------------------------------------------------------- records


@dataclass
class RecordedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request as the stand-in saw it, and what it answered."""

    method: str
    path: str  # relative to /api/v10, e.g. "/channels/1/messages"
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # JSON body, or the parsed ``payload_json`` part of a multipart body
    files: list[RecordedFile]
    at: float  # event-loop time (monotonic) when received
    wall: datetime
    route: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    fault: Any = None  # the FaultRule that answered, if any
    rate_limited: bool = False  # answered 429 by the enforced limiter
    done: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> int | None:
        return self.response.get("code") if isinstance(self.response, dict) else None

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class DispatchedInteraction:
    """An INTERACTION_CREATE the stand-in sent, and everything the bot did in reply."""

    payload: dict[str, Any]
    created_at: float
    standin: StandIn = field(repr=False)
    callback: RecordedRequest | None = None  # the accepted (first successful) callback
    attempts: list[RecordedRequest] = field(default_factory=list)  # every callback request
    acknowledged_at: float | None = None
    expired: bool = False
    original_message_id: str | None = None
    loading: bool = False
    ephemeral: bool = False
    followup_ids: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.payload["id"]

    @property
    def token(self) -> str:
        return self.payload["token"]

    @property
    def type(self) -> int:
        return self.payload["type"]

    @property
    def callback_type(self) -> int | None:
        return self.callback.json["type"] if self.callback is not None else None

    @property
    def original_message(self) -> dict[str, Any] | None:
        if self.original_message_id is None:
            return None
        return self.standin.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [self.standin.messages[m] for m in self.followup_ids if m in self.standin.messages]

    async def wait_callback(self, timeout: float = 2.0) -> RecordedRequest:
        return await self.standin.wait_for_callback(self.id, timeout=timeout)

    async def wait_followup(self, index: int = 0, timeout: float = 2.0) -> RecordedRequest:
        return await self.standin.wait_for_followup(self.id, index=index, timeout=timeout)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self) -> web.Response:
        headers = dict(self.headers)
        if self.status == 204 or self.body is None:
            return web.Response(status=self.status, headers=headers)
        # discord.py only parses JSON when Content-Type is exactly "application/json";
        # aiohttp's json_response would append "; charset=utf-8".
        headers["Content-Type"] = "application/json"
        return web.Response(
            status=self.status, body=json.dumps(self.body).encode(), headers=headers
        )


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.reply = Reply(status, body, headers or {})

    @classmethod
    def code(cls, code: int, message: str | None = None) -> ApiError:
        status, default = KNOWN_ERRORS[code]
        return cls(status, {"message": message or default, "code": code})

    @classmethod
    def form(cls, errors: dict[str, Any]) -> ApiError:
        return cls(400, {"code": 50035, "message": "Invalid Form Body", "errors": errors})


def _empty_message() -> ApiError:
    return ApiError(400, {"message": "Cannot send an empty message", "code": 50006})


Handler = Callable[..., Awaitable[Reply]]


@dataclass
class RouteSpec:
    method: str
    regex: re.Pattern[str]
    name: str
    handler: Handler
    auth: bool


SNOW = r"(?P<{}>\d+)"
TOKEN = r"(?P<token>[^/]+)"


class StandIn:
    """The fake Discord. Create, ``await start()``, point discord.py at it, ``await stop()``.

    The ``standin`` pytest fixture (tests/conftest.py) does all of that.
    """

    def __init__(
        self,
        *,
        world: World | None = None,
        shard_count: int = 1,
        interaction_deadline: float = 3.0,
        followup_ttl: float = 15 * 60.0,
        heartbeat_interval_ms: int = 41250,
        expected_token: str | None = None,
        enforce_permissions: bool = True,
        emit_message_events: bool = True,
        nonce_window: float = 300.0,
        strict_commands: bool = False,
    ) -> None:
        self.world: World = world or default_world()
        self.shard_count = shard_count
        self.interaction_deadline = interaction_deadline
        self.followup_ttl = followup_ttl
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.expected_token = expected_token
        self.enforce_permissions = enforce_permissions
        self.emit_message_events = emit_message_events
        self.nonce_window = nonce_window
        # When set, building an interaction for a command that was never synced is an error.
        self.strict_commands = strict_commands
        self.application_flags = DEFAULT_APPLICATION_FLAGS

        self.faults = Faults()
        self.ratelimits = RateLimits()

        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[str] = []
        self.errors: list[str] = []  # stand-in bugs and protocol violations; fail the test
        self.interactions: dict[str, DispatchedInteraction] = {}
        self._by_token: dict[str, DispatchedInteraction] = {}
        self.messages: dict[str, dict[str, Any]] = {}  # every message ever created, by id
        self.deleted_messages: set[str] = set()
        self.allowed_mentions: dict[str, Any] = {}  # message id -> allowed_mentions sent
        self._nonces: dict[tuple[str, str, str], tuple[str, float]] = {}
        self.global_commands: dict[str, dict[str, Any]] = {}  # by command id
        self.guild_commands: dict[str, dict[str, dict[str, Any]]] = {}  # guild id -> id -> cmd
        self._command_ids: dict[tuple[str | None, str, int], str] = {}

        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.identifies: list[IdentifyRecord] = []
        self.resumes: list[ResumeRecord] = []
        self.gateway_received: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.heartbeats = 0
        self._gate = asyncio.Event()
        self._gate.set()
        self._changed = asyncio.Event()

        self.port: int = 0
        self._runner: web.AppRunner | None = None
        self._routes: list[RouteSpec] = []
        self._install_routes()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        # A different path than the initial gateway, so tests can see discord.py used it.
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-resume", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        self._gate.set()
        for conn in list(self.connections):
            if conn.open:
                await conn.close(1001, "stand-in shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at this stand-in."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    def problems(self) -> list[str]:
        return [f"unknown route: {r}" for r in self.unknown_routes] + [
            f"stand-in error: {e}" for e in self.errors
        ]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "Discord stand-in saw problems:\n  " + "\n  ".join(problems)

    # ------------------------------------------------------------------- waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], T | None], *, timeout: float = 2.0, what: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` returns something truthy (re-checked on every change)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)

    def find_requests(
        self,
        method: str | None = None,
        path_pattern: str | None = None,
        *,
        route: str | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        ok: bool | None = None,
    ) -> list[RecordedRequest]:
        out = []
        for req in self.requests:
            if not req.done:
                continue
            if method is not None and req.method != method.upper():
                continue
            if path_pattern is not None and not re.fullmatch(path_pattern, req.path):
                continue
            if route is not None and req.route != route:
                continue
            if ok is not None and req.ok != ok:
                continue
            if predicate is not None and not predicate(req):
                continue
            out.append(req)
        return out

    async def wait_for_request(
        self,
        method: str | None = None,
        path_pattern: str | None = None,
        *,
        route: str | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        ok: bool | None = None,
        index: int = 0,
        timeout: float = 2.0,
    ) -> RecordedRequest:
        def found() -> RecordedRequest | None:
            hits = self.find_requests(method, path_pattern, route=route, predicate=predicate, ok=ok)
            return hits[index] if len(hits) > index else None

        return await self.wait_until(
            found, timeout=timeout, what=f"request #{index} {method or '*'} {path_pattern or route}"
        )

    async def wait_for_callback(
        self, interaction: str | int | DispatchedInteraction, *, timeout: float = 2.0
    ) -> RecordedRequest:
        """The first callback request for the interaction, whatever the stand-in answered."""
        iid = interaction.id if isinstance(interaction, DispatchedInteraction) else str(interaction)
        return await self.wait_for_request(
            "POST",
            route="interaction_callback",
            predicate=lambda r: r.params.get("interaction_id") == iid,
            timeout=timeout,
        )

    async def wait_for_followup(
        self,
        interaction: str | int | DispatchedInteraction,
        *,
        index: int = 0,
        timeout: float = 2.0,
    ) -> RecordedRequest:
        iid = interaction.id if isinstance(interaction, DispatchedInteraction) else str(interaction)
        token = self.interactions[iid].token
        return await self.wait_for_request(
            "POST",
            route="webhook_execute",
            predicate=lambda r: r.params.get("token") == token,
            index=index,
            timeout=timeout,
        )

    async def wait_for_message(
        self,
        channel: Ref,
        *,
        index: int = 0,
        timeout: float = 2.0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        ok: bool | None = True,
    ) -> RecordedRequest:
        """The ``index``-th (successful, by default) ``POST /channels/{id}/messages``."""
        channel_id = self._channel_id(channel)
        return await self.wait_for_request(
            "POST",
            route="create_message",
            predicate=lambda r: (
                r.params.get("channel_id") == channel_id and (predicate is None or predicate(r))
            ),
            ok=ok,
            index=index,
            timeout=timeout,
        )

    async def wait_for_identify(self, count: int = 1, *, timeout: float = 5.0) -> IdentifyRecord:
        return await self.wait_until(
            lambda: self.identifies[count - 1] if len(self.identifies) >= count else None,
            timeout=timeout,
            what=f"IDENTIFY #{count}",
        )

    async def wait_for_resume(self, count: int = 1, *, timeout: float = 5.0) -> ResumeRecord:
        return await self.wait_until(
            lambda: self.resumes[count - 1] if len(self.resumes) >= count else None,
            timeout=timeout,
            what=f"RESUME #{count}",
        )

    # ------------------------------------------------------------- message views

    def messages_in(self, channel: Ref, *, include_ephemeral: bool = False) -> list[dict]:
        """Live (not deleted) messages in a channel, oldest first."""
        channel_id = self._channel_id(channel)
        return [
            m
            for mid, m in self.messages.items()
            if m["channel_id"] == channel_id
            and mid not in self.deleted_messages
            and (include_ephemeral or not m["flags"] & EPHEMERAL)
        ]

    def _channel_id(self, channel: Ref) -> str:
        if isinstance(channel, Mapping):
            return str(channel["id"])
        if isinstance(channel, int) or str(channel).isdigit():
            return str(channel)
        return self.world.channel(channel)["id"]

    # --------------------------------------------------------- interaction builders

    def _context(self, *, user: Ref, channel: Ref | None, guild: Ref | None, dm: bool) -> dict:
        if dm or (channel is not None and self._is_dm(channel)):
            u = self.world.user(user)
            ch = self.world.open_dm(u) if channel is None else self.world.channel(channel)
            return {
                "application_id": self.world.application_id,
                "channel": copy.deepcopy(ch),
                "user": copy.deepcopy(u),
                "app_permissions": p.DM_PERMISSIONS,
            }
        ch_ref = channel if channel is not None else "general"
        g = self.world.guild(guild) if guild is not None else None
        ch = self.world.channel(ch_ref, guild=g)
        g = g or self.world.guild_of_channel(ch["id"])
        assert g is not None
        m = self.world.member(user, guild=g)
        member_perms = self.world.permissions_for(m, guild=g, channel=ch)
        bot_perms = self.world.permissions_for(self.world.bot_user["id"], guild=g, channel=ch)
        channel_payload = copy.deepcopy(ch)
        channel_payload["permissions"] = str(member_perms)
        return {
            "application_id": self.world.application_id,
            "channel": channel_payload,
            "guild_id": g["id"],
            "member": copy.deepcopy(m),
            "member_permissions": member_perms,
            "app_permissions": bot_perms,
            "guild_locale": g["preferred_locale"],
        }

    def _is_dm(self, channel: Ref) -> bool:
        found = self.world.find_channel(channel) if not isinstance(channel, Mapping) else channel
        return found is not None and found.get("type") == p.DM

    def _command_target(self, name: str, guild_id: str | None) -> tuple[str | None, str | None]:
        if guild_id is not None:
            for cmd in self.guild_commands.get(guild_id, {}).values():
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    return cmd["id"], guild_id
        for cmd in self.global_commands.values():
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd["id"], None
        if self.strict_commands:
            raise LookupError(f"/{name} was never synced to the stand-in")
        return None, None

    def slash(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user: Ref = "alice",
        channel: Ref | None = None,
        guild: Ref | None = None,
        dm: bool = False,
        locale: str = "en-US",
        resolved: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """INTERACTION_CREATE payload for ``/command`` (``"admin reload"`` for subcommands).

        Defaults: invoked by alice in #general of the default guild. The command id (and
        ``data.guild_id`` for guild commands) come from what the bot synced, if it did.
        """
        ctx = self._context(user=user, channel=channel, guild=guild, dm=dm)
        cmd_id, cmd_guild = self._command_target(command.split()[0], ctx.get("guild_id"))
        return p.slash_command_interaction(
            command,
            options,
            command_id=cmd_id,
            command_guild_id=cmd_guild,
            resolved=resolved,
            locale=locale,
            **ctx,
        )

    def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        focused: str | None = None,
        user: Ref = "alice",
        channel: Ref | None = None,
        guild: Ref | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Autocomplete (type 4). ``focused`` is the option being typed; defaults to the last."""
        ctx = self._context(user=user, channel=channel, guild=guild, dm=dm)
        cmd_id, cmd_guild = self._command_target(command.split()[0], ctx.get("guild_id"))
        if focused is None and isinstance(options, Mapping):
            focused = list(options)[-1]
        return p.autocomplete_interaction(
            command,
            options,
            focused=focused,
            command_id=cmd_id,
            command_guild_id=cmd_guild,
            locale=locale,
            **ctx,
        )

    def button(
        self,
        message: Mapping[str, Any] | str | int,
        custom_id: str,
        *,
        user: Ref = "alice",
        component_type: int = 2,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """A button press (or select, with ``component_type``/``values``) on a stored message."""
        msg = self.messages[str(message)] if not isinstance(message, Mapping) else message
        if custom_id not in _custom_ids(msg.get("components") or []):
            raise ValueError(f"message {msg['id']} has no component with custom_id {custom_id!r}")
        ctx = self._context(user=user, channel=msg["channel_id"], guild=None, dm=False)
        return p.component_interaction(
            custom_id,
            message=copy.deepcopy(msg),
            component_type=component_type,
            values=values,
            locale=locale,
            **ctx,
        )

    def modal_submit(
        self,
        custom_id: str,
        fields: Mapping[str, str],
        *,
        user: Ref = "alice",
        channel: Ref | None = None,
        message: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        ctx = self._context(user=user, channel=channel, guild=None, dm=False)
        return p.modal_submit_interaction(custom_id, fields, message=message, **ctx)

    async def dispatch_interaction(self, payload: Mapping[str, Any]) -> DispatchedInteraction:
        """Send INTERACTION_CREATE to the bot. The 3-second clock starts now."""
        data = copy.deepcopy(dict(payload))
        rec = DispatchedInteraction(
            payload=data, created_at=asyncio.get_running_loop().time(), standin=self
        )
        self.interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        await self.dispatch_event("INTERACTION_CREATE", data, guild_id=data.get("guild_id"))
        return rec

    # ------------------------------------------------------------ gateway control

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

    async def force_close(self, code: int = 4000, *, shard_id: int | None = None) -> int:
        """Close live gateway sockets with ``code`` (4000 = resumable). Returns how many."""
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
        """Opcode 7: ask every connected client to reconnect and resume."""
        for session in self._live_sessions():
            if session.conn is not None:
                await session.conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Opcode 9. With ``resumable=False`` the client has to IDENTIFY again."""
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
        self._gate.set()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=False, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, path=request.path, query=dict(request.query))
        self.connections.append(conn)
        try:
            await self._gate.wait()
            if request.query.get("encoding", "json") != "json":
                await conn.close(4002, "Only JSON encoding is supported by the stand-in.")
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
                    await conn.close(4002, "Error while decoding payload.")
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
                # A client closing with 1000/1001 ends its session (Discord semantics).
                if ws.close_code in (1000, 1001):
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
            await conn.close(4003, "Not authenticated.")
        elif op == PRESENCE_UPDATE:
            self.presence_updates.append(d)
        elif op == VOICE_STATE_UPDATE:
            pass  # nothing to model; recorded in gateway_received
        elif op == REQUEST_GUILD_MEMBERS:
            await self._request_members(conn.session, d or {})
        else:
            self.errors.append(f"gateway: unknown opcode {op}: {msg!r:.200}")
            await conn.close(4001, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        token = d.get("token")
        if not token or (self.expected_token is not None and token != self.expected_token):
            await conn.close(4004, "Authentication failed.")
            return
        if "intents" not in d:
            await conn.close(4013, "Invalid intent(s).")
            return
        shard = tuple(d["shard"]) if d.get("shard") is not None else None
        if shard is not None and not (0 <= shard[0] < shard[1]):
            await conn.close(4010, "Invalid shard.")
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
            await old.close(4000, "Session resumed elsewhere.")
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

    # ------------------------------------------------------------------- REST core

    def add_route(
        self, method: str, pattern: str, handler: Handler, *, name: str, auth: bool = True
    ) -> None:
        """Register an extra REST route (pattern is a regex over the path after /api/v10).

        The handler is called as ``await handler(request, **named_groups)`` and returns a
        ``Reply`` (or raises ``ApiError``).
        """
        self._routes.append(RouteSpec(method.upper(), re.compile(pattern), name, handler, auth))

    def _install_routes(self) -> None:
        s = SNOW.format
        app = s("application_id")
        chan = s("channel_id")
        r = self.add_route
        r("GET", r"/users/@me", self._get_me, name="get_current_user")
        r("GET", rf"/users/{s('user_id')}", self._get_user, name="get_user")
        r("POST", r"/users/@me/channels", self._open_dm, name="create_dm")
        r("GET", r"/gateway", self._get_gateway, name="get_gateway", auth=False)
        r("GET", r"/gateway/bot", self._get_gateway_bot, name="get_gateway_bot")
        r("GET", r"/oauth2/applications/@me", self._get_application, name="get_application")
        r("GET", r"/applications/@me", self._get_application, name="get_application")
        cmds = rf"/applications/{app}/commands"
        gcmds = rf"/applications/{app}/guilds/{s('guild_id')}/commands"
        r("GET", cmds, self._get_commands, name="get_global_commands")
        r("PUT", cmds, self._put_commands, name="bulk_overwrite_global_commands")
        r("POST", cmds, self._post_command, name="create_global_command")
        r(
            "DELETE",
            rf"{cmds}/{s('command_id')}",
            self._delete_command,
            name="delete_global_command",
        )
        r("GET", gcmds, self._get_commands, name="get_guild_commands")
        r("PUT", gcmds, self._put_commands, name="bulk_overwrite_guild_commands")
        r("POST", gcmds, self._post_command, name="create_guild_command")
        r(
            "DELETE",
            rf"{gcmds}/{s('command_id')}",
            self._delete_command,
            name="delete_guild_command",
        )
        r(
            "POST",
            rf"/interactions/{s('interaction_id')}/{TOKEN}/callback",
            self._interaction_callback,
            name="interaction_callback",
            auth=False,
        )
        hook = rf"/webhooks/{app}/{TOKEN}"
        msg_ref = r"(?P<message_id>@original|\d+)"
        r("POST", hook, self._webhook_execute, name="webhook_execute", auth=False)
        r(
            "GET",
            rf"{hook}/messages/{msg_ref}",
            self._webhook_get,
            name="webhook_get_message",
            auth=False,
        )
        r(
            "PATCH",
            rf"{hook}/messages/{msg_ref}",
            self._webhook_edit,
            name="webhook_edit_message",
            auth=False,
        )
        r(
            "DELETE",
            rf"{hook}/messages/{msg_ref}",
            self._webhook_delete,
            name="webhook_delete_message",
            auth=False,
        )
        r("GET", rf"/channels/{chan}", self._get_channel, name="get_channel")
        r("POST", rf"/channels/{chan}/typing", self._typing, name="trigger_typing")
        r("GET", rf"/channels/{chan}/messages", self._list_messages, name="get_messages")
        r("POST", rf"/channels/{chan}/messages", self._create_message, name="create_message")
        one = rf"/channels/{chan}/messages/{s('message_id')}"
        r("GET", one, self._get_message, name="get_message")
        r("PATCH", one, self._edit_message, name="edit_message")
        r("DELETE", one, self._delete_message, name="delete_message")
        guild = rf"/guilds/{s('guild_id')}"
        r("GET", guild, self._get_guild, name="get_guild")
        r("GET", rf"{guild}/channels", self._get_guild_channels, name="get_guild_channels")
        r("GET", rf"{guild}/roles", self._get_guild_roles, name="get_guild_roles")
        r("GET", rf"{guild}/members/{s('user_id')}", self._get_member, name="get_guild_member")

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        rel = request.path[len(API_PREFIX) :] if request.path.startswith(API_PREFIX + "/") else None
        rec = RecordedRequest(
            method=request.method,
            path=rel if rel is not None else request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=None,
            files=[],
            at=loop.time(),
            wall=datetime.now(tz=UTC),
        )
        self.requests.append(rec)
        try:
            reply = await self._process(rec, request, known_prefix=rel is not None)
        except ApiError as exc:
            reply = exc.reply
        except Exception as exc:
            log.exception("stand-in REST handler crashed")
            self.errors.append(f"{rec.method} {rec.path} crashed: {exc!r}")
            # 503, not 500: discord.py retries 500s with 1+3+5+7 s sleeps, which would only
            # delay the failure; the recorded error fails the test at fixture teardown.
            reply = Reply(503, {"message": f"stand-in crashed: {exc!r}", "code": 0})
        rec.status, rec.response, rec.response_headers = reply.status, reply.body, reply.headers
        rec.done = True
        self._notify()
        return reply.to_response()

    async def _process(
        self, rec: RecordedRequest, request: web.Request, *, known_prefix: bool
    ) -> Reply:
        await self._read_body(rec, request)
        spec, params = self._match(rec.method, rec.path) if known_prefix else (None, {})
        if spec is None:
            self.unknown_routes.append(f"{rec.method} {request.path_qs}")
            return Reply(404, {"message": "404: Not Found", "code": 0})
        rec.route, rec.params = spec.name, params
        if spec.auth:
            auth = request.headers.get("Authorization", "")
            wanted = f"Bot {self.expected_token}" if self.expected_token else None
            if not auth.startswith("Bot ") or (wanted is not None and auth != wanted):
                return Reply(401, {"message": "401: Unauthorized", "code": 0})
        fault = self.faults.match(rec.method, rec.path)
        if fault is not None:
            rec.fault = fault
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:  # status 0 = "only slow this request down"
                status, body, headers = fault.response()
                return Reply(status, body, headers)
        decision = self.ratelimits.check(rec.method, rec.path, asyncio.get_running_loop().time())
        if decision is not None and not decision.allowed:
            rec.rate_limited = True
            body = rate_limited_body(decision.retry_after, is_global=False)
            return Reply(429, body, decision.headers)
        reply = await spec.handler(rec, **params)
        if decision is not None:
            reply.headers = {**decision.headers, **reply.headers}
        return reply

    def _match(self, method: str, path: str) -> tuple[RouteSpec | None, dict[str, str]]:
        for spec in self._routes:
            if spec.method == method:
                m = spec.regex.fullmatch(path)
                if m is not None:
                    return spec, m.groupdict()
        return None, {}

    async def _read_body(self, rec: RecordedRequest, request: web.Request) -> None:
        if not request.can_read_body:
            return
        ctype = request.content_type
        if ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part is None:
                    break
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    rec.json = self._parse_json(data)
                else:
                    rec.files.append(
                        RecordedFile(
                            field=part.name or "",  # type: ignore[union-attr]
                            filename=part.filename,  # type: ignore[union-attr]
                            content_type=part.headers.get("Content-Type"),
                            data=bytes(data),
                        )
                    )
            return
        raw = await request.read()
        if not raw:
            return
        if ctype != "application/json":
            raise ApiError(400, {"message": f"Unsupported Content-Type {ctype!r}", "code": 50035})
        rec.json = self._parse_json(raw)

    @staticmethod
    def _parse_json(raw: bytes | bytearray) -> Any:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(
                400, {"message": "The request body contains invalid JSON.", "code": 50109}
            ) from exc

    # -------------------------------------------------------------- REST: basics

    async def _get_me(self, req: RecordedRequest) -> Reply:
        return Reply(200, copy.deepcopy(self.world.bot_user))

    async def _get_user(self, req: RecordedRequest, user_id: str) -> Reply:
        try:
            return Reply(200, copy.deepcopy(self.world.user(user_id)))
        except KeyError:
            raise ApiError.code(10013) from None

    async def _open_dm(self, req: RecordedRequest) -> Reply:
        body = req.json or {}
        try:
            u = self.world.user(str(body.get("recipient_id")))
        except KeyError:
            raise ApiError(400, {"message": "Invalid Recipient(s)", "code": 50033}) from None
        return Reply(200, copy.deepcopy(self.world.open_dm(u)))

    async def _get_gateway(self, req: RecordedRequest) -> Reply:
        return Reply(200, {"url": self.gateway_url})

    async def _get_gateway_bot(self, req: RecordedRequest) -> Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        body = {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}
        return Reply(200, body)

    async def _get_application(self, req: RecordedRequest) -> Reply:
        owner = (
            self.world.user(self.world.guild()["owner_id"])
            if self.world.guilds
            else self.world.bot_user
        )
        body = p.application(
            id=self.world.application_id,
            bot=self.world.bot_user,
            owner=owner,
            name=self.world.bot_user["username"],
            flags=self.application_flags,
        )
        return Reply(200, body)

    # ------------------------------------------------------------ REST: commands

    def _check_app(self, application_id: str) -> None:
        if application_id != self.world.application_id:
            raise ApiError(403, {"message": "Missing Access", "code": 50001})

    def _command_store(self, guild_id: str | None) -> dict[str, dict[str, Any]]:
        if guild_id is None:
            return self.global_commands
        if guild_id not in self.world.guilds:
            raise ApiError(403, {"message": "Missing Access", "code": 50001})
        return self.guild_commands.setdefault(guild_id, {})

    def _store_command(self, body: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
        kind = body.get("type", 1)
        key = (guild_id, body["name"], kind)
        # Discord keeps a command's id across overwrites as long as name and type match.
        cmd_id = self._command_ids.setdefault(key, p.snowflake())
        stored = {
            "id": cmd_id,
            "application_id": self.world.application_id,
            "version": p.snowflake(),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", ""),
            "description_localizations": body.get("description_localizations"),
            "options": body.get("options", []),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": body.get("nsfw", False),
            "integration_types": body.get("integration_types", [0]),
            "contexts": body.get("contexts"),
        }
        if guild_id is not None:
            stored["guild_id"] = guild_id
        else:
            stored["dm_permission"] = body.get("dm_permission", True)
        return stored

    async def _get_commands(
        self, req: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> Reply:
        self._check_app(application_id)
        return Reply(200, copy.deepcopy(list(self._command_store(guild_id).values())))

    async def _put_commands(
        self, req: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> Reply:
        self._check_app(application_id)
        store = self._command_store(guild_id)
        errors = v.validate_commands(req.json)
        if errors:
            raise ApiError.form(errors)
        store.clear()
        for body in req.json:
            stored = self._store_command(body, guild_id)
            store[stored["id"]] = stored
        return Reply(200, copy.deepcopy(list(store.values())))

    async def _post_command(
        self, req: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> Reply:
        self._check_app(application_id)
        store = self._command_store(guild_id)
        errors = v.validate_commands([req.json])
        if errors:
            raise ApiError.form(errors.get("0", errors))
        stored = self._store_command(req.json, guild_id)
        created = stored["id"] not in store
        store[stored["id"]] = stored
        return Reply(201 if created else 200, copy.deepcopy(stored))

    async def _delete_command(
        self,
        req: RecordedRequest,
        application_id: str,
        command_id: str,
        guild_id: str | None = None,
    ) -> Reply:
        self._check_app(application_id)
        store = self._command_store(guild_id)
        if store.pop(command_id, None) is None:
            raise ApiError(404, {"message": "Unknown application command", "code": 10063})
        return Reply(204)

    # ---------------------------------------------------------- REST: interactions

    async def _interaction_callback(
        self, req: RecordedRequest, interaction_id: str, token: str
    ) -> Reply:
        now = asyncio.get_running_loop().time()
        rec = self.interactions.get(interaction_id)
        if rec is None or rec.token != token:
            raise ApiError.code(10062)
        rec.attempts.append(req)
        if rec.callback is not None:
            raise ApiError.code(40060)
        if rec.expired or now - rec.created_at > self.interaction_deadline:
            rec.expired = True
            raise ApiError.code(10062)
        body = req.json
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            errors: dict[str, Any] = {}
            v.add_error(errors, ["type"], "BASE_TYPE_REQUIRED", "This field is required")
            raise ApiError.form(errors)
        ctype = body["type"]
        data = body.get("data") or {}
        if ctype not in ALLOWED_CALLBACKS.get(rec.type, set()):
            errors = {}
            v.add_error(
                errors,
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {ctype} is not valid for interaction type {rec.type}.",
            )
            raise ApiError.form(errors)
        self._validate_callback(ctype, data, files=len(req.files))

        rec.callback = req
        rec.acknowledged_at = now
        message: dict[str, Any] | None = None
        if ctype in (4, 5):
            rec.ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
            rec.loading = ctype == 5
            message = await self._new_message(
                channel_id=rec.payload["channel_id"],
                body=data if ctype == 4 else {},
                files=req.files,
                extra_flags=(LOADING if ctype == 5 else 0) | (EPHEMERAL if rec.ephemeral else 0),
                msg_type=20 if rec.type == p.APPLICATION_COMMAND else 0,
                interaction=rec,
            )
            rec.original_message_id = message["id"]
        elif ctype in (6, 7):
            message = self._component_message(rec)
            if message is not None:
                rec.original_message_id = message["id"]
                rec.ephemeral = bool(message["flags"] & EPHEMERAL)
                if ctype == 7:
                    await self._apply_edit(message, data, req.files)
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return Reply(204)
        # Shape from discord.py's InteractionCallbackResponse._update.
        interaction: dict[str, Any] = {
            "id": rec.id,
            "type": rec.type,
            "activity_instance_id": None,
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": rec.ephemeral,
        }
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            resource["message"] = copy.deepcopy(message)
        return Reply(200, {"interaction": interaction, "resource": resource})

    def _validate_callback(self, ctype: int, data: dict[str, Any], *, files: int) -> None:
        if ctype in (4, 7):
            errors = v.validate_message(data, ["data"])
            if errors:
                raise ApiError.form(errors)
            if ctype == 4 and v.is_empty_message(data, files=files):
                raise _empty_message()
        elif ctype == 8:
            errors = v.validate_choices(data.get("choices"), ["data", "choices"])
            if errors:
                raise ApiError.form(errors)
        elif ctype == 9:
            errors = {}
            if not data.get("custom_id"):
                v.add_error(
                    errors, ["data", "custom_id"], "BASE_TYPE_REQUIRED", "This field is required"
                )
            title = data.get("title")
            if not title or len(title) > 45:
                v.add_error(
                    errors,
                    ["data", "title"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 45 in length.",
                )
            if not 1 <= len(data.get("components") or []) <= 5:
                v.add_error(
                    errors,
                    ["data", "components"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
            if errors:
                raise ApiError.form(errors)

    def _component_message(self, rec: DispatchedInteraction) -> dict[str, Any] | None:
        msg = rec.payload.get("message")
        if msg is None:
            return None
        stored = self.messages.get(msg["id"])
        if stored is None:  # a message the test built by hand: adopt it
            stored = copy.deepcopy(msg)
            self.messages[stored["id"]] = stored
        return stored

    def _webhook_interaction(self, application_id: str, token: str) -> DispatchedInteraction:
        rec = self._by_token.get(token)
        if rec is None or application_id != self.world.application_id:
            raise ApiError.code(10015)
        if rec.acknowledged_at is None:
            # The interaction webhook only exists once the interaction was acknowledged.
            raise ApiError.code(10015)
        if asyncio.get_running_loop().time() - rec.acknowledged_at > self.followup_ttl:
            raise ApiError.code(50027)
        return rec

    def _webhook_message(self, rec: DispatchedInteraction, message_id: str) -> dict[str, Any]:
        mid = rec.original_message_id if message_id == "@original" else message_id
        if mid is None or mid in self.deleted_messages:
            raise ApiError.code(10008)
        if mid != rec.original_message_id and mid not in rec.followup_ids:
            raise ApiError.code(10008)
        return self.messages[mid]

    async def _webhook_execute(
        self, req: RecordedRequest, application_id: str, token: str
    ) -> Reply:
        rec = self._webhook_interaction(application_id, token)
        body = req.json or {}
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        if v.is_empty_message(body, files=len(req.files)):
            raise _empty_message()
        if rec.loading and rec.original_message_id is not None:
            # The first followup after a type-5 defer resolves the "thinking" message instead
            # of posting a new one, and keeps the defer's ephemeral state.
            message = self.messages[rec.original_message_id]
            await self._apply_edit(message, {**body, "flags": message["flags"]}, req.files)
            rec.loading = False
        else:
            flags = body.get("flags") or 0
            message = await self._new_message(
                channel_id=rec.payload["channel_id"],
                body=body,
                files=req.files,
                extra_flags=flags & EPHEMERAL,
                msg_type=0,
                interaction=rec,
            )
        rec.followup_ids.append(message["id"])
        # Interaction followups always behave as wait=true.
        return Reply(200, copy.deepcopy(message))

    async def _webhook_get(
        self, req: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> Reply:
        rec = self._webhook_interaction(application_id, token)
        return Reply(200, copy.deepcopy(self._webhook_message(rec, message_id)))

    async def _webhook_edit(
        self, req: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> Reply:
        rec = self._webhook_interaction(application_id, token)
        message = self._webhook_message(rec, message_id)
        body = req.json or {}
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        await self._apply_edit(message, body, req.files)
        if message["id"] == rec.original_message_id:
            rec.loading = False
        return Reply(200, copy.deepcopy(message))

    async def _webhook_delete(
        self, req: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> Reply:
        rec = self._webhook_interaction(application_id, token)
        message = self._webhook_message(rec, message_id)
        await self._delete(message)
        return Reply(204)

    # ------------------------------------------------------------ REST: channels

    def _channel(self, channel_id: str) -> dict[str, Any]:
        ch = self.world.find_channel(channel_id)
        if ch is None:
            raise ApiError.code(10003)
        return ch

    def _check_bot_can(self, ch: dict[str, Any], needed: int) -> int:
        if ch["type"] == p.DM or not self.enforce_permissions:
            return p.ALL_PERMISSIONS
        g = self.world.guild_of_channel(ch["id"])
        assert g is not None
        perms = self.world.permissions_for(self.world.bot_user["id"], guild=g, channel=ch)
        if not perms & p.VIEW_CHANNEL:
            raise ApiError.code(50001)
        if needed and (perms & needed) != needed:
            raise ApiError.code(50013)
        return perms

    async def _get_channel(self, req: RecordedRequest, channel_id: str) -> Reply:
        ch = self._channel(channel_id)
        self._check_bot_can(ch, 0)
        return Reply(200, copy.deepcopy(ch))

    async def _typing(self, req: RecordedRequest, channel_id: str) -> Reply:
        self._check_bot_can(self._channel(channel_id), p.SEND_MESSAGES)
        return Reply(204)

    async def _list_messages(self, req: RecordedRequest, channel_id: str) -> Reply:
        ch = self._channel(channel_id)
        self._check_bot_can(ch, discord.Permissions(read_message_history=True).value)
        limit = int(req.query.get("limit", 50))
        newest_first = list(reversed(self.messages_in(channel_id)))
        return Reply(200, copy.deepcopy(newest_first[:limit]))

    async def _create_message(self, req: RecordedRequest, channel_id: str) -> Reply:
        ch = self._channel(channel_id)
        if ch["type"] == p.DM and ch["recipients"][0]["id"] in self.world.closed_dms:
            raise ApiError.code(50007)
        perms = self._check_bot_can(ch, p.SEND_MESSAGES | (p.ATTACH_FILES if req.files else 0))
        body = dict(req.json or {})
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        if v.is_empty_message(body, files=len(req.files)):
            raise _empty_message()
        if body.get("embeds") and not perms & p.EMBED_LINKS:
            # Discord accepts the message but drops embeds the bot may not post.
            body["embeds"] = []
        nonce = body.get("nonce")
        author_id = self.world.bot_user["id"]
        now = asyncio.get_running_loop().time()
        if nonce is not None and body.get("enforce_nonce"):
            key = (channel_id, author_id, str(nonce))
            previous = self._nonces.get(key)
            if previous is not None and now - previous[1] <= self.nonce_window:
                existing = self.messages.get(previous[0])
                if existing is not None:
                    return Reply(200, copy.deepcopy(existing))
        message = await self._new_message(
            channel_id=channel_id,
            body=body,
            files=req.files,
            extra_flags=0,
            msg_type=19 if body.get("message_reference") else 0,
        )
        if nonce is not None:
            self._nonces[(channel_id, author_id, str(nonce))] = (message["id"], now)
        return Reply(200, copy.deepcopy(message))

    def _channel_message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self._channel(channel_id)
        msg = self.messages.get(message_id)
        if msg is None or msg["channel_id"] != channel_id or message_id in self.deleted_messages:
            raise ApiError.code(10008)
        return msg

    async def _get_message(self, req: RecordedRequest, channel_id: str, message_id: str) -> Reply:
        self._check_bot_can(self._channel(channel_id), 0)
        return Reply(200, copy.deepcopy(self._channel_message(channel_id, message_id)))

    async def _edit_message(self, req: RecordedRequest, channel_id: str, message_id: str) -> Reply:
        self._check_bot_can(self._channel(channel_id), 0)
        msg = self._channel_message(channel_id, message_id)
        if msg["author"]["id"] != self.world.bot_user["id"]:
            raise ApiError(
                403, {"message": "Cannot edit a message authored by another user", "code": 50005}
            )
        body = req.json or {}
        errors = v.validate_message(body)
        if errors:
            raise ApiError.form(errors)
        await self._apply_edit(msg, body, req.files)
        return Reply(200, copy.deepcopy(msg))

    async def _delete_message(
        self, req: RecordedRequest, channel_id: str, message_id: str
    ) -> Reply:
        ch = self._channel(channel_id)
        msg = self._channel_message(channel_id, message_id)
        if msg["author"]["id"] != self.world.bot_user["id"]:
            self._check_bot_can(ch, discord.Permissions(manage_messages=True).value)
        await self._delete(msg)
        return Reply(204)

    # -------------------------------------------------------------- REST: guilds

    def _guild(self, guild_id: str) -> dict[str, Any]:
        try:
            return self.world.guild(guild_id)
        except KeyError:
            raise ApiError(404, {"message": "Unknown Guild", "code": 10004}) from None

    async def _get_guild(self, req: RecordedRequest, guild_id: str) -> Reply:
        g = copy.deepcopy(self._guild(guild_id))
        for key in ("channels", "members", "threads", "presences", "voice_states", "joined_at"):
            g.pop(key, None)  # GET /guilds/{id} is the guild without gateway-only fields
        return Reply(200, g)

    async def _get_guild_channels(self, req: RecordedRequest, guild_id: str) -> Reply:
        return Reply(200, copy.deepcopy(self._guild(guild_id)["channels"]))

    async def _get_guild_roles(self, req: RecordedRequest, guild_id: str) -> Reply:
        return Reply(200, copy.deepcopy(self._guild(guild_id)["roles"]))

    async def _get_member(self, req: RecordedRequest, guild_id: str, user_id: str) -> Reply:
        found = self.world.find_member(user_id, guild=self._guild(guild_id))
        if found is None:
            raise ApiError(404, {"message": "Unknown Member", "code": 10007})
        return Reply(200, copy.deepcopy(found))

    # ----------------------------------------------------------- message storage

    def _mentions(
        self, content: str, allowed: Mapping[str, Any] | None, guild: dict[str, Any] | None
    ) -> tuple[bool, list[dict[str, Any]], list[str]]:
        # No allowed_mentions means "parse everything", exactly like Discord.
        parse = (
            set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
        )
        users_ok = {str(u) for u in (allowed or {}).get("users", [])}
        roles_ok = {str(r) for r in (allowed or {}).get("roles", [])}
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        mentions = []
        for uid in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)):
            if ("users" in parse or uid in users_ok) and uid in self.world.users:
                mentions.append(p.public_user(self.world.users[uid]))
        roles = []
        if guild is not None:
            guild_roles = {r["id"] for r in guild["roles"]}
            for rid in dict.fromkeys(re.findall(r"<@&(\d+)>", content)):
                if ("roles" in parse or rid in roles_ok) and rid in guild_roles:
                    roles.append(rid)
        return everyone, mentions, roles

    def _attachments(
        self, body: Mapping[str, Any], files: Sequence[RecordedFile], channel_id: str
    ) -> list[dict[str, Any]]:
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = []
        for index, f in enumerate(files):
            meta = described.get(str(index), {})
            out.append(
                p.attachment(
                    meta.get("filename") or f.filename or f"file{index}",
                    size=len(f.data),
                    content_type=f.content_type,
                    description=meta.get("description"),
                    channel_id=channel_id,
                )
            )
        return out

    async def _new_message(
        self,
        *,
        channel_id: str,
        body: Mapping[str, Any],
        files: Sequence[RecordedFile],
        extra_flags: int,
        msg_type: int,
        interaction: DispatchedInteraction | None = None,
    ) -> dict[str, Any]:
        guild = self.world.guild_of_channel(channel_id)
        everyone, mentions, roles = self._mentions(
            body.get("content") or "", body.get("allowed_mentions"), guild
        )
        metadata = None
        webhook_id = application_id = None
        if interaction is not None:
            invoker = interaction.payload.get("member", {}).get("user") or interaction.payload.get(
                "user"
            )
            metadata = {
                "id": interaction.id,
                "type": interaction.type,
                "user": invoker,
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.type == p.APPLICATION_COMMAND:
                metadata["name"] = interaction.payload["data"]["name"]
                metadata["command_type"] = 1
            if interaction.type == p.MESSAGE_COMPONENT:
                metadata["interacted_message_id"] = interaction.payload["message"]["id"]
            if interaction.original_message_id is not None:
                metadata["original_response_message_id"] = interaction.original_message_id
            webhook_id = application_id = self.world.application_id
        message = p.message(
            channel_id=channel_id,
            author=self.world.bot_user,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=self._attachments(body, files, channel_id),
            flags=((body.get("flags") or 0) & CREATABLE_FLAGS) | extra_flags,
            type=msg_type,
            tts=bool(body.get("tts")),
            nonce=body.get("nonce"),
            webhook_id=webhook_id,
            application_id=application_id,
            interaction_metadata=metadata,
            mentions=mentions,
            mention_roles=roles,
            mention_everyone=everyone,
            message_reference=body.get("message_reference"),
        )
        self.messages[message["id"]] = message
        self.allowed_mentions[message["id"]] = copy.deepcopy(body.get("allowed_mentions"))
        await self._message_event("MESSAGE_CREATE", message, guild)
        return message

    async def _apply_edit(
        self, message: dict[str, Any], body: Mapping[str, Any], files: Sequence[RecordedFile]
    ) -> None:
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = [p.normalise_embed(e) for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = copy.deepcopy(body["components"] or [])
        if "attachments" in body or files:
            keep_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = [a for a in message["attachments"] if a["id"] in keep_ids]
            message["attachments"] = kept + self._attachments(body, files, message["channel_id"])
        if "flags" in body and body["flags"] is not None:
            fixed = message["flags"] & ~EDITABLE_FLAGS
            message["flags"] = fixed | (body["flags"] & EDITABLE_FLAGS)
        message["flags"] &= ~LOADING
        if "allowed_mentions" in body:
            self.allowed_mentions[message["id"]] = copy.deepcopy(body["allowed_mentions"])
        guild = self.world.guild_of_channel(message["channel_id"])
        everyone, mentions, roles = self._mentions(
            message["content"], self.allowed_mentions.get(message["id"]), guild
        )
        message.update(mention_everyone=everyone, mentions=mentions, mention_roles=roles)
        message["edited_timestamp"] = datetime.now(tz=UTC).isoformat()
        await self._message_event("MESSAGE_UPDATE", message, guild)

    async def _delete(self, message: dict[str, Any]) -> None:
        self.deleted_messages.add(message["id"])
        guild = self.world.guild_of_channel(message["channel_id"])
        if not self.emit_message_events or message["flags"] & EPHEMERAL:
            return
        data: dict[str, Any] = {"id": message["id"], "channel_id": message["channel_id"]}
        if guild is not None:
            data["guild_id"] = guild["id"]
        await self._send_message_event("MESSAGE_DELETE", data, guild)

    async def _message_event(
        self, event: str, message: dict[str, Any], guild: dict[str, Any] | None
    ) -> None:
        if not self.emit_message_events or message["flags"] & EPHEMERAL:
            return
        data = copy.deepcopy(message)
        if guild is not None:
            data["guild_id"] = guild["id"]
            author_member = self.world.find_member(message["author"]["id"], guild=guild)
            if author_member is not None:
                data["member"] = {k: val for k, val in author_member.items() if k != "user"}
        await self._send_message_event(event, data, guild)

    async def _send_message_event(
        self, event: str, data: dict[str, Any], guild: dict[str, Any] | None
    ) -> None:
        session = self._session_for(guild["id"] if guild is not None else None)
        if session is None:
            return
        needed = GUILD_MESSAGES if guild is not None else DIRECT_MESSAGES
        if session.has_intent(needed):
            await self.dispatch_event(
                event, data, guild_id=guild["id"] if guild else None, required=False
            )

    async def user_message(
        self, channel: Ref, content: str, *, author: Ref = "alice"
    ) -> dict[str, Any]:
        """A message typed by a (non-bot) user, delivered to the bot as MESSAGE_CREATE."""
        ch = self.world.channel(channel) if not isinstance(channel, Mapping) else channel
        u = self.world.user(author)
        guild = self.world.guild_of_channel(ch["id"])
        everyone, mentions, roles = self._mentions(content, None, guild)
        message = p.message(
            channel_id=ch["id"],
            author=u,
            content=content,
            mentions=mentions,
            mention_roles=roles,
            mention_everyone=everyone,
        )
        self.messages[message["id"]] = message
        data = copy.deepcopy(message)
        session = self._session_for(guild["id"] if guild else None)
        if session is not None and not session.has_intent(1 << 15):
            # Without the message-content intent Discord blanks content unless the bot is
            # mentioned (or it is a DM).
            bot_id = self.world.bot_user["id"]
            if guild is not None and not any(m["id"] == bot_id for m in mentions):
                data.update(content="", embeds=[], attachments=[], components=[])
        if guild is not None:
            data["guild_id"] = guild["id"]
            m = self.world.find_member(u["id"], guild=guild)
            if m is not None:
                data["member"] = {k: val for k, val in m.items() if k != "user"}
        await self.dispatch_event("MESSAGE_CREATE", data, guild_id=data.get("guild_id"))
        return message


def _custom_ids(components: Sequence[Mapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for comp in components:
        if comp.get("custom_id"):
            found.add(comp["custom_id"])
        found |= _custom_ids(comp.get("components") or [])
        accessory = comp.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("custom_id"):
            found.add(accessory["custom_id"])
    return found
