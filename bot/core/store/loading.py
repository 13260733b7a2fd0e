"""The store's interface, loading area: the writes a load makes in its transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.records import Article
from bot.core.store.prepared import Prepared
from bot.core.store.types import SourceFile, UpsertResult


class LoadWrites(ABC):
    """Writing stories and load bookkeeping, inside one write transaction."""

    @abstractmethod
    async def upsert_articles(
        self, articles: Sequence[Article], *, now: float | None = None
    ) -> UpsertResult:
        """Insert new stories, rewrite changed ones, leave identical ones alone.

        Identity is the canonical URL; a URL twice in one call: the first wins.
        `now` stamps first_stored_at / updated_at (default: the clock).
        """

    @abstractmethod
    async def upsert_prepared(
        self, items: Sequence[Prepared], *, now: float | None = None
    ) -> UpsertResult:
        """`upsert_articles` for stories already prepared (by `prepare`, in a worker)."""

    @abstractmethod
    async def record_sources(self, files: Iterable[SourceFile]) -> None:
        """Remember the loaded files (path, bytes hash, story URL), replacing older entries."""

    @abstractmethod
    async def add_story_sources(
        self, article_ids: Iterable[int], source: str, guild_id: int | None
    ) -> None:
        """Record that these stories came from `source` ('feed:<id>', …), owned by the
        server `guild_id` (None: the operator's, which makes them visible to every
        server). See `Audience`."""

    @abstractmethod
    async def prune(self, roots: Sequence[str], present: set[str]) -> int:
        """Delete the stories whose record files under `roots` are gone (not in
        `present`), unless another present file still carries their URL, and
        topics nothing uses any more. Returns how many stories were deleted."""

    @abstractmethod
    async def bump_generation(self) -> None:
        """Tell every reader (in any process) that stories changed."""

    @abstractmethod
    async def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key` (read back by `get_meta`)."""
