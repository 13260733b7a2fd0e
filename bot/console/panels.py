"""Printing a `Reply` in a terminal: each embed as a rich panel, then its links and paging words.

Text from articles is printed as plain `rich.text.Text`, never as markup, so a
title cannot restyle the terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.replies.reply import Reply
from bot.replies.sanitize import unescape

_MD_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")


def _links_to_text(value: str) -> str:
    """Markdown links as 'text <url>' (a terminal shows both), then unescaped."""
    return unescape(_MD_LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", value)).replace("**", "")


def embed_panel(embed: discord.Embed) -> Panel:
    """One embed as a rich Panel: title, link, author, text, fields, image, time, footer."""
    d = embed.to_dict()
    body: list[Any] = []
    author = d.get("author") or {}
    if author.get("name"):
        line = Text(author["name"], style="bold cyan")
        if author.get("url"):
            line.append(f"  {author['url']}", style="dim")
        body.append(line)
    if d.get("url"):
        body.append(Text(d["url"], style="underline blue"))
    if d.get("description"):
        body.append(Text(""))
        body.append(Text(_links_to_text(d["description"])))
    for f in d.get("fields") or []:
        body.append(Text(""))
        body.append(Text(_links_to_text(f["name"]), style="bold"))
        body.append(Text(_links_to_text(f["value"])))
    for key, label in (("image", "image"), ("thumbnail", "thumbnail")):
        if (d.get(key) or {}).get("url"):
            body.append(Text(f"{label}: {d[key]['url']}", style="dim"))
    meta = []
    if d.get("timestamp"):
        meta.append(_when(d["timestamp"]))
    if (d.get("footer") or {}).get("text"):
        meta.append(d["footer"]["text"])
    if meta:
        body.append(Text(""))
        body.append(Text(" · ".join(meta), style="dim"))
    title = Text(_links_to_text(d.get("title") or ""), style="bold")
    colour = d.get("color")
    border = f"#{colour:06x}" if isinstance(colour, int) else "white"
    return Panel(Group(*body), title=title, title_align="left", border_style=border, expand=True)


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


@dataclass(slots=True)
class Action:
    """A numbered thing the user can do next: open a link, or page."""

    label: str
    url: str | None = None


def reply_actions(reply: Reply) -> list[Action]:
    """The reply's link buttons, then the paging words that apply."""
    actions = [Action(b.label or "link", b.url) for b in reply.buttons if b.url]
    pager = reply.pager
    if pager is not None and pager.total > 1:
        if pager.index > 0:
            actions.append(Action("◀ Previous (type: prev)"))
        if pager.index < pager.total - 1:
            actions.append(Action("Next ▶ (type: next)"))
    return actions


def print_reply(console: Console, reply: Reply) -> list[Action]:
    """Print the embeds and the numbered links; returns the links, for `open N`."""
    for embed in reply.embeds:
        console.print(embed_panel(embed))
    actions = reply_actions(reply)
    numbered = [a for a in actions if a.url]
    for i, a in enumerate(numbered, start=1):
        line = Text(f"  [{i}] {a.label}", style="bold")
        line.append(f"  {a.url}", style="dim")
        console.print(line)
    paging = [a.label for a in actions if not a.url]
    if paging:
        console.print(Text("  " + "   ".join(paging), style="bold"))
    return numbered
