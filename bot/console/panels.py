"""Printing a `Reply` in a terminal: each embed as a rich panel, then its links and paging words.

Text from articles is printed as plain `rich.text.Text`, never as markup, so a
title cannot restyle the terminal. Compact by shape, whatever the command:
short side-by-side fields (reload counts, stats) are one line or a small
table; a list of one-line items (topics) is laid out in columns; a list of
linked stories (/latest) is a table, one row each. Links are rich hyperlinks,
and every URL printed in full is printed on a line of its own, unbroken, so a
terminal can open it. A title too long for the panel's header ends in "…" there
and is printed in full inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import discord
from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.replies.reply import Reply
from bot.replies.sanitize import unescape

_MD_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")


def _links_to_text(value: str) -> str:
    """Markdown links as 'text <url>' (a terminal shows both), then unescaped."""
    return unescape(_MD_LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", value)).replace("**", "")


def _url_line(url: str, *, style: str = "dim", prefix: str = "") -> Text:
    """A URL that is never broken across lines (cut with … only when the panel is narrower)."""
    line = Text(prefix, no_wrap=True, overflow="ellipsis")
    line.append(url, style=f"{style} link {url}")
    return line


def _linked_items(value: str) -> list[tuple[str, str, str, str]] | None:
    """Lines that each hold one Markdown link → (text before, link text, url, text after);
    None otherwise."""
    items = []
    for raw in value.split("\n"):
        m = _MD_LINK.search(raw)
        if not m:
            return None
        before = unescape(raw[: m.start()].replace("**", "")).strip()
        after = unescape(raw[m.end() :].replace("**", "")).strip(" —-·")
        items.append((before, unescape(m.group(1)), m.group(2), after))
    return items


def _story_table(items: list[tuple[str, str, str, str]]) -> Table:
    """Linked stories, one row each: number, title (a hyperlink, cut with …), the rest."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column(style="dim", no_wrap=True, overflow="ellipsis", max_width=40)
    for n, (before, text, url, rest) in enumerate(items, start=1):
        title = Text(f"{before} " if before else "")
        title.append(text, style=f"bold link {url}")
        table.add_row(Text(f"{n}."), title, Text(rest))
    return table


def _fields(fields: list[dict[str, Any]], width: int) -> list[RenderableType]:
    """Side-by-side short fields as one line or a small table; others as heading + text."""
    out: list[RenderableType] = []
    short = [f for f in fields if f.get("inline") and "\n" not in f["value"]]
    lists = [f for f in fields if f.get("inline") and "\n" in f["value"]]
    if short:
        pairs = [(_links_to_text(f["name"]), _links_to_text(f["value"])) for f in short]
        one_line = " · ".join(f"{k} {v}" for k, v in pairs)
        if len(one_line) <= width:
            line = Text()
            for i, (k, v) in enumerate(pairs):
                line.append(" · " if i else "", style="dim")
                line.append(f"{k} ", style="bold")
                line.append(v)
            out.append(line)
        else:
            per_row = max(1, width // 40)
            grid = Table.grid(padding=(0, 2))
            for _ in range(per_row):
                grid.add_column(style="bold", no_wrap=True)
                grid.add_column(overflow="fold")
            for i in range(0, len(pairs), per_row):
                # Text, not str: a str cell would be read as rich markup ("[x]" vanishes).
                row = [Text(x) for k, v in pairs[i : i + per_row] for x in (k, v)]
                grid.add_row(*row, *[Text("")] * (2 * per_row - len(row)))
            out.append(grid)
    if lists:
        items = [
            Text(_links_to_text(line))
            for f in lists
            for line in f["value"].split("\n")
            if line.strip()
        ]
        heading = next((f["name"] for f in lists if f["name"].strip("\u200b ")), "")
        if heading:
            out.append(Text(_links_to_text(heading), style="bold"))
        out.append(Columns(items, padding=(0, 3), column_first=True))
    plain_rows = [f for f in fields if not f.get("inline")]
    if plain_rows and all(
        "\n" not in f["value"] and not _MD_LINK.search(f["value"]) for f in plain_rows
    ):
        # One-line entries (a command list): a two-column table, not heading + text each.
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        for f in plain_rows:
            table.add_row(Text(_links_to_text(f["name"])), Text(_links_to_text(f["value"])))
        if out:
            out.append(Text(""))
        out.append(table)
        return out
    for f in plain_rows:
        if out:
            out.append(Text(""))
        out.append(Text(_links_to_text(f["name"]), style="bold"))
        items = _linked_items(f["value"])
        if items:
            for before, text, url, rest in items:
                line = Text("• " + (f"{before} " if before else ""))
                line.append(text, style=f"link {url}")
                if rest:
                    line.append(f" — {rest}", style="dim")
                out.append(line)
                out.append(_url_line(url, prefix="  "))
        else:
            out.append(Text(_links_to_text(f["value"])))
    return out


def embed_panel(embed: discord.Embed, width: int = 80) -> Panel:
    """One embed as a rich Panel (for a console `width` columns wide): title, link,
    author, text, fields, image, time, footer."""
    d = embed.to_dict()
    body: list[Any] = []
    inner = max(20, width - 4)
    title_text = _links_to_text(d.get("title") or "")
    header = title_text
    if len(title_text) > inner - 4:
        # The header line cannot wrap: cut it with an ellipsis, and print it whole inside.
        header = title_text[: max(1, inner - 5)].rstrip() + "…"
        body.append(Text(title_text, style="bold"))
    author = d.get("author") or {}
    if author.get("name"):
        body.append(Text(author["name"], style="bold cyan"))
        if author.get("url"):
            body.append(_url_line(author["url"]))
    if d.get("url"):
        body.append(_url_line(d["url"], style="underline blue"))
    if d.get("description"):
        _gap(body)
        items = _linked_items(d["description"])
        if items and len(items) > 1:
            body.append(_story_table(items))
        else:
            body.append(Text(_links_to_text(d["description"])))
    fields = d.get("fields") or []
    if fields:
        _gap(body)
        body.extend(_fields(fields, inner))
    for key, label in (("image", "image"), ("thumbnail", "thumbnail")):
        if (d.get(key) or {}).get("url"):
            body.append(_url_line(d[key]["url"], prefix=f"{label}: "))
    meta = []
    if d.get("timestamp"):
        meta.append(_when(d["timestamp"]))
    if (d.get("footer") or {}).get("text"):
        meta.append(d["footer"]["text"])
    if meta:
        _gap(body)
        body.append(Text(" · ".join(meta), style="dim"))
    title = Text(header, style="bold")
    colour = d.get("color")
    border = f"#{colour:06x}" if isinstance(colour, int) else "white"
    return Panel(Group(*body), title=title, title_align="left", border_style=border, expand=True)


def _gap(body: list[Any]) -> None:
    """A blank line between blocks, never at the top of a panel."""
    if body:
        body.append(Text(""))


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


class Pager(Protocol):
    """What `next`/`prev` page through: a /news pager, or the console's /latest pages."""

    index: int

    @property
    def total(self) -> int:
        """How many pages there are."""
        ...

    async def move(self, step: int) -> Reply:
        """Go `step` pages on (or back) and answer with that page."""
        ...


@dataclass(slots=True)
class Action:
    """A numbered thing the user can do next: open a link, or page."""

    label: str
    url: str | None = None


def reply_actions(reply: Reply, pager: Pager | None = None) -> list[Action]:
    """The reply's link buttons, then the paging words that apply (to `pager`, or the
    reply's own)."""
    actions = [Action(b.label or "link", b.url) for b in reply.buttons if b.url]
    pager = pager or reply.pager
    if pager is not None and pager.total > 1:
        if pager.index > 0:
            actions.append(Action("◀ Previous (type: prev)"))
        if pager.index < pager.total - 1:
            actions.append(Action("Next ▶ (type: next)"))
    return actions


def print_reply(console: Console, reply: Reply, pager: Pager | None = None) -> list[Action]:
    """Print the embeds, the numbered links and the paging words (of `pager`, or the
    reply's own); returns the links, for `open N`."""
    for embed in reply.embeds:
        console.print(embed_panel(embed, console.width))
    actions = reply_actions(reply, pager)
    numbered = [a for a in actions if a.url]
    for i, a in enumerate(numbered, start=1):
        line = Text(f"  [{i}] {a.label}  ", style="bold")
        line.append(a.url or "", style=f"dim link {a.url}")
        # soft_wrap: the terminal may fold a long URL visually, but it stays one
        # unbroken string that a click or a copy gets whole.
        console.print(line, soft_wrap=True)
    paging = [a.label for a in actions if not a.url]
    if paging:
        console.print(Text("  " + "   ".join(paging), style="bold"))
    return numbered
