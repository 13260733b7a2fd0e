"""The semantic half of search: what only it finds, what it must not break, and how
search behaves without it (not embedded yet, turned off, a model that cannot load)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core.embeddings.backfill import embed_pending
from bot.core.embeddings.models import MINILM, Encoder
from bot.core.embeddings.status import embedding_stats
from bot.core.records import Article
from bot.core.search.dense import Semantic
from bot.core.search.searcher import Searcher
from bot.core.store import Store, open_store
from tests.core.search.test_search import story
from tests.drivers import StoreTarget

STORIES: list[Article] = [
    story(
        1,
        "Tesla recalls thousands of cars over faulty brakes",
        excerpt="Owners are asked to bring their vehicles in for a free repair of the brake pads.",
        topics=("Automotive",),
    ),
    story(
        2,
        "IBM stops work on facial recognition over human rights concerns",
        excerpt="The company will no longer offer general purpose face analysis software.",
        topics=("Computer Vision",),
    ),
    story(
        3,
        "Central bank raises interest rates to fight inflation",
        excerpt="Borrowing costs climb for the third time this year as prices keep rising.",
        topics=("Economy",),
    ),
    story(
        4,
        "New vaccine trial shows strong immune response",
        excerpt="Volunteers produced antibodies after two doses, researchers said.",
        topics=("Health",),
    ),
    story(
        5,
        "Startup unveils robot that folds laundry",
        excerpt="The machine sorts and folds a basket of clothes in ten minutes.",
        topics=("Robotics",),
    ),
]
PARAPHRASE = "loans getting pricier as the monetary authority tightens"
RATES = "Central bank raises interest rates to fight inflation"


async def stored(target: StoreTarget, articles: list[Article]) -> Store:
    store = await open_store(target)
    async with store.transaction() as tx:
        await tx.upsert_articles(articles)
        await tx.bump_generation()
    return store


@pytest.fixture
async def embedded(store_target: StoreTarget, minilm: Encoder) -> AsyncIterator[Store]:
    store = await stored(store_target, STORIES)
    await embed_pending(store, minilm)
    yield store
    await store.close()


async def test_a_paraphrase_is_answered_through_the_semantic_path_only(embedded: Store) -> None:
    lexical = await Searcher(embedded, embeddings="off").ask(PARAPHRASE)
    assert lexical.hits == []
    hybrid = await Searcher(embedded, embeddings=MINILM).ask(PARAPHRASE)
    assert hybrid.hits and hybrid.hits[0].title == RATES


async def test_lexical_answers_stay_first_with_the_semantic_path_on(embedded: Store) -> None:
    searcher = Searcher(embedded, embeddings=MINILM)
    for s in STORIES:
        answer = await searcher.ask(s.title)
        assert answer.hits[0].title == s.title
    answer = await searcher.ask("tesla brakes")
    assert answer.hits[0].title == STORIES[0].title


async def test_scores_stay_within_0_and_1_whatever_the_fusion(embedded: Store) -> None:
    searcher = Searcher(embedded, embeddings=MINILM)
    for q in [*(s.title for s in STORIES), PARAPHRASE, "tesla", "laundry robot", "vaccine"]:
        for hit in (await searcher.ask(q, limit=10)).hits:
            assert 0.0 <= hit.score <= 1.0, (q, hit)


async def test_an_unrelated_question_still_finds_nothing(embedded: Store) -> None:
    answer = await Searcher(embedded, embeddings=MINILM).ask("grandma's banana bread recipe")
    assert answer.hits == []


async def test_a_story_not_embedded_yet_is_found_lexically(embedded: Store) -> None:
    searcher = Searcher(embedded, embeddings=MINILM)
    await searcher.ask("tesla")  # the vectors of the first five are in memory now
    async with embedded.transaction() as tx:
        await tx.upsert_articles([story(6, "Storm floods the harbour town of Kilmore")])
        await tx.bump_generation()
    await searcher.refresh()
    assert (await embedded.embedding_counts(MINILM)).awaiting == 1
    answer = await searcher.ask("kilmore storm flooding")
    assert answer.hits and answer.hits[0].title == "Storm floods the harbour town of Kilmore"


async def test_a_model_that_cannot_load_leaves_lexical_search_and_says_why(
    embedded: Store,
) -> None:
    searcher = Searcher(embedded, embeddings="no-such-model")
    answer = await searcher.ask("tesla brakes")
    assert answer.hits and answer.hits[0].title == STORIES[0].title
    assert (await searcher.ask(PARAPHRASE)).hits == []
    error = searcher.semantic.error
    assert error is not None and "no-such-model" in error
    stats = await embedding_stats(embedded, searcher.semantic.model, error)
    assert stats["embedding_model"] == "no-such-model"
    assert stats["embedding_error"] == error and stats["embedded"] == 0


async def test_turned_off_it_never_loads_a_model(embedded: Store) -> None:
    searcher = Searcher(embedded, embeddings="off")
    await searcher.ask(PARAPHRASE)
    assert searcher.semantic.encoder() is None
    assert "off" in str(searcher.semantic.error)
    assert searcher.semantic.embedded == 0


async def test_preloading_answers_lexically_until_the_model_is_ready(embedded: Store) -> None:
    searcher = Searcher(embedded, embeddings=MINILM)
    await searcher.refresh()
    searcher.semantic.preload(embedded)  # what a running bot does at start
    await searcher.ask("tesla")  # answered while the vectors load, not after
    for _ in range(200):
        if searcher.semantic.embedded:
            break
        await asyncio.sleep(0.05)
    assert searcher.semantic.embedded == len(STORIES)
    answer = await searcher.ask(PARAPHRASE)
    assert answer.hits and answer.hits[0].title == RATES


async def test_a_big_store_answers_through_the_graph_like_exact_search(embedded: Store) -> None:
    exact = Searcher(embedded, embeddings=MINILM)
    graph = Searcher(embedded, embeddings=MINILM)
    graph.semantic = Semantic(MINILM, exact_up_to=0)  # as a store above EXACT_UP_TO is
    for q in [PARAPHRASE, "tesla brakes", "a machine that does chores", "face scanning ban"]:
        want, got = await exact.ask(q, limit=5), await graph.ask(q, limit=5)
        assert [(h.title, round(h.score, 3)) for h in got.hits] == [
            (h.title, round(h.score, 3)) for h in want.hits
        ], q
    assert graph.semantic.approximate and not exact.semantic.approximate
    assert (await graph.ask(PARAPHRASE)).hits[0].title == RATES


async def test_the_graph_takes_in_stories_embedded_after_it_was_built(
    embedded: Store, minilm: Encoder
) -> None:
    searcher = Searcher(embedded, embeddings=MINILM)
    searcher.semantic = Semantic(MINILM, exact_up_to=0)
    await searcher.ask("tesla")  # the graph of the first five is built now
    flood = "Storm floods the harbour town of Kilmore"
    async with embedded.transaction() as tx:
        await tx.upsert_articles([story(6, flood, excerpt="Rivers burst their banks overnight.")])
        await tx.bump_generation()
    await embed_pending(embedded, minilm)
    await searcher.refresh()
    for _ in range(100):  # the next look for new vectors, then the pass in the background
        if searcher.semantic.embedded == len(STORIES) + 1:
            break
        await searcher.ask("tesla")
        await asyncio.sleep(0.05)
    assert searcher.semantic.embedded == len(STORIES) + 1 and searcher.semantic.approximate
    answer = await searcher.ask("seaside village under water after heavy rain")
    assert answer.hits and answer.hits[0].title == flood
