"""Alert dispatch by bot processes that split the shards, sharing one PostgreSQL store.

For each process count N (default 1 and 2): a fresh database; C channels in guilds
spread over the shards (shard count = the largest N), each subscribed to one topic;
N real `newsbot run --shards … --shard-count …` processes (tests/multiprocess_worker.py:
the real command line, one message per alert) connected to the Discord stand-in,
which enforces Discord's 5-messages-per-5-s channel limit. Once every process is
READY, K stories of the topic are loaded (C x K alerts owed, the processes woken by
the store's generation: NOTIFY on PostgreSQL, a 5-s poll on SQLite).

The figure is messages/s from the first message Discord accepted to the last, as a
share of what the limits allow: the best schedule under 5 per 5 s per channel and
40 requests/s for the whole token (the budget the dispatcher paces to; Discord's
global limit is 50/s), which N processes share: each paces to its shard share of
the 40 (`pacing.overall_share`). Also shown: the wake-up (load commit → first
message), the busiest second at the stand-in across all processes (must stay under
Discord's 50: the shares hold), 429s provoked, and duplicates (a (channel, story)
posted twice; must be 0). `--sqlite` adds the one process a SQLite store allows.

Run: ``python -m bench.shards`` (about a minute; a throwaway PostgreSQL cluster as
the tests start one), ``--processes 1,2,4``, ``--channels 40 --stories 10``, or
``--db postgresql://user@host/db`` to use a server (databases ``shards_bench_*`` are
created there and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.alerts import TARGET_RATE_SHARE, best_schedule_seconds
from bot.core.alerts import subscriptions as subs
from bot.core.alerts.matching import match_hook
from bot.core.alerts.pacing import OVERALL
from bot.core.loader import load_paths
from bot.core.store import open_store
from bot.core.storeurl import redacted
from tests.helpers import write_record
from tests.multiprocess import MESSAGES, BotProcess, guild_id_on, posts, wait_for
from tests.pgcluster import PgCluster
from tests.standin import StandIn

TOPIC = "Computer Vision"
CHANNEL_LIMIT = (5, 5.0)
DISCORD_GLOBAL = 50  # requests per second per token; the pacers' budget is OVERALL (40)


@dataclass
class Figures:
    processes: int
    store: str
    shard_count: int
    messages: int
    channels: int
    seconds: float
    wake_seconds: float  # from the load's commit to the first message
    allowed_seconds: float
    busiest_second: int
    provoked_429: int
    posted: int
    duplicates: int
    per_process: dict[str, int]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def share(self) -> float:
        return self.allowed_seconds / self.seconds


def split(count: int, processes: int) -> list[str]:
    """Shard ids of `count` dealt into `processes` contiguous ranges ("0-1", "2-3")."""
    per, extra = divmod(count, processes)
    out, lo = [], 0
    for i in range(processes):
        hi = lo + per + (1 if i < extra else 0) - 1
        out.append(f"{lo}-{hi}" if hi > lo else str(lo))
        lo = hi + 1
    return out


def busiest_second(times: list[float]) -> int:
    """The most posts in any 1-second window."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


async def _database(server: str, name: str, *, drop: bool = False) -> str:
    admin = await asyncpg.connect(server, timeout=10)
    try:
        if drop:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


async def one_run(
    server: str | None, processes: int, count: int, channels: int, stories: int, tmp: Path
) -> Figures:
    """One measurement; `server` None: a SQLite file (one process only)."""
    folder = tmp / f"run-{processes}-{'pg' if server else 'sqlite'}"
    folder.mkdir()
    name = f"shards_bench_{uuid.uuid4().hex[:10]}"
    url = await _database(server, name) if server else str(folder / "bench.db")
    standin = StandIn(shard_count=count)
    standin.ratelimits.enable_defaults()
    world = standin.world
    guilds = [
        world.add_guild(f"Shard {s}", owner="owner", id=guild_id_on(s, count)) for s in range(count)
    ]
    chans = [world.add_text_channel(guilds[i % count], f"alerts-{i}") for i in range(channels)]
    await standin.start()
    procs: list[BotProcess] = []
    try:
        async with await open_store(url) as store:
            limits = subs.Limits(per_guild=10**6, per_user=10**6)
            for ch, g in ((c, guilds[i % count]) for i, c in enumerate(chans)):
                await subs.subscribe(
                    store,
                    topic=TOPIC,
                    user_id=1,
                    guild_id=int(g["id"]),
                    channel_id=int(ch["id"]),
                    limits=limits,
                )
            async with store.transaction() as tx:
                await tx.set_meta("last_load", "bench")  # no autoload of the demo records
            procs = [
                BotProcess(standin, folder, url, ids, count=count, data=folder).start()
                for ids in split(count, processes)
            ]
            await wait_for(
                standin,
                lambda: len({i.shard for i in standin.identifies}) >= count,
                "every shard's IDENTIFY",
                120,
                *procs,
            )
            await wait_for(
                standin,
                lambda: all("logged in as" in p.output() for p in procs),
                "every process's READY",
                120,
                *procs,
            )
            await asyncio.sleep(1.0)  # its dispatcher starts once READY
            now = datetime.now(tz=UTC)
            records = folder / "incoming"
            urls = []
            for i in range(stories):
                urls.append(f"https://news.example.com/bench/{i}")
                write_record(
                    records,
                    f"s{i}.md",
                    title=f"Bench story {i}",
                    webUrl=urls[-1],
                    topics=[TOPIC],
                    publishedDateTime=(now - timedelta(minutes=10 + i)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                )
            await load_paths(store, [records], on_stored=[match_hook()])
            t0 = asyncio.get_running_loop().time()
            total = channels * stories
            await wait_for(
                standin, lambda: len(posts(standin)) >= total, "every alert", 600, *procs
            )
            await asyncio.sleep(2.0)  # a duplicate, if one were coming
    finally:
        for p in procs:
            await p.stop()
        await standin.stop()
        if server:
            await _database(server, name, drop=True)
    ok = posts(standin)
    keys = Counter(
        (MESSAGES.fullmatch(r.path).group(1), r.json["embeds"][0]["url"])  # type: ignore[union-attr]
        for r in ok
    )
    all_posts = standin.find_requests("POST", MESSAGES.pattern)
    return Figures(
        processes=processes,
        store="postgresql" if server else "sqlite",
        shard_count=count,
        messages=total,
        channels=channels,
        # As the best schedule counts: from the first message to one slot after the last.
        seconds=max(r.at for r in ok) - min(r.at for r in ok) + OVERALL[1] / OVERALL[0],
        wake_seconds=min(r.at for r in ok) - t0,
        allowed_seconds=best_schedule_seconds(
            stories, channels, channel_limit=CHANNEL_LIMIT, overall=OVERALL
        ),
        busiest_second=busiest_second([r.at for r in ok]),
        provoked_429=sum(1 for r in all_posts if r.status == 429),
        posted=len(ok),
        duplicates=sum(n - 1 for n in keys.values()),
        per_process={p.name: len(posts(standin, p.token)) for p in procs},
    )


async def run_all(args: argparse.Namespace, tmp: Path) -> list[Figures]:
    counts = [int(n) for n in args.processes.split(",")]
    shard_count = max(counts)
    cluster = None
    server = args.db
    if server is None:
        cluster = await asyncio.to_thread(PgCluster.start)
        server = cluster.url
    try:
        out = []
        if args.sqlite:
            # The reference: the single process a SQLite store allows.
            out.append(await one_run(None, 1, shard_count, args.channels, args.stories, tmp))
        for n in counts:
            out.append(await one_run(server, n, shard_count, args.channels, args.stories, tmp))
        return out
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)


def summary(f: Figures) -> dict[str, Any]:
    """The figures of one run as plain values (JSON)."""
    return {**asdict(f), "rate": round(f.rate, 2), "share": round(f.share, 3)}


async def scale_dispatch(
    run: Any, *, processes: Sequence[int] = (1, 2), channels: int = 40, stories: int = 10
) -> dict[str, Any]:
    """`bench.scale`'s `alert_dispatch` hook: this bench on the run's PostgreSQL server
    (`run.pg_server`, scratch space in `run.folder`), figures by process count."""
    pinned = os.sched_getaffinity(0)
    # bench.scale pins itself to one CPU, and children inherit it: the bot processes
    # get the machine's every core, as they would in production.
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        count = max(processes)
        figures = [
            await one_run(run.pg_server, n, count, channels, stories, Path(run.folder))
            for n in processes
        ]
    finally:
        os.sched_setaffinity(0, pinned)
    return {f"{f.processes}_processes": summary(f) for f in figures}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.shards", description=__doc__.split("\n")[0])
    ap.add_argument("--processes", default="1,2", help="process counts to measure, e.g. 1,2,4")
    ap.add_argument("--channels", type=int, default=40)
    ap.add_argument("--stories", type=int, default=10, help="alerts per channel")
    ap.add_argument("--db", default=None, help="a PostgreSQL server URL (default: throwaway)")
    ap.add_argument("--sqlite", action="store_true", help="also 1 process on a SQLite file")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-shards-") as d:
        figures = asyncio.run(run_all(args, Path(d)))
    ok = all(
        f.share >= TARGET_RATE_SHARE
        and f.duplicates == 0
        and f.posted == f.messages
        and f.busiest_second <= DISCORD_GLOBAL
        for f in figures
    )
    if args.json:
        for f in figures:
            print(json.dumps(summary(f)))
        return 0 if ok else 1
    where = redacted(args.db) if args.db else "a throwaway PostgreSQL cluster"
    print(f"Alert dispatch by shard processes on {where}, stand-in limit 5 msgs/5 s per channel")
    for f in figures:
        _print(f)
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _print(f: Figures) -> None:
    allowed = f.messages / f.allowed_seconds
    print(
        f"  {f.store}, {f.processes} process(es), {f.shard_count} shards: {f.messages} alerts to "
        f"{f.channels} channels in {f.seconds:.1f} s = {f.rate:.1f} msg/s; the limits allow "
        f"{allowed:.1f} msg/s = {f.share:.2f} of it (target >= {TARGET_RATE_SHARE}); "
        f"first message {f.wake_seconds:.2f} s after the load"
    )
    print(
        f"    busiest second {f.busiest_second} posts at the stand-in (pacers' budget "
        f"{OVERALL[0]}/s for the token, Discord's limit {DISCORD_GLOBAL}); "
        f"429s {f.provoked_429}; duplicates {f.duplicates}; per process {f.per_process}"
    )


if __name__ == "__main__":
    sys.exit(main())
