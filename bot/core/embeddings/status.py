"""What stats say about embeddings: the model, how many stories have a vector, and why
semantic search is off when it is."""

from __future__ import annotations

from typing import Any

from bot.core.embeddings.models import OFF, probe
from bot.core.store import Store


async def embedding_stats(store: Store, model: str, error: str | None = None) -> dict[str, Any]:
    """`embedded`, `embedding_model` and `embedding_error` (None when the model should
    work; `error`, when given, is what loading it actually said)."""
    counts = await store.embedding_counts(model)
    return {
        "embedded": 0 if model == OFF else counts.embedded,
        "embedding_model": model,
        "embedding_error": error if error is not None else probe(model),
    }


def embedding_line(stats: dict[str, Any]) -> str:
    """One line for people, from stats with `stories`: '1,234 of 1,240 stories
    (all-minilm-l6-v2)', or why semantic search is off."""
    if stats.get("embedding_error"):
        return f"off: {stats['embedding_error']}"
    return f"{stats['embedded']:,} of {stats['stories']:,} stories ({stats['embedding_model']})"
