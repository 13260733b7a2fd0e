"""NOT THE JUDGE: the old speed bench, on generated questions over generated stores.

Its questions are cut from stored titles, and its distractors share every word
of them: neither is what members type nor what real stores hold, so its
figures (p99 12 ms at 100k) were far from the real ones. bench.search times
the real questions; this one runs through ``python -m bench.search --legacy``.

Stores of 1,000 / 10,000 / 100,000 generated stories (bench.corpusgen,
seeded; cached under the temp folder, see bench.stores). Questions are
generated from stored titles the way people type them: title fragments,
fragments with a typo, topic requests and chatty messages. `ask` is timed
warm, in-process, one question at a time; the baseline is rapidfuzz WRatio
over every title (utils.default_process), timed on a sample because it is slow.

    python -m bench.search --legacy [--sizes 1000,10000,100000] [--seed 1] [--questions 300]
                                    [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import closing
from typing import Any

from rapidfuzz import fuzz, process, utils

from bench.stores import cached_store
from bot.core.search.query import is_stop, tokenize
from bot.core.search.searcher import Searcher
from bot.core.store import open_store

TARGET_P99_MS = 15.0
TARGET_SPEEDUP = 50.0
CHATTY = (
    "hey guys anyone seen the thing about {q} lol",
    "does anyone remember that article on {q}? link pls",
    "quick q: what was the {q} story",
    "ngl i forgot but something about {q}??",
)
TOPIC = ("{t} news", "latest {t}", "anything new in {t}?", "{t} stories pls")


def make_questions(
    titles: list[str], topics: list[str], n: int, seed: int
) -> list[tuple[str, str]]:
    """(kind, question) pairs, seeded."""
    r = random.Random(seed)
    out: list[tuple[str, str]] = []
    kinds = ("fragment", "typo", "topic", "chatty")
    while len(out) < n:
        kind = kinds[len(out) % len(kinds)]
        if kind == "topic" and topics:
            out.append((kind, r.choice(TOPIC).format(t=r.choice(topics).lower())))
            continue
        words = [w for w in tokenize(r.choice(titles)) if not w.isdigit()]
        if len(words) < 2:
            continue
        k = r.randint(2, min(5, len(words)))
        start = r.randrange(0, len(words) - k + 1)
        frag = words[start : start + k]
        if kind == "typo":
            j = max(range(len(frag)), key=lambda i: len(frag[i]))
            w = frag[j]
            if len(w) >= 4:
                p = r.randrange(1, len(w) - 1)
                w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]  # a transposition
            frag[j] = w
        text = " ".join(frag)
        out.append((kind, r.choice(CHATTY).format(q=text) if kind == "chatty" else text))
    return out


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


async def measure(n: int, seed: int, n_questions: int, baseline_sample: int) -> dict[str, Any]:
    path = await cached_store(n, seed)
    store = await open_store(path)
    try:
        searcher = Searcher(store)
        t0 = time.perf_counter()
        await searcher.refresh(force=True)
        refresh_s = time.perf_counter() - t0
        with closing(sqlite3.connect(path)) as db:
            titles = [r[0] for r in db.execute("SELECT title FROM articles")]
        topics = [name for name, _ in await store.topics()]
        questions = make_questions(titles, topics, n_questions, seed)
        for _, q in questions[:50]:
            await searcher.ask(q)  # warm caches, as a running bot is
        ask_ms: list[float] = []
        per_kind: dict[str, list[float]] = {}
        for kind, q in questions:
            t = time.perf_counter()
            await searcher.ask(q)
            ms = (time.perf_counter() - t) * 1000
            ask_ms.append(ms)
            per_kind.setdefault(kind, []).append(ms)
        # Typing: every prefix a user produces on the way to a question.
        auto_ms: list[float] = []
        r = random.Random(seed + 1)
        for _, q in r.sample(questions, min(60, len(questions))):
            for cut in sorted({max(1, len(q) * k // 4) for k in (1, 2, 3, 4)}):
                t = time.perf_counter()
                await searcher.autocomplete(q[:cut])
                auto_ms.append((time.perf_counter() - t) * 1000)
        base_ms: list[float] = []
        sample = random.Random(seed + 2).sample(questions, min(baseline_sample, len(questions)))
        for _, q in sample:
            t = time.perf_counter()
            process.extract(q, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=5)
            base_ms.append((time.perf_counter() - t) * 1000)
        words = {w for t in titles for w in tokenize(t) if not is_stop(w)}
    finally:
        await store.close()
    return {
        "stories": n,
        "vocabulary": len(words),
        "refresh_s": round(refresh_s, 2),
        "questions": len(ask_ms),
        "ask_p50_ms": round(pct(ask_ms, 50), 2),
        "ask_p99_ms": round(pct(ask_ms, 99), 2),
        "ask_mean_ms": round(statistics.fmean(ask_ms), 2),
        "ask_p99_by_kind_ms": {k: round(pct(v, 99), 2) for k, v in per_kind.items()},
        "autocomplete_p50_ms": round(pct(auto_ms, 50), 2),
        "autocomplete_p99_ms": round(pct(auto_ms, 99), 2),
        "wratio_p50_ms": round(pct(base_ms, 50), 1),
        "wratio_p99_ms": round(pct(base_ms, 99), 1),
        "speedup_p50": round(pct(base_ms, 50) / max(pct(ask_ms, 50), 1e-9), 1),
        "speedup_p99": round(pct(base_ms, 99) / max(pct(ask_ms, 99), 1e-9), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.search --legacy", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated store sizes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--questions", type=int, default=300, help="questions timed per size")
    ap.add_argument(
        "--baseline-sample",
        type=int,
        default=30,
        help="questions the exhaustive WRatio scan is timed on",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not args.json:
        print("NOT THE JUDGE: generated questions (see bench.search for the real ones)")
    results = []
    for n in sizes:
        res = asyncio.run(measure(n, args.seed, args.questions, args.baseline_sample))
        results.append(res)
        if not args.json:
            print(
                f"{n:>7,} stories | ask p50 {res['ask_p50_ms']:6.2f} ms  "
                f"p99 {res['ask_p99_ms']:6.2f} ms | "
                f"WRatio p50 {res['wratio_p50_ms']:7.1f} ms  p99 {res['wratio_p99_ms']:7.1f} ms | "
                f"x{res['speedup_p50']:.0f} (p50) x{res['speedup_p99']:.0f} (p99) | "
                f"autocomplete p50 {res['autocomplete_p50_ms']:.2f} ms p99 "
                f"{res['autocomplete_p99_ms']:.2f} ms | index {res['refresh_s']:.2f}s | "
                f"peak RSS {res['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            print(
                f"{'':>16}ask p99 by kind: "
                + ", ".join(f"{k} {v:.2f} ms" for k, v in res["ask_p99_by_kind_ms"].items()),
                flush=True,
            )
    if args.json:
        print(json.dumps(results))
        return 0
    big = max(results, key=lambda r: r["stories"])
    print()
    print(f"targets at {big['stories']:,} stories:")
    print(
        f"  [{'met' if big['ask_p99_ms'] <= TARGET_P99_MS else 'MISSED'}] ask p99 <= "
        f"{TARGET_P99_MS:.0f} ms ({big['ask_p99_ms']:.2f} ms)"
    )
    print(
        f"  [{'met' if big['speedup_p99'] >= TARGET_SPEEDUP else 'MISSED'}] >= "
        f"{TARGET_SPEEDUP:.0f}x faster than exhaustive WRatio at p99 (x{big['speedup_p99']:.0f}; "
        f"x{big['speedup_p50']:.0f} at p50)"
    )
    if len(results) >= 2:
        small = min(results, key=lambda r: r["stories"])
        growth = big["ask_p99_ms"] / max(small["ask_p99_ms"], 1e-9)
        print(f"  corpus x{big['stories'] / small['stories']:.0f} → ask p99 x{growth:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
