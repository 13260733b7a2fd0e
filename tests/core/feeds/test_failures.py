"""Failures map to states with reasons; caps, hostile XML and the address policy."""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.core.feeds import FeedError, FeedService, Resolver
from bot.core.feeds.schedule import BACKOFF_CAP, GONE_LIMIT
from bot.core.store import Store
from bot.core.store.types import OPERATOR, Audience
from tests.core.feeds.conftest import feed_settings
from tests.feedserver import Entry, FeedServer, rss2

GOOD = rss2("Outlet", [Entry("A story that is fine", "https://outlet.example/1")])


async def poll_one(service: FeedService) -> tuple[str, str | None, float | None]:
    [report] = await service.poll()
    [feed] = await service.list(service_owner())
    return report.state, report.reason, feed.next_fetch


def service_owner() -> Audience:
    """Who lists the feeds in these tests: the operator, who sees every feed."""
    return OPERATOR


@pytest.mark.parametrize("code", [404, 410])
async def test_gone_three_times_disables_and_keeps_the_feed(
    code: int, feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.status("/feed", code)
    await service.add(feedsrv.url("/feed"))
    states = [(await poll_one(service))[0] for _ in range(GONE_LIMIT)]
    assert states == ["error", "error", "disabled"]
    [feed] = await service.list(service_owner())
    assert feed.state == "disabled" and str(code) in (feed.reason or "")
    assert await service.poll() == []  # a disabled feed is not fetched


@pytest.mark.parametrize("code", [401, 403])
async def test_refused_by_the_server_pauses(
    code: int, feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.status("/feed", code)
    feed = await service.add(feedsrv.url("/feed"))
    state, reason, _ = await poll_one(service)
    assert state == "paused" and str(code) in (reason or "")
    assert await service.poll() == [] and await service.poll_due() == []
    feedsrv.serve("/feed", GOOD)
    await service.resume(feed.id, service_owner())
    [report] = await service.poll()
    assert report.state == "ok" and report.added == 1


async def test_server_errors_back_off_exponentially(
    feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.status("/feed", 503)
    await service.add(feedsrv.url("/feed"), every=120)
    waits = []
    for _ in range(4):
        before = time.time()
        state, reason, next_fetch = await poll_one(service)
        assert state == "error" and "503" in (reason or "")
        waits.append(round((next_fetch or 0) - before, -1))
    assert waits == [120, 240, 480, 960]


async def test_retry_after_is_honoured_and_capped(
    feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.status("/feed", 429, headers={"Retry-After": "3600"})
    await service.add(feedsrv.url("/feed"), every=120)
    before = time.time()
    _, _, next_fetch = await poll_one(service)
    assert 3590 < (next_fetch or 0) - before < 3700
    feedsrv.status("/feed", 429, headers={"Retry-After": str(10 * 24 * 3600)})
    before = time.time()
    _, _, next_fetch = await poll_one(service)
    assert (next_fetch or 0) - before <= BACKOFF_CAP + 5


async def test_cache_control_max_age_delays_the_next_fetch(
    feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.serve("/feed", GOOD, headers={"Cache-Control": "public, max-age=7200"})
    await service.add(feedsrv.url("/feed"), every=300)
    before = time.time()
    _, _, next_fetch = await poll_one(service)
    assert 7190 < (next_fetch or 0) - before < 7300


async def test_timeout_is_an_error(feedsrv: FeedServer, service: FeedService) -> None:
    feedsrv.serve("/feed", GOOD, delay=4)
    await service.add(feedsrv.url("/feed"))
    started = time.monotonic()
    state, reason, _ = await poll_one(service)
    assert state == "error" and "timed out" in (reason or "")
    assert time.monotonic() - started < 4


async def test_not_well_formed_is_an_error_with_the_parser_message(
    feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.serve("/feed", b"<rss><channel><title>x</title><item><title>&bad</oops>")
    await service.add(feedsrv.url("/feed"))
    state, reason, _ = await poll_one(service)
    assert state == "error" and "not a well-formed feed" in (reason or "")


async def test_html_page_is_not_a_feed(feedsrv: FeedServer, service: FeedService) -> None:
    feedsrv.serve("/feed", b"<html><body><p>hello</p></body></html>", content_type="text/html")
    await service.add(feedsrv.url("/feed"))
    state, reason, _ = await poll_one(service)
    assert state == "error" and reason


async def test_partial_parse_keeps_the_entries_with_a_warning(
    feedsrv: FeedServer, service: FeedService
) -> None:
    good = rss2("Outlet", [Entry("First story here", "https://outlet.example/1")])
    broken = good.replace(b"</channel></rss>", b"<item><title>cut &oops</title></item>")
    feedsrv.serve("/feed", broken)
    await service.add(feedsrv.url("/feed"))
    [report] = await service.poll()
    assert report.added == 1 and report.state == "ok" and "malformed" in (report.reason or "")


async def test_twenty_mib_body_is_cut_off_at_the_cap(
    feedsrv: FeedServer, store: Store, tmp_path: Path
) -> None:
    service = FeedService(store, feed_settings(tmp_path, feed_max_bytes=5 * 1024 * 1024))
    try:
        feedsrv.stream("/huge", 20 * 1024 * 1024)
        await service.add(feedsrv.url("/huge"))
        started = time.monotonic()
        state, reason, _ = await poll_one(service)
        assert state == "error" and "larger than the 5 MiB limit" in (reason or "")
        assert time.monotonic() - started < 2
    finally:
        await service.close()


def _billion_laughs() -> bytes:
    lines = ['<!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = "lol" if i == 1 else f"lol{i - 1}"
        lines.append(f'<!ENTITY lol{i} "{f"&{prev};" * 10}">')
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(lines) + "\n]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<link>https://x.example/1</link></item></channel></rss>"
    ).encode()


def _attribute_flood() -> bytes:
    attrs = " ".join(f'a{i}="{i}"' for i in range(300_000))
    return (
        f'<rss version="2.0"><channel><title>t</title><item {attrs}><title>x</title>'
        "<link>https://x.example/1</link></item></channel></rss>"
    ).encode()


def _external_entity() -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>&xxe;</title></channel></rss>'
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (_billion_laughs(), "entities"),
        (_attribute_flood(), "attributes"),
        (_external_entity(), "entities"),
    ],
    ids=["billion-laughs", "attribute-flood", "external-entity"],
)
async def test_hostile_xml_is_refused_in_bounded_time_and_memory(
    body: bytes, words: str, feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.serve("/feed", body)
    await service.add(feedsrv.url("/feed"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    state, reason, _ = await poll_one(service)
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 100 * 1024  # KiB
    assert state == "error" and words in (reason or "")


# -- the address policy, through an injectable resolver ------------------------------


def resolver_of(table: dict[str, Sequence[str]]) -> Resolver:
    async def resolve(host: str) -> Sequence[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.7", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
    ],
)
async def test_names_resolving_to_non_public_addresses_are_refused(
    address: str, kind: str, store: Store, tmp_path: Path
) -> None:
    service = FeedService(
        store,
        feed_settings(tmp_path, feeds_allow_private=()),
        resolver=resolver_of({"feeds.outlet.test": [address]}),
    )
    try:
        await service.add("http://feeds.outlet.test/rss")
        state, reason, _ = await poll_one(service)
        assert state == "refused" and kind in (reason or "")
    finally:
        await service.close()


async def test_literal_private_addresses_are_refused_at_add(store: Store, tmp_path: Path) -> None:
    service = FeedService(store, feed_settings(tmp_path, feeds_allow_private=()))
    try:
        for url in ("http://127.0.0.1/rss", "http://[::1]/rss", "http://169.254.169.254/latest"):
            with pytest.raises(FeedError, match="refused"):
                await service.add(url)
        with pytest.raises(FeedError, match="not an http"):
            await service.add("file:///etc/passwd")
        with pytest.raises(FeedError, match="not an http"):
            await service.add("ftp://outlet.example/rss")
    finally:
        await service.close()


async def test_redirect_to_a_private_address_is_refused(
    feedsrv: FeedServer, store: Store, tmp_path: Path
) -> None:
    # Loopback is allowed here (the test server); 10.0.0.0/8 is not.
    service = FeedService(
        store,
        feed_settings(tmp_path, feeds_allow_private=("127.0.0.0/8",)),
        resolver=resolver_of({"intranet.test": ["10.0.0.5"], "meta.test": ["169.254.169.254"]}),
    )
    try:
        feedsrv.redirect("/a", "http://intranet.test/feed")
        feedsrv.redirect("/b", "http://169.254.169.254/latest/meta-data")
        feedsrv.redirect("/c", "http://meta.test/x", status=302)
        for path in ("/a", "/b", "/c"):
            await service.add(feedsrv.url(path))
        reports = await service.poll()
        assert [r.state for r in reports] == ["refused"] * 3
        assert "private" in (reports[0].reason or "") and "link-local" in (reports[1].reason or "")
    finally:
        await service.close()


async def test_permanent_redirect_updates_the_url(
    feedsrv: FeedServer, service: FeedService
) -> None:
    feedsrv.redirect("/old", "/new", status=301)
    feedsrv.serve("/new", GOOD)
    await service.add(feedsrv.url("/old"))
    [report] = await service.poll()
    assert report.state == "ok" and report.url == feedsrv.url("/new")
    [feed] = await service.list(service_owner())
    assert feed.url == feedsrv.url("/new")


async def test_temporary_redirect_keeps_the_url(feedsrv: FeedServer, service: FeedService) -> None:
    feedsrv.redirect("/old", "/new", status=302)
    feedsrv.serve("/new", GOOD)
    await service.add(feedsrv.url("/old"))
    [report] = await service.poll()
    assert report.state == "ok" and report.url == feedsrv.url("/old")


async def test_more_than_five_redirects_is_an_error(
    feedsrv: FeedServer, service: FeedService
) -> None:
    for i in range(7):
        feedsrv.redirect(f"/r{i}", f"/r{i + 1}")
    feedsrv.serve("/r7", GOOD)
    await service.add(feedsrv.url("/r0"))
    state, reason, _ = await poll_one(service)
    assert state == "error" and "redirects" in (reason or "")
