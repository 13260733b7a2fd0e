"""Both store drivers in the tests: a throwaway PostgreSQL server and fixtures over it.

Loaded as a plugin by tests/conftest.py (`pytest_plugins`), so every test can use:

- ``pg_url``: the URL of a fresh, empty database (its own per test, dropped afterwards)
  on a PostgreSQL server the tests start themselves (tests/pgcluster.py: initdb in a
  temporary folder, 127.0.0.1, a free port, one cluster per pytest process / xdist
  worker, stopped at the end). ``NEWSBOT_TEST_PG_URL=postgresql://user@host:port/db``
  uses that server instead (the databases are created and dropped on it; the user
  needs CREATEDB). ``pg_admin_url`` is the server's own URL (session scope).
- ``pg_store_url``: the same, with the store's schema already made (a copy of a database
  migrated once per session: faster than migrating one per test).
- ``store_target``: parametrised ``[sqlite]`` (a file in tmp_path) / ``[postgres]`` (a
  ``pg_store_url``); pass it to ``open_store``. A suite whose ``store`` fixture should run on
  both drivers overrides it in its conftest.py with ``opened_store``::

      @pytest.fixture
      async def store(store_target: StoreTarget) -> AsyncIterator[Store]:
          async with opened_store(store_target) as s:
              yield s

  (tests/core/{store,search,alerts,feeds} do).
- ``open_at(target)`` opens a store and remembers where, so the raw-SQL helpers
  ``sql_rows(store_or_target, sql, args)``, ``sql_execute(...)`` and ``table_dump(...)``
  (SQLite's ``?`` placeholders; same table names on both drivers) reach its database;
  ``remember(store, target)`` does the same for a store opened elsewhere (a Newsroom),
  ``on_target(settings, target)`` points Settings at the target.
- the ``sqlite_only`` marker: a test that looks at SQLite internals (FTS5 tables, the
  file, sqlite3 errors) keeps only its ``[sqlite]`` variant.
- the ``postgres`` marker: set on every test that uses ``pg_url`` or the ``[postgres]``
  ``store_target`` (select with ``-m postgres``, leave out with ``-m "not postgres"``);
  mark a test that reaches PostgreSQL another way by hand.

When PostgreSQL cannot be started (no server binaries, no ``postgres`` user, ...), those
tests are skipped with a reason that starts ``POSTGRESQL NOT AVAILABLE``, shown in the
``-ra`` summary. With ``NEWSBOT_TEST_REQUIRE_PG=1`` (CI sets it) they fail instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import sqlite3
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.core.settings import Settings
from bot.core.store import SQLiteStore, Store, open_store
from bot.core.storeurl import is_postgres_url, redacted
from tests.helpers import db_dump, db_execute, db_query
from tests.pgcluster import PgCluster, PgUnavailable

PG_URL_ENV = "NEWSBOT_TEST_PG_URL"
REQUIRE_ENV = "NEWSBOT_TEST_REQUIRE_PG"
DRIVERS = ("sqlite", "postgres")
_SKIP_PREFIX = "POSTGRESQL NOT AVAILABLE"
_DB_PREFIX = "newsbot_test_"

StoreTarget = str | Path
T = TypeVar("T")
# What the raw-SQL helpers raise for a broken constraint, on either driver.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
# Where each store opened through `open_at` lives, for the raw-SQL helpers below.
_TARGETS: weakref.WeakKeyDictionary[Store, StoreTarget] = weakref.WeakKeyDictionary()


def pytest_configure(config: pytest.Config) -> None:
    """Register the `postgres` and `sqlite_only` markers."""
    config.addinivalue_line(
        "markers",
        "postgres: runs against PostgreSQL (a throwaway cluster, or NEWSBOT_TEST_PG_URL)",
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only: looks at SQLite internals (FTS5 tables, the file, sqlite3 errors); "
        "its [postgres] store_target variant is not collected",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that reaches PostgreSQL through these fixtures as `postgres`, and
    drop the [postgres] variant of tests marked `sqlite_only`."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("store_target") == "postgres"
        if on_pg and item.get_closest_marker("sqlite_only"):
            dropped.append(item)
            continue
        if on_pg or {"pg_url", "pg_admin_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pg_required() -> bool:
    """True when PostgreSQL tests must run (NEWSBOT_TEST_REQUIRE_PG=1): no skipping."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if pg_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but PostgreSQL is unavailable: {reason}", pytrace=False)
    pytest.skip(f"{_SKIP_PREFIX} (set {REQUIRE_ENV}=1 to fail instead): {reason}")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database, for this pytest process.

    NEWSBOT_TEST_PG_URL when set, else a throwaway cluster started now and stopped when
    the session ends. Skips (or, when required, fails) the tests when neither works.
    """
    external = os.environ.get(PG_URL_ENV, "").strip()
    if external:
        if not is_postgres_url(external):
            pytest.fail(f"{PG_URL_ENV}={redacted(external)}: not a postgresql:// URL")
        yield external
        return
    try:
        cluster = PgCluster.start()
    except PgUnavailable as exc:
        _unavailable(str(exc))
        return
    try:
        yield cluster.url
    finally:
        cluster.stop()


def database_url(server_url: str, name: str) -> str:
    """`server_url` (any database on the server) pointed at database `name` instead."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _new_name() -> str:
    # Ours only (a prefix, the worker id, hex digits): safe to splice into SQL.
    return f"{_DB_PREFIX}{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def _database(admin_url: str, template: str | None = None) -> AsyncIterator[str]:
    """A new database (a copy of `template`, else empty): its URL; dropped afterwards."""
    name = _new_name()
    try:
        admin = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable(f"cannot connect to {redacted(admin_url)}: {exc}")
        raise  # not reached: _unavailable skips or fails
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    try:
        yield database_url(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url, timeout=10)
        try:
            # FORCE: a test that failed may have left a pool open on it.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def pg_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database of this test's own: its URL (dropped afterwards)."""
    async with _database(pg_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def pg_schema_template(pg_admin_url: str) -> Iterator[str]:
    """The name of a database the store has migrated, to copy (faster than migrating a
    new database for every test: CREATE DATABASE … TEMPLATE copies the files)."""
    name = _new_name()

    async def make() -> None:
        admin = await asyncpg.connect(pg_admin_url, timeout=10)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            store = await open_store(database_url(pg_admin_url, name))
            await store.close()
            # A template may have no one connected while it is copied.
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
        finally:
            await admin.close()

    async def drop() -> None:
        admin = await asyncpg.connect(pg_admin_url, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    try:
        _blocking(make())
    except (OSError, TimeoutError) as exc:
        _unavailable(f"cannot connect to {redacted(pg_admin_url)}: {exc}")
    try:
        yield name
    finally:
        _blocking(drop())


@pytest.fixture
async def pg_store_url(pg_admin_url: str, pg_schema_template: str) -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own with the store's schema and nothing else
    (what opening `pg_url` as a store would make, only faster): its URL."""
    async with _database(pg_admin_url, pg_schema_template) as url:
        yield url


@pytest.fixture(params=DRIVERS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    """Where to open a fresh store: a SQLite file in tmp_path, or a PostgreSQL database URL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_store_url"))
    return tmp_path / "store.db"


def on_target(settings: Settings, target: StoreTarget) -> Settings:
    """`settings` opening the store at `target` (`db_url` for a URL, else `db_path`)."""
    if driver_of(target) == "postgres":
        return dataclasses.replace(settings, db_url=str(target))
    return dataclasses.replace(settings, db_path=Path(target), db_url=None)


def driver_of(target: StoreTarget) -> str:
    """ "postgres" or "sqlite": which driver `target` opens."""
    return "postgres" if is_postgres_url(target) else "sqlite"


async def open_at(target: StoreTarget) -> Store:
    """`open_store(target)`, remembered so the raw-SQL helpers can reach its database."""
    return remember(await open_store(target), target)


def remember(store: Store, target: StoreTarget) -> Store:
    """Note that `store` (opened some other way, e.g. by a Newsroom) lives at `target`."""
    _TARGETS[store] = target
    return store


@asynccontextmanager
async def opened_store(target: StoreTarget) -> AsyncIterator[Store]:
    """`open_at(target)`, closed on the way out."""
    store = await open_at(target)
    try:
        yield store
    finally:
        await store.close()


# -- raw SQL on either driver, for tests that look under the interface ------------------
#
# Tables and columns have the same names on both drivers, so a test's plain SQL (with `?`
# placeholders) runs on both. These are synchronous like tests.helpers' db_query: the
# PostgreSQL side runs on its own connection in a helper thread.


def location(where: Store | StoreTarget) -> StoreTarget:
    """The file path or database URL of a store (opened with `open_at`) or a target."""
    if isinstance(where, SQLiteStore):
        return where.path
    if isinstance(where, Store):
        if where in _TARGETS:
            return _TARGETS[where]
        url = getattr(where, "url", None)
        if isinstance(url, str):
            return url
        raise LookupError(f"{where!r}: open it with tests.drivers.open_at to query it raw")
    return where


def sql_rows(where: Store | StoreTarget, sql: str, args: tuple[Any, ...] = ()) -> list[tuple]:
    """Rows of one query (`?` placeholders) against the store's database, as tuples."""
    target = location(where)
    if driver_of(target) == "sqlite":
        return db_query(Path(target), sql, args)
    return _blocking(_pg_rows(str(target), _numbered(sql), args))


def sql_execute(where: Store | StoreTarget, sql: str, args: tuple[Any, ...] = ()) -> None:
    """Run one writing statement (`?` placeholders) against the store's database, committed
    at once: for tests that set up a state the store's own methods never make."""
    target = location(where)
    if driver_of(target) == "sqlite":
        db_execute(Path(target), sql, args)
    else:
        _blocking(_pg_execute(str(target), _numbered(sql), args))


def table_dump(where: Store | StoreTarget, *, skip_meta: tuple[str, ...] = ()) -> list[str]:
    """Every row of every table, as comparable text (SQLite: `iterdump`; PostgreSQL: each
    table of the public schema, rows sorted). `skip_meta` drops those `meta` keys."""
    target = location(where)
    if driver_of(target) == "sqlite":
        return db_dump(Path(target), skip_meta=skip_meta)
    return _blocking(_pg_dump(str(target), skip_meta))


def _numbered(sql: str) -> str:
    """SQLite's `?` placeholders as PostgreSQL's `$1`, `$2`, … (none of our test SQL has
    a `?` inside a string literal)."""
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


def _blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a fresh event loop in a helper thread (the test's own
    loop is blocked meanwhile, as it is by sqlite3 in db_query)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="raw-sql")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _pg_connect(url: str) -> asyncpg.Connection:
    # A statement stuck behind a lock the blocked test loop holds would hang forever.
    return await asyncpg.connect(url, timeout=10, server_settings={"lock_timeout": "10s"})


async def _pg_rows(url: str, sql: str, args: tuple[Any, ...]) -> list[tuple]:
    conn = await _pg_connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def _pg_execute(url: str, sql: str, args: tuple[Any, ...]) -> None:
    conn = await _pg_connect(url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def _pg_dump(url: str, skip_meta: tuple[str, ...]) -> list[str]:
    conn = await _pg_connect(url)
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        lines: list[str] = []
        for table in tables:
            rows = [tuple(r) for r in await conn.fetch(f'SELECT * FROM "{table}"')]
            if table == "meta" and skip_meta:
                rows = [r for r in rows if r[0] not in skip_meta]
            lines.extend(f"{table}: {row!r}" for row in sorted(rows, key=repr))
        return lines
    finally:
        await conn.close()
