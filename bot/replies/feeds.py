"""What the feed commands answer: the list, and the add/remove/poll notes.

Built once for Discord (`/admin feeds …`) and the console. A feed's text (its
title, its URL, a server's reason) came from the outside world, so it goes
through `info_embed`, which escapes it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.core.feeds import Feed, PollReport
from bot.replies.embeds import COLOUR_WARN, info_embed
from bot.replies.reply import Reply

# One field is left for the "and N more" line.
_MAX_LISTED = 24
_MAX_FAILURES_SHOWN = 10
_TITLE_CHARS = 80
_REASON_CHARS = 200
_URL_CHARS = 200
# Of an embed's 6000 characters: what the listed feeds may take before "and N more",
# leaving room for the title, the description and the escaping of their text.
_LIST_BUDGET = 4500
_HEALTHY = frozenset({"ok", "new"})


def refusal(error: Exception) -> str:
    """A `FeedError` as the sentence a user sees ("There is no feed #9 here")."""
    text = str(error).strip() or "That cannot be done with feeds."
    return text[:1].upper() + text[1:]


def _span(seconds: float) -> str:
    seconds = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def when(at: float | None, *, now: float | None = None) -> str:
    """'3 min ago', 'in 2 h', 'now' or 'never' for a fetch time (epoch seconds)."""
    if at is None:
        return "never"
    delta = at - (time.time() if now is None else now)
    if abs(delta) < 1:
        return "now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(-delta)} ago"


def every_text(seconds: float) -> str:
    """A polling interval as people say it: '15 min', '2 h'."""
    return _span(seconds)


def state_text(feed: Feed) -> str:
    """'ok', or 'paused: HTTP 403 Forbidden' (the state and why)."""
    if feed.reason and feed.state != "ok":
        return f"{feed.state}: {feed.reason[:_REASON_CHARS]}"
    return feed.state


def _owner(feed: Feed) -> str:
    return "every server" if feed.guild_id is None else f"server {feed.guild_id}"


def feed_label(feed: Feed) -> str:
    """'#3 The Verge' (the title, else the URL), for notes and field names."""
    name = (feed.title or "").strip() or feed.url
    return f"#{feed.id} {name[:_TITLE_CHARS]}"


def _feed_field(feed: Feed, *, show_owner: bool, now: float | None) -> tuple[str, str]:
    lines = [
        state_text(feed),
        feed.url[:_URL_CHARS],
        f"last fetch {when(feed.last_fetch, now=now)} · next {when(feed.next_fetch, now=now)}",
        f"{feed.stories} {'story' if feed.stories == 1 else 'stories'}"
        f" · every {every_text(feed.every)}",
    ]
    if feed.topics:
        lines.append("topics: " + ", ".join(feed.topics))
    if show_owner:
        lines.append("for " + _owner(feed))
    return feed_label(feed), "\n".join(lines)


def feeds_reply(
    feeds: Sequence[Feed],
    *,
    title: str = "Feeds",
    show_owner: bool = False,
    empty: str = "No feeds yet: /admin feeds add <url>.",
    now: float | None = None,
) -> Reply:
    """/admin feeds list, privately: a field per feed with its state and why, last and
    next fetch, stories; ``show_owner`` adds whose feed it is (the operator sees all)."""
    fields: list[tuple[str, str]] = []
    used = 0
    for f in feeds[:_MAX_LISTED]:
        name, value = _feed_field(f, show_owner=show_owner, now=now)
        used += len(name) + len(value)
        if used > _LIST_BUDGET:
            break
        fields.append((name, value))
    if len(feeds) > len(fields):
        fields.append(("…", f"and {len(feeds) - len(fields)} more"))
    failing = sum(1 for f in feeds if f.state not in _HEALTHY)
    description = empty if not feeds else f"{_count(len(feeds), 'feed')}, {failing} not ok"
    embed = info_embed(
        title,
        fields,
        description=description,
        colour=COLOUR_WARN if failing else None,
        inline=False,
    )
    return Reply([embed], ephemeral=True)


def feed_added_reply(feed: Feed, *, where: str) -> Reply:
    """/admin feeds add done: which feed, how often, and who sees its stories (``where``:
    "this server", "every server")."""
    text = (
        f"{feed.url}\nFetched every {every_text(feed.every)}; its stories answer {where}. "
        "The first fetch stores what the feed holds now without alerts; "
        "later stories alert as usual."
    )
    if feed.topics:
        text += "\nTopics added to its stories: " + ", ".join(feed.topics)
    return Reply(
        [info_embed(f"Feed added: {feed_label(feed)}", [], description=text)], ephemeral=True
    )


def feed_removed_reply(feed: Feed) -> Reply:
    """/admin feeds remove done: the feed is no longer fetched."""
    text = (
        f"{feed.url} is no longer fetched. The stories only it carried are removed "
        "with it; stories other sources carry too stay."
    )
    return Reply(
        [info_embed(f"Feed removed: {feed_label(feed)}", [], description=text)], ephemeral=True
    )


def _report_line(report: PollReport) -> str:
    why = f": {report.reason[:_REASON_CHARS]}" if report.reason else ""
    return f"#{report.feed_id} {report.url} — {report.state}{why}"


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def poll_reply(reports: Sequence[PollReport]) -> Reply:
    """/admin feeds poll finished: one line of totals, and the feeds that did not fetch
    cleanly with why."""
    if not reports:
        text = "No feeds to poll (paused and disabled feeds are skipped)."
        return Reply([info_embed("Feeds polled", [], description=text)], ephemeral=True)
    failed = [r for r in reports if r.state not in _HEALTHY]
    text = (
        f"{_count(len(reports), 'feed')}: {sum(r.added for r in reports)} added, "
        f"{sum(r.updated for r in reports)} updated, "
        f"{sum(r.unchanged for r in reports)} unchanged, {len(failed)} failed."
    )
    fields = []
    if failed:
        shown = "\n".join(_report_line(r) for r in failed[:_MAX_FAILURES_SHOWN])
        more = len(failed) - _MAX_FAILURES_SHOWN
        fields.append(("Not ok", shown + (f"\n…and {more} more" if more > 0 else "")))
    embed = info_embed(
        "Feeds polled",
        fields,
        description=text,
        colour=COLOUR_WARN if failed else None,
        inline=False,
    )
    return Reply([embed], ephemeral=True)
