"""NOT THE JUDGE: the old relevance bench (before issue 12), kept for its figures.

Its questions (bench/relevance_queries.yaml) were written against generated
distractors that share every word of the question; real questions over real
near-duplicates (bench.relevance, bench/data/questions.yaml) give different
figures, and those are the ones decisions are made on. Run it through
``python -m bench.relevance --legacy``.

Store: the real records (../shared/corpus/smartable/*.md, read at run time,
never copied) plus the seed record, plus N seeded near-neighbour distractors
from bench.corpusgen (same entities, topics and outlets, other events).

Questions: bench/relevance_queries.yaml. Judging:

* topic questions: a hit counts when the story carries the question's topic;
* entity questions: a hit counts when it is a listed story, or a *generated*
  story that names the entity (every word of it in its title or excerpt). The
  query author could only list the real stories; a distractor about the same
  company is a legitimate answer to a bare company name. A real story that is
  not listed does not count;
* every other kind: the hit must be a listed story. A newsbot hit that
  collapsed several records of one event counts when any of them is listed.

Baselines, same store, same judging: (a) rapidfuzz WRatio with
utils.default_process over every title, exhaustive; (b) SQLite FTS5 bm25 over
title and excerpt with the question's words OR-ed.

    python -m bench.relevance --legacy [--distractors 2000] [--seed 1] [--json] [--misses]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process, utils

from bench.corpusgen import generate_articles, load_real
from bot.core.records import canonical_url
from bot.core.search.query import tokenize
from bot.core.search.searcher import Searcher
from bot.core.store import FieldWeights, Store, TextQuery, open_store

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "smartable"
SEED = (
    ROOT
    / "data"
    / "articles"
    / "2020-06-09-ibm-stops-work-on-facial-recognition-over-human-rights-concerns.md"
)
QUERIES = Path(__file__).with_name("relevance_queries.yaml")
KINDS = ("natural", "excerpt", "typo", "synonym", "entity", "chatty", "topic")
DEPTH = 10  # ranks looked at for MRR
PLAIN_BM25 = FieldWeights(title=1.0, topics=1.0, provider=1.0, excerpt=1.0, related=1.0)
TARGET_HIT1, TARGET_HIT3 = 0.90, 0.97


@dataclass(slots=True)
class Story:
    id: int
    url: str  # canonical
    title: str
    excerpt: str
    topics: frozenset[str]
    real: bool


@dataclass(slots=True)
class Score:
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of first correct hit

    def add(self, rank: int | None) -> None:
        self.ranks.append(rank)

    @property
    def n(self) -> int:
        return len(self.ranks)

    def hit(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(1, self.n)

    def misses(self, k: int = 1) -> int:
        return sum(1 for r in self.ranks if r is None or r > k)

    @property
    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / max(1, self.n)


async def build_store(path: Path, distractors: int, seed: int) -> tuple[Store, dict[int, Story]]:
    real = load_real([CORPUS, SEED])
    store = await open_store(path)
    fake = generate_articles(distractors, seed, near=real, near_share=1.0) if distractors else []
    async with store.transaction() as tx:
        await tx.upsert_articles(real)
        await tx.upsert_articles(fake)
        await tx.bump_generation()
    real_urls = {a.canonical_url for a in real}
    stories: dict[int, Story] = {}
    topics: dict[int, set[str]] = {}
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT id, url, title, excerpt FROM articles").fetchall()
        for aid, key in db.execute(
            "SELECT at.article_id, t.key FROM article_topics at JOIN topics t ON t.id = at.topic_id"
        ):
            topics.setdefault(aid, set()).add(key)
    for aid, url, title, excerpt in rows:
        stories[aid] = Story(
            aid, url, title, excerpt or "", frozenset(topics.get(aid, ())), url in real_urls
        )
    return store, stories


def judge(q: dict[str, Any], stories: dict[int, Story]) -> Callable[[int], bool]:
    expect = {canonical_url(u) for u in q.get("expect", [])}
    kind = q["kind"]
    if kind == "topic":
        topic = str(q["topic"]).casefold()
        return lambda aid: topic in stories[aid].topics
    if kind == "entity":
        words = [w for w in tokenize(q["q"])]

        def entity_ok(aid: int) -> bool:
            s = stories[aid]
            if s.url in expect:
                return True
            if s.real:
                return False
            text = f" {' '.join(tokenize(s.title + ' ' + s.excerpt))} "
            return all(f" {w} " in text for w in words)

        return entity_ok
    return lambda aid: stories[aid].url in expect


def first_rank(ranked: Sequence[Sequence[int]], ok: Callable[[int], bool]) -> int | None:
    """ranked: per position, the ids it stands for (a collapsed hit stands for several)."""
    for pos, group in enumerate(ranked[:DEPTH], start=1):
        if any(ok(aid) for aid in group):
            return pos
    return None


class Baselines:
    def __init__(self, store: Store, stories: dict[int, Story]) -> None:
        self.store = store
        self.ids = list(stories)
        self.titles = [stories[i].title for i in self.ids]

    def wratio(self, q: str) -> list[list[int]]:
        found = process.extract(
            q, self.titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=DEPTH
        )
        return [[self.ids[j]] for _, _, j in found]

    async def bm25(self, q: str) -> list[list[int]]:
        words = list(dict.fromkeys(tokenize(q)))
        if not words:
            return []
        # Plain bm25 over titles and excerpts: every field weighs the same.
        query = TextQuery((tuple(words),), fields=("title", "excerpt"))
        found = await self.store.match_ranked(query, PLAIN_BM25, limit=DEPTH)
        return [[r.article_id] for r in found]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="newsbot-relevance-") as tmp:
        t0 = time.perf_counter()
        store, stories = await build_store(Path(tmp) / "store.db", args.distractors, args.seed)
        build_s = time.perf_counter() - t0
        try:
            searcher = Searcher(store)
            await searcher.refresh(force=True)
            base = Baselines(store, stories)
            systems = ("newsbot", "wratio", "bm25")
            scores = {s: {k: Score() for k in (*KINDS, "overall")} for s in systems}
            misses: list[dict[str, Any]] = []
            for q in queries:
                ok = judge(q, stories)
                answer = await searcher.ask(q["q"], limit=DEPTH)
                ranked = {
                    "newsbot": [[h.article_id, *h.also] for h in answer.hits],
                    "wratio": base.wratio(q["q"]),
                    "bm25": await base.bm25(q["q"]),
                }
                for s in systems:
                    rank = first_rank(ranked[s], ok)
                    scores[s][q["kind"]].add(rank)
                    scores[s]["overall"].add(rank)
                    if s == "newsbot" and rank != 1:
                        misses.append(
                            {
                                "kind": q["kind"],
                                "q": q["q"],
                                "rank": rank,
                                "got": [stories[g[0]].title for g in ranked[s][:3]],
                                "expected": [
                                    stories[i].title
                                    for i in stories
                                    if stories[i].url
                                    in {canonical_url(u) for u in q.get("expect", [])}
                                ][:2]
                                or [q.get("topic")],
                                "corrected": answer.corrected,
                                "topic": answer.topic,
                            }
                        )
        finally:
            await store.close()
    return {
        "stories": len(stories),
        "real": sum(s.real for s in stories.values()),
        "distractors": args.distractors,
        "seed": args.seed,
        "queries": len(queries),
        "build_seconds": round(build_s, 1),
        "scores": {
            s: {
                k: {
                    "n": v.n,
                    "hit@1": round(v.hit(1), 3),
                    "hit@3": round(v.hit(3), 3),
                    "mrr": round(v.mrr, 3),
                    "misses@1": v.misses(1),
                }
                for k, v in per.items()
            }
            for s, per in scores.items()
        },
        "misses": misses,
    }


def targets(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    sc = result["scores"]
    nb = sc["newsbot"]["overall"]
    out = [
        ("overall hit@1 >= 0.90", nb["hit@1"] >= TARGET_HIT1, f"{nb['hit@1']:.3f}"),
        ("overall hit@3 >= 0.97", nb["hit@3"] >= TARGET_HIT3, f"{nb['hit@3']:.3f}"),
    ]
    for k in KINDS:
        mine = sc["newsbot"][k]["misses@1"]
        better = min(sc["wratio"][k]["misses@1"], sc["bm25"][k]["misses@1"])
        out.append(
            (
                f"{k}: misses@1 <= half of better baseline's",
                mine <= better / 2,
                f"{mine} vs {better}",
            )
        )
    return out


def print_report(result: dict[str, Any], show_misses: bool) -> None:
    print("NOT THE JUDGE: old questions (bench/relevance_queries.yaml); see bench.relevance")
    print(
        f"store: {result['stories']:,} stories ({result['real']} real + "
        f"{result['distractors']:,} near-neighbour distractors, seed {result['seed']}), "
        f"{result['queries']} questions; built in {result['build_seconds']}s"
    )
    print(
        "judging: topic → any story of the topic; entity → a listed story or a generated "
        "story naming the entity; others → a listed story (a collapsed hit counts if any "
        "of its records is listed)"
    )
    print()
    head = f"{'kind':<9} {'n':>4} | " + " | ".join(
        f"{s:^22}" for s in ("newsbot", "wratio", "bm25")
    )
    print(head)
    print(f"{'':<9} {'':>4} | " + " | ".join(f"{'hit@1  hit@3   MRR':^22}" for _ in range(3)))
    print("-" * len(head))
    for k in (*KINDS, "overall"):
        cells = []
        for s in ("newsbot", "wratio", "bm25"):
            v = result["scores"][s][k]
            cells.append(f"{v['hit@1']:5.2f}  {v['hit@3']:5.2f}  {v['mrr']:5.2f} ")
        n = result["scores"]["newsbot"][k]["n"]
        print(f"{k:<9} {n:>4} | " + " | ".join(f"{c:^22}" for c in cells))
    print()
    for name, ok, detail in targets(result):
        print(f"  [{'met' if ok else 'MISSED'}] {name} ({detail})")
    if show_misses:
        print("\nnewsbot misses at hit@1:")
        for m in result["misses"]:
            print(
                f"- [{m['kind']}] {m['q']!r} rank={m['rank']} topic={m['topic']} "
                f"corrected={m['corrected']}"
            )
            for g in m["got"]:
                print(f"    got:      {g[:110]}")
            for e in m["expected"]:
                print(f"    expected: {str(e)[:110]}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.relevance --legacy", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--distractors", type=int, default=2000, help="near-neighbour distractors (2000)"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--misses", action="store_true", help="list newsbot's misses at hit@1")
    args = ap.parse_args(argv)
    if not CORPUS.is_dir():
        print(
            f"bench.relevance: corpus folder {CORPUS} is absent; nothing to measure.",
            file=sys.stderr,
        )
        return 0
    result = asyncio.run(run(args))
    result["judge"] = False  # these figures decide nothing: bench.relevance's real set does
    if args.json:
        if not args.misses:
            result = {k: v for k, v in result.items() if k != "misses"}
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_report(result, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
