"""`newsbot ask` and `newsbot topics`: the search from a terminal or a script.

`newsbot ask -` reads one question per line and writes one JSON object per
line, always one per line read (a blank line gets no hits and a `notice`), in
the shape `ask --json` prints too (the one scripts and dashboards rely on):

    {"query": ..., "hits": [{"url", "title", "provider", "published", "topics", "score"}, ...],
     "suggestions": [...], "cleaned": ..., "notice": ..., "corrected": {...}, "topic": ...,
     "took_ms": ...}

`score` is within 0..1; `took_ms` is the time the search took, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bot.cli.load import open_filled
from bot.core.search.searcher import Answer, Hit, Searcher
from bot.core.settings import Settings
from bot.core.store import Store
from bot.replies.news import empty_store_text

EMPTY_QUESTION = "The question is empty."


def add_ask_options(p: argparse.ArgumentParser) -> None:
    """`newsbot ask`'s arguments."""
    p.add_argument("question", nargs="+", help="the question, or - for standard input")
    p.add_argument("--limit", type=int, default=5, help="hits to show (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")


def score(hit: Hit) -> float:
    """The hit's score as shown: within 0..1, three decimals."""
    return round(min(max(float(hit.score), 0.0), 1.0), 3)


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit in the JSON shape scripts rely on."""
    return {
        "url": hit.url,
        "title": hit.title,
        "provider": hit.provider,
        "published": hit.published.isoformat() if hit.published else None,
        "topics": list(hit.topics),
        "score": score(hit),
    }


def answer_json(answer: Answer, *, took_ms: float) -> dict[str, Any]:
    """An answer as JSON: the hits, and how the question was understood; the same keys
    for `ask --json` and each line of `ask -`."""
    return {
        "query": answer.query,
        "hits": [hit_json(h) for h in answer.hits],
        "suggestions": list(answer.suggestions),
        "cleaned": answer.cleaned,
        "notice": answer.notice,
        "corrected": answer.corrected,
        "topic": answer.topic,
        "took_ms": round(took_ms, 1),
    }


async def store_is_empty(store: Store) -> bool:
    """True when the store holds no stories (every answer would be "no match")."""
    return (await store.stats())["stories"] == 0


async def timed_ask(searcher: Searcher, question: str, limit: int) -> tuple[Answer, float]:
    """The answer to `question` and the milliseconds it took; a blank question is
    answered without searching (no hits, a notice)."""
    if not question.strip():
        return Answer(
            query=question, cleaned="", hits=[], suggestions=[], notice=EMPTY_QUESTION
        ), 0.0
    started = time.perf_counter()
    answer = await searcher.ask(question, limit=limit)
    return answer, (time.perf_counter() - started) * 1000


def print_answer(answer: Answer) -> None:
    """An answer for a person: numbered hits, or what to try instead."""
    if answer.notice:
        print(answer.notice)
    if answer.corrected:
        fixes = ", ".join(f"{k} → {v}" for k, v in answer.corrected.items())
        print(f"(searched with corrections: {fixes})")
    if answer.hits:
        for n, h in enumerate(answer.hits, start=1):
            when = f"{h.published:%Y-%m-%d}" if h.published else "undated"
            more = f", +{len(h.also)} more coverage" if h.also else ""
            print(f"{n}. {h.title}")
            print(f"   {h.provider or 'unknown outlet'} · {when} · score {score(h):.2f}{more}")
            print(f"   {h.url}")
        return
    if answer.cleaned:
        print("No good match.")
    if answer.suggestions:
        print("Did you mean: " + " | ".join(answer.suggestions))


async def cmd_ask(args: argparse.Namespace, settings: Settings, *, autoload: bool = True) -> int:
    """`newsbot ask QUESTION` (or `-`: one question per line, one JSON line each)."""
    words = list(args.question)
    limit = int(args.limit)
    if limit < 1 or limit > 50:
        print("newsbot ask: --limit must be between 1 and 50", file=sys.stderr)
        return 2
    from_stdin = words == ["-"]
    question = " ".join(words).strip()
    if not from_stdin and not question:
        print("newsbot ask: the question is empty", file=sys.stderr)
        return 2
    store = await open_filled(settings, autoload=autoload)
    try:
        searcher = Searcher(store, max_query_chars=settings.max_query_chars)
        if from_stdin:
            # One JSON line per input line, blank ones included, so answers line up.
            for line in sys.stdin:
                answer, took = await timed_ask(searcher, line.rstrip("\r\n"), limit)
                print(json.dumps(answer_json(answer, took_ms=took), ensure_ascii=False), flush=True)
            return 0
        answer, took = await timed_ask(searcher, question, limit)
        empty = await store_is_empty(store)
    finally:
        await store.close()
    if args.json:
        print(json.dumps(answer_json(answer, took_ms=took), ensure_ascii=False))
    elif empty:
        print(empty_store_text(settings.data_dir))
    else:
        print_answer(answer)
    return 0


async def cmd_topics(args: argparse.Namespace, settings: Settings, *, autoload: bool = True) -> int:
    """`newsbot topics`: every topic with its story count."""
    store = await open_filled(settings, autoload=autoload)
    try:
        topics = await store.topics()
    finally:
        await store.close()
    if args.json:
        print(json.dumps([{"topic": name, "stories": n} for name, n in topics], ensure_ascii=False))
        return 0
    if not topics:
        print("No topics yet: load some stories first (newsbot load PATH).")
        return 0
    width = max(len(name) for name, _ in topics)
    for name, n in topics:
        print(f"{name:<{width}}  {n:>6}")
    return 0
