"""Alerts benchmark: what matching costs a load, and how fast paced delivery goes.

1. **Matching**: 1,000 subscriptions × 500 new stories (generated, published
   in the last day). The same files are loaded into fresh stores with and
   without the alert hook; the hook's own time (match + outbox writes, inside
   the load's transaction) is shown as a share of the load alone.
   Target: under 25 %.
2. **Dispatch**: 2,000 alert messages (one story each) to 200 channels through
   the Discord stand-in with its 5-messages-per-5-s channel limit enforced, the
   real discord.py client, `DiscordSender` and `Dispatcher` with its default
   pacing (5 per 5 s per channel, 40 requests/s overall). The rate is compared
   with the best any schedule could do under those limits (simulated), and
   the 429s provoked are counted. Target: at least 0.8 of it, zero 429s.

Run: ``python -m bench.alerts`` (about a minute), or ``--small`` for CI
(100 subscriptions × 100 stories, 200 messages to 20 channels; seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord

from bench.corpusgen import generate_articles, generate_records, write_records
from bot.core.alerts import matching as alerts
from bot.core.alerts import subscriptions as subs
from bot.core.alerts.dispatch import Dispatcher
from bot.core.loader import load_paths
from bot.core.store import open_store
from bot.discord_app.sender import DiscordSender
from tests.standin import StandIn, run_bot

TARGET_MATCH_SHARE = 0.25
TARGET_RATE_SHARE = 0.8

# -- 1. matching ---------------------------------------------------------------


@dataclass
class MatchFigures:
    subscriptions: int
    stories: int
    load_alone: float
    load_with_alerts: float
    hook: float
    rows: int

    @property
    def share(self) -> float:
        return self.hook / self.load_alone

    @property
    def total_share(self) -> float:
        return self.load_with_alerts / self.load_alone - 1


def _fresh_records(n: int, seed: int, folder: Path) -> list[dict[str, Any]]:
    """n generated records, re-dated into the last day (alerts only go out for news)."""
    rng = random.Random(seed)
    records = generate_records(n, seed)
    now = datetime.now(tz=UTC)
    for r in records:
        when = now - timedelta(minutes=rng.uniform(5, 24 * 60))
        r.front["publishedDateTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    write_records(records, folder)
    return [r.front for r in records]


def _subscription_specs(
    fronts: Sequence[dict[str, Any]], n: int, seed: int
) -> list[dict[str, Any]]:
    """n distinct subscriptions: any topic of the stories, a third with keywords, a
    third with a quality floor, spread over channels and users."""
    rng = random.Random(seed)
    topics = sorted({t for f in fronts for t in f.get("topics", [])})
    vocab = sorted({w for f in fronts for w in alerts.keyword_list(f["title"]) if len(w) > 4})
    specs: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    while len(specs) < n:
        i = len(specs)
        spec = {
            "topic": rng.choice(topics),
            "channel_id": 10_000 + i % 400 if i % 4 else None,
            "user_id": 20_000 + i % 700,
            "guild_id": 1 + i % 40,
            "keywords": " ".join(rng.sample(vocab, 2)) if rng.random() < 1 / 3 else None,
            "min_quality": float(rng.choice((50, 60, 70))) if rng.random() < 1 / 3 else 0.0,
        }
        target = subs.target_for(channel_id=spec["channel_id"], user_id=spec["user_id"])
        key = (spec["topic"], target, spec["keywords"], spec["min_quality"])
        if key not in seen:
            seen.add(key)
            specs.append(spec)
    return specs


async def _one_load(
    folder: Path, db: Path, specs: list[dict[str, Any]], with_hook: bool, workers: int | None
) -> tuple[float, float, int]:
    """(load seconds, hook seconds, outbox rows) for one fresh store."""
    store = await open_store(db)
    try:
        limits = subs.Limits(per_guild=10**6, per_user=10**6)
        created = time.time() - 60
        for spec in specs:
            await subs.subscribe(store, limits=limits, now=created, **spec)
        hook = alerts.match_hook()
        spent = 0.0

        async def timed(conn: Any, added: list[int], updated: list[int]) -> int:
            nonlocal spent
            t0 = time.perf_counter()
            try:
                return await hook(conn, added, updated)
            finally:
                spent += time.perf_counter() - t0

        t0 = time.perf_counter()
        report = await load_paths(
            store, [folder], on_stored=[timed] if with_hook else [], workers=workers
        )
        seconds = time.perf_counter() - t0
        assert report.added == len(list(folder.glob("*.md"))), report.summary()
        with closing(sqlite3.connect(db)) as conn:
            (rows,) = conn.execute("SELECT count(*) FROM outbox").fetchone()
    finally:
        await store.close()
    return seconds, spent, rows


async def bench_matching(
    n_subs: int, n_stories: int, *, repeats: int, seed: int, workers: int | None, tmp: Path
) -> MatchFigures:
    folder = tmp / "records"
    fronts = _fresh_records(n_stories, seed, folder)
    specs = _subscription_specs(fronts, n_subs, seed)
    alone: list[float] = []
    with_alerts: list[float] = []
    hooks: list[float] = []
    rows = 0
    for i in range(repeats):
        # Alternate the order so caches and the page cache favour neither.
        for with_hook in (False, True) if i % 2 == 0 else (True, False):
            db = tmp / f"match-{i}-{int(with_hook)}.db"
            seconds, hook, n = await _one_load(folder, db, specs, with_hook, workers)
            if with_hook:
                with_alerts.append(seconds)
                hooks.append(hook)
                rows = n
            else:
                alone.append(seconds)
    return MatchFigures(
        n_subs,
        n_stories,
        statistics.median(alone),
        statistics.median(with_alerts),
        statistics.median(hooks),
        rows,
    )


# -- 2. dispatch -----------------------------------------------------------------


@dataclass
class DispatchFigures:
    messages: int
    channels: int
    seconds: float  # until Discord accepted the last message
    marked_seconds: float  # until the outbox recorded it (see bench_dispatch)
    allowed_seconds: float
    provoked_429: int
    posted: int
    duplicates: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def allowed_rate(self) -> float:
        return self.messages / self.allowed_seconds

    @property
    def share(self) -> float:
        return self.rate / self.allowed_rate


def best_schedule_seconds(
    per_channel: int, channels: int, *, channel_limit: tuple[int, float], overall: tuple[int, float]
) -> float:
    """How long the fastest schedule allowed by both limits takes (earliest-first greedy).

    Each message goes at the earliest moment its channel's window and the
    overall window allow; the answer is the last send plus one overall slot,
    so that one message takes one slot rather than zero seconds.
    """
    n_ch, per_ch = channel_limit
    n_all, per_all = overall
    logs: list[list[float]] = [[] for _ in range(channels)]
    sent_all: list[float] = []
    left = [per_channel] * channels

    def ready(c: int) -> float:
        log_c = logs[c]
        return log_c[-n_ch] + per_ch if len(log_c) >= n_ch else 0.0

    for _ in range(per_channel * channels):
        c = min((c for c in range(channels) if left[c]), key=ready)
        t = max(
            ready(c),
            sent_all[-n_all] + per_all if len(sent_all) >= n_all else 0.0,
            sent_all[-1] if sent_all else 0.0,
        )
        logs[c].append(t)
        sent_all.append(t)
        left[c] -= 1
    return sent_all[-1] + per_all / n_all


async def bench_dispatch(
    n_channels: int, per_channel: int, *, seed: int, tmp: Path
) -> DispatchFigures:
    standin = StandIn()
    world = standin.world
    guild = world.guild()
    channels = [world.add_text_channel(guild, f"alerts-{i}") for i in range(n_channels)]
    standin.ratelimits.enable_defaults()
    await standin.start()
    store = await open_store(tmp / "dispatch.db")
    try:
        n = n_channels * per_channel
        arts = generate_articles(n, seed)
        async with store.transaction() as tx:
            await tx.upsert_articles(arts)
        ids = list((await store.ids_by_url([a.url for a in arts])).values())
        limits = subs.Limits(per_guild=10**6, per_user=10**6)
        sub_ids = []
        for ch in channels:
            done = await subs.subscribe(
                store,
                topic="AI",
                user_id=1,
                guild_id=int(guild["id"]),
                channel_id=int(ch["id"]),
                limits=limits,
            )
            sub_ids.append(done.subscription.id)
        # Owed alerts written directly: what matching would write, without its rules.
        with closing(sqlite3.connect(tmp / "dispatch.db")) as conn, conn:
            conn.executemany(
                "INSERT INTO outbox (subscription_id, article_id, created_at) VALUES (?,?,0)",
                [(sub_ids[i % n_channels], aid) for i, aid in enumerate(ids)],
            )
        with standin.patch_discord():
            client = discord.Client(intents=discord.Intents(guilds=True))
            async with run_bot(client, standin):
                dispatcher = Dispatcher(store, DiscordSender(client), max_batch=1)
                loop = asyncio.get_running_loop()
                t0 = loop.time()
                await dispatcher.run_once()
                marked = loop.time() - t0
        posts = standin.find_requests("POST", r"/channels/\d+/messages")
        ok = [p for p in posts if p.ok]
        # The stand-in stamps requests with this loop's clock. discord.py holds
        # the reply to a channel's 5th message in a window until the window
        # resets (its pre-emptive rate limiting), so the outbox learns of the
        # last ones up to 5 s after Discord took them: delivery is measured at
        # Discord, and the marking time is shown beside it.
        seconds = max(p.at for p in ok) - t0
        ids_posted = [p.json["embeds"][0]["url"] for p in ok]
        with closing(sqlite3.connect(tmp / "dispatch.db")) as conn:
            (sent,) = conn.execute("SELECT count(*) FROM outbox WHERE state = 'sent'").fetchone()
        assert sent == n, f"only {sent} of {n} alerts marked sent"
    finally:
        await store.close()
        await standin.stop()
    allowed = best_schedule_seconds(
        per_channel, n_channels, channel_limit=(5, 5.0), overall=(40, 1.0)
    )
    return DispatchFigures(
        messages=n,
        channels=n_channels,
        seconds=seconds,
        marked_seconds=marked,
        allowed_seconds=allowed,
        provoked_429=sum(1 for p in posts if p.status == 429),
        posted=len(ok),
        duplicates=len(ids_posted) - len(set(ids_posted)),
    )


# -- main ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="CI size: seconds, not a minute")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=None, help="loads per variant (median)")
    ap.add_argument(
        "--workers", type=int, default=None, help="loader workers (default: as newsbot load)"
    )
    ap.add_argument("--only", choices=("matching", "dispatch"), help="run one measurement")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    n_subs, n_stories, n_ch, per_ch = (100, 100, 20, 10) if args.small else (1000, 500, 200, 10)
    repeats = args.repeats or (3 if args.small else 5)

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-alerts-") as d:
        tmp = Path(d)
        m = dsp = None
        if args.only != "dispatch":
            m = asyncio.run(
                bench_matching(
                    n_subs,
                    n_stories,
                    repeats=repeats,
                    seed=args.seed,
                    workers=args.workers,
                    tmp=tmp,
                )
            )
        if args.only != "matching":
            dsp = asyncio.run(bench_dispatch(n_ch, per_ch, seed=args.seed, tmp=tmp))
    ok = m is None or m.share < TARGET_MATCH_SHARE
    ok = ok and (
        dsp is None
        or (
            dsp.share >= TARGET_RATE_SHARE
            and dsp.provoked_429 == 0
            and dsp.duplicates == 0
            and dsp.posted == dsp.messages
        )
    )
    if args.json:
        out: dict[str, Any] = {"ok": ok}
        if m is not None:
            out["matching"] = {**m.__dict__, "share": m.share, "total_share": m.total_share}
        if dsp is not None:
            out["dispatch"] = {
                **dsp.__dict__,
                "rate": dsp.rate,
                "allowed_rate": dsp.allowed_rate,
                "share": dsp.share,
            }
        print(json.dumps(out))
        return 0 if ok else 1
    if m is not None:
        _print_matching(m, repeats)
    if dsp is not None:
        _print_dispatch(dsp)
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _print_matching(m: MatchFigures, repeats: int) -> None:
    print(
        f"Matching: {m.subscriptions:,} subscriptions x {m.stories:,} new stories "
        f"(median of {repeats} loads each)"
    )
    print(f"  load alone              {m.load_alone * 1000:8.0f} ms")
    print(f"  load with alert hook    {m.load_with_alerts * 1000:8.0f} ms (+{m.total_share:.0%})")
    print(
        f"  hook (match + outbox)   {m.hook * 1000:8.0f} ms = {m.share:.1%} of the load alone "
        f"(target < {TARGET_MATCH_SHARE:.0%}); {m.rows:,} outbox rows"
    )


def _print_dispatch(dsp: DispatchFigures) -> None:
    print(
        f"Dispatch: {dsp.messages:,} alert messages to {dsp.channels} channels, stand-in "
        "limit 5 msgs/5 s per channel, dispatcher budget 40 req/s"
    )
    print(
        f"  took {dsp.seconds:.1f} s: {dsp.rate:.1f} msg/s; the limits allow "
        f"{dsp.allowed_rate:.1f} msg/s (best schedule {dsp.allowed_seconds:.1f} s) "
        f"= {dsp.share:.2f} of it (target >= {TARGET_RATE_SHARE})"
    )
    print(
        f"  429s provoked: {dsp.provoked_429}; messages posted: {dsp.posted:,}; "
        f"duplicates: {dsp.duplicates}; all marked sent after {dsp.marked_seconds:.1f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
