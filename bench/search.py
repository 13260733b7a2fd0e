"""Speed of `ask` and `autocomplete` on the real questions, at 100,000 stories, one core.

Store: the real records and their related coverage (bench.realset) plus N generated
stories for scale (bench.corpusgen; the stores `bench.relevance --generated N` uses),
cached under the temp folder, embedded once per model (bench.embedded).

Questions: every real question (bench/data/questions.yaml), each timed the first time
the searcher sees it, so the question's embedding is part of the time; the searcher is
warmed on other text first, as a running bot's is. `ask` is timed in-process
(`Searcher.ask`), with NEWSBOT_EMBEDDINGS off and with the default model (or --models).
Autocomplete: the prefixes a member types on the way to each question (a quarter, half,
three quarters, all of it). The process is pinned to one CPU, torch to one thread.

Baseline (a), same run, same store, same questions: FTS5 bm25 over title + excerpt,
words OR-ed (bench.relevance.Bm25); for autocomplete, the same with the last word as
a prefix. Ratios are newsbot's time over the baseline's.

    python -m bench.search [--generated 100000] [--models off,all-minilm-l6-v2]
                           [--random-vectors] [--json]
    python -m bench.search --legacy [...]   # old generated-question figures, NOT the judge
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import sqlite3
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench import search_legacy
from bench.embedded import OFF, embedded_copy, make_searcher, variants
from bench.realset import (
    CORPUS,
    cached_real_store,
    load_questions,
    real_records,
)
from bench.relevance import PLAIN, Bm25
from bot.core.store import open_store

TARGET_ASK_P99_MS = 30.0
TARGET_AUTOCOMPLETE_P99_MS = 20.0
WARMUP = (
    "latest robotics news",
    "what happened with the chip shortage",
    "any updates on cloud computing deals",
    "who raised money this week",
    "speech models",
    "market report forecast",
)


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def pin_one_core() -> int | None:
    """Pin this process to one CPU, and the math libraries to one thread (before torch
    is first imported, which the model loader does lazily); returns the CPU."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def prefixes(question: str) -> list[str]:
    """What a member has typed a quarter, half, three quarters of the way, and at the end."""
    return [question[: max(1, len(question) * k // 4)] for k in (1, 2, 3, 4)]


class PrefixBm25(Bm25):
    """Baseline (a) for autocomplete: the last word is a prefix."""

    def __call__(self, question: str) -> list[list[int]]:
        words = list(dict.fromkeys(re.findall(r"\w+", question.casefold())))
        if not words:
            return []
        terms = [f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*']
        match = f"{self.filter} : (" + " OR ".join(terms) + ")"
        return [[r[0]] for r in self.db.execute(self.sql, (match, 10))]


def _timed(fn: Any, items: Sequence[str]) -> list[float]:
    out = []
    for text in items:
        t = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - t) * 1000)
    return out


async def _timed_async(fn: Any, items: Sequence[str]) -> list[float]:
    out = []
    for text in items:
        t = time.perf_counter()
        await fn(text)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _stats(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2)}


async def measure(
    generated: int, seed: int, models: list[str], random_vectors: bool
) -> dict[str, Any]:
    """One store: baseline and every variant, ask and autocomplete."""
    records = real_records()
    base = await cached_real_store(generated, seed, records=records, quiet=False)
    questions = [q.question for q in load_questions()]
    typed = [p for q in questions for p in prefixes(q)]
    with sqlite3.connect(f"file:{base}?mode=ro", uri=True) as db:
        stories = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    plain, prefix = Bm25(base, PLAIN), PrefixBm25(base, PLAIN)
    try:
        _timed(plain, WARMUP)
        bm25_ask = _timed(plain, questions)
        bm25_auto = _timed(prefix, typed)
    finally:
        plain.close()
        prefix.close()
    out: dict[str, Any] = {
        "stories": stories,
        "random_vectors": random_vectors,
        "questions": len(questions),
        "prefixes": len(typed),
        "bm25": {"ask": _stats(bm25_ask), "autocomplete": _stats(bm25_auto)},
        "newsbot": {},
    }
    for model in models:
        path, error = await embedded_copy(base, model, random_vectors=random_vectors, quiet=False)
        if error:
            out["newsbot"][model] = {"error": error}
            continue
        store = await open_store(path)
        try:
            searcher = make_searcher(store, model)
            t0 = time.perf_counter()
            await searcher.refresh(force=True)
            for w in WARMUP:  # loads the index, the model and the vectors
                await searcher.ask(w)
                await searcher.autocomplete(w[:5])
            ready_s = time.perf_counter() - t0
            ask = await _timed_async(searcher.ask, questions)
            auto = await _timed_async(searcher.autocomplete, typed)
            semantic = getattr(searcher, "semantic", None)  # absent before issue 12
            embedded = int(getattr(semantic, "embedded", 0) or 0)
        finally:
            await store.close()
        a, c = _stats(ask), _stats(auto)
        a["x_bm25_p99"] = round(a["p99_ms"] / max(out["bm25"]["ask"]["p99_ms"], 1e-9), 1)
        c["x_bm25_p99"] = round(c["p99_ms"] / max(out["bm25"]["autocomplete"]["p99_ms"], 1e-9), 1)
        out["newsbot"][model] = {
            "ask": a,
            "autocomplete": c,
            "embedded": embedded,
            "ready_s": round(ready_s, 1),
        }
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def print_report(results: list[dict[str, Any]], cpu: int | None) -> int:
    """Lines for people; returns 1 when a target is missed at the largest size."""
    print(
        f"real questions, each timed once (embedding included), in-process, "
        f"{'CPU ' + str(cpu) if cpu is not None else 'unpinned'}; ratio = newsbot / bm25 (a)"
    )
    for r in results:
        b = r["bm25"]
        print(
            f"\n{r['stories']:>7,} stories | {r['questions']} questions, {r['prefixes']} prefixes"
            f" | bm25 (a): ask p50 {b['ask']['p50_ms']:.2f} p99 {b['ask']['p99_ms']:.2f} ms,"
            f" prefix p99 {b['autocomplete']['p99_ms']:.2f} ms"
        )
        for model, m in r["newsbot"].items():
            if "error" in m:
                print(f"  newsbot[{model}]: not measured, the model did not load: {m['error']}")
                continue
            a, c = m["ask"], m["autocomplete"]
            print(
                f"  newsbot[{model}]: ask p50 {a['p50_ms']:.2f} ms p99 {a['p99_ms']:.2f} ms"
                f" (x{a['x_bm25_p99']} bm25) | autocomplete p50 {c['p50_ms']:.2f} ms"
                f" p99 {c['p99_ms']:.2f} ms (x{c['x_bm25_p99']} bm25)"
                + (f" | {m['embedded']:,} embedded" if model != OFF else "")
            )
        if r["random_vectors"]:
            print("  story vectors: random unit vectors (timing only; questions encoded for real)")
        print(f"  peak RSS {r['peak_rss_mb']:.0f} MB")
    big = max(results, key=lambda r: r["stories"])
    print(f"\ntargets at {big['stories']:,} stories:")
    missed = False
    for model, m in big["newsbot"].items():
        if "error" in m:
            continue
        for what, value, goal in (
            ("ask p99", m["ask"]["p99_ms"], TARGET_ASK_P99_MS),
            ("autocomplete p99", m["autocomplete"]["p99_ms"], TARGET_AUTOCOMPLETE_P99_MS),
        ):
            ok = value <= goal
            missed |= not ok
            print(
                f"  [{'met' if ok else 'MISSED'}] newsbot[{model}] {what} <= {goal:.0f} ms "
                f"({value:.2f} ms)"
            )
    return 1 if missed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--legacy" in argv:
        argv.remove("--legacy")
        return search_legacy.main(argv)
    ap = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n")[0])
    ap.add_argument(
        "--generated",
        default="100000",
        help="generated stories added to the real ones, comma-separated sizes (100000)",
    )
    ap.add_argument(
        "--random-vectors",
        action="store_true",
        help="story vectors random (timing only, the question is still encoded): no hour-long "
        "embedding of a big store",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--models", default=None, help="NEWSBOT_EMBEDDINGS values (off + default)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--legacy", action="store_true", help="old figures, NOT the judge")
    args = ap.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"bench.search: corpus folder {CORPUS} is absent; nothing to measure.")
        return 0
    cpu = pin_one_core()
    sizes = [int(s.replace("_", "")) for s in args.generated.split(",") if s.strip()]
    models = variants(args.models)
    results = [asyncio.run(measure(n, args.seed, models, args.random_vectors)) for n in sizes]
    if args.json:
        print(json.dumps(results))
        return 0
    return print_report(results, cpu)


if __name__ == "__main__":
    sys.exit(main())
