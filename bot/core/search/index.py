"""The search's in-memory index of a store: titles, topics, providers, clusters, vocabulary.

Rebuilt from the store when its generation changes (the SQL runs on the
store's read connection, the Python building in a worker thread). Stories
are addressed by position (0..n-1), not id, so per-story data are flat lists.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from bot.core.search.query import is_stop, normalize_title, tokenize
from bot.core.search.vocab import Vocabulary, stem
from bot.core.store.sqlite import Store


@dataclass(slots=True)
class TopicEntry:
    name: str
    key: str
    words: tuple[str, ...]  # stems of its significant words
    acronym: str | None
    docs: list[int]  # doc positions, newest first


@dataclass(slots=True)
class ProviderEntry:
    name: str
    phrase: str  # folded significant words, space-joined
    keys: frozenset[str]  # one-word forms: joined name, domain label


@dataclass(slots=True)
class Index:
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
    providers: list[ProviderEntry]
    topics: list[TopicEntry]
    vocab: Vocabulary
    acronyms: dict[str, tuple[str, ...]]  # 'nlp' → ('natural', 'language', 'processing')
    title_keys: list[str]  # sorted normalised titles, for exact and prefix lookups
    title_pos: list[int]  # doc position of each title_keys entry
    ts_min: float = 0.0
    ts_max: float = 1.0

    def doc_time(self, i: int) -> datetime | None:
        t = self.ts[i]
        return None if t == -math.inf else datetime.fromtimestamp(t, UTC)


def _topic_entry(name: str, docs: list[int]) -> TopicEntry:
    words = [w for w in tokenize(name) if not is_stop(w)]
    sig = [w for w in tokenize(name) if w not in ("in", "of", "and", "the", "for")]
    # Only names of real words make an acronym ('Computer Vision' → cv); 'AI in Autos' makes none.
    acronym = (
        "".join(w[0] for w in sig)
        if len(sig) >= 2 and all(w.isalpha() and len(w) >= 4 for w in sig)
        else None
    )
    return TopicEntry(
        name=name,
        key=name.casefold(),
        words=tuple(stem(w) for w in words),
        acronym=acronym,
        docs=docs,
    )


def _provider_entry(name: str, domain: str) -> ProviderEntry:
    words = [w for w in tokenize(name) if not is_stop(w)]
    keys = {"".join(words)} if words else set()
    label = domain.lower().removeprefix("www.").split(".")[0] if domain else ""
    if len(label) >= 4:
        keys.add(label)
    return ProviderEntry(
        name=name, phrase=" ".join(words), keys=frozenset(k for k in keys if len(k) >= 3)
    )


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


async def fetch_rows(
    conn: aiosqlite.Connection, sql: str, args: Sequence[object] = ()
) -> list[tuple]:
    async with conn.execute(sql, args) as cur:
        return list(await cur.fetchall())


async def load_index(store: Store, generation: int) -> Index:
    # Its own connection: these scans take a while at 100,000 stories, and
    # questions on the shared reader must not queue behind them.
    async with store.extra_reader() as conn:
        return await _load_index(conn, generation)


async def _load_index(store: aiosqlite.Connection, generation: int) -> Index:
    articles = await fetch_rows(
        store,
        "SELECT a.id, a.title, a.link, a.provider_id, a.published_ts, a.quality, a.heat "
        "FROM articles a ORDER BY a.id",
    )
    provider_rows = await fetch_rows(store, "SELECT id, name, domain FROM providers")
    topic_rows = await fetch_rows(store, "SELECT id, name FROM topics")
    links = await fetch_rows(
        store, "SELECT article_id, topic_id FROM article_topics ORDER BY article_id, position"
    )
    # Stored stories that list each other (or one lists the other) as related coverage.
    pairs = await fetch_rows(
        store, "SELECT r.article_id, a.id FROM related r JOIN articles a ON a.url = r.url"
    )
    shared = await fetch_rows(
        store,
        "SELECT group_concat(article_id) FROM related GROUP BY url HAVING count(DISTINCT article_id) > 1",
    )
    vocab_rows = await fetch_rows(store, "SELECT term, doc FROM articles_vocab")
    return await asyncio.to_thread(
        _build_index,
        generation,
        articles,
        provider_rows,
        topic_rows,
        links,
        pairs,
        shared,
        vocab_rows,
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
) -> Index:
    n = len(articles)
    ids = [r[0] for r in articles]
    pos = {aid: i for i, aid in enumerate(ids)}
    prov_pos: dict[int, int] = {}
    providers: list[ProviderEntry] = []
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
    return Index(
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


def _acronyms(titles: Sequence[str], topics: Sequence[TopicEntry]) -> dict[str, tuple[str, ...]]:
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
