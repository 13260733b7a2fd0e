"""Cutting text to a length without breaking what it holds.

:func:`truncate` cuts at a word boundary and never inside one of our markdown
links or Discord timestamps; the others keep whole lines or items and say how
many were left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.core.text import ELLIPSIS
from bot.replies.limits import MAX_FIELD_VALUE

# Units never cut in half: our markdown links and Discord timestamps.
_ATOM_RE = re.compile(r"\[(?:[^\[\]\\\n]|\\.)*\]\([^()\s]*\)|<t:-?\d+(?::[a-zA-Z])?>")


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """Cut ``text`` to at most ``limit`` chars, ending in ``ellipsis``.

    Cuts at a word boundary when one is in the second half, never inside a
    markdown link or timestamp when avoidable, and never leaves a dangling
    escape backslash (it would escape the ellipsis).
    """
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[: max(limit, 0)]
    cut = limit - len(ellipsis)
    for m in _ATOM_RE.finditer(text):
        if m.start() >= cut:
            break
        if m.end() > cut:
            cut = m.start()
            break
    head = text[:cut]
    if cut < len(text) and not text[cut].isspace():
        sp = max(head.rfind(" "), head.rfind("\n"))
        if sp >= cut // 2:
            head = head[:sp]
    head = head.rstrip()
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:
        head = head[:-1]
    # A cut between a zero-width space and what it protects is harmless, but
    # a bare one left at the end is clutter.
    head = head.rstrip("\u200b").rstrip()
    return head + ellipsis


def fit_lines(value: str, limit: int, *, marker: str = ELLIPSIS) -> str:
    """Keep whole lines of ``value`` (ending with a ``marker`` line) within ``limit``."""
    if len(value) <= limit:
        return value
    lines = value.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines:
        extra = len(line) + (1 if kept else 0)
        if size + extra + len(marker) + 1 > limit:
            break
        kept.append(line)
        size += extra
    if not kept:
        return truncate(lines[0], limit)
    return "\n".join([*kept, marker])


def pack_lines(lines: Sequence[str], limit: int = MAX_FIELD_VALUE) -> list[str]:
    """Group lines into field values of at most ``limit`` chars, never splitting one."""
    values: list[str] = []
    cur = ""
    for line in lines:
        line = fit_lines(line, limit)
        if cur and len(cur) + 1 + len(line) > limit:
            values.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        values.append(cur)
    return values


def join_fitting(items: Iterable[str], sep: str, limit: int) -> str:
    """Join whole items within ``limit``, ending with "+N" for those left out."""
    items = list(items)
    out: list[str] = []
    size = 0
    for i, item in enumerate(items):
        add = len(item) + (len(sep) if out else 0)
        rest = len(items) - i - 1
        tail = len(f"{sep}+{rest}") if rest else 0
        if size + add + tail > limit:
            if not out:
                return truncate(item, limit)
            out.append(f"+{len(items) - i}")
            break
        out.append(item)
        size += add
    return sep.join(out)


def lines_within(lines: Sequence[str], limit: int) -> str:
    """Whole lines up to ``limit``, then an "…and N more" line."""
    out: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        rest = len(lines) - i - 1
        tail = len(f"\n…and {rest} more") if rest else 0
        if size + len(line) + 1 + tail > limit:
            more = len(lines) - i
            if not out:
                return truncate(line, limit)
            out.append(f"…and {more} more")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)
