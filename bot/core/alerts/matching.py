"""Topic subscription alerts: which new stories match which subscriptions, and the outbox.

Matching runs inside the load's own transaction (as an `on_stored` hook of
`loader.load_paths`), so a story and its outbox rows are committed together:
a crash either keeps both or neither, and the unique (subscription, story)
key makes a second load of the same story write nothing new.

The outbox is the ledger of what is owed to whom. A row goes
pending → sent (Discord accepted the message that carried it) or
pending → failed (Discord rejected that one alert's payload); nothing else
ever removes a pending row except deleting its subscription or its story.
Before a row is sent it is *claimed*: `batch` holds the nonce of the message,
committed before the request leaves, so a retry after a crash re-sends the
very same rows under the very same nonce and Discord returns the message it
already made instead of posting a second one. `bot.dispatch` drives all this.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from bot.core.store.sqlite import Store
from bot.core.text import words

DEFAULT_MAX_AGE = 48 * 3600.0
FUTURE_SLACK = 86400.0  # a publication date further ahead than this is a bad record
# Keyword prefixes shorter than this would match far too much ('ai' → 'aid').
PREFIX_MIN = 4


# -- matching ------------------------------------------------------------------


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


_ASCII_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    """`text.words`, with a fast path: ASCII text has no accents to strip, and
    folding each character is most of what matching a big load costs."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    return words(text)


class TextWords:
    """The folded words of a story's title and excerpt, for keyword checks.

    A keyword matches a word, or the start of one when it has PREFIX_MIN
    letters or more ('robot' finds 'robots'); the sorted list makes that a
    binary search instead of a scan of every word for every subscription.
    """

    __slots__ = ("_set", "_sorted")

    def __init__(self, text: str) -> None:
        self._set = frozenset(_words(text))
        self._sorted = sorted(self._set)

    def has(self, keyword: str) -> bool:
        if keyword in self._set:
            return True
        if len(keyword) < PREFIX_MIN:
            return False
        i = bisect_left(self._sorted, keyword)
        return i < len(self._sorted) and self._sorted[i].startswith(keyword)


def keywords_match(keywords: Iterable[str], text: TextWords) -> bool:
    """Any one keyword is in the text."""
    return any(text.has(k) for k in keywords)


def matches(
    rule: SubscriptionRule,
    story: StoryFacts,
    *,
    now: float,
    max_age: float,
    text: TextWords | None = None,
) -> bool:
    """Does this new story alert this subscription?

    `text` (`story_text(story)`) may be passed in so that matching one story
    against many rules splits its text once.
    """
    if rule.topic_key not in story.topic_keys:
        return False
    # Stored before the subscription existed: the subscriber did not ask for the past.
    if story.first_stored_at < rule.created_at:
        return False
    # Unknown or old publication time: an archive import must not flood a channel.
    if story.published_ts is None or story.published_ts < now - max_age:
        return False
    if story.published_ts > now + FUTURE_SLACK:
        return False
    if rule.min_quality > 0 and (story.quality is None or story.quality < rule.min_quality):
        return False
    if rule.keywords:
        if text is None:
            text = story_text(story)
        if not keywords_match(rule.keywords, text):
            return False
    return True


def story_text(story: StoryFacts) -> TextWords:
    return TextWords(f"{story.title} {story.excerpt}")


async def active_rules(
    conn: aiosqlite.Connection, *, with_keywords: bool | None = None
) -> dict[str, list[SubscriptionRule]]:
    """Active subscriptions grouped by topic key (optionally only those with keywords,
    or only those without).

    Paused and disabled ones match nothing: alerts for a channel the bot
    cannot post in would only pile up and flood it once it is fixed.
    """
    where = "status = 'active'"
    if with_keywords is not None:
        where += " AND keywords != ''" if with_keywords else " AND keywords = ''"
    out: dict[str, list[SubscriptionRule]] = {}
    async with conn.execute(
        f"SELECT id, topic_key, keywords, min_quality, created_at FROM subscriptions WHERE {where}"
    ) as cur:
        for sid, key, kw, q, created in await cur.fetchall():
            out.setdefault(key, []).append(
                SubscriptionRule(sid, key, tuple(kw.split()), q or 0.0, created)
            )
    return out


async def story_facts(
    conn: aiosqlite.Connection,
    ids: Sequence[int],
    *,
    since_ts: float,
    topic_keys: Iterable[str] | None = None,
) -> list[StoryFacts]:
    """What matching needs of each story published after `since_ts`.

    With `topic_keys`, only stories of those topics are read at all: most of
    a big load is of topics nobody subscribed to.
    """
    wanted = set(topic_keys) if topic_keys is not None else None
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
        if wanted is not None:
            part = [aid for aid, keys in topics.items() if not keys.isdisjoint(wanted)]
            if not part:
                continue
            marks = ",".join("?" * len(part))
        async with conn.execute(
            "SELECT id, title, excerpt, quality, published_ts, first_stored_at FROM articles "
            f"WHERE id IN ({marks}) AND published_ts >= ?",
            [*part, since_ts],
        ) as cur:
            for aid, title, excerpt, q, ts, first in await cur.fetchall():
                out.append(
                    StoryFacts(aid, title, excerpt, q, ts, first, frozenset(topics.get(aid, ())))
                )
    return out


# `matches()` for the subscriptions without keywords, done by SQLite in one
# statement: a load can owe tens of thousands of rows (1,000 subscriptions ×
# 500 stories → 30,000), and matching and inserting them from Python took
# 0.3 s beside a 1.1 s load (bench/alerts.py). tests/test_alerts.py checks
# that this and `matches()` agree.
_MATCH_SQL = """
INSERT OR IGNORE INTO outbox (subscription_id, article_id, created_at)
SELECT s.id, a.id, :now
FROM json_each(:ids) AS j
JOIN articles a ON a.id = j.value
JOIN article_topics at ON at.article_id = a.id
JOIN topics t ON t.id = at.topic_id
JOIN subscriptions s ON s.topic_key = t.key AND s.status = 'active'
WHERE s.keywords = ''
  AND a.published_ts >= :oldest AND a.published_ts <= :newest
  AND a.first_stored_at >= s.created_at
  AND (s.min_quality <= 0 OR a.quality >= s.min_quality)
"""


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
    # The statement's rowcount, not a total_changes difference: for this
    # INSERT … SELECT the latter was seen to over-count (45 for 41 rows).
    cur = await conn.execute(
        _MATCH_SQL,
        {
            "now": now,
            "ids": json.dumps(list(article_ids)),
            "oldest": now - max_age,
            "newest": now + FUTURE_SLACK,
        },
    )
    written = max(cur.rowcount, 0)
    await cur.close()
    rules = await active_rules(conn, with_keywords=True)
    if rules:
        rows: list[tuple[int, int, float]] = []
        for story in await story_facts(conn, article_ids, since_ts=now - max_age, topic_keys=rules):
            text = story_text(story)
            for key in story.topic_keys:
                for rule in rules.get(key, ()):
                    if matches(rule, story, now=now, max_age=max_age, text=text):
                        rows.append((rule.id, story.id, now))
        if rows:
            cur = await conn.executemany(
                "INSERT OR IGNORE INTO outbox (subscription_id, article_id, created_at) "
                "VALUES (?,?,?)",
                rows,
            )
            written += max(cur.rowcount, 0)
            await cur.close()
    return written


def match_hook(
    *, max_age: float = DEFAULT_MAX_AGE, clock: Callable[[], float] = time.time
) -> Callable[[aiosqlite.Connection, list[int], list[int]], Awaitable[int]]:
    """An `on_stored` hook for `loader.load_paths` that fills the outbox."""

    async def hook(conn: aiosqlite.Connection, added: list[int], updated: list[int]) -> int:
        return await match_articles(conn, [*added, *updated], max_age=max_age, now=clock())

    return hook


# -- the outbox ledger -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """One pending outbox row with what delivering it needs."""

    row_id: int
    subscription_id: int
    article_id: int
    target: str
    topic: str
    published_ts: float | None
    batch: str | None
    attempts: int
    next_attempt_at: float


def nonce_for(row_ids: Iterable[int]) -> str:
    """The message nonce for exactly these outbox rows (Discord allows 25 characters).

    Derived from the set of rows, not from time or a counter: the same claim
    always gets the same nonce, whichever process or restart sends it.
    """
    key = ",".join(str(i) for i in sorted(set(row_ids)))
    return "nb" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


_PENDING_SQL = (
    "SELECT o.id, o.subscription_id, o.article_id, s.target, s.topic, a.published_ts, "
    "o.batch, o.attempts, o.next_attempt_at FROM outbox o "
    "JOIN subscriptions s ON s.id = o.subscription_id "
    "JOIN articles a ON a.id = o.article_id "
    "WHERE o.state = 'pending' AND s.status = 'active'"
)


async def pending_for(conn: aiosqlite.Connection, target: str) -> list[PendingAlert]:
    """Every pending row of one target's active subscriptions, due or not."""
    async with conn.execute(_PENDING_SQL + " AND s.target = ?", (target,)) as cur:
        return [PendingAlert(*r) for r in await cur.fetchall()]


async def pending_targets(conn: aiosqlite.Connection) -> dict[str, float]:
    """target → the earliest time one of its pending rows may be tried."""
    async with conn.execute(
        "SELECT s.target, min(o.next_attempt_at) FROM outbox o "
        "JOIN subscriptions s ON s.id = o.subscription_id "
        "WHERE o.state = 'pending' AND s.status = 'active' GROUP BY s.target"
    ) as cur:
        return {t: float(due) for t, due in await cur.fetchall()}


async def delivered_to(
    conn: aiosqlite.Connection, target: str, article_ids: Sequence[int]
) -> dict[int, int | None]:
    """article id → message id, for those articles already sent to `target`
    (through another subscription of the same channel or user)."""
    if not article_ids:
        return {}
    marks = ",".join("?" * len(article_ids))
    async with conn.execute(
        "SELECT o.article_id, o.message_id FROM outbox o "
        "JOIN subscriptions s ON s.id = o.subscription_id "
        f"WHERE o.state = 'sent' AND s.target = ? AND o.article_id IN ({marks})",
        [target, *article_ids],
    ) as cur:
        return {aid: mid for aid, mid in await cur.fetchall()}


def _ids(rows: Iterable[int]) -> list[tuple[int]]:
    return [(i,) for i in rows]


async def claim(conn: aiosqlite.Connection, row_ids: Sequence[int], nonce: str) -> None:
    """Record (in the caller's transaction, committed before sending) that these rows go
    out in the message with `nonce`."""
    await conn.executemany(
        "UPDATE outbox SET batch = ? WHERE id = ? AND state = 'pending'",
        [(nonce, i) for i in row_ids],
    )


async def mark_sent_in(
    conn: aiosqlite.Connection, row_ids: Sequence[int], *, message_id: int | None, now: float
) -> None:
    await conn.executemany(
        "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, last_error = NULL "
        "WHERE id = ? AND state = 'pending'",
        [(now, message_id, i) for i in row_ids],
    )


async def release(store: Store, row_ids: Sequence[int]) -> None:
    """Unclaim rows that did not go out (not sent: safe to regroup)."""
    async with store.transaction() as conn:
        await conn.executemany(
            "UPDATE outbox SET batch = NULL WHERE id = ? AND state = 'pending'", _ids(row_ids)
        )


async def mark_sent(
    store: Store,
    row_ids: Sequence[int],
    *,
    message_id: int | None,
    now: float,
    release_ids: Sequence[int] = (),
) -> None:
    """Rows Discord accepted; `release_ids` (left out of the message) are unclaimed in
    the same transaction."""
    async with store.transaction() as conn:
        await mark_sent_in(conn, row_ids, message_id=message_id, now=now)
        if release_ids:
            await conn.executemany(
                "UPDATE outbox SET batch = NULL WHERE id = ? AND state = 'pending'",
                _ids(release_ids),
            )


async def defer(
    store: Store, row_ids: Sequence[int], *, until: float, attempts: int, error: str
) -> None:
    """Try these rows again at `until`; they keep their claim (the message may exist)."""
    async with store.transaction() as conn:
        await conn.executemany(
            "UPDATE outbox SET next_attempt_at = ?, attempts = ?, last_error = ? "
            "WHERE id = ? AND state = 'pending'",
            [(until, attempts, error[:500], i) for i in row_ids],
        )


async def mark_failed(store: Store, row_ids: Sequence[int], *, error: str) -> None:
    """Discord rejected this alert's payload: it will never be accepted as it is."""
    async with store.transaction() as conn:
        await conn.executemany(
            "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1 "
            "WHERE id = ? AND state = 'pending'",
            [(error[:500], i) for i in row_ids],
        )


async def reclaim_each(store: Store, groups: Sequence[Sequence[int]]) -> None:
    """Give each group of rows its own claim (and so its own message and nonce)."""
    async with store.transaction() as conn:
        await conn.executemany(
            "UPDATE outbox SET batch = ? WHERE id = ? AND state = 'pending'",
            [(nonce_for(g), i) for g in groups for i in g],
        )
