"""Small text helpers shared across the core: folding, word splitting, text hygiene.

Text hygiene (:func:`strip_invisible`) is for untrusted article text: it drops
the characters that can hide or reorder what a reader sees.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

ELLIPSIS = "…"
# Invisible characters that can hide or reorder text (spoofing, "Trojan Source").
INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Écoles d’Été' → 'ecoles d’ete'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """Folded words (letters and digits), punctuation dropped."""
    return _WORD.findall(fold(text))


def format_bytes(n: int) -> str:
    """1536 → '1.5 KiB'."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def strip_invisible(text: str) -> str:
    """``text`` without invisible, bidi-control and control characters.

    Tabs and newlines become spaces (collapse whitespace afterwards); a lone
    surrogate is dropped, since it cannot even be encoded as UTF-8.
    """
    text = INVISIBLE.sub("", text)
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" " if ch.isspace() else "")
        elif cat == "Cs":
            continue
        else:
            out.append(ch)
    return "".join(out)


def format_duration(seconds: float) -> str:
    """Every duration newsbot prints, in one format: '0.4 s', '12 s', '3 min 5 s', '2 h 3 min',
    '1 d 2 h'."""
    if seconds < 9.95:  # what would print as "10.0 s" prints as "10 s"
        return f"{max(seconds, 0.0):.1f} s"
    whole = round(seconds)
    d, rem = divmod(whole, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m} min"
    if m:
        return f"{m} min {s} s"
    return f"{s} s"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 file', '3 files' (thousands separated: '1,204 files')."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
