"""A feed document → stories: feedparser, then each entry through the record validation.

`parse_document` is a plain function of bytes (module-level, so it runs in a
worker process as the loader's parser does). Each entry is turned into the
mapping a record's front matter would hold (title, webUrl, excerpt,
publishedDateTime, provider, topics, images) and built by
`records.article_from_mapping`, so a feed story is validated exactly as a
record is: a bad field is dropped with a warning, an entry without a title or
an http(s) link is skipped with the reason.

An entry's hash is taken over that mapping *before* a missing date is filled
in with the fetch time, so an undated entry that did not change is still
"unchanged" at the next poll.
"""

from __future__ import annotations

import hashlib
import json
import time
from calendar import timegm
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.core.feeds.grouping import title_words
from bot.core.feeds.guard import HostileDocument, check_document
from bot.core.records import RecordError, article_from_mapping, is_http_url
from bot.core.store import Prepared, prepare
from bot.core.text import strip_invisible

MAX_EXCERPT = 1_000  # characters of an entry's summary kept as its excerpt
MAX_ENTRIES = 500
# feedparser's notes that say nothing is wrong with the entries read.
_HARMLESS = (
    feedparser.CharacterEncodingOverride,
    feedparser.NonXMLContentType,
)  # entries read from one document (a real feed carries 10 to 100)


class _TextOnly(HTMLParser):
    """The text of an HTML fragment; scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "br", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(fragment: str, limit: int | None = None) -> str:
    """HTML → plain text on one line, invisible characters dropped, cut at `limit`
    characters (on a word boundary, with an ellipsis)."""
    if "<" in fragment or "&" in fragment:
        parser = _TextOnly()
        parser.feed(fragment)
        parser.close()
        fragment = "".join(parser.parts)
    text = " ".join(fragment.split())
    if not (text.isascii() and text.isprintable()):
        # Invisible and control characters; the per-character pass only when there may be some.
        text = " ".join(strip_invisible(text).split())
    if limit is not None and len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.") + "…"
    return text


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry as a story ready for the store, with the hash of what the feed said."""

    key: str  # canonical URL
    entry_hash: str
    prepared: Prepared
    words: frozenset[str]  # `grouping.title_words` of its title, split in the worker


@dataclass(slots=True)
class ParsedFeed:
    """A parsed document: its title and link, its entries, and what went wrong.

    `error` set: nothing could be read (not well-formed, not a feed, hostile).
    """

    title: str = ""
    link: str = ""
    entries: list[ParsedEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # entries that are not stories, why
    error: str | None = None


def _domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _when(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(timegm(parsed), UTC).isoformat()
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _images(entry: Any) -> list[dict[str, Any]]:
    """media:content, media:thumbnail, then image enclosures, in that order, once each."""
    found: list[dict[str, Any]] = []
    for item in entry.get("media_content") or ():
        kind = f"{item.get('medium') or ''} {item.get('type') or ''}"
        if "image" in kind or not kind.strip():
            found.append(
                {
                    "url": item.get("url"),
                    "width": _int(item.get("width")),
                    "height": _int(item.get("height")),
                }
            )
    for item in entry.get("media_thumbnail") or ():
        found.append(
            {
                "url": item.get("url"),
                "width": _int(item.get("width")),
                "height": _int(item.get("height")),
            }
        )
    for link in entry.get("links") or ():
        if link.get("rel") == "enclosure" and str(link.get("type") or "").startswith("image/"):
            found.append({"url": link.get("href")})
    seen: set[str] = set()
    out = []
    for image in found:
        url = image.get("url")
        if isinstance(url, str) and url not in seen:
            seen.add(url)
            out.append({k: v for k, v in image.items() if v is not None})
    return out


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _entry_mapping(
    entry: Any, provider: dict[str, str] | None, topics: Sequence[str]
) -> dict[str, Any] | None:
    """The front matter a record of this entry would hold (None: no usable link)."""
    link = entry.get("link") or ""
    if not is_http_url(link):
        guid = entry.get("id") or ""
        link = guid if is_http_url(guid) else link
    title = html_to_text(entry.get("title") or "", 500)
    tags = [t.get("term") or t.get("label") for t in entry.get("tags") or ()]
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    data: dict[str, Any] = {
        "title": title,
        "webUrl": link,
        "excerpt": html_to_text(summary, MAX_EXCERPT),
        "publishedDateTime": _when(entry),
        "topics": [t for t in [*tags, *topics] if isinstance(t, str) and t.strip()],
        "images": _images(entry),
    }
    if provider is not None:
        domain = _domain(link) if is_http_url(link) else provider["domain"]
        data["provider"] = {"name": provider["name"] or domain, "domain": domain}
    return data


def parse_document(
    body: bytes,
    *,
    url: str,
    topics: Sequence[str] = (),
    fetched_at: float | None = None,
    content_type: str | None = None,
) -> ParsedFeed:
    """Parse one fetched document into stories. Never raises for a bad document."""
    out = ParsedFeed()
    try:
        check_document(body)
    except HostileDocument as exc:
        out.error = str(exc)
        return out
    try:
        doc = feedparser.parse(
            body,
            response_headers={
                "content-location": url,
                "content-type": content_type or "application/xml",
            },
            sanitize_html=False,
        )
    except Exception as exc:  # feedparser's loose parser on something very odd
        out.error = f"feed parser failed: {type(exc).__name__}: {exc}"[:300]
        return out
    problem = doc.get("bozo_exception")
    if doc.get("bozo") and not doc.entries:
        out.error = f"not a well-formed feed: {problem}"[:300]
        return out
    if not doc.get("version") and not doc.entries:
        out.error = "not an RSS, Atom or RDF feed (no channel and no entries found)"
        return out
    if (
        doc.get("bozo")
        and problem is not None
        and not isinstance(problem, feedparser.CharacterEncodingOverride)
    ):
        out.warnings.append(f"{url}: partly malformed, entries read up to the problem: {problem}")
    feed = doc.get("feed") or {}
    out.title = html_to_text(feed.get("title") or "", 200)
    out.link = feed.get("link") or ""
    provider = {"name": out.title, "domain": _domain(out.link or url)}
    now = time.time() if fetched_at is None else fetched_at
    stamp = datetime.fromtimestamp(now, UTC).isoformat()
    for n, entry in enumerate(doc.entries[:MAX_ENTRIES]):
        where = f"{url} entry {n + 1}"
        data = _entry_mapping(entry, provider, topics)
        if data is None:
            continue
        entry_hash = hashlib.blake2b(
            json.dumps(data, sort_keys=True, default=str).encode(), digest_size=16
        ).hexdigest()
        undated = data["publishedDateTime"] is None
        if undated:
            data["publishedDateTime"] = stamp
        try:
            article = article_from_mapping(data, where)
        except RecordError as exc:
            out.skipped.append(str(exc))
            continue
        warnings = list(article.warnings)
        if undated:
            warnings.append(f"{where}: no publication date; the fetch time is used")
        out.warnings.extend(warnings)
        prepared = prepare(replace(article, source=url, warnings=()))
        out.entries.append(
            ParsedEntry(prepared.url, entry_hash, prepared, title_words(prepared.title))
        )
    if doc.get("bozo") and not out.entries:
        # Nothing usable came out of a broken document: that is the parser's error.
        out.error = f"not a well-formed feed: {problem}"[:300]
        out.warnings.clear()
        return out
    if len(doc.entries) > MAX_ENTRIES:
        out.warnings.append(f"{url}: {len(doc.entries)} entries; only the first {MAX_ENTRIES} read")
    return out
