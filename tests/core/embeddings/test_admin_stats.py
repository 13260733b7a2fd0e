"""/admin stats says how many stories are embedded, or why semantic search is off: through
the real discord.py client against the stand-in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.embeddings.models import MINILM
from tests.helpers import PROJECT_ROOT

if TYPE_CHECKING:
    from tests.botfixtures import StartNewsBot

pytest_plugins = ["tests.botfixtures"]

STORIES = len(list((PROJECT_ROOT / "data" / "articles").glob("*.md")))


def stats_fields(request: object) -> dict[str, str]:
    body = request.json["data"]  # type: ignore[attr-defined]
    return {f["name"]: f["value"] for f in body["embeds"][0].get("fields", [])}


async def test_admin_stats_counts_embedded_stories(start_newsbot: StartNewsBot) -> None:
    async with start_newsbot() as h:
        _, cb = await h.answer("admin stats", user="owner")
    # Not embedded yet: the bot waits before its first backfill, and never blocks on it.
    assert stats_fields(cb)["Embeddings"] == f"0 of {STORIES} stories ({MINILM})"


async def test_admin_stats_says_why_semantic_search_is_off(start_newsbot: StartNewsBot) -> None:
    async with start_newsbot(embeddings="no-such-model") as h:
        _, news = await h.answer("news", {"query": "ibm facial recognition"})
        _, cb = await h.answer("admin stats", user="owner")
    assert "IBM" in news.json["data"]["embeds"][0]["title"]  # lexical search answers
    value = stats_fields(cb)["Embeddings"]
    assert value.startswith("off: unknown model") and "no-such-model" in value
