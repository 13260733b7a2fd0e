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

from bot.core.settings import Settings
from bot.core.store import StoreTransaction
from bot.core.store.types import Audience, PendingAlert, StoryFacts, SubscriptionRule
from bot.core.text import words

__all__ = [
    "DEFAULT_MAX_AGE",
    "FUTURE_SLACK",
    "PREFIX_MIN",
    "PendingAlert",
    "StoryFacts",
    "SubscriptionRule",
    "TextWords",
    "keyword_list",
    "keywords_match",
    "match_articles",
    "match_hook",
    "matches",
    "nonce_for",
    "story_text",
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
    # From feeds of other servers only: never shown to this one.
    if not Audience.of_guild(rule.guild_id).sees(story.visible_to):
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
    those with keywords by `matches` here. tests/core/alerts/test_alerts.py
    checks that both agree.
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
        for story in await tx.story_facts(article_ids, since_ts=oldest, topic_keys=rules):
            text = story_text(story)
            for key in story.topic_keys:
                for rule in rules.get(key, ()):
                    if matches(rule, story, now=now, max_age=max_age, text=text):
                        pairs.append((rule.id, story.id))
        written += await tx.add_outbox_rows(pairs, now=now)
    return written


def match_hook(
    *, max_age: float = DEFAULT_MAX_AGE, clock: Callable[[], float] = time.time
) -> Callable[[StoreTransaction, list[int], list[int]], Awaitable[int]]:
    """An `on_stored` hook for `loader.load_paths` that fills the outbox."""

    async def hook(tx: StoreTransaction, added: list[int], updated: list[int]) -> int:
        return await match_articles(tx, [*added, *updated], max_age=max_age, now=clock())

    return hook


# -- the outbox ledger -----------------------------------------------------------


def nonce_for(row_ids: Iterable[int]) -> str:
    """The message nonce for exactly these outbox rows (Discord allows 25 characters).

    Derived from the set of rows, not from time or a counter: the same claim
    always gets the same nonce, whichever process or restart sends it.
    """
    key = ",".join(str(i) for i in sorted(set(row_ids)))
    return "nb" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest()
