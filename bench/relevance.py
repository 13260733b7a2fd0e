"""Relevance of `newsbot ask` on real questions, beside two bm25 baselines, in one run.

Questions: bench/data/questions.yaml (written by hand over the real records; see its
header), reported for the dev and the test split separately, and per kind.

Stores (bench.realset): "real", the real records plus their related coverage as
stories of their own (real near-duplicates: other outlets' headlines of the same
events); "real+N", the same plus N generated near-neighbours (bench.corpusgen: other
events about the same entities; the issue's anchor is 20,000).

Methods, same store, same judging:
  (a) bm25       FTS5 bm25 over title + excerpt, the question's words OR-ed: the
                 baseline, every ratio is to it; its own sqlite3 connection
  (b) bm25f      FTS5 bm25 over title / excerpt / topics / related headlines, 10/2/4/3
  (c) newsbot    `Searcher.ask` as it is in this checkout: NEWSBOT_EMBEDDINGS off, and
                 the default model (or --models a,b), with the store embedded first

Judging (bench.realset): "event" is the judge (the answer is the hit, was collapsed
into it, or the hit is a syndicated copy with the same headline); "strict" (the hit's
own story is the answer record) is printed beside it where the two differ.

    python -m bench.relevance [--generated 20000] [--models off,all-minilm-l6-v2]
                              [--split dev|test] [--json] [--misses]
    python -m bench.relevance --legacy [...]   # old figures, NOT the judge

`--misses` lists misses of the dev split only: the test split is for reporting, and
reading its misses is tuning on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import relevance_legacy
from bench.embedded import OFF, embedded_copy, make_searcher, variants
from bench.realset import (
    CORPUS,
    KINDS,
    SPLITS,
    Judge,
    RealQuestion,
    RealStore,
    cached_real_store,
    copy_store,
    describe,
    load_questions,
    real_records,
)
from bot.core.records import canonical_url

DEPTH = 10  # ranks looked at (MRR, misses)
PLAIN = {"title": 1.0, "excerpt": 1.0}
FIELDS = {"title": 10.0, "excerpt": 2.0, "topics": 4.0, "related": 3.0}
RULES = ("event", "strict")
# The targets, on the held-out split.
TARGET_HIT1, TARGET_HIT3, TARGET_KIND, TARGET_SYNONYM, TARGET_GENERATED = (
    0.96,
    0.98,
    0.85,
    0.75,
    0.87,
)

Table = dict[str, dict[str, dict[str, "Score"]]]  # split → rule → kind → Score


class Bm25:
    """FTS5 bm25 over some of the store's FTS columns, the question's words OR-ed."""

    def __init__(self, path: Path, weights: dict[str, float]) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        cols = [r[1] for r in self.db.execute("PRAGMA table_info(articles_fts)")]
        self.filter = "{" + " ".join(c for c in cols if c in weights) + "}"
        weight_list = ", ".join(str(weights.get(c, 0.0)) for c in cols)
        self.sql = (
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
            f" ORDER BY bm25(articles_fts, {weight_list}) LIMIT ?"
        )

    def __call__(self, question: str) -> list[list[int]]:
        words = list(dict.fromkeys(re.findall(r"\w+", question.casefold())))
        if not words:
            return []
        match = f"{self.filter} : (" + " OR ".join(f'"{w}"' for w in words) + ")"
        return [[r[0]] for r in self.db.execute(self.sql, (match, DEPTH))]

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


@dataclass(slots=True)
class Score:
    """Ranks of the answer (None: not in the first DEPTH) over some questions."""

    ranks: list[int | None] = field(default_factory=list)

    def hit(self, k: int) -> float:
        """Share of the questions answered within the first k results."""
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(1, len(self.ranks))

    def summary(self) -> dict[str, float]:
        """n, hit@1, hit@3, MRR."""
        mrr = sum(1 / r for r in self.ranks if r is not None) / max(1, len(self.ranks))
        return {
            "n": len(self.ranks),
            "hit@1": round(self.hit(1), 3),
            "hit@3": round(self.hit(3), 3),
            "mrr": round(mrr, 3),
        }


def _table() -> Table:
    return {s: {r: {k: Score() for k in (*KINDS, "overall")} for r in RULES} for s in SPLITS}


def _add(table: Table, q: RealQuestion, ranks: tuple[int | None, int | None]) -> None:
    for rule, rank in zip(RULES, ranks, strict=True):
        table[q.split][rule][q.kind].ranks.append(rank)
        table[q.split][rule]["overall"].ranks.append(rank)


def _summaries(table: Table) -> dict[str, Any]:
    return {
        s: {r: {k: v.summary() for k, v in per.items() if v.ranks} for r, per in t.items()}
        for s, t in table.items()
    }


async def measure_store(
    generated: int, seed: int, models: list[str], folder: Path, questions: list[RealQuestion]
) -> dict[str, Any]:
    """Every method on one store: figures per method, split, rule and kind."""
    records = real_records()
    base = await cached_real_store(generated, seed, records=records, quiet=False)
    tables: dict[str, Table] = {}
    notes: dict[str, str] = {}
    misses: list[dict[str, Any]] = []
    first = copy_store(base, folder / "baselines", generated, records=records)
    judge = Judge(first, DEPTH)
    for name, weights in (("bm25", PLAIN), ("bm25f", FIELDS)):
        method = Bm25(first.path, weights)
        try:
            tables[name] = _table()
            for q in questions:
                _add(tables[name], q, judge.ranks(q, method(q.question)))
        finally:
            method.close()
    for model in models:
        name = f"newsbot[{model}]"
        src, error = await embedded_copy(base, model, quiet=False)
        if error:
            notes[name] = f"not measured, the model did not load: {error}"
            continue
        rs = copy_store(src, folder / name, generated, records=records)
        tables[name] = _table()
        t0 = time.perf_counter()
        embedded = await _run_newsbot(rs, model, questions, tables[name], misses)
        took = time.perf_counter() - t0
        notes[name] = f"{took / max(1, len(questions)) * 1000:.0f} ms a question" + (
            f"; {embedded:,} of {len(rs.stories):,} stories embedded" if model != OFF else ""
        )
    return {
        "store": describe(first),
        "methods": {m: _summaries(t) for m, t in tables.items()},
        "notes": notes,
        "misses": misses,
    }


async def _run_newsbot(
    rs: RealStore,
    model: str,
    questions: list[RealQuestion],
    table: Table,
    misses: list[dict[str, Any]],
) -> int:
    """Ask every question; returns how many stories the searcher had vectors for."""
    store = await rs.open()
    try:
        searcher = make_searcher(store, model)
        await searcher.refresh(force=True)
        judge = Judge(rs, DEPTH)
        for q in questions:
            answer = await searcher.ask(q.question, limit=DEPTH)
            ranked = [[h.article_id, *h.also] for h in answer.hits]
            ranks = judge.ranks(q, ranked)
            _add(table, q, ranks)
            if q.split == "dev" and ranks[0] != 1:
                misses.append(
                    {
                        "method": f"newsbot[{model}]",
                        "kind": q.kind,
                        "question": q.question,
                        "rank": ranks[0],
                        "expected": rs.stories[rs.by_url[canonical_url(q.answer)]].title,
                        "got": [rs.stories[g[0]].title for g in ranked[:3]],
                    }
                )
        semantic = getattr(searcher, "semantic", None)  # absent before issue 12
        return int(getattr(semantic, "embedded", 0) or 0)
    finally:
        await store.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both stores, every method; one JSON-able result."""
    questions = load_questions()
    models = variants(args.models)
    sizes = [0] + ([args.generated] if args.generated else [])
    out: dict[str, Any] = {
        "judge": True,
        "questions": {s: sum(1 for q in questions if q.split == s) for s in SPLITS},
        "depth": DEPTH,
        "stores": {},
    }
    with tempfile.TemporaryDirectory(prefix="newsbot-relevance-") as tmp:
        for n in sizes:
            label = "real" if n == 0 else f"real+{n}"
            out["stores"][label] = await measure_store(
                n, args.seed, models, Path(tmp) / label, questions
            )
    return out


# -- report --------------------------------------------------------------------------


def _cell(m: dict[str, Any], split: str, kind: str = "overall") -> str:
    ev = m[split]["event"].get(kind)
    st = m[split]["strict"].get(kind)
    if ev is None:
        return f"{'-':^17}"
    text = f"{ev['hit@1']:.3f} {ev['hit@3']:.3f}"
    if st and (st["hit@1"], st["hit@3"]) != (ev["hit@1"], ev["hit@3"]):
        return f"{text} [{st['hit@1']:.2f}]"
    return f"{text}       "


def _hit1(m: dict[str, Any], split: str) -> float:
    return m[split]["event"]["overall"]["hit@1"]


def print_report(result: dict[str, Any], splits: Sequence[str], show_misses: bool) -> None:
    """Tables for people: overall per store, then per kind on the real store."""
    qn = result["questions"]
    print(
        f"real questions: {', '.join(f'{s} {qn[s]}' for s in SPLITS)} "
        "(bench/data/questions.yaml; hand-written, split by story)"
    )
    print(
        "judge: event = the answer is the hit, collapsed into it, or a same-headline copy;"
        " [strict hit@1] where the hit's own story must be the answer record"
    )
    for label, res in result["stores"].items():
        st = res["store"]
        methods = res["methods"]
        print(
            f"\nstore {label}: {st['stories']:,} stories = {st['real']} real records + "
            f"{st['related']} related coverage + {st['generated']:,} generated"
        )
        head = f"  {'method':<26}" + "".join(f"| {s + ' hit@1 hit@3':<24}" for s in splits)
        print(head + "| hit@1 ×bm25")
        base = methods["bm25"]
        for name, m in methods.items():
            ratio = " ".join(f"{_hit1(m, s) / max(_hit1(base, s), 1e-9):.2f}" for s in splits)
            print(f"  {name:<26}" + "".join(f"| {_cell(m, s):<24}" for s in splits) + f"| {ratio}")
        for name, note in res["notes"].items():
            print(f"  note {name}: {note}")
    real = result["stores"]["real"]["methods"]
    print("\nper kind, store real, event hit@1 (" + " / ".join(splits) + "):")
    print(f"  {'kind (n)':<20}" + "".join(f"| {name:<22}" for name in real))
    for kind in (*KINDS, "overall"):
        cells = []
        for m in real.values():
            vals = [m[s]["event"].get(kind, {}).get("hit@1") for s in splits]
            cells.append(" / ".join("  -  " if v is None else f"{v:.3f}" for v in vals))
        n = "/".join(str(real["bm25"][s]["event"].get(kind, {}).get("n", 0)) for s in splits)
        print(f"  {kind + ' (' + n + ')':<20}" + "".join(f"| {c:<22}" for c in cells))
    print()
    for line in targets(result):
        print("  " + line)
    if show_misses:
        print("\nnewsbot's misses at hit@1, dev split only:")
        for label, res in result["stores"].items():
            for m in res["misses"]:
                print(f"- {label} {m['method']} [{m['kind']}] {m['question']!r} rank={m['rank']}")
                print(f"    expected: {m['expected'][:100]}")
                for g in m["got"]:
                    print(f"    got:      {g[:100]}")


def targets(result: dict[str, Any]) -> list[str]:
    """The issue's targets for each newsbot variant, on the test split (held out)."""
    out = []
    stores = result["stores"]
    for name, m in stores["real"]["methods"].items():
        if not name.startswith("newsbot"):
            continue
        t = m["test"]["event"]
        checks = [
            ("hit@1", t["overall"]["hit@1"], TARGET_HIT1),
            ("hit@3", t["overall"]["hit@3"], TARGET_HIT3),
        ]
        for kind in KINDS:
            if kind in t:
                goal = TARGET_SYNONYM if kind == "synonym" else TARGET_KIND
                checks.append((f"{kind} hit@1", t[kind]["hit@1"], goal))
        for label, res in stores.items():
            if label != "real" and name in res["methods"]:
                g = res["methods"][name]["test"]["event"]["overall"]["hit@1"]
                checks.append((f"{label} hit@1", g, TARGET_GENERATED))
        missed = [f"{k} {v:.3f} < {goal:.2f}" for k, v, goal in checks if v < goal]
        verdict = "met" if not missed else "MISSED"
        out.append(f"[{verdict}] {name} targets on test: " + ("; ".join(missed) or "all"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--legacy" in argv:
        argv.remove("--legacy")
        return relevance_legacy.main(argv)
    ap = argparse.ArgumentParser(
        prog="python -m bench.relevance", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--generated",
        type=int,
        default=20_000,
        help="generated near-neighbours of the second store (20000; 0: real store only)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--models", default=None, help="NEWSBOT_EMBEDDINGS values to measure (off + default)"
    )
    ap.add_argument("--split", choices=SPLITS, default=None, help="print one split only")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--misses", action="store_true", help="list newsbot's dev-split misses")
    ap.add_argument("--legacy", action="store_true", help="old figures, NOT the judge")
    args = ap.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"bench.relevance: corpus folder {CORPUS} is absent; nothing to measure.")
        return 0
    result = asyncio.run(run(args))
    if args.json:
        if not args.misses:
            for res in result["stores"].values():
                res.pop("misses")
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_report(result, [args.split] if args.split else list(SPLITS), args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
