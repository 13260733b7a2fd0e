"""Topic subscription alerts: which new stories match which subscriptions.

Matching runs inside the load's own transaction (as an `on_stored` hook of
`loader.load_paths`), so a story and its outbox rows are committed together:
a crash either keeps both or neither, and the unique (subscription, story)
key makes a second load of the same story write nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiosqlite

from bot.text import words

DEFAULT_MAX_AGE = 48 * 3600.0


@dataclass(frozen=True, slots=True)
class SubscriptionRule:
    id: int
    topic_key: str
    keywords: tuple[str, ...]
    min_quality: float
    created_at: float


@dataclass(frozen=True, slots=True)
class StoryFacts:
    id: int
    title: str
    excerpt: str
    quality: float | None
    published_ts: float | None
    first_stored_at: float
    topic_keys: frozenset[str]


def keyword_list(raw: str) -> tuple[str, ...]:
    """'Robots, self-driving' → ('robots', 'self', 'driving'): folded words, in order."""
    return tuple(dict.fromkeys(words(raw)))


def matches(rule: SubscriptionRule, story: StoryFacts, *, now: float, max_age: float) -> bool:
    """Does this new story alert this subscription?"""
    if rule.topic_key not in story.topic_keys:
        return False
    # Stored before the subscription existed: the subscriber did not ask for the past.
    if story.first_stored_at < rule.created_at:
        return False
    # Unknown or old publication time: an archive import must not flood a channel.
    if story.published_ts is None or story.published_ts < now - max_age:
        return False
    if story.published_ts > now + 86400:  # a date far in the future is a bad record
        return False
    if rule.min_quality > 0 and (story.quality is None or story.quality < rule.min_quality):
        return False
    if rule.keywords:
        text = set(words(f"{story.title} {story.excerpt}"))
        # A keyword matches a word or the start of one: 'robot' finds 'robots'.
        if not any(k in text or (len(k) >= 4 and any(w.startswith(k) for w in text))
                   for k in rule.keywords):  # fmt: skip
            return False
    return True


async def active_rules(conn: aiosqlite.Connection) -> dict[str, list[SubscriptionRule]]:
    """Active subscriptions grouped by topic key."""
    out: dict[str, list[SubscriptionRule]] = {}
    async with conn.execute(
        "SELECT id, topic_key, keywords, min_quality, created_at FROM subscriptions "
        "WHERE status = 'active'"
    ) as cur:
        for sid, key, kw, q, created in await cur.fetchall():
            out.setdefault(key, []).append(
                SubscriptionRule(sid, key, tuple(kw.split()), q or 0.0, created)
            )
    return out


async def story_facts(
    conn: aiosqlite.Connection, ids: Sequence[int], *, since_ts: float
) -> list[StoryFacts]:
    """What matching needs of each story published after `since_ts`."""
    out: list[StoryFacts] = []
    for i in range(0, len(ids), 500):
        part = list(ids[i : i + 500])
        marks = ",".join("?" * len(part))
        topics: dict[int, set[str]] = {}
        async with conn.execute(
            "SELECT at.article_id, t.key FROM article_topics at JOIN topics t ON t.id = at.topic_id "
            f"WHERE at.article_id IN ({marks})",
            part,
        ) as cur:
            for aid, key in await cur.fetchall():
                topics.setdefault(aid, set()).add(key)
        async with conn.execute(
            "SELECT id, title, excerpt, quality, published_ts, first_stored_at FROM articles "
            f"WHERE id IN ({marks}) AND published_ts >= ?",
            [*part, since_ts],
        ) as cur:
            for aid, title, excerpt, q, ts, first in await cur.fetchall():
                out.append(StoryFacts(aid, title, excerpt, q, ts, first, frozenset(topics.get(aid, ()))))
    return out


async def match_articles(
    conn: aiosqlite.Connection,
    article_ids: Sequence[int],
    *,
    max_age: float = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> int:
    """Write one pending outbox row per (matching subscription, story). Returns rows written."""
    if not article_ids:
        return 0
    now = time.time() if now is None else now
    rules = await active_rules(conn)
    if not rules:
        return 0
    rows: list[tuple[int, int, float]] = []
    for story in await story_facts(conn, article_ids, since_ts=now - max_age):
        for key in story.topic_keys:
            for rule in rules.get(key, ()):
                if matches(rule, story, now=now, max_age=max_age):
                    rows.append((rule.id, story.id, now))
    if not rows:
        return 0
    before = conn.total_changes
    await conn.executemany(
        "INSERT OR IGNORE INTO outbox (subscription_id, article_id, created_at) VALUES (?,?,?)",
        rows,
    )
    return conn.total_changes - before


def match_hook(
    *, max_age: float = DEFAULT_MAX_AGE, clock: Callable[[], float] = time.time
) -> Callable[[aiosqlite.Connection, list[int], list[int]], Awaitable[int]]:
    """An `on_stored` hook for `loader.load_paths` that fills the outbox."""

    async def hook(conn: aiosqlite.Connection, added: list[int], updated: list[int]) -> int:
        return await match_articles(conn, [*added, *updated], max_age=max_age, now=clock())

    return hook
