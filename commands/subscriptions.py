"""/subscribe, /unsubscribe, /subscriptions — and the alert dispatcher's life in the bot.

Who may do what is decided here, from the permissions Discord sends and the
guild cache: a channel subscription needs Manage Channels in that channel (or
Manage Server), and the bot must be able to post there; a personal one is the
invoker's own. The rules that hold for every front end live in
`bot.core.alerts.subscriptions`, and what the commands answer (the list, the
confirmations) in `bot.replies.subscriptions`; only the channel names come
from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.alerts import subscriptions as subs
from bot.core.alerts.dispatch import Dispatcher
from bot.discord_app import sender as discord_sender
from bot.discord_app.bot import NewsBot
from bot.discord_app.errors import UserFacingError
from bot.replies.reply import Reply
from bot.replies.sanitize import plain
from bot.replies.subscriptions import (
    ChannelLabel,
    subscribed_reply,
    subscription_label,
    subscriptions_reply,
    unsubscribed_reply,
)
from commands.common import bot_of, deliver, topic_choices

log = logging.getLogger(__name__)


def channel_label(guild: discord.Guild | None) -> ChannelLabel:
    """Names a subscription's destination from the guild cache: '#alerts', 'DM',
    or '#deleted-channel (id)' for a channel the guild no longer has."""

    def name(sub: subs.Subscription) -> str:
        if sub.channel_id is None:
            return "DM"
        channel = guild.get_channel(sub.channel_id) if guild else None
        return f"#{channel.name}" if channel is not None else f"#deleted-channel ({sub.channel_id})"

    return name


def manager_check(interaction: discord.Interaction) -> Callable[[subs.Subscription], bool]:
    """May the invoker manage (remove) a channel subscription of this server?"""
    guild, member = interaction.guild, interaction.user
    if guild is None or not isinstance(member, discord.Member):
        return lambda _s: False
    if member.guild_permissions.manage_guild:
        return lambda s: s.guild_id == guild.id

    def check(s: subs.Subscription) -> bool:
        channel = guild.get_channel(s.channel_id) if s.channel_id else None
        return (
            s.guild_id == guild.id
            and channel is not None
            and channel.permissions_for(member).manage_channels
        )

    return check


def _visible(interaction: discord.Interaction, sub: subs.Subscription) -> bool:
    """List a channel subscription only to members who can see that channel."""
    guild, member = interaction.guild, interaction.user
    if guild is None or not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    channel = guild.get_channel(sub.channel_id) if sub.channel_id else None
    return channel is not None and channel.permissions_for(member).view_channel


def _check_channel(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
    guild, member = interaction.guild, interaction.user
    if guild is None or not isinstance(member, discord.Member):
        raise UserFacingError("Channel alerts can only be set up in a server.")
    if channel.guild.id != guild.id:
        raise UserFacingError("Pick a channel of this server.")
    if not (
        channel.permissions_for(member).manage_channels or member.guild_permissions.manage_guild
    ):
        raise UserFacingError(
            f"You need the Manage Channels permission in #{channel.name} (or Manage Server) "
            "to send alerts there. Leave out `channel` to get them by DM instead."
        )
    me = guild.me
    if me is None:  # the guild is not fully cached yet: Discord will answer at delivery
        return
    perms = channel.permissions_for(me)
    missing = [
        name
        for name, ok in (
            ("View Channel", perms.view_channel),
            ("Send Messages", perms.send_messages),
            ("Embed Links", perms.embed_links),
        )
        if not ok
    ]
    if missing:
        raise UserFacingError(
            f"I can't post alerts in #{channel.name}: I need the {', '.join(missing)} "
            "permission there. Give it to me (or my role), then try again."
        )


class Subscriptions(commands.Cog):
    """/subscribe, /unsubscribe, /subscriptions, and the alert dispatcher they feed."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.dispatcher: Dispatcher | None = None
        self._starter: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        # Looked up at load time: discord.py re-imports extension modules on load,
        # so the factory lives in a plain module that tests can patch.
        self.dispatcher = discord_sender.build_dispatcher(self.bot)
        self.bot.new_story_listeners.append(self.dispatcher.notify)
        self._starter = asyncio.create_task(self._start_when_ready(), name="alerts-start")

    async def _start_when_ready(self) -> None:
        # The permission pre-check needs the guild cache; pending alerts of the
        # last run go out as soon as the gateway is ready.
        await self.bot.wait_until_ready()
        if self.dispatcher is not None:
            self.dispatcher.start()

    async def cog_unload(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter
        if self.dispatcher is not None:
            with contextlib.suppress(ValueError):
                self.bot.new_story_listeners.remove(self.dispatcher.notify)
            await self.dispatcher.stop()

    # -- /subscribe ------------------------------------------------------------

    @app_commands.command(
        name="subscribe", description="Get an alert when a new story of a topic arrives"
    )
    @app_commands.describe(
        topic="The topic to follow, e.g. Computer Vision",
        channel="Post the alerts in this channel (default: send them to you by DM)",
        keywords="Only stories whose title or summary has one of these words",
        min_quality="Only stories with at least this quality score (0-100)",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 100],
        channel: discord.TextChannel | None = None,
        keywords: app_commands.Range[str, 1, 200] | None = None,
        min_quality: app_commands.Range[float, 0, 100] | None = None,
    ) -> None:
        bot = bot_of(interaction)
        room = bot.room
        name = await room.searcher.resolve_topic(topic)
        if name is None:
            close = await room.searcher.topic_choices(topic, limit=3)
            hint = f" Did you mean {', '.join(close)}?" if close else " See /topics."
            raise UserFacingError(f"I don't know the topic “{plain(topic)[:100]}”.{hint}")
        if channel is not None:
            _check_channel(interaction, channel)

        async def write() -> Reply:
            try:
                sub, outcome = await subs.subscribe(
                    room.store,
                    topic=name,
                    user_id=interaction.user.id,
                    guild_id=interaction.guild_id,
                    channel_id=channel.id if channel else None,
                    keywords=keywords,
                    min_quality=min_quality or 0.0,
                    limits=subs.Limits.from_settings(bot.settings),
                )
            except subs.SubscriptionError as exc:
                raise UserFacingError(str(exc)) from None
            # Alerts held back while it was paused go out now.
            if outcome == "resumed" and self.dispatcher is not None:
                self.dispatcher.wake()
            where = f"in #{channel.name}" if channel else "to you by DM"
            return subscribed_reply(sub, outcome, where=where)

        # The write waits (busy timeout) while a reload or another process's
        # `newsbot load` holds the store; past Discord's 3 s the answer would be
        # lost, so `deliver` defers when it is slow.
        await deliver(interaction, write(), ephemeral_wait=True)

    @subscribe.autocomplete("topic")
    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await topic_choices(interaction, current)

    # -- /unsubscribe ----------------------------------------------------------

    @app_commands.command(name="unsubscribe", description="Stop an alert subscription")
    @app_commands.describe(subscription="The subscription to remove (pick from the list)")
    async def unsubscribe(
        self, interaction: discord.Interaction, subscription: app_commands.Range[str, 1, 100]
    ) -> None:
        room = bot_of(interaction).room
        ident = subscription.strip().lstrip("#")
        # A forged value: other scripts' digits, or an id past SQLite's 64-bit integers.
        if not (ident.isascii() and ident.isdigit()) or len(ident) > 18:
            raise UserFacingError("Pick a subscription from the list (start typing its topic).")

        async def write() -> Reply:
            try:
                sub = await subs.remove(
                    room.store,
                    int(ident),
                    user_id=interaction.user.id,
                    guild_id=interaction.guild_id,
                    may_manage_channel=manager_check(interaction),
                )
            except subs.SubscriptionError as exc:
                raise UserFacingError(str(exc)) from None
            return unsubscribed_reply(sub, channel_label=channel_label(interaction.guild))

        await deliver(
            interaction, write(), ephemeral_wait=True
        )  # may wait for the store: see /subscribe

    @unsubscribe.autocomplete("subscription")
    async def subscription_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            found = await subs.removable(
                bot_of(interaction).room.store,
                user_id=interaction.user.id,
                guild_id=interaction.guild_id,
                may_manage_channel=manager_check(interaction),
            )
        except Exception:
            log.exception("subscription autocomplete failed")
            return []
        typed = current.casefold().strip()
        label = channel_label(interaction.guild)
        out = []
        for s in found:
            text = subscription_label(s, label)
            if typed and typed not in text.casefold() and typed.lstrip("#") != str(s.id):
                continue
            out.append(app_commands.Choice(name=text[:100], value=str(s.id)))
        return out[:25]

    # -- /subscriptions --------------------------------------------------------

    @app_commands.command(
        name="subscriptions", description="This server's alerts and yours, with their status"
    )
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        store = bot_of(interaction).room.store
        guild = interaction.guild
        here = None
        if guild is not None:
            here = [s for s in await subs.for_guild(store, guild.id) if _visible(interaction, s)]
        mine = await subs.personal(store, interaction.user.id)
        reply = subscriptions_reply(mine, here=here, channel_label=channel_label(guild))
        await interaction.response.send_message(**reply.send_kwargs())


async def setup(bot: NewsBot) -> None:
    """Extension entry point: `NewsBot.setup_hook` loads this module by name."""
    await bot.add_cog(Subscriptions(bot))
