"""Same-event coverage across feeds, and whose feed it is: per-server visibility at the
core (room.ask / latest / alert matching by Audience), listing, removing, the cap."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.alerts import subscriptions
from bot.core.feeds import FeedError, FeedService
from bot.core.feeds.grouping import Headline, event_pairs, same_event, title_words
from bot.core.newsroom import Newsroom
from bot.core.records import canonical_url
from bot.core.store.types import OPERATOR, Audience
from tests.core.feeds.conftest import feed_settings
from tests.drivers import StoreTarget, on_target, remember, sql_rows
from tests.feedserver import Entry, FeedServer, atom, rss2

NOW = datetime.now(UTC).replace(microsecond=0)
A, B = 111, 222


@pytest.fixture
async def room(tmp_path: Path, store_target: StoreTarget) -> AsyncIterator[Newsroom]:
    settings = on_target(feed_settings(tmp_path), store_target)
    r = await Newsroom.open(settings, autoload=False)
    remember(r.store, store_target)
    try:
        yield r
    finally:
        await r.close()


def test_paraphrased_headlines_of_one_event_match_and_template_ones_do_not() -> None:
    ibm = title_words("IBM stops work on facial recognition over human rights concerns")
    assert same_event(
        ibm, title_words("IBM Ditches Facial Recognition Tech Over Human Rights Concerns")
    )
    assert not same_event(
        title_words("How Will Service Robotics Market Deal with the COVID-19 Crisis?"),
        title_words("Lumora Health's AI triage tool cut ER waits by 18% in three-hospital pilot"),
    )


def test_event_pairs_respect_the_window_and_the_outlet() -> None:
    t = NOW.timestamp()
    new = [Headline(1, "Harbor City police pause face matching software", t, "Alpha")]
    stored = [
        Headline(
            2, "Harbor City police pause face-matching software after arrest", t - 3600, "Beta"
        ),
        Headline(3, "Harbor City police pause face matching software", t - 30 * 86400, "Gamma"),
        Headline(4, "Harbor City police pause face matching software again", t, "Alpha"),
    ]
    assert event_pairs(new, stored) == [(1, 2)]


async def test_two_feeds_with_one_event_give_one_hit_listing_the_other_outlet(
    room: Newsroom,
) -> None:
    async with FeedServer() as srv:
        srv.serve(
            "/alpha",
            rss2(
                "Alpha News",
                [
                    Entry(
                        "IBM stops work on facial recognition over human rights concerns",
                        "https://alpha.example/ibm",
                        "IBM quits.",
                        NOW,
                    )
                ],
            ),
        )
        srv.serve(
            "/beta",
            atom(
                "Beta Times",
                [
                    Entry(
                        "IBM ditches facial recognition tech over human rights concerns",
                        "https://beta.example/ibm",
                        "IBM leaves.",
                        NOW - timedelta(hours=3),
                    )
                ],
            ),
        )
        await room.feeds.add(srv.url("/alpha"))
        await room.feeds.add(srv.url("/beta"))
        reports = await room.feeds.poll()
        assert [r.added for r in reports] == [1, 1]
    await room.searcher.refresh()  # what a front end's on_change does
    answer = await room.ask("IBM facial recognition")
    assert len(answer.hits) == 1
    story = await room.story(answer.hits[0])
    assert story is not None
    others = [r.provider.name for r in story.article.related if r.provider]
    mine = story.article.provider.name if story.article.provider else None
    assert {mine, *others} == {"Alpha News", "Beta Times"}


async def test_a_servers_feed_is_seen_by_that_server_only(room: Newsroom) -> None:
    async with FeedServer() as srv:
        srv.serve(
            "/a",
            rss2(
                "Server A Local",
                [
                    Entry(
                        "Zebra crossing festival opens downtown",
                        "https://a.example/zebra",
                        "",
                        NOW,
                        ["Events"],
                    )
                ],
            ),
        )
        srv.serve(
            "/op",
            rss2(
                "Operator Wire",
                [
                    Entry(
                        "Quokka census finds record numbers",
                        "https://op.example/quokka",
                        "",
                        NOW,
                        ["Events"],
                    )
                ],
            ),
        )
        await room.feeds.add(srv.url("/a"), guild_id=A, added_by=5)
        await room.feeds.add(srv.url("/op"))
        await room.feeds.poll()
    await room.searcher.refresh()
    seen_a = [
        h.title for h in (await room.ask("zebra festival", audience=Audience.of_guild(A))).hits
    ]
    seen_b = [
        h.title for h in (await room.ask("zebra festival", audience=Audience.of_guild(B))).hits
    ]
    assert seen_a == ["Zebra crossing festival opens downtown"] and seen_b == []
    assert (await room.ask("quokka census", audience=Audience.of_guild(B))).hits
    _, latest_b = await room.latest(count=10, audience=Audience.of_guild(B))
    assert [a.title for a in latest_b] == ["Quokka census finds record numbers"]
    _, latest_a = await room.latest(count=10, audience=Audience.of_guild(A))
    assert len(latest_a) == 2


async def test_alerts_follow_the_feeds_owner(room: Newsroom) -> None:
    store = room.store
    sub_a = (
        await subscriptions.subscribe(store, topic="Events", user_id=1, guild_id=A, channel_id=10)
    ).subscription
    sub_b = (
        await subscriptions.subscribe(store, topic="Events", user_id=2, guild_id=B, channel_id=20)
    ).subscription
    async with FeedServer() as srv:
        first = Entry("Old news from server A", "https://a.example/old", "", NOW, ["Events"])
        srv.serve("/a", rss2("A Local", [first]))
        await room.feeds.add(srv.url("/a"), guild_id=A)
        await room.feeds.poll()  # first poll: silent
        new = Entry(
            "Zebra crossing festival opens downtown", "https://a.example/zebra", "", NOW, ["Events"]
        )
        srv.serve("/a", rss2("A Local", [new, first]))
        await room.feeds.poll()
    rows = sql_rows(store, "SELECT subscription_id FROM outbox")
    assert rows == [(sub_a.id,)]
    assert sub_b.id not in {r[0] for r in rows}


async def test_a_story_from_a_server_feed_that_the_folder_also_has_stays_public(
    room: Newsroom, tmp_path: Path
) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "s.md").write_text(
        "---\ntitle: Shared story of the folder\nwebUrl: https://shared.example/s\n"
        f"publishedDateTime: {NOW.isoformat()}\n---\n",
        encoding="utf-8",
    )
    room.settings = dataclasses.replace(room.settings, data_dir=folder)
    await room.reload()
    async with FeedServer() as srv:
        srv.serve(
            "/a",
            rss2(
                "A Local",
                [Entry("Shared story of the folder", "https://shared.example/s", "", NOW)],
            ),
        )
        await room.feeds.add(srv.url("/a"), guild_id=A)
        [report] = await room.feeds.poll()
        assert report.added == 0
    _, latest_b = await room.latest(count=5, audience=Audience.of_guild(B))
    assert [a.title for a in latest_b] == ["Shared story of the folder"]


async def test_another_server_cannot_list_or_remove_a_feed(room: Newsroom) -> None:
    feed = await room.feeds.add("https://outlet.example/rss", guild_id=A)
    assert [f.id for f in await room.feeds.list(Audience.of_guild(A))] == [feed.id]
    assert await room.feeds.list(Audience.of_guild(B)) == []
    assert await room.feeds.list(Audience.of_guild(None)) == []
    with pytest.raises(FeedError, match=f"no feed #{feed.id}"):
        await room.feeds.remove(feed.id, Audience.of_guild(B))
    assert [f.id for f in await room.feeds.list(OPERATOR)] == [feed.id]
    removed = await room.feeds.remove(feed.id, Audience.of_guild(A))
    assert removed.id == feed.id and await room.feeds.list(OPERATOR) == []


async def test_removing_a_feed_deletes_the_stories_only_it_carried(room: Newsroom) -> None:
    async with FeedServer() as srv:
        srv.serve("/a", rss2("A", [Entry("Only in feed A here", "https://a.example/1", "", NOW)]))
        feed = await room.feeds.add(srv.url("/a"), guild_id=A)
        await room.feeds.poll()
    assert (await room.store.stats())["stories"] == 1
    await room.feeds.remove(feed.id, OPERATOR)
    assert (await room.store.stats())["stories"] == 0


async def test_the_per_server_cap_and_duplicates(tmp_path: Path, room: Newsroom) -> None:
    service = FeedService(room.store, feed_settings(tmp_path, max_feeds_per_guild=2))
    try:
        await service.add("https://one.example/rss", guild_id=A)
        with pytest.raises(FeedError, match="already feed #"):
            await service.add("https://one.example/rss/", guild_id=A)
        await service.add("https://two.example/rss", guild_id=A)
        with pytest.raises(FeedError, match="NEWSBOT_MAX_FEEDS_PER_GUILD"):
            await service.add("https://three.example/rss", guild_id=A)
        await service.add("https://three.example/rss", guild_id=B)  # another server's own cap
        await service.add("https://three.example/rss")  # the operator has no cap
        with pytest.raises(FeedError, match="at most every 2 minutes"):
            await service.add("https://four.example/rss", every=30)
    finally:
        await service.close()


async def test_removing_a_feed_keeps_a_story_a_record_file_carries(
    room: Newsroom, tmp_path: Path
) -> None:
    async with FeedServer() as srv:
        srv.serve(
            "/a", rss2("A", [Entry("Story in a feed and a file", "https://s.example/1", "", NOW)])
        )
        feed = await room.feeds.add(srv.url("/a"), guild_id=A)
        await room.feeds.poll()
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "s.md").write_text(
        "---\ntitle: Story in a feed and a file\nwebUrl: https://s.example/1\n---\n",
        encoding="utf-8",
    )
    room.settings = dataclasses.replace(room.settings, data_dir=folder)
    await room.reload()
    await room.feeds.remove(feed.id, OPERATOR)
    assert (await room.store.stats())["stories"] == 1


async def test_one_link_in_two_servers_feeds_is_one_story_seen_by_both(room: Newsroom) -> None:
    link = "https://wire.example/story?utm_source=rss"
    async with FeedServer() as srv:
        srv.serve("/a", rss2("A", [Entry("Wire story carried twice", link, "", NOW)]))
        srv.serve(
            "/b", atom("B", [Entry("Wire story carried twice", link + "&utm_medium=x", "", NOW)])
        )
        await room.feeds.add(srv.url("/a"), guild_id=A)
        await room.feeds.add(srv.url("/b"), guild_id=B)
        reports = await room.feeds.poll()
    assert sorted((r.added, r.unchanged) for r in reports) == [(0, 1), (1, 0)]
    assert (await room.store.stats())["stories"] == 1
    # Both feeds are polled at once: whichever is stored first gives the link as written.
    for guild in (A, B):
        _, seen = await room.latest(count=5, audience=Audience.of_guild(guild))
        assert [a.canonical_url for a in seen] == [canonical_url(link)]
    _, seen = await room.latest(count=5, audience=Audience.of_guild(333))
    assert seen == []


async def test_on_change_hears_of_polls_that_stored_stories(room: Newsroom) -> None:
    heard: list[list[int]] = []

    async def changed(reports: list) -> None:
        heard.append([r.added for r in reports])

    room.feeds.on_change = changed
    async with FeedServer() as srv:
        srv.serve("/a", rss2("A", [Entry("News for the hook", "https://h.example/1", "", NOW)]))
        await room.feeds.add(srv.url("/a"))
        await room.feeds.poll()
        await room.feeds.poll()  # a 304: nothing changed, nothing heard
    assert heard == [[1]]


async def test_a_record_loaded_after_a_server_feed_makes_the_story_public(
    room: Newsroom, tmp_path: Path
) -> None:
    async with FeedServer() as srv:
        srv.serve(
            "/a", rss2("A", [Entry("Story first seen in a feed", "https://s.example/2", "", NOW)])
        )
        await room.feeds.add(srv.url("/a"), guild_id=A)
        await room.feeds.poll()
    _, seen = await room.latest(count=5, audience=Audience.of_guild(B))
    assert seen == []
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "s.md").write_text(
        "---\ntitle: Story first seen in a feed\nwebUrl: https://s.example/2\n---\n",
        encoding="utf-8",
    )
    room.settings = dataclasses.replace(room.settings, data_dir=folder)
    await room.reload()
    _, seen = await room.latest(count=5, audience=Audience.of_guild(B))
    assert [a.url for a in seen] == ["https://s.example/2"]
