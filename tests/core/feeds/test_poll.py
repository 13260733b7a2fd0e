"""Polling feeds: entries become stories (provider, topics, images, dates), conditional
GET, unchanged bodies not parsed, one update for a changed entry, the first poll silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.alerts import subscriptions
from bot.core.feeds import FeedService
from bot.core.feeds import service as service_module
from bot.core.store import Store
from bot.core.store.types import OPERATOR
from tests.drivers import sql_rows
from tests.feedserver import Entry, FeedServer, feed_document

NOW = datetime.now(UTC).replace(microsecond=0)


def entry(n: int, **kw: Any) -> Entry:
    base: dict[str, Any] = dict(
        title=f"Harbor port strike enters day {n} as talks stall",
        link=f"https://outlet.example/news/{n}",
        summary=f"<p>Dock workers <b>walked out</b> on day {n}.</p><script>x()</script>",
        published=NOW - timedelta(hours=n),
        categories=["Labour", "Ports"],
        image=f"https://img.outlet.example/{n}.jpg",
    )
    base.update(kw)
    return Entry(**base)


@pytest.mark.parametrize("kind", ["rss2", "atom", "rdf"])
async def test_a_poll_stores_the_entries_as_stories(
    kind: str, feedsrv: FeedServer, service: FeedService, store: Store
) -> None:
    feedsrv.serve("/feed", feed_document(kind, "Outlet Daily", [entry(1), entry(2)]))
    feed = await service.add(feedsrv.url("/feed"), topics=["World"])
    [report] = await service.poll()
    assert (report.added, report.updated, report.state) == (2, 0, "ok")
    [a] = await store.get_articles(await store.latest_ids(limit=1))
    assert a.title == "Harbor port strike enters day 1 as talks stall"
    assert a.url == "https://outlet.example/news/1"
    assert a.excerpt == "Dock workers walked out on day 1."  # HTML stripped, script dropped
    assert a.provider is not None and a.provider.name == "Outlet Daily"
    assert a.provider.domain == "outlet.example"
    assert a.published == NOW - timedelta(hours=1)
    assert set(a.topics) == {"Labour", "Ports", "World"}
    assert [i.url for i in a.images] == ["https://img.outlet.example/1.jpg"]
    [listed] = await service.list(OPERATOR)
    assert (listed.id, listed.title, listed.stories, listed.state) == (
        feed.id,
        "Outlet Daily",
        2,
        "ok",
    )


async def test_second_poll_is_a_304_and_nothing_is_parsed(
    feedsrv: FeedServer, service: FeedService, monkeypatch: pytest.MonkeyPatch
) -> None:
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1)]))
    await service.add(feedsrv.url("/feed"))
    await service.poll()
    parsed: list[str] = []
    real = service_module.parse_document

    def counting(body: bytes, **kw: Any) -> Any:
        parsed.append(kw["url"])
        return real(body, **kw)

    monkeypatch.setattr(service_module, "parse_document", counting)
    [report] = await service.poll()
    last = feedsrv.hits("/feed")[-1]
    assert last.status == 304 and last.headers.get("If-None-Match")
    assert (report.added, report.updated, report.state) == (0, 0, "ok")
    assert parsed == []


async def test_same_body_without_validators_is_not_parsed(
    feedsrv: FeedServer, service: FeedService, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = feed_document("atom", "Outlet", [entry(1)])
    feedsrv.serve("/feed", body, etag=False, last_modified=False)
    await service.add(feedsrv.url("/feed"))
    await service.poll()
    parsed: list[str] = []
    real = service_module.parse_document
    monkeypatch.setattr(
        service_module, "parse_document", lambda b, **kw: parsed.append("x") or real(b, **kw)
    )
    [report] = await service.poll()
    assert feedsrv.hits("/feed")[-1].status == 200
    assert parsed == [] and report.added == report.updated == 0


async def test_a_changed_entry_is_one_update(
    feedsrv: FeedServer, service: FeedService, store: Store
) -> None:
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1), entry(2), entry(3)]))
    await service.add(feedsrv.url("/feed"))
    await service.poll()
    changed = entry(2, title="Harbor port strike ends on day 2 with a deal")
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1), changed, entry(3)]))
    [report] = await service.poll()
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    titles = {a.title for a in await store.get_articles(await store.latest_ids(limit=10))}
    assert "Harbor port strike ends on day 2 with a deal" in titles
    assert len(titles) == 3


async def test_undated_entry_gets_the_fetch_time_and_stays_unchanged(
    feedsrv: FeedServer, service: FeedService, store: Store
) -> None:
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1, published=None)]))
    await service.add(feedsrv.url("/feed"))
    await service.poll()
    [a] = await store.get_articles(await store.latest_ids(limit=1))
    assert a.published is not None
    assert abs(a.published.timestamp() - datetime.now(UTC).timestamp()) < 60
    # The body differs (another entry), the undated entry does not.
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1, published=None), entry(2)]))
    [report] = await service.poll()
    assert (report.added, report.updated, report.unchanged) == (1, 0, 1)


async def test_gzip_body_is_read(feedsrv: FeedServer, service: FeedService) -> None:
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1)]), gzip=True)
    await service.add(feedsrv.url("/feed"))
    [report] = await service.poll()
    assert report.added == 1
    assert "gzip" in feedsrv.hits("/feed")[0].headers.get("Accept-Encoding", "")
    assert feedsrv.hits("/feed")[0].headers["User-Agent"].startswith("newsbot/")


async def test_first_poll_is_silent_and_a_later_entry_alerts_once(
    feedsrv: FeedServer, service: FeedService, store: Store
) -> None:
    await subscriptions.subscribe(store, topic="Ports", user_id=7, guild_id=1, channel_id=10)
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1), entry(2)]))
    await service.add(feedsrv.url("/feed"))
    await service.poll()
    assert sql_rows(store, "SELECT count(*) FROM outbox") == [(0,)]
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(0), entry(1), entry(2)]))
    await service.poll()
    await service.poll()
    rows = sql_rows(store, "SELECT a.url FROM outbox o JOIN articles a ON a.id = o.article_id")
    assert rows == [("https://outlet.example/news/0",)]


async def test_a_backlog_entry_updated_later_still_does_not_alert(
    feedsrv: FeedServer, service: FeedService, store: Store
) -> None:
    await subscriptions.subscribe(store, topic="Ports", user_id=7, guild_id=1, channel_id=10)
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1)]))
    await service.add(feedsrv.url("/feed"))
    await service.poll()
    fixed = entry(1, title="Harbor port strike enters day 1 as talks stall (corrected)")
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [fixed]))
    [report] = await service.poll()
    assert report.updated == 1
    assert sql_rows(store, "SELECT count(*) FROM outbox") == [(0,)]


async def test_feed_topics_and_interval_are_kept(service: FeedService, feedsrv: FeedServer) -> None:
    feed = await service.add(feedsrv.url("/x"), topics=["AI", "ai", " Robots "], every=600)
    assert feed.topics == ("AI", "Robots") and feed.every == 600


async def test_the_schedule_decides_what_poll_due_fetches(
    feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.serve("/feed", feed_document("rss2", "Outlet", [entry(1)]))
    await service.add(feedsrv.url("/feed"), every=900)
    assert len(await service.poll_due()) == 1
    assert await service.poll_due() == []  # next fetch is 15 minutes away
    due = await service.next_due()
    assert due is not None and 850 < due - datetime.now(UTC).timestamp() <= 900
    assert len(await service.poll()) == 1  # a manual poll ignores the schedule
