"""What a user sees when a command fails: the refusals cogs raise, and the sentences for them.

Shared by the command tree's error handler (`bot.discord_app.bot.NewsTree`),
the pager's button errors (`bot.discord_app.views`) and the cogs in
`commands/`, so it imports none of them.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.store import StoreBusy, StoreError
from bot.replies.sanitize import plain

log = logging.getLogger(__name__)


class NotAdmin(app_commands.CheckFailure):
    """The invoker lacks Manage Server and is not in NEWSBOT_ADMIN_IDS."""


class GuildOnly(app_commands.CheckFailure):
    """A server-only command was used in a DM."""


class UserFacingError(app_commands.AppCommandError):
    """An error whose message is written for the user and shown as is."""


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


def _permission_names(missing: list[str]) -> str:
    return ", ".join(p.replace("_", " ").title() for p in missing)


def user_message(error: app_commands.AppCommandError) -> str:
    """The sentence a user sees for an error; never raw exception text."""
    original = getattr(error, "original", None)
    if isinstance(error, (NotAdmin, GuildOnly, UserFacingError)):
        return str(error)
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_permission_names(error.missing_permissions)} permission for this."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_permission_names(error.missing_permissions)} permission here."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)):
        # A mismatch is Discord sending options the code no longer has (or lacks
        # required ones): the published commands are out of date, like a not-found.
        return (
            "I don't know that command (it may have just changed); "
            "try again in a minute or use /help."
        )
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
