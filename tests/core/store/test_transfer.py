"""`newsbot migrate`'s copy (bot.core.store.transfer): SQLite → PostgreSQL, one transaction.

A SQLite store with a row in every table (stories, topics, related coverage, files,
story sources, subscriptions with their states, outbox rows pending and sent,
crossposts, threads, feeds and entries, embeddings, meta) is copied; then the counts,
one full story field by field, the search and the alerts are compared, a second run
must change nothing, a target with other data is refused, and the file's bytes must
be unchanged throughout.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from bot.core.alerts import subscriptions as subs
from bot.core.loader import load_paths
from bot.core.search.searcher import Searcher
from bot.core.store import StoreError
from bot.core.store.feeds import FeedEntry
from bot.core.store.transfer import TransferRefused, migrate_to_postgres
from bot.core.store.types import EmbeddingRow
from tests.core.alerts.test_alerts import add_stories, article, subscribe
from tests.drivers import opened_store, sql_execute, sql_rows
from tests.helpers import SEED, write_record

# Every table a newsbot SQLite store holds rows in (its FTS tables are rebuilt, not copied).
TABLES = (
    "alert_threads",
    "article_topics",
    "articles",
    "crossposts",
    "embeddings",
    "feed_entries",
    "feeds",
    "outbox",
    "providers",
    "related",
    "sources",
    "story_sources",
    "subscriptions",
    "topics",
)
GUILD = 4242


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def filled_sqlite(tmp_path: Path) -> tuple[Path, list[int]]:
    """A SQLite store with rows in every table; its path and the story ids."""
    db = tmp_path / "source.db"
    folder = tmp_path / "records"
    (folder / SEED.name).parent.mkdir(parents=True, exist_ok=True)
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    write_record(folder, "other.md", title="Robots learn to fold laundry", topics=["Robotics"])
    async with opened_store(db) as store:
        await load_paths(store, [folder])
        cv = await subscribe(store)  # a channel subscription to Computer Vision
        dm = await subscribe(store, channel=None, user=77)
        ids = await add_stories(store, *(article(f"Vision story {i}") for i in range(3)))
        await subs.set_status(store, dm.id, "paused", "Cannot send messages to this user")
        now = time.time()
        async with store.transaction() as tx:
            rows = sql_rows(store, "SELECT id FROM outbox WHERE subscription_id = ?", (cv.id,))
            claimed = await tx.claim([rows[0][0]], "nonce-1")
            await tx.mark_sent(claimed, message_id=9001, now=now)
            await tx.book_crosspost(1, "nonce-1", now=now, limit=10, window=3600)
            await tx.record_thread_intent("nonce-1", "channel:1", "Vision", now=now)
            feed = await tx.add_feed(
                url="https://feeds.example/a.xml",
                guild_id=GUILD,
                added_by=5,
                topics=["Feeds"],
                every=900.0,
                created_at=now,
            )
            await tx.save_feed_entries(feed.id, [FeedEntry("https://x/1", "h1", ids[0], True)])
            await tx.add_story_sources([ids[0]], f"feed:{feed.id}", GUILD)
            await tx.put_embeddings(
                "test-model",
                [EmbeddingRow(i, f"hash{i}", bytes(range(i % 7, i % 7 + 16))) for i in ids],
            )
            await tx.set_meta("note", {"copied": True})
            await tx.bump_generation()
        empty = [t for t in TABLES if sql_rows(db, f"SELECT count(*) FROM {t}") == [(0,)]]
        assert empty == [], f"the fixture store should fill every table: {empty}"
        all_ids = [i for (i,) in sql_rows(db, "SELECT id FROM articles ORDER BY id")]
    return db, all_ids


def counts(where: Path | str) -> dict[str, int]:
    return {t: sql_rows(where, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


async def test_round_trip_copies_every_table_and_leaves_the_file_alone(
    tmp_path: Path, pg_url: str
) -> None:
    db, ids = await filled_sqlite(tmp_path)
    before = file_digest(db)
    report = await migrate_to_postgres(db, pg_url)
    assert report.copied
    assert counts(pg_url) == counts(db)
    assert {t: report.counts[t] for t in TABLES} == counts(db)
    assert file_digest(db) == before

    async with opened_store(db) as here, opened_store(pg_url) as there:
        # Every story, every field (the seed has related coverage, images, a provider).
        assert await there.get_articles(ids) == await here.get_articles(ids)
        assert await there.topics() == await here.topics()
        for question in ("ibm facial recognition", "robots laundry"):
            mine = [h.article_id for h in (await Searcher(here).ask(question)).hits]
            theirs = [h.article_id for h in (await Searcher(there).ask(question)).hits]
            assert theirs == mine and mine, question
        assert await there.outbox_counts() == await here.outbox_counts()
        assert await there.pending_targets() == await here.pending_targets()
        assert await there.get_meta("note") == {"copied": True}
        assert await there.generation() == await here.generation()
        # New rows get new ids: the id sequences moved past the copied ones.
        async with there.transaction() as tx:
            added = (await tx.upsert_articles([article("After the move")])).added
        assert added[0] > max(ids)


async def test_second_run_changes_nothing(tmp_path: Path, pg_url: str) -> None:
    db, _ids = await filled_sqlite(tmp_path)
    await migrate_to_postgres(db, pg_url)
    stamp = sql_rows(pg_url, "SELECT id, updated_at, content_hash FROM articles ORDER BY id")
    before = file_digest(db)
    again = await migrate_to_postgres(db, pg_url)
    assert not again.copied
    assert {t: again.counts[t] for t in TABLES} == counts(db)
    assert (
        sql_rows(pg_url, "SELECT id, updated_at, content_hash FROM articles ORDER BY id") == stamp
    )
    assert file_digest(db) == before


async def test_a_target_with_other_data_is_refused_untouched(tmp_path: Path, pg_url: str) -> None:
    db, _ids = await filled_sqlite(tmp_path)
    async with opened_store(pg_url) as other:
        await add_stories(other, article("Someone else's story"))
    with pytest.raises(TransferRefused, match=r"other data.*articles: 1 there"):
        await migrate_to_postgres(db, pg_url)
    assert sql_rows(pg_url, "SELECT title FROM articles") == [("Someone else's story",)]
    assert sql_rows(pg_url, "SELECT count(*) FROM subscriptions") == [(0,)]


async def test_same_counts_but_changed_rows_are_refused(tmp_path: Path, pg_url: str) -> None:
    db, _ids = await filled_sqlite(tmp_path)
    await migrate_to_postgres(db, pg_url)
    sql_execute(pg_url, "UPDATE subscriptions SET status = 'disabled'")
    with pytest.raises(TransferRefused, match="same counts, different rows"):
        await migrate_to_postgres(db, pg_url)


async def test_a_failed_copy_leaves_the_target_empty(tmp_path: Path, pg_url: str) -> None:
    db, _ids = await filled_sqlite(tmp_path)
    async with opened_store(pg_url):
        pass  # the schema exists
    # A row the copy cannot satisfy, written late in its order: the whole copy must roll back.
    sql_execute(pg_url, "ALTER TABLE embeddings ADD CONSTRAINT tiny CHECK (length(vector) < 4)")
    with pytest.raises(StoreError, match="rolled back"):
        await migrate_to_postgres(db, pg_url)
    assert {t: n for t, n in counts(pg_url).items() if n} == {}


async def test_sources_that_cannot_be_copied_are_refused(tmp_path: Path, pg_url: str) -> None:
    with pytest.raises(TransferRefused, match="no SQLite store there"):
        await migrate_to_postgres(tmp_path / "missing.db", pg_url)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(TransferRefused, match="not a newsbot SQLite store"):
        await migrate_to_postgres(junk, pg_url)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(TransferRefused, match="not a newsbot SQLite store"):
        await migrate_to_postgres(foreign, pg_url)
    with pytest.raises(TransferRefused, match="postgresql:// URL"):
        await migrate_to_postgres(junk, str(tmp_path / "other.db"))


async def test_the_password_never_appears_in_errors(tmp_path: Path) -> None:
    db, _ids = await filled_sqlite(tmp_path)
    url = "postgresql://newsbot:s3cret-pw@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError) as caught:
        await migrate_to_postgres(db, url)
    assert "s3cret-pw" not in str(caught.value)
    assert "***" in str(caught.value)
