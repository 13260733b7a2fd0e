"""/admin reload | stats | sync | feeds: for server managers (Manage Server) and
NEWSBOT_ADMIN_IDS."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.store import StoreBusy
from bot.discord_app.checks import admin_only
from bot.discord_app.errors import UserFacingError
from bot.discord_app.run import publish
from bot.replies.admin import busy_reply, reload_reply, stats_reply
from bot.replies.reply import message_reply
from commands.common import bot_of, deliver, ready
from commands.feeds import FeedCommands

log = logging.getLogger(__name__)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Admin(
    FeedCommands, commands.GroupCog, group_name="admin", group_description="Manage newsbot"
):
    """/admin reload, /admin stats, /admin sync, and /admin feeds … (`FeedCommands`)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="reload", description="Rescan the data folder for new and changed stories"
    )
    @admin_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        room = bot.room
        if room.reloading:
            await deliver(interaction, ready(busy_reply(room.reload_running_for)))
            return
        # A reload of thousands of files takes seconds: acknowledge first.
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            report = await room.reload(wait=False)
        except StoreBusy:
            reply = busy_reply(room.reload_running_for)
        else:
            reply = reload_reply(report, root=room.settings.data_dir)
            if report.changed:
                await bot.stories_changed()
        await interaction.followup.send(**reply.send_kwargs())

    @app_commands.command(
        name="stats", description="Stories, topics, subscriptions, last reload, uptime"
    )
    @admin_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        await deliver(interaction, stats_reply(bot.room, latency=bot.latency), ephemeral_wait=True)

    @app_commands.command(
        name="sync", description="Publish the slash commands (to this server, or globally)"
    )
    @app_commands.describe(scope="'here' for this server only (instant), 'global' for every server")
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="here", value="here"),
            app_commands.Choice(name="global", value="global"),
        ]
    )
    @admin_only()
    async def sync(self, interaction: discord.Interaction, scope: str = "here") -> None:
        if scope == "here" and interaction.guild_id is None:
            # NEWSBOT_ADMIN_IDS users pass the check in DMs; "here" must not quietly
            # become a global publish (slow to show, rate-limited).
            raise UserFacingError(
                "There is no server here: run this in your server, or pick scope global."
            )
        await interaction.response.defer(thinking=True, ephemeral=True)
        guild_id = interaction.guild_id if scope == "here" else None
        synced = await publish(bot_of(interaction), guild_id)
        where = "this server" if guild_id else "every server (may take up to an hour to show)"
        reply = message_reply("Commands synced", f"{len(synced)} commands published to {where}.")
        await interaction.followup.send(**reply.send_kwargs())


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: `NewsBot.setup_hook` loads this module by name."""
    await bot.add_cog(Admin(bot))
