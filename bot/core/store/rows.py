"""Rows ↔ values, for both drivers: the store's tables read as the named values of
`types`, and prepared stories written as column values.

A row is anything indexed by column name (`sqlite3.Row`, `asyncpg.Record`): both
drivers keep the same tables and columns, so one conversion serves both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Protocol

from bot.core.records import Article, Provider, Related
from bot.core.shards import ShardSpec, target_guild
from bot.core.store.feeds import FeedRow
from bot.core.store.prepared import Prepared, PreparedRelated, datetime_from_iso, images_from_json
from bot.core.store.types import (
    AlertOptions,
    IdPairs,
    IndexedArticles,
    IndexSnapshot,
    PendingAlert,
    PendingEdit,
    ProviderRow,
    Subscription,
    TopicRow,
)


class Row(Protocol):
    """A database row: its columns by name."""

    def __getitem__(self, key: str, /) -> Any: ...


def provider_of(name: str | None, domain: str | None) -> Provider | None:
    """A story's provider from its two columns (None when it has no name)."""
    return Provider(name, domain or "") if name is not None else None


def related_from_row(r: Row) -> Related:
    """A `related` row as the related link it stores."""
    return Related(
        title=r["title"],
        url=r["link"],
        excerpt=r["excerpt"],
        published=datetime_from_iso(r["published_at"]),
        # A related link's provider is kept only when it has a name.
        provider=provider_of(r["provider_name"], r["provider_domain"])
        if r["provider_name"]
        else None,
        quality=r["quality"],
        amp_url=r["amp_url"],
        cdn_amp_url=r["cdn_amp_url"],
        images=images_from_json(r["images"]),
    )


def article_from_row(r: Row, topics: Sequence[str], related: Sequence[Related]) -> Article:
    """An `articles` row (joined with its provider) with its topics and related links."""
    is_published = r["is_published"]
    return Article(
        id=r["id"],
        url=r["link"],
        title=r["title"],
        excerpt=r["excerpt"],
        body=r["body"],
        published=datetime_from_iso(r["published_at"]),
        amp_url=r["amp_url"],
        cdn_amp_url=r["cdn_amp_url"],
        original_url=r["original_url"],
        quality=r["quality"],
        heat=r["heat"],
        is_published=None if is_published is None else bool(is_published),
        provider=provider_of(r["provider_name"], r["provider_domain"]),
        topics=tuple(topics),
        images=images_from_json(r["images"]),
        related=tuple(related),
        secured=r["secured"],
        source=r["source"],
    )


def feed_from_row(r: Row) -> FeedRow:
    """A `feeds` row (with its story count) as a `FeedRow`."""
    return FeedRow(
        id=int(r["id"]),
        url=str(r["url"]),
        guild_id=r["guild_id"],
        added_by=r["added_by"],
        title=str(r["title"]),
        topics=tuple(json.loads(r["topics"])),
        every=float(r["every"]),
        state=str(r["state"]),
        reason=r["reason"],
        etag=r["etag"],
        last_modified=r["last_modified"],
        body_hash=r["body_hash"],
        failures=int(r["failures"]),
        gone=int(r["gone"]),
        polls=int(r["polls"]),
        last_fetch=r["last_fetch"],
        next_fetch=r["next_fetch"],
        created_at=float(r["created_at"]),
        stories=int(r["stories"]),
    )


def subscription_label(topic: str, keywords: str) -> str:
    """A subscription's label: its topic, or its keywords when it has none."""
    return topic or "keywords: " + keywords


def pending_from_row(r: Row) -> PendingAlert:
    """A pending outbox row (joined with its subscription and story) as a `PendingAlert`."""
    return PendingAlert(
        row_id=r["id"],
        subscription_id=r["subscription_id"],
        article_id=r["article_id"],
        target=r["target"],
        topic=subscription_label(r["topic"], r["keywords"]),
        published_ts=r["published_ts"],
        batch=r["batch"],
        attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"],
        created_at=r["created_at"],
        folded=bool(r["folded"]),
        options=alert_options(r),
    )


# The columns a load writes, in the order `article_values` and `related_values` give.
ARTICLE_COLUMNS = (
    "link",
    "title",
    "excerpt",
    "body",
    "published_at",
    "published_ts",
    "amp_url",
    "cdn_amp_url",
    "original_url",
    "quality",
    "heat",
    "is_published",
    "images",
    "secured",
    "source",
    "provider_id",
    "content_hash",
    "updated_at",
)
RELATED_COLUMNS = (
    "article_id",
    "position",
    "url",
    "link",
    "title",
    "excerpt",
    "published_at",
    "provider_name",
    "provider_domain",
    "quality",
    "amp_url",
    "cdn_amp_url",
    "images",
)


def article_values(p: Prepared, provider_id: int | None, now: float) -> tuple[Any, ...]:
    """Values for `ARTICLE_COLUMNS`."""
    return (
        p.link,
        p.title,
        p.excerpt,
        p.body,
        p.published_at,
        p.published_ts,
        p.amp_url,
        p.cdn_amp_url,
        p.original_url,
        p.quality,
        p.heat,
        p.is_published,
        p.images,
        p.secured,
        p.source,
        provider_id,
        p.content_hash,
        now,
    )


def related_values(article_id: int, position: int, r: PreparedRelated) -> tuple[Any, ...]:
    """Values for `RELATED_COLUMNS`."""
    return (
        article_id,
        position,
        r.url,
        r.link,
        r.title,
        r.excerpt,
        r.published_at,
        r.provider_name,
        r.provider_domain,
        r.quality,
        r.amp_url,
        r.cdn_amp_url,
        r.images,
    )


def embeddings_version_key(model: str) -> str:
    """The meta key that records which stories `model` embedded last."""
    return f"embeddings:{model}"


def subscription_from_row(r: Row) -> Subscription:
    """A `subscriptions` row as a `Subscription`."""
    return Subscription(
        id=int(r["id"]),
        guild_id=r["guild_id"],
        channel_id=r["channel_id"],
        user_id=int(r["user_id"]),
        target=str(r["target"]),
        topic_key=str(r["topic_key"]),
        topic=str(r["topic"]),
        keywords=tuple(str(r["keywords"]).split()),  # stored space-separated
        min_quality=float(r["min_quality"] or 0),
        created_at=float(r["created_at"]),
        status=str(r["status"]),
        status_reason=r["status_reason"],
        **asdict(alert_options(r)),
    )


def alert_options(r: Row) -> AlertOptions:
    """The alert options of a row that holds a subscription's option columns."""
    return AlertOptions(
        mention_role_id=r["mention_role_id"],
        thread=bool(r["thread"]),
        publish=bool(r["publish"]),
        max_per_hour=r["max_per_hour"],
        digest=r["digest"],
        digest_hour=int(r["digest_hour"]),
        on_update=r["on_update"],
    )


# The option columns of `subscriptions`, in the order `option_values` gives.
OPTION_COLUMNS = "mention_role_id, thread, publish, max_per_hour, digest, digest_hour, on_update"


def option_values(o: AlertOptions) -> tuple[object, ...]:
    """An `AlertOptions` as values for the option columns, in their order."""
    return (
        o.mention_role_id,
        int(o.thread),
        int(o.publish),
        o.max_per_hour,
        o.digest,
        o.digest_hour,
        o.on_update,
    )


def columns(rows: Sequence[Sequence[object]], n: int) -> list[list]:
    """Rows → n parallel column lists."""
    if not rows:
        return [[] for _ in range(n)]
    return [list(col) for col in zip(*rows, strict=True)]


def pending_edits_from_rows(rows: Sequence[Row], shards: ShardSpec) -> list[PendingEdit]:
    """Sent outbox rows (joined with their subscription, ordered by message) as one
    `PendingEdit` per message, for the messages whose target `shards` owns."""
    by_message: dict[int, list[Row]] = {}
    for r in rows:
        if not shards.owns_guild(target_guild(r["target"], r["guild_id"])):
            continue
        by_message.setdefault(int(r["message_id"]), []).append(r)
    return [
        PendingEdit(
            message_id=mid,
            target=group[0]["target"],
            topic=subscription_label(group[0]["topic"], group[0]["keywords"]),
            article_ids=tuple(dict.fromkeys(int(r["article_id"]) for r in group)),
            row_ids=tuple(int(r["id"]) for r in group),
        )
        for mid, group in by_message.items()
    ]


def snapshot_from_rows(
    articles: Sequence[Sequence[Any]],
    providers: Sequence[Sequence[Any]],
    topics: Sequence[Sequence[Any]],
    article_topics: Sequence[Sequence[Any]],
    related_pairs: Sequence[Sequence[Any]],
    *,
    shared_related: list[tuple[int, ...]],
    vocabulary: dict[str, int],
) -> IndexSnapshot:
    """The search index's snapshot from the rows of its queries (each driver reads
    the stories sharing a related link and the vocabulary in its own form)."""
    ids, titles, links, provider_ids, published_ts, quality, heat = columns(articles, 7)
    return IndexSnapshot(
        articles=IndexedArticles(
            ids=ids,
            titles=titles,
            links=links,
            provider_ids=provider_ids,
            published_ts=published_ts,
            quality=quality,
            heat=heat,
        ),
        providers=[ProviderRow(pid, name, domain or "") for pid, name, domain in providers],
        topics=[TopicRow(tid, name) for tid, name in topics],
        article_topics=IdPairs(*columns(article_topics, 2)),
        related_pairs=IdPairs(*columns(related_pairs, 2)),
        shared_related=shared_related,
        vocabulary=vocabulary,
    )
