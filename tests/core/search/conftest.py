"""The search suite runs on both store drivers: `store` follows `store_target`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.store import Store
from tests.drivers import StoreTarget, opened_store


@pytest.fixture
async def store(store_target: StoreTarget) -> AsyncIterator[Store]:
    """A fresh, empty store on each driver in turn (SQLite, then PostgreSQL)."""
    async with opened_store(store_target) as s:
        yield s
