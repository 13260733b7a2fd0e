"""Discord interaction latency of the real bot, measured through the Discord stand-in.

For `/news` and for `/news` autocomplete: the time from the stand-in dispatching
INTERACTION_CREATE on the gateway to the bot's interaction callback arriving at
the stand-in's REST endpoint (what Discord's 3-second deadline is measured on),
over a few hundred varied questions on a generated store. Then the same for
`/news` while an `/admin reload` of new records runs.

    python -m bench.discord                      # 100,000 stories (first run builds the store)
    python -m bench.discord --stories 2000       # quick, CI-sized

Run it as a module (``-m``) from the repository root: the stand-in lives in
``tests/standin``. The store is built once from `bench.corpusgen` records with
`bot.core.loader.load_paths` and cached under ``$NEWSBOT_BENCH_CACHE`` (default: the
temp folder) by size and seed; each run works on a copy. The stand-in, the bot
and discord.py share one process and one event loop, as a bot does in
production; nothing listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.corpusgen import generate_records, write_records
from bench.stores import cache_dir
from bot.core.loader import load_paths
from bot.core.settings import Settings
from bot.core.store import open_store
from bot.discord_app.bot import NewsBot
from bot.discord_app.run import publish
from tests.standin import StandIn, run_bot

RECIPE = "v1"  # bump when the way the store is built changes
TARGETS_MS = {"news": 100.0, "autocomplete": 50.0, "news during reload": 250.0}
RELOAD_SEED_OFFSET = 7919  # the reload's records: another seed, so they are new stories
QUERY_SET = Path(__file__).with_name("relevance_queries.yaml")
# Words a keyword-style question leaves out.
STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "its",
        "it",
        "this",
        "that",
        "over",
        "after",
        "into",
        "new",
        "says",
        "say",
        "said",
        "will",
        "has",
        "have",
        "how",
        "why",
        "what",
        "who",
    }
)

log = logging.getLogger("bench.discord")


# -- the store -------------------------------------------------------------------


def store_path(n: int, seed: int) -> Path:
    return cache_dir() / f"discord-{RECIPE}-n{n}-s{seed}.db"


async def cached_store(n: int, seed: int) -> Path:
    """A store of `n` generated stories, loaded the way `newsbot load` does; built once."""
    path = store_path(n, seed)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-records-") as tmp:
        note(f"building a {n:,}-story store (cached for later runs): generating records…")
        write_records(generate_records(n, seed), tmp)
        partial = path.with_suffix(".partial")
        for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            p.unlink(missing_ok=True)
        store = await open_store(partial)
        try:
            note("loading them with bot.core.loader.load_paths…")
            report = await load_paths(store, [tmp])
            with closing(sqlite3.connect(partial)) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await store.close()
    if report.rejected:
        raise SystemExit(f"generated records were rejected: {report.rejected[:3]}")
    partial.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    note(f"built {path} ({report.summary()}) in {time.perf_counter() - started:.0f} s")
    return path


# -- what users type -------------------------------------------------------------


def _words(title: str) -> list[str]:
    return [w for w in re.findall(r"[\w'’-]+", title.lower()) if w not in STOP and len(w) > 1]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def sample_titles(db: Path, count: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """`count` random stored titles, and every topic name."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (n,) = conn.execute("SELECT count(*) FROM articles").fetchone()
        ids = rng.sample(range(1, n + 1), min(n, count))
        marks = ",".join("?" * len(ids))
        titles = [
            t for (t,) in conn.execute(f"SELECT title FROM articles WHERE id IN ({marks})", ids)
        ]
        topics = [t for (t,) in conn.execute("SELECT name FROM topics")]
    finally:
        conn.close()
    return titles, topics


def questions(db: Path, count: int, seed: int) -> list[str]:
    """Questions as people type them in a server: keywords, questions, typos, topics."""
    rng = random.Random(seed)
    titles, topics = sample_titles(db, count, rng)
    real = [e["q"] for e in yaml.safe_load(QUERY_SET.read_text(encoding="utf-8"))]
    out: list[str] = []
    for title in titles:
        words = _words(title) or title.lower().split()
        key = sorted(words, key=len, reverse=True)[: rng.randint(2, 4)]
        style = rng.random()
        if style < 0.35:
            out.append(" ".join(key))
        elif style < 0.55:
            out.append(
                rng.choice(["what's the latest on", "any news about", "did", "tell me about"])
                + " "
                + " ".join(key)
                + rng.choice(["?", "", " ?"])
            )
        elif style < 0.7:
            out.append(" ".join(_typo(w, rng) if i == 0 else w for i, w in enumerate(key)))
        elif style < 0.8 and topics:
            out.append(
                f"{rng.choice(topics).lower()} {rng.choice(['news', 'latest', 'this week'])}"
            )
        else:
            out.append(rng.choice(real))
    rng.shuffle(out)
    return out[:count]


def prefixes(questions_: Sequence[str], db: Path, count: int, seed: int) -> list[str]:
    """What is in the box while typing: title starts, question starts, a few empty boxes."""
    rng = random.Random(seed + 1)
    titles, _ = sample_titles(db, count, rng)
    out: list[str] = []
    for i in range(count):
        if i % 20 == 0:
            out.append("")
            continue
        source = titles[i % len(titles)] if rng.random() < 0.6 else rng.choice(questions_)
        text = source.lower() if rng.random() < 0.8 else source
        out.append(text[: rng.randint(2, max(3, min(30, len(text))))])
    return out


# -- measuring -------------------------------------------------------------------


class BenchBot(NewsBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before each IDENTIFY; the stand-in has no such limit.
        return None


@dataclass
class Series:
    name: str
    ms: list[float] = field(default_factory=list)
    deferred: int = 0
    failed: int = 0

    def pct(self, q: float) -> float:
        if not self.ms:
            return float("nan")
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def one(standin: StandIn, payload: dict, series: Series) -> None:
    it = await standin.dispatch_interaction(payload)
    callback = await it.wait_callback(timeout=10.0)
    if not callback.ok:
        series.failed += 1
        return
    kind = callback.json.get("type")
    if kind == 5:
        series.deferred += 1
    elif kind == 4 and not callback.json["data"].get("embeds"):
        # The error handler's apology (plain text) is quick, but it is not an answer.
        series.failed += 1
        return
    series.ms.append((callback.at - it.created_at) * 1000)


class ErrorCount(logging.Handler):
    """Counts the bot's error logs; shows the first traceback, not thousands."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.count == 1:
            print(
                logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record),
                file=sys.stderr,
            )


async def measure(args: argparse.Namespace) -> list[Series]:
    db = await cached_store(args.stories, args.seed)
    qs = questions(db, args.interactions, args.seed)
    typed = prefixes(qs, db, args.interactions, args.seed)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-discord-") as tmp:
        work = Path(tmp)
        note(f"copying the store to {work}…")
        shutil.copy2(db, work / "newsbot.db")
        reload_dir = work / "articles"
        note(f"generating {args.reload:,} new records for the reload…")
        write_records(generate_records(args.reload, args.seed + RELOAD_SEED_OFFSET), reload_dir)
        settings = Settings(
            token="bench-token", db_path=work / "newsbot.db", data_dir=reload_dir, rescan_seconds=0
        )
        standin = StandIn()
        await standin.start()
        try:
            with standin.patch_discord():
                bot = BenchBot(settings)
                async with run_bot(bot, standin, ready_timeout=120.0):
                    await publish(bot, None)
                    return await _run(standin, bot, qs, typed)
        finally:
            await standin.stop()
            for problem in standin.problems():  # unknown routes, stand-in errors
                print(f"stand-in: {problem}", file=sys.stderr)


async def _run(standin: StandIn, bot: NewsBot, qs: list[str], typed: list[str]) -> list[Series]:
    def news(q: str) -> dict:
        return standin.slash("news", {"query": q[:300]}, user="alice")

    def complete(text: str) -> dict:
        return standin.autocomplete("news", {"query": text}, focused="query", user="alice")

    note("warming up…")
    warm = Series("warm-up")
    for q in qs[:10]:
        await one(standin, news(q), warm)
        await one(standin, complete(q[:5]), warm)

    news_s, auto_s, during = Series("news"), Series("autocomplete"), Series("news during reload")
    note(f"/news × {len(qs)}, autocomplete × {len(typed)}…")
    for q in qs:
        await one(standin, news(q), news_s)
    for text in typed:
        await one(standin, complete(text), auto_s)

    note("/admin reload, with /news asked throughout…")
    reload_it = await standin.dispatch_interaction(standin.slash("admin reload", user="admin"))
    started = time.perf_counter()
    i = 0
    while not reload_it.followup_ids:
        await one(standin, news(qs[i % len(qs)]), during)
        i += 1
        await asyncio.sleep(0.01)  # people ask a few times a second, not back to back
    reload_s = time.perf_counter() - started
    followup = await reload_it.wait_followup()
    if not followup.json.get("embeds"):
        raise SystemExit(f"the reload failed: {followup.json.get('content')!r}")
    fields = {f["name"]: f["value"] for f in followup.json["embeds"][0].get("fields", [])}
    note(
        f"reload finished in {reload_s:.1f} s: added {fields.get('Added')}, "
        f"updated {fields.get('Updated')}, rejected {fields.get('Rejected')}"
    )
    stories = (await bot.room.store.stats())["stories"]
    note(f"store now holds {stories:,} stories")
    return [news_s, auto_s, during]


def note(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def report(args: argparse.Namespace, results: list[Series]) -> bool:
    print(
        f"\nDiscord interaction latency, INTERACTION_CREATE → callback at the stand-in "
        f"({args.stories:,} stories, seed {args.seed}; reload of {args.reload:,} new records)"
    )
    print(
        f"{'':20} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8} "
        f"{'deferred':>8} {'failed':>6}   target p99"
    )
    all_met = True
    for s in results:
        target = TARGETS_MS[s.name]
        p99 = s.pct(0.99)
        met = bool(s.ms) and p99 < target and s.failed == 0
        all_met &= met
        mean = statistics.fmean(s.ms) if s.ms else float("nan")
        print(
            f"{s.name:20} {len(s.ms):>5} {s.pct(0.5):>8.1f} {p99:>8.1f} "
            f"{max(s.ms, default=float('nan')):>8.1f} "
            f"{mean:>8.1f} {s.deferred:>8} {s.failed:>6}   < {target:.0f} ms  "
            f"{'met' if met else 'NOT met'}"
        )
    return all_met


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.discord", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--stories", type=int, default=100_000, help="store size (default 100,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--interactions",
        type=int,
        default=300,
        help="/news questions and autocomplete inputs each (default 300)",
    )
    ap.add_argument(
        "--reload",
        type=int,
        default=None,
        metavar="N",
        help="new records the /admin reload loads (default: a tenth of --stories, "
        "at least 1,000 and at most 10,000)",
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = ap.parse_args(argv)
    if args.reload is None:
        args.reload = min(10_000, max(1_000, args.stories // 10))
    errors = ErrorCount()
    logging.basicConfig(level=logging.WARNING, handlers=[errors])
    results = asyncio.run(measure(args))
    met = report(args, results)
    if errors.count:
        print(f"the bot logged {errors.count} errors (the first is shown above)")
        met = False
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
