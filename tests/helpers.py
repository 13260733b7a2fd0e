"""Small shared helpers for tests that write record files into a tmp_path.

Kept generic on purpose: any test module may import these.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.records import Article, Provider

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data" / "articles"
SEED_NAME = "2020-06-09-ibm-stops-work-on-facial-recognition-over-human-rights-concerns.md"
SEED = DATA_DIR / SEED_NAME

# The real corpus lives beside the repository, not in it; tests that need it skip
# when it is absent (a fresh clone elsewhere) rather than fail.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "smartable"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real corpus not found at {CORPUS}")

_OMIT = object()


def slug(text: str) -> str:
    """A file- and URL-safe form of `text` (ASCII letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "story"


def record_text(
    *,
    title: Any = "A test story",
    webUrl: Any = _OMIT,  # camelCase: the record format's own key name
    body: str = "",
    **fields: Any,
) -> str:
    """The text of one record file: YAML front matter between `---` lines, then `body`.

    `title` and `webUrl` have defaults so a record is valid unless a test says
    otherwise (webUrl defaults to a URL derived from the title); pass `None` to
    leave a field out. Values are dumped with PyYAML, so quotes and non-ASCII
    text come out as valid YAML.
    """
    front: dict[str, Any] = {}
    if title is not None:
        front["title"] = title
    if webUrl is _OMIT:
        webUrl = f"https://news.example.com/{slug(str(title))}"
    if webUrl is not None:
        front["webUrl"] = webUrl
    front.update({k: v for k, v in fields.items() if v is not None})
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    text = f"---\n{dumped}---\n"
    if body:
        text += "\n" + body.strip("\n") + "\n"
    return text


def write_record(directory: Path, name: str, **fields: Any) -> Path:
    """Write `record_text(**fields)` to `directory/name` (folders made as needed)."""
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record_text(**fields), encoding="utf-8")
    return path


def write_raw(directory: Path, name: str, content: str | bytes) -> Path:
    """Write exact text or bytes to `directory/name`, for malformed records."""
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def db_dump(db_path: Path, *, skip_meta: tuple[str, ...] = ()) -> list[str]:
    """Every row of every table of an SQLite file, as SQL lines (`iterdump`).

    Includes the full-text index's shadow tables. `skip_meta` drops rows of the
    `meta` table with those keys (e.g. "last_load", which records when a load ran).
    Opened read-only so dumping never changes what it dumps.
    """
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        lines = list(conn.iterdump())
    finally:
        conn.close()
    if skip_meta:
        drop = tuple(f"INSERT INTO \"meta\" VALUES('{k}'," for k in skip_meta)
        lines = [line for line in lines if not line.startswith(drop)]
    return lines


def db_query(db_path: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query against an SQLite file, opened read-only."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def db_execute(db_path: Path, sql: str, args: tuple[Any, ...] = ()) -> None:
    """Run one writing statement against an SQLite file, committed at once: for tests
    that set up a state the store's own methods never make."""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        with conn:
            conn.execute(sql, args)
    finally:
        conn.close()


def make_article(i: int = 0, **kw: object) -> Article:
    """A plain, valid story numbered `i`; keyword arguments override its fields."""
    base: dict[str, object] = dict(
        title=f"Story number {i} about something",
        url=f"https://news.example.com/story/{i}",
        excerpt="An excerpt.",
        published=datetime(2021, 3, 4, 5, 6, tzinfo=UTC),
        provider=Provider("Example News", "news.example.com"),
    )
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]
