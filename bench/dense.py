"""The semantic half at scale: exact cosine search against the HNSW graph, same run.

Speed: the real questions (each asked once, its embedding included) through
`Searcher.ask` at 100,000 generated + real stories with random story vectors (the
exact product's cost does not depend on their values, and a graph of random vectors
is slower to build and search than one of real ones, so the graph's figures are on
the safe side; embedding 100,000 stories takes an hour), once with every story
searched exactly and once through the graph (`bot.core.embeddings.ann`), interleaved
question by question; p50/p99 of `ask` and of the semantic half alone, and the ratio
graph / exact. Also the time to have the vectors ready (the graph's build).

Quality: the dev split on the 20,000-story store with its real vectors
(bench.embedded), exact against graph (forced, as above EXACT_UP_TO): hit@1 and
hit@3 by the event rule of bench.relevance, and how often the two give the same
first answer. One process, pinned to one core, torch on one thread.

    python -m bench.dense [--generated 100000] [--quality-generated 20000] [--json]
    python -m bench.dense --variants graph --no-quality   # the bot's RSS with the graph alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.embedded import embedded_copy
from bench.realset import CORPUS, Judge, cached_real_store, copy_store, load_questions
from bench.search import WARMUP, pct, pin_one_core
from bot.core.embeddings.models import MINILM
from bot.core.search.dense import Semantic
from bot.core.search.searcher import Searcher
from bot.core.store import Store, open_store

EXACT = 10**9  # exact_up_to for "every story searched exactly"
VARIANTS = (("exact", EXACT), ("graph", 0))


def _searcher(store: Store, exact_up_to: int) -> Searcher:
    searcher = Searcher(store, embeddings=MINILM)
    searcher.semantic = Semantic(MINILM, exact_up_to=exact_up_to)
    return searcher


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def speed(generated: int, names: Sequence[str]) -> dict[str, Any]:
    """p50/p99 of ask and of the semantic half, exact and graph, on one store."""
    base = await cached_real_store(generated, 1, quiet=False)
    path, error = await embedded_copy(base, MINILM, random_vectors=True, quiet=False)
    if error:
        raise SystemExit(f"bench.dense: the model did not load: {error}")
    questions = [q.question for q in load_questions()]
    out: dict[str, Any] = {"stories": 0, "questions": len(questions)}
    store = await open_store(path)
    try:
        searchers: dict[str, Searcher] = {}
        for name, exact_up_to in VARIANTS:
            if name not in names:
                continue
            searchers[name] = searcher = _searcher(store, exact_up_to)
            t0 = time.perf_counter()
            await searcher.refresh(force=True)
            for w in WARMUP:
                await searcher.ask(w)
            out[name] = {
                "ready_s": round(time.perf_counter() - t0, 1),
                # With both variants, the second one's figure holds the first's vectors too.
                "rss_mb_after_ready": round(_rss_mb()),
                "approximate": searcher.semantic.approximate,
            }
        # Interleaved, question by question, first one variant then the other in turn:
        # the machine's load changes by the second, and must fall on both alike.
        ask: dict[str, list[float]] = {n: [] for n in searchers}
        half: dict[str, list[float]] = {n: [] for n in searchers}
        order = list(searchers)
        for n, q in enumerate(questions):
            for name in order[::-1] if n % 2 else order:
                t = time.perf_counter()
                await searchers[name].ask(q)
                ask[name].append((time.perf_counter() - t) * 1000)
        for n, q in enumerate(questions):  # the semantic half alone, each question new again
            for name in order[::-1] if n % 2 else order:
                semantic = searchers[name].semantic
                semantic.forget_questions()
                t = time.perf_counter()
                await semantic.search(store, q, 20)
                half[name].append((time.perf_counter() - t) * 1000)
        for name, searcher in searchers.items():
            out["stories"] = searcher.semantic.embedded
            out[name].update(
                ask_p50_ms=round(pct(ask[name], 50), 2),
                ask_p99_ms=round(pct(ask[name], 99), 2),
                dense_p50_ms=round(pct(half[name], 50), 2),
                dense_p99_ms=round(pct(half[name], 99), 2),
            )
    finally:
        await store.close()
    if "graph" in out and "exact" in out:
        for key in ("ask_p50_ms", "ask_p99_ms", "dense_p50_ms", "dense_p99_ms"):
            out[f"x_{key}"] = round(out["graph"][key] / max(out["exact"][key], 1e-9), 2)
    return out


async def quality(generated: int) -> dict[str, Any]:
    """Dev-split hit@1/@3, exact against graph, on the store's real vectors."""
    base = await cached_real_store(generated, 1, quiet=False)
    path, error = await embedded_copy(base, MINILM, quiet=False)
    if error:
        raise SystemExit(f"bench.dense: the model did not load: {error}")
    questions = load_questions(split="dev")
    out: dict[str, Any] = {"questions": len(questions)}
    firsts: dict[str, list[int | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rs = copy_store(path, Path(tmp), generated)
        judge = Judge(rs, 10)
        out["stories"] = len(rs.stories)
        for name, exact_up_to in VARIANTS:
            store = await rs.open()
            try:
                searcher = _searcher(store, exact_up_to)
                await searcher.refresh(force=True)
                ranks, first = [], []
                for q in questions:
                    hits = (await searcher.ask(q.question, limit=10)).hits
                    ranks.append(judge.ranks(q, [[h.article_id, *h.also] for h in hits])[0])
                    first.append(hits[0].article_id if hits else None)
                firsts[name] = first
                out[name] = {
                    "hit@1": round(sum(r == 1 for r in ranks) / len(ranks), 3),
                    "hit@3": round(sum(r is not None and r <= 3 for r in ranks) / len(ranks), 3),
                    "approximate": searcher.semantic.approximate,
                }
            finally:
                await store.close()
    same = sum(a == b for a, b in zip(firsts["exact"], firsts["graph"], strict=True))
    out["same_first_answer"] = round(same / len(questions), 3)
    return out


def print_report(s: dict[str, Any], q: dict[str, Any] | None, cpu: int | None) -> None:
    """Lines for people."""
    where = f"CPU {cpu}" if cpu is not None else "unpinned"
    print(f"semantic half, exact vs HNSW graph, {where}; ratio = graph / exact")
    print(
        f"\nspeed: {s['stories']:,} embedded stories (random vectors), {s['questions']} questions"
    )
    for name in ("exact", "graph"):
        if name not in s:
            continue
        m = s[name]
        print(
            f"  {name:5}: ask p50 {m['ask_p50_ms']:.2f} p99 {m['ask_p99_ms']:.2f} ms | "
            f"semantic half p50 {m['dense_p50_ms']:.2f} p99 {m['dense_p99_ms']:.2f} ms | "
            f"ready in {m['ready_s']:.1f} s, RSS {m['rss_mb_after_ready']} MB"
        )
    if "x_ask_p99_ms" in s:
        print(
            f"  ratio: ask p50 x{s['x_ask_p50_ms']} p99 x{s['x_ask_p99_ms']} | "
            f"semantic half p50 x{s['x_dense_p50_ms']} p99 x{s['x_dense_p99_ms']}"
        )
    if q is not None:
        print(f"\nquality: {q['stories']:,} stories, real vectors, {q['questions']} dev questions")
        for name in ("exact", "graph"):
            print(f"  {name:5}: hit@1 {q[name]['hit@1']:.3f} hit@3 {q[name]['hit@3']:.3f}")
        print(f"  same first answer: {q['same_first_answer']:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m bench.dense", description=__doc__.split("\n")[0])
    ap.add_argument("--generated", type=int, default=100_000, help="stories for speed (100000)")
    ap.add_argument(
        "--quality-generated",
        type=int,
        default=20_000,
        help="generated stories for quality, embedded for real (20000; 0: the real ones only)",
    )
    ap.add_argument("--no-quality", action="store_true", help="speed only")
    ap.add_argument(
        "--variants",
        default="exact,graph",
        help="speed variants, comma-separated (exact,graph); one alone gives its own RSS",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"bench.dense: corpus folder {CORPUS} is absent; nothing to measure.")
        return 0
    cpu = pin_one_core()
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = sorted(set(names) - {n for n, _ in VARIANTS})
    if unknown:
        ap.error(f"unknown --variants {', '.join(unknown)} (known: exact, graph)")
    s = asyncio.run(speed(args.generated, names))
    q = None if args.no_quality else asyncio.run(quality(args.quality_generated))
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.json:
        print(json.dumps({"speed": s, "quality": q, "peak_rss_mb": peak}))
    else:
        print_report(s, q, cpu)
        print(f"\npeak RSS {peak} MB (every variant run, in one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
