"""Bot processes that split the shards: real `newsbot run` processes against the stand-in.

The stand-in (in this test's process) serves guilds on both shards of a shard
count of 2, and the alerts owed are written to the store before any bot starts:
9 channels in a guild of each shard and the DMs of 2 members (whose subscriptions
were made in the shard-1 guild: DMs still belong to shard 0), 10 new stories each,
so 200 alerts. Each process is `python -m tests.multiprocess_worker` (the real
command line, discord.py pointed at the stand-in), sending one alert per message
at the dispatcher's real pacing under the stand-in's 5-per-5-s channel limit.

- PostgreSQL (`postgres`): `--shards 0` and `--shards 1` on one store deliver each
  alert exactly once, each from the process of its shard; one process SIGKILLed
  mid-dispatch and restarted → nothing lost, nothing twice.
- SQLite: one process runs shard 0 and sends only what shard 0 owns; a second bot
  process on that file is refused before it connects, with a message pointing to
  PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.alerts import subscriptions as subs
from bot.core.alerts.matching import match_hook
from bot.core.loader import load_paths
from bot.core.store import open_store
from tests.drivers import StoreTarget
from tests.helpers import write_record
from tests.multiprocess import MESSAGES, BotProcess, posts, wait_for
from tests.multiprocess import guild_id_on as guild_id_on_shard
from tests.standin import StandIn

TOPIC = "Computer Vision"
STORIES = 10
CHANNELS_PER_GUILD = 9
DM_USERS = 2
COUNT = 2
TOTAL = STORIES * (COUNT * CHANNELS_PER_GUILD + DM_USERS)  # 200


def guild_id_on(shard: int) -> int:
    return guild_id_on_shard(shard, COUNT)


@dataclass
class Fleet:
    """What the alerts should do: where each target is and which shard owns it."""

    folder: Path
    urls: list[str]
    owner: dict[str, int] = field(default_factory=dict)  # channel id → owning shard

    @property
    def expected(self) -> set[tuple[str, str]]:
        return {(ch, url) for ch in self.owner for url in self.urls}

    def owed_to(self, shard: int) -> int:
        return STORIES * sum(1 for s in self.owner.values() if s == shard)


def build_world(standin: StandIn, tmp_path: Path) -> tuple[Fleet, dict[str, list[Any]]]:
    """Guilds on both shards with their channels, and the DM readers (in the world)."""
    world = standin.world
    standin.shard_count = COUNT
    standin.ratelimits.enable_defaults()  # 5 messages per 5 s per channel, as Discord
    fleet = Fleet(folder=tmp_path / "articles", urls=[])
    targets: dict[str, list[Any]] = {"channels": [], "dms": []}
    owner_id = world.user("owner")["id"]
    for shard in range(COUNT):
        g = world.add_guild(f"Shard {shard} news", owner=owner_id, id=guild_id_on(shard))
        for i in range(CHANNELS_PER_GUILD):
            ch = world.add_text_channel(g, f"alerts-{i}")
            targets["channels"].append((int(g["id"]), int(ch["id"])))
            fleet.owner[ch["id"]] = shard
    for i in range(DM_USERS):
        user = world.add_user(f"reader{i}")
        world.add_member(world.guild(str(guild_id_on(1))), user)
        targets["dms"].append(int(user["id"]))
        # Opened now so its id is known; the bot's "open a DM" finds this one.
        fleet.owner[world.open_dm(user)["id"]] = 0
    return fleet, targets


async def fill_store(target: StoreTarget, fleet: Fleet, targets: dict[str, list[Any]]) -> None:
    """Subscriptions first, then the stories (so the alerts are owed), in the store."""
    now = datetime.now(tz=UTC)
    limits = subs.Limits(per_guild=10**6, per_user=10**6)
    async with await open_store(target) as store:
        for guild_id, channel_id in targets["channels"]:
            await subs.subscribe(
                store,
                topic=TOPIC,
                user_id=1,
                guild_id=guild_id,
                channel_id=channel_id,
                limits=limits,
            )
        for user_id in targets["dms"]:
            # Subscribed from the shard-1 guild, sent by DM: shard 0's to send.
            await subs.subscribe(
                store, topic=TOPIC, user_id=user_id, guild_id=guild_id_on(1), channel_id=None
            )
        for i in range(STORIES):
            url = f"https://news.example.com/shards/story-{i}"
            write_record(
                fleet.folder,
                f"story-{i}.md",
                title=f"Camera network story number {i}",
                webUrl=url,
                topics=[TOPIC],
                publishedDateTime=(now - timedelta(minutes=30 + i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            fleet.urls.append(url)
        report = await load_paths(store, [fleet.folder], on_stored=[match_hook()])
        assert report.added == STORIES
        assert (await store.outbox_counts()).get("pending") == TOTAL


def bot_process(
    standin: StandIn, tmp_path: Path, store: StoreTarget, shards: str, fleet: Fleet
) -> BotProcess:
    return BotProcess(standin, tmp_path, store, shards, count=COUNT, data=fleet.folder)


def delivered(standin: StandIn, fleet: Fleet) -> Counter[tuple[str, str]]:
    """(channel id, story URL) → how many messages Discord holds for it."""
    seen: Counter[tuple[str, str]] = Counter()
    for message in list(standin.messages.values()):
        for embed in message.get("embeds") or []:
            if embed.get("url") in fleet.urls:
                seen[(str(message["channel_id"]), embed["url"])] += 1
    return seen


def assert_each_once_from_its_shard(standin: StandIn, fleet: Fleet, tokens: dict[int, str]) -> None:
    seen = delivered(standin, fleet)
    assert set(seen) == fleet.expected, "lost or misdelivered alerts"
    twice = {k: n for k, n in seen.items() if n > 1}
    assert not twice, f"alerts delivered more than once: {twice}"
    senders: dict[str, set[str]] = {}
    for r in posts(standin):
        channel = MESSAGES.fullmatch(r.path).group(1)  # type: ignore[union-attr]
        senders.setdefault(channel, set()).add(r.headers.get("Authorization", ""))
    for channel, shard in fleet.owner.items():
        assert senders.get(channel) == {f"Bot {tokens[shard]}"}, (channel, shard, senders)


# -- PostgreSQL: two processes, one store ------------------------------------------------


@pytest.mark.postgres
async def test_two_processes_deliver_every_alert_once_even_when_one_is_killed(
    standin: StandIn, pg_url: str, tmp_path: Path
) -> None:
    fleet, targets = build_world(standin, tmp_path)
    await fill_store(pg_url, fleet, targets)
    zero = bot_process(standin, tmp_path, pg_url, "0", fleet).start()
    one = bot_process(standin, tmp_path, pg_url, "1", fleet).start()
    try:
        # Mid-dispatch: shard 0 has sent some of its alerts, not all.
        sent_then = await wait_for(
            standin,
            lambda: len(posts(standin, zero.token)) >= 15 and len(posts(standin, zero.token)),
            "shard 0's first alerts",
            90,
            zero,
            one,
        )
        await zero.kill()
        killed_after = len(posts(standin, zero.token))
        assert sent_then <= killed_after < fleet.owed_to(0)
        # Shard 1's alerts go on; none of shard 0's are sent by it meanwhile.
        await wait_for(
            standin,
            lambda: len(posts(standin, one.token)) >= fleet.owed_to(1),
            "shard 1's alerts",
            60,
            one,
        )
        zero = bot_process(standin, tmp_path, pg_url, "0", fleet).start()
        await wait_for(
            standin,
            lambda: set(delivered(standin, fleet)) >= fleet.expected,
            "every alert",
            90,
            zero,
            one,
        )
        await asyncio.sleep(2.0)  # time for a second copy, if one were coming
        assert_each_once_from_its_shard(standin, fleet, {0: zero.token, 1: one.token})
        assert len({(r.headers["Authorization"]) for r in posts(standin)}) == COUNT
    finally:
        await zero.stop()
        await one.stop()
    async with await open_store(pg_url) as store:
        counts = await store.outbox_counts()
    assert counts.get("sent") == TOTAL and not counts.get("pending"), counts


# -- SQLite: one bot process per store ----------------------------------------------------


async def test_sqlite_runs_one_shard_set_and_refuses_a_second_bot_process(
    standin: StandIn, tmp_path: Path
) -> None:
    db = tmp_path / "one.db"
    fleet, targets = build_world(standin, tmp_path)
    await fill_store(db, fleet, targets)
    zero = bot_process(standin, tmp_path, db, "0", fleet).start()
    try:
        await wait_for(standin, lambda: standin.identifies, "shard 0's IDENTIFY", 60, zero)
        one = bot_process(standin, tmp_path, db, "1", fleet).start()
        code = await one.wait(60)
        out = one.output()
        assert code == 2, out[-3000:]
        assert f"another newsbot bot process already uses {db}" in out
        assert "PostgreSQL store: see README, Running at scale" in out
        assert "Traceback" not in out
        assert [i.shard for i in standin.identifies] == [(0, COUNT)]  # it never connected
        owed = fleet.owed_to(0)
        await wait_for(
            standin,
            lambda: sum(delivered(standin, fleet).values()) >= owed,
            "shard 0's alerts",
            90,
            zero,
        )
        await asyncio.sleep(1.0)
        seen = delivered(standin, fleet)
        mine = {(ch, u) for ch, u in fleet.expected if fleet.owner[ch] == 0}
        assert set(seen) == mine and set(seen.values()) == {1}
        assert {r.headers["Authorization"] for r in posts(standin)} == {f"Bot {zero.token}"}
    finally:
        await zero.stop()
    async with await open_store(db) as store:
        counts = await store.outbox_counts()
    assert counts.get("sent") == owed and counts.get("pending") == TOTAL - owed, counts
