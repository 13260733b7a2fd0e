"""Answering questions: typed text → the right stories, ranked, in milliseconds.

Pipeline of `Searcher.ask`:

1. `bot.query.parse`: cut, fold, drop stopwords and chat filler.
2. Each remaining word becomes a *concept*: the word, its inflections found in
   the store, a typo correction when the store does not know it, and a joined
   form when two words make one stored word ('cloud commerce' → cloudcommerce).
3. Candidates come from the FTS5 index, with bounded work: the rarer concepts
   OR-ed and ranked by bm25 (title > topics, provider > related > excerpt),
   plus "every concept present" AND queries, which stop after a page. A word
   in half of all stories is never scored across the whole index.
4. Candidates are reranked in Python: IDF-weighted coverage of the concepts by
   field, title similarity (rapidfuzz), topic/provider named in the question,
   then quality, heat and recency as tie-breakers.
5. Stories of one event (related links between stored stories, shared related
   links, near-identical titles) collapse into one hit.

The in-memory index (titles, topics, clusters, vocabulary) is rebuilt when
the store's generation changes; `ask` checks that at most once a second.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import math
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rapidfuzz import fuzz, process, utils

from bot import wordnet
from bot.query import Parsed, fts_string, is_stop, normalize_title, parse, tokenize
from bot.store import Store
from bot.vocab import Vocabulary, stem
from bot.wordnet import WordNet

log = logging.getLogger(__name__)

REFRESH_EVERY = 1.0  # seconds between generation checks in ask()
FTS_WEIGHTS = (10.0, 4.0, 4.0, 1.5, 3.0)  # title, topics, provider, excerpt, related
RARE_BUDGET = 4_000  # postings bm25 may score per question (~0.8 µs each)
PAGE = 120  # candidates per FTS query
RERANK = 300  # candidates ranked on their titles at most
FULL_RERANK = 80  # of those, read in full (excerpt, related headlines)
# How much naming a word counts, by where the story names it: a headline says
# what a story is about; other outlets' headlines and the excerpt say it less.
FIELD_VALUE = {"title": 1.0, "topics": 0.85, "provider": 0.85, "related": 0.8, "excerpt": 0.75}
SECOND_FIELD = 0.2  # bonus share when a word is named in a second field too
TITLE_SIM = 0.15  # weight of rapidfuzz title similarity beside word coverage
CUTOFF = 0.34  # below this a best hit is a guess, not an answer
NO_MORE_WORDS = "Please add a few more words: that question has nothing to search for."


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: int
    score: float
    title: str
    url: str
    provider: str | None
    published: datetime | None
    topics: tuple[str, ...]
    also: tuple[int, ...] = ()  # ids of other records of the same event, collapsed into this hit


@dataclass(frozen=True, slots=True)
class Answer:
    query: str  # as typed (possibly cut)
    cleaned: str  # after normalisation
    hits: list[Hit]
    suggestions: list[str]  # "did you mean" (titles or topic names), ≤3, when no hit
    notice: str | None = None
    corrected: dict[str, str] = field(default_factory=dict)  # typo → correction
    topic: str | None = None  # topic detected in the question, if any


# -- the in-memory index -------------------------------------------------------


@dataclass(slots=True)
class _Topic:
    name: str
    key: str
    words: tuple[str, ...]  # stems of its significant words
    acronym: str | None
    docs: list[int]  # doc positions, newest first


@dataclass(slots=True)
class _Provider:
    name: str
    phrase: str  # folded significant words, space-joined
    keys: frozenset[str]  # one-word forms: joined name, domain label


@dataclass(slots=True)
class _Index:
    generation: int
    ids: list[int]
    pos: dict[int, int]
    titles: list[str]
    links: list[str]
    provider: list[int]  # index into providers, -1 when none
    ts: list[float]  # published, epoch seconds; -inf when unknown
    quality: list[float]
    heat: list[float]
    doc_topics: list[tuple[int, ...]]
    cluster: list[int]  # position of the cluster's representative
    providers: list[_Provider]
    topics: list[_Topic]
    vocab: Vocabulary
    acronyms: dict[str, tuple[str, ...]]  # 'nlp' → ('natural', 'language', 'processing')
    title_keys: list[str]  # sorted normalised titles, for exact and prefix lookups
    title_pos: list[int]  # doc position of each title_keys entry
    ts_min: float = 0.0
    ts_max: float = 1.0

    def doc_time(self, i: int) -> datetime | None:
        t = self.ts[i]
        return None if t == -math.inf else datetime.fromtimestamp(t, UTC)


def _topic_entry(name: str, docs: list[int]) -> _Topic:
    words = [w for w in tokenize(name) if not is_stop(w)]
    sig = [w for w in tokenize(name) if w not in ("in", "of", "and", "the", "for")]
    # Only names of real words make an acronym ('Computer Vision' → cv); 'AI in Autos' makes none.
    acronym = "".join(w[0] for w in sig) if len(sig) >= 2 and all(
        w.isalpha() and len(w) >= 4 for w in sig) else None
    return _Topic(name=name, key=name.casefold(), words=tuple(stem(w) for w in words),
                  acronym=acronym, docs=docs)


def _provider_entry(name: str, domain: str) -> _Provider:
    words = [w for w in tokenize(name) if not is_stop(w)]
    keys = {"".join(words)} if words else set()
    label = domain.lower().removeprefix("www.").split(".")[0] if domain else ""
    if len(label) >= 4:
        keys.add(label)
    return _Provider(name=name, phrase=" ".join(words), keys=frozenset(k for k in keys if len(k) >= 3))


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


async def _rows(store: Store, sql: str, args: Sequence[object] = ()) -> list[tuple]:
    async with store.read.execute(sql, args) as cur:
        return list(await cur.fetchall())


async def _load_index(store: Store, generation: int) -> _Index:
    articles = await _rows(
        store,
        "SELECT a.id, a.title, a.link, a.provider_id, a.published_ts, a.quality, a.heat "
        "FROM articles a ORDER BY a.id",
    )
    provider_rows = await _rows(store, "SELECT id, name, domain FROM providers")
    topic_rows = await _rows(store, "SELECT id, name FROM topics")
    links = await _rows(store, "SELECT article_id, topic_id FROM article_topics ORDER BY article_id, position")
    # Stored stories that list each other (or one lists the other) as related coverage.
    pairs = await _rows(
        store, "SELECT r.article_id, a.id FROM related r JOIN articles a ON a.url = r.url"
    )
    shared = await _rows(
        store,
        "SELECT group_concat(article_id) FROM related GROUP BY url HAVING count(DISTINCT article_id) > 1",
    )
    vocab_rows = await _rows(store, "SELECT term, doc FROM articles_vocab")
    return await asyncio.to_thread(
        _build_index, generation, articles, provider_rows, topic_rows, links, pairs, shared, vocab_rows
    )


def _build_index(
    generation: int,
    articles: list[tuple],
    provider_rows: list[tuple],
    topic_rows: list[tuple],
    links: list[tuple],
    pairs: list[tuple],
    shared: list[tuple],
    vocab_rows: list[tuple],
) -> _Index:
    n = len(articles)
    ids = [r[0] for r in articles]
    pos = {aid: i for i, aid in enumerate(ids)}
    prov_pos: dict[int, int] = {}
    providers: list[_Provider] = []
    for pid, name, domain in provider_rows:
        prov_pos[pid] = len(providers)
        providers.append(_provider_entry(name, domain or ""))
    titles = [r[1] for r in articles]
    ts = [r[4] if r[4] is not None else -math.inf for r in articles]
    known_ts = [t for t in ts if t != -math.inf]

    topic_pos = {tid: k for k, (tid, _) in enumerate(topic_rows)}
    doc_topics_l: list[list[int]] = [[] for _ in range(n)]
    topic_docs: list[list[int]] = [[] for _ in topic_rows]
    for aid, tid in links:
        i, k = pos.get(aid), topic_pos.get(tid)
        if i is not None and k is not None:
            doc_topics_l[i].append(k)
            topic_docs[k].append(i)
    topics = []
    for k, (_, name) in enumerate(topic_rows):
        docs = sorted(topic_docs[k], key=lambda i: (ts[i], ids[i]), reverse=True)
        topics.append(_topic_entry(name, docs))

    uf = _UnionFind(n)
    for aid, other in pairs:
        a, b = pos.get(aid), pos.get(other)
        if a is not None and b is not None and a != b:
            uf.union(a, b)
    for (group,) in shared:
        members = [pos[int(x)] for x in str(group).split(",") if int(x) in pos]
        for m in members[1:]:
            uf.union(members[0], m)
    title_norm = [normalize_title(t) for t in titles]
    order = sorted(range(n), key=lambda i: (title_norm[i], -ts[i], -ids[i]))
    for a, b in itertools.pairwise(order):
        if title_norm[a] and title_norm[a] == title_norm[b]:
            uf.union(a, b)  # one headline, several outlets: one event

    df = {term: d for term, d in vocab_rows}
    return _Index(
        generation=generation,
        ids=ids,
        pos=pos,
        titles=titles,
        links=[r[2] for r in articles],
        provider=[prov_pos.get(r[3], -1) if r[3] is not None else -1 for r in articles],
        ts=ts,
        quality=[float(r[5]) if r[5] is not None else 50.0 for r in articles],
        heat=[float(r[6]) if r[6] is not None and r[6] >= 0 else 0.0 for r in articles],
        doc_topics=[tuple(t) for t in doc_topics_l],
        cluster=[uf.find(i) for i in range(n)],
        providers=providers,
        topics=topics,
        vocab=Vocabulary(df, n),
        acronyms=_acronyms(titles, topics),
        title_keys=[title_norm[i] for i in order],
        title_pos=order,
        ts_min=min(known_ts, default=0.0),
        ts_max=max(known_ts, default=1.0),
    )


_ACRONYM = re.compile(r"\(([A-Za-z][A-Za-z0-9]{1,7})\)")


def _acronyms(titles: Sequence[str], topics: Sequence[_Topic]) -> dict[str, tuple[str, ...]]:
    """Acronyms the stories define themselves: 'Natural Language Processing (NLP)'.

    The words before the parenthesis whose initials spell it (with or without
    the small words between them) are its expansion; the most frequent wins.
    Topic names made of full words add theirs ('Machine Learning' → ml).
    """
    counts: dict[str, dict[tuple[str, ...], int]] = {}
    for title in titles:
        if "(" not in title:
            continue
        for m in _ACRONYM.finditer(title):
            acr = m.group(1).lower()
            before = tokenize(title[: m.start()])[-(len(acr) + 3) :]
            for skip_small in (False, True):
                words = [w for w in before if not (skip_small and is_stop(w))]
                if len(words) < len(acr):
                    continue
                tail = words[-len(acr) :]
                if "".join(w[0] for w in tail) == acr and tail != [acr]:
                    per = counts.setdefault(acr, {})
                    per[tuple(tail)] = per.get(tuple(tail), 0) + 1
                    break
    out = {acr: max(per, key=lambda k: (per[k], k)) for acr, per in counts.items()}
    for t in topics:
        if t.acronym and t.acronym not in out:
            out[t.acronym] = tuple(tokenize(t.name))
    return out


# -- query analysis ------------------------------------------------------------


@dataclass(slots=True)
class _Concept:
    word: str  # as typed (folded)
    alts: list[str]  # stored words (or FTS phrases) retrieved for it
    keys: dict[str, float]  # stem → how much finding it counts (the typed word: 1.0)
    core: list[str] = field(default_factory=list)  # alts that say it exactly (no synonyms)
    df: int = 0  # stories holding the word itself (or its correction)
    cost: int = 0  # postings a scored FTS query over `alts` reads
    weight: float = 0.0
    weak: bool = False  # chat filler: a small bonus when present, never required
    phrases: list[tuple[tuple[str, ...], float]] = field(default_factory=list)  # stems, factor


@dataclass(slots=True)
class _Plan:
    parsed: Parsed
    concepts: list[_Concept]
    corrected: dict[str, str]
    topic: int | None  # detected topic
    topic_only: bool  # the question is just a topic request
    provider: int | None
    exact: list[int]  # docs whose title is what was typed


SYNONYM_ALTS = 5  # related words added per typed word at most
USAGE_DAMP = 0.3  # how much everyday English usage lowers a word's weight


def _add(c: _Concept, vocab: Vocabulary, words: Iterable[str], factor: float) -> None:
    for w in words:
        if not w:
            continue
        if w not in c.alts:
            c.alts.append(w)
        k = vocab.stem(w)
        if factor > c.keys.get(k, 0.0):
            c.keys[k] = factor


def _related(index: _Index, wn: WordNet | None, lemma: str) -> list[tuple[str, float]]:
    """Stored words WordNet relates to a word or two-word lemma ('armed_forces' → military)."""
    if wn is None:
        return []
    vocab = index.vocab
    common = max(50, vocab.n_docs // 20)
    out: list[tuple[str, float, int]] = []
    for word, factor in wn.related(lemma).items():
        if not word.isalpha() or is_stop(word) or word == lemma:
            continue
        for stored in vocab.family(word, limit=2):
            d = vocab.df[stored]
            if d <= common:
                out.append((stored, factor, d))
    out.sort(key=lambda x: (-x[1], x[2]))
    seen: dict[str, float] = {}
    for w, f, _ in out:
        seen.setdefault(w, f)
    return list(seen.items())[:SYNONYM_ALTS]


def _concepts(index: _Index, parsed: Parsed, wn: WordNet | None) -> tuple[list[_Concept], dict[str, str]]:
    vocab = index.vocab
    is_word = wn.is_word if wn is not None else None
    corrected: dict[str, str] = {}
    out: list[_Concept] = []
    common = max(50, vocab.n_docs // 20)
    for term in parsed.terms:
        if " " in term:  # a figure such as '4 6' (from 4.6): both parts, as a phrase
            parts = tuple(term.split())
            c = _Concept(word=term, alts=[term], keys={}, core=[term], phrases=[(parts, 1.0)])
            c.df = min(vocab.df.get(p, 0) for p in parts)
            if c.df:
                out.append(c)
            continue
        c = _Concept(word=term, alts=[], keys={stem(term): 1.0})
        core = vocab.family(term)
        if core:
            _add(c, vocab, core, 1.0)
            c.core.extend(core)
        else:
            fix = vocab.correct(term, is_word=is_word)
            if fix:
                corrected[term] = fix
                core = vocab.family(fix)
                _add(c, vocab, core, 0.9)
                c.core.extend(core)
            elif is_word is not None and len(term) >= 5 and (
                near := vocab.correct(term, max_edits=1)
            ):
                # A real word the store lacks may still be a slip for a name it
                # has ('gravity' → Gravyty): worth a little, never a correction.
                _add(c, vocab, vocab.family(near), 0.5)
        c.df = min(vocab.n_docs, sum(vocab.df.get(a, 0) for a in core))
        expansion = index.acronyms.get(term)
        if expansion and len(expansion) >= 2:
            c.phrases.append((tuple(stem(w) for w in expansion), 1.0))
            c.alts.append(" ".join(expansion))  # an FTS phrase
            c.core.append(" ".join(expansion))
        if c.df <= common:
            # Generic words have generic neighbours; only specific ones are expanded.
            _add_related(c, index, _related(index, wn, term))
            _add_related(c, index, _prefixed(index, term))
        out.append(c)
    for a, b in itertools.pairwise(out):
        # Two typed words that are one stored word ('cloud comerce' → cloudcommerce):
        # the joined word counts for both.
        joined = a.word + b.word
        if joined.isalpha() and len(joined) >= 7:
            hit = joined if joined in vocab else vocab.correct(joined, is_word=is_word, max_edits=1)
            if hit:
                if hit != joined:
                    corrected[f"{a.word} {b.word}"] = hit
                for c in (a, b):
                    _add(c, vocab, [hit], 1.0)
                    c.core.append(hit)
                    c.df = max(c.df, vocab.df[hit])
        # A two-word English lemma ('armed forces' → military).
        for c in (a, b):
            _add_related(c, index, _related(index, wn, f"{a.word}_{b.word}"))
    for term in parsed.weak:
        core = vocab.family(term)
        if core:
            c = _Concept(word=term, alts=[], keys={}, weak=True)
            _add(c, vocab, core, 1.0)
            c.df = sum(vocab.df[a] for a in core)
            out.append(c)
    for c in out:
        c.cost = sum(_alt_df(vocab, a) for a in c.alts)
        if not c.df and c.core:
            c.df = min(_alt_df(vocab, a) for a in c.core)
        if c.df:
            c.weight = vocab.idf(c.df)
        elif c.alts:  # known only through related words: as rare as all of them together
            c.weight = 0.7 * vocab.idf(min(vocab.n_docs, sum(_alt_df(vocab, a) for a in c.alts)))
        else:  # the store has nothing like it: it still counts against every story
            c.weight = vocab.idf(1) * 0.5
        if c.weak:
            c.weight *= 0.25
        if wn is not None:
            # Everyday words ('stop', 'using') point less at one story than names do.
            c.weight /= 1 + USAGE_DAMP * math.log1p(wn.usage(c.word))
    return out, corrected


def _alt_df(vocab: Vocabulary, alt: str) -> int:
    """Stories holding a stored word; for a phrase, its rarest word bounds it."""
    if " " in alt:
        return min((vocab.df.get(w, 0) for w in alt.split()), default=0)
    return vocab.df.get(alt, 0)


def _prefixed(index: _Index, term: str) -> list[tuple[str, float]]:
    """Longer stored words built on the typed one ('agree' → agreement, 'fundraising' → fundraisers)."""
    vocab = index.vocab
    root = stem(term)
    root = root if len(root) >= 5 else term
    if len(root) < 5 or not root.isalpha():
        return []
    return [(w, 0.7) for w in vocab.with_prefix(root, limit=4) if len(w) <= len(root) + 5]


def _add_related(c: _Concept, index: _Index, related: list[tuple[str, float]]) -> None:
    for word, factor in related:
        if word not in c.alts:
            _add(c, index.vocab, [word], factor)


def _topic_match(topic: _Topic, stems: dict[str, str], words: list[str]) -> tuple[set[str], set[str]]:
    """(topic words matched, typed words used) — by stem, prefix ('health' ~ healthcare) or acronym."""
    if topic.acronym and len(topic.acronym) >= 2 and topic.acronym in words:
        return set(topic.words), {topic.acronym}
    matched: set[str] = set()
    used: set[str] = set()
    for tw in topic.words:
        for s, w in stems.items():
            short, long_ = sorted((s, tw), key=len)
            if s == tw or (len(short) >= 4 and long_.startswith(short) and len(short) >= 0.4 * len(long_)):
                matched.add(tw)
                used.add(w)
                break
    return matched, used


def _detect_topic(index: _Index, parsed: Parsed) -> tuple[int | None, bool, set[str]]:
    """The topic a question names: (topic, nothing else asked, typed words it used).

    Every significant word of the topic must be named ('computer vision'), except
    words most topic names share ('ai' of 'AI in Robotics') when the question
    names nothing else ('robotics news').
    """
    words = parsed.terms
    stems = {stem(w): w for w in words}
    n_topics = max(1, len(index.topics))
    spread: dict[str, int] = {}
    for t in index.topics:
        for w in set(t.words):
            spread[w] = spread.get(w, 0) + 1
    best: tuple[int, int, int, int] | None = None
    best_used: set[str] = set()
    best_full = False
    for k, t in enumerate(index.topics):
        if not t.docs or not t.words:
            continue
        matched, used = _topic_match(t, stems, words)
        if not matched:
            continue
        missing = [w for w in t.words if w not in matched]
        rest = [w for w in words if w not in used]
        if missing and not (not rest and all(spread.get(w, 0) > n_topics / 3 for w in missing)):
            continue
        rank = (len(matched), -len(missing), len(t.docs), k)
        if best is None or rank[:3] > best[:3]:
            best, best_used, best_full = rank, used, not missing
    if best is None:
        return None, False, set()
    rest = [w for w in words if w not in best_used]
    return best[3], not rest and best_full, best_used


def _detect_provider(index: _Index, parsed: Parsed) -> int | None:
    padded = f" {parsed.folded} "
    tokens = set(parsed.terms)
    for k, p in enumerate(index.providers):
        if (p.phrase and f" {p.phrase} " in padded and (len(p.phrase) >= 4)) or (p.keys & tokens):
            return k
    return None


def _exact_titles(index: _Index, parsed: Parsed) -> list[int]:
    """Docs whose title is the question (or starts with it, for a cut autocomplete value)."""
    key = parsed.folded
    if len(key) < 8:
        return []
    lo = bisect.bisect_left(index.title_keys, key)
    out: list[int] = []
    for j in range(lo, min(lo + 5, len(index.title_keys))):
        tk = index.title_keys[j]
        if tk == key or (len(key) >= 24 and tk.startswith(key)):
            out.append(index.title_pos[j])
        else:
            break
    return out


class _Matcher:
    """Which concepts a text names, and how well: one pass over its words."""

    def __init__(self, concepts: list[_Concept], stems: dict[str, str], vocab: Vocabulary) -> None:
        self.concepts = concepts
        self.stems = stems
        self.vocab = vocab
        self.total = sum(c.weight for c in concepts if not c.weak) or 1.0
        # stem → [(concept, factor)]: each word of a text is looked up once.
        self.wanted: dict[str, list[tuple[int, float]]] = {}
        for n, c in enumerate(concepts):
            for k, f in c.keys.items():
                self.wanted.setdefault(k, []).append((n, f))
        self.phrases = [(n, p, f) for n, c in enumerate(concepts) for p, f in c.phrases]

    def scores(self, text: str, value: float) -> list[float]:
        found = [0.0] * len(self.concepts)
        stems, wanted, vocab = self.stems, self.wanted, self.vocab
        keys: list[str] = []
        for w in tokenize(text):
            k = stems.get(w)
            if k is None:
                k = stems[w] = vocab.stem(w)
            keys.append(k)
            hits = wanted.get(k)
            if hits:
                for n, f in hits:
                    if f * value > found[n]:
                        found[n] = f * value
        for n, p, f in self.phrases:
            if f * value > found[n] and all(k in keys for k in p):
                found[n] = f * value
        return found

    def coverage(self, found: list[float]) -> float:
        """IDF-weighted share of the question a text covers (weak filler adds a little)."""
        return sum(c.weight * v for c, v in zip(self.concepts, found, strict=True)) / self.total


# -- the searcher --------------------------------------------------------------


class Searcher:
    """Answers questions from one store. Cheap to call; rebuilds its caches on reloads."""

    def __init__(self, store: Store, *, max_query_chars: int = 300) -> None:
        self.store = store
        self.max_query_chars = max_query_chars
        self._index: _Index | None = None
        self._checked = -math.inf
        self._lock = asyncio.Lock()
        self._wordnet: WordNet | None = None
        self._stem_cache: dict[str, str] = {}

    # -- caches ----------------------------------------------------------

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the in-memory index when the store changed. True when rebuilt."""
        self._checked = time.monotonic()
        generation = await self.store.generation()
        if not force and self._index is not None and self._index.generation == generation:
            return False
        if not force and self._index is not None and self._lock.locked():
            return False  # a rebuild is under way; answer from the previous index meanwhile
        async with self._lock:
            if not force and self._index is not None and self._index.generation == generation:
                return False
            started = time.perf_counter()
            if self._wordnet is None:
                self._wordnet = await asyncio.to_thread(wordnet.load)
            self._index = await _load_index(self.store, generation)
            self._stem_cache = {}
            log.debug("search index: %d stories in %.2fs", len(self._index.ids),
                      time.perf_counter() - started)
        return True

    async def _ready(self) -> _Index:
        if self._index is None or time.monotonic() - self._checked >= REFRESH_EVERY:
            await self.refresh()
        assert self._index is not None
        return self._index

    # -- ask ---------------------------------------------------------------

    async def ask(self, question: str, *, limit: int = 5) -> Answer:
        """Ranked stories for a question. Never raises for any str input."""
        text = question if isinstance(question, str) else str(question)
        try:
            return await self._ask(text, max(1, min(int(limit), 50)))
        except (sqlite3.Error, ValueError, RecursionError, MemoryError) as exc:
            # A broken store or a pathological input must not break a chat command.
            log.warning("search failed for %r: %s", text[:80], exc)
            cut = text[: self.max_query_chars]
            return Answer(query=cut, cleaned="", hits=[], suggestions=[],
                          notice="Search is unavailable right now; please try again.")

    async def _ask(self, text: str, limit: int) -> Answer:
        index = await self._ready()
        parsed = parse(text, max_chars=self.max_query_chars)
        notice = f"Your question was cut to {self.max_query_chars} characters." if parsed.was_cut else None
        if not parsed.terms:
            return Answer(query=parsed.text, cleaned="", hits=[], suggestions=[],
                          notice=_join(notice, NO_MORE_WORDS))
        plan = self._plan(index, parsed)
        cleaned = " ".join(parsed.terms)
        topic_name = index.topics[plan.topic].name if plan.topic is not None else None
        if plan.topic_only and plan.topic is not None and not plan.exact:
            hits = self._collapse(index, [(i, 1.0) for i in index.topics[plan.topic].docs[: limit * 8]],
                                  limit)
            return Answer(query=parsed.text, cleaned=cleaned, hits=hits, suggestions=[],
                          notice=notice, corrected=plan.corrected, topic=topic_name)
        candidates, every = await self._candidates(index, plan)
        scored = await self._rerank(index, plan, candidates, every)
        best = scored[0][1] if scored else 0.0
        if best < CUTOFF:
            suggestions = self._suggest(index, parsed, scored)
            return Answer(query=parsed.text, cleaned=cleaned, hits=[], suggestions=suggestions,
                          notice=notice, corrected=plan.corrected, topic=topic_name)
        hits = self._collapse(index, [s for s in scored if s[1] >= CUTOFF], limit)
        return Answer(query=parsed.text, cleaned=cleaned, hits=hits, suggestions=[], notice=notice,
                      corrected=plan.corrected, topic=topic_name)

    def _plan(self, index: _Index, parsed: Parsed) -> _Plan:
        concepts, corrected = _concepts(index, parsed, self._wordnet)
        topic, topic_only, _ = _detect_topic(index, parsed)
        return _Plan(
            parsed=parsed, concepts=concepts, corrected=corrected, topic=topic,
            topic_only=topic_only, provider=_detect_provider(index, parsed),
            exact=_exact_titles(index, parsed),
        )

    async def _candidates(self, index: _Index, plan: _Plan) -> tuple[dict[int, float], set[int]]:
        """(doc position → bm25, 0 when found unscored; docs holding every concept), bounded work."""
        found: dict[int, float] = {i: 0.0 for i in plan.exact}
        every: set[int] = set()
        usable = sorted((c for c in plan.concepts if c.alts and not c.weak), key=lambda c: c.cost)
        if not usable:
            return found, every
        groups = {id(c): "(" + " OR ".join(fts_string(a) for a in c.alts) + ")" for c in usable}
        core = {id(c): "(" + " OR ".join(fts_string(a) for a in c.core) + ")" for c in usable}
        rare: list[_Concept] = []
        spent = 0
        for c in usable:
            if spent + c.cost > RARE_BUDGET:
                break
            rare.append(c)
            spent += c.cost
        queries: list[tuple[str, bool, bool]] = []  # (match, scored, holds every concept)
        if rare:
            queries.append((" OR ".join(groups[id(c)] for c in rare), True, False))
        # A word in a third of all stories filters little and costs a long doclist merge.
        strict = [c for c in sorted(usable, key=lambda c: c.df)
                  if core[id(c)] != "()" and c.df <= index.vocab.n_docs * 0.3]
        if len(strict) >= 2:
            # Stories holding every typed word (then all but the most common one):
            # found newest first and unscored, so common words cost little.
            all_of = " AND ".join(core[id(c)] for c in strict)
            queries.append(("{title} : (" + all_of + ")", False, True))
            queries.append((all_of, False, True))
            if len(strict) >= 3:
                queries.append((" AND ".join(core[id(c)] for c in strict[:-1]), False, False))
        elif not rare:
            queries.append(("{title} : " + groups[id(usable[0])], False, False))
        for match, scored, complete in queries:
            if scored:
                sql = (
                    "SELECT rowid, bm25(articles_fts, ?, ?, ?, ?, ?) AS s FROM articles_fts "
                    "WHERE articles_fts MATCH ? ORDER BY s LIMIT ?"
                )
                args: tuple = (*FTS_WEIGHTS, match, PAGE)
            else:
                sql = "SELECT rowid, 0 FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?"
                args = (match, PAGE)
            rows = await _rows(self.store, sql, args)
            for rowid, score in rows:
                i = index.pos.get(rowid)
                if i is not None and (i not in found or score < found[i]):
                    found[i] = score
                if complete and i is not None:
                    every.add(i)
            if len(found) >= RERANK or (complete and len(rows) >= PAGE):
                break  # enough stories hold every word; the looser queries add noise
        return found, every

    async def _rerank(
        self, index: _Index, plan: _Plan, found: dict[int, float], every: set[int]
    ) -> list[tuple[int, float]]:
        if not found:
            return []
        match = _Matcher(plan.concepts, self._stem_cache, index.vocab)
        # Stage 1, cheap: titles (in memory) and bm25 pick the stories worth reading in full.
        best_bm25 = min(found.values()) or -1.0
        pre: list[tuple[float, int]] = []
        for i, bm in found.items():
            title = match.coverage(match.scores(index.titles[i], 1.0))
            pre.append((title + 0.6 * (bm / best_bm25) + (0.5 if i in every else 0.0), i))
        pre.sort(reverse=True)
        docs = [i for _, i in pre[:FULL_RERANK]]
        docs.extend(i for i in plan.exact if i not in docs)
        texts: dict[int, tuple[str, str, str, str]] = {}
        ids = [index.ids[i] for i in docs]
        rows = await _rows(
            self.store,
            "SELECT rowid, topics, provider, excerpt, related FROM articles_fts "
            f"WHERE rowid IN ({','.join('?' * len(ids))})",
            ids,
        )
        texts.update({r[0]: (r[1] or "", r[2] or "", r[3] or "", r[4] or "") for r in rows})
        query_text = " ".join(plan.parsed.terms)
        span = max(1.0, index.ts_max - index.ts_min)
        recency_w = 0.25 if plan.parsed.recency else 0.03
        exact = set(plan.exact)
        preferred = plan.exact[0] if plan.exact else None
        n = len(plan.concepts)
        scored: list[tuple[int, float]] = []
        for i in docs:
            best = [0.0] * n
            second = [0.0] * n
            topics_t, provider_t, excerpt_t, related_t = texts.get(index.ids[i], ("", "", "", ""))
            for name, text in (("title", index.titles[i]), ("topics", topics_t),
                               ("provider", provider_t), ("related", related_t),
                               ("excerpt", excerpt_t)):
                if not text:
                    continue
                for k, v in enumerate(match.scores(text, FIELD_VALUE[name])):
                    if v > best[k]:
                        best[k], second[k] = v, best[k]
                    elif v > second[k]:
                        second[k] = v
            # Named again in another field (the excerpt, other outlets' headlines):
            # the story is more about it than one that mentions it once.
            lex = match.coverage([min(1.0, b + SECOND_FIELD * s2) for b, s2 in zip(best, second, strict=True)])
            sim = fuzz.token_set_ratio(query_text, index.titles[i], processor=utils.default_process) / 100
            score = (1 - TITLE_SIM) * lex + TITLE_SIM * sim
            if plan.topic is not None and plan.topic in index.doc_topics[i]:
                score += 0.1
            if plan.provider is not None and index.provider[i] == plan.provider:
                score += 0.1
            if i in exact:
                score += 2.0 if i == preferred else 1.0
            t = index.ts[i]
            fresh = 0.0 if t == -math.inf else (t - index.ts_min) / span
            score += 0.02 * index.quality[i] / 100 + 0.01 * min(index.heat[i], 200) / 200
            score += recency_w * fresh
            scored.append((i, score))
        scored.sort(key=lambda s: (-s[1], -index.ts[s[0]], -index.ids[s[0]]))
        return scored

    def _collapse(self, index: _Index, ranked: Iterable[tuple[int, float]], limit: int) -> list[Hit]:
        """One hit per event: later records of a kept event go into its `also`."""
        kept: list[tuple[int, float, list[int]]] = []
        by_cluster: dict[int, int] = {}
        kept_titles: list[str] = []
        for seen, (i, score) in enumerate(ranked):
            if seen >= limit * 8:
                break  # far down the list: neither a hit nor worth a title comparison
            root = index.cluster[i]
            slot = by_cluster.get(root)
            if slot is None:
                norm = normalize_title(index.titles[i])
                for j, other in enumerate(kept_titles):
                    if fuzz.ratio(norm, other, score_cutoff=92):
                        slot = j
                        break
            if slot is not None:
                kept[slot][2].append(index.ids[i])
                continue
            if len(kept) >= limit:
                continue
            by_cluster[root] = len(kept)
            kept.append((i, score, []))
            kept_titles.append(normalize_title(index.titles[i]))
        return [self._hit(index, i, score, also) for i, score, also in kept]

    def _hit(self, index: _Index, i: int, score: float, also: list[int]) -> Hit:
        p = index.provider[i]
        return Hit(
            article_id=index.ids[i],
            score=round(score, 4),
            title=index.titles[i],
            url=index.links[i],
            provider=index.providers[p].name if p >= 0 else None,
            published=index.doc_time(i),
            topics=tuple(index.topics[k].name for k in index.doc_topics[i]),
            also=tuple(also),
        )

    def _suggest(self, index: _Index, parsed: Parsed, scored: list[tuple[int, float]]) -> list[str]:
        out: list[str] = []
        query = " ".join(parsed.terms)
        if scored:
            titles = [index.titles[i] for i, _ in scored[:50]]
            for title, score, _ in process.extract(query, titles, scorer=fuzz.WRatio,
                                                   processor=utils.default_process, limit=3):
                if score >= 60 and title not in out:
                    out.append(title)
        names = [t.name for t in index.topics if t.docs]
        for name, score, _ in process.extract(query, names, scorer=fuzz.WRatio,
                                             processor=utils.default_process, limit=3):
            if score >= 70 and name not in out:
                out.append(name)
        return out[:3]

    # -- autocomplete and topics ---------------------------------------------

    async def autocomplete(self, text: str, *, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) pairs of titles matching what is typed so far."""
        try:
            return await self._autocomplete(text if isinstance(text, str) else str(text), limit)
        except (sqlite3.Error, ValueError, RecursionError, MemoryError) as exc:
            log.warning("autocomplete failed for %r: %s", str(text)[:80], exc)
            return []

    async def _autocomplete(self, text: str, limit: int) -> list[tuple[str, str]]:
        index = await self._ready()
        limit = max(1, min(limit, 25))
        parsed = parse(text, max_chars=self.max_query_chars)
        tokens = parsed.tokens
        if not tokens:
            latest = sorted(range(len(index.ids)), key=lambda i: (index.ts[i], index.ids[i]),
                            reverse=True)[:limit] if len(index.ids) <= limit * 40 else \
                self._newest(index, limit)
            return self._choices(index, latest, limit)
        partial = "" if text[-1:].isspace() else tokens[-1]
        whole = [t for t in (tokens[:-1] if partial else tokens) if not is_stop(t)]
        vocab = index.vocab
        groups: list[str] = []
        for t in whole[:8]:
            alts = vocab.family(t) or vocab.family(vocab.correct(t) or "")
            if alts:
                groups.append("(" + " OR ".join(fts_string(a) for a in alts) + ")")
        if partial and (len(partial) >= 2 or not groups):
            words = vocab.with_prefix(partial, limit=16)
            if words:
                groups.append("(" + " OR ".join(fts_string(a) for a in words) + ")")
            elif len(partial) >= 4 and (fix := vocab.correct(partial)):
                groups.append(fts_string(fix))
        docs: list[int] = []
        if groups:
            rows = await _rows(
                self.store,
                "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                ("{title} : (" + " AND ".join(groups) + ")", limit * 4),
            )
            docs = [index.pos[r[0]] for r in rows if r[0] in index.pos]
        norm = parsed.folded
        docs.sort(key=lambda i: (-_prefix_score(norm, normalize_title(index.titles[i])), -index.ts[i]))
        if len(docs) < limit:
            answer = await self.ask(text, limit=limit)
            docs.extend(index.pos[h.article_id] for h in answer.hits if h.article_id in index.pos)
        return self._choices(index, docs, limit)

    def _newest(self, index: _Index, limit: int) -> list[int]:
        seen: list[int] = []
        for t in index.topics:
            seen.extend(t.docs[:limit])
        if not seen:
            seen = list(range(len(index.ids)))
        return sorted(set(seen), key=lambda i: (index.ts[i], index.ids[i]), reverse=True)[:limit]

    def _choices(self, index: _Index, docs: Iterable[int], limit: int) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        values: set[str] = set()
        for i in docs:
            title = " ".join(index.titles[i].split())
            value = _cut(title, 100)
            # Several stories under one headline: offer the one `ask(value)` ranks first.
            key = normalize_title(value)
            lo = bisect.bisect_left(index.title_keys, key)
            if lo < len(index.title_keys) and (
                index.title_keys[lo] == key or (len(key) >= 24 and index.title_keys[lo].startswith(key))
            ):
                i = index.title_pos[lo]
            if key in values:
                continue
            values.add(key)
            title = " ".join(index.titles[i].split())
            value = _cut(title, 100)
            p = index.provider[i]
            extra = f" — {index.providers[p].name}" if p >= 0 else ""
            when = index.doc_time(i)
            if when:
                extra += f", {when:%Y-%m-%d}"
            label = title + extra if len(title + extra) <= 100 else _cut(title, 100)
            out.append((label, value))
            if len(out) >= limit:
                break
        return out

    async def topic_choices(self, text: str, *, limit: int = 25) -> list[str]:
        """Topic names matching what is typed; all topics (most stories first) when empty."""
        index = await self._ready()
        ranked = sorted((t for t in index.topics if t.docs), key=lambda t: (-len(t.docs), t.name))
        names = [t.name for t in ranked]
        query = " ".join(tokenize(text if isinstance(text, str) else str(text)))
        if not query:
            return names[:limit]
        starts = [t.name for t in ranked if t.key.startswith(query) or
                  any(w.startswith(query) for w in tokenize(t.name)) or t.acronym == query]
        out = list(dict.fromkeys(starts))
        if len(out) < limit:
            for name, score, _ in process.extract(query, names, scorer=fuzz.WRatio,
                                                 processor=utils.default_process, limit=limit):
                if score >= 60 and name not in out:
                    out.append(name)
        return out[:limit]

    async def resolve_topic(self, text: str) -> str | None:
        """The topic a user meant: exact, acronym, or the closest name when close enough."""
        index = await self._ready()
        query = " ".join(tokenize(text if isinstance(text, str) else str(text)))[:200]
        if not query:
            return None
        live = [t for t in index.topics if t.docs]
        for t in live:
            if " ".join(tokenize(t.name)) == query or t.acronym == query:
                return t.name
        found = process.extractOne(query, [t.name for t in live], scorer=fuzz.WRatio,
                                   processor=utils.default_process, score_cutoff=85)
        if found:
            return found[0]
        parsed = parse(query)
        k, _, _ = _detect_topic(index, parsed)
        return index.topics[k].name if k is not None else None


def _prefix_score(typed: str, title: str) -> float:
    if title.startswith(typed):
        return 2.0
    return fuzz.partial_ratio(typed, title) / 100


def _cut(text: str, n: int) -> str:
    if len(text) <= n:
        return text
    return text[: n - 1].rstrip() + "…"


def _join(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None
