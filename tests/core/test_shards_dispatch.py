"""Dispatchers of processes that split the shards, sharing one store: each sends, edits
and reports failures only for the targets its shards own (DMs: shard 0's), so every
alert goes out once. On both store drivers (`store_target`)."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.core.alerts.delivery import DeliveryError
from bot.core.alerts.dispatch import Dispatcher
from bot.core.shards import shard_spec
from bot.core.store import Store
from bot.core.store.types import AlertOptions
from tests.core.alerts.test_alerts import add_stories, article
from tests.core.alerts.test_delivery_dispatch import (
    Clock,
    FakeDiscord,
    _edit_story,
    channel_sub,
    dispatcher,
)
from tests.drivers import StoreTarget, opened_store

COUNT = 2
EDITS = AlertOptions(on_update="edit")


def guild_on(shard: int) -> int:
    return ((500 * COUNT + shard) << 22) | 7


async def three_targets(store: Store) -> dict[str, int]:
    """A channel in a guild of each shard, and a DM subscribed from the shard-1 guild:
    target → the shard that owns it."""
    await channel_sub(store, EDITS, guild_id=guild_on(0), channel_id=10)
    await channel_sub(store, EDITS, guild_id=guild_on(1), channel_id=11)
    await channel_sub(store, EDITS, guild_id=guild_on(1), channel_id=None, user_id=77)
    return {"channel:10": 0, "channel:11": 1, "user:77": 0}


def pair(store: Store) -> tuple[list[FakeDiscord], list[Dispatcher]]:
    fakes = [FakeDiscord(), FakeDiscord()]
    clock = Clock()
    ds = [
        dispatcher(store, fakes[s], clock, shards=shard_spec(str(s), COUNT)) for s in range(COUNT)
    ]
    return fakes, ds


async def test_each_alert_and_each_edit_is_made_by_its_shards_process_only(
    store_target: StoreTarget,
) -> None:
    async with opened_store(store_target) as store:
        owner = await three_targets(store)
        stories = [article(f"Shard story {i}", hours_ago=1 + i) for i in range(3)]
        ids = await add_stories(store, *stories)
        fakes, ds = pair(store)
        assert set(await store.pending_targets(shards=ds[0].shards)) == {"channel:10", "user:77"}
        assert set(await store.pending_targets(shards=ds[1].shards)) == {"channel:11"}
        await asyncio.gather(*(d.run_once() for d in ds))
        sent = Counter((m.target, a) for f in fakes for m in f.messages for a in m.article_ids)
        assert sent == Counter({(t, a): 1 for t in owner for a in ids})
        for shard, fake in enumerate(fakes):
            assert {m.target for m in fake.messages} == {t for t, s in owner.items() if s == shard}
        posted = sum(len(f.messages) for f in fakes)

        await _edit_story(store, stories[0], "Shard story 0, corrected")
        assert len(await store.pending_edits(shards=ds[0].shards)) == 2
        assert len(await store.pending_edits(shards=ds[1].shards)) == 1
        await asyncio.gather(*(d.run_once() for d in ds))
        assert [len(f.edits) for f in fakes] == [2, 1]
        assert all(title == "Shard story 0, corrected" for f in fakes for _, _, title in f.edits)
        assert sum(len(f.messages) for f in fakes) == posted  # edited, not posted again
        assert await store.pending_edits() == []


async def test_a_failure_is_handled_and_reported_by_the_owner_only(
    store_target: StoreTarget,
) -> None:
    async with opened_store(store_target) as store:
        await three_targets(store)
        await add_stories(store, article("Refused everywhere"))
        fakes, ds = pair(store)
        for fake in fakes:
            fake.refuse = DeliveryError("forbidden", "Missing Permissions", code=50013, status=403)
        await asyncio.gather(*(d.run_once() for d in ds))
        subs = {s.target: s.id for s in await store.guild_subscriptions(guild_on(1))}
        notices = [[n.subscription_id for n in f.notices] for f in fakes]
        # Shard 1's process paused its channel and said so once; shard 0's never saw it.
        assert notices[1] == [subs["channel:11"]]
        assert subs["channel:11"] not in notices[0]
        assert [len(f.messages) for f in fakes] == [0, 0]
        assert {s.target: s.status for s in await store.guild_subscriptions(guild_on(1))}[
            "channel:11"
        ] == "paused"
