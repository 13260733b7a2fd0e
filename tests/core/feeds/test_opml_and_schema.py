"""OPML import/export, and the feeds migration keeping an older file's rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core.feeds import OPMLError, Outline, read_opml, write_opml
from bot.core.store import open_store
from bot.core.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, script_statements
from bot.core.store.types import OPERATOR
from tests.helpers import db_query


def test_opml_round_trip() -> None:
    feeds = [
        Outline("https://a.example/rss", "Alpha", ("AI", "Robots")),
        Outline("https://b.example/atom.xml", "", ()),
    ]
    assert read_opml(write_opml(feeds)) == feeds


def test_opml_from_another_reader_with_folders() -> None:
    raw = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
  <outline text="Tech">
    <outline text="Alpha" type="rss" xmlUrl="https://a.example/rss" category="/Tech/AI"/>
    <outline text="A web page only" htmlUrl="https://b.example/"/>
  </outline>
</body></opml>"""
    assert read_opml(raw) == [Outline("https://a.example/rss", "Alpha", ("Tech", "AI"))]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"<opml><body><outline", "not well-formed"),
        (b"<rss/>", "not <opml>"),
        (b'<!DOCTYPE opml [<!ENTITY a "b">]><opml/>', "entities"),
    ],
)
def test_bad_opml_says_what_is_wrong(raw: bytes, words: str) -> None:
    with pytest.raises(OPMLError, match=words):
        read_opml(raw, "subs.opml")


async def test_an_older_store_gains_the_feeds_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[: SCHEMA_VERSION - 1], start=1):
        for stmt in script_statements(script):
            conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.execute(
        "INSERT INTO articles (url, link, title, content_hash, first_stored_at, updated_at) "
        "VALUES ('https://x.example/1', 'https://x.example/1', 'Kept', 'h', 0, 0)"
    )
    conn.close()
    store = await open_store(db)
    try:
        assert await store.feeds(OPERATOR) == []
        assert db_query(db, "SELECT title FROM articles") == [("Kept",)]
        assert db_query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    finally:
        await store.close()
