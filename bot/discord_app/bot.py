"""The Discord bot: a slash-command-only `AutoShardedBot` over the `Newsroom` core.

`setup_hook` opens the store, loads one cog per area from `commands/`, and
starts the background loops (periodic rescan, polling feeds when due, noticing
loads made by other processes). A process may run a subset of the shards
(`settings.shards`, `newsbot run --shards 0-3 --shard-count 8`); the loops that
must run once across processes sharing a store (rescan, feeds, embeddings) run
only in the one elected for each (`bot.core.jobs`), and on SQLite a second bot
process is refused. Commands are never synced on start: `/admin sync` or
`newsbot sync` publish them (Discord rate-limits command creation); starting
from the command line is `bot.discord_app.run`. The cogs are loaded by
extension name, so nothing here imports `commands/`, and they import what they
share with the bot (`checks`, `errors`) from their own modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.embeddings.backfill import embed_forever
from bot.core.feedloop import FeedPoller
from bot.core.feeds import PollReport
from bot.core.jobs import Elections, hold_bot
from bot.core.newsroom import Newsroom, rescan_forever
from bot.core.settings import Settings
from bot.discord_app.errors import UserFacingError, send_error, user_message
from bot.discord_app.views import EXPIRED, PAGER_IDS

log = logging.getLogger(__name__)

EXTENSIONS = ("commands.news", "commands.admin", "commands.subscriptions")
GENERATION_POLL_SECONDS = 5.0


class NewsTree(app_commands.CommandTree):
    """The command tree whose error handler logs a failure and tells the user in a sentence."""

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
    """The bot: one `Newsroom`, the cogs of `EXTENSIONS`, and the loops that keep it current."""

    def __init__(self, settings: Settings, *, room: Newsroom | None = None, **kwargs: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and roles for permission checks; not privileged
        shards = settings.shards
        if not shards.everything:
            # This process's share of the shards; without them AutoShardedBot runs
            # every shard of Discord's recommended count.
            kwargs.setdefault("shard_ids", sorted(shards.ids))
            kwargs.setdefault("shard_count", shards.count)
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
        self.feed_poller: FeedPoller | None = None  # set by setup_hook
        self.elections: Elections | None = None  # set by setup_hook

    @property
    def room(self) -> Newsroom:
        """The core every cog asks; set once `setup_hook` has run."""
        if self._room is None:
            raise RuntimeError("the bot is not set up yet")
        return self._room

    async def setup_hook(self) -> None:
        """Open the store (refused on SQLite if another bot process has it), load the
        cogs, start the generation watcher and, when elected, the rescan, feed-polling
        and embedding loops."""
        if self._room is None:
            self._room = await Newsroom.open(self.settings)
        await hold_bot(self.room.store, self.settings.store_label)
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        room = self.room
        self.elections = elections = Elections(room.store)
        if self.settings.rescan_seconds > 0:
            every = self.settings.rescan_seconds
            self._spawn(
                elections.run(
                    "rescan",
                    lambda: rescan_forever(
                        room, every, on_change=lambda _r: self.stories_changed()
                    ),
                )
            )
        room.feeds.on_change = self.feeds_changed  # the loop's polls and /admin feeds poll
        self.feed_poller = poller = FeedPoller(room.feeds)
        self._spawn(elections.run("feeds", poller.run))
        self._spawn(self._watch_generation())
        # Stories are searchable lexically once stored; this gives them their vectors.
        semantic = room.searcher.semantic
        if semantic.error is None:
            self._spawn(
                elections.run(
                    "embeddings",
                    lambda: embed_forever(room.store, semantic.encoder, semantic.model),
                )
            )
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

    async def feeds_changed(self, reports: list[PollReport]) -> None:
        """A feed poll stored new or changed stories: refresh the index, wake the alerts."""
        await self.room.searcher.refresh()
        await self.stories_changed()

    async def _watch_generation(self) -> None:
        # Loads by another process (`newsbot load` beside the bot, /admin reload or a
        # feed poll in another bot process) bump the store's generation: SQLite is
        # polled (one indexed read every few seconds), PostgreSQL tells (NOTIFY).
        store = self.room.store
        seen = await store.generation()
        while True:
            try:
                now = await store.wait_generation_change(seen, GENERATION_POLL_SECONDS)
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
                await asyncio.sleep(GENERATION_POLL_SECONDS)

    async def close(self) -> None:
        """Stop the loops, log out, and close the store if this bot opened it."""
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
        """Log who we are and in how many servers (once per gateway READY)."""
        user = self.user
        log.info(
            "logged in as %s (%s) in %d servers", user, user.id if user else "?", len(self.guilds)
        )
