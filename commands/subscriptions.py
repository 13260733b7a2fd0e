"""/subscribe, /unsubscribe, the /subscriptions group — and the alert dispatcher's life
in the bot.

Who may do what is decided in `commands.subscription_checks`; the rules that
hold for every front end live in `bot.core.alerts.subscriptions` (subscribe,
`why`, `preview`), and what the commands answer in `bot.replies.subscriptions`
and `bot.replies.alerts` (a preview is built by the very function the sender
posts with); only the channel names come from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.alerts import subscriptions as subs
from bot.core.alerts.dispatch import Dispatcher
from bot.core.store.types import Audience
from bot.discord_app import sender as discord_sender
from bot.discord_app.bot import NewsBot
from bot.discord_app.errors import UserFacingError
from bot.replies.alerts import alert_message, preview_reply, why_reply
from bot.replies.reply import Reply, message_reply
from bot.replies.sanitize import plain
from bot.replies.subscriptions import (
    subscribed_reply,
    subscription_label,
    subscriptions_reply,
    unsubscribed_reply,
)
from commands.common import bot_of, deliver, story_choices, topic_choices
from commands.subscription_checks import (
    AlertChannel,
    channel_label,
    check_channel,
    check_role,
    manager_check,
    visible,
)

log = logging.getLogger(__name__)

PICK = "Pick a subscription from the list (start typing its topic)."


def _subscription_id(raw: str) -> int:
    """The id an autocomplete value carries; a forged value is refused, not looked up."""
    ident = raw.strip().lstrip("#")
    # Other scripts' digits, or an id past SQLite's 64-bit integers.
    if not (ident.isascii() and ident.isdigit()) or len(ident) > 18:
        raise UserFacingError(PICK)
    return int(ident)


def _new_topic(typed: str) -> str:
    """A topic name no story has yet, as typed; refused when it is no plain name (mention
    syntax, control or invisible characters): it would be shown in every alert."""
    name = plain(typed)
    if name != " ".join(typed.split()) or not any(c.isalnum() for c in name):
        raise UserFacingError(
            "A topic is a plain name, like “Computer Vision”: no mentions, no special "
            "characters. Start typing to pick one from the list."
        )
    return name


def _choices(
    found: list[subs.Subscription], current: str, guild: discord.Guild | None
) -> list[app_commands.Choice[str]]:
    typed = current.casefold().strip()
    label = channel_label(guild)
    out = []
    for s in found:
        text = subscription_label(s, label)
        if typed and typed not in text.casefold() and typed.lstrip("#") != str(s.id):
            continue
        out.append(app_commands.Choice(name=text[:100], value=str(s.id)))
    return out[:25]


async def _visible_subscriptions(interaction: discord.Interaction) -> list[subs.Subscription]:
    """The invoker's own subscriptions, then the server's they can see."""
    store = bot_of(interaction).room.store
    found = await subs.personal(store, interaction.user.id)
    if interaction.guild is not None:
        found += await subs.for_guild(store, interaction.guild.id)
    return [s for s in found if visible(interaction, s)]


async def _subscription_for(interaction: discord.Interaction, raw: str) -> subs.Subscription:
    """The subscription an option names, if the invoker may see it (checked again: an
    autocomplete value can be typed or forged)."""
    sub = await subs.get(bot_of(interaction).room.store, _subscription_id(raw))
    if sub is None or not visible(interaction, sub):
        raise UserFacingError(PICK)
    return sub


class Subscriptions(commands.Cog):
    """/subscribe, /unsubscribe, /subscriptions list|preview|why, and the alert
    dispatcher they feed."""

    subscriptions = app_commands.Group(
        name="subscriptions", description="Alert subscriptions: list, preview, why"
    )

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
        name="subscribe", description="Get an alert when a new story of a topic (or words) arrives"
    )
    @app_commands.describe(
        topic="The topic to follow, e.g. Computer Vision (leave out to follow keywords only)",
        channel="Post the alerts in this channel (default: send them to you by DM)",
        keywords="Only stories whose title or summary has one of these words",
        min_quality="Only stories with at least this quality score (0-100)",
        mention="Ping this role with each alert (channel alerts)",
        thread="Start a thread per story (a forum makes a post per story anyway)",
        publish="In an announcement channel, publish each alert to following servers",
        max_per_hour="At most this many alerts an hour; the rest go into the next digest",
        digest="daily: one message a day listing the day's stories, instead of each alert",
        digest_hour="The hour (UTC, 0-23) of the daily digest",
        on_update="edit: when an alerted story changes, edit its alert (default: ignore)",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 100] | None = None,
        channel: AlertChannel | None = None,
        keywords: app_commands.Range[str, 1, 200] | None = None,
        min_quality: app_commands.Range[float, 0, 100] | None = None,
        mention: discord.Role | None = None,
        thread: bool | None = None,
        publish: bool | None = None,
        max_per_hour: app_commands.Range[int, 1, subs.MAX_PER_HOUR] | None = None,
        digest: Literal["off", "daily"] | None = None,
        digest_hour: app_commands.Range[int, 0, 23] | None = None,
        on_update: Literal["ignore", "edit"] | None = None,
    ) -> None:
        bot = bot_of(interaction)
        room = bot.room
        if not (topic and topic.strip()) and not (keywords and keywords.strip()):
            raise UserFacingError(
                "Give a `topic`, `keywords`, or both (keywords alone: any story naming them)."
            )
        name = None
        if topic and topic.strip():
            # A topic no story has yet is followed as typed, until stories of it arrive.
            name = await room.searcher.resolve_topic(topic) or _new_topic(topic)
        forum = isinstance(channel, discord.ForumChannel)
        options = subs.AlertOptions(
            mention_role_id=mention.id if mention is not None else None,
            thread=bool(thread) or forum,  # a forum takes posts, one per alert
            publish=bool(publish),
            max_per_hour=max_per_hour,
            digest=digest or "off",
            digest_hour=digest_hour or 0,
            on_update=on_update or "ignore",
        )
        if channel is not None:
            check_channel(interaction, channel, thread=options.thread, publish=options.publish)
        elif thread or publish:
            raise UserFacingError(
                "`thread` and `publish` are for channel alerts: pick a `channel`."
            )
        if mention is not None:
            check_role(interaction, mention, channel)

        async def write() -> Reply:
            try:
                done = await subs.subscribe(
                    room.store,
                    topic=name,
                    user_id=interaction.user.id,
                    guild_id=interaction.guild_id,
                    channel_id=channel.id if channel else None,
                    keywords=keywords,
                    min_quality=min_quality or 0.0,
                    options=options,
                    limits=subs.Limits.from_settings(bot.settings),
                )
            except subs.SubscriptionError as exc:
                raise UserFacingError(str(exc)) from None
            # Alerts held back while it was paused go out now.
            if done.outcome == "resumed" and self.dispatcher is not None:
                self.dispatcher.wake()
            where = f"in #{channel.name}" if channel else "to you by DM"
            return subscribed_reply(done, where=where)

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
        ident = _subscription_id(subscription)

        async def write() -> Reply:
            try:
                sub = await subs.remove(
                    room.store,
                    ident,
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
    async def removable_autocomplete(
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
        return _choices(found, current, interaction.guild)

    # -- /subscriptions list | preview | why -------------------------------------

    @subscriptions.command(
        name="list", description="This server's alerts and yours, with their status"
    )
    async def list_subscriptions(self, interaction: discord.Interaction) -> None:
        store = bot_of(interaction).room.store
        guild = interaction.guild
        here = None
        if guild is not None:
            here = [s for s in await subs.for_guild(store, guild.id) if visible(interaction, s)]
        mine = await subs.personal(store, interaction.user.id)
        reply = subscriptions_reply(mine, here=here, channel_label=channel_label(guild))
        await interaction.response.send_message(**reply.send_kwargs())

    @subscriptions.command(
        name="preview", description="Privately, the alert the newest matching story would make"
    )
    @app_commands.describe(subscription="The subscription to preview (pick from the list)")
    async def preview(
        self, interaction: discord.Interaction, subscription: app_commands.Range[str, 1, 100]
    ) -> None:
        sub = await _subscription_for(interaction, subscription)
        label = channel_label(interaction.guild)

        async def build() -> Reply:
            found = await subs.preview(bot_of(interaction).room.store, sub.id)
            if found is None:
                return message_reply(
                    "Nothing to preview yet",
                    f"No stored story matches {subscription_label(sub, label)} yet; "
                    "the first one that arrives will be alerted.",
                )
            message = alert_message(found.articles, topic=found.topic, delivery=found.delivery)
            where = "to you by DM" if sub.channel_id is None else f"in {label(sub)}"
            return preview_reply(message, found.delivery, where=where)

        await deliver(interaction, build(), ephemeral_wait=True)

    @subscriptions.command(name="why", description="Why a story was (not) sent for a subscription")
    @app_commands.describe(
        subscription="The subscription (pick from the list)",
        story="The story (start typing its title)",
    )
    async def why(
        self,
        interaction: discord.Interaction,
        subscription: app_commands.Range[str, 1, 100],
        story: app_commands.Range[str, 1, 300],
    ) -> None:
        sub = await _subscription_for(interaction, subscription)
        room = bot_of(interaction).room

        async def build() -> Reply:
            # The autocomplete offers titles that `ask` ranks first: the same story.
            audience = Audience.of_guild(interaction.guild_id)
            answer = await room.ask(story, limit=1, audience=audience)
            if not answer.hits:
                return message_reply("No such story", f"No story matches “{plain(story)[:100]}”.")
            found = await subs.why(
                room.store,
                sub.id,
                answer.hits[0].article_id,
                max_age=bot_of(interaction).settings.alert_max_age,
            )
            if found is None:
                return message_reply("Gone", "That subscription or story no longer exists.")
            return why_reply(found, label=subscription_label(sub, channel_label(interaction.guild)))

        await deliver(interaction, build(), ephemeral_wait=True)

    @preview.autocomplete("subscription")
    @why.autocomplete("subscription")
    async def subscription_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            found = await _visible_subscriptions(interaction)
        except Exception:
            log.exception("subscription autocomplete failed")
            return []
        return _choices(found, current, interaction.guild)

    @why.autocomplete("story")
    async def story_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await story_choices(interaction, current)


async def setup(bot: NewsBot) -> None:
    """Extension entry point: `NewsBot.setup_hook` loads this module by name."""
    await bot.add_cog(Subscriptions(bot))
