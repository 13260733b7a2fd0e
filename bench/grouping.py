"""Measure the same-event test of `bot.core.feeds.grouping` on real headlines.

Positives: each record's title against the titles of its `related` coverage (real
headlines of other outlets), in ../shared/corpus/smartable and the bundled data.
Negatives: every pair of different records' titles that do not list each other.
Prints precision and recall for a grid of thresholds (the chosen one marked), the
spread of publication gaps of the positives (for the window), and the ratio of the
chosen test's F1 against plain character similarity (rapidfuzz ratio ≥ 80) measured in
the same run.

Usage::

    python -m bench.grouping
"""

from __future__ import annotations

import itertools
from pathlib import Path

from rapidfuzz import fuzz

from bot.core.feeds.grouping import MIN_OVERLAP, MIN_SHARED, WINDOW, same_event, title_words
from bot.core.records import parse_file
from bot.core.search.query import normalize_title

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = [ROOT.parent / "shared" / "corpus" / "smartable", ROOT / "data" / "articles"]


def _scores(pairs: list[tuple[str, str]], test) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for a, b in pairs if test(a, b))


def _prf(tp: int, fp: int, positives: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    """Print the figures."""
    articles = [
        parse_file(p) for folder in FOLDERS if folder.is_dir() for p in sorted(folder.glob("*.md"))
    ]
    positives: list[tuple[str, str]] = []
    gaps: list[float] = []
    related_urls: dict[str, set[str]] = {}
    for a in articles:
        related_urls[a.canonical_url] = {r.url for r in a.related}
        for r in a.related:
            positives.append((a.title, r.title))
            if a.published and r.published:
                gaps.append(abs((a.published - r.published).total_seconds()) / 3600)
    negatives = [
        (a.title, b.title)
        for a, b in itertools.combinations(articles, 2)
        if b.url not in related_urls[a.canonical_url] and a.url not in related_urls[b.canonical_url]
    ]
    print(f"{len(articles)} records: {len(positives)} same-event pairs, {len(negatives)} different")
    gaps.sort()
    if gaps:
        pct = {q: gaps[min(len(gaps) - 1, int(len(gaps) * q))] for q in (0.5, 0.9, 0.95)}
        print(
            "publication gap of same-event coverage (hours): "
            + ", ".join(f"p{int(q * 100)} {v:.0f}" for q, v in pct.items())
            + f"; window {WINDOW / 3600:.0f} h keeps "
            f"{sum(g <= WINDOW / 3600 for g in gaps) / len(gaps):.0%}"
        )
    words = {t: title_words(t) for pair in positives + negatives for t in pair}
    print("min_shared min_overlap  precision recall  F1")
    best = None
    for shared in (2, 3, 4):
        for overlap in (0.3, 0.4, 0.5, 0.6, 0.7):
            test = lambda a, b, s=shared, o=overlap: same_event(  # noqa: E731
                words[a], words[b], min_shared=s, min_overlap=o
            )
            p, r, f = _prf(_scores(positives, test), _scores(negatives, test), len(positives))
            mark = "  <- chosen" if (shared, overlap) == (MIN_SHARED, MIN_OVERLAP) else ""
            print(f"{shared:10d} {overlap:11.1f}  {p:9.3f} {r:6.3f} {f:5.3f}{mark}")
            if mark:
                best = (p, r, f)
    norm = {t: normalize_title(t) for t in words}
    plain = lambda a, b: fuzz.ratio(norm[a], norm[b]) >= 80  # noqa: E731
    bp, br, bf = _prf(_scores(positives, plain), _scores(negatives, plain), len(positives))
    print(f"baseline rapidfuzz ratio >= 80: precision {bp:.3f} recall {br:.3f} F1 {bf:.3f}")
    if best:
        ratio = best[2] / bf if bf else float("inf")
        print(
            f"chosen: precision {best[0]:.3f} recall {best[1]:.3f} F1 {best[2]:.3f}; "
            f"F1 ratio vs baseline {ratio:.2f}x"
        )


if __name__ == "__main__":
    main()
