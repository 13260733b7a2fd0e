"""Answering questions: typed text → the right stories, ranked, in milliseconds.

Pipeline of `Searcher.ask`:

1. `query.parse`: cut, fold, drop stopwords and chat filler.
2. Each remaining word becomes a *concept*: the word, its inflections found in
   the store, a typo correction when the store does not know it, and a joined
   form when two words make one stored word ('cloud commerce' → cloudcommerce).
3. Candidates come from the store's full-text index, with bounded work: the rarer concepts
   OR-ed and ranked by bm25 (title > topics, provider > related > excerpt),
   plus "every concept present" AND queries, which stop after a page. A word
   in half of all stories is never scored across the whole index.
   The semantic half (`dense`) adds the stories nearest to the question's
   sentence embedding, once the store holds vectors of the model.
4. Candidates are reranked in Python: IDF-weighted coverage of the concepts by
   field, title similarity (rapidfuzz), a topic named in the question,
   then quality, heat and recency as tie-breakers; plus SEMANTIC_WEIGHT × the
   question's cosine with the story. A story answers when the lexical score
   passes CUTOFF or the cosine SEM_CUTOFF.
5. Stories of one event (related links between stored stories, shared related
   links, near-identical titles) collapse into one hit.

The in-memory index (titles, topics, clusters, vocabulary; `index`) is
rebuilt when the store's generation changes; `ask` checks that at most once
a second. Question analysis and text matching live in `concepts`,
normalisation in `query`, word families and typos in `vocab`, synonyms and
everyday-word weights in `wordnet` (all in `bot.core.search`).

Longer than 500 lines because `Searcher` is one pipeline over one set of
caches (the index, word stems, the background rebuild): asking, autocomplete
(which falls back on asking) and topic resolution share them, and splitting
the class would only pass those caches around.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from rapidfuzz import fuzz, process, utils

from bot.core.search import wordnet
from bot.core.search.concepts import (
    Concept,
    Matcher,
    Plan,
    build_concepts,
    detect_topic,
    exact_titles,
)
from bot.core.search.dense import Dense, Semantic
from bot.core.search.index import Index, load_index
from bot.core.search.query import Parsed, is_stop, normalize_title, parse, tokenize
from bot.core.search.wordnet import WordNet
from bot.core.settings import embeddings_setting
from bot.core.store import FieldWeights, Store, StoreError, TextQuery
from bot.core.store.types import OPERATOR, Audience

log = logging.getLogger(__name__)

REFRESH_EVERY = 1.0  # seconds between generation checks in ask()
FTS_WEIGHTS = FieldWeights(title=10.0, topics=4.0, provider=4.0, excerpt=1.5, related=3.0)
RARE_BUDGET = 4_000  # postings bm25 may score per question (~0.8 µs each)
PAGE = 120  # candidates per FTS query
RERANK = 300  # candidates ranked on their titles at most
FULL_RERANK = 80  # of those, read in full (excerpt, related headlines)
# How much naming a word counts, by where the story names it: a headline says
# what a story is about; other outlets' headlines and the excerpt say it less.
FIELD_VALUE = {"title": 1.0, "topics": 0.85, "provider": 0.85, "related": 0.8, "excerpt": 0.75}
TITLE_SIM = 0.15  # weight of rapidfuzz title similarity beside word coverage
CUTOFF = 0.34  # below this a best hit is a guess, not an answer
DENSE_K = 20  # nearest stories by embedding added to the lexical candidates
SEMANTIC_WEIGHT = 2.0  # fused score = lexical score + this × cosine (dev split: 1, 2, 3, 4)
SEM_CUTOFF = 0.3  # a cosine from which a story answers without a lexical match
NO_MORE_WORDS = "Please add a few more words: that question has nothing to search for."


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a story, its score and what a reply shows of it."""

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
    """What a question found: the hits, and what was understood (corrections, topic)."""

    query: str  # as typed (possibly cut)
    cleaned: str  # after normalisation
    hits: list[Hit]
    suggestions: list[str]  # "did you mean" (titles or topic names), ≤3, when no hit
    notice: str | None = None
    corrected: dict[str, str] = field(default_factory=dict)  # typo → correction
    topic: str | None = None  # topic detected in the question, if any


# -- the searcher --------------------------------------------------------------


class Searcher:
    """Answers questions from one store. Cheap to call; rebuilds its caches on reloads."""

    def __init__(
        self, store: Store, *, max_query_chars: int = 300, embeddings: str | None = None
    ) -> None:
        self.store = store
        self.max_query_chars = max_query_chars
        # The model of the semantic half (NEWSBOT_EMBEDDINGS when not given), or "off".
        self.semantic = Semantic(embeddings if embeddings is not None else embeddings_setting())
        self._index: Index | None = None
        self._checked = -math.inf
        self._lock = asyncio.Lock()
        self._wordnet: WordNet | None = None
        self._stem_cache: dict[str, str] = {}
        self._rebuild: asyncio.Task[None] | None = None

    # -- caches ----------------------------------------------------------

    @property
    def index(self) -> Index | None:
        """The in-memory index built by the last refresh (None before the first)."""
        return self._index

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the in-memory index when the store changed. True when rebuilt.

        A rebuild already under way is waited for, then the generation is checked
        again: that rebuild may have read the store before the change that made
        the caller ask (a reload that committed meanwhile), and skipping would
        leave the new stories unanswered until the next periodic check.
        Questions never wait here: they rebuild in the background (`_ready`).
        """
        self._checked = time.monotonic()
        generation = await self.store.generation()
        if not force and self._index is not None and self._index.generation == generation:
            return False
        async with self._lock:
            generation = await self.store.generation()
            if not force and self._index is not None and self._index.generation == generation:
                return False
            started = time.perf_counter()
            if self._wordnet is None:
                self._wordnet = await asyncio.to_thread(wordnet.load)
            self._index = await load_index(self.store, generation)
            self._stem_cache = {}
            log.debug(
                "search index: %d stories in %.2fs",
                len(self._index.ids),
                time.perf_counter() - started,
            )
        return True

    async def _ready(self) -> Index:
        if self._index is None:
            await self.refresh()
        elif time.monotonic() - self._checked >= REFRESH_EVERY and self._rebuild is None:
            # Rebuild in the background (1-2 s at 100,000 stories) and answer from
            # the current index meanwhile: a reload must not stall questions.
            self._checked = time.monotonic()
            self._rebuild = asyncio.create_task(self._background_refresh())
        assert self._index is not None
        return self._index

    async def _background_refresh(self) -> None:
        try:
            await self.refresh()
        except Exception:
            log.exception("rebuilding the search index failed; answering from the previous one")
        finally:
            self._rebuild = None

    async def close(self) -> None:
        """Stop the background work (index rebuild, vector loads) before the store closes."""
        rebuild = self._rebuild
        if rebuild is not None and not rebuild.done():
            rebuild.cancel()
            await asyncio.gather(rebuild, return_exceptions=True)
        await self.semantic.close()

    # -- ask ---------------------------------------------------------------

    async def ask(self, question: str, *, limit: int = 5, audience: Audience = OPERATOR) -> Answer:
        """Ranked stories for a question, among those `audience` may see. Never raises
        for any str input."""
        text = question if isinstance(question, str) else str(question)
        try:
            hidden = await self.store.hidden_ids(audience)
            return await self._ask(text, max(1, min(int(limit), 50)), hidden)
        except (StoreError, ValueError, RecursionError, MemoryError) as exc:
            # A broken store or a pathological input must not break a chat command.
            log.warning("search failed for %r: %s", text[:80], exc)
            cut = text[: self.max_query_chars]
            return Answer(
                query=cut,
                cleaned="",
                hits=[],
                suggestions=[],
                notice="Search is unavailable right now; please try again.",
            )

    async def _ask(
        self, text: str, limit: int, hidden: frozenset[int], *, semantic: bool = True
    ) -> Answer:
        index = await self._ready()
        parsed = parse(text, max_chars=self.max_query_chars)
        notice = (
            f"Your question was cut to {self.max_query_chars} characters."
            if parsed.was_cut
            else None
        )
        if not parsed.terms:
            return Answer(
                query=parsed.text,
                cleaned="",
                hits=[],
                suggestions=[],
                notice=_join(notice, NO_MORE_WORDS),
            )
        plan = self._plan(index, parsed)
        answer = partial(
            Answer,
            query=parsed.text,
            cleaned=" ".join(parsed.terms),
            notice=notice,
            corrected=plan.corrected,
            topic=index.topics[plan.topic].name if plan.topic is not None else None,
        )
        if plan.topic_only and plan.topic is not None and not plan.exact:
            docs = index.topics[plan.topic].docs[: limit * 8]
            return answer(
                hits=self._collapse(index, [(i, 1.0) for i in docs], limit, hidden),
                suggestions=[],
            )
        # The semantic half runs in a thread meanwhile (see dense.Semantic.search).
        nearest = (
            asyncio.ensure_future(self.semantic.search(self.store, parsed.text, DENSE_K))
            if semantic
            else None
        )
        try:
            candidates, every = await self._candidates(index, plan)
        finally:
            dense = await nearest if nearest is not None else None
        scored, sure = await self._rerank(index, plan, candidates, every, dense)
        if not sure:
            return answer(hits=[], suggestions=self._suggest(index, parsed, scored))
        hits = self._collapse(index, [s for s in scored if s[0] in sure], limit, hidden)
        return answer(hits=hits, suggestions=[])

    def _plan(self, index: Index, parsed: Parsed) -> Plan:
        concepts, corrected = build_concepts(index, parsed, self._wordnet)
        topic, topic_only, _ = detect_topic(index, parsed)
        return Plan(
            parsed=parsed,
            concepts=concepts,
            corrected=corrected,
            topic=topic,
            topic_only=topic_only,
            exact=exact_titles(index, parsed),
        )

    async def _candidates(self, index: Index, plan: Plan) -> tuple[dict[int, float], set[int]]:
        """(doc position → bm25, 0 when found unscored; docs holding every concept).

        Bounded work: a few FTS queries, from the strictest down, stopping once enough is found.
        """
        found: dict[int, float] = {i: 0.0 for i in plan.exact}
        every: set[int] = set()
        usable = sorted((c for c in plan.concepts if c.alts and not c.weak), key=lambda c: c.cost)
        if not usable:
            return found, every
        rare: list[Concept] = []
        spent = 0
        for c in usable:
            if spent + c.cost > RARE_BUDGET:
                break
            rare.append(c)
            spent += c.cost
        queries: list[tuple[TextQuery, bool, bool]] = []  # (query, scored, holds every concept)
        if rare:
            # Any form of any rare concept: one OR group of all their forms.
            queries.append((TextQuery((tuple(a for c in rare for a in c.alts),)), True, False))
        # A word in a third of all stories filters little and costs a long doclist merge.
        strict = [
            c
            for c in sorted(usable, key=lambda c: c.df)
            if c.core and c.df <= index.vocab.n_docs * 0.3
        ]
        if len(strict) >= 2:
            # Stories holding every typed word (then all but the most common one):
            # found newest first and unscored, so common words cost little.
            all_of = tuple(tuple(c.core) for c in strict)
            queries.append((TextQuery(all_of, fields=("title",)), False, True))
            queries.append((TextQuery(all_of), False, True))
            if len(strict) >= 3:
                queries.append((TextQuery(all_of[:-1]), False, False))
        elif not rare:
            queries.append((TextQuery((tuple(usable[0].alts),), fields=("title",)), False, False))
        for query, scored, complete in queries:
            if scored:
                rows = [
                    (r.article_id, r.score)
                    for r in await self.store.match_ranked(query, FTS_WEIGHTS, limit=PAGE)
                ]
            else:
                rows = [(aid, 0.0) for aid in await self.store.match_newest(query, limit=PAGE)]
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
        self,
        index: Index,
        plan: Plan,
        found: dict[int, float],
        every: set[int],
        dense: Dense | None,
    ) -> tuple[list[tuple[int, float]], set[int]]:
        """(candidates by fused score, best first; those sure enough to answer)."""
        near = [index.pos[aid] for aid, _ in dense.top if aid in index.pos] if dense else []
        for i in near:
            found.setdefault(i, 0.0)
        if not found:
            return [], set()
        match = Matcher(plan.concepts, self._stem_cache, index.vocab)
        # Stage 1, cheap: titles (in memory) and bm25 pick the stories worth reading in full.
        best_bm25 = min(found.values()) or -1.0
        pre: list[tuple[float, int]] = []
        for i, bm in found.items():
            title = match.coverage(match.scores(index.titles[i], 1.0))
            pre.append((title + 0.6 * (bm / best_bm25) + (0.5 if i in every else 0.0), i))
        pre.sort(reverse=True)
        docs = [i for _, i in pre[:FULL_RERANK]]
        docs.extend(i for i in (*plan.exact, *near) if i not in docs)
        texts = await self.store.search_texts([index.ids[i] for i in docs])
        query_text = " ".join(plan.parsed.terms)
        span = max(1.0, index.ts_max - index.ts_min)
        recency_w = 0.25 if plan.parsed.recency else 0.03
        exact = set(plan.exact)
        preferred = plan.exact[0] if plan.exact else None
        n = len(plan.concepts)
        scored: list[tuple[int, float]] = []
        sure: set[int] = set()
        cosines = _cosines(index, docs, dense)
        for i in docs:
            best = [0.0] * n
            found_text = texts.get(index.ids[i])
            for name, text in (
                ("title", index.titles[i]),
                ("topics", found_text.topics if found_text else ""),
                ("provider", found_text.provider if found_text else ""),
                ("related", found_text.related if found_text else ""),
                ("excerpt", found_text.excerpt if found_text else ""),
            ):
                if not text:
                    continue
                # Each word's best field only: a bonus for a second field changed no
                # answer of the dev split, with or without the semantic half.
                best = [
                    max(b, v)
                    for b, v in zip(best, match.scores(text, FIELD_VALUE[name]), strict=True)
                ]
            lex = match.coverage(best)
            sim = (
                fuzz.token_set_ratio(query_text, index.titles[i], processor=utils.default_process)
                / 100
            )
            score = (1 - TITLE_SIM) * lex + TITLE_SIM * sim
            if plan.topic is not None and plan.topic in index.doc_topics[i]:
                score += 0.1
            if i in exact:
                score += 2.0 if i == preferred else 1.0
            t = index.ts[i]
            fresh = 0.0 if t == -math.inf else (t - index.ts_min) / span
            score += 0.02 * index.quality[i] / 100 + 0.01 * min(index.heat[i], 200) / 200
            score += recency_w * fresh
            cos = cosines.get(i, 0.0)
            real = dense.cosine(index.ids[i]) if dense is not None else None
            if score >= CUTOFF or (real is not None and real >= SEM_CUTOFF):
                sure.add(i)
            scored.append((i, score + SEMANTIC_WEIGHT * cos))
        scored.sort(key=lambda s: (-s[1], -index.ts[s[0]], -index.ids[s[0]]))
        return scored, sure

    def _collapse(
        self,
        index: Index,
        ranked: Iterable[tuple[int, float]],
        limit: int,
        hidden: frozenset[int] = frozenset(),
    ) -> list[Hit]:
        """One hit per event: later records of a kept event go into its `also`;
        `hidden` stories are left out."""
        kept: list[tuple[int, float, list[int]]] = []
        by_cluster: dict[int, int] = {}
        kept_titles: list[str] = []
        if hidden:
            ranked = [(i, score) for i, score in ranked if index.ids[i] not in hidden]
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

    def _hit(self, index: Index, i: int, score: float, also: list[int]) -> Hit:
        p = index.provider[i]
        return Hit(
            article_id=index.ids[i],
            # Within 0..1 whatever the fusion: a full lexical match plus a full cosine is 1.
            score=round(min(1.0, max(0.0, score / (1.0 + self._weight()))), 4),
            title=index.titles[i],
            url=index.links[i],
            provider=index.providers[p].name if p >= 0 else None,
            published=index.doc_time(i),
            topics=tuple(index.topics[k].name for k in index.doc_topics[i]),
            also=tuple(also),
        )

    def _weight(self) -> float:
        return SEMANTIC_WEIGHT if self.semantic.embedded else 0.0

    def _suggest(self, index: Index, parsed: Parsed, scored: list[tuple[int, float]]) -> list[str]:
        out: list[str] = []
        query = " ".join(parsed.terms)
        if scored:
            titles = [index.titles[i] for i, _ in scored[:50]]
            for title, score, _ in process.extract(
                query, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=3
            ):
                if score >= 60 and title not in out:
                    out.append(title)
        names = [t.name for t in index.topics if t.docs]
        for name, score, _ in process.extract(
            query, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=3
        ):
            if score >= 70 and name not in out:
                out.append(name)
        return out[:3]

    # -- autocomplete and topics ---------------------------------------------

    async def autocomplete(
        self, text: str, *, limit: int = 25, audience: Audience = OPERATOR
    ) -> list[tuple[str, str]]:
        """(label, value) pairs of titles matching what is typed so far, among the
        stories `audience` may see."""
        try:
            hidden = await self.store.hidden_ids(audience)
            text = text if isinstance(text, str) else str(text)
            return await self._autocomplete(text, limit, audience, hidden)
        except (StoreError, ValueError, RecursionError, MemoryError) as exc:
            log.warning("autocomplete failed for %r: %s", str(text)[:80], exc)
            return []

    async def _autocomplete(
        self, text: str, limit: int, audience: Audience, hidden: frozenset[int]
    ) -> list[tuple[str, str]]:
        index = await self._ready()
        limit = max(1, min(limit, 25))
        parsed = parse(text, max_chars=self.max_query_chars)
        tokens = parsed.tokens
        if not tokens:
            latest = (
                sorted(
                    range(len(index.ids)), key=lambda i: (index.ts[i], index.ids[i]), reverse=True
                )[:limit]
                if len(index.ids) <= limit * 40
                else self._newest(index, limit)
            )
            if hidden:
                latest = [i for i in latest if index.ids[i] not in hidden]
            return self._choices(index, latest, limit)
        partial = "" if text[-1:].isspace() else tokens[-1]
        whole = [t for t in (tokens[:-1] if partial else tokens) if not is_stop(t)]
        vocab = index.vocab
        groups: list[tuple[str, ...]] = []
        for t in whole[:8]:
            alts = vocab.family(t) or vocab.family(vocab.correct(t) or "")
            if alts:
                groups.append(tuple(alts))
        if partial and (len(partial) >= 2 or not groups):
            words = vocab.with_prefix(partial, limit=16)
            if words:
                groups.append(tuple(words))
            elif len(partial) >= 4 and (fix := vocab.correct(partial)):
                groups.append((fix,))
        docs: list[int] = []
        if groups:
            found = await self.store.match_newest(
                TextQuery(tuple(groups), fields=("title",)), limit=limit * 4
            )
            docs = [index.pos[aid] for aid in found if aid in index.pos]
        norm = parsed.folded
        docs.sort(
            key=lambda i: (-_prefix_score(norm, normalize_title(index.titles[i])), -index.ts[i])
        )
        if len(docs) < limit:
            # Lexical only: half-typed words mean nothing to the model, and a question
            # embedding per keystroke would cost more than the whole completion.
            answer = await self._ask(text, limit, hidden, semantic=False)
            docs.extend(index.pos[h.article_id] for h in answer.hits if h.article_id in index.pos)
        if hidden:
            docs = [i for i in docs if index.ids[i] not in hidden]
        return self._choices(index, docs, limit)

    def _newest(self, index: Index, limit: int) -> list[int]:
        seen: list[int] = []
        for t in index.topics:
            seen.extend(t.docs[:limit])
        if not seen:
            seen = list(range(len(index.ids)))
        return sorted(set(seen), key=lambda i: (index.ts[i], index.ids[i]), reverse=True)[:limit]

    def _choices(self, index: Index, docs: Iterable[int], limit: int) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        values: set[str] = set()
        for i in docs:
            title = " ".join(index.titles[i].split())
            value = _cut(title, 100)
            # Several stories under one headline: offer the one `ask(value)` ranks first.
            key = normalize_title(value)
            lo = bisect.bisect_left(index.title_keys, key)
            if lo < len(index.title_keys) and (
                index.title_keys[lo] == key
                or (len(key) >= 24 and index.title_keys[lo].startswith(key))
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
        starts = [
            t.name
            for t in ranked
            if t.key.startswith(query)
            or any(w.startswith(query) for w in tokenize(t.name))
            or t.acronym == query
        ]
        out = list(dict.fromkeys(starts))
        if len(out) < limit:
            for name, score, _ in process.extract(
                query, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit
            ):
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
        found = process.extractOne(
            query,
            [t.name for t in live],
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=85,
        )
        if found:
            return found[0]
        parsed = parse(query)
        k, _, _ = detect_topic(index, parsed)
        return index.topics[k].name if k is not None else None


def _cosines(index: Index, docs: list[int], dense: Dense | None) -> dict[int, float]:
    """Position → the question's cosine with that story. A story not embedded yet gets
    the candidates' mean: neither favoured nor buried until its vector exists."""
    if dense is None:
        return {}
    found = {i: c for i in docs if (c := dense.cosine(index.ids[i])) is not None}
    mean = sum(found.values()) / len(found) if found else 0.0
    return {i: found.get(i, mean) for i in docs}


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
