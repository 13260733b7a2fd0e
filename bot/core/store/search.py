"""The store's interface, search area: full-text queries and the search index's snapshot."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from bot.core.store.types import FieldWeights, IndexSnapshot, ScoredId, SearchText, TextQuery


class SearchReads(ABC):
    """Full-text reads, on committed data."""

    @abstractmethod
    async def match_ranked(
        self, query: TextQuery, weights: FieldWeights, *, limit: int
    ) -> list[ScoredId]:
        """The `limit` best matches of `query`, best first, ranked by bm25 with these
        field weights (lower scores are better)."""

    @abstractmethod
    async def match_newest(self, query: TextQuery, *, limit: int) -> list[int]:
        """Ids of the `limit` newest-stored stories matching `query`, unranked: cheap
        even when the terms are common."""

    @abstractmethod
    async def search_texts(self, ids: Sequence[int]) -> dict[int, SearchText]:
        """id → the indexed text of those stories (missing ids are left out)."""

    @abstractmethod
    async def index_snapshot(self) -> IndexSnapshot:
        """Everything the in-memory search index is built from.

        Long scans: they run on a connection of their own, so that the short
        queries of questions being answered meanwhile do not wait behind them.
        """
