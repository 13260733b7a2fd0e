"""`/admin feeds …` in the console: the operator's view, the Discord replies, alerts printed."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from bot.console.session import ConsoleSession
from bot.core.newsroom import Newsroom
from bot.core.settings import ALL_NETWORKS, Settings
from bot.core.store.types import OPERATOR, Audience
from tests.feedserver import Entry, FeedServer, rss2
from tests.helpers import DATA_DIR


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "articles"
    shutil.copytree(DATA_DIR, data)
    return Settings(
        db_path=tmp_path / "news.db",
        data_dir=data,
        rescan_seconds=0,
        feeds_allow_private=ALL_NETWORKS,
    )


@pytest.fixture
async def room(settings: Settings) -> AsyncIterator[Newsroom]:
    room = await Newsroom.open(settings)
    yield room
    await room.close()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


def _session(room: Newsroom) -> tuple[ConsoleSession, Console]:
    console = Console(record=True, width=3000, no_color=True, file=open(os.devnull, "w"))  # noqa: SIM115
    return ConsoleSession(room, console), console


def _entry(title: str, slug: str) -> Entry:
    published = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(hours=1)
    return Entry(
        title,
        f"https://outlet.example/{slug}",
        summary=f"What happened: {title.lower()}.",
        published=published,
        categories=["Computer Vision"],
    )


async def test_console_adds_polls_lists_and_removes_a_feed_as_the_operator(
    room: Newsroom, feeds: FeedServer
) -> None:
    backlog = _entry("Seagull-spotting cameras guard a harbour", "seagulls")
    feeds.serve("/harbour.xml", rss2("Harbour Herald", [backlog]))
    url = feeds.url("/harbour.xml")
    session, console = _session(room)
    await session.run_line("/subscribe computer vision")

    await session.run_line(f"/admin feeds add {url} topics=Harbours every=20m")
    out = console.export_text()
    assert "Feed added" in out and "Fetched every 20 min" in out and "every server" in out
    [feed] = await room.feeds.list(OPERATOR)
    assert feed.guild_id is None and list(feed.topics) == ["Harbours"]
    # An operator's feed serves every server.
    assert [f.id for f in await room.feeds.list(Audience.of_guild(123))] == []

    await session.run_line("/admin feeds poll")
    out = console.export_text()
    assert "Feeds polled" in out and "1 feed: 1 added, 0 updated" in out
    assert "🔔 Alert" not in out  # the first fetch of a feed is silent
    await session.run_line("/news seagull cameras harbour")
    assert "Seagull-spotting cameras guard a harbour" in console.export_text()

    fresh = _entry("Harbour cameras catch a seal stealing fish", "seal")
    feeds.serve("/harbour.xml", rss2("Harbour Herald", [fresh, backlog]))
    await session.run_line("/admin feeds poll")
    await session.run_line("/admin feeds poll")  # 304: nothing new, nothing printed
    out = console.export_text()
    assert out.count("🔔 Alert") == 1
    assert out.count("Harbour cameras catch a seal stealing fish") == 1

    await session.run_line("/admin feeds list")
    out = console.export_text()
    assert f"#{feed.id} Harbour Herald" in out and url in out and "for every server" in out

    await session.run_line(f"/admin feeds remove {feed.id}")
    assert "Feed removed" in console.export_text()
    assert await room.feeds.list(OPERATOR) == []


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("/admin feeds", "Usage: /admin feeds add <url>"),
        ("/admin feeds frob", "Usage: /admin feeds add <url>"),
        ("/admin feeds add", "Usage: /admin feeds add <url>"),
        ("/admin feeds remove x", "Usage: /admin feeds remove <id>"),
        ("/admin feeds add https://example.com/f.xml every=soon", "every='soon'"),
    ],
)
async def test_console_feed_commands_hint_instead_of_failing(
    room: Newsroom, line: str, hint: str
) -> None:
    session, console = _session(room)
    assert await session.run_line(line) is True
    out = console.export_text()
    assert hint in out and "Traceback" not in out
    assert await room.feeds.list(OPERATOR) == []


async def test_console_shows_the_feed_services_refusals(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/admin feeds remove 99")
    await session.run_line("/admin feeds add ftp://example.com/feed.xml")
    out = console.export_text()
    assert "99" in out and "ftp" in out  # each refusal names what was wrong
    assert "failed; details are in the log" not in out
    assert await room.feeds.list(OPERATOR) == []
