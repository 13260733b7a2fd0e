"""The real-question dev set (bench/data/questions.yaml) and the real store it is asked of.

Questions: written by hand over the 69 real records (../shared/corpus/smartable/) and
the seed record; see the data file's header for how. Each story's questions are all
``dev`` or all ``test``.

Store (`build_store`): the real records; every `related` entry of every record as a
story of its own (other outlets' coverage of the same event: real headlines, the
nearest distractors there are), deduplicated by canonical URL, skipping those that
are themselves real records; optionally N generated near-neighbours
(bench.corpusgen: other events about the same entities, topics and outlets).

What counts as a hit, per question (`Judge`):

* **event** (the judge): the answer is the hit's own story, or one of the records the
  hit collapsed into its ``also``, or the hit is a syndicated copy of the answer (a
  `related` entry of the answer carrying the same headline: fuzz.ratio of the
  processed titles >= 92, the same test newsbot's collapsing applies). A member shown
  any of these was shown the story.
* **strict**: the hit's own story is the answer record, nothing else.

Methods that do not collapse (the bm25 baselines) are judged with the same rules.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, utils

from bench.corpusgen import generate_articles
from bot.core.records import Article, canonical_url, parse_file, scan_paths
from bot.core.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "smartable"
SEED = (
    ROOT
    / "data"
    / "articles"
    / "2020-06-09-ibm-stops-work-on-facial-recognition-over-human-rights-concerns.md"
)
STORE_CODE = ROOT / "bot" / "core" / "store"
QUESTIONS = Path(__file__).with_name("data") / "questions.yaml"
KINDS = (
    "question",
    "paraphrase",
    "typo",
    "entity",
    "title",
    "topic",
    "excerpt",
    "short",
    "chatty",
    "synonym",
)
SPLITS = ("dev", "test")
SAME_HEADLINE = 92  # fuzz.ratio on processed titles: the same headline, syndicated
RECIPE = "real-v1"  # bump when the store's recipe changes, so cached stores are rebuilt


class QuestionFileError(ValueError):
    """The question file is malformed; ``str()`` names the file and the entry."""


@dataclass(frozen=True, slots=True)
class RealQuestion:
    """One question a member types, and the record that answers it."""

    question: str
    kind: str
    answer: str  # the answer record's webUrl, as the record gives it
    split: str  # "dev" or "test"


def load_questions(path: Path = QUESTIONS, split: str | None = None) -> list[RealQuestion]:
    """Every question of the file (or of one split), checked: kinds, splits, no duplicates."""
    if split is not None and split not in SPLITS:
        raise QuestionFileError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise QuestionFileError(f"{path}: cannot read: {e}") from e
    if not isinstance(data, list):
        raise QuestionFileError(f"{path}: expected a list of stories, got {type(data).__name__}")
    out: list[RealQuestion] = []
    answers: set[str] = set()
    for n, story in enumerate(data, start=1):
        where = f"{path}: story {n}"
        if not isinstance(story, dict):
            raise QuestionFileError(f"{where}: expected a mapping, got {type(story).__name__}")
        answer, spl, questions = story.get("answer"), story.get("split"), story.get("questions")
        if not isinstance(answer, str) or not answer.startswith(("http://", "https://")):
            raise QuestionFileError(f"{where}: `answer` must be the record's webUrl")
        where = f"{path}: story {n} ({answer})"
        if canonical_url(answer) in answers:
            raise QuestionFileError(f"{where}: the same answer appears twice")
        answers.add(canonical_url(answer))
        if spl not in SPLITS:
            raise QuestionFileError(f"{where}: `split` must be one of {', '.join(SPLITS)}")
        if not isinstance(questions, list) or not questions:
            raise QuestionFileError(f"{where}: `questions` must be a non-empty list")
        for m, q in enumerate(questions, start=1):
            if not isinstance(q, dict):
                raise QuestionFileError(f"{where}, question {m}: expected a mapping")
            kind, text = q.get("kind"), q.get("question")
            if kind not in KINDS:
                raise QuestionFileError(
                    f"{where}, question {m}: kind {kind!r} is not one of {', '.join(KINDS)}"
                )
            if not isinstance(text, str) or not text.strip():
                raise QuestionFileError(f"{where}, question {m}: `question` must be text")
            if split is None or spl == split:
                out.append(RealQuestion(text.strip(), kind, answer, spl))
    return out


def real_records(corpus: Path = CORPUS, seed: Path = SEED) -> list[Article]:
    """The real records and the seed. Every one must load: a failure names its file."""
    found = scan_paths([corpus, seed])
    if found.errors:
        raise found.errors[0]
    out: dict[str, Article] = {}
    for f in found.files:
        a = parse_file(f)  # a RecordError names the file: the corpus must load whole
        out.setdefault(a.canonical_url, a)
    return list(out.values())


def related_stories(records: Iterable[Article]) -> list[Article]:
    """Each record's related coverage as stories of their own, once per URL; entries that
    are themselves records are left to the record."""
    records = list(records)
    known = {a.canonical_url for a in records}
    out: list[Article] = []
    for a in records:
        for r in a.related:
            key = canonical_url(r.url)
            if key in known or not r.title.strip():
                continue
            known.add(key)
            out.append(
                Article(
                    title=r.title,
                    url=r.url,
                    excerpt=r.excerpt,
                    published=r.published,
                    provider=r.provider,
                    quality=r.quality,
                )
            )
    return out


def missing_answers(questions: Iterable[RealQuestion], records: Iterable[Article]) -> list[str]:
    """Answer URLs that are no record's webUrl (empty when the file matches the corpus)."""
    urls = {a.url for a in records}
    return sorted({q.answer for q in questions if q.answer not in urls})


def _same_headline(a: str, b: str) -> bool:
    return fuzz.ratio(utils.default_process(a), utils.default_process(b)) >= SAME_HEADLINE


@dataclass(frozen=True, slots=True)
class StoryInfo:
    """What the judging needs to know of a stored story."""

    id: int
    url: str  # canonical
    title: str
    origin: str  # "real", "related" or "generated"


@dataclass(slots=True)
class RealStore:
    """A built store file and what is in it."""

    path: Path
    stories: dict[int, StoryInfo]
    by_url: dict[str, int]  # canonical URL → id
    events: dict[str, frozenset[int]]  # answer webUrl → ids that count as the event
    generated: int

    def count(self, origin: str) -> int:
        """How many stories of that origin the store holds."""
        return sum(1 for s in self.stories.values() if s.origin == origin)

    async def open(self) -> Store:
        """The store, opened through newsbot's driver."""
        return await open_store(self.path)


def cache_dir() -> Path:
    """Where built stores are kept between runs (the existing benches' folder)."""
    return Path(
        os.environ.get("NEWSBOT_BENCH_CACHE", Path(tempfile.gettempdir()) / "newsbot-bench")
    )


def _recipe_tag(records: Sequence[Article]) -> str:
    # The records, the generator and the code that writes a store all shape the file:
    # a change to any of them must not be measured on a store the old code built.
    h = hashlib.sha1(RECIPE.encode())
    for a in sorted(records, key=lambda a: a.canonical_url):
        h.update(a.content_hash().encode())
    # Vectors are not part of the base store (bench.embedded keys its own copies).
    store_code = [f for f in sorted(STORE_CODE.rglob("*.py")) if "embedding" not in f.name]
    writers = [Path(__file__).with_name("corpusgen.py"), *store_code]
    for f in writers:
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


async def _fill(path: Path, records: list[Article], generated: int, seed: int) -> None:
    tmp = path.with_suffix(".partial")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    store = await open_store(tmp)
    try:
        fake = generate_articles(generated, seed, near=records, near_share=1.0) if generated else []
        async with store.transaction() as tx:
            await tx.upsert_articles(records)
            await tx.upsert_articles(related_stories(records))
            for i in range(0, len(fake), 2000):
                await tx.upsert_articles(fake[i : i + 2000])
            await tx.bump_generation()
    finally:
        await store.close()
    checkpoint(tmp)
    tmp.replace(path)


async def cached_real_store(
    generated: int = 0, seed: int = 1, *, records: list[Article] | None = None, quiet: bool = True
) -> Path:
    """Path of the cached store file (real + related + `generated`), built on first use.
    Keyed by the corpus's content, so an edited record rebuilds it."""
    records = real_records() if records is None else records
    path = cache_dir() / f"{RECIPE}-{_recipe_tag(records)}-g{generated}-s{seed}.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        await _fill(path, records, generated, seed)
        if not quiet:
            print(
                f"  built real store (+{generated:,} generated) in "
                f"{time.perf_counter() - t0:.0f}s: {path}",
                file=sys.stderr,
            )
    return path


async def build_store(
    folder: Path, generated: int = 0, seed: int = 1, *, quiet: bool = True
) -> RealStore:
    """A private copy of the cached real store (plus `generated` stories) in `folder`."""
    records = real_records()
    cached = await cached_real_store(generated, seed, records=records, quiet=quiet)
    return copy_store(cached, folder, generated, records=records)


def copy_store(
    source: Path, folder: Path, generated: int, *, records: list[Article] | None = None
) -> RealStore:
    """A private copy of a built store file in `folder` (so a run's writes never touch
    the cache), with the judging's view of it."""
    records = real_records() if records is None else records
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / source.name
    shutil.copyfile(source, path)
    real_urls = {a.canonical_url for a in records}
    related_urls = {canonical_url(r.url) for a in records for r in a.related}
    stories: dict[int, StoryInfo] = {}
    with closing(sqlite3.connect(path)) as db:
        for aid, url, title in db.execute("SELECT id, url, title FROM articles"):
            origin = (
                "real" if url in real_urls else "related" if url in related_urls else "generated"
            )
            stories[aid] = StoryInfo(aid, url, title, origin)
    by_url = {s.url: s.id for s in stories.values()}
    events: dict[str, frozenset[int]] = {}
    for a in records:
        ids = {by_url[a.canonical_url]}
        for r in a.related:
            rid = by_url.get(canonical_url(r.url))
            if rid is not None and _same_headline(r.title, a.title):
                ids.add(rid)
        events[a.url] = frozenset(ids)
    return RealStore(path, stories, by_url, events, generated)


def checkpoint(path: Path) -> None:
    """Fold the WAL into the file and drop it, so the file alone is the store."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Judge:
    """Ranks of the answer in a method's results, by both rules (see module docstring)."""

    def __init__(self, store: RealStore, depth: int = 10) -> None:
        self.store = store
        self.depth = depth

    def ranks(self, q: RealQuestion, ranked: Sequence[Sequence[int]]) -> tuple[int | None, ...]:
        """(event rank, strict rank), 1-based, None when not in the first `depth` results.
        `ranked`: per result, its story's id first, then the ids it collapsed."""
        answer = self.store.by_url[canonical_url(q.answer)]
        event = self.store.events[q.answer]
        ev = st = None
        for pos, group in enumerate(ranked[: self.depth], start=1):
            if ev is None and any(i in event for i in group):
                ev = pos
            if st is None and group and group[0] == answer:
                st = pos
        return ev, st


def describe(store: RealStore) -> dict[str, Any]:
    """Counts of the store's stories by origin."""
    return {
        "stories": len(store.stories),
        "real": store.count("real"),
        "related": store.count("related"),
        "generated": store.count("generated"),
    }
