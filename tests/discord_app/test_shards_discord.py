"""A `NewsBot` that runs some of the shards (`settings.shards`), through discord.py and
the stand-in: it IDENTIFYs only with its own shards, holds only their guilds, answers
there, runs the elected jobs, and a second bot on the same SQLite store is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.core.jobs import AnotherBotRunning
from bot.core.shards import shard_spec
from tests.standin.protocol import CHANNEL_MESSAGE

if TYPE_CHECKING:
    from tests.botfixtures import StartNewsBot
    from tests.standin import StandIn

pytest_plugins = ["tests.botfixtures"]

COUNT = 2


def guild_on(shard: int) -> int:
    return ((900 * COUNT + shard) << 22) | 3


def add_guilds(standin: StandIn) -> None:
    standin.shard_count = COUNT
    world = standin.world
    for shard in range(COUNT):
        g = world.add_guild(f"Shard {shard}", owner="owner", id=guild_on(shard))
        world.add_text_channel(g, "general")
        world.add_member(g, "alice")


async def test_a_bot_with_one_shard_of_two_holds_its_guilds_only(
    standin: StandIn, start_newsbot: StartNewsBot
) -> None:
    add_guilds(standin)
    async with start_newsbot(shards=shard_spec("1", COUNT)) as h:
        assert [i.shard for i in standin.identifies] == [(1, COUNT)]
        assert h.bot.shard_ids == [1] and h.bot.shard_count == COUNT
        held = {g.id for g in h.bot.guilds}
        every = {int(gid) for gid in standin.world.guilds}
        assert held == {gid for gid in every if (gid >> 22) % COUNT == 1}
        assert guild_on(1) in held and guild_on(0) not in held
        # Interactions of its guilds reach it (Discord routes them to the shard's socket).
        g = standin.world.guild(str(guild_on(1)))
        channel = next(c for c in g["channels"] if c["name"] == "general")
        _, cb = await h.answer(
            "news", {"query": "ibm facial recognition"}, guild=g, channel=channel
        )
        assert cb.json["type"] == CHANNEL_MESSAGE
        # Alone on its store, it was elected for the jobs that run once.
        assert h.bot.elections is not None and "feeds" in h.bot.elections.running


async def test_a_second_bot_on_the_same_sqlite_store_is_refused(
    standin: StandIn, start_newsbot: StartNewsBot
) -> None:
    add_guilds(standin)
    async with start_newsbot(shards=shard_spec("0", COUNT)) as h:
        with pytest.raises(AnotherBotRunning) as err:
            async with start_newsbot(shards=shard_spec("1", COUNT)):
                pass
        assert str(h.settings.db_path) in str(err.value) and "PostgreSQL" in str(err.value)
        assert [i.shard for i in standin.identifies] == [(0, COUNT)]  # never connected
    # Once the first has stopped, a bot may start on the store again.
    async with start_newsbot(shards=shard_spec("1", COUNT)):
        assert [i.shard for i in standin.identifies][-1] == (1, COUNT)
