"""How alerts land, the dispatcher side, against a fake sender that behaves like Discord
(a nonce returns the message it made; threads and forum posts take no nonce; at most 10
crossposts an hour per channel): role pings, threads, crossposts and their budget across
a restart, hourly caps folded into digests, daily digests once across a restart, edited
stories, failure notices once per state change, and exactly-once under a crash between
send and mark."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest

from bot.core.alerts import subscriptions as subs
from bot.core.alerts.delivery import (
    PLAIN_DELIVERY,
    THREAD_NAME_LIMIT,
    Delivery,
    DeliveryError,
    FailureNotice,
    SendResult,
    Target,
)
from bot.core.alerts.dispatch import Dispatcher
from bot.core.alerts.landing import CROSSPOST_LIMIT, digest_due
from bot.core.alerts.matching import match_hook
from bot.core.alerts.pacing import Pacer
from bot.core.records import Article
from bot.core.store import Store
from bot.core.store.types import AlertOptions
from tests.core.alerts.test_alerts import CHANNEL, GUILD, USER, add_stories, article
from tests.drivers import StoreTarget, open_at, sql_rows

HOUR = 3600.0


@dataclass
class Landed:
    """One message as the fake Discord made it."""

    target: str
    article_ids: tuple[int, ...]
    topic: str
    nonce: str
    message_id: int
    delivery: Delivery
    published: bool


@dataclass
class FakeDiscord:
    """Messages deduplicated by nonce; a thread (forum post) made on every send that asks
    for one and that an earlier send did not make (no nonce); crossposts limited per
    channel per hour; edits and notices recorded."""

    forum: bool = False  # a forum channel: the post is the message, and has no nonce
    crash_after_accept: int = 0  # raise CancelledError after this many accepted sends
    messages: list[Landed] = field(default_factory=list)
    by_nonce: dict[tuple[str, str], Landed] = field(default_factory=dict)
    threads: dict[tuple[str, str], int] = field(default_factory=dict)
    thread_log: list[str] = field(default_factory=list)
    crossposted: list[float] = field(default_factory=list)
    edits: list[tuple[int, tuple[int, ...], str]] = field(default_factory=list)
    notices: list[FailureNotice] = field(default_factory=list)
    refuse: DeliveryError | None = None
    accepted: int = 0

    async def send(
        self,
        target: Target,
        articles: Sequence[Article],
        *,
        topic: str,
        nonce: str,
        delivery: Delivery = PLAIN_DELIVERY,
    ) -> SendResult:
        ids = tuple(a.id for a in articles if a.id is not None)
        if self.refuse is not None:
            raise self.refuse
        if delivery.edit_message_id is not None:
            self.edits.append((delivery.edit_message_id, ids, articles[0].title))
            return SendResult(delivery.edit_message_id, ids)
        key = (str(target), nonce)
        msg = None if self.forum else self.by_nonce.get(key)
        if msg is None:
            now = time.time()
            recent = [t for t in self.crossposted if t > now - HOUR]
            published = delivery.publish and len(recent) < CROSSPOST_LIMIT
            if published:
                self.crossposted.append(now)
            msg = Landed(
                str(target), ids, topic, nonce, 9000 + len(self.messages), delivery, published
            )
            self.messages.append(msg)
            self.by_nonce[key] = msg
        if delivery.thread_name and (str(target), delivery.thread_name) not in self.threads:
            self.threads[(str(target), delivery.thread_name)] = msg.message_id
            self.thread_log.append(delivery.thread_name)
        self.accepted += 1
        if self.crash_after_accept and self.accepted == self.crash_after_accept:
            raise asyncio.CancelledError  # killed between "accepted" and "marked sent"
        thread = self.threads.get((str(target), delivery.thread_name or ""))
        return SendResult(msg.message_id, ids, thread_id=thread, published=msg.published)

    async def find_thread(self, target: Target, name: str) -> int | None:
        return self.threads.get((str(target), name))

    async def notify(self, notice: FailureNotice) -> None:
        self.notices.append(notice)


class Clock:
    """A clock the test moves (the dispatcher's); starts at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def dispatcher(store: Store, sender: FakeDiscord, clock: Clock, **kw: object) -> Dispatcher:
    return Dispatcher(
        store,
        sender,  # type: ignore[arg-type]
        pacer=Pacer(per_target=(10_000, 0.1), overall=(10_000, 0.1), margin=0.0),
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


async def channel_sub(store: Store, options: AlertOptions, **kw: object) -> subs.Subscription:
    args: dict[str, object] = dict(
        topic="Computer Vision", user_id=USER, guild_id=GUILD, channel_id=CHANNEL
    )
    args.update(kw)
    done = await subs.subscribe(store, options=options, **args)  # type: ignore[arg-type]
    await asyncio.sleep(0.01)  # stories stored after it
    return done.subscription


def states(store: Store) -> dict[str, int]:
    return dict(sql_rows(store, "SELECT state, count(*) FROM outbox GROUP BY state"))


async def test_role_ping_and_thread_named_after_the_story(store: Store) -> None:
    await channel_sub(store, AlertOptions(mention_role_id=77, thread=True))
    long_title = "Robots " + "that see " * 30
    ids = await add_stories(store, article(long_title, hours_ago=2), article("Short", hours_ago=1))
    discord = FakeDiscord()
    await dispatcher(store, discord, Clock()).run_once()
    assert [m.article_ids for m in discord.messages] == [(ids[0],), (ids[1],)]  # one a thread
    first = discord.messages[0].delivery
    assert first.mention_role_id == 77
    assert first.thread_name is not None and len(first.thread_name) == THREAD_NAME_LIMIT
    assert first.thread_name.startswith("Robots that see")
    assert first.forum_tags == ("Computer Vision",)
    assert discord.messages[1].delivery.thread_name == "Short"
    assert states(store) == {"sent": 2}


async def test_plain_subscription_lands_plain(store: Store) -> None:
    await channel_sub(store, AlertOptions())
    await add_stories(store, article("One", hours_ago=2), article("Two", hours_ago=1))
    discord = FakeDiscord()
    await dispatcher(store, discord, Clock()).run_once()
    assert [len(m.article_ids) for m in discord.messages] == [2]  # one digest, as before
    assert discord.messages[0].delivery == PLAIN_DELIVERY


async def test_crosspost_budget_then_unpublished_and_it_survives_a_restart(
    store_target: StoreTarget,
) -> None:
    db = store_target
    store = await open_at(db)
    await channel_sub(store, AlertOptions(publish=True))
    await add_stories(store, *[article(f"Story {i}", hours_ago=20 - i) for i in range(11)])
    discord, clock = FakeDiscord(), Clock()
    await dispatcher(store, discord, clock, max_batch=1).run_once()
    assert [m.delivery.publish for m in discord.messages] == [True] * 10 + [False]
    assert [m.published for m in discord.messages] == [True] * 10 + [False]
    await store.close()

    store = await open_at(db)  # restart: the count is in the store
    try:
        await add_stories(store, article("Twelfth"))
        await dispatcher(store, discord, clock, max_batch=1).run_once()
        assert len(discord.messages) == 12 and not discord.messages[-1].delivery.publish
        clock.now += HOUR + 1  # the window moves on
        await add_stories(store, article("Next hour"))
        await dispatcher(store, discord, clock, max_batch=1).run_once()
        assert discord.messages[-1].delivery.publish
        assert states(store) == {"sent": 13}
    finally:
        await store.close()


async def test_hourly_cap_folds_the_surplus_into_one_digest_nothing_lost(store: Store) -> None:
    await channel_sub(store, AlertOptions(max_per_hour=2, thread=True))
    ids = await add_stories(store, *[article(f"Capped {i}", hours_ago=9 - i) for i in range(5)])
    discord, clock = FakeDiscord(), Clock()
    d = dispatcher(store, discord, clock)
    await d.run_once()
    assert [m.article_ids for m in discord.messages] == [(ids[0],), (ids[1],)]
    assert states(store) == {"sent": 2, "pending": 3}
    why = await subs.why(store, 1, ids[4])
    assert why is not None and why.verdict == "held"
    await d.run_once()
    assert len(discord.messages) == 2  # still within the hour
    clock.now += HOUR + 1
    await d.run_once()
    assert len(discord.messages) == 3
    digest = discord.messages[2]
    assert digest.article_ids == tuple(ids[2:])
    assert digest.delivery.thread_name is not None
    assert digest.delivery.thread_name.startswith("Computer Vision · ")
    assert states(store) == {"sent": 5}


async def test_daily_digest_at_its_hour_once_across_a_restart(store_target: StoreTarget) -> None:
    db = store_target
    store = await open_at(db)
    hour = (time.gmtime().tm_hour + 2) % 24
    await channel_sub(store, AlertOptions(digest="daily", digest_hour=hour))
    ids = await add_stories(store, *[article(f"Day {i}", hours_ago=5 - i) for i in range(4)])
    due = digest_due(time.time(), hour)
    discord, clock = FakeDiscord(crash_after_accept=1), Clock()
    await dispatcher(store, discord, clock).run_once()
    assert discord.messages == []  # not before its hour
    clock.now = due + 1
    with pytest.raises(asyncio.CancelledError):  # killed between send and mark
        await dispatcher(store, discord, clock).run_once()
    assert len(discord.messages) == 1 and states(store) == {"pending": 4}
    await store.close()

    store = await open_at(db)
    try:
        for _ in range(2):  # the restart, then the next cycle
            await dispatcher(store, discord, clock).run_once()
        assert len(discord.messages) == 1  # the retry got the same message back
        assert discord.messages[0].article_ids == tuple(ids)
        assert states(store) == {"sent": 4}
        assert sql_rows(db, "SELECT DISTINCT message_id FROM outbox") == [(9000,)]
    finally:
        await store.close()


async def test_forum_post_after_a_crash_is_found_not_made_twice(store_target: StoreTarget) -> None:
    db = store_target
    store = await open_at(db)
    await channel_sub(store, AlertOptions(thread=True))
    [aid] = await add_stories(store, article("Forum story"))
    discord, clock = FakeDiscord(forum=True, crash_after_accept=1), Clock()
    with pytest.raises(asyncio.CancelledError):
        await dispatcher(store, discord, clock).run_once()
    assert discord.thread_log == ["Forum story"]
    await store.close()

    store = await open_at(db)
    try:
        await dispatcher(store, discord, clock).run_once()
        assert discord.thread_log == ["Forum story"]  # found, not posted again
        assert len(discord.messages) == 1
        assert sql_rows(db, "SELECT state, message_id FROM outbox") == [("sent", 9000)]
        why = await subs.why(store, 1, aid)
        assert why is not None and why.verdict == "sent" and why.message_id == 9000
    finally:
        await store.close()


async def _edit_story(store: Store, art: Article, title: str) -> None:
    """Rewrite a stored story the way a load does, with the load's hook."""
    hook = match_hook()
    async with store.transaction() as tx:
        res = await tx.upsert_articles([replace(art, title=title)])
        await hook(tx, res.added, res.updated)


@pytest.mark.parametrize("on_update", ["edit", "ignore"])
async def test_edited_story_edits_the_message_and_posts_nothing_new(
    store: Store, on_update: str
) -> None:
    await channel_sub(store, AlertOptions(on_update=on_update))  # type: ignore[arg-type]
    story = article("First title")
    [aid] = await add_stories(store, story)
    discord, clock = FakeDiscord(), Clock()
    d = dispatcher(store, discord, clock)
    await d.run_once()
    assert len(discord.messages) == 1
    await _edit_story(store, story, "Corrected title")
    await d.run_once()
    await d.run_once()  # an edit is made once
    assert len(discord.messages) == 1
    if on_update == "edit":
        assert discord.edits == [(9000, (aid,), "Corrected title")]
    else:
        assert discord.edits == []
    await _edit_story(store, replace(story, title="Corrected title"), "Corrected title")
    await d.run_once()  # the same text again: nothing to edit
    assert len(discord.edits) == (1 if on_update == "edit" else 0)


async def test_pause_sends_one_notice_per_state_change(store: Store) -> None:
    sub = await channel_sub(store, AlertOptions())
    await add_stories(store, article("Refused"))
    discord, clock = FakeDiscord(), Clock()
    discord.refuse = DeliveryError("forbidden", "Missing Permissions", code=50013, status=403)
    d = dispatcher(store, discord, clock)
    await d.run_once()
    assert len(discord.notices) == 1
    notice = discord.notices[0]
    assert (notice.guild_id, notice.user_id, notice.subscription_id, notice.route) == (
        GUILD,
        USER,
        sub.id,
        "system",
    )
    assert "paused" in notice.text and f"<#{CHANNEL}>" in notice.text
    await add_stories(store, article("Another while paused"))
    await d.run_once()  # a second refusal: the target is not even tried
    assert len(discord.notices) == 1
    await subs.subscribe(
        store, topic="Computer Vision", user_id=USER, guild_id=GUILD, channel_id=CHANNEL
    )  # resumed
    await d.run_once()  # refused again: a new state change, a new notice
    assert len(discord.notices) == 2
    assert states(store) == {"pending": 1}  # kept (a paused subscription matches nothing new)


@pytest.mark.parametrize(("mode", "expected"), [("creator", ["creator"]), ("off", [])])
async def test_notice_modes(store: Store, mode: str, expected: list[str]) -> None:
    await channel_sub(store, AlertOptions())
    await add_stories(store, article("Gone"))
    discord = FakeDiscord(refuse=DeliveryError("unknown_target", "Unknown Channel", code=10003))
    await dispatcher(store, discord, Clock(), notices=mode).run_once()
    assert [n.route for n in discord.notices] == expected


async def test_dm_subscription_gets_no_notice(store: Store) -> None:
    await channel_sub(store, AlertOptions(), channel_id=None)
    await add_stories(store, article("Closed DMs"))
    discord = FakeDiscord(refuse=DeliveryError("dm_closed", "Cannot send messages", code=50007))
    await dispatcher(store, discord, Clock()).run_once()
    assert discord.notices == []
    [sub] = await subs.personal(store, USER)
    assert sub.status == "paused"


@pytest.mark.parametrize(
    "options",
    [
        AlertOptions(mention_role_id=77, thread=True, publish=True),
        AlertOptions(digest="daily", digest_hour=(time.gmtime().tm_hour + 1) % 24, thread=True),
        AlertOptions(),
    ],
)
async def test_preview_equals_what_is_later_sent(store: Store, options: AlertOptions) -> None:
    sub = await channel_sub(store, options)
    await add_stories(store, article("Older one", hours_ago=3), article("The newest", hours_ago=1))
    shown = await subs.preview(store, sub.id)
    assert shown is not None
    discord, clock = FakeDiscord(), Clock()
    clock.now += 26 * HOUR if options.digest == "daily" else 0  # past its digest hour
    await dispatcher(store, discord, clock, max_batch=1).run_once()
    newest = next(m for m in discord.messages if m.article_ids == (shown.articles[0].id,))
    assert (newest.topic, newest.delivery) == (shown.topic, shown.delivery)
    assert str(shown.target) == newest.target
