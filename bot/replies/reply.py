"""The value a command answers with: embeds, link buttons, privacy, and a pager.

A `Reply` is independent of how it is delivered: the slash commands send it
through an interaction, the console prints the very same embeds and buttons.
`NewsPager` turns the pages of a /news answer and renders each as a `Reply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core.newsroom import Newsroom
from bot.core.search.searcher import Answer
from bot.replies.embeds import info_embed, story_buttons, story_embed
from bot.replies.sanitize import NO_MENTIONS

MAX_PAGES = 10


@dataclass(slots=True)
class Reply:
    """What one command answers: embeds, link buttons, whether only the invoker
    sees it, and the pager when it has pages."""

    embeds: list[discord.Embed]
    buttons: list[discord.ui.Button[Any]] = field(default_factory=list)  # link buttons
    ephemeral: bool = False
    pager: NewsPager | None = None
    content: str | None = None  # text above the embeds (an alert preview's role mention)

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send_message / followup.send (without the view)."""
        kwargs: dict[str, Any] = {
            "embeds": self.embeds,
            "ephemeral": self.ephemeral,
            "allowed_mentions": NO_MENTIONS,
        }
        if self.content:
            kwargs["content"] = self.content
        return kwargs


def _footer_for(answer: Answer, index: int, total: int, quality: float | None) -> str:
    parts = [f"Result {index + 1} of {total}"]
    if quality is not None:
        parts.append(f"quality {quality:.0f}")
    if answer.corrected:
        fixed = ", ".join(f"{a} → {b}" for a, b in list(answer.corrected.items())[:3])
        parts.append(f"searched for: {fixed}")
    if answer.notice:
        parts.append(answer.notice)
    return " · ".join(parts)


class NewsPager:
    """Pages through the hits of one answer; only its owner may turn pages."""

    def __init__(self, room: Newsroom, answer: Answer, owner_id: int | None) -> None:
        self.room = room
        self.answer = answer
        self.owner_id = owner_id
        self.index = 0
        self.hits = answer.hits[:MAX_PAGES]

    @property
    def total(self) -> int:
        """How many pages (hits) there are."""
        return len(self.hits)

    def can_page(self, user_id: int | None) -> bool:
        """May ``user_id`` turn the pages?"""
        return self.owner_id is None or user_id == self.owner_id

    async def move(self, step: int) -> Reply:
        """Turn ``step`` pages (clamped to the first and last) and render that page."""
        self.index = max(0, min(self.total - 1, self.index + step))
        return await self.render()

    async def render(self) -> Reply:
        """The current page, or a private "Story gone" note when a reload removed it."""
        hit = self.hits[self.index]
        story = await self.room.story(hit)
        if story is None:
            return Reply(
                [
                    info_embed(
                        "Story gone",
                        [],
                        description="That story was removed by a reload. Ask again.",
                    )
                ],
                ephemeral=True,
            )
        footer = _footer_for(self.answer, self.index, self.total, story.article.quality)
        embed = story_embed(
            story.article, also=story.also, stored_urls=story.stored_urls, footer=footer
        )
        return Reply([embed], story_buttons(story.article), pager=self)


def message_reply(title: str, text: str, *, ephemeral: bool = True) -> Reply:
    """A one-message reply: a title and a line of text (private unless told)."""
    return Reply([info_embed(title, [], description=text)], ephemeral=ephemeral)
