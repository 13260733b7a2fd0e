"""`FeedPoller`: the running bot's feed loop, over a real `FeedService` and a feed server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.core.feedloop import FeedPoller
from bot.core.feeds import FeedService, PollReport
from bot.core.settings import ALL_NETWORKS, Settings
from bot.core.store import Store, open_store
from bot.core.store.types import OPERATOR
from tests.feedserver import Entry, FeedServer, rss2


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(tmp_path / "feeds.db")
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def service(store: Store, tmp_path: Path) -> AsyncIterator[FeedService]:
    settings = Settings(db_path=tmp_path / "feeds.db", feeds_allow_private=ALL_NETWORKS)
    svc = FeedService(store, settings)
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@contextlib.asynccontextmanager
async def running(poller: FeedPoller) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(poller.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(predicate: Callable[[], object], what: str, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


def feed(title: str, n: int) -> bytes:
    return rss2(
        title, [Entry(f"{title} story {i}", f"https://ex.example/{title}/{i}") for i in range(n)]
    )


async def test_the_loop_polls_a_new_feed_when_woken_and_reports_the_change(
    service: FeedService, server: FeedServer
) -> None:
    server.serve("/a.xml", feed("alpha", 3))
    changes: list[list[PollReport]] = []

    async def on_change(reports: list[PollReport]) -> None:
        changes.append(reports)

    service.on_change = on_change
    poller = FeedPoller(service, idle=30.0, gap=0.01)
    async with running(poller):
        await until(lambda: poller.rounds >= 1, "the first (empty) round")
        added = await service.add(server.url("/a.xml"))
        poller.wake()  # without it the loop would sleep for `idle`
        await until(lambda: changes, "a poll with changes")
        [report] = changes[0]
        assert (report.feed_id, report.added) == (added.id, 3)
        [listed] = await service.list(OPERATOR)
        assert listed.stories == 3 and listed.last_fetch is not None
        rounds = poller.rounds
        await asyncio.sleep(0.3)
        # Nothing is due for 15 minutes: the loop sleeps instead of fetching again.
        assert len(server.hits("/a.xml")) == 1
        assert poller.rounds == rounds


async def test_the_loop_survives_a_failing_round(service: FeedService, server: FeedServer) -> None:
    server.serve("/a.xml", feed("alpha", 1))
    server.serve("/b.xml", feed("beta", 2))
    seen: list[int] = []

    async def on_change(reports: list[PollReport]) -> None:
        seen.extend(r.added for r in reports)
        if len(seen) == 1:
            raise RuntimeError("the first listener call fails")

    service.on_change = on_change
    poller = FeedPoller(service, idle=30.0, gap=0.01, retry=0.05)
    async with running(poller) as task:
        await service.add(server.url("/a.xml"))
        poller.wake()
        await until(lambda: seen, "the failing round")
        await service.add(server.url("/b.xml"))
        poller.wake()
        await until(lambda: len(seen) == 2, "the round after the failure")
        assert seen == [1, 2]
        assert not task.done()


async def test_a_feed_loop_woken_and_cancelled_at_once_stops(service: FeedService) -> None:
    # The bot's shutdown (and a lost job election) cancels the loop while a feed
    # add may be waking it: the loop must stop, or the shutdown waits for ever.
    poller = FeedPoller(service, idle=60.0)
    task = asyncio.create_task(poller.run())
    for _ in range(200):
        if poller.rounds:
            break
        await asyncio.sleep(0.01)
    assert poller.rounds >= 1  # the first round is done: the loop sleeps now
    await asyncio.sleep(0)
    poller.wake()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done and task.cancelled()
