"""bot.core.store on SQLite: schema and migrations, upserts keyed by canonical URL, FTS, reads."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.loader import load_paths
from bot.core.records import Article, Provider, Related, parse_file, parse_text
from bot.core.store import Store, StoreError, StoreUnavailable, open_store
from bot.core.store.sqlite import SCHEMA_VERSION
from tests.drivers import sql_execute, sql_rows, table_dump
from tests.helpers import (
    CORPUS,
    SEED,
    db_query,
    needs_corpus,
    record_text,
)


def story(title: str, url: str | None = None, **fields: object) -> Article:
    if url is not None:
        fields["webUrl"] = url
    return parse_text(record_text(title=title, **fields), f"<{title}>")


async def upsert(store: Store, *articles: Article):  # -> UpsertResult
    async with store.transaction() as tx:
        return await tx.upsert_articles(list(articles))


async def fts(store: Store, query: str) -> list[int]:
    rows = sql_rows(
        store,
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid",
        (query,),
    )
    return [r for (r,) in rows]


# -- schema --------------------------------------------------------------------------


async def test_new_file_gets_current_schema_and_wal(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "new.db"  # the folder is created too
    s = await open_store(db)
    await s.close()
    assert db_query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert db_query(db, "PRAGMA journal_mode") == [("wal",)]
    tables = {name for (name,) in db_query(db, "SELECT name FROM sqlite_master")}
    assert {"articles", "topics", "article_topics", "related", "articles_fts", "sources"} <= tables


async def test_reopen_keeps_data_and_version(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    s = await open_store(db)
    await upsert(s, story("Kept across opens"))
    await s.close()
    s = await open_store(db)
    try:
        assert (await s.stats())["stories"] == 1
    finally:
        await s.close()
    assert db_query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


async def test_newer_schema_refused_and_file_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO articles (url) VALUES ('https://e.com/future')")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError) as info:
        await open_store(db)
    msg = str(info.value)
    assert str(db) in msg and "999" in msg and "newer" in msg
    assert str(SCHEMA_VERSION) in msg
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()


@pytest.mark.parametrize(
    "content",
    [b"this is not a database at all\n" * 200, bytes(range(256)) * 16],
    ids=["text", "binary"],
)
async def test_non_sqlite_file_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(content)
    with pytest.raises(StoreError) as info:
        await open_store(db)
    assert str(db) in str(info.value)
    assert "database" in str(info.value)
    assert db.read_bytes() == content


async def test_foreign_sqlite_file_refused_and_untouched(tmp_path: Path) -> None:
    db = tmp_path / "other-app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="not a newsbot database"):
        await open_store(db)
    assert db.read_bytes() == before


async def test_folder_at_db_path_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        await open_store(tmp_path)


# -- identity, upserts, FTS ---------------------------------------------------------


async def test_canonical_url_variants_make_one_row(store: Store) -> None:
    base = "https://www.example.com/news/ibm-exits"
    variants = [
        base,
        "https://WWW.EXAMPLE.com/news/ibm-exits/",
        base + "?utm_source=twitter&utm_campaign=x",
        base + "#comments",
    ]
    first = await upsert(store, story("IBM exits", variants[0]))
    assert len(first.added) == 1
    for v in variants[1:]:
        again = await upsert(store, story("IBM exits", v))
        # Same content, same identity: the link as written differs, so it is an update
        # or unchanged, but never a second row.
        assert again.added == []
    assert (await store.stats())["stories"] == 1
    assert await store.ids_by_url([variants[-1]]) == {base: first.added[0]}


async def test_unchanged_story_is_not_rewritten(store: Store) -> None:
    a = story("Same story", "https://e.com/same")
    first = await upsert(store, a)
    stamp = sql_rows(store, "SELECT updated_at, content_hash FROM articles")
    second = await upsert(store, a)
    assert (second.added, second.updated, second.unchanged) == ([], [], 1)
    assert sql_rows(store, "SELECT updated_at, content_hash FROM articles") == stamp
    third = await upsert(store, replace(a, heat=5.0))
    assert third.updated == first.added


@pytest.mark.sqlite_only
async def test_update_keeps_fts_in_step(store: Store) -> None:
    a = story("Zeppelins return to the skies", "https://e.com/z", topics=["Transport"])
    (aid,) = (await upsert(store, a)).added
    assert await fts(store, "zeppelins") == [aid]
    assert await fts(store, "transport") == [aid]
    b = replace(a, title="Airships return to the skies", topics=("Aviation",))
    assert (await upsert(store, b)).updated == [aid]
    assert await fts(store, "airships") == [aid]
    assert await fts(store, "zeppelins") == []
    assert await fts(store, "aviation") == [aid]
    assert await fts(store, "transport") == []
    assert sql_rows(store, "SELECT count(*) FROM articles_fts") == [(1,)]


@pytest.mark.sqlite_only
async def test_fts_covers_title_topics_provider_excerpt(store: Store) -> None:
    (aid,) = (
        await upsert(
            store,
            story(
                "Plain headline",
                "https://e.com/p",
                excerpt="Mentions quokkas",
                topics=["Marsupials"],
                provider={"name": "Wombat Weekly", "domain": "wombat.example"},
            ),
        )
    ).added
    for word in ("headline", "quokkas", "marsupials", "wombat"):
        assert await fts(store, word) == [aid], word


@pytest.mark.sqlite_only
async def test_fts_accent_insensitive(store: Store) -> None:
    (aid,) = (await upsert(store, story("Café in Zürich opens", "https://e.com/c"))).added
    assert await fts(store, "zurich") == [aid]
    assert await fts(store, "cafe") == [aid]


# -- topics and related ----------------------------------------------------------------


async def test_topics_case_insensitive_across_stories(store: Store) -> None:
    await upsert(store, story("One", "https://e.com/1", topics=["Computer Vision", "AI"]))
    await upsert(store, story("Two", "https://e.com/2", topics=["computer vision"]))
    await upsert(store, story("Three", "https://e.com/3", topics=["COMPUTER VISION", "ai"]))
    assert sql_rows(store, "SELECT key, name FROM topics ORDER BY key") == [
        ("ai", "AI"),
        ("computer vision", "Computer Vision"),
    ]
    assert await store.topics() == [("Computer Vision", 3), ("AI", 2)]
    ids = await store.latest_ids(topic="cOmPuTeR vIsIoN")
    assert len(ids) == 3


async def test_related_ordered_and_linked_when_stored(store: Store) -> None:
    other = "https://www.othernews.com/story/42"
    related = [
        {"title": f"Related {i}", "webUrl": f"https://r{i}.example.com/s", "quality": i}
        for i in range(6)
    ]
    # The fourth related link is a stored story, written with tracking junk.
    related[3] = {
        "title": "Other outlet",
        "webUrl": "https://WWW.OtherNews.com/story/42/?utm_source=feed",
        "provider": {"name": "Other News", "domain": "othernews.com"},
    }
    main = story("Main", "https://e.com/main", related=related)
    (other_id,) = (await upsert(store, story("Other", other))).added
    (main_id,) = (await upsert(store, main)).added

    (got,) = await store.get_articles([main_id])
    assert [r.title for r in got.related] == [
        "Related 0",
        "Related 1",
        "Related 2",
        "Other outlet",
        "Related 4",
        "Related 5",
    ]
    assert got.related[3].provider == Provider("Other News", "othernews.com")
    links = [r.url for r in got.related]
    assert await store.stored_urls(links) == {other}
    assert await store.ids_by_url(links) == {other: other_id}
    joined = sql_rows(
        store,
        "SELECT r.position, a.id FROM related r JOIN articles a ON a.url = r.url "
        "WHERE r.article_id = ?",
        (main_id,),
    )
    assert joined == [(3, other_id)]


# -- round trips ---------------------------------------------------------------------


async def test_seed_round_trip_through_store(store: Store) -> None:
    parsed = parse_file(SEED)
    (aid,) = (await upsert(store, parsed)).added
    (got,) = await store.get_articles([aid])
    assert got.id == aid
    assert got == parsed  # every field, compared as dataclasses
    # Spelled out for the fields the issue names, so a failure says which one.
    assert got.title == "IBM stops work on facial recognition over human rights concerns"
    assert got.provider == Provider("Engadget", "engadget.com")
    assert got.topics == ("Computer Vision", "AI")
    assert got.published == datetime(2020, 6, 9, 1, 8, tzinfo=UTC)
    assert got.published.utcoffset().total_seconds() == 0
    assert (got.quality, got.heat) == (89, 139)
    assert got.amp_url == parsed.amp_url
    assert [(i.width, i.height) for i in got.images] == [(600, 350)]
    assert [r.provider.name for r in got.related if r.provider] == [
        "The Verge",
        "PC Magazine",
        "Forbes",
        "Business Insider",
        "The Guardian",
    ]
    assert all(isinstance(r, Related) for r in got.related)


async def test_optional_fields_absent_round_trip_as_absent(store: Store) -> None:
    bare = story("Bare minimum", "https://e.com/bare")
    (aid,) = (await upsert(store, bare)).added
    (got,) = await store.get_articles([aid])
    assert got == bare
    assert (got.published, got.provider, got.quality, got.heat, got.is_published) == (
        None,
        None,
        None,
        None,
        None,
    )
    neg = story("Negative heat", "https://e.com/neg", heat=-1, published=False)
    (nid,) = (await upsert(store, neg)).added
    (got,) = await store.get_articles([nid])
    assert (got.heat, got.is_published) == (-1, False)


@needs_corpus
async def test_corpus_round_trips_through_store(store: Store) -> None:
    report = await load_paths(store, [CORPUS])
    assert report.rejected == []
    ids = await store.latest_ids(limit=10_000)
    assert len(ids) == report.added
    by_source = {a.source: a for a in await store.get_articles(ids)}
    compared = 0
    for path in sorted(CORPUS.glob("*.md")):
        got = by_source.get(str(path.absolute()))
        if got is None:  # a duplicate URL: stored from another file
            continue
        assert replace(got, source=None) == replace(parse_file(path), source=None), path.name
        compared += 1
    assert compared == len(ids) == len(by_source)


async def test_get_articles_order_and_missing_ids(store: Store) -> None:
    ids = (await upsert(store, *(story(f"S{i}", f"https://e.com/{i}") for i in range(3)))).added
    got = await store.get_articles([ids[2], 9999, ids[0], ids[2]])
    assert [a.title for a in got] == ["S2", "S0"]


async def test_stats_counts(store: Store) -> None:
    assert (await store.stats())["stories"] == 0
    await upsert(
        store,
        parse_file(SEED),
        story("Later", "https://e.com/l", topics=["AI"], publishedDateTime="2021-01-02T03:04:05Z"),
    )
    st = await store.stats()
    assert set(st) == {"stories", "topics", "providers", "related", "newest", "db_bytes"}
    assert st["stories"] == 2
    assert st["topics"] == 2  # Computer Vision, AI (shared)
    assert st["providers"] == 1
    assert st["related"] == 5
    assert st["newest"] == "2021-01-02T03:04:05+00:00"
    assert st["db_bytes"] > 0


async def test_failed_transaction_leaves_nothing(store: Store) -> None:
    await upsert(store, story("Before", "https://e.com/before"))
    before = table_dump(store)
    with pytest.raises(RuntimeError, match="boom"):
        async with store.transaction() as tx:
            await tx.upsert_articles([story("During", "https://e.com/during")])
            raise RuntimeError("boom")
    assert table_dump(store) == before
    # The connection is not left inside a transaction.
    await upsert(store, story("After", "https://e.com/after"))
    assert (await store.stats())["stories"] == 2


@pytest.mark.sqlite_only
async def test_driver_errors_leave_the_store_as_store_errors(store: Store) -> None:
    """Callers (search, the dispatcher, the front ends) catch the store's errors only, so a
    broken database must never surface as the driver's own exception type."""
    await upsert(store, story("Kept", "https://e.com/kept"))
    sql_execute(store, "DROP TABLE article_topics")
    with pytest.raises(StoreUnavailable, match=str(store.path)) as read_error:
        await store.topics()
    assert isinstance(read_error.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(StoreError, match="article_topics"):
        await upsert(store, story("Lost", "https://e.com/lost", topics=["Robots"]))
    # The failed write rolled back: the writer is free and nothing half-written stayed.
    assert sql_rows(store, "SELECT count(*) FROM articles") == [(1,)]
    async with store.transaction(wait=False):
        pass
