"""Who may run a command: the app-command checks the cogs in `commands/` put on their commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.core.settings import Settings
from bot.discord_app.errors import GuildOnly, NotAdmin


def is_admin(interaction: discord.Interaction, settings: Settings) -> bool:
    """Does the invoker manage this server, or is listed in NEWSBOT_ADMIN_IDS?"""
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
    """Refuse a command used in a DM with `GuildOnly` (a sentence the user sees)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise GuildOnly("This command only works in a server.")
        return True

    return app_commands.check(predicate)
