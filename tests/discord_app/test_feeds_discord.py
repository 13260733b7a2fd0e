"""Feeds end to end: `/admin feeds …`, the polling loop, `/news`, `/latest`, autocomplete and
alerts, through the real `NewsBot` and discord.py against the stand-in, with the feeds served
by `tests.feedserver` on 127.0.0.1.

Two servers share one bot: "Newsroom" (the stand-in's default guild, managed by `admin`)
and "Other" (owned by `bob`). A feed one server adds must never show in the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

import bot.discord_app.sender as bot_sender
from bot.core.alerts.dispatch import Dispatcher
from bot.core.settings import ALL_NETWORKS
from bot.core.store.types import OPERATOR
from bot.discord_app.bot import NewsBot
from bot.discord_app.sender import DiscordSender
from bot.replies.sanitize import unescape
from tests.feedserver import Entry, FeedServer, atom, rss2
from tests.standin.protocol import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, EPHEMERAL

if TYPE_CHECKING:
    from tests.botfixtures import BotHarness, StartNewsBot
    from tests.standin import StandIn

pytest_plugins = ["tests.botfixtures"]

OTHER = "Other"  # the second server
TOPIC = "Computer Vision"  # a topic the demo records already have, so /subscribe finds it


@pytest.fixture(autouse=True)
def fast_dispatcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's real dispatcher and sender, with test-sized waits."""

    def build(b: NewsBot) -> Dispatcher:
        return Dispatcher(
            b.room.store,
            DiscordSender(b, timeout=0.6),
            backoff=0.05,
            max_backoff=0.2,
            park=0.5,
            idle=0.5,
            grace=0.5,
        )

    monkeypatch.setattr(bot_sender, "build_dispatcher", build)


@pytest.fixture(autouse=True)
def second_server(standin: StandIn) -> dict[str, Any]:
    """The guild "Other", owned by bob, with #lobby and #other-alerts (before the bot starts)."""
    world = standin.world
    world.add_user("bob")
    guild = world.add_guild(OTHER, owner="bob")
    world.add_text_channel(guild, "lobby")
    world.add_text_channel(guild, "other-alerts")
    return guild


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server on 127.0.0.1."""
    async with FeedServer() as server:
        yield server


@pytest.fixture
def start_feedbot(start_newsbot: StartNewsBot) -> StartNewsBot:
    """`start_newsbot` allowed to fetch from loopback (the only network here)."""

    def start(**changes: Any) -> Any:
        changes.setdefault("feeds_allow_private", ALL_NETWORKS)
        return start_newsbot(**changes)

    return start


# ----------------------------------------------------------------------------- helpers


def recent(hours: float = 1.0) -> datetime:
    return datetime.now(tz=UTC).replace(microsecond=0) - timedelta(hours=hours)


def entry(title: str, *, slug: str, hours: float = 1.0, topics: Sequence[str] = (TOPIC,)) -> Entry:
    return Entry(
        title,
        f"https://outlet.example/{slug}",
        summary=f"<p>What happened: {title.lower()}.</p>",
        published=recent(hours),
        categories=list(topics),
    )


def here(user: str, guild: str | None) -> dict[str, Any]:
    """The invocation context: `user` in #general of Newsroom, or in #lobby of Other."""
    if guild == OTHER:
        return {"user": user, "guild": OTHER, "channel": "lobby"}
    return {"user": user}


def said(data: dict[str, Any]) -> str:
    """What a message says: its content, or its embeds' text."""
    if data.get("content"):
        return str(data["content"])
    parts = []
    for e in data.get("embeds", []):
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return unescape("\n".join(parts))


async def private(
    h: BotHarness, command: str, options: dict[str, Any] | None = None, **context: Any
) -> str:
    """Run a command whose answer is private (direct or after a defer); what it says."""
    it, cb = await h.answer(command, options, **context)
    if cb.json["type"] == DEFERRED_CHANNEL_MESSAGE:
        assert cb.json["data"]["flags"] & EPHEMERAL, cb.json  # "thinking…" privately
        return said((await it.wait_followup(timeout=10.0)).json)
    assert cb.json["type"] == CHANNEL_MESSAGE, cb.json
    assert cb.json["data"]["flags"] & EPHEMERAL, cb.json
    return said(cb.json["data"])


async def add_feed(
    h: BotHarness, url: str, *, user: str = "admin", guild: str | None = None, **options: Any
) -> str:
    return await private(h, "admin feeds add", {"url": url, **options}, **here(user, guild))


async def stored_feed(h: BotHarness, url: str) -> Any:
    """The feed with this URL, as the operator sees it."""
    [feed] = [f for f in await h.room.feeds.list(OPERATOR) if f.url == url]
    return feed


async def first_poll_done(h: BotHarness, url: str, within: float = 10.0) -> Any:
    """Wait for the bot's polling loop to fetch the feed once (no command asks it to) and
    finish that round, whose end refreshes search and wakes the alerts."""
    poller = h.bot.feed_poller
    assert poller is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        feed = await stored_feed(h, url)
        if feed.last_fetch is not None and not poller.polling:
            return feed
        if loop.time() > deadline:
            raise TimeoutError(f"the polling loop did not fetch {url} within {within}s")
        await asyncio.sleep(0.05)


async def news_titles(h: BotHarness, query: str, **context: Any) -> list[str]:
    """The titles /news shows (its first page), or [] for the private no-match answer."""
    _, cb = await h.answer("news", {"query": query}, **context)
    data = cb.json["data"]
    if data.get("flags", 0) & EPHEMERAL:
        return []
    return [unescape(e["title"]) for e in data["embeds"]]


async def latest_text(h: BotHarness, **context: Any) -> str:
    _, cb = await h.answer("latest", {"count": 20}, **context)
    return said(cb.json["data"])


def channel_option(h: BotHarness, name: str, user: str, guild: str | None) -> dict[str, Any]:
    world = h.standin.world
    g = world.guild(guild) if guild else None
    ch = world.channel(name, guild=g)
    perms = world.permissions_for(user, guild=g or world.guild_of_channel(ch["id"]), channel=ch)
    return {**ch, "permissions": str(perms)}


async def subscribe(h: BotHarness, channel: str, *, user: str, guild: str | None = None) -> None:
    options = {"topic": TOPIC, "channel": channel_option(h, channel, user, guild)}
    text = await private(h, "subscribe", options, **here(user, guild))
    assert text.startswith("Subscribed"), text


async def settle(seconds: float = 0.6) -> None:
    """Give the dispatcher time to do what it must not (a second message, a leak)."""
    await asyncio.sleep(seconds)


# ----------------------------------------------------------------------------- tests


async def test_add_then_the_loop_polls_and_news_answers_from_the_feed(
    start_feedbot: StartNewsBot, feeds: FeedServer
) -> None:
    title = "Lidar vans map every pothole in Leeds"
    feeds.serve("/vision.xml", rss2("Vision Weekly", [entry(title, slug="lidar-vans")]))
    url = feeds.url("/vision.xml")
    async with start_feedbot() as h:
        text = await add_feed(h, url, topics="Mapping, Roads", every="30m")
        assert text.startswith("Feed added"), text
        assert url in text and "Fetched every 30 min" in text
        feed = await first_poll_done(h, url)
        assert feed.state == "ok" and feed.stories == 1
        assert list(feed.topics) == ["Mapping", "Roads"]
        assert feed.guild_id == int(h.standin.world.guild()["id"])
        # The searcher was refreshed after the poll: /news finds the story at once.
        assert (await news_titles(h, "lidar vans potholes leeds"))[:1] == [title]
        listed = await private(h, "admin feeds list", user="admin")
        assert "Vision Weekly" in listed and "ok" in listed and "1 story" in listed
        _, choices = await h.choices(
            "admin feeds remove", {"feed": "vision"}, focused="feed", user="admin"
        )
        assert choices == [{"name": f"#{feed.id} Vision Weekly", "value": feed.id}]
        assert feeds.hits("/vision.xml")  # fetched from the feed server, nowhere else


async def test_members_without_manage_server_cannot_touch_feeds(
    start_feedbot: StartNewsBot, feeds: FeedServer
) -> None:
    async with start_feedbot() as h:
        for command, options in (
            ("admin feeds add", {"url": feeds.url("/x.xml")}),
            ("admin feeds list", None),
            ("admin feeds poll", None),
        ):
            text = await private(h, command, options, user="alice")
            assert text == "You need the Manage Server permission to use this command."
        assert await h.room.feeds.list(OPERATOR) == []
        assert feeds.requests == []


async def test_a_servers_feed_is_invisible_to_another_server(
    start_feedbot: StartNewsBot, feeds: FeedServer
) -> None:
    first = "Heron cameras count salmon in the Tyne"
    # One Entry object, served twice: the same dates, so the second poll leaves it unchanged.
    first_entry = entry(first, slug="heron-cameras")
    feeds.serve("/a.xml", atom("Tyne Today", [first_entry]))
    url = feeds.url("/a.xml")
    async with start_feedbot() as h:
        await subscribe(h, "alerts", user="admin")
        await subscribe(h, "other-alerts", user="bob", guild=OTHER)
        await add_feed(h, url)
        feed = await first_poll_done(h, url)

        # Newsroom sees the story everywhere it asks …
        assert (await news_titles(h, "heron cameras salmon tyne"))[:1] == [first]
        assert first in await latest_text(h, user="admin")
        _, offered = await h.choices("news", {"query": "heron cameras"}, user="admin")
        assert any(first in c["name"] for c in offered)
        # … and Other nowhere, though it gets real answers from the shared stories.
        _, cb = await h.answer("news", {"query": "heron cameras salmon tyne"}, **here("bob", OTHER))
        assert cb.json["data"]["flags"] & EPHEMERAL and "No story matches" in said(cb.json["data"])
        _, newest = await h.room.latest(count=2, audience=OPERATOR)
        assert newest[0].title == first
        seen_by_other = await latest_text(h, **here("bob", OTHER))
        assert first not in seen_by_other and newest[1].title in seen_by_other
        _, offered = await h.choices("news", {"query": "heron cameras"}, **here("bob", OTHER))
        assert not any(first in c["name"] for c in offered)
        _, offered = await h.choices("news", {"query": "ibm facial"}, **here("bob", OTHER))
        assert offered  # autocomplete works there, on what Other may see

        # Other cannot list it, pick it, or remove it.
        listed = await private(h, "admin feeds list", **here("bob", OTHER))
        assert url not in listed and "Tyne Today" not in listed
        _, choices = await h.choices(
            "admin feeds remove", {"feed": ""}, focused="feed", **here("bob", OTHER)
        )
        assert choices == []
        refused = await private(h, "admin feeds remove", {"feed": feed.id}, **here("bob", OTHER))
        assert refused == f"There is no feed #{feed.id} here", refused  # says nothing of A's
        assert (await stored_feed(h, url)).id == feed.id

        # A later entry alerts Newsroom's channel once, and Other's never.
        later = "Heron cameras spot the first otter in decades"
        feeds.serve(
            "/a.xml",
            atom(
                "Tyne Today",
                [entry(later, slug="otter", hours=0.5), first_entry],
            ),
        )
        polled = await private(h, "admin feeds poll", user="admin")
        assert "1 added, 0 updated, 1 unchanged" in polled, polled
        [msg] = await h.standin.wait_until(
            lambda: h.standin.messages_in("alerts"), what="an alert in #alerts"
        )
        assert [unescape(e["title"]) for e in msg["embeds"]] == [later]
        await settle()
        assert h.standin.messages_in("other-alerts") == []
        assert len(h.standin.messages_in("alerts")) == 1

        # Removed by its server, the feed takes the stories only it carried along.
        removed = await private(h, "admin feeds remove", {"feed": feed.id}, user="admin")
        assert removed.startswith("Feed removed"), removed
        assert first not in await news_titles(h, "heron cameras salmon tyne")


async def test_first_poll_is_silent_and_a_later_entry_alerts_exactly_once(
    start_feedbot: StartNewsBot, feeds: FeedServer
) -> None:
    backlog = [entry(f"Backlog vision story number {i}", slug=f"backlog-{i}") for i in range(5)]
    feeds.serve("/v.xml", rss2("Vision Wire", backlog))
    url = feeds.url("/v.xml")
    async with start_feedbot() as h:
        await subscribe(h, "alerts", user="admin")
        await add_feed(h, url)
        feed = await first_poll_done(h, url)
        assert feed.stories == 5
        await settle()
        assert h.standin.messages_in("alerts") == []  # the backlog never alerts

        fresh = "Drones learn to read crop stress from the air"
        feeds.serve("/v.xml", rss2("Vision Wire", [entry(fresh, slug="crop-drones"), *backlog]))
        assert "1 added" in await private(h, "admin feeds poll", user="admin")
        [msg] = await h.standin.wait_until(
            lambda: h.standin.messages_in("alerts"), what="an alert in #alerts"
        )
        assert [unescape(e["title"]) for e in msg["embeds"]] == [fresh]

        # Polling again (304: nothing new) and again with the same entries sends nothing more.
        again = await private(h, "admin feeds poll", user="admin")
        assert "0 added, 0 updated" in again
        await settle()
        assert len(h.standin.messages_in("alerts")) == 1


async def test_the_per_server_cap_is_a_clear_message(
    start_feedbot: StartNewsBot, feeds: FeedServer
) -> None:
    for name in ("one", "two", "three"):
        feeds.serve(f"/{name}.xml", rss2(name, []))
    async with start_feedbot(max_feeds_per_guild=2) as h:
        assert (await add_feed(h, feeds.url("/one.xml"))).startswith("Feed added")
        assert (await add_feed(h, feeds.url("/two.xml"))).startswith("Feed added")
        refused = await add_feed(h, feeds.url("/three.xml"))
        assert not refused.startswith("Feed added")
        assert "2" in refused and "feeds" in refused.lower(), refused
        # The cap is per server: Other still may add its own.
        other = await add_feed(h, feeds.url("/three.xml"), user="bob", guild=OTHER)
        assert other.startswith("Feed added"), other
        assert len(await h.room.feeds.list(OPERATOR)) == 3


async def test_an_operator_feed_serves_every_server(
    start_feedbot: StartNewsBot, feeds: FeedServer, standin: StandIn
) -> None:
    title = "Satellite images reveal a hidden glacier lake"
    feeds.serve("/op.xml", rss2("Orbit News", [entry(title, slug="glacier-lake")]))
    url = feeds.url("/op.xml")
    bob = int(standin.world.user("bob")["id"])
    async with start_feedbot(admin_ids=frozenset({bob})) as h:
        # bob is in NEWSBOT_ADMIN_IDS: added in Other, the feed is the operator's.
        text = await add_feed(h, url, user="bob", guild=OTHER)
        assert "every server" in text, text
        feed = await first_poll_done(h, url)
        assert feed.guild_id is None
        assert (await news_titles(h, "satellite glacier lake"))[:1] == [title]
        assert (await news_titles(h, "satellite glacier lake", **here("bob", OTHER)))[:1] == [title]
        # Newsroom's admin sees no feed of its own; the operator sees every feed.
        assert url not in await private(h, "admin feeds list", user="admin")
        assert url in await private(h, "admin feeds list", **here("bob", OTHER))
        removed = await private(h, "admin feeds remove", {"feed": feed.id}, **here("bob", OTHER))
        assert removed.startswith("Feed removed"), removed
        assert await h.room.feeds.list(OPERATOR) == []


async def test_two_outlets_feeds_on_one_event_are_one_news_hit_listing_the_other(
    start_feedbot: StartNewsBot, feeds: FeedServer
) -> None:
    feeds.serve(
        "/north.xml",
        rss2(
            "North Star",
            [entry("Volcano erupts near Grindavik as lava reaches the town", slug="north/lava")],
            link="https://northstar.example",
        ),
    )
    feeds.serve(
        "/coast.xml",
        rss2(
            "Coast Courier",
            [entry("Lava reaches Grindavik town after volcano erupts", slug="coast/lava")],
            link="https://coastcourier.example",
        ),
    )
    async with start_feedbot() as h:
        await add_feed(h, feeds.url("/north.xml"))
        await add_feed(h, feeds.url("/coast.xml"))
        await first_poll_done(h, feeds.url("/north.xml"))
        await first_poll_done(h, feeds.url("/coast.xml"))
        _, cb = await h.answer("news", {"query": "grindavik volcano lava"})
        [story] = cb.json["data"]["embeds"]
        related = [f for f in story["fields"] if f["name"].startswith("Related coverage")]
        assert related, story
        other = "Coast Courier" if "North Star" in story["author"]["name"] else "North Star"
        assert other in unescape(related[0]["value"])


async def test_a_refused_address_is_a_clear_message_and_nothing_is_fetched(
    start_newsbot: StartNewsBot, feeds: FeedServer
) -> None:
    # Without NEWSBOT_FEEDS_ALLOW_PRIVATE, loopback (all there is here) is refused.
    feeds.serve("/x.xml", rss2("Loopback", []))
    async with start_newsbot() as h:
        refused = await add_feed(h, feeds.url("/x.xml"))
        assert refused.startswith("Refused: 127.0.0.1"), refused
        not_http = await add_feed(h, "ftp://files.example/feed.xml")
        assert "only http and https" in not_http or "not an http(s) URL" in not_http
        assert await h.room.feeds.list(OPERATOR) == []
    assert feeds.requests == []
