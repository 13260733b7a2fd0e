"""Small text helpers shared by search and alerts: folding and word splitting."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Écoles d’Été' → 'ecoles d’ete'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """Folded words (letters and digits), punctuation dropped."""
    return _WORD.findall(fold(text))
