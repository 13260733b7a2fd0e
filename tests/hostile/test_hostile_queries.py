"""Hostile questions: arbitrary unicode, FTS5 syntax, SQL, huge and empty input.

Family "questions" of the hostile suite (issue 7; counted by bench/faults.py).
Each question gets an answer or "no match" in bounded time, never an exception
and never a swallowed SQL error (`Searcher` turns those into a notice and a log
line, so both are checked), and the store is intact afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpusgen import generate_records, write_records
from bot.core.loader import load_paths
from bot.core.search.searcher import Answer, Searcher
from bot.core.settings import Settings
from bot.core.store import Store, open_store
from tests.helpers import DATA_DIR

FAMILY = "questions"

MAX_SECONDS = 1.0  # per question, on a shared 2-core box; real answers take milliseconds
MAX_CHARS = Settings().max_query_chars
UNAVAILABLE = "unavailable"  # Searcher's notice when it swallowed an error

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Bench:
    """One store and searcher, driven from a private event loop (hypothesis tests are sync)."""

    loop: asyncio.AbstractEventLoop
    store: Store
    searcher: Searcher
    db: Path
    articles: int
    schema: list[tuple[Any, ...]]
    log: _Collect

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout=30))


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("hostile-questions")
    write_records(generate_records(1500, seed=11), root / "generated")
    loop = asyncio.new_event_loop()

    async def open_loaded() -> Store:
        store = await open_store(root / "q.db")
        await load_paths(store, [DATA_DIR, root / "generated"], workers=1)
        return store

    store = loop.run_until_complete(open_loaded())
    searcher = Searcher(store, max_query_chars=MAX_CHARS)
    loop.run_until_complete(searcher.refresh(force=True))
    handler = _Collect()
    for name in ("bot.core.search.searcher", "bot.core.search.query", "bot.core.search.vocab"):
        logging.getLogger(name).addHandler(handler)
    with sqlite3.connect(root / "q.db") as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    assert articles >= 1500
    b = Bench(loop, store, searcher, root / "q.db", articles, schema, handler)
    try:
        yield b
    finally:
        for name in ("bot.core.search.searcher", "bot.core.search.query", "bot.core.search.vocab"):
            logging.getLogger(name).removeHandler(handler)
        loop.run_until_complete(store.close())
        loop.close()
        # After every hostile question of the module: nothing dropped, nothing changed.
        with sqlite3.connect(root / "q.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == articles
            assert (
                conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
                == schema
            )


def ask(bench: Bench, question: str) -> Answer:
    """Ask, and assert the answer is a real one: in time, well-formed, no hidden error."""
    before = len(bench.log.records)
    started = time.perf_counter()
    answer = bench.run(bench.searcher.ask(question, limit=10))
    took = time.perf_counter() - started
    assert took < MAX_SECONDS, f"{took:.2f}s for {question[:60]!r}"
    assert isinstance(answer, Answer)
    assert UNAVAILABLE not in (answer.notice or ""), (question[:80], answer.notice)
    assert bench.log.records[before:] == [], [r.getMessage() for r in bench.log.records[before:]]
    assert len(answer.query) <= MAX_CHARS
    assert len(answer.hits) <= 10
    assert all(h.article_id >= 1 for h in answer.hits)
    assert len({h.article_id for h in answer.hits}) == len(answer.hits)
    if answer.hits:
        assert answer.suggestions == []
        assert all(isinstance(h.title, str) and h.title for h in answer.hits)
    else:
        assert len(answer.suggestions) <= 3
    if len(question) > MAX_CHARS:
        assert answer.notice and str(MAX_CHARS) in answer.notice
    return answer


def complete(bench: Bench, typed: str) -> list[tuple[str, str]]:
    before = len(bench.log.records)
    started = time.perf_counter()
    choices = bench.run(bench.searcher.autocomplete(typed, limit=25))
    assert time.perf_counter() - started < MAX_SECONDS
    assert bench.log.records[before:] == [], [r.getMessage() for r in bench.log.records[before:]]
    assert len(choices) <= 25
    for label, value in choices:
        assert 1 <= len(label) <= 100 and 1 <= len(value) <= 100
    return choices


def topics(bench: Bench, typed: str) -> None:
    names = bench.run(bench.searcher.topic_choices(typed, limit=25))
    assert len(names) <= 25 and all(isinstance(n, str) for n in names)
    resolved = bench.run(bench.searcher.resolve_topic(typed))
    assert resolved is None or isinstance(resolved, str)


# -- the named attacks ------------------------------------------------------------

NAMED = [
    "'; DROP TABLE articles; --",
    '"; DELETE FROM articles; --',
    "ibm' OR '1'='1",
    "1; ATTACH DATABASE '/tmp/x.db' AS x; --",
    'ibm" OR "1"="1',
    '"',
    '""',
    '"""',
    '"unbalanced quote',
    "*",
    "ibm*",
    "* ibm *",
    "NEAR(",
    "NEAR(ibm facial, 2)",
    "NEAR(ibm",
    "ibm AND OR NOT facial",
    "AND",
    "OR OR OR",
    "NOT",
    "NOT ibm",
    "title:ibm",
    "{title excerpt}: ibm",
    "col:term other:thing",
    ":",
    "^ibm",
    "^",
    "((ibm)",
    "())(",
    "(ibm OR facial) AND NOT (recognition)",
    "- ibm",
    "+ibm",
    "ibm -facial",
    "%",
    "_",
    "\\",
    "\\x00",
    "\x00",
    "ibm\x00facial",
    "\x1b[31mred\x1b[0m",
    "\x7f\x08\x0c",
    "",
    " ",
    "\t\n\r \u00a0\u2003\u3000",
    "?!.,;:",
    "what's the latest on",
    "e\u0301\u0301\u0301\u0301\u0301" * 40,
    "Z\u0351\u0352\u0353\u0354" * 60 + " ibm",
    "\u202eibm facial\u202c",
    "\u200f\u200e\u200b\u2060\ufeff",
    "مرحبا بالعالم أخبار",
    "שלום חדשות ibm",
    "🔥🚀💯 ibm 🤖",
    "👨‍👩‍👧‍👦" * 30,
    "\U0001f600" * 300,
    "ﷺ" * 300,
    "ǅ ß ﬁ İ",
    "\ud800 lone surrogate",
    "a" * 10_000,
    "ibm " * 25_000,
    "x" * 100_000,
    " ".join(f"w{i}ord" for i in range(20_000)),
    "ibm facial recognition " + "?" * 99_000,
    "<@123> @everyone <#789> <@&456>",
    "[x](javascript:alert(1))",
    "SELECT * FROM articles",
    "rowid = 1",
    "articles_fts MATCH 'x'",
    "0x41 1e999 -0 NaN inf",
]


@pytest.mark.parametrize("question", NAMED, ids=lambda q: repr(q[:24]))
def test_named_hostile_question(bench: Bench, question: str) -> None:
    ask(bench, question)
    complete(bench, question)
    topics(bench, question)


def test_long_input_is_cut_with_a_notice(bench: Bench) -> None:
    answer = ask(bench, "IBM facial recognition human rights " + "x " * 50_000)
    assert answer.notice is not None and "cut" in answer.notice and str(MAX_CHARS) in answer.notice
    # The words before the cut still count: the seed story is found.
    assert any("IBM" in h.title for h in answer.hits)


@pytest.mark.parametrize("question", ["", " ", "\t\n", "?!?", "the of and", "what is the"])
def test_empty_or_stopword_question_asks_for_more_words(bench: Bench, question: str) -> None:
    answer = ask(bench, question)
    assert answer.hits == [] and answer.suggestions == []
    assert answer.notice and "more words" in answer.notice


def test_sql_in_a_question_is_just_words(bench: Bench) -> None:
    ask(bench, "'; DROP TABLE articles; --")
    ask(bench, "ibm'); DELETE FROM articles_fts; --")
    with sqlite3.connect(bench.db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == bench.articles
        assert conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == bench.articles
    # …and the store still answers a real question.
    answer = ask(bench, "ibm facial recognition")
    assert answer.hits and "IBM" in answer.hits[0].title


# -- fuzzed -----------------------------------------------------------------------

FTS_BITS = [
    '"',
    "'",
    "*",
    "NEAR(",
    "NEAR",
    ")",
    "(",
    "AND",
    "OR",
    "NOT",
    ":",
    "^",
    "-",
    "+",
    "{",
    "}",
    "title:",
    "excerpt:",
    ",",
    ";",
    "--",
    "/*",
    "*/",
    "\\",
    "%",
    "_",
    "?",
    "DROP TABLE articles",
    "SELECT",
    "UNION",
    "1=1",
    "ibm",
    "facial",
    "recognition",
    "computer vision",
    "engadget",
    "ai",
    "the",
    "latest",
]
UNICODE_BITS = [
    "\u0301",
    "\u0336",
    "\u202e",
    "\u202d",
    "\u200b",
    "\u200d",
    "\u2066",
    "\ufeff",
    "\x00",
    "\x1b",
    "\x7f",
    "\u0085",
    "\u2028",
    "ﷺ",
    "🔥",
    "👨‍👩‍👧",
    "ß",
    "İ",
    "ǅ",
    "ا",
    "ש",
    "中文",
    "ー",
    "\U0010ffff",
    " ",
    "\t",
    "\n",
]

hostile_text = st.one_of(
    st.text(max_size=400),
    st.text(st.characters(codec="utf-8"), max_size=120),
    st.lists(st.sampled_from(FTS_BITS + UNICODE_BITS), max_size=40).map("".join),
    st.lists(st.sampled_from(FTS_BITS + UNICODE_BITS), max_size=40).map(" ".join),
    st.tuples(st.text(max_size=20), st.integers(301, 5000)).map(lambda t: (t[0] or "a") * t[1]),
)


@FUZZ
@given(hostile_text)
def test_any_question_answers_in_time_without_error(bench: Bench, question: str) -> None:
    ask(bench, question)


@FUZZ
@given(hostile_text)
def test_any_partial_input_autocompletes_without_error(bench: Bench, typed: str) -> None:
    complete(bench, typed)
    topics(bench, typed)


def test_store_is_intact_after_every_hostile_question(bench: Bench) -> None:
    """Runs last in this module: nothing any question above did changed the store."""
    with sqlite3.connect(bench.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == bench.articles
        assert conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == bench.articles
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    assert schema == bench.schema
    assert ask(bench, "ibm facial recognition").hits
