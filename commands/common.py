"""Delivering a `Reply` through an interaction: respond once, defer when slow, then follow up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands

from bot.core.store.types import Audience
from bot.discord_app.bot import NewsBot
from bot.discord_app.views import NewsView
from bot.replies.reply import Reply

log = logging.getLogger(__name__)

# Discord allows 3 s before the first response; defer well before that so a
# slow answer (a cold cache after a big reload) still arrives.
DEFER_AFTER = 1.2


def bot_of(interaction: discord.Interaction) -> NewsBot:
    """The bot an interaction came to (the cogs run only in a `NewsBot`)."""
    return interaction.client  # type: ignore[return-value]


def _view_for(reply: Reply, timeout: float, live: set[int]) -> NewsView | None:
    if not reply.buttons and reply.pager is None:
        return None
    view = NewsView(reply, timeout=timeout, live=live)
    return view if view.children else None


async def ready(reply: Reply) -> Reply:
    """An already-built reply, in the awaitable form `deliver` takes."""
    return reply


async def deliver(
    interaction: discord.Interaction, work: Awaitable[Reply], *, ephemeral_wait: bool = False
) -> None:
    """Answer with the reply `work` produces: directly when quick, else defer then follow up.

    `ephemeral_wait` makes the "thinking…" state (and so the answer) private.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
    deferred = False
    if not done:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral_wait)
        deferred = True
    reply = await task
    bot = bot_of(interaction)
    view = _view_for(reply, bot.settings.page_timeout, bot.live_pagers)
    kwargs: dict[str, Any] = reply.send_kwargs()
    if view is not None:
        kwargs["view"] = view
    message_id: int | None
    if not deferred:
        sent = await interaction.response.send_message(**kwargs)
        message_id = sent.message_id
    else:
        if reply.ephemeral and not ephemeral_wait:
            # The public "thinking…" message cannot turn private: replace it.
            await interaction.delete_original_response()
        message_id = (await interaction.followup.send(wait=True, **kwargs)).id
    if view is not None:
        view.interaction = interaction
        view.attach(message_id)


async def story_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete over the titles this server may see, at most 25."""
    try:
        found = await bot_of(interaction).room.searcher.autocomplete(
            current, limit=25, audience=Audience.of_guild(interaction.guild_id)
        )
    except Exception:
        log.exception("story autocomplete failed for %r", current[:50])
        return []
    return [app_commands.Choice(name=n[:100], value=v[:100]) for n, v in found[:25]]


async def topic_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete over known topics (prefix and typo-tolerant), at most 25."""
    try:
        names = await bot_of(interaction).room.searcher.topic_choices(current, limit=25)
    except Exception:
        log.exception("topic autocomplete failed for %r", current[:50])
        return []
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names[:25]]
