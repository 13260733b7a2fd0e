"""Fitting embeds into Discord's limits before they are sent.

Every builder finishes with :func:`enforce_limits`, so no embed that leaves
`bot.replies` is rejected by Discord: text is cut, unsafe URLs removed, and
when several embeds are too long together, the least important parts go first.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import discord

from bot.replies.limits import (
    BLANK,
    MAX_AUTHOR,
    MAX_DESCRIPTION,
    MAX_EMBEDS,
    MAX_FIELD_NAME,
    MAX_FIELD_VALUE,
    MAX_FIELDS,
    MAX_FOOTER,
    MAX_TITLE,
    MAX_TOTAL,
    embed_chars,
)
from bot.replies.sanitize import safe_url, unlink_unsafe
from bot.replies.truncate import fit_lines, truncate

# Below this a description stops saying anything; shorten fields instead.
_DESCRIPTION_FLOOR = 120


def _limit_one(d: dict[str, Any]) -> None:
    d.pop("video", None)
    d.pop("provider", None)
    for key in ("url",):
        if key in d and not safe_url(d[key]):
            del d[key]
    if d.get("title"):
        d["title"] = truncate(str(d["title"]), MAX_TITLE)
    else:
        d.pop("title", None)
    if d.get("description"):
        d["description"] = truncate(unlink_unsafe(str(d["description"])), MAX_DESCRIPTION)
    else:
        d.pop("description", None)
    fields = []
    for f in (d.get("fields") or [])[:MAX_FIELDS]:
        name = truncate(str(f.get("name") or "").strip(), MAX_FIELD_NAME) or BLANK
        value = (
            fit_lines(unlink_unsafe(str(f.get("value") or "").strip()), MAX_FIELD_VALUE) or BLANK
        )
        fields.append({"name": name, "value": value, "inline": bool(f.get("inline", True))})
    if fields:
        d["fields"] = fields
    else:
        d.pop("fields", None)
    for key, limit in (("footer", MAX_FOOTER), ("author", MAX_AUTHOR)):
        part = d.get(key)
        if not isinstance(part, dict):
            d.pop(key, None)
            continue
        textkey = "text" if key == "footer" else "name"
        text = truncate(str(part.get(textkey) or "").strip(), limit)
        if not text:
            d.pop(key, None)
            continue
        part[textkey] = text
        for urlkey in ("url", "icon_url", "proxy_icon_url"):
            if urlkey in part and not safe_url(part[urlkey]):
                del part[urlkey]
    for key in ("image", "thumbnail"):
        part = d.get(key)
        if not isinstance(part, dict) or not safe_url(part.get("url")):
            d.pop(key, None)


def _fit_total(ds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def excess() -> int:
        return sum(embed_chars(d) for d in ds) - MAX_TOTAL

    ex = excess()
    if ex <= 0:
        return ds
    # 1. Shorten descriptions, longest first, down to a floor.
    for d in sorted(ds, key=lambda d: len(d.get("description") or ""), reverse=True):
        desc = d.get("description") or ""
        if ex <= 0:
            break
        if len(desc) <= _DESCRIPTION_FLOOR:
            continue
        d["description"] = truncate(desc, max(_DESCRIPTION_FLOOR, len(desc) - ex))
        ex = excess()
    # 2. Drop field lines, then fields, from the end (related coverage goes first).
    for d in reversed(ds):
        fields = d.get("fields") or []
        while ex > 0 and fields:
            last = fields[-1]
            lines = last["value"].split("\n")
            if len(lines) > 1:
                last["value"] = "\n".join(lines[:-1])
            else:
                fields.pop()
            ex = excess()
        if not fields:
            d.pop("fields", None)
        if ex <= 0:
            break
    # 3. Drop whole embeds from the end.
    while ex > 0 and len(ds) > 1:
        ds.pop()
        ex = excess()
    # 4. One embed still too long: cut its text parts.
    if ex > 0:
        d = ds[0]
        for path in (("description",), ("footer", "text"), ("author", "name"), ("title",)):
            holder: Any = d
            for k in path[:-1]:
                holder = holder.get(k) or {}
            text = holder.get(path[-1]) if isinstance(holder, dict) else None
            if not text:
                continue
            holder[path[-1]] = truncate(text, max(1, len(text) - ex))
            ex = excess()
            if ex <= 0:
                break
    return ds


def enforce_limits(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """Copies of ``embeds`` (at most 10) within all of Discord's embed limits,
    with unsafe URLs removed. Text is cut with "…" at word boundaries and
    whole lines of a field are dropped rather than a link cut in half."""
    ds = [copy.deepcopy(e.to_dict()) for e in embeds[:MAX_EMBEDS]]
    for d in ds:
        _limit_one(d)
    return [discord.Embed.from_dict(d) for d in _fit_total(ds)]
