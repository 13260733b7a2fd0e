"""Tests for the search: normalisation, typos, topics, collapsing, cutoff, autocomplete, safety."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.records import Article, Provider, Related
from bot.core.search import wordnet
from bot.core.search.query import parse, tokenize
from bot.core.search.searcher import NO_MORE_WORDS, Searcher
from bot.core.search.vocab import Vocabulary, stem
from bot.core.store import Store, open_store
from bot.core.store.sqlite.search import fts_string
from tests.drivers import StoreTarget
from tests.helpers import CORPUS, SEED

T0 = datetime(2021, 1, 1, tzinfo=UTC)


def story(
    n: int,
    title: str,
    *,
    excerpt: str = "",
    topics: tuple[str, ...] = ("AI",),
    provider: str = "Wire",
    days: int = 0,
    related: tuple[Related, ...] = (),
    url: str | None = None,
) -> Article:
    return Article(
        title=title,
        url=url or f"https://news.example/{n}",
        excerpt=excerpt,
        published=T0 + timedelta(days=days),
        provider=Provider(provider, provider.lower().replace(" ", "") + ".com"),
        topics=topics,
        related=related,
        quality=50,
    )


IBM_URL = "https://www.engadget.com/ibm-exits-facial-recognition"
VERGE_URL = "https://www.theverge.com/ibm-no-longer-facial-recognition"

STORIES = [
    story(
        1,
        "IBM stops work on facial recognition over human rights concerns",
        excerpt="IBM is exiting its facial recognition business over racial bias concerns.",
        topics=("Computer Vision", "AI"),
        provider="Engadget",
        days=10,
        url=IBM_URL,
        related=(
            Related(title="IBM will no longer offer facial recognition technology", url=VERGE_URL),
        ),
    ),
    story(
        2,
        "IBM will no longer offer facial recognition technology",
        excerpt="The company will not research or develop face recognition.",
        topics=("Computer Vision", "AI"),
        provider="The Verge",
        days=10,
        url=VERGE_URL,
        related=(Related(title="IBM stops work on facial recognition", url=IBM_URL),),
    ),
    story(
        3,
        "Telemedicine Market worth USD 396 Billion at 25.8% CAGR",
        excerpt="Virtual care keeps growing after the pandemic.",
        topics=("AI in Healthcare", "AI"),
        days=20,
    ),
    story(
        4,
        "Gravyty introduces crisis tools for fundraisers",
        excerpt="Gravyty helps nonprofits raise money with artificial intelligence.",
        days=5,
    ),
    story(
        5,
        "Scientists measure gravity waves with machine learning",
        excerpt="Researchers used gravity data.",
        topics=("Machine Learning", "AI"),
        days=6,
    ),
    story(6, "New gravity sensors for phones", excerpt="Gravity sensing chips.", days=7),
    story(
        7,
        "Computer vision startup spots defects on assembly lines",
        topics=("Computer Vision", "AI"),
        days=30,
    ),
    story(
        8, "Computer vision helps farmers count cattle", topics=("Computer Vision", "AI"), days=40
    ),
    story(
        9,
        "Natural Language Processing (NLP) market to double by 2027",
        topics=("Natural Language Processing", "AI"),
        days=3,
    ),
    story(
        10,
        "Fenergo and IBM join forces to fight financial crime",
        provider="Benzinga",
        topics=("IBM AI", "AI in Finance", "AI"),
        days=2,
    ),
    story(
        11,
        "IBM opens a new research lab in Dublin",
        provider="Engadget",
        topics=("IBM AI", "AI"),
        days=1,
    ),
    story(
        12,
        "IBM opens a new research lab in Dublin!",
        provider="Other Wire",
        topics=("IBM AI", "AI"),
        days=1,
    ),
    story(13, "Robots deliver groceries during lockdown", topics=("AI in Robotics", "AI"), days=8),
]


async def make_store(target: StoreTarget, articles: list[Article]) -> Store:
    store = await open_store(target)
    async with store.transaction() as tx:
        await tx.upsert_articles(articles)
        await tx.bump_generation()
    return store


@pytest.fixture
async def searcher(store_target: StoreTarget) -> AsyncIterator[Searcher]:
    store = await make_store(store_target, STORIES)
    try:
        yield Searcher(store)
    finally:
        await store.close()


# -- normalisation -----------------------------------------------------------------


def test_parse_drops_filler_possessives_and_punctuation() -> None:
    p = parse("Hey guys, what's the latest on IBM's facial-recognition?? lol  ")
    assert p.terms == ["ibm", "facial", "recognition"]
    assert p.recency is True
    assert "s" not in p.terms and "lol" not in p.terms


def test_parse_folds_case_and_accents_and_cuts_long_input() -> None:
    assert parse("Écoles d’ÉTÉ Zürich").terms == ["ecoles", "ete", "zurich"]
    long = parse("word " * 5000, max_chars=300)
    assert long.was_cut and len(long.text) <= 300
    assert parse("a\x00b\u202ec\x07d").text.count("\x00") == 0


def test_fts_string_quotes_everything() -> None:
    assert fts_string('say "NEAR" OR *') == '"say ""NEAR"" OR *"'
    assert tokenize('AND OR NOT: (x) "y*"') == ["and", "or", "not", "x", "y"]


def test_stem_joins_inflections_but_not_derivations() -> None:
    assert stem("ditches") == stem("ditching") == stem("ditched") == stem("ditch")
    assert stem("lorries") == stem("lorry")
    assert stem("agreement") != stem("agree")


# -- typos ---------------------------------------------------------------------------


def test_vocabulary_corrects_unknown_words_only() -> None:
    vocab = Vocabulary({"telemedicine": 5, "gravyty": 1, "gravity": 40, "market": 90}, 100)
    assert vocab.correct("telemedecine") == "telemedicine"
    assert vocab.correct("gravyty") is None  # a rare stored word is right as typed
    assert vocab.correct("markt") == "market"
    assert vocab.correct("qqqqqqq") is None
    assert vocab.correct("ab") is None  # too short to guess


async def test_ask_corrects_typos(searcher: Searcher) -> None:
    answer = await searcher.ask("telemedecine market")
    assert answer.corrected == {"telemedecine": "telemedicine"}
    assert answer.hits[0].title.startswith("Telemedicine Market")


async def test_ask_does_not_over_correct_a_rare_word(searcher: Searcher) -> None:
    answer = await searcher.ask("gravyty")
    assert answer.corrected == {}
    assert answer.hits[0].title.startswith("Gravyty")
    answer = await searcher.ask("gravity")
    assert answer.corrected == {}
    assert "Gravyty" not in answer.hits[0].title


@pytest.mark.skipif(wordnet.load() is None, reason="no WordNet database on this machine")
async def test_real_english_words_are_not_corrected(searcher: Searcher) -> None:
    answer = await searcher.ask("robots drop groceries")  # 'drop' is not a typo of 'crop'
    assert "drop" not in answer.corrected


# -- topics and providers ---------------------------------------------------------------


async def test_topic_request_lists_the_topic_newest_first(searcher: Searcher) -> None:
    answer = await searcher.ask("computer vision news")
    assert answer.topic == "Computer Vision"
    assert answer.hits and all("Computer Vision" in h.topics for h in answer.hits)
    dates = [h.published for h in answer.hits]
    assert dates == sorted(dates, reverse=True)


async def test_acronym_names_the_topic(searcher: Searcher) -> None:
    answer = await searcher.ask("latest nlp stuff")
    assert answer.topic == "Natural Language Processing"
    assert answer.hits[0].title.startswith("Natural Language Processing")


async def test_provider_named_in_question_is_favoured(searcher: Searcher) -> None:
    plain = await searcher.ask("ibm dublin lab")
    assert len(plain.hits) >= 1
    answer = await searcher.ask("engadget ibm")
    assert answer.hits[0].provider == "Engadget"


# -- collapsing -------------------------------------------------------------------------


async def test_records_of_one_event_collapse_into_one_hit(searcher: Searcher) -> None:
    answer = await searcher.ask("ibm facial recognition", limit=5)
    first = answer.hits[0]
    assert first.url in (IBM_URL, VERGE_URL)
    assert len(first.also) == 1
    assert all(h.url not in (IBM_URL, VERGE_URL) for h in answer.hits[1:])


async def test_near_identical_titles_collapse(searcher: Searcher) -> None:
    answer = await searcher.ask("ibm research lab dublin")
    dublin = [h for h in answer.hits if "Dublin" in h.title]
    assert len(dublin) == 1 and len(dublin[0].also) == 1


# -- cutoff, suggestions, notices ------------------------------------------------------------


async def test_nonsense_gets_no_hit(searcher: Searcher) -> None:
    answer = await searcher.ask("zzqx blorfing wuggle")
    assert answer.hits == []
    assert len(answer.suggestions) <= 3


async def test_weak_match_gets_suggestions_not_a_random_story(searcher: Searcher) -> None:
    answer = await searcher.ask("quantum teleportation of cattle ranch computers vision")
    assert answer.hits == [] or "vision" in answer.hits[0].title.lower()
    answer = await searcher.ask("computr visionn")
    assert answer.hits or answer.suggestions


async def test_only_stopwords_ask_for_more_words(searcher: Searcher) -> None:
    answer = await searcher.ask("what is the ?! ...")
    assert answer.hits == [] and answer.notice == NO_MORE_WORDS


async def test_long_question_is_cut_with_notice(searcher: Searcher) -> None:
    answer = await searcher.ask("telemedicine " * 2000)
    assert len(answer.query) <= 300
    assert answer.notice and "300" in answer.notice
    assert answer.hits[0].title.startswith("Telemedicine")


# -- autocomplete and topic names ---------------------------------------------------------------


async def test_autocomplete_values_find_their_story_first(searcher: Searcher) -> None:
    choices = await searcher.autocomplete("ibm fac")
    assert choices and "facial recognition" in choices[0][0].lower()
    for label, value in choices:
        assert 0 < len(label) <= 100 and 0 < len(value) <= 100
        answer = await searcher.ask(value)
        assert answer.hits[0].title.startswith(value.rstrip("…"))
    assert len(await searcher.autocomplete("")) == len(STORIES) - 1  # two share a title


async def test_autocomplete_value_of_a_long_title(store_target: StoreTarget) -> None:
    long_title = "A very long headline " + "about robots and vision " * 8
    store = await make_store(store_target, [*STORIES, story(99, long_title.strip())])
    try:
        s = Searcher(store)
        choices = await s.autocomplete("very long headline")
        label, value = choices[0]
        assert len(value) <= 100 and len(label) <= 100
        assert (await s.ask(value)).hits[0].title == long_title.strip()
    finally:
        await store.close()


async def test_topic_choices_and_resolution(searcher: Searcher) -> None:
    everything = await searcher.topic_choices("")
    assert everything[0] == "AI"  # most stories first
    assert set(everything) >= {"Computer Vision", "Natural Language Processing", "IBM AI"}
    assert (await searcher.topic_choices("comp"))[0] == "Computer Vision"
    assert await searcher.resolve_topic("computer visoin") == "Computer Vision"
    assert await searcher.resolve_topic("NLP") == "Natural Language Processing"
    assert await searcher.resolve_topic("ibm ai") == "IBM AI"
    assert await searcher.resolve_topic("underwater basket weaving") is None


# -- freshness ---------------------------------------------------------------------------------


async def test_reload_is_seen_without_restart(searcher: Searcher) -> None:
    assert (await searcher.ask("zeppelin")).hits == []
    async with searcher.store.transaction() as tx:
        await tx.upsert_articles([story(50, "Zeppelin maker adopts AI")])
        await tx.bump_generation()
    assert await searcher.refresh() is True
    assert await searcher.refresh() is False  # unchanged: nothing rebuilt
    assert (await searcher.ask("zeppelin")).hits[0].title == "Zeppelin maker adopts AI"


# -- hostile input -------------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"unbalanced',
    "*",
    "ibm*",
    "NEAR(ibm facial)",
    "ibm AND OR NOT",
    "title: ibm",
    "(((",
    ")",
    "-ibm",
    "^ibm",
    "{title}: ibm",
    "ibm'; DROP TABLE articles; --",
    "\x00\x01\x02",
    "🤖🤖🤖 robots 🚚",
    "مرحبا بالعالم",
    "עברית ibm",
    "e\u0301\u0301\u0301",
    "Z̷̢̛a̴l̸g̵o̶",
    "\u202eibm",
    " " * 500,
    "ibm " * 3000,
    "x" * 10_000,
    "NEAR/3",
    "ibm OR",
    "AND",
    "\\",
    "%_",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_strings_answer_in_bounded_time(searcher: Searcher, text: str) -> None:
    started = time.perf_counter()
    answer = await searcher.ask(text)
    assert time.perf_counter() - started < 2.0
    assert len(answer.query) <= 300
    assert not (answer.notice or "").startswith("Search is unavailable")
    assert isinstance(await searcher.autocomplete(text), list)
    assert isinstance(await searcher.topic_choices(text), list)
    await searcher.resolve_topic(text)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=st.text(max_size=400))
def test_ask_never_raises_for_any_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    async def run() -> None:
        global _shared
        if _shared is None:
            store = await make_store(tmp_path_factory.mktemp("h") / "h.db", STORIES)
            _shared = (store, Searcher(store))
        _, s = _shared
        started = time.perf_counter()
        answer = await s.ask(text)
        assert time.perf_counter() - started < 2.0
        assert not (answer.notice or "").startswith("Search is unavailable")
        await s.autocomplete(text)

    _loop.run_until_complete(run())


_shared: tuple[Store, Searcher] | None = None
_loop = asyncio.new_event_loop()


def teardown_module() -> None:
    if _shared is not None:
        _loop.run_until_complete(_shared[0].close())
    _loop.close()


# -- the real corpus ---------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")
async def test_real_corpus_typo_and_chatty_questions(store_target: StoreTarget) -> None:
    from bot.core.loader import load_paths

    store = await open_store(store_target)
    try:
        await load_paths(store, [CORPUS, SEED])
        s = Searcher(store)
        cases = {
            "ibm facial recogntion": "IBM stops work on facial recognition",
            "hey guys anyone seen that thing about ibm ditching face rec? lol": (
                "IBM stops work on facial recognition"
            ),
            "fenrgo ibm financial crime": "IBM & Fenergo",
            "sensml automl": "New Web-Based AutoML Tool from SensiML",
        }
        for question, title in cases.items():
            answer = await s.ask(question)
            assert answer.hits and answer.hits[0].title.startswith(title), question
    finally:
        await store.close()
