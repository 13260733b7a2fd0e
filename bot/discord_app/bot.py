"""The Discord bot: a slash-command-only `AutoShardedBot` over the `Newsroom` core.

`setup_hook` opens the store, loads one cog per area from `commands/`, and
starts the background loops (periodic rescan, noticing loads made by other
processes). Commands are never synced on start: `/admin sync` or
`newsbot sync` publish them (Discord rate-limits command creation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.newsroom import Newsroom, rescan_forever
from bot.core.settings import Settings
from bot.core.store.sqlite import StoreBusy, StoreError
from bot.discord_app.views import EXPIRED, PAGER_IDS
from bot.replies.render import plain

log = logging.getLogger(__name__)

EXTENSIONS = ("commands.news", "commands.admin", "commands.subscriptions")
GENERATION_POLL_SECONDS = 5.0


class NotAdmin(app_commands.CheckFailure):
    """The invoker lacks Manage Server and is not in NEWSBOT_ADMIN_IDS."""


class GuildOnly(app_commands.CheckFailure):
    """A server-only command was used in a DM."""


class UserFacingError(app_commands.AppCommandError):
    """An error whose message is written for the user and shown as is."""


def is_admin(interaction: discord.Interaction, settings: Settings) -> bool:
    if interaction.user.id in settings.admin_ids:
        return True
    # `permissions` are the invoker's resolved permissions in this channel,
    # sent by Discord with the interaction; they include Administrator.
    return interaction.guild is not None and interaction.permissions.manage_guild


def admin_only() -> Callable[[Any], Any]:
    """Runtime check behind `default_permissions`, which server admins can override."""

    async def predicate(interaction: discord.Interaction) -> bool:
        settings = interaction.client.settings  # type: ignore[attr-defined]
        if interaction.guild is None and interaction.user.id not in settings.admin_ids:
            raise GuildOnly("This command only works in a server.")
        if not is_admin(interaction, settings):
            raise NotAdmin("You need the Manage Server permission to use this command.")
        return True

    return app_commands.check(predicate)


def guild_only_check() -> Callable[[Any], Any]:
    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise GuildOnly("This command only works in a server.")
        return True

    return app_commands.check(predicate)


async def send_error(interaction: discord.Interaction, text: str) -> None:
    """Answer ephemerally, whether or not the interaction was already answered."""
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            # Autocomplete accepts only a list of choices (a message is a 400); an
            # empty list closes the spinner in the user's client.
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
        elif interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:  # expired interaction, deleted channel…
        log.warning("could not deliver an error message: %s", exc)


def user_message(error: app_commands.AppCommandError) -> str:
    """The sentence a user sees for an error; never raw exception text."""
    original = getattr(error, "original", None)
    if isinstance(error, (NotAdmin, GuildOnly, UserFacingError)):
        return str(error)
    if isinstance(error, app_commands.MissingPermissions):
        return (
            "You need the "
            + ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
            + " permission for this."
        )
    if isinstance(error, app_commands.BotMissingPermissions):
        return (
            "I need the "
            + ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
            + " permission here."
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)):
        # A mismatch is Discord sending options the code no longer has (or lacks
        # required ones): the published commands are out of date, like a not-found.
        return "I don't know that command (it may have just changed); try again in a minute or use /help."
    if isinstance(error, app_commands.TransformerError):
        # Only a value the user typed is worth repeating; anything else (an
        # unresolved channel is a discord.Object) would show our internals.
        value = error.value
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return f"That value doesn't work for this option: {plain(str(value))[:100]!r}."
        return "That value doesn't work for this option."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(original, StoreBusy):
        return "A reload is running; try again in a moment."
    if isinstance(original, StoreError):
        return "The story store is unavailable right now; an admin has been told in the logs."
    return "Something went wrong on my side; it has been logged. Please try again."


class NewsTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        expected = isinstance(
            error,
            (
                app_commands.CheckFailure,
                app_commands.CommandNotFound,
                app_commands.TransformerError,
                UserFacingError,
            ),
        )
        if expected:
            log.info(
                "command %s refused for user %s: %s",
                _command_name(interaction),
                interaction.user.id,
                type(error).__name__,
            )
        else:
            log.error("command %s failed", _command_name(interaction), exc_info=error)
        await send_error(interaction, user_message(error))


def _command_name(interaction: discord.Interaction) -> str:
    cmd = interaction.command
    return f"/{cmd.qualified_name}" if cmd else "/" + str((interaction.data or {}).get("name", "?"))


class NewsBot(commands.AutoShardedBot):
    def __init__(self, settings: Settings, *, room: Newsroom | None = None, **kwargs: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and roles for permission checks; not privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=NewsTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **kwargs,
        )
        self.settings = settings
        self._room = room
        self._own_room = room is None
        self._tasks: list[asyncio.Task[Any]] = []
        self.new_story_listeners: list[Callable[[], Awaitable[Any]]] = []
        self.live_pagers: set[int] = set()  # messages whose Previous/Next work (bot.views)

    @property
    def room(self) -> Newsroom:
        if self._room is None:
            raise RuntimeError("the bot is not set up yet")
        return self._room

    async def setup_hook(self) -> None:
        if self._room is None:
            self._room = await Newsroom.open(self.settings)
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        if self.settings.rescan_seconds > 0:
            self._spawn(
                rescan_forever(
                    self.room,
                    self.settings.rescan_seconds,
                    on_change=lambda _r: self.stories_changed(),
                )
            )
        self._spawn(self._watch_generation())
        if self.settings.dev_guild:
            log.info("NEWSBOT_DEV_GUILD set: use /admin sync or `newsbot sync` to publish there")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        self._tasks.append(asyncio.create_task(coro))  # type: ignore[arg-type]

    async def stories_changed(self) -> None:
        """New or changed stories are committed: wake whoever waits for them (alerts)."""
        for listener in list(self.new_story_listeners):
            try:
                await listener()
            except Exception:
                log.exception("new-story listener failed")

    async def _watch_generation(self) -> None:
        # Loads by another process (`newsbot load` beside the bot) bump the
        # store's generation; polling it is one indexed read every few seconds.
        seen = await self.room.store.generation()
        while True:
            await asyncio.sleep(GENERATION_POLL_SECONDS)
            try:
                now = await self.room.store.generation()
                if now != seen:
                    seen = now
                    # Not forced: after a reload in this process the index is already at
                    # this generation, and a forced rebuild (seconds at 100,000 stories)
                    # would only slow every answer down again.
                    await self.room.searcher.refresh()
                    await self.stories_changed()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching the store for changes failed")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await super().close()
        if self._room is not None and self._own_room:
            await self._room.close()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A Previous/Next press on a pager this process no longer holds (timed out,
        or sent before a restart): say so, where Discord would only say "failed"."""
        if interaction.type is not discord.InteractionType.component:
            return
        custom_id = (interaction.data or {}).get("custom_id")
        message = interaction.message
        if custom_id in PAGER_IDS and message is not None and message.id not in self.live_pagers:
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(EXPIRED, ephemeral=True)

    async def on_ready(self) -> None:
        user = self.user
        log.info(
            "logged in as %s (%s) in %d servers", user, user.id if user else "?", len(self.guilds)
        )


NO_TOKEN_HELP = """\
newsbot: DISCORD_TOKEN is not set, so the bot cannot log in to Discord.

  1. Create an application and bot at https://discord.com/developers/applications
  2. Put its token in a file named .env beside README.md:   DISCORD_TOKEN=your-token
     (or export DISCORD_TOKEN in your shell), then run `newsbot sync` once and `newsbot run`.

To try newsbot without Discord right now:   newsbot console
"""


async def run_bot(settings: Settings) -> int:
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
    if guild_id:
        guild = discord.Object(id=guild_id)
        bot.tree.copy_global_to(guild=guild)
        return await bot.tree.sync(guild=guild)
    return await bot.tree.sync()
