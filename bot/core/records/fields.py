"""Per-field validation of front-matter values: a bad field is dropped with a warning (the
story still loads), never an error."""

from __future__ import annotations

import math
import reprlib
from datetime import UTC, date, datetime
from typing import Any

from bot.core.records.model import FieldWarning, Image, Provider, Related
from bot.core.records.urls import is_http_url

MAX_RELATED = 50
MAX_TOPICS = 50
MAX_IMAGES = 20


def as_text(value: Any) -> str | None:
    """A front-matter value as text (numbers too), or None when it is not text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        s = value.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            return None
    else:
        # A bare YAML date (2020-06-09) is a date, not a time: midnight UTC.
        if isinstance(value, date):
            dt = datetime(value.year, value.month, value.day)
        else:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value <= 100_000:
        return value
    if isinstance(value, float) and value.is_integer() and 0 <= value <= 100_000:
        return int(value)
    return None


_short_repr = reprlib.Repr()
_short_repr.maxlevel, _short_repr.maxstring, _short_repr.maxother = 2, 60, 60
_short_repr.maxlist = _short_repr.maxdict = 4


class FieldReader:
    """Reads one file's front-matter fields, collecting a warning for each bad one.

    Each reader method returns the field's value, or its empty value (after a warning)
    when the field is there but unusable. ``name`` is how a warning names the field
    when it is not ``key`` (a nested ``related[0].excerpt``).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.warnings: list[FieldWarning] = []

    def warn(self, name: str, value: Any, why: str) -> None:
        """Record that field ``name`` (holding ``value``) was dropped, and ``why``."""
        self.warnings.append(FieldWarning(self.path, name, _short_repr.repr(value), why))

    def text(self, d: dict, key: str, name: str | None = None) -> str:
        """Text (numbers as text too); ``""`` when absent or not text."""
        if key not in d or d[key] is None:
            return ""
        v = as_text(d[key])
        if v is None:
            self.warn(name or key, d[key], "is not text")
            return ""
        return v

    def url(self, d: dict, key: str, name: str | None = None) -> str | None:
        """An absolute http(s) URL, or None."""
        v = d.get(key)
        if v is None or v == "":
            return None
        if isinstance(v, str) and is_http_url(v.strip()):
            return v.strip()
        self.warn(name or key, v, "is not an http(s) URL")
        return None

    def number(self, d: dict, key: str, name: str | None = None) -> float | None:
        """A finite number (a numeric string too), or None."""
        if key not in d or d[key] is None:
            return None
        v = _number(d[key])
        if v is None:
            self.warn(name or key, d[key], "is not a number")
        return v

    def when(self, d: dict, key: str, name: str | None = None) -> datetime | None:
        """A UTC-aware date-time (a bare date is midnight UTC), or None."""
        if key not in d or d[key] is None or d[key] == "":
            return None
        v = _datetime(d[key])
        if v is None:
            self.warn(name or key, d[key], "is not a date-time")
        return v

    def flag(self, d: dict, key: str) -> bool | None:
        """True/false (also "yes"/"no" as text), or None."""
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no"):
            return v.strip().lower() in ("true", "yes")
        self.warn(key, v, "is not true/false")
        return None

    def provider(self, d: dict, key: str = "provider") -> Provider | None:
        """A `Provider` from a name, or a mapping with a name and/or domain; or None."""
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, str) and v.strip():
            return Provider(name=v.strip()[:200])
        if not isinstance(v, dict):
            self.warn(key, v, "is not a mapping")
            return None
        name = as_text(v.get("name")) or ""
        domain = as_text(v.get("domain")) or ""
        if not name and not domain:
            self.warn(key, v, "has no name or domain")
            return None
        return Provider(name=(name or domain)[:200], domain=domain.lower()[:200])

    def images(self, d: dict, key: str = "images", name: str = "images") -> tuple[Image, ...]:
        """Up to ``MAX_IMAGES`` images with http(s) URLs; bad entries are skipped."""
        v = d.get(key)
        if v is None:
            return ()
        if not isinstance(v, list):
            self.warn(name, v, "is not a list")
            return ()
        out: list[Image] = []
        for i, item in enumerate(v[: MAX_IMAGES * 2]):
            if isinstance(item, str):
                item = {"url": item}
            if not isinstance(item, dict):
                self.warn(f"{name}[{i}]", item, "is not a mapping")
                continue
            url = item.get("url")
            if not (isinstance(url, str) and is_http_url(url.strip())):
                self.warn(f"{name}[{i}].url", url, "is not an http(s) URL")
                continue
            out.append(
                Image(
                    url=url.strip(),
                    width=_int_or_none(item.get("width")),
                    height=_int_or_none(item.get("height")),
                    title=as_text(item.get("title")) or "",
                )
            )
            if len(out) >= MAX_IMAGES:
                break
        return tuple(out)

    def topics(self, d: dict) -> tuple[str, ...]:
        """Up to ``MAX_TOPICS`` topic names, whitespace-collapsed, case-insensitively unique."""
        v = d.get("topics")
        if v is None:
            return ()
        # A bare string is not taken as one topic: `topics: "not a list"` is a
        # mistake far more often than a story with exactly one topic.
        if not isinstance(v, list):
            self.warn("topics", v, "is not a list")
            return ()
        seen: dict[str, str] = {}
        for i, t in enumerate(v):
            name = as_text(t)
            if not name:
                self.warn(f"topics[{i}]", t, "is not a topic name")
                continue
            name = " ".join(name.split())[:100]
            seen.setdefault(name.casefold(), name)
            if len(seen) >= MAX_TOPICS:
                break
        return tuple(seen.values())

    def related(self, d: dict) -> tuple[Related, ...]:
        """Up to ``MAX_RELATED`` other outlets' stories with a title and an http(s) URL."""
        v = d.get("related")
        if v is None:
            return ()
        if not isinstance(v, list):
            self.warn("related", v, "is not a list")
            return ()
        out: list[Related] = []
        for i, item in enumerate(v[:MAX_RELATED]):
            where = f"related[{i}]"
            if not isinstance(item, dict):
                self.warn(where, item, "is not a mapping")
                continue
            title = as_text(item.get("title"))
            url = item.get("webUrl") or item.get("originalUrl") or item.get("url")
            if not title:
                self.warn(f"{where}.title", item.get("title"), "is missing or not text")
                continue
            if not (isinstance(url, str) and is_http_url(url.strip())):
                self.warn(f"{where}.webUrl", url, "is not an http(s) URL")
                continue
            out.append(
                Related(
                    title=" ".join(title.split()),
                    url=url.strip(),
                    excerpt=self.text(item, "excerpt", f"{where}.excerpt"),
                    published=self.when(item, "publishedDateTime", f"{where}.publishedDateTime"),
                    provider=self.provider(item, "provider"),
                    quality=self.number(item, "quality", f"{where}.quality"),
                    amp_url=self.url(item, "ampWebUrl", f"{where}.ampWebUrl"),
                    cdn_amp_url=self.url(item, "cdnAmpWebUrl", f"{where}.cdnAmpWebUrl"),
                    images=self.images(item, "images", f"{where}.images"),
                )
            )
        return tuple(out)
