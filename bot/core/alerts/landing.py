"""How one alert message lands: its `Delivery` (ping, thread, forum tags, crosspost).

One function builds it for the dispatcher before it sends and for the preview, so
a preview shows exactly what the dispatcher would send. Discord's own numbers
(thread names of at most 100 characters, 10 crossposts an hour per channel) live
here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.core.alerts.delivery import THREAD_NAME_LIMIT, Delivery
from bot.core.records import Article
from bot.core.store.types import AlertOptions

__all__ = [
    "CROSSPOST_LIMIT",
    "CROSSPOST_WINDOW",
    "HOUR",
    "delivery_for",
    "digest_due",
    "digest_label",
    "thread_name",
]

CROSSPOST_LIMIT = 10  # Discord: crossposts per channel ...
CROSSPOST_WINDOW = 3600.0  # ... per hour
HOUR = 3600.0


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def digest_label(day: float) -> str:
    """The date a digest is for, as its thread is named: '2026-12-02'."""
    return datetime.fromtimestamp(day, tz=UTC).strftime("%Y-%m-%d")


def thread_name(articles: Sequence[Article], *, topic: str, digest_at: float | None) -> str:
    """A thread's name: the story's title for one story, 'topic · date' for a digest
    (`digest_at`: when it goes out); at most THREAD_NAME_LIMIT characters."""
    if digest_at is None and len(articles) == 1:
        title = articles[0].title or topic
        return _cut(title, THREAD_NAME_LIMIT) or "News"
    return _cut(f"{topic} · {digest_label(digest_at or 0.0)}", THREAD_NAME_LIMIT)


def digest_due(created_at: float, hour: int) -> float:
    """When a daily digest at `hour` (UTC) carries a row written at `created_at`: the
    first such hour after it."""
    at = datetime.fromtimestamp(created_at, tz=UTC)
    due = at.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= at:
        due += timedelta(days=1)
    return due.timestamp()


def delivery_for(
    options: AlertOptions,
    articles: Sequence[Article],
    *,
    topic: str,
    topic_names: Sequence[str],
    channel: bool,
    digest_at: float | None,
    publish: bool,
) -> Delivery:
    """The Delivery of one message of a subscription with `options`.

    `channel`: the target is a channel (a DM has no roles, threads or
    followers); `digest_at`: the message is a digest going out then (None: an
    alert); `publish`: the crosspost budget allows one (the dispatcher booked it).
    """
    if not channel:
        return Delivery()
    name = thread_name(articles, topic=topic, digest_at=digest_at) if options.thread else None
    return Delivery(
        mention_role_id=options.mention_role_id,
        thread_name=name,
        forum_tags=tuple(dict.fromkeys(topic_names)) if name else (),
        publish=options.publish and publish,
    )
