"""Starting the bot from the command line: `newsbot run`, `newsbot sync`, and publishing commands.

`publish` is also what `/admin sync` calls (`commands/admin.py`). A refused
token or an unreachable Discord is one line on stderr saying what failed and
what to check, and a non-zero exit; never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.core.jobs import hold_bot
from bot.core.newsroom import Newsroom
from bot.core.settings import Settings
from bot.discord_app.bot import NewsBot

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_REFUSED = (
    "newsbot: Discord refused the token (DISCORD_TOKEN): check that it is the bot's current "
    "token (Developer Portal → your application → Bot → Reset Token)."
)
NO_NETWORK = (
    "newsbot: cannot reach Discord ({what}): check the network connection, DNS and any proxy, "
    "then try again."
)
DISCORD_DOWN = "newsbot: Discord answered with an error ({what}); try again later."

NO_TOKEN_HELP = """\
newsbot: DISCORD_TOKEN is not set, so the bot cannot log in to Discord.

  1. Create an application and bot at https://discord.com/developers/applications
  2. Put its token in a file named .env beside README.md:   DISCORD_TOKEN=your-token
     (or export DISCORD_TOKEN in your shell), then run `newsbot sync` once and `newsbot run`.

To try newsbot without Discord right now:   newsbot console
"""


def no_voice() -> None:
    """Silence discord.py's voice warnings (PyNaCl, davey): newsbot never joins voice."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


async def _reporting_failures(work: Callable[[], Awaitable[T]]) -> T | int:
    """Run `work`; a refused token or an unreachable Discord becomes one line on
    stderr and an exit code (2: token, 1: network or Discord)."""
    try:
        return await work()
    except discord.LoginFailure:
        print(TOKEN_REFUSED, file=sys.stderr)
        return 2
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound, TimeoutError, OSError) as exc:
        log.debug("connecting to Discord failed", exc_info=True)
        print(NO_NETWORK.format(what=_brief(exc)), file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        log.debug("Discord answered with an error", exc_info=True)
        print(DISCORD_DOWN.format(what=f"HTTP {exc.status}"), file=sys.stderr)
        return 1


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


async def run_bot(settings: Settings, *, autoload: bool = True) -> int:
    """Log in and serve until stopped; 2 when there is no usable token, 1 when Discord
    cannot be reached. `autoload`: a new store is first filled from the data folder.
    Raises AnotherBotRunning (a StoreError) before connecting when another bot process
    serves the same SQLite store."""
    if not settings.token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    token = settings.token
    no_voice()
    room = await Newsroom.open(settings, autoload=autoload)
    try:
        await hold_bot(room.store, settings.store_label)
        if not settings.shards.everything:
            log.info("running %s", settings.shards)
        bot = NewsBot(settings, room=room)

        async def serve() -> int:
            async with bot:
                await bot.start(token)
            return 0

        result = await _reporting_failures(serve)
    finally:
        await room.close()
    return result


async def sync_commands(settings: Settings, *, guild: int | None = None) -> int:
    """Publish the slash commands over HTTP only (no gateway connection)."""
    if not settings.token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    token = settings.token
    guild = guild or settings.dev_guild
    no_voice()
    bot = NewsBot(settings)

    async def login_and_publish() -> list[app_commands.AppCommand]:
        async with bot:
            await bot.login(token)
            return await publish(bot, guild)

    synced = await _reporting_failures(login_and_publish)
    if isinstance(synced, int):
        return synced
    where = f"server {guild}" if guild else "all servers (may take a while to appear)"
    print(f"synced {len(synced)} commands to {where}")
    return 0


async def publish(bot: commands.Bot, guild_id: int | None) -> list[app_commands.AppCommand]:
    """Sync the command tree to one server (instant) or globally (slow to show everywhere)."""
    if guild_id:
        guild = discord.Object(id=guild_id)
        bot.tree.copy_global_to(guild=guild)
        return await bot.tree.sync(guild=guild)
    return await bot.tree.sync()
