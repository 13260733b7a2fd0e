"""A small fake Discord (REST + gateway) that the real discord.py client can log into.

Ground truth for every shape here is discord.py 2.7's own code (http.py, gateway.py, state.py,
interactions.py, webhook/async_.py) plus Discord's documented behaviour. Listens on 127.0.0.1 only.

`StandIn` is composed of one mixin per area, each in its own module: ``state`` (knobs and
what it holds), ``queries`` (waiting and message views), ``builders`` (interaction payloads),
``gateway_control`` (the websocket), ``message_store`` (messages and their events), ``rest``
(the REST core) and the route tables ``routes_app``, ``routes_interactions``,
``routes_channels`` and ``routes_threads`` (threads, forum posts, crossposts).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from .builders import InteractionBuilders
from .protocol import CLOSE_GOING_AWAY
from .queries import Queries
from .rest_types import API_PREFIX
from .routes_app import AppRoutes
from .routes_interactions import InteractionRoutes
from .routes_threads import ThreadRoutes


class StandIn(AppRoutes, InteractionRoutes, ThreadRoutes, InteractionBuilders, Queries):
    """The fake Discord. Create, ``await start()``, point discord.py at it, ``await stop()``.

    The ``standin`` pytest fixture (tests/conftest.py) does all of that. Knobs are the
    keyword arguments of ``StandInState.__init__``.
    """

    def _install_routes(self) -> None:
        # The first matching route answers; no two areas' patterns overlap.
        self._install_app_routes()
        self._install_interaction_routes()
        self._install_channel_routes()
        self._install_thread_routes()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST base discord.py is pointed at (``.../api/v10``)."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The websocket URL ``GET /gateway`` and ``/gateway/bot`` hand out."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """The websocket URL READY gives for resuming."""
        # A different path than the initial gateway, so tests can see discord.py used it.
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 (``port`` says which)."""
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
        """Release held gateways, close every socket, stop listening."""
        self._gate.set()
        for conn in list(self.connections):
            if conn.open:
                await conn.close(CLOSE_GOING_AWAY, "stand-in shutting down")
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
        """Unknown routes hit and the stand-in's own errors, one line each."""
        return [f"unknown route: {r}" for r in self.unknown_routes] + [
            f"stand-in error: {e}" for e in self.errors
        ]

    def assert_clean(self) -> None:
        """Fail (AssertionError) if there are any ``problems()``."""
        problems = self.problems()
        assert not problems, "Discord stand-in saw problems:\n  " + "\n  ".join(problems)
