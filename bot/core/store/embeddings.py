"""The store's interface, embeddings area: sentence vectors of stories, per model.

A vector is stored with the model that made it and the story's content hash at
the time, so a changed story (new hash) or another model is embedded again and
nothing else is. Vectors are opaque bytes here (`bot.core.embeddings` decides
their layout); the store only keeps and returns them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from bot.core.store.types import EmbeddingCounts, EmbeddingRow, EmbeddingTask


class EmbeddingReads(ABC):
    """Reads of stored vectors, on committed data."""

    @abstractmethod
    async def stories_awaiting_embedding(self, model: str, limit: int) -> list[EmbeddingTask]:
        """At most `limit` stories with no vector of `model` for their current content,
        in id order, with the text to embed."""

    @abstractmethod
    async def embedding_matrix(
        self, model: str, *, after: int = 0, limit: int | None = None
    ) -> list[EmbeddingRow]:
        """The stored vectors of `model` whose story still has that content, in id order:
        those of ids above `after`, at most `limit` (all when None), so that a reader can
        page through 100,000s without holding them all as rows at once."""

    @abstractmethod
    async def embedding_counts(self, model: str) -> EmbeddingCounts:
        """How many stories have a current vector of `model`, and how many await one."""

    @abstractmethod
    async def embedding_version(self, model: str) -> int:
        """A counter bumped by every write of vectors of `model` (cheap: one lookup)."""


class EmbeddingWrites(ABC):
    """Writes of vectors, inside a transaction."""

    @abstractmethod
    async def put_embeddings(self, model: str, rows: Sequence[EmbeddingRow]) -> None:
        """Store (or replace) these vectors of `model`; rows of stories deleted meanwhile
        are skipped."""
