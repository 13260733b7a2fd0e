"""Fixtures of the feed tests: a feed server on 127.0.0.1 and a service over a fresh store.

The suite runs on both store drivers: `store` follows `store_target` (tests/drivers.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.feeds import FeedService
from bot.core.settings import Settings
from bot.core.store import Store
from tests.drivers import StoreTarget, opened_store
from tests.feedserver import FeedServer


def feed_settings(tmp_path: Path, **changes: object) -> Settings:
    """Settings for feed tests: loopback allowed, no politeness gap, short timeouts."""
    base = dataclasses.replace(
        Settings(),
        db_path=tmp_path / "store.db",
        data_dir=tmp_path / "no-records",
        feeds_allow_private=("127.0.0.0/8",),
        feed_host_gap=0.0,
        feed_timeout=2.0,
        feed_connect_timeout=1.0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def store(store_target: StoreTarget) -> AsyncIterator[Store]:
    """A fresh, empty store on each driver in turn (SQLite, then PostgreSQL)."""
    async with opened_store(store_target) as s:
        yield s


@pytest.fixture
async def feedsrv() -> AsyncIterator[FeedServer]:
    """A running feed server on 127.0.0.1."""
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def service(store: Store, tmp_path: Path) -> AsyncIterator[FeedService]:
    """A FeedService over the test's store."""
    svc = FeedService(store, feed_settings(tmp_path))
    try:
        yield svc
    finally:
        await svc.close()
