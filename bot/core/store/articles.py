"""The store's interface, articles area: reading stories, topics and bookkeeping."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.records import Article
from bot.core.store.types import OPERATOR, Audience, TopicCount


class ArticleReads(ABC):
    """Reads of stored stories, on committed data."""

    @abstractmethod
    async def get_articles(self, ids: Sequence[int]) -> list[Article]:
        """Stories by id, in the order asked; ids that no longer exist are skipped
        (and an id asked twice is returned once)."""

    async def get_article(self, article_id: int) -> Article | None:
        """One story by id, or None when it is not stored."""
        found = await self.get_articles([article_id])
        return found[0] if found else None

    @abstractmethod
    async def ids_by_url(self, urls: Iterable[str]) -> dict[str, int]:
        """canonical URL → id, for those of `urls` (any form) that are stored."""

    async def stored_urls(self, urls: Iterable[str]) -> set[str]:
        """The canonical forms of those `urls` that are stories in the store."""
        return set(await self.ids_by_url(urls))

    @abstractmethod
    async def topics(self) -> list[TopicCount]:
        """Every topic that has stories, with their count, most stories first."""

    @abstractmethod
    async def latest_ids(
        self, *, topic: str | None = None, limit: int = 10, audience: Audience = OPERATOR
    ) -> list[int]:
        """Newest stories first (undated last), optionally of one topic (exact,
        case-insensitive), among those `audience` may see."""

    @abstractmethod
    async def hidden_ids(self, audience: Audience) -> frozenset[int]:
        """Ids of the stories `audience` must not see: those whose every source belongs
        to other servers. Empty for the operator; small, since only servers' own feeds
        restrict a story."""

    @abstractmethod
    async def known_sources(self) -> dict[str, str]:
        """path → bytes hash of every record file loaded before."""

    @abstractmethod
    async def source_urls(self) -> dict[str, str]:
        """path → canonical story URL of every record file loaded before."""

    @abstractmethod
    async def generation(self) -> int:
        """A counter bumped by every write that changes stories (in any process)."""

    @abstractmethod
    async def get_meta(self, key: str) -> Any:
        """The JSON value stored under `key` by `set_meta`, or None."""

    @abstractmethod
    async def stats(self) -> dict[str, Any]:
        """Counts for /stats: stories, topics and providers in use, related links,
        the newest publication time and the database's size in bytes."""
