"""`/admin feeds add | list | remove | poll` in the console, acting as the operator.

The console's user runs the bot, so like `newsbot feeds` on the command line
they act as the operator: the feeds they add serve every server, and they see
and manage every feed, whichever server added it. The replies are the ones
Discord sends (`bot.replies.feeds`).

The commands take the session as a `FeedScreen`, so this module does not import
the session that calls it.
"""

from __future__ import annotations

from typing import Protocol

from bot.console.alerts import Screen
from bot.console.options import parse_options
from bot.core.feeds import FeedError, PollReport
from bot.core.settings import ConfigError, parse_duration
from bot.core.store.types import OPERATOR
from bot.replies.feeds import (
    feed_added_reply,
    feed_removed_reply,
    feeds_reply,
    poll_reply,
    refusal,
)

USAGE = (
    "Usage: /admin feeds add <url> [topics=A,B] [every=15m] | /admin feeds list | "
    "/admin feeds remove <id> | /admin feeds poll"
)


class FeedScreen(Screen, Protocol):
    """What the feed commands need of a console session: a `Screen` that prints alerts."""

    async def deliver_alerts(self) -> None:
        """Print every alert that is due."""
        ...


def attach(session: FeedScreen) -> None:
    """After a poll that brought stories (`/admin feeds poll`, or the interactive
    console's polling loop), refresh search and print the alerts that are due."""

    async def changed(_reports: list[PollReport]) -> None:
        await session.room.searcher.refresh()
        await session.deliver_alerts()

    session.room.feeds.on_change = changed


async def run(session: FeedScreen, rest: str) -> None:
    """Run `/admin feeds <rest>`; a usage line for anything else."""
    sub, _, args = rest.strip().partition(" ")
    handler = {"add": _add, "list": _list, "remove": _remove, "poll": _poll}.get(sub.lower())
    if handler is None:
        session.hint(USAGE)
        return
    try:
        await handler(session, args.strip())
    except FeedError as exc:
        session.hint(refusal(exc))


async def _add(session: FeedScreen, args: str) -> None:
    url, opts = parse_options(args)
    if not url or " " in url:
        session.hint("Usage: /admin feeds add <url> [topics=A,B] [every=15m]")
        return
    every = None
    if opts.get("every"):
        try:
            every = parse_duration("every", opts["every"])
        except ConfigError as exc:
            session.hint(str(exc))
            return
    topics = tuple(t.strip() for t in opts.get("topics", "").split(",") if t.strip())
    feed = await session.room.feeds.add(url, topics=topics, every=every, guild_id=None)
    session.show(feed_added_reply(feed, where="every server"))


async def _list(session: FeedScreen, args: str) -> None:
    feeds = await session.room.feeds.list(OPERATOR)
    session.show(
        feeds_reply(
            feeds,
            title="Feeds (every server)",
            show_owner=True,
            empty="No feeds yet: /admin feeds add <url>.",
        )
    )


async def _remove(session: FeedScreen, args: str) -> None:
    wanted = args.strip().lstrip("#")
    if not wanted.isdigit():
        session.hint("Usage: /admin feeds remove <id>; /admin feeds list shows the ids.")
        return
    session.show(feed_removed_reply(await session.room.feeds.remove(int(wanted), OPERATOR)))


async def _poll(session: FeedScreen, args: str) -> None:
    # Alerts the poll brings print first (`attach`), then the poll's totals.
    session.show(poll_reply(await session.room.feeds.poll(audience=OPERATOR)))
