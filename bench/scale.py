"""PostgreSQL beside SQLite at scale: load throughput, `ask` p50/p99 and held-out hit@1.

Stories: the real records, their related coverage as stories of their own, and N
generated near-neighbour distractors (bench.realset's recipe, bench.corpusgen; N =
--stories, 100,000 by default), all in memory before anything is timed.

1. **Load**: every story written the way a load writes them (`upsert_articles` in
   batches of 2,000 inside one transaction, then the generation bump) into a new SQLite
   file and into a new PostgreSQL database; stories per second, and PostgreSQL's as a
   ratio to SQLite's (target >= 0.5). Parsing the record files costs the same on both
   drivers and is left out: this is the store's part of a load.
2. **Migrate**: the SQLite store (with its vectors, see below) copied into a second
   PostgreSQL database by `newsbot migrate`'s code; rows per second. That copy is the
   PostgreSQL store the questions go to, so both stores hold the same ids and vectors.
3. **Ask**: every real question (bench/data/questions.yaml), each timed once after a
   warm-up, `Searcher.ask` in-process, for NEWSBOT_EMBEDDINGS off and the default
   model (or --models); p50/p99 on both and PostgreSQL's p99 as a ratio to SQLite's
   (target <= 2). Held-out (test split) hit@1 by bench.realset's event judge on both
   (target: within 0.02). `--random-vectors` gives the stories random vectors (timing
   only; the question is still encoded): hit@1 of a model is then not reported.

PostgreSQL: a throwaway cluster started for the run (tests/pgcluster.py, syncing ON,
as a real server), or the server at --pg URL (databases `scale_*` are created on it
and dropped). The bench process is pinned to one CPU (torch on one thread); the
server's processes are not.

`alert_dispatch` is the hook for alert dispatch with several bot processes sharing
one store (bench.shards fills it in): it gets the run's `ScaleRun`.

    python -m bench.scale [--stories 100000] [--models off,all-minilm-l6-v2]
                          [--random-vectors] [--pg postgresql://…] [--split test] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.corpusgen import generate_articles
from bench.embedded import OFF, make_searcher, random_fill, variants
from bench.realset import (
    CORPUS,
    Judge,
    RealStore,
    checkpoint,
    copy_store,
    load_questions,
    real_records,
    related_stories,
)
from bench.search import WARMUP, pct, pin_one_core
from bot.core.embeddings.backfill import embed_pending
from bot.core.embeddings.models import load_encoder
from bot.core.records import Article
from bot.core.store import Store, open_store
from bot.core.store.transfer import migrate_to_postgres
from bot.core.storeurl import redacted
from tests.pgcluster import PgCluster, PgUnavailable

BATCH = 2000
TARGET_LOAD_RATIO = 0.5  # PostgreSQL stories/s over SQLite's, at least
TARGET_ASK_P99_RATIO = 2.0  # PostgreSQL ask p99 over SQLite's, at most
TARGET_HIT1_GAP = 0.02


@dataclass
class ScaleRun:
    """What one run built, for the measures that come after (`alert_dispatch`)."""

    stories: int
    sqlite_path: Path  # the SQLite store asked (with vectors)
    pg_url: str  # the PostgreSQL store asked (the migrated copy)
    pg_server: str  # a maintenance URL of the server, to make more databases
    folder: Path  # a scratch folder, removed after the run


# A measure run after the others, its figures printed under its name: SHARDS' alert
# dispatch with 2 (or 4) bot processes on the PostgreSQL store goes here.
AlertDispatch = Callable[[ScaleRun], Awaitable[dict[str, Any]]]
alert_dispatch: AlertDispatch | None = None


def note(line: str) -> None:
    """A figure as soon as it is known, on stderr (a long run shows its progress)."""
    print(f"  {line}", file=sys.stderr, flush=True)


def corpus(generated: int, seed: int) -> list[Article]:
    """bench.realset's store recipe as one list: real, related, generated."""
    records = real_records()
    fake = generate_articles(generated, seed, near=records, near_share=1.0) if generated else []
    return [*records, *related_stories(records), *fake]


async def timed_load(target: str | Path, stories: list[Article]) -> dict[str, Any]:
    """Write `stories` as a load does (one transaction); stories per second."""
    store = await open_store(target)
    try:
        t0 = time.perf_counter()
        async with store.transaction() as tx:
            for i in range(0, len(stories), BATCH):
                await tx.upsert_articles(stories[i : i + BATCH])
            await tx.bump_generation()
        seconds = time.perf_counter() - t0
        stored = (await store.stats())["stories"]
    finally:
        await store.close()
    return {"stored": stored, "seconds": round(seconds, 1), "per_s": round(stored / seconds)}


async def fill_vectors(store: Store, model: str, *, random_vectors: bool) -> int:
    """Give every story its `model` vector: newsbot's backfill, or random unit vectors."""
    encoder = load_encoder(model)
    if not random_vectors:
        return await embed_pending(store, encoder)
    return await random_fill(store, model, encoder.dim)


async def ask_all(
    store: Store, model: str, questions: list[Any], judge: Judge
) -> tuple[list[float], list[int | None]]:
    """(ms per question, held-out event ranks) with a warmed searcher."""
    searcher = make_searcher(store, model)
    await searcher.refresh(force=True)
    for w in WARMUP:
        await searcher.ask(w)
    times: list[float] = []
    ranks: list[int | None] = []
    for q in questions:
        t0 = time.perf_counter()
        answer = await searcher.ask(q.question, limit=10)
        times.append((time.perf_counter() - t0) * 1000)
        if q.split == "test":
            ranks.append(judge.ranks(q, [[h.article_id, *h.also] for h in answer.hits])[0])
    return times, ranks


def hit1(ranks: Sequence[int | None]) -> float:
    """Share of questions answered first."""
    return round(sum(1 for r in ranks if r == 1) / max(1, len(ranks)), 3)


class Server:
    """The PostgreSQL server of the run: databases made and dropped on it."""

    def __init__(self, url: str | None) -> None:
        self.cluster: PgCluster | None = None
        self.url = url or ""
        self.made: list[str] = []

    def __enter__(self) -> Server:
        if not self.url:
            self.cluster = PgCluster.start(durable=True)
            self.url = self.cluster.url
        return self

    def __exit__(self, *exc: object) -> None:
        if self.made:
            asyncio.run(self._drop())
        if self.cluster is not None:
            self.cluster.stop()

    async def database(self, label: str) -> str:
        """A new, empty database; its URL."""
        name = f"scale_{label}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.made.append(name)
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))

    async def _drop(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            for name in self.made:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def measure(
    server: Server,
    folder: Path,
    generated: int,
    seed: int,
    models: list[str],
    rnd: bool,
    split: str | None = None,
) -> dict[str, Any]:
    """Every figure of one run (see the module docstring)."""
    t0 = time.perf_counter()
    stories = corpus(generated, seed)
    out: dict[str, Any] = {
        "stories": len(stories),
        "generate_s": round(time.perf_counter() - t0, 1),
        "random_vectors": rnd,
        "pg_server": redacted(server.url),
    }
    note(f"{len(stories):,} stories built in {out['generate_s']} s")
    sqlite_file = folder / "load.db"
    out["load"] = {"sqlite": await timed_load(sqlite_file, stories)}
    note(f"load SQLite: {out['load']['sqlite']}")
    out["load"]["postgres"] = await timed_load(await server.database("load"), stories)
    note(f"load PostgreSQL: {out['load']['postgres']}")
    out["load"]["ratio"] = round(
        out["load"]["postgres"]["per_s"] / out["load"]["sqlite"]["per_s"], 2
    )
    del stories

    checkpoint(sqlite_file)
    rs: RealStore = copy_store(sqlite_file, folder / "asked", generated)
    store = await open_store(rs.path)
    try:
        for model in models:
            if model != OFF:
                await fill_vectors(store, model, random_vectors=rnd)
    finally:
        await store.close()
    checkpoint(rs.path)
    pg_url = await server.database("asked")
    report = await migrate_to_postgres(rs.path, pg_url)
    rows = sum(report.counts.values())
    out["migrate"] = {"rows": rows, "seconds": round(report.seconds, 1)}
    out["migrate"]["rows_per_s"] = round(rows / max(report.seconds, 1e-9))
    note(f"migrate: {out['migrate']}")

    questions = load_questions(split=split)
    judge = Judge(rs, 10)
    out["ask"] = {}
    for model in models:
        figures: dict[str, Any] = {}
        for driver, target in (("sqlite", rs.path), ("postgres", pg_url)):
            s = await open_store(target)
            try:
                times, ranks = await ask_all(s, model, questions, judge)
            finally:
                await s.close()
            figures[driver] = {
                "p50_ms": round(pct(times, 50), 2),
                "p99_ms": round(pct(times, 99), 2),
                "test_hit@1": None if (rnd and model != OFF) else hit1(ranks),
                "test_n": len(ranks),
            }
        figures["p99_ratio"] = round(
            figures["postgres"]["p99_ms"] / max(figures["sqlite"]["p99_ms"], 1e-9), 2
        )
        if figures["sqlite"]["test_hit@1"] is not None:
            figures["hit1_gap"] = round(
                abs(figures["postgres"]["test_hit@1"] - figures["sqlite"]["test_hit@1"]), 3
            )
        out["ask"][model] = figures
        note(f"ask [{model}]: {figures}")
    if alert_dispatch is not None:
        run = ScaleRun(len(rs.stories), rs.path, pg_url, server.url, folder)
        out["alert_dispatch"] = await alert_dispatch(run)
    return out


def print_report(r: dict[str, Any], cpu: int | None) -> int:
    """Lines for people; 1 when a target is missed."""
    missed = False

    def verdict(ok: bool) -> str:
        nonlocal missed
        missed |= not ok
        return "met" if ok else "MISSED"

    where = f"CPU {cpu}" if cpu is not None else "unpinned"
    print(
        f"{r['stories']:,} stories (real + related + generated; built in {r['generate_s']} s), "
        f"bench on {where}, PostgreSQL at {r['pg_server']}"
    )
    ld = r["load"]
    ok = ld["ratio"] >= TARGET_LOAD_RATIO
    print(
        f"load (upserts, one transaction): SQLite {ld['sqlite']['per_s']:,}/s "
        f"({ld['sqlite']['seconds']} s), PostgreSQL {ld['postgres']['per_s']:,}/s "
        f"({ld['postgres']['seconds']} s): x{ld['ratio']}  "
        f"[{verdict(ok)}: >= x{TARGET_LOAD_RATIO}]"
    )
    m = r["migrate"]
    print(
        f"migrate SQLite -> PostgreSQL: {m['rows']:,} rows in {m['seconds']} s "
        f"({m['rows_per_s']:,}/s)"
    )
    for model, f in r["ask"].items():
        s, p = f["sqlite"], f["postgres"]
        print(
            f"ask [{model}]: SQLite p50 {s['p50_ms']:.1f} p99 {s['p99_ms']:.1f} ms | "
            f"PostgreSQL p50 {p['p50_ms']:.1f} p99 {p['p99_ms']:.1f} ms: p99 x{f['p99_ratio']}  "
            f"[{verdict(f['p99_ratio'] <= TARGET_ASK_P99_RATIO)}: <= x{TARGET_ASK_P99_RATIO}]"
        )
        if "hit1_gap" in f:
            print(
                f"  held-out hit@1 ({s['test_n']} questions): SQLite {s['test_hit@1']:.3f}, "
                f"PostgreSQL {p['test_hit@1']:.3f}, gap {f['hit1_gap']:.3f}  "
                f"[{verdict(f['hit1_gap'] <= TARGET_HIT1_GAP)}: <= {TARGET_HIT1_GAP}]"
            )
        else:
            print("  hit@1: not measured (random story vectors)")
    if "alert_dispatch" in r:
        print(f"alert dispatch: {r['alert_dispatch']}")
    return 1 if missed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    ap.add_argument("--stories", type=int, default=100_000, help="generated stories (100000)")
    ap.add_argument("--models", default=None, help="NEWSBOT_EMBEDDINGS values (off + default)")
    ap.add_argument(
        "--random-vectors",
        action="store_true",
        help="random story vectors (timing only): no hour-long embedding of a big store",
    )
    ap.add_argument("--pg", default=None, metavar="URL", help="a server (default: a throwaway one)")
    ap.add_argument(
        "--split", choices=("test",), default=None, help="ask the held-out questions only"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"bench.scale: corpus folder {CORPUS} is absent; nothing to measure.")
        return 0
    cpu = pin_one_core()
    models = variants(args.models)
    try:
        with Server(args.pg) as server, tempfile.TemporaryDirectory(prefix="newsbot-scale-") as tmp:
            result = asyncio.run(
                measure(
                    server,
                    Path(tmp),
                    args.stories,
                    args.seed,
                    models,
                    args.random_vectors,
                    args.split,
                )
            )
    except PgUnavailable as exc:
        print(f"bench.scale: PostgreSQL cannot be started: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    return print_report(result, cpu)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
