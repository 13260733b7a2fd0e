"""Starting the bot from the command line: `newsbot run`, `newsbot sync`, and publishing commands.

`publish` is also what `/admin sync` calls (`commands/admin.py`).
"""

from __future__ import annotations

import sys

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.settings import Settings
from bot.discord_app.bot import NewsBot

NO_TOKEN_HELP = """\
newsbot: DISCORD_TOKEN is not set, so the bot cannot log in to Discord.

  1. Create an application and bot at https://discord.com/developers/applications
  2. Put its token in a file named .env beside README.md:   DISCORD_TOKEN=your-token
     (or export DISCORD_TOKEN in your shell), then run `newsbot sync` once and `newsbot run`.

To try newsbot without Discord right now:   newsbot console
"""


async def run_bot(settings: Settings) -> int:
    """Log in and serve until stopped; 2 when there is no usable token."""
    if not settings.token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    bot = NewsBot(settings)
    try:
        async with bot:
            await bot.start(settings.token)
    except discord.LoginFailure:
        print(
            "newsbot: Discord refused the token (DISCORD_TOKEN); check it and try again.",
            file=sys.stderr,
        )
        return 2
    return 0


async def sync_commands(settings: Settings, *, guild: int | None = None) -> int:
    """Publish the slash commands over HTTP only (no gateway connection)."""
    if not settings.token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    guild = guild or settings.dev_guild
    bot = NewsBot(settings)
    try:
        async with bot:
            await bot.login(settings.token)
            synced = await publish(bot, guild)
    except discord.LoginFailure:
        print("newsbot: Discord refused the token (DISCORD_TOKEN).", file=sys.stderr)
        return 2
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
