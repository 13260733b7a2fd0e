"""From a parsed question to weighted concepts, and how well a text covers them.

A concept is one typed word with everything that counts as it: inflections
found in the store, a typo correction, a joined form ('cloud comerce' →
cloudcommerce), an acronym's expansion, and (weighted less) WordNet
synonyms and longer words built on it. Topic and exact-title detection live
here too.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.search.index import Index, TopicEntry
from bot.core.search.query import Parsed, is_stop, tokenize
from bot.core.search.vocab import Vocabulary, stem
from bot.core.search.wordnet import WordNet


@dataclass(slots=True)
class Concept:
    """One typed word, everything that counts as it, and its weight in the question."""

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
class Plan:
    """How a question is searched: its concepts and corrections, and the topic and
    exact titles it names."""

    parsed: Parsed
    concepts: list[Concept]
    corrected: dict[str, str]
    topic: int | None  # detected topic
    topic_only: bool  # the question is just a topic request
    exact: list[int]  # docs whose title is what was typed


SYNONYM_ALTS = 5  # related words added per typed word at most
USAGE_DAMP = 0.3  # how much everyday English usage lowers a word's weight


def _add(c: Concept, vocab: Vocabulary, words: Iterable[str], factor: float) -> None:
    for w in words:
        if not w:
            continue
        if w not in c.alts:
            c.alts.append(w)
        k = vocab.stem(w)
        if factor > c.keys.get(k, 0.0):
            c.keys[k] = factor


def _related(index: Index, wn: WordNet | None, lemma: str) -> list[tuple[str, float]]:
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


def build_concepts(
    index: Index, parsed: Parsed, wn: WordNet | None
) -> tuple[list[Concept], dict[str, str]]:
    """The question's weighted concepts, and the typo corrections made (typed → stored)."""
    vocab = index.vocab
    is_word = wn.is_word if wn is not None else None
    corrected: dict[str, str] = {}
    out: list[Concept] = []
    common = max(50, vocab.n_docs // 20)
    for term in parsed.terms:
        if " " in term:  # a figure such as '4 6' (from 4.6): both parts, as a phrase
            parts = tuple(term.split())
            c = Concept(word=term, alts=[term], keys={}, core=[term], phrases=[(parts, 1.0)])
            c.df = min(vocab.df.get(p, 0) for p in parts)
            if c.df:
                out.append(c)
            continue
        c = Concept(word=term, alts=[], keys={stem(term): 1.0})
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
            elif (
                is_word is not None
                and len(term) >= 5
                and (near := vocab.correct(term, max_edits=1))
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
            c = Concept(word=term, alts=[], keys={}, weak=True)
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


def _prefixed(index: Index, term: str) -> list[tuple[str, float]]:
    """Longer stored words built on the typed one.

    'agree' → agreement, 'fundraising' → fundraisers.
    """
    vocab = index.vocab
    root = stem(term)
    root = root if len(root) >= 5 else term
    if len(root) < 5 or not root.isalpha():
        return []
    return [(w, 0.7) for w in vocab.with_prefix(root, limit=4) if len(w) <= len(root) + 5]


def _add_related(c: Concept, index: Index, related: list[tuple[str, float]]) -> None:
    for word, factor in related:
        if word not in c.alts:
            _add(c, index.vocab, [word], factor)


def _topic_match(
    topic: TopicEntry, stems: dict[str, str], words: list[str]
) -> tuple[set[str], set[str]]:
    """(topic words matched, typed words used).

    A topic word matches by stem, by prefix ('health' ~ healthcare) or as an acronym.
    """
    if topic.acronym and len(topic.acronym) >= 2 and topic.acronym in words:
        return set(topic.words), {topic.acronym}
    matched: set[str] = set()
    used: set[str] = set()
    for tw in topic.words:
        for s, w in stems.items():
            short, long_ = sorted((s, tw), key=len)
            if s == tw or (
                len(short) >= 4 and long_.startswith(short) and len(short) >= 0.4 * len(long_)
            ):
                matched.add(tw)
                used.add(w)
                break
    return matched, used


def detect_topic(index: Index, parsed: Parsed) -> tuple[int | None, bool, set[str]]:
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


def exact_titles(index: Index, parsed: Parsed) -> list[int]:
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


class Matcher:
    """Which concepts a text names, and how well: one pass over its words."""

    def __init__(self, concepts: list[Concept], stems: dict[str, str], vocab: Vocabulary) -> None:
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
        """Per concept, how well `text` names it: the best factor found times `value`
        (what the field counts for)."""
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
