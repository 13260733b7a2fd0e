"""The index after a change: a refresh asked for while another rebuild is under way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.search import searcher as searcher_module
from bot.core.search.index import Index
from bot.core.search.searcher import Searcher
from bot.core.store import Store
from tests.core.search.test_search import make_store, story


async def test_refresh_during_a_rebuild_ends_with_the_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await make_store(tmp_path / "s.db", [story(1, "Quantum chip sets a record")])
    s = Searcher(store, embeddings="off")
    try:
        await s.refresh(force=True)
        real_load = searcher_module.load_index
        reading = asyncio.Event()
        go_on = asyncio.Event()

        async def slow_load(st: Store, generation: int) -> Index:
            index = await real_load(st, generation)  # reads the store before the change
            reading.set()
            await go_on.wait()
            return index

        monkeypatch.setattr(searcher_module, "load_index", slow_load)
        async with store.transaction() as tx:
            await tx.upsert_articles([story(2, "Placeholder headline")])
            await tx.bump_generation()
        background = asyncio.create_task(s.refresh())  # the periodic rebuild, say
        await reading.wait()
        monkeypatch.setattr(searcher_module, "load_index", real_load)
        # A reload commits a new story while that rebuild holds its stale snapshot…
        async with store.transaction() as tx:
            await tx.upsert_articles([story(3, "Volcano erupts near Reykjavik airport")])
            await tx.bump_generation()
        asked = asyncio.create_task(s.refresh())  # …and asks for a refresh.
        await asyncio.sleep(0.05)
        go_on.set()
        await background
        assert await asked is True
        answer = await s.ask("volcano reykjavik")
        assert answer.hits and answer.hits[0].title.startswith("Volcano erupts")
    finally:
        await s.close()
        await store.close()
