"""Same-event grouping: which stored stories a new feed story is other coverage of.

Two outlets rarely write the same headline: "IBM stops work on facial
recognition over human rights concerns" and "IBM Ditches Facial Recognition
Tech Over Human Rights Concerns" are one event with a character similarity
of ~60%, like many unrelated pairs of market-report headlines. So the test is
on *content words* (folded, stopwords dropped, light stems): two headlines are
one event when they share at least `MIN_SHARED` such words and those cover at
least `MIN_OVERLAP` of the shorter headline's, and they were published within
`WINDOW` seconds of each other. The same canonical link is one story row
already (the store's identity), so it needs no test here.

The thresholds were chosen with `python -m bench.grouping`, which measures
precision and recall of this test on real headlines (the `related` titles of
../shared/corpus/smartable, real coverage of one event by other outlets,
against every pair of different records' titles); README "Feeds" gives the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.search.query import is_stop, tokenize
from bot.core.search.vocab import stem

WINDOW = 72 * 3600.0  # keeps 86% of the measured same-event coverage (bench.grouping)
MIN_SHARED = 3
MIN_OVERLAP = 0.6


def title_words(title: str) -> frozenset[str]:
    """The headline's content words: folded, stopwords dropped, light stems."""
    return frozenset(stem(w) for w in tokenize(title) if not is_stop(w))


def same_event(
    a: frozenset[str],
    b: frozenset[str],
    *,
    min_shared: int = MIN_SHARED,
    min_overlap: float = MIN_OVERLAP,
) -> bool:
    """Are headlines with these `title_words` the same event?"""
    if not a or not b:
        return False
    shared = len(a & b)
    return shared >= min_shared and shared / min(len(a), len(b)) >= min_overlap


@dataclass(frozen=True, slots=True)
class Headline:
    """A story as grouping sees it."""

    id: int
    title: str
    published_ts: float | None
    provider: str | None = None
    words: frozenset[str] | None = None  # its `title_words`, when already known


class EventIndex:
    """The recent stories grouping compares new ones with, indexed by content word.

    Held by the feed service across polls: a poll run reloads it from the store
    once (`replace`, reusing the words of titles it already split) and each feed's
    new stories are added as they are stored, so one feed's poll compares its
    entries with thousands of stories without reading them again. Candidates come
    only through *distinctive* words (in at most `RARE_FRACTION` of the stories, or
    `RARE_MIN`): "market" or "2020" in a hundred headlines proposes nothing, so the
    work stays linear in the number of new stories.
    """

    RARE_MIN = 10
    RARE_FRACTION = 0.005

    def __init__(self) -> None:
        self._heads: dict[int, Headline] = {}
        self._words: dict[int, frozenset[str]] = {}
        self._by_word: dict[str, set[int]] = {}

    def __len__(self) -> int:
        return len(self._heads)

    def replace(self, heads: Iterable[Headline]) -> None:
        """Hold exactly these stories."""
        old_heads, old_words = self._heads, self._words
        self._heads, self._words, self._by_word = {}, {}, {}
        for h in heads:
            prev = old_heads.get(h.id)
            words = old_words[h.id] if prev is not None and prev.title == h.title else None
            self._put(h, words)

    def add(self, heads: Iterable[Headline]) -> None:
        """Hold these stories too (a story already held is replaced)."""
        for h in heads:
            self._drop(h.id)
            self._put(h, None)

    def _put(self, h: Headline, words: frozenset[str] | None) -> None:
        if words is None:
            words = h.words if h.words is not None else title_words(h.title)
        self._heads[h.id] = h
        self._words[h.id] = words
        for w in words:
            self._by_word.setdefault(w, set()).add(h.id)

    def _drop(self, article_id: int) -> None:
        if self._heads.pop(article_id, None) is None:
            return
        for w in self._words.pop(article_id, ()):
            ids = self._by_word.get(w)
            if ids is not None:
                ids.discard(article_id)

    def pairs(self, new: Sequence[Headline], *, window: float = WINDOW) -> list[tuple[int, int]]:
        """(story, other story) pairs of one event among `new` (held already or not) and
        the held stories: within `window`, from another outlet."""
        self.add(new)
        rare = max(self.RARE_MIN, int(len(self._heads) * self.RARE_FRACTION))
        out: set[tuple[int, int]] = set()
        for h in new:
            if h.published_ts is None:
                continue
            mine = self._words[h.id]
            seen: set[int] = set()
            for w in mine:
                ids = self._by_word.get(w, ())
                if len(ids) <= rare:
                    seen.update(ids)
            for other_id in seen:
                other = self._heads[other_id]
                if other_id == h.id or other.published_ts is None:
                    continue
                if abs(other.published_ts - h.published_ts) > window:
                    continue
                if h.provider and other.provider == h.provider:
                    continue  # one outlet's two stories are two stories
                if same_event(mine, self._words[other_id]):
                    out.add((min(h.id, other_id), max(h.id, other_id)))
        return sorted(out)


def event_pairs(
    new: Sequence[Headline], stored: Iterable[Headline], *, window: float = WINDOW
) -> list[tuple[int, int]]:
    """(new story, other story) pairs of one event: each new story against the stored
    ones and the other new ones (see `EventIndex`)."""
    index = EventIndex()
    index.replace(stored)
    return index.pairs(new, window=window)
