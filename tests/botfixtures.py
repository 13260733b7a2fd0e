"""Fixtures for end-to-end tests of the real `NewsBot` through the Discord stand-in.

Register them in a test module with::

    pytest_plugins = ["tests.botfixtures"]

then ask for one of:

``bot_data_dir``
    ``tmp_path/articles``: a private copy of the project's demo records
    (``data/articles/*.md``). Tests may add, change or break records there; the
    repository's own data folder is never written.
``bot_settings``
    A `Settings` over that folder and ``tmp_path/newsbot.db``; no background
    rescans (``rescan_seconds=0``), so only the test decides when a reload runs.
``start_newsbot``
    A factory: ``async with start_newsbot(admin_ids=..., page_timeout=...) as h:``
    starts a bot with those `Settings` fields replaced (any other keyword goes to
    `dataclasses.replace` too). Use it when the settings depend on the stand-in's
    world (user ids for ``admin_ids``) or on the test.
``newsbot``
    A `BotHarness` for a bot started with ``bot_settings`` as they are.

Either way the bot is logged into the ``standin`` fixture's fake Discord, has
received READY and the guild, and has synced its slash commands globally, so
``standin.slash("news", ...)`` carries the real command ids. The stand-in is put
in ``strict_commands`` mode: building a payload for a command the bot never
synced raises, which catches typos in tests (set ``standin.strict_commands =
False`` to send deliberately unknown commands).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.newsroom import Newsroom
from bot.core.settings import Settings
from bot.discord_app.bot import NewsBot
from bot.discord_app.run import publish
from tests.helpers import DATA_DIR, write_record
from tests.standin import DispatchedInteraction, RecordedRequest, StandIn, run_bot
from tests.standin.protocol import DEFERRED_CHANNEL_MESSAGE


class StandInNewsBot(NewsBot):
    """`NewsBot` without discord.py's 5-second pause before each shard IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@dataclass
class BotHarness:
    """A running bot, the stand-in it is logged into, and short-hands for driving both."""

    bot: NewsBot
    standin: StandIn
    settings: Settings

    @property
    def room(self) -> Newsroom:
        return self.bot.room

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def user_id(self, name: str) -> int:
        return int(self.standin.world.user(name)["id"])

    def write_record(self, name: str, **fields: Any) -> Path:
        """A record file in the bot's data folder (see `tests.helpers.record_text`)."""
        return write_record(self.data_dir, name, **fields)

    async def invoke(
        self, command: str, options: Mapping[str, Any] | None = None, **context: Any
    ) -> DispatchedInteraction:
        """Dispatch ``/command`` (``"admin reload"`` for subcommands).

        ``context`` is as for `StandIn.slash`."""
        return await self.standin.dispatch_interaction(
            self.standin.slash(command, options, **context)
        )

    async def answer(
        self, command: str, options: Mapping[str, Any] | None = None, **context: Any
    ) -> tuple[DispatchedInteraction, RecordedRequest]:
        """Dispatch ``/command`` and wait for the bot's interaction callback."""
        it = await self.invoke(command, options, **context)
        return it, await it.wait_callback(timeout=3.0)

    async def choices(
        self,
        command: str,
        options: Mapping[str, Any],
        *,
        focused: str | None = None,
        **context: Any,
    ) -> tuple[RecordedRequest, list[dict[str, Any]]]:
        """Dispatch an autocomplete and return its callback and the choices it offered."""
        payload = self.standin.autocomplete(command, options, focused=focused, **context)
        it = await self.standin.dispatch_interaction(payload)
        callback = await it.wait_callback(timeout=3.0)
        return callback, (callback.json.get("data") or {}).get("choices", [])

    async def press(
        self, message_id: str, custom_id: str, *, user: str = "alice"
    ) -> tuple[DispatchedInteraction, RecordedRequest]:
        """Press a button of a stored message and wait for the callback."""
        it = await self.standin.dispatch_interaction(
            self.standin.button(message_id, custom_id, user=user)
        )
        return it, await it.wait_callback(timeout=3.0)

    async def final_message(self, it: DispatchedInteraction) -> dict[str, Any]:
        """What the user ends up seeing: the message itself, or the followup after a defer."""
        callback = await it.wait_callback(timeout=5.0)
        if callback.json["type"] == DEFERRED_CHANNEL_MESSAGE:
            await it.wait_followup(timeout=5.0)
        message = it.original_message
        assert message is not None, "the interaction has no message"
        return message


def _copy_demo_records(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for record in sorted(DATA_DIR.glob("*.md")):
        shutil.copy2(record, dest / record.name)
    return dest


@pytest.fixture
def bot_data_dir(tmp_path: Path) -> Path:
    """A private copy of the demo records the bot loads (safe to modify)."""
    return _copy_demo_records(tmp_path / "articles")


@pytest.fixture
def bot_settings(tmp_path: Path, bot_data_dir: Path) -> Settings:
    """Settings for a bot over ``bot_data_dir``, with its own store and no timed rescans."""
    return Settings(
        token="test-token",
        db_path=tmp_path / "newsbot.db",
        data_dir=bot_data_dir,
        rescan_seconds=0,
    )


StartNewsBot = Callable[..., AbstractAsyncContextManager[BotHarness]]


@pytest.fixture
def start_newsbot(standin: StandIn, bot_settings: Settings) -> StartNewsBot:
    """``async with start_newsbot(**settings_changes) as harness:`` — see the module doc."""

    @contextlib.asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[BotHarness]:
        settings = dataclasses.replace(bot_settings, **changes)
        bot = StandInNewsBot(settings)
        async with run_bot(bot, standin):
            # Never synced on start (by design): sync here so interactions carry real ids.
            await publish(bot, None)
            standin.strict_commands = True
            yield BotHarness(bot, standin, settings)

    return start


@pytest.fixture
async def newsbot(start_newsbot: StartNewsBot) -> AsyncIterator[BotHarness]:
    """A `BotHarness` with ``bot_settings`` unchanged."""
    async with start_newsbot() as harness:
        yield harness
