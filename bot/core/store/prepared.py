"""A story turned into the values the store writes, computed without the database.

`prepare` runs in the loader's worker processes, so the parent only moves
bytes and runs SQL. Its values are NamedTuples rather than dataclasses because
the parent unpickles one per story while it holds the write lock: a NamedTuple
unpickles in about 5 µs, a slots dataclass (a Python `__setstate__` per object)
in about 18 µs, which cost a 10,000-story load a tenth of its throughput.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from bot.core.records import Article, Image, canonical_url
from bot.core.store.types import SearchText


class PreparedRelated(NamedTuple):
    """Another outlet's coverage of a prepared story, as stored."""

    url: str  # canonical
    link: str  # as written in the record
    title: str
    excerpt: str
    published_at: str | None  # ISO 8601
    provider_name: str | None
    provider_domain: str | None
    quality: float | None
    amp_url: str | None
    cdn_amp_url: str | None
    images: str  # JSON list of {url, width, height, title}


class ProviderKey(NamedTuple):
    """A story's provider as stored: (name, domain)."""

    name: str
    domain: str


class Prepared(NamedTuple):
    """A story as the values the store writes; cheap to pickle between processes."""

    url: str  # canonical: the identity
    content_hash: str
    link: str  # the URL as written in the record
    title: str
    excerpt: str
    body: str
    published_at: str | None  # ISO 8601, UTC
    published_ts: float | None  # the same, as epoch seconds
    amp_url: str | None
    cdn_amp_url: str | None
    original_url: str | None
    quality: float | None
    heat: float | None
    is_published: int | None
    images: str  # JSON list of {url, width, height, title}
    secured: str | None
    source: str | None
    provider: ProviderKey | None
    topics: tuple[str, ...]
    related: tuple[PreparedRelated, ...]
    text: SearchText


def prepare(a: Article) -> Prepared:
    """Everything about a story that can be computed without the database."""
    return Prepared(
        url=a.canonical_url,
        content_hash=a.content_hash(),
        link=a.url,
        title=a.title,
        excerpt=a.excerpt,
        body=a.body,
        published_at=_iso(a.published),
        published_ts=a.published.timestamp() if a.published else None,
        amp_url=a.amp_url,
        cdn_amp_url=a.cdn_amp_url,
        original_url=a.original_url,
        quality=a.quality,
        heat=a.heat,
        is_published=None if a.is_published is None else int(a.is_published),
        images=images_json(a.images),
        secured=a.secured,
        source=a.source,
        provider=ProviderKey(a.provider.name, a.provider.domain) if a.provider else None,
        topics=a.topics,
        related=tuple(
            PreparedRelated(
                url=canonical_url(r.url),
                link=r.url,
                title=r.title,
                excerpt=r.excerpt,
                published_at=_iso(r.published),
                provider_name=r.provider.name if r.provider else None,
                provider_domain=r.provider.domain if r.provider else None,
                quality=r.quality,
                amp_url=r.amp_url,
                cdn_amp_url=r.cdn_amp_url,
                images=images_json(r.images),
            )
            for r in a.related
        ),
        text=search_text(a),
    )


def search_text(a: Article) -> SearchText:
    """The text the full-text index holds for a story."""
    provider = f"{a.provider.name} {a.provider.domain}" if a.provider else ""
    excerpt = a.excerpt or a.body[:1000]
    related = " \n".join(f"{r.title} {r.provider.name if r.provider else ''}" for r in a.related)
    return SearchText(
        title=a.title,
        topics=" \n".join(a.topics),
        provider=provider,
        excerpt=excerpt,
        related=related,
    )


def images_json(images: Iterable[Image]) -> str:
    """Images as the JSON text the store keeps."""
    return json.dumps(
        [{"url": i.url, "width": i.width, "height": i.height, "title": i.title} for i in images],
        ensure_ascii=False,
    )


def images_from_json(raw: str | None) -> tuple[Image, ...]:
    """The inverse of `images_json`."""
    if not raw:
        return ()
    return tuple(
        Image(
            url=d["url"], width=d.get("width"), height=d.get("height"), title=d.get("title") or ""
        )
        for d in json.loads(raw)
    )


def datetime_from_iso(raw: str | None) -> datetime | None:
    """A stored ISO 8601 time, back as a datetime."""
    return datetime.fromisoformat(raw) if raw else None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
