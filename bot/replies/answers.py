"""What each command answers, as Discord objects, independent of how it is delivered.

The slash commands send these replies through an interaction; the console
prints the very same embeds and buttons. Keeping the building here (and the
delivering in `commands/` and `bot/console.py`) is what stops the two drifting.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from bot.core.loader import LoadReport
from bot.core.newsroom import Newsroom
from bot.core.records import RecordError
from bot.core.search.searcher import Answer
from bot.core.text import format_bytes
from bot.replies import render

MAX_PAGES = 10
HELP_LINES = (
    ("/news <question>", "the story that best answers your question, with related coverage"),
    ("/latest [topic] [count]", "the newest stories, of one topic if you like"),
    ("/topics", "the topics the bot knows, with story counts"),
    (
        "/subscribe <topic> [channel] [keywords] [min_quality]",
        "alerts when a matching story arrives",
    ),
    ("/unsubscribe <subscription>", "stop alerts"),
    ("/subscriptions", "this server's alerts and yours"),
    (
        "/admin reload | stats | sync",
        "server managers: reload the stories, see stats, publish commands",
    ),
)


@dataclass(slots=True)
class Reply:
    embeds: list[discord.Embed]
    buttons: list[discord.ui.Button[Any]] = field(default_factory=list)  # link buttons
    ephemeral: bool = False
    pager: NewsPager | None = None

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send_message / followup.send (without the view)."""
        return {
            "embeds": self.embeds,
            "ephemeral": self.ephemeral,
            "allowed_mentions": render.NO_MENTIONS,
        }


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
        return len(self.hits)

    def can_page(self, user_id: int | None) -> bool:
        return self.owner_id is None or user_id == self.owner_id

    async def move(self, step: int) -> Reply:
        self.index = max(0, min(self.total - 1, self.index + step))
        return await self.render()

    async def render(self) -> Reply:
        hit = self.hits[self.index]
        story = await self.room.story(hit)
        if story is None:
            return Reply(
                [
                    render.info_embed(
                        "Story gone",
                        [],
                        description="That story was removed by a reload. Ask again.",
                    )
                ],
                ephemeral=True,
            )
        footer = _footer_for(self.answer, self.index, self.total, story.article.quality)
        embed = render.story_embed(
            story.article, also=story.also, stored_urls=story.stored_urls, footer=footer
        )
        return Reply([embed], render.story_buttons(story.article), pager=self)


async def news_reply(room: Newsroom, query: str, *, owner_id: int | None) -> Reply:
    answer = await room.ask(query, limit=MAX_PAGES)
    if not answer.hits:
        return Reply(
            [render.no_match_embed(query, answer.suggestions, notice=answer.notice)], ephemeral=True
        )
    return await NewsPager(room, answer, owner_id).render()


async def latest_reply(room: Newsroom, topic: str | None, count: int) -> Reply:
    count = max(1, min(count, 20))
    name, articles = await room.latest(topic, count)
    if topic and name is None:
        suggestions = await room.searcher.topic_choices(topic, limit=3)
        return Reply([render.no_match_embed(f"topic: {topic}", suggestions)], ephemeral=True)
    title = f"Latest in {name}" if name else "Latest stories"
    return Reply([render.latest_embed(articles, title=title, empty_text="No stories yet.")])


async def topics_reply(room: Newsroom) -> Reply:
    topics = await room.topics()
    stats = await room.store.stats()
    return Reply([render.topics_embed(topics, total_stories=stats["stories"])])


def help_reply() -> Reply:
    return Reply(
        [render.info_embed("newsbot commands", list(HELP_LINES), inline=False)], ephemeral=True
    )


def _rejection(error: RecordError, root: str | os.PathLike[str] | None) -> str:
    path = Path(error.path)
    if root is not None:
        # Relative to the data folder: the absolute path says nothing to a Discord
        # admin, and its length would push the reason past the cut below.
        with contextlib.suppress(ValueError):
            path = path.relative_to(root)
    return render.plain(f"{path}: {error.reason}")[:180]


def reload_reply(report: LoadReport, *, root: str | os.PathLike[str] | None = None) -> Reply:
    fields = [
        ("Added", str(report.added)),
        ("Updated", str(report.updated)),
        ("Unchanged", str(report.unchanged)),
        ("Rejected", str(len(report.rejected))),
    ]
    if report.pruned:
        fields.append(("Pruned", str(report.pruned)))
    if report.rejected:
        shown = "\n".join(_rejection(e, root) for e in report.rejected[:5])
        more = len(report.rejected) - 5
        fields.append(("First rejections", shown + (f"\n…and {more} more" if more > 0 else "")))
    return Reply(
        [
            render.info_embed(
                "Reload finished",
                fields,
                description=f"{report.files} files in {report.seconds:.1f} s",
            )
        ],
        ephemeral=True,
    )


def busy_reply(running_for: float | None) -> Reply:
    since = f" (running for {running_for:.0f} s)" if running_for is not None else ""
    return Reply(
        [
            render.info_embed(
                "Reload already running",
                [],
                description=f"A reload is already running{since}; try again when it has finished.",
            )
        ],
        ephemeral=True,
    )


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return f"{d}d {h}h {m}m" if d else f"{h}h {m}m {s}s"


async def stats_reply(room: Newsroom, *, latency: float | None = None) -> Reply:
    st = await room.stats()
    last = st["last_reload"] or "none since start"
    if st.get("last_reload_at"):
        ago = _duration(time.time() - st["last_reload_at"])
        last += f" ({ago} ago)"
    subs = st["subscriptions_by_status"]
    fields = [
        ("Stories", str(st["stories"])),
        ("Topics", str(st["topics"])),
        ("Providers", str(st["providers"])),
        (
            "Subscriptions",
            f"{st['subscriptions']} ({', '.join(f'{v} {k}' for k, v in subs.items()) or 'none'})",
        ),
        ("Pending alerts", str(st["outbox"].get("pending", 0))),
        ("DB size", format_bytes(st["db_bytes"])),
        ("Newest story", str(st["newest"] or "—")),
        ("Last reload", last),
        ("Uptime", _duration(st["uptime"])),
    ]
    if latency is not None and latency == latency and latency != float("inf"):
        fields.append(("Gateway latency", f"{latency * 1000:.0f} ms"))
    return Reply([render.info_embed("newsbot stats", fields)], ephemeral=True)


def message_reply(title: str, text: str, *, ephemeral: bool = True) -> Reply:
    return Reply([render.info_embed(title, [], description=text)], ephemeral=ephemeral)
