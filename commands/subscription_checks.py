"""Who may set up, see and remove which alert subscription, from what Discord tells us.

Decided from the permissions Discord sends with an interaction and the guild
cache: a channel subscription needs Manage Channels in that channel (or Manage
Server), and the bot must be able to post there (and start threads, publish,
ping the role, when asked to); a personal one is the invoker's own. The rules
that hold for every front end live in `bot.core.alerts.subscriptions`.
"""

from __future__ import annotations

from collections.abc import Callable

import discord

from bot.core.alerts import subscriptions as subs
from bot.discord_app.errors import UserFacingError
from bot.replies.subscriptions import ChannelLabel

# The channels alerts can go to: text and announcement channels, and forums.
AlertChannel = discord.TextChannel | discord.ForumChannel


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


def visible(interaction: discord.Interaction, sub: subs.Subscription) -> bool:
    """May the invoker see this subscription? Their own DM ones; a channel one only when
    they can see that channel (or manage the server)."""
    if sub.personal:
        return sub.user_id == interaction.user.id
    guild, member = interaction.guild, interaction.user
    if guild is None or not isinstance(member, discord.Member) or sub.guild_id != guild.id:
        return False
    if member.guild_permissions.manage_guild:
        return True
    channel = guild.get_channel(sub.channel_id) if sub.channel_id else None
    return channel is not None and channel.permissions_for(member).view_channel


def check_channel(
    interaction: discord.Interaction,
    channel: AlertChannel,
    *,
    thread: bool,
    publish: bool,
) -> None:
    """Refuse, with what to fix, a channel the invoker may not set alerts up in, or where
    the bot could not post them the way they are asked for."""
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
    if publish and not (isinstance(channel, discord.TextChannel) and channel.is_news()):
        raise UserFacingError(
            f"`publish` crossposts to the servers that follow an announcement channel, and "
            f"#{channel.name} is not one. Pick an announcement channel or leave out `publish`."
        )
    me = guild.me
    if me is None:  # the guild is not fully cached yet: Discord will answer at delivery
        return
    perms = channel.permissions_for(me)
    needed = [
        ("View Channel", perms.view_channel),
        ("Send Messages", perms.send_messages),
        ("Embed Links", perms.embed_links),
    ]
    if thread and isinstance(channel, discord.TextChannel):
        needed.append(("Create Public Threads", perms.create_public_threads))
    missing = [name for name, ok in needed if not ok]
    if missing:
        raise UserFacingError(
            f"I can't post alerts in #{channel.name} as asked: I need the "
            f"{', '.join(missing)} permission there. Give it to me (or my role), then try again."
        )


def check_role(
    interaction: discord.Interaction, role: discord.Role, channel: AlertChannel | None
) -> None:
    """Refuse a role the alerts could not (or the invoker may not) ping: @everyone, a
    role of another server, or one that is not mentionable when the invoker or the bot
    lacks Mention Everyone (the bot would otherwise ping what the invoker cannot)."""
    if channel is None:
        raise UserFacingError("`mention` is for channel alerts: pick a `channel` too.")
    guild, member = interaction.guild, interaction.user
    if guild is None or role.guild.id != guild.id:
        raise UserFacingError("Pick a role of this server.")
    if role.is_default():
        raise UserFacingError(
            "Alerts never ping @everyone: pick a role for the people who want them."
        )
    if role.mentionable:
        return
    who = [("you", member)] if isinstance(member, discord.Member) else []
    if guild.me is not None:
        who.append(("I", guild.me))
    for name, m in who:
        if not channel.permissions_for(m).mention_everyone:
            raise UserFacingError(
                f"@{role.name} is not mentionable, and {name} lack the Mention Everyone "
                f"permission in #{channel.name}. Make the role mentionable, or pick another."
            )
