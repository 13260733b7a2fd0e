"""Benchmark feed polling against the record loader on the same stories.

100 feeds × 50 entries (RSS 2.0 with Media RSS images, categories, dates), each
feed served from its own loopback address (127.0.0.2, 127.0.0.3, …) by a feed
server in a child process, so per-host politeness applies as it would across
real hosts and serving does not share the poller's event loop. Measured in the
same run:

* the record loader (`load_paths`) on the same 5,000 stories written as record
  files, into a fresh store: stories/second (the baseline);
* the first poll of the 100 new feeds into another fresh store: stories/second,
  and its ratio to the loader (target ≥ 0.5x);
* a second poll with nothing changed: total seconds (target < 1 s) and how many
  entries were parsed (target 0: every answer a 304).

Usage::

    python -m bench.feeds                  # 100 feeds × 50 entries
    python -m bench.feeds --feeds 20       # quick
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.core.feeds import FeedService
from bot.core.loader import load_paths
from bot.core.settings import Settings
from bot.core.store import open_store
from tests.feedserver import Entry, FeedServer, rss2

RATIO_TARGET = 0.5
SECOND_POLL_TARGET = 1.0
# Headlines from a seeded vocabulary of made-up words drawn with a Zipf-like skew, as
# news words are: a few in many headlines, most in few.
_SYLLABLES = ["ka", "lo", "mi", "ter", "van", "sul", "po", "dre", "nik", "ra", "bel", "tos"]
VOCABULARY = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "n", "s")][:1500]
TOPICS = ["Politics", "Business", "Health", "Science", "Transport", "Culture", "Weather"]


def _entries(feed: int, per_feed: int) -> list[Entry]:
    base = datetime(2026, 11, 30, 12, tzinfo=UTC)
    rng = random.Random(feed)
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
    out = []
    for n in range(per_feed):
        i = feed * per_feed + n
        words = rng.choices(VOCABULARY, weights, k=8)
        out.append(
            Entry(
                title=f"{' '.join(words).capitalize()} {i}",
                link=f"https://outlet{feed}.example/news/{i}",
                summary=f"<p>{' '.join(words * 4)} — story {i}.</p>",
                published=base - timedelta(minutes=i),
                categories=[TOPICS[i % len(TOPICS)], TOPICS[(i + 3) % len(TOPICS)]],
                image=f"https://img.outlet{feed}.example/{i}.jpg",
            )
        )
    return out


def _hosts(n: int) -> list[str]:
    return [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}" for i in range(n)]


async def _serve(n_feeds: int, per_feed: int) -> None:
    """The child process: serve the feeds, print the URLs, run until stdin closes."""
    hosts = _hosts(n_feeds)
    async with FeedServer(hosts) as srv:
        for f in range(len(hosts)):
            srv.serve(f"/feed{f}.xml", rss2(f"Outlet {f}", _entries(f, per_feed)))
        urls = [srv.url(f"/feed{f}.xml", host=host) for f, host in enumerate(hosts)]
        print(json.dumps(urls), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes it
        statuses: dict[int, int] = {}
        for r in srv.requests:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        print(json.dumps(statuses), flush=True)


def _write_records(folder: Path, n_feeds: int, per_feed: int) -> int:
    """The same stories as record files; returns how many."""
    n = 0
    for f in range(n_feeds):
        for e in _entries(f, per_feed):
            front = {
                "title": e.title,
                "webUrl": e.link,
                "excerpt": e.summary.removeprefix("<p>").removesuffix("</p>"),
                "publishedDateTime": e.published.isoformat() if e.published else None,
                "provider": {"name": f"Outlet {f}", "domain": f"outlet{f}.example"},
                "topics": list(e.categories),
                "images": [{"url": e.image, "width": 640, "height": 360}],
            }
            text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n"
            (folder / f"{n:06d}.md").write_text(text, encoding="utf-8")
            n += 1
    return n


async def _bench(n_feeds: int, per_feed: int, tmp: Path, child: subprocess.Popen[str]) -> bool:
    records = tmp / "records"
    records.mkdir()
    total = _write_records(records, n_feeds, per_feed)
    store = await open_store(tmp / "loader.db")
    t0 = time.perf_counter()
    report = await load_paths(store, [records])
    loader_s = time.perf_counter() - t0
    await store.close()
    assert report.added == total, report.summary()
    loader_rate = total / loader_s
    print(f"record loader: {total:,} stories in {loader_s:.2f} s = {loader_rate:,.0f} stories/s")

    assert child.stdout is not None and child.stdin is not None
    urls = json.loads(child.stdout.readline())
    settings = dataclasses.replace(
        Settings(), feeds_allow_private=("127.0.0.0/8",), db_path=tmp / "feeds.db"
    )
    store = await open_store(settings.db_path)
    service = FeedService(store, settings)
    try:
        for url in urls:
            await service.add(url)
        t0 = time.perf_counter()
        first = await service.poll()
        first_s = time.perf_counter() - t0
        added = sum(r.added for r in first)
        t0 = time.perf_counter()
        second = await service.poll()
        second_s = time.perf_counter() - t0
    finally:
        await service.close()
        await store.close()
        child.stdin.close()
    statuses = json.loads(child.stdout.readline())
    rate = added / first_s
    ratio = rate / loader_rate
    changed = sum(r.added + r.updated for r in second)
    not_modified = statuses.get("304", 0)
    print(
        f"first poll: {len(first)} feeds, {added:,} stories in {first_s:.2f} s = "
        f"{rate:,.0f} stories/s; ratio to the loader {ratio:.2f}x (target >= {RATIO_TARGET}x)"
    )
    print(
        f"second poll, nothing changed: {second_s:.3f} s (target < {SECOND_POLL_TARGET} s); "
        f"{not_modified} of {len(second)} answers were 304, {changed} stories changed, "
        f"so {len(second) - not_modified} documents parsed; "
        f"{second_s / first_s:.3f}x the first poll's time"
    )
    met = ratio >= RATIO_TARGET and second_s < SECOND_POLL_TARGET and not_modified == len(second)
    print("targets met" if met else "TARGETS NOT MET")
    return met


def main() -> int:
    """Run the benchmark (or, with --serve, be its feed server)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--feeds", type=int, default=100)
    p.add_argument("--per-feed", type=int, default=50)
    p.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve, args.per_feed))
        return 0
    serve = ["--serve", str(args.feeds), "--per-feed", str(args.per_feed)]
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.feeds", *serve],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-feeds-") as tmp:
            met = asyncio.run(_bench(args.feeds, args.per_feed, Path(tmp), child))
    finally:
        child.wait(10)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
