"""Shared pytest fixtures.

Keep each group of fixtures in its own section; the Discord stand-in section below is
self-contained (see tests/standin/ for the implementation).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.store import Store, open_store
from tests.standin import StandIn

# The store drivers: pg_url, store_target ([sqlite]/[postgres]), the `postgres` marker.
pytest_plugins = ("tests.drivers",)

# --------------------------------------------------------------------------------------
# Discord stand-in
# --------------------------------------------------------------------------------------


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    """A running fake Discord with discord.py pointed at it (REST base + default gateway).

    At teardown the test fails if the bot hit a route the stand-in does not know, or the
    stand-in itself hit an error: silently answering unknown routes would hide real bugs.
    Start a bot against it with ``tests.standin.run_bot``.
    """
    server = StandIn()
    await server.start()
    try:
        with server.patch_discord():
            yield server
    finally:
        await server.stop()
    server.assert_clean()


# -- the store ---------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty SQLite store in tmp_path.

    The store, search, alert and feed suites override this in their conftest.py to run
    on both drivers (tests/drivers.py: `store_target`, `opened_store`).
    """
    s = await open_store(tmp_path / "store.db")
    try:
        yield s
    finally:
        await s.close()
