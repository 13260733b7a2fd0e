"""Copying a SQLite store into PostgreSQL (`newsbot migrate --to URL`).

Both drivers' tables and columns have the same names and meanings, so the
copy goes table by table with the primary keys kept: every table of the
SQLite file in foreign-key order (PostgreSQL's schema is made by opening the
target as a store first), then the full-text index, whose PostgreSQL form
(`articles_fts` with its `tsvector`s, and the totals in `fts_stats`) is
computed from the text SQLite's index holds, and the id sequences moved past
the copied ids. All of it is one transaction on
the target, with the tables locked, and the row count of every table checked
before it commits: a failure leaves the target as it was.

The SQLite file is opened read-only, inside one read transaction (a
consistent snapshot even while a bot writes to it), and never changed.

A target that already holds exactly these rows (a second run) is left alone
("already there"); one holding other rows is refused. Rows are compared by
a digest of their values per table, so the check reads both sides once
without sorting. The URL is only ever shown redacted.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bot.core.store import open_store
from bot.core.store.errors import StoreError, StoreUnavailable
from bot.core.store.postgres import FTS_COLUMNS, fts_record, settle_after_copy, sync_identities
from bot.core.store.sqlite.schema import SCHEMA_VERSION
from bot.core.store.types import SearchText
from bot.core.storeurl import is_postgres_url, redacted

FTS_TABLE = "articles_fts"
# SQLite's full-text tables (FTS5 and its shadow tables) are rebuilt, not copied.
_SQLITE_DERIVED = ("articles_fts", "articles_vocab")
# PostgreSQL's own bookkeeping: the schema version and the bm25 totals.
_PG_OWN = frozenset({"schema_version", "fts_stats"})
_META = "meta"
_FTS_TEXT = ("title", "topics", "provider", "excerpt", "related")
_BATCH = 2000

Converter = Callable[[Any], Any]


class TransferRefused(StoreError):
    """The copy was not made: the target holds other data, or the source is not usable."""


@dataclass(frozen=True)
class TransferReport:
    """What a migration did: rows per table (as verified on the target), and whether it
    copied anything (False: the target already held exactly these rows)."""

    target: str  # redacted
    counts: dict[str, int]
    copied: bool
    seconds: float = 0.0


@dataclass
class _Table:
    name: str
    columns: list[str]  # SQLite's order, those PostgreSQL has too
    converters: list[Converter] = field(default_factory=list)


async def migrate_to_postgres(source: Path, url: str) -> TransferReport:
    """Copy the SQLite store at `source` into the PostgreSQL database at `url`.

    Raises TransferRefused (the target holds other rows; the source is missing, not
    newsbot's, or of another schema version), StoreUnavailable (the server did not
    answer) or StoreError. Nothing is written unless everything is.
    """
    label = redacted(url)
    if not is_postgres_url(url):
        raise TransferRefused(f"{label}: migrate copies into a postgresql:// URL")
    started = time.perf_counter()
    src = _open_source(source)
    try:
        # Opening it as a store creates (or checks) the schema; the copy needs the tables.
        target_store = await open_store(url, pool_size=1)
        await target_store.close()
        conn = await _connect(url, label)
        try:
            counts, copied = await _copy(src, conn, source, label)
        finally:
            await conn.close()
    finally:
        src.close()
    return TransferReport(label, counts, copied, time.perf_counter() - started)


def _open_source(source: Path) -> sqlite3.Connection:
    if not source.is_file():
        raise TransferRefused(f"{source}: no SQLite store there (give it with --db)")
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise TransferRefused(f"{source}: not a newsbot SQLite store ({exc})") from None
    if version == 0:
        conn.close()
        raise TransferRefused(f"{source}: not a newsbot SQLite store (no schema version)")
    if version != SCHEMA_VERSION:
        conn.close()
        why = (
            "newer than this newsbot"
            if version > SCHEMA_VERSION
            else "older: open it once with this newsbot (e.g. `newsbot stats`) to bring it up "
            "to date"
        )
        raise TransferRefused(
            f"{source}: schema version {version}, this newsbot copies version "
            f"{SCHEMA_VERSION} ({why})"
        )
    # One read transaction for the whole copy: a consistent snapshot of the file.
    conn.execute("BEGIN")
    return conn


async def _connect(url: str, label: str) -> asyncpg.Connection:
    try:
        conn = await asyncpg.connect(url, timeout=30)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise StoreUnavailable(f"store unavailable: {label}: {exc}") from None
    return conn


async def _copy(
    src: sqlite3.Connection, conn: asyncpg.Connection, source: Path, label: str
) -> tuple[dict[str, int], bool]:
    try:
        async with conn.transaction():
            # A bot already running on the target must not make the copy wait forever.
            await conn.execute("SET LOCAL lock_timeout = '15s'")
            tables = await _plan(src, conn, source, label)
            names = [t.name for t in tables] + [FTS_TABLE, "fts_stats"]
            await conn.execute(f"LOCK TABLE {', '.join(names)} IN EXCLUSIVE MODE")
            expected = {t.name: _count(src, t.name) for t in tables}
            expected[FTS_TABLE] = _count(src, FTS_TABLE)
            present = {
                name: await conn.fetchval(f"SELECT count(*) FROM {name}") for name in expected
            }
            data = [n for n in expected if n != _META]
            if any(present[n] for n in data):
                if await _same_rows(src, conn, tables):
                    return present, False
                raise TransferRefused(_refusal(label, expected, present))
            for table in tables:
                await _copy_table(src, conn, table)
            await _copy_index(src, conn)
            await sync_identities(conn)
            got = {name: await conn.fetchval(f"SELECT count(*) FROM {name}") for name in expected}
            # The target's meta may keep keys of its own beside the copied ones.
            short = {
                n: (expected[n], got[n])
                for n in expected
                if got[n] != expected[n] and not (n == _META and got[n] > expected[n])
            }
            if short:
                raise StoreError(
                    f"{label}: the copy is incomplete (table: here, there) {short}; "
                    "rolled back, nothing was changed"
                )
            return got, True
    except asyncpg.PostgresError as exc:
        raise StoreError(f"{label}: the copy failed and was rolled back: {exc}") from None
    except (OSError, asyncpg.InterfaceError) as exc:
        raise StoreUnavailable(f"store unavailable: {label}: {exc}; nothing was changed") from None


async def _plan(
    src: sqlite3.Connection, conn: asyncpg.Connection, source: Path, label: str
) -> list[_Table]:
    """The tables to copy, parents before children, with a converter per column."""
    pg_columns: dict[str, dict[str, str]] = {}
    for row in await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_generated = 'NEVER'"
    ):
        pg_columns.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    names = [
        name
        for (name,) in src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        if not name.startswith(_SQLITE_DERIVED)
    ]
    missing = [n for n in names if n not in pg_columns]
    if missing or FTS_TABLE not in pg_columns:
        raise TransferRefused(
            f"{label}: the PostgreSQL schema lacks tables {missing or [FTS_TABLE]} of {source}"
        )
    tables = []
    for name in _parents_first(src, names):
        columns = [r[1] for r in src.execute(f"PRAGMA table_info({name})")]
        lacking = [c for c in columns if c not in pg_columns[name]]
        if lacking:
            raise TransferRefused(f"{label}: table {name} lacks the columns {lacking}")
        converters = [_converter(name, c, pg_columns[name][c]) for c in columns]
        tables.append(_Table(name, columns, converters))
    return tables


def _parents_first(src: sqlite3.Connection, names: list[str]) -> list[str]:
    parents = {
        n: {r[2] for r in src.execute(f"PRAGMA foreign_key_list({n})")} & set(names) - {n}
        for n in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:  # a cycle: cannot happen in newsbot's schema
            raise StoreError(f"foreign keys form a cycle among {sorted(set(names) - set(ordered))}")
        ordered.extend(ready)
    return ordered


def _converter(table: str, column: str, pg_type: str) -> Converter:
    """What makes a SQLite value of `column` the Python value asyncpg writes as `pg_type`."""
    if pg_type in ("bigint", "integer", "smallint"):
        return _maybe(int)
    if pg_type in ("double precision", "real", "numeric"):
        return _maybe(float)
    if pg_type in ("text", "character varying", "character"):
        return _maybe(str)
    if pg_type == "bytea":
        return _maybe(bytes)
    if pg_type == "boolean":
        return _maybe(bool)
    raise TransferRefused(f"cannot copy {table}.{column} into a {pg_type} column")


def _maybe(kind: Callable[[Any], Any]) -> Converter:
    return lambda v: None if v is None else kind(v)


def _count(src: sqlite3.Connection, table: str) -> int:
    return int(src.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _rows(src: sqlite3.Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    cursor = src.execute(sql)
    while batch := cursor.fetchmany(_BATCH):
        yield from batch


async def _copy_table(src: sqlite3.Connection, conn: asyncpg.Connection, table: _Table) -> None:
    select = f"SELECT {', '.join(table.columns)} FROM {table.name}"
    records = (
        tuple(convert(v) for convert, v in zip(table.converters, row, strict=True))
        for row in _rows(src, select)
    )
    if table.name == _META:
        # The target's own keys (a generation written when it was opened) give way.
        await conn.executemany(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            list(records),
        )
        return
    await conn.copy_records_to_table(table.name, records=records, columns=table.columns)


async def _copy_index(src: sqlite3.Connection, conn: asyncpg.Connection) -> None:
    """PostgreSQL's full-text rows, from the text of SQLite's index, and their totals."""
    # COPY is binary in asyncpg, which has no binary tsvector: the rows go into a twin
    # table with text in place of tsvector, then across with a cast.
    vectors = [
        r["column_name"]
        for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = $1 AND data_type = 'tsvector'",
            FTS_TABLE,
        )
    ]
    await conn.execute(
        f"CREATE TEMP TABLE fts_in ON COMMIT DROP AS SELECT * FROM {FTS_TABLE} WITH NO DATA"
    )
    if vectors:
        changes = ", ".join(f"ALTER COLUMN {c} TYPE text" for c in vectors)
        await conn.execute(f"ALTER TABLE fts_in {changes}")
    docs = tokens = 0
    batch: list[tuple[object, ...]] = []
    select = f"SELECT rowid, {', '.join(_FTS_TEXT)} FROM {FTS_TABLE}"
    for row in _rows(src, select):
        record = fts_record(int(row[0]), SearchText(*(v or "" for v in row[1:])))
        batch.append(record)
        docs += 1
        tokens += int(record[-1])  # type: ignore[call-overload]
        if len(batch) >= _BATCH:
            await conn.copy_records_to_table("fts_in", records=batch, columns=list(FTS_COLUMNS))
            batch = []
    if batch:
        await conn.copy_records_to_table("fts_in", records=batch, columns=list(FTS_COLUMNS))
    values = ", ".join(f"{c}::tsvector" if c in vectors else c for c in FTS_COLUMNS)
    await conn.execute(
        f"INSERT INTO {FTS_TABLE} ({', '.join(FTS_COLUMNS)}) SELECT {values} FROM fts_in"
    )
    await conn.execute("UPDATE fts_stats SET docs = $1, tokens = $2", docs, tokens)
    await settle_after_copy(conn, docs)


async def _same_rows(
    src: sqlite3.Connection, conn: asyncpg.Connection, tables: list[_Table]
) -> bool:
    """True when every copied table (and the index text) holds the same rows on both sides."""
    checks = [
        (f"SELECT {', '.join(t.columns)} FROM {t.name}",) * 2 for t in tables if t.name != _META
    ]
    text = ", ".join(_FTS_TEXT)
    checks.append((f"SELECT rowid, {text} FROM {FTS_TABLE}", f"SELECT id, {text} FROM {FTS_TABLE}"))
    for here, there in checks:
        mine = _Digest()
        for row in _rows(src, here):
            mine.add(row)
        theirs = _Digest()
        async for record in conn.cursor(there, prefetch=_BATCH):
            theirs.add(tuple(record))
        if (mine.rows, mine.total) != (theirs.rows, theirs.total):
            return False
    return True


class _Digest:
    """Rows, and an order-free sum of their hashes, over values made comparable across
    the drivers (0/1 and booleans, 2.0 and 2, memoryview and bytes)."""

    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def add(self, row: tuple[Any, ...]) -> None:
        """Count one row in."""
        text = repr(tuple(_comparable(v) for v in row)).encode()
        value = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest())
        self.total = (self.total + value) % 2**64
        self.rows += 1


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _refusal(label: str, expected: dict[str, int], present: dict[str, int]) -> str:
    differs = ", ".join(
        f"{n}: {present[n]} there, {expected[n]} here"
        for n in expected
        if n != _META and present[n] != expected[n]
    )
    return (
        f"{label} already holds a newsbot store with other data"
        + (f" ({differs})" if differs else " (same counts, different rows)")
        + "; migrate copies only into an empty database, or one that already holds exactly "
        "this store. Nothing was changed."
    )
