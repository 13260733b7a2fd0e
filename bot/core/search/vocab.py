"""The store's vocabulary: word families, document frequencies, typo correction.

Built from the FTS index's own vocabulary (`articles_vocab`) at refresh, so a
"word of the store" is exactly a word the index can match.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

_VOWELS = frozenset("aeiouy")


def stem(word: str) -> str:
    """A light inflectional key: 'ditches', 'ditching', 'ditched' → 'ditch'.

    Only plural and verb endings are stripped ('making' → make, 'stopped' →
    stop, 'companies' → company); derivations are kept apart, since
    'marketing' is not 'market' and 'care' is not 'car'.
    """
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "zes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    cut = 3 if w.endswith("ing") else 2 if w.endswith("ed") and not w.endswith("eed") else 0
    if cut and len(w) - cut >= 2 and _VOWELS.intersection(w[:-cut]):
        w = w[:-cut]
        if len(w) > 2 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] not in "lsz":
            w = w[:-1]  # stopped → stop, running → run
        elif _short(w):
            w += "e"  # making → make, using → use
    if len(w) >= 5 and w.endswith("e"):
        w = w[:-1]  # raise/raised/raising → rais, agree/agreed → agre
    return w


def _short(w: str) -> bool:
    """A short stem that lost its e: consonant-vowel-consonant ('mak', 'hop'), or 'us'."""
    if len(w) == 2:
        return w[0] in _VOWELS and w[1] not in _VOWELS
    return (
        len(w) in (3, 4)
        and w[-1] not in _VOWELS
        and w[-1] not in "wxy"
        and w[-2] in _VOWELS
        and w[-3] not in _VOWELS
    )


class Vocabulary:
    """Terms of the index with their document frequencies."""

    def __init__(self, df: dict[str, int], n_docs: int) -> None:
        self.df = df
        self.n_docs = max(1, n_docs)
        self.stems: dict[str, str] = {}
        self.families: dict[str, list[str]] = {}
        self.by_len: dict[int, list[str]] = {}
        for term in df:
            key = stem(term)
            self.stems[term] = key
            self.families.setdefault(key, []).append(term)
            if term.isalpha() and len(term) >= 3:
                self.by_len.setdefault(len(term), []).append(term)
        for fam in self.families.values():
            fam.sort(key=lambda t: -df[t])
        self.sorted_terms = sorted(df)

    def __contains__(self, term: str) -> bool:
        return term in self.df

    def __len__(self) -> int:
        return len(self.df)

    def stem(self, term: str) -> str:
        """The term's stem (precomputed for stored terms)."""
        key = self.stems.get(term)
        return key if key is not None else stem(term)

    def idf(self, df: int) -> float:
        """BM25's idf: rare words weigh more, a word in every story almost nothing."""
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def family(self, term: str, limit: int = 8) -> list[str]:
        """Stored words sharing the term's stem, most frequent first."""
        return self.families.get(self.stem(term), [])[:limit]

    def correct(
        self, term: str, *, is_word: Callable[[str], bool] | None = None, max_edits: int = 3
    ) -> str | None:
        """Nearest stored word for a word the store does not know, or None.

        A word the store knows (in any inflection) is never corrected, nor is
        a real English word (`is_word`) that the store merely lacks: 'drop'
        is not a typo of 'crop'. Short words are too ambiguous to guess; the
        edit budget grows with length, and among equally close words the most
        frequent one wins.
        """
        if term in self.df or self.family(term) or not term.isalpha() or len(term) < 4:
            return None
        if is_word is not None and is_word(term):
            return None
        n = len(term)
        budget = min(max_edits, 1 if n <= 6 else 2 if n <= 10 else 3)
        pool: list[str] = []
        for length in range(n - budget, n + budget + 1):
            pool.extend(self.by_len.get(length, ()))
        if not pool:
            return None
        found = process.extract(term, pool, scorer=OSA.distance, score_cutoff=budget, limit=25)
        if found:
            best = min(found, key=lambda m: (m[1], -self.df[m[0]], m[0]))
            return best[0]
        if n < 6 or max_edits < 3:
            return None
        # Sound-alike misspellings ('amesight' for 'amesite') are further in
        # edits but close in shared letters; only the first letter is trusted.
        near = process.extract(
            term, [t for t in pool if t[0] == term[0]], scorer=fuzz.ratio, score_cutoff=80, limit=5
        )
        if not near:
            return None
        best = max(near, key=lambda m: (round(m[1]), self.df[m[0]], m[0]))
        return best[0]

    def with_prefix(self, prefix: str, limit: int = 12) -> list[str]:
        """Stored words starting with `prefix`, most frequent first."""
        lo = bisect.bisect_left(self.sorted_terms, prefix)
        hi = bisect.bisect_left(self.sorted_terms, prefix + "\U0010ffff")
        span = self.sorted_terms[lo:hi]
        if len(span) > limit:
            span = sorted(span, key=lambda t: -self.df[t])[:limit]
        return span

    def known(self, terms: Iterable[str]) -> list[str]:
        """The terms the store has, in the order given."""
        return [t for t in terms if t in self.df]
