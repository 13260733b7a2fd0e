"""The store's interface, feeds area: feeds, what each one last carried, and the
same-event links between stories (rules live in `bot.core.feeds`).

The named values of this area are here beside their interface (`FeedRow`,
`FeedEntry`, `EventCandidate`), so the whole area reads in one file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.store.types import Audience

FEED_STATES = ("new", "ok", "error", "paused", "disabled", "refused")


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A feed as stored: what it is, whose it is, and its polling state.

    `polls` counts fetches that stored entries; 0 means the next one is the
    feed's first, which stores but never alerts. `failures` counts consecutive
    failed fetches (backoff), `gone` consecutive 404/410 answers.
    """

    id: int
    url: str
    guild_id: int | None  # None: the operator's
    added_by: int | None
    title: str
    topics: tuple[str, ...]
    every: float
    state: str
    reason: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    failures: int
    gone: int
    polls: int
    last_fetch: float | None
    next_fetch: float | None
    created_at: float
    stories: int = 0  # stories this feed carries (filled by reads)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """What one feed last carried for one story: its canonical URL, the hash of the
    entry as the feed gave it, and the stored story."""

    key: str
    entry_hash: str
    article_id: int | None
    silent: bool = False  # first stored by the feed's first poll: never alerts, not even updated


@dataclass(frozen=True, slots=True)
class EventCandidate:
    """A stored story that a new one may be the same event as."""

    id: int
    title: str
    url: str
    published_ts: float | None
    provider: str | None


class FeedReads(ABC):
    """Reading feeds: on committed data from the store, or inside a transaction."""

    @abstractmethod
    async def feeds(self, audience: Audience) -> list[FeedRow]:
        """The feeds `audience` owns, oldest first: every feed for the operator, a
        server's own for that server (none for a DM)."""

    @abstractmethod
    async def feed(self, feed_id: int) -> FeedRow | None:
        """One feed by id."""

    @abstractmethod
    async def find_feed(self, url: str, guild_id: int | None) -> FeedRow | None:
        """The feed of this owner with this URL."""

    @abstractmethod
    async def count_feeds(self, guild_id: int | None) -> int:
        """How many feeds this owner (None: the operator) has."""

    @abstractmethod
    async def due_feeds(self, now: float) -> list[FeedRow]:
        """Feeds neither paused nor disabled whose next fetch is due at `now`."""

    @abstractmethod
    async def next_feed_due(self) -> float | None:
        """The earliest next fetch of a feed neither paused nor disabled (None: no feed)."""

    @abstractmethod
    async def event_candidates(self, since_ts: float, until_ts: float) -> list[EventCandidate]:
        """Stories published within [since_ts, until_ts]."""


class FeedWrites(ABC):
    """Changing feeds, inside a write transaction."""

    @abstractmethod
    async def add_feed(
        self,
        *,
        url: str,
        guild_id: int | None,
        added_by: int | None,
        topics: Sequence[str],
        every: float,
        created_at: float,
    ) -> FeedRow:
        """Create a feed in state 'new', due at once, and return it."""

    @abstractmethod
    async def save_feed(self, feed: FeedRow) -> None:
        """Write a feed's URL, title, topics, interval and polling state (by its id)."""

    @abstractmethod
    async def delete_feed(self, feed_id: int) -> int:
        """Delete a feed, its entries and its story sources, and the stories no other
        source carries. Returns how many stories were deleted."""

    @abstractmethod
    async def feed_entries(self, feed_id: int) -> dict[str, FeedEntry]:
        """key → what the feed carried for it at its last poll."""

    @abstractmethod
    async def save_feed_entries(self, feed_id: int, entries: Iterable[FeedEntry]) -> None:
        """Remember these entries of the feed (replacing older ones with the same key)."""

    @abstractmethod
    async def stories_by_url(self, urls: Sequence[str]) -> dict[str, int]:
        """canonical URL → id, for the ones stored."""

    @abstractmethod
    async def keep_shared(self, article_ids: Iterable[int]) -> None:
        """Give the stories that have no recorded source the operator's ('folder'), so that
        a server's feed carrying one too does not hide it from every other server."""

    @abstractmethod
    async def link_related(self, pairs: Iterable[tuple[int, int]]) -> int:
        """List each story of each pair as the other's related coverage (once).
        Returns how many links were written."""
