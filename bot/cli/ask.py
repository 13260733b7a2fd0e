"""`newsbot ask` and `newsbot topics`: the search from a terminal or a script.

`newsbot ask -` reads one question per line and writes one JSON object per
line (the shape scripts and dashboards rely on):

    {"query": ..., "hits": [{"url", "title", "provider", "published", "topics", "score"}, ...],
     "suggestions": [...]}
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.load import open_filled
from bot.core.search.searcher import Answer, Hit, Searcher
from bot.core.settings import Settings


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit in the JSON shape scripts rely on."""
    return {
        "url": hit.url,
        "title": hit.title,
        "provider": hit.provider,
        "published": hit.published.isoformat() if hit.published else None,
        "topics": list(hit.topics),
        "score": hit.score,
    }


def answer_json(answer: Answer, *, full: bool = False) -> dict[str, Any]:
    """An answer as JSON; `full` adds how the question was understood."""
    out: dict[str, Any] = {
        "query": answer.query,
        "hits": [hit_json(h) for h in answer.hits],
        "suggestions": list(answer.suggestions),
    }
    if full:
        out.update(
            cleaned=answer.cleaned,
            notice=answer.notice,
            corrected=answer.corrected,
            topic=answer.topic,
        )
    return out


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
            print(f"   {h.provider or 'unknown outlet'} · {when} · score {h.score:.2f}{more}")
            print(f"   {h.url}")
        return
    if answer.cleaned:
        print("No good match.")
    if answer.suggestions:
        print("Did you mean: " + " | ".join(answer.suggestions))


async def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
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
    store = await open_filled(settings)
    try:
        searcher = Searcher(store, max_query_chars=settings.max_query_chars)
        if from_stdin:
            for line in sys.stdin:
                q = line.rstrip("\r\n")
                if not q.strip():
                    continue
                answer = await searcher.ask(q, limit=limit)
                print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
            return 0
        answer = await searcher.ask(question, limit=limit)
    finally:
        await store.close()
    if args.json:
        print(json.dumps(answer_json(answer, full=True), ensure_ascii=False))
    else:
        print_answer(answer)
    return 0


async def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    """`newsbot topics`: every topic with its story count."""
    store = await open_filled(settings)
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
