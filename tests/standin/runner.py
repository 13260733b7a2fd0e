"""Run a real discord.py client against the stand-in for the duration of a ``with`` block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import discord

from .server import StandIn

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def run_bot(
    bot: ClientT,
    standin: StandIn,
    *,
    token: str = "test-token",
    ready_timeout: float = 10.0,
    guild_ready_timeout: float | None = 0.1,
) -> AsyncIterator[ClientT]:
    """Log ``bot`` in, connect it, wait for ``on_ready``; close it cleanly on exit.

    Works for ``Client``/``Bot`` and the ``AutoSharded`` variants. ``guild_ready_timeout``
    overrides discord.py's 2-second wait after the last GUILD_CREATE before it fires READY
    (the stand-in sends every GUILD_CREATE immediately); pass ``None`` to keep the bot's own.
    """
    assert standin.port, "start the stand-in first (use the `standin` fixture)"
    if guild_ready_timeout is not None:
        # ConnectionState reads this attribute when READY arrives; there is no public setter
        # short of passing guild_ready_timeout= to the client's constructor.
        bot._connection.guild_ready_timeout = guild_ready_timeout
    connect_task: asyncio.Task[None] | None = None
    try:
        await bot.login(token)
        connect_task = asyncio.create_task(bot.connect(reconnect=True), name="standin-bot")
        ready_task = asyncio.create_task(bot.wait_until_ready(), name="standin-bot-ready")
        done, _ = await asyncio.wait(
            {connect_task, ready_task}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready_task not in done:
            ready_task.cancel()
            if connect_task in done and connect_task.exception() is not None:
                raise RuntimeError("the bot failed to connect") from connect_task.exception()
            raise TimeoutError(f"the bot was not ready within {ready_timeout}s")
        yield bot
    finally:
        await bot.close()
        if connect_task is not None:
            try:
                await asyncio.wait_for(connect_task, timeout=5.0)
            except (asyncio.CancelledError, TimeoutError, discord.DiscordException, OSError):
                connect_task.cancel()
