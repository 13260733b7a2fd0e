"""/admin feeds add | list | remove | poll: the RSS and Atom feeds a server reads.

`FeedCommands` is mixed into the `Admin` cog (commands/admin.py), so the
subgroup nests under /admin, shares its default permissions, and every command
has the runtime check of /admin reload. A feed added here belongs to the server
it was added in: its stories answer that server alone, and only that server
lists or removes it. A user in NEWSBOT_ADMIN_IDS acts as the operator: their
feeds serve every server, and they see and manage every feed.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.feeds import FeedError
from bot.core.settings import ConfigError, parse_duration
from bot.core.store.types import OPERATOR, Audience
from bot.discord_app.checks import admin_only
from bot.discord_app.errors import UserFacingError
from bot.replies.feeds import (
    feed_added_reply,
    feed_label,
    feed_removed_reply,
    feeds_reply,
    poll_reply,
    refusal,
)
from commands.common import bot_of, deliver, ready

log = logging.getLogger(__name__)


def _is_operator(interaction: discord.Interaction) -> bool:
    return interaction.user.id in bot_of(interaction).settings.admin_ids


def _audience(interaction: discord.Interaction) -> Audience:
    """Whose feeds this invoker sees and manages: the operator's view, or this server's."""
    return OPERATOR if _is_operator(interaction) else Audience.of_guild(interaction.guild_id)


def _topics(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def _every(text: str | None) -> float | None:
    if not text or not text.strip():
        return None
    try:
        return parse_duration("every", text)
    except ConfigError:
        raise UserFacingError(
            f"every: {text.strip()[:20]!r} is not a duration; use e.g. 15m, 1h or 2h."
        ) from None


class FeedCommands:
    """The /admin feeds subgroup (a mixin of the Admin cog)."""

    feeds = app_commands.Group(name="feeds", description="RSS and Atom feeds this server reads")

    @feeds.command(name="add", description="Read an RSS or Atom feed; its stories answer here")
    @app_commands.describe(
        url="The feed's address (http or https)",
        topics="Topics to give its stories, comma-separated",
        every="How often to fetch it, e.g. 15m or 1h (at least 2m)",
    )
    @admin_only()
    async def feeds_add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2000],
        topics: app_commands.Range[str, 1, 300] | None = None,
        every: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        bot = bot_of(interaction)
        operator = _is_operator(interaction)
        try:
            feed = await bot.room.feeds.add(
                url.strip(),
                topics=_topics(topics),
                every=_every(every),
                guild_id=None if operator else interaction.guild_id,
                added_by=interaction.user.id,
            )
        except FeedError as exc:
            raise UserFacingError(refusal(exc)) from exc
        log.info("feed %s added by %s for %s", feed.id, interaction.user.id, feed.guild_id)
        if bot.feed_poller is not None:
            bot.feed_poller.wake()  # its first fetch is due now
        where = "every server" if feed.guild_id is None else "this server"
        await deliver(interaction, ready(feed_added_reply(feed, where=where)))

    @feeds.command(name="list", description="The feeds this server reads, with their state")
    @admin_only()
    async def feeds_list(self, interaction: discord.Interaction) -> None:
        room = bot_of(interaction).room
        operator = _is_operator(interaction)
        found = await room.feeds.list(_audience(interaction))
        title = "Feeds (every server)" if operator else "Feeds of this server"
        reply = feeds_reply(found, title=title, show_owner=operator)
        await deliver(interaction, ready(reply))

    @feeds.command(name="remove", description="Stop reading a feed")
    @app_commands.describe(feed="The feed to remove (start typing its name)")
    @admin_only()
    async def feeds_remove(
        self, interaction: discord.Interaction, feed: app_commands.Range[int, 1]
    ) -> None:
        room = bot_of(interaction).room
        try:
            removed = await room.feeds.remove(feed, _audience(interaction))
        except FeedError as exc:
            raise UserFacingError(refusal(exc)) from exc
        log.info("feed %s removed by %s", removed.id, interaction.user.id)
        await deliver(interaction, ready(feed_removed_reply(removed)))

    @feeds_remove.autocomplete("feed")
    async def feeds_remove_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        try:
            found = await bot_of(interaction).room.feeds.list(_audience(interaction))
        except Exception:
            log.exception("feed autocomplete failed")
            return []
        typed = current.strip().lstrip("#").casefold()
        labels = [(feed_label(f), f.id) for f in found]
        picked = [(name, fid) for name, fid in labels if typed in f"{name} {fid}".casefold()]
        return [app_commands.Choice(name=name[:100], value=fid) for name, fid in picked[:25]]

    @feeds.command(name="poll", description="Fetch this server's feeds now")
    @admin_only()
    async def feeds_poll(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        # A poll waits on the network: acknowledge first.
        await interaction.response.defer(thinking=True, ephemeral=True)
        # The service's on_change (`NewsBot.feeds_changed`) refreshes search and wakes alerts.
        reports = await bot.room.feeds.poll(audience=_audience(interaction))
        await interaction.followup.send(**poll_reply(reports).send_kwargs())
