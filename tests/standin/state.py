"""The stand-in's state and knobs, shared by the mixins `StandIn` is made of."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .faults import Faults, RateLimits
from .gateway import GatewayConnection, GatewaySession, IdentifyRecord, ResumeRecord
from .protocol import DEFAULT_APPLICATION_FLAGS
from .recorded import DispatchedInteraction, RecordedRequest
from .rest_types import RouteSpec
from .world import World, default_world


class StandInState:
    """Everything the stand-in knows: knobs, the world, what it recorded, live sessions.

    ``__init__`` ends by calling ``_install_routes``, which `StandIn` fills in.
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
        # Crossposts per announcement channel id: (crosspost_clock() time, message id).
        self.crossposts: dict[str, list[tuple[float, str]]] = {}
        self.crosspost_clock: Callable[[], float] = time.time  # tests move the hour on
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

    def _install_routes(self) -> None:
        """Register the REST routes; `StandIn` lists the areas' route tables."""

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
