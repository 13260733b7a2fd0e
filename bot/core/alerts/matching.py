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
already made instead of posting a second one. `bot.core.alerts.dispatch` drives all
this; the store's `StoreTransaction` does the reading and writing of rows.
"""

from __future__ import annotations

import hashlib
import re
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.core.settings import Settings
from bot.core.store import StoreTransaction
from bot.core.store.types import Audience, PendingAlert, StoryFacts, SubscriptionRule
from bot.core.text import words

__all__ = [
    "DEFAULT_MAX_AGE",
    "FUTURE_SLACK",
    "PREFIX_MIN",
    "PendingAlert",
    "Reason",
    "ReasonCode",
    "StoryFacts",
    "SubscriptionRule",
    "TextWords",
    "explain",
    "keyword_list",
    "keywords_match",
    "match_articles",
    "match_hook",
    "matches",
    "nonce_for",
    "request_edits",
    "story_text",
    "text_hash",
]

DEFAULT_MAX_AGE = Settings.alert_max_age  # how old a story may be and still alert
FUTURE_SLACK = 86400.0  # a publication date further ahead than this is a bad record
# Keyword prefixes shorter than this would match far too much ('ai' → 'aid').
PREFIX_MIN = 4


# -- matching ------------------------------------------------------------------


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
        """True when `keyword` is one of the words, or starts one (PREFIX_MIN letters or more)."""
        if keyword in self._set:
            return True
        if len(keyword) < PREFIX_MIN:
            return False
        i = bisect_left(self._sorted, keyword)
        return i < len(self._sorted) and self._sorted[i].startswith(keyword)


def keywords_match(keywords: Iterable[str], text: TextWords) -> bool:
    """Any one keyword is in the text."""
    return any(text.has(k) for k in keywords)


ReasonCode = Literal[
    "topic",
    "visibility",
    "before_subscription",
    "no_date",
    "too_old",
    "future",
    "quality",
    "keywords",
]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a story does not alert a subscription: the first rule that stopped it."""

    code: ReasonCode
    text: str


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def explain(
    rule: SubscriptionRule,
    story: StoryFacts,
    *,
    now: float,
    max_age: float,
    text: TextWords | None = None,
) -> Reason | None:
    """The first rule that keeps this story from alerting this subscription, or None
    when it alerts. The one place the rules are written: `matches` and "why" both
    ask it (and the store's `match_plain_subscriptions` mirrors it in SQL).

    `text` (`story_text(story)`) may be passed in so that matching one story
    against many rules splits its text once.
    """
    if rule.topic_key and rule.topic_key not in story.topic_keys:
        return Reason("topic", "the story does not carry the subscription's topic")
    # From feeds of other servers only: never shown to this one.
    if not Audience.of_guild(rule.guild_id).sees(story.visible_to):
        return Reason("visibility", "the story came only from another server's feeds")
    # Stored before the subscription existed: the subscriber did not ask for the past.
    if story.first_stored_at < rule.created_at:
        return Reason(
            "before_subscription",
            f"the story was stored ({_when(story.first_stored_at)}) before the subscription "
            f"existed ({_when(rule.created_at)})",
        )
    # Unknown or old publication time: an archive import must not flood a channel.
    if story.published_ts is None:
        return Reason("no_date", "the story has no publication date")
    if story.published_ts < now - max_age:
        return Reason(
            "too_old",
            f"published {_when(story.published_ts)}, more than {max_age / 3600:g} h before "
            f"it was stored (the alert age limit)",
        )
    if story.published_ts > now + FUTURE_SLACK:
        return Reason("future", f"its publication date ({_when(story.published_ts)}) is ahead")
    if rule.min_quality > 0 and (story.quality is None or story.quality < rule.min_quality):
        q = "no quality score" if story.quality is None else f"quality {story.quality:g}"
        return Reason("quality", f"{q}, below the minimum of {rule.min_quality:g}")
    if rule.keywords:
        if text is None:
            text = story_text(story)
        if not keywords_match(rule.keywords, text):
            return Reason(
                "keywords", "neither its title nor its excerpt names " + " or ".join(rule.keywords)
            )
    return None


def matches(
    rule: SubscriptionRule,
    story: StoryFacts,
    *,
    now: float,
    max_age: float,
    text: TextWords | None = None,
) -> bool:
    """Does this new story alert this subscription? (`explain` finds no reason not to.)"""
    return explain(rule, story, now=now, max_age=max_age, text=text) is None


def text_hash(title: str, excerpt: str) -> str:
    """What an alert showed of a story, as a short hash: a change means the story was edited."""
    return hashlib.blake2b(f"{title}\n{excerpt}".encode(), digest_size=8).hexdigest()


def story_text(story: StoryFacts) -> TextWords:
    """The words of a story's title and excerpt, which keywords are matched against."""
    return TextWords(f"{story.title} {story.excerpt}")


async def match_articles(
    tx: StoreTransaction,
    article_ids: Sequence[int],
    *,
    max_age: float = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> int:
    """Write one pending outbox row per (matching subscription, story). Returns rows written.

    Subscriptions without keywords are matched by the store in one statement
    (`match_plain_subscriptions`: a load can owe tens of thousands of rows);
    those with keywords (keyword-only ones among them) by `matches` here.
    tests/core/alerts/test_alerts.py checks that both agree.
    """
    if not article_ids:
        return 0
    now = time.time() if now is None else now
    oldest = now - max_age
    written = await tx.match_plain_subscriptions(
        article_ids, now=now, oldest=oldest, newest=now + FUTURE_SLACK
    )
    rules = await tx.active_rules(with_keywords=True)
    if rules:
        pairs: list[tuple[int, int]] = []
        # Keyword-only rules (key '') apply to a story of any topic.
        any_topic = rules.get("", [])
        keys = None if any_topic else rules
        for story in await tx.story_facts(article_ids, since_ts=oldest, topic_keys=keys):
            text = story_text(story)
            candidates = [r for k in story.topic_keys for r in rules.get(k, ())] + any_topic
            for rule in candidates:
                if matches(rule, story, now=now, max_age=max_age, text=text):
                    pairs.append((rule.id, story.id))
        written += await tx.add_outbox_rows(pairs, now=now)
    return written


def match_hook(
    *, max_age: float = DEFAULT_MAX_AGE, clock: Callable[[], float] = time.time
) -> Callable[[StoreTransaction, list[int], list[int]], Awaitable[int]]:
    """An `on_stored` hook for `loader.load_paths` that fills the outbox."""

    async def hook(tx: StoreTransaction, added: list[int], updated: list[int]) -> int:
        written = await match_articles(tx, [*added, *updated], max_age=max_age, now=clock())
        await request_edits(tx, updated)
        return written

    return hook


async def request_edits(tx: StoreTransaction, updated: Sequence[int]) -> int:
    """Rewritten stories: mark the sent alerts of on_update 'edit' subscriptions whose
    message showed another title or excerpt (the dispatcher edits them). Returns how
    many rows were marked; alerts of other subscriptions are left alone."""
    if not updated:
        return 0
    facts = await tx.story_facts(updated, since_ts=None)
    return await tx.request_edits({f.id: text_hash(f.title, f.excerpt) for f in facts})


# -- the outbox ledger -----------------------------------------------------------


def nonce_for(row_ids: Iterable[int]) -> str:
    """The message nonce for exactly these outbox rows (Discord allows 25 characters).

    Derived from the set of rows, not from time or a counter: the same claim
    always gets the same nonce, whichever process or restart sends it.
    """
    key = ",".join(str(i) for i in sorted(set(row_ids)))
    return "nb" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest()
