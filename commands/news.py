"""/news, /latest, /topics, /help: asking the store questions."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.store.types import Audience
from bot.replies.news import help_reply, latest_reply, news_reply, topics_reply
from commands.common import bot_of, deliver, ready, story_choices, topic_choices

log = logging.getLogger(__name__)


class News(commands.Cog):
    """/news (with its pager), /latest, /topics, /help."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="news", description="Find the story that answers your question")
    @app_commands.describe(query="What do you want to know? e.g. ibm facial recognition")
    async def news(
        self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 300]
    ) -> None:
        room = bot_of(interaction).room
        reply = news_reply(
            room,
            query,
            owner_id=interaction.user.id,
            audience=Audience.of_guild(interaction.guild_id),
        )
        await deliver(interaction, reply)

    @news.autocomplete("query")
    async def news_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await story_choices(interaction, current)

    @app_commands.command(name="latest", description="The newest stories, optionally of one topic")
    @app_commands.describe(topic="Only stories of this topic", count="How many (1-20, default 5)")
    async def latest(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 100] | None = None,
        count: app_commands.Range[int, 1, 20] = 5,
    ) -> None:
        audience = Audience.of_guild(interaction.guild_id)
        room = bot_of(interaction).room
        await deliver(interaction, latest_reply(room, topic, count, audience=audience))

    @latest.autocomplete("topic")
    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await topic_choices(interaction, current)

    @app_commands.command(name="topics", description="The topics I know, with story counts")
    async def topics(self, interaction: discord.Interaction) -> None:
        await deliver(interaction, topics_reply(bot_of(interaction).room))

    @app_commands.command(name="help", description="What I can do")
    async def help(self, interaction: discord.Interaction) -> None:
        await deliver(interaction, ready(help_reply()))


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: `NewsBot.setup_hook` loads this module by name."""
    await bot.add_cog(News(bot))
