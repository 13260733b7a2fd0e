"""The search's in-memory index of a store: titles, topics, providers, clusters, vocabulary.

Rebuilt from the store's `index_snapshot` when its generation changes (the
store reads on a connection of its own, the Python building runs in a worker
thread). Stories
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

from bot.core.search.query import is_stop, normalize_title, tokenize
from bot.core.search.vocab import Vocabulary, stem
from bot.core.store import Store
from bot.core.store.types import IndexSnapshot


@dataclass(slots=True)
class TopicEntry:
    """A topic as the search sees it: its name, key, word stems, acronym and stories."""

    name: str
    key: str
    words: tuple[str, ...]  # stems of its significant words
    acronym: str | None
    docs: list[int]  # doc positions, newest first


@dataclass(slots=True)
class ProviderEntry:
    """A provider, as replies name it."""

    name: str


@dataclass(slots=True)
class Index:
    """The in-memory index of one store generation; per-story data are lists by position."""

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
        """The story's publication time (UTC), or None when unknown."""
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


async def load_index(store: Store, generation: int) -> Index:
    """The index of what `store` holds now, labelled with its `generation`."""
    snapshot = await store.index_snapshot()
    return await asyncio.to_thread(_build_index, generation, snapshot)


def _build_index(generation: int, snap: IndexSnapshot) -> Index:
    arts = snap.articles
    ids = arts.ids
    n = len(ids)
    pos = {aid: i for i, aid in enumerate(ids)}
    prov_pos: dict[int, int] = {}
    providers: list[ProviderEntry] = []
    for p in snap.providers:
        prov_pos[p.id] = len(providers)
        providers.append(ProviderEntry(p.name))
    titles = arts.titles
    ts = [t if t is not None else -math.inf for t in arts.published_ts]
    known_ts = [t for t in ts if t != -math.inf]

    topic_pos = {t.id: k for k, t in enumerate(snap.topics)}
    doc_topics_l: list[list[int]] = [[] for _ in range(n)]
    topic_docs: list[list[int]] = [[] for _ in snap.topics]
    for aid, tid in zip(snap.article_topics.left, snap.article_topics.right, strict=True):
        i, k = pos.get(aid), topic_pos.get(tid)
        if i is not None and k is not None:
            doc_topics_l[i].append(k)
            topic_docs[k].append(i)
    topics = []
    for k, t in enumerate(snap.topics):
        docs = sorted(topic_docs[k], key=lambda i: (ts[i], ids[i]), reverse=True)
        topics.append(_topic_entry(t.name, docs))

    uf = _UnionFind(n)
    for aid, other in zip(snap.related_pairs.left, snap.related_pairs.right, strict=True):
        a, b = pos.get(aid), pos.get(other)
        if a is not None and b is not None and a != b:
            uf.union(a, b)
    for group in snap.shared_related:
        members = [pos[x] for x in group if x in pos]
        for m in members[1:]:
            uf.union(members[0], m)
    title_norm = [normalize_title(t) for t in titles]
    order = sorted(range(n), key=lambda i: (title_norm[i], -ts[i], -ids[i]))
    for a, b in itertools.pairwise(order):
        if title_norm[a] and title_norm[a] == title_norm[b]:
            uf.union(a, b)  # one headline, several outlets: one event

    return Index(
        generation=generation,
        ids=ids,
        pos=pos,
        titles=titles,
        links=arts.links,
        provider=[prov_pos.get(p, -1) if p is not None else -1 for p in arts.provider_ids],
        ts=ts,
        quality=[float(q) if q is not None else 50.0 for q in arts.quality],
        heat=[float(h) if h is not None and h >= 0 else 0.0 for h in arts.heat],
        doc_topics=[tuple(t) for t in doc_topics_l],
        cluster=[uf.find(i) for i in range(n)],
        providers=providers,
        topics=topics,
        vocab=Vocabulary(snap.vocabulary, n),
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
