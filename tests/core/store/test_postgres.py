"""The PostgreSQL driver's own behaviour: schema versions, secrets in errors, several
processes on one database (SKIP LOCKED, LISTEN/NOTIFY, advisory locks), lost connections.

Two `PostgresStore`s on one database stand for two processes: each has its own pool,
job-lock connection and listener, as a process would.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.core.store import Store, StoreBusy, StoreError, StoreUnavailable, open_store
from bot.core.store.postgres import SCHEMA_VERSION, PostgresStore
from bot.core.store.postgres.fulltext import compile_query, fts_row, tokens
from bot.core.store.types import FieldWeights, SearchText, TextQuery
from tests.helpers import make_article

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Store]:
    store = await open_store(pg_url)
    try:
        yield store
    finally:
        await store.close()


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, timeout=10)


async def _terminate(url: str, application_name: str) -> int:
    """Kill the database's backends of this application_name (as a crash or a network
    cut would end them); how many."""
    admin = await _admin(url)
    try:
        pids = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1 "
            "AND pid != pg_backend_pid()",
            application_name,
        )
    finally:
        await admin.close()
    return len(pids)


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def _subscribe_and_match(store: Store, n: int) -> list[int]:
    """A DM subscription to topic 'ai' and `n` stories matched to it: the row ids."""
    async with store.transaction() as tx:
        sub = await tx.add_subscription(
            guild_id=None,
            channel_id=None,
            user_id=5,
            target="user:5",
            topic_key="ai",
            topic="AI",
            keywords=(),
            min_quality=0.0,
            created_at=0.0,
        )
        result = await tx.upsert_articles([make_article(i, topics=("AI",)) for i in range(n)])
        await tx.add_outbox_rows([(sub.id, a) for a in result.added], now=1.0)
        rows = await tx.pending_for("user:5")
    return [r.row_id for r in rows]


# -- schema ------------------------------------------------------------------------


async def test_new_database_gets_the_current_schema_and_keeps_rows_on_reopen(
    pg_url: str,
) -> None:
    async with await open_store(pg_url) as store, store.transaction() as tx:
        await tx.upsert_articles([make_article(1)])
    admin = await _admin(pg_url)
    try:
        assert await admin.fetchval("SELECT version FROM schema_version") == SCHEMA_VERSION
    finally:
        await admin.close()
    async with await open_store(pg_url) as again:
        assert (await again.stats())["stories"] == 1


async def test_newer_schema_is_refused_and_left_untouched(pg_url: str) -> None:
    async with await open_store(pg_url) as store, store.transaction() as tx:
        await tx.upsert_articles([make_article(1)])
    admin = await _admin(pg_url)
    try:
        await admin.execute("UPDATE schema_version SET version = 999")
        with pytest.raises(StoreError, match="999 is newer") as refused:
            await open_store(pg_url)
        assert "not changed" in str(refused.value)
        assert await admin.fetchval("SELECT version FROM schema_version") == 999
        assert await admin.fetchval("SELECT count(*) FROM articles") == 1
    finally:
        await admin.close()


async def test_a_database_of_another_program_is_refused_untouched(pg_url: str) -> None:
    admin = await _admin(pg_url)
    try:
        await admin.execute("CREATE TABLE invoices (id int)")
        with pytest.raises(StoreError, match="not a newsbot database"):
            await open_store(pg_url)
        tables = await admin.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert [r["tablename"] for r in tables] == ["invoices"]
    finally:
        await admin.close()


# -- secrets and errors ------------------------------------------------------------


async def test_unreachable_server_is_unavailable_and_the_password_never_shown() -> None:
    with pytest.raises(StoreUnavailable) as gone:
        # Port 9 (discard) on loopback: nothing listens there.
        await open_store("postgresql://bot:s3cr3t-pw@127.0.0.1:9/newsbot")
    text = str(gone.value)
    assert "s3cr3t-pw" not in text and "***" in text
    assert text.startswith("store unavailable:")


async def test_an_sql_error_names_the_database_without_its_password(pg_url: str) -> None:
    # The test server trusts every local user, so the password is accepted and ignored.
    url = _with_password(pg_url, "hunter2-pw")
    async with await open_store(url) as store:
        admin = await _admin(pg_url)
        try:
            await admin.execute("DROP TABLE embeddings")
        finally:
            await admin.close()
        with pytest.raises(StoreError) as failed:
            await store.embedding_counts("m")
    assert "hunter2-pw" not in str(failed.value)
    assert "***@" in str(failed.value) and "embeddings" in str(failed.value)
    assert not isinstance(failed.value, StoreUnavailable)


async def test_busy_writer_of_this_process(pg: Store) -> None:
    async with pg.transaction():
        assert pg.writing
        with pytest.raises(StoreBusy):
            async with pg.transaction(wait=False):
                pass


# -- several processes -------------------------------------------------------------


async def test_two_processes_never_plan_or_claim_the_same_rows(pg_url: str) -> None:
    a = await open_store(pg_url)
    b = await open_store(pg_url)
    try:
        rows = await _subscribe_and_match(a, 3)
        assert len(rows) == 3
        async with a.transaction() as tx_a:
            planned = await tx_a.pending_for("user:5")
            assert [r.row_id for r in planned] == rows
            # Meanwhile the other process sees none of the rows a is planning, claims none.
            async with b.transaction() as tx_b:
                assert await tx_b.pending_for("user:5") == []
                assert await tx_b.claim(rows, "nonce-b") == []
            assert await tx_a.claim(rows, "nonce-a") == rows
        async with b.transaction() as tx_b:
            after = await tx_b.pending_for("user:5")
        assert {r.batch for r in after} == {"nonce-a"}
    finally:
        await a.close()
        await b.close()


async def test_loads_of_two_processes_do_not_interleave(pg_url: str) -> None:
    a = await open_store(pg_url)
    b = await open_store(pg_url)
    try:
        same = [make_article(i) for i in range(50)]

        async def load(store: Store) -> list[int]:
            async with store.transaction() as tx:
                result = await tx.upsert_articles(same)
                await asyncio.sleep(0.05)  # hold the transaction open a little
                return result.added

        first, second = await asyncio.gather(load(a), load(b))
        # One of them stored the stories; the other waited, then found them all.
        assert sorted([len(first), len(second)]) == [0, 50]
        assert (await a.stats())["stories"] == 50
    finally:
        await a.close()
        await b.close()


async def test_generation_change_wakes_a_waiter_in_another_process(pg_url: str) -> None:
    a = await open_store(pg_url)
    b = await open_store(pg_url)
    try:
        seen = await a.generation()
        waiter = asyncio.create_task(a.wait_generation_change(seen, 30.0))
        await asyncio.sleep(0.3)  # a is listening by now
        t0 = time.monotonic()
        async with b.transaction() as tx:
            await tx.bump_generation()
        assert await asyncio.wait_for(waiter, 10) == seen + 1
        assert time.monotonic() - t0 < 5  # woken, not timed out
    finally:
        await a.close()
        await b.close()


async def test_lost_listener_falls_back_to_polling_then_listens_again(pg_url: str) -> None:
    a = await open_store(pg_url)
    b = await open_store(pg_url)
    try:
        seen = await a.generation()
        assert await a.wait_generation_change(seen, 0.1) == seen  # starts listening
        assert await _terminate(pg_url, "newsbot-listen") >= 1
        await asyncio.sleep(0.2)
        waiter = asyncio.create_task(a.wait_generation_change(seen, 30.0))
        await asyncio.sleep(0.2)
        async with b.transaction() as tx:
            await tx.bump_generation()
        assert await asyncio.wait_for(waiter, 10) == seen + 1
        assert isinstance(a, PostgresStore)
        await a.wait_generation_change(seen + 1, 1.5)  # reconnects once the backoff allows
        admin = await _admin(pg_url)
        try:
            listeners = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'newsbot-listen'"
            )
        finally:
            await admin.close()
        assert listeners == 1
    finally:
        await a.close()
        await b.close()


async def test_job_lock_passes_on_when_its_holder_closes(pg_url: str) -> None:
    a = await open_store(pg_url)
    b = await open_store(pg_url)
    try:
        assert await a.try_hold("feeds")
        assert await a.try_hold("feeds")  # already held: still True
        assert not await b.try_hold("feeds")
        assert await b.try_hold("digest")  # another job is another lock
        await a.close()
        assert await b.try_hold("feeds")
        assert await b.holds("feeds")
        await b.let_go("feeds")
        assert not await b.holds("feeds")
    finally:
        await a.close()
        await b.close()


async def test_job_lock_passes_on_when_its_holders_connection_dies(pg_url: str) -> None:
    a = await open_store(pg_url)
    b = await open_store(pg_url)
    try:
        assert await a.try_hold("feeds")
        assert await a.holds("feeds")
        assert await _terminate(pg_url, "newsbot-jobs") == 1
        assert not await a.holds("feeds")
        assert await b.try_hold("feeds")
        assert not await a.try_hold("feeds")  # reconnected, but b has it now
    finally:
        await a.close()
        await b.close()


# -- lost connections --------------------------------------------------------------


class Proxy:
    """A TCP relay to the server that can be cut (every connection dropped, nothing
    listening) and restored on the same port: the network or the server going away."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_server_gone_is_unavailable_then_the_next_call_works(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    url = urlunsplit((parts.scheme, f"{parts.username}@127.0.0.1:{proxy.port}", parts.path, "", ""))
    store = await open_store(url)
    try:
        async with store.transaction() as tx:
            await tx.upsert_articles([make_article(1)])
        await proxy.cut()
        with pytest.raises(StoreUnavailable, match=r"^store unavailable: "):
            await store.stats()
        with pytest.raises(StoreUnavailable):
            async with store.transaction() as tx:
                await tx.upsert_articles([make_article(2)])
        await proxy.start()  # the server is back, on the same address
        assert (await store.stats())["stories"] == 1
        async with store.transaction() as tx:
            assert len((await tx.upsert_articles([make_article(3)])).added) == 1
    finally:
        await store.close()
        await proxy.cut()


async def test_lost_connection_in_a_transaction_writes_nothing(pg: Store, pg_url: str) -> None:
    with pytest.raises(StoreUnavailable, match="store unavailable"):
        async with pg.transaction() as tx:
            await tx.upsert_articles([make_article(1)])
            await _terminate(pg_url, "newsbot")
            await tx.upsert_articles([make_article(2)])
    assert (await pg.stats())["stories"] == 0
    async with pg.transaction() as tx:
        assert len((await tx.upsert_articles([make_article(3)])).added) == 1
    assert (await pg.stats())["stories"] == 1


# -- full text -----------------------------------------------------------------------


def test_words_are_cut_as_the_search_cuts_them() -> None:
    assert tokens("Écoles d’Été: example.com v3.5") == [
        "ecoles",
        "d",
        "ete",
        "example",
        "com",
        "v3",
        "5",
    ]


def test_fields_keep_their_positions_apart() -> None:
    row = fts_row(SearchText("Big cloud", "cloud", "", "x " * 10 + "deal", ""))
    entries = [e.rsplit(":", 1) for e in row.tsv.split(" ")]
    where: dict[str, list[int]] = {}
    for word, pos in entries:
        where.setdefault(word, []).append(int(pos))
    assert where["cloud"] == [2, 1024]
    assert where["deal"] == [3072 + 10]
    assert row.title_tsv == "big:1 cloud:2"
    assert row.ntok == 2 + 1 + 11


def test_query_terms_are_quoted_never_operators() -> None:
    compiled = compile_query(TextQuery(((" a'b ", "x & !y"), ("4 6",)), fields=("title",)))
    assert compiled.tsquery == "(('a' <-> 'b') | ('x' <-> 'y')) & (('4' <-> '6'))"
    assert compiled.title_only


async def test_ranked_search_prefers_the_title_and_phrases_match_in_order(pg: Store) -> None:
    async with pg.transaction() as tx:
        ids = (
            await tx.upsert_articles(
                [
                    make_article(1, title="Quantum chips arrive", excerpt="A new era."),
                    make_article(2, title="Markets today", excerpt="Quantum computing stocks."),
                    make_article(3, title="Chips quantum", excerpt="Order reversed."),
                ]
            )
        ).added
    weights = FieldWeights(title=10.0, topics=4.0, provider=4.0, excerpt=1.5, related=3.0)
    ranked = await pg.match_ranked(TextQuery((("quantum",),)), weights, limit=10)
    assert ranked[0].article_id in (ids[0], ids[2])
    assert ranked[-1].article_id == ids[1]
    assert all(r.score < 0 for r in ranked)
    phrase = await pg.match_newest(TextQuery((("quantum chips",),)), limit=10)
    assert phrase == [ids[0]]
    assert await pg.match_newest(TextQuery((("quantum",),), fields=("excerpt",)), limit=10) == [
        ids[1]
    ]


# Stories whose words repeat across fields and stand in and out of phrase order, so that
# field weights, term frequencies, phrase starts and document lengths all count.
_RANKED_STORIES = [
    dict(
        title="Quantum chips arrive",
        excerpt="Quantum computing gets chips that arrive early, quantum chips again.",
        topics=("Quantum", "Chips"),
    ),
    dict(title="Markets today", excerpt="Quantum computing stocks rise as chips arrive."),
    dict(title="Chips quantum", excerpt="Order reversed: chips first, then quantum."),
    dict(title="New York robots", excerpt="Robots in New York learn to walk in New York."),
    dict(title="York news", excerpt="New robots, old York, new new york."),
    dict(title="Unrelated", excerpt="Nothing to see here at all."),
]
_RANKED_QUERIES = [
    (("quantum",),),
    (("quantum", "chips", "robots"),),
    (("quantum chips",),),
    (("new york", "robots"),),
    (("new new york", "walk"),),
    (("york new",),),  # "old York, new new york": across a comma, not across fields
    (("quantum",), ("chips", "computing")),  # two groups: ranked in Python
]


async def test_ranked_scores_are_sqlites_fts5_scores(pg: Store, tmp_path: Path) -> None:
    """The server's bm25 (one OR group) and the Python one (the other shapes) give the
    scores SQLite's FTS5 gives the same stories, phrases and field weights included."""
    weights = FieldWeights(title=10.0, topics=4.0, provider=2.0, excerpt=1.5, related=3.0)
    stories = [make_article(i, **kw) for i, kw in enumerate(_RANKED_STORIES)]  # type: ignore[arg-type]
    async with await open_store(tmp_path / "ranked.db") as sqlite:
        ranked: dict[str, list[list[tuple[int, float]]]] = {}
        for name, store in (("sqlite", sqlite), ("postgres", pg)):
            async with store.transaction() as tx:
                await tx.upsert_articles(stories)
            ranked[name] = [
                [
                    (r.article_id, r.score)
                    for r in await store.match_ranked(TextQuery(q), weights, limit=10)
                ]
                for q in _RANKED_QUERIES
            ]
    for query, want, got in zip(_RANKED_QUERIES, ranked["sqlite"], ranked["postgres"], strict=True):
        assert sorted(a for a, _ in got) == sorted(a for a, _ in want), query
        expected = dict(want)
        for aid, score in got:
            assert math.isclose(score, expected[aid], rel_tol=1e-9), (query, aid)
        assert [s for _, s in got] == sorted(s for _, s in got), query  # best first
    assert [len(r) for r in ranked["postgres"]] == [3, 5, 1, 2, 2, 1, 3]


async def test_a_big_write_settles_the_index_and_a_small_one_does_not(pg_url: str) -> None:
    """Planner statistics come with the load that made them stale (at autovacuum's
    threshold: 50 rows and a tenth of the table), not a minute later."""

    async def analyzed_rows() -> float:
        admin = await _admin(pg_url)
        try:
            return float(
                await admin.fetchval(
                    "SELECT reltuples FROM pg_class WHERE relname = 'articles_fts'"
                )
            )
        finally:
            await admin.close()

    async with await open_store(pg_url) as store:
        for first, last, seen in ((0, 80, 80), (80, 85, 80), (85, 150, 150)):
            async with store.transaction() as tx:
                await tx.upsert_articles([make_article(i) for i in range(first, last)])
            assert await analyzed_rows() == seen, (first, last)  # 5 stories: left to autovacuum
