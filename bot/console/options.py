"""Reading `key=value` options off a console command line."""

from __future__ import annotations

import shlex


def parse_options(rest: str) -> tuple[str, dict[str, str]]:
    """'Computer Vision keywords=a,b min_quality=50' → ('Computer Vision', {...})."""
    try:
        parts = shlex.split(rest)
    except ValueError:
        parts = rest.split()
    plain_words, opts = [], {}
    for p in parts:
        key, eq, value = p.partition("=")
        if eq and key.isidentifier():
            opts[key.lower()] = value
        else:
            plain_words.append(p)
    return " ".join(plain_words), opts
