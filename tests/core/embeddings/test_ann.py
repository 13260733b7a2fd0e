"""The HNSW graph of big stores: the same nearest stories as exact search, and kept in
step with the store (new, changed and deleted stories) without a rebuild."""

from __future__ import annotations

import numpy as np

from bot.core.embeddings.ann import AnnIndex
from bot.core.embeddings.vectors import Matrix, pack
from bot.core.store.types import EmbeddingRow

DIM = 32


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def stored(ids: range, rows: np.ndarray, tag: str = "a") -> list[EmbeddingRow]:
    return [EmbeddingRow(aid, f"{tag}{aid}", pack(row)) for aid, row in zip(ids, rows, strict=True)]


def synced(graph: AnnIndex, *pages: list[EmbeddingRow]) -> AnnIndex:
    graph.begin()
    for page in pages:
        graph.add(page)
    graph.end()
    return graph


def test_the_graph_finds_what_exact_search_finds() -> None:
    rows = unit_rows(2_000)
    ids = range(1, 2_001)
    half = list(ids).index(1_000)
    graph = synced(AnnIndex(DIM, capacity=100), stored(ids, rows)[:half], stored(ids, rows)[half:])
    assert len(graph) == 2_000  # grown past its first capacity
    exact = Matrix(np.asarray(list(ids)), rows.astype(np.float16).astype(np.float32))
    for query in unit_rows(20, seed=1):
        want = exact.nearest(query, 10)
        got = graph.nearest(query, 10)
        assert got[0][0] == want[0][0]
        assert len({a for a, _ in got} & {a for a, _ in want}) >= 9
        assert abs(got[0][1] - want[0][1]) < 1e-3
        assert abs(graph.cosine(want[5][0], query) - want[5][1]) < 1e-3


def test_a_changed_story_is_replaced_and_a_deleted_one_dropped() -> None:
    rows = unit_rows(50)
    graph = synced(AnnIndex(DIM, capacity=50), stored(range(50), rows))
    moved = unit_rows(1, seed=7)[0]
    edited = [*stored(range(50), rows)]
    edited[3] = EmbeddingRow(3, "b3", pack(moved))  # story 3 edited: new content, new vector
    synced(graph, [r for r in edited if r.article_id != 9])  # story 9 deleted
    assert len(graph) == 49
    assert graph.nearest(moved, 1)[0][0] == 3
    assert abs(graph.cosine(3, moved) - 1.0) < 1e-3
    assert graph.cosine(9, rows[9]) is None
    assert 9 not in [aid for aid, _ in graph.nearest(rows[9], 10)]
    synced(graph, stored(range(50), rows))  # story 9 back, story 3 as it was
    assert graph.nearest(rows[9], 1)[0][0] == 9 and graph.nearest(rows[3], 1)[0][0] == 3


def test_more_asked_for_than_it_holds_gives_all_it_holds() -> None:
    rows = unit_rows(5)
    graph = synced(AnnIndex(DIM, capacity=5), stored(range(5), rows))
    assert sorted(aid for aid, _ in graph.nearest(rows[0], 20)) == [0, 1, 2, 3, 4]
    assert synced(AnnIndex(DIM, capacity=5)).nearest(rows[0], 20) == []
