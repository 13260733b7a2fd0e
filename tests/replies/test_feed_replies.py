"""The feed replies (`bot.replies.feeds`): what /admin feeds and the console show."""

from __future__ import annotations

import re

from bot.core.feeds import Feed, FeedError, PollReport
from bot.replies.feeds import (
    feed_added_reply,
    feed_removed_reply,
    feeds_reply,
    poll_reply,
    refusal,
    when,
)
from bot.replies.limits import MAX_FIELDS, MAX_TOTAL, embed_chars
from bot.replies.sanitize import unescape

NOW = 1_800_000_000.0
LIVE_MENTION = re.compile(r"(?<!\\)<[@#][!&]?\d+>|(?<!\\)@(everyone|here)\b", re.IGNORECASE)


def feed(i: int = 1, **kw: object) -> Feed:
    base: dict[str, object] = dict(
        id=i,
        url=f"https://outlet{i}.example/feed.xml",
        title=f"Outlet {i}",
        guild_id=42,
        topics=(),
        every=900.0,
        state="ok",
        reason=None,
        last_fetch=NOW - 180,
        next_fetch=NOW + 720,
        stories=12,
    )
    base.update(kw)
    return Feed(**base)  # type: ignore[arg-type]


def text_of(reply: object) -> str:
    [embed] = reply.embeds  # type: ignore[attr-defined]
    d = embed.to_dict()
    parts = [d.get("title", ""), d.get("description", "")]
    parts += [f"{f['name']}\n{f['value']}" for f in d.get("fields", [])]
    return unescape("\n".join(parts))


def test_when_says_how_long_ago_and_how_soon() -> None:
    assert when(None, now=NOW) == "never"
    assert when(NOW - 180, now=NOW) == "3 min ago"
    assert when(NOW + 2 * 3600, now=NOW) == "in 2 h"
    assert when(NOW - 3 * 86400, now=NOW) == "3 d ago"
    assert when(NOW + 0.4, now=NOW) == "now"


def test_the_list_shows_state_and_why_fetch_times_and_stories() -> None:
    feeds = [
        feed(1, topics=("Space", "AI")),
        feed(2, state="paused", reason="HTTP 403 Forbidden", stories=1, last_fetch=None),
    ]
    reply = feeds_reply(feeds, now=NOW)
    assert reply.ephemeral
    shown = text_of(reply)
    assert "2 feeds, 1 not ok" in shown
    assert "#1 Outlet 1\nok\nhttps://outlet1.example/feed.xml" in shown
    assert "last fetch 3 min ago · next in 12 min" in shown
    assert "12 stories · every 15 min" in shown and "topics: Space, AI" in shown
    assert "paused: HTTP 403 Forbidden" in shown
    assert "last fetch never" in shown and "1 story ·" in shown
    assert "for server" not in shown  # a server's own list does not say whose
    assert "for server 42" in text_of(feeds_reply(feeds, show_owner=True, now=NOW))
    assert "for every server" in text_of(feeds_reply([feed(guild_id=None)], show_owner=True))


def test_an_empty_list_says_how_to_add_one() -> None:
    assert "No feeds yet: /admin feeds add <url>." in text_of(feeds_reply([]))


def test_a_long_list_stays_within_discords_limits() -> None:
    feeds = [feed(i, title="T" * 300, reason="r" * 500, state="error") for i in range(1, 60)]
    [embed] = feeds_reply(feeds, now=NOW).embeds
    d = embed.to_dict()
    assert 1 < len(d["fields"]) <= MAX_FIELDS
    assert d["fields"][-1]["value"] == f"and {59 - (len(d['fields']) - 1)} more"
    assert embed_chars(embed) <= MAX_TOTAL


def test_text_from_the_feed_cannot_mention_or_format() -> None:
    hostile = feed(title="@everyone <@123> **bold**", reason="<@&456> @here", state="error")
    shown = feeds_reply([hostile], now=NOW).embeds[0].to_dict()
    raw = " ".join([shown["description"]] + [f["name"] + f["value"] for f in shown["fields"]])
    assert not LIVE_MENTION.search(raw)
    assert "**bold**" not in raw


def test_add_and_remove_notes() -> None:
    added = text_of(feed_added_reply(feed(topics=("Space",)), where="this server"))
    assert added.startswith("Feed added: #1 Outlet 1")
    assert "Fetched every 15 min; its stories answer this server." in added
    assert "without alerts" in added and "Topics added to its stories: Space" in added
    untitled = feed(title="")
    assert text_of(feed_added_reply(untitled, where="x")).startswith(
        f"Feed added: #1 {untitled.url}"
    )
    assert text_of(feed_removed_reply(feed())).startswith("Feed removed: #1 Outlet 1")


def test_poll_totals_and_the_feeds_that_failed() -> None:
    reports = [
        PollReport(1, "https://a.example/f", 3, 1, 10, "ok", None),
        PollReport(2, "https://b.example/f", 0, 0, 0, "error", "HTTP 503 (retry in 4 min)"),
    ]
    reply = poll_reply(reports)
    assert reply.ephemeral
    shown = text_of(reply)
    assert "2 feeds: 3 added, 1 updated, 10 unchanged, 1 failed." in shown
    assert "#2 https://b.example/f — error: HTTP 503 (retry in 4 min)" in shown
    assert "https://a.example/f" not in shown
    assert "No feeds to poll" in text_of(poll_reply([]))


def test_a_refusal_reads_as_a_sentence() -> None:
    assert refusal(FeedError("there is no feed #9 here")) == "There is no feed #9 here"
