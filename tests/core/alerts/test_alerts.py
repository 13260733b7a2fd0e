"""Alerts without Discord: matching rules, the outbox, subscriptions, pacing and the
dispatcher driven by a fake sender that behaves like Discord (nonce deduplication,
scripted failures)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.alerts import matching as alerts
from bot.core.alerts import subscriptions as subs
from bot.core.alerts.delivery import (
    PLAIN_DELIVERY,
    Delivery,
    DeliveryError,
    FailureNotice,
    SendResult,
    Target,
)
from bot.core.alerts.dispatch import MAX_BATCH, Dispatcher, next_batch
from bot.core.alerts.matching import PendingAlert, StoryFacts, SubscriptionRule
from bot.core.alerts.pacing import Pacer
from bot.core.loader import load_paths
from bot.core.records import Article
from bot.core.store import Store, StoreTransaction, open_store
from bot.core.store.sqlite import MIGRATIONS, SCHEMA_VERSION, script_statements
from tests.drivers import INTEGRITY_ERRORS, StoreTarget, open_at, sql_execute, sql_rows
from tests.helpers import db_query, write_record

NOW = 1_750_000_000.0
HOUR = 3600.0
GUILD = 111
CHANNEL = 222
USER = 333

# ----------------------------------------------------------------------------- matching


def rule(**kw: object) -> SubscriptionRule:
    base: dict[str, object] = dict(
        id=1, topic_key="computer vision", keywords=(), min_quality=0.0, created_at=NOW - HOUR
    )
    base.update(kw)
    return SubscriptionRule(**base)  # type: ignore[arg-type]


def facts(**kw: object) -> StoryFacts:
    base: dict[str, object] = dict(
        id=7,
        title="Robots learn to see",
        excerpt="A new camera system for warehouse arms.",
        quality=80.0,
        published_ts=NOW - HOUR,
        first_stored_at=NOW - 60,
        topic_keys=frozenset({"computer vision", "ai"}),
    )
    base.update(kw)
    return StoryFacts(**base)  # type: ignore[arg-type]


def match(r: SubscriptionRule, s: StoryFacts, max_age: float = 48 * HOUR) -> bool:
    return alerts.matches(r, s, now=NOW, max_age=max_age)


def test_topic_must_be_one_of_the_story_topics() -> None:
    assert match(rule(), facts())
    assert not match(rule(topic_key="robotics"), facts())


def test_story_stored_before_the_subscription_does_not_alert() -> None:
    assert not match(rule(created_at=NOW), facts(first_stored_at=NOW - 1))
    assert match(rule(created_at=NOW - 1), facts(first_stored_at=NOW - 1))


def test_publication_age_window() -> None:
    assert match(rule(), facts(published_ts=NOW - 47 * HOUR))
    assert not match(rule(), facts(published_ts=NOW - 49 * HOUR))
    assert not match(rule(), facts(published_ts=NOW - 2 * HOUR), max_age=HOUR)
    assert not match(rule(), facts(published_ts=None))
    assert not match(rule(), facts(published_ts=NOW + 3 * 86400))  # a bad date


def test_min_quality() -> None:
    assert match(rule(min_quality=80), facts(quality=80.0))
    assert not match(rule(min_quality=81), facts(quality=80.0))
    assert not match(rule(min_quality=50), facts(quality=None))
    assert match(rule(min_quality=0), facts(quality=None))


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        (("camera",), True),  # excerpt word
        (("robots",), True),  # title word
        (("robot",), True),  # a prefix of 4+ letters
        (("ro",), False),  # too short to be a prefix
        (("drone", "warehouse"), True),  # any one
        (("drone", "lidar"), False),
    ],
)
def test_keywords_any_word_of_title_or_excerpt(keywords: tuple[str, ...], expected: bool) -> None:
    assert match(rule(keywords=keywords), facts()) is expected


def test_keywords_are_folded() -> None:
    assert alerts.keyword_list("Caméra, ROBOTS  caméra") == ("camera", "robots")
    story = facts(title="Les caméras de l'école", excerpt="")
    assert match(rule(keywords=alerts.keyword_list("CAMERAS")), story)


# --------------------------------------------------------------------------- the store


def article(
    title: str,
    *,
    hours_ago: float = 1.0,
    topics: Sequence[str] = ("Computer Vision",),
    quality: float | None = 80.0,
    excerpt: str = "",
) -> Article:
    slug = "-".join(title.lower().split())
    return Article(
        title=title,
        url=f"https://news.example.com/{slug}",
        excerpt=excerpt or f"All about {title}.",
        published=datetime.fromtimestamp(time.time() - hours_ago * HOUR, tz=UTC),
        quality=quality,
        topics=tuple(topics),
    )


async def add_stories(store: Store, *arts: Article, match_now: bool = True) -> list[int]:
    """Store stories the way a load does: matching in the same transaction."""
    async with store.transaction() as tx:
        res = await tx.upsert_articles(list(arts))
        if match_now:
            await alerts.match_articles(tx, [*res.added, *res.updated])
    ids = await store.ids_by_url([a.url for a in arts])
    return [ids[a.canonical_url] for a in arts]


async def subscribe(
    store: Store,
    topic: str = "Computer Vision",
    *,
    channel: int | None = CHANNEL,
    user: int = USER,
    **kw: object,
) -> subs.Subscription:
    done = await subs.subscribe(
        store, topic=topic, user_id=user, guild_id=GUILD, channel_id=channel, **kw
    )  # type: ignore[arg-type]
    sub = done.subscription
    return sub


def outbox(store: Store) -> list[tuple]:
    return sql_rows(store, "SELECT subscription_id, article_id, state FROM outbox ORDER BY id")


async def test_matching_writes_one_row_per_subscription_and_story(store: Store) -> None:
    await add_stories(store, article("Old news before anyone subscribed"))
    cv = await subscribe(store)
    ai = await subscribe(store, "AI", channel=None)
    await asyncio.sleep(0.01)  # first_stored_at strictly after created_at
    [a, b] = await add_stories(
        store,
        article("Camera chips", topics=("Computer Vision", "AI")),
        article("Archive story", hours_ago=100),
    )
    assert sorted(outbox(store)) == [(cv.id, a, "pending"), (ai.id, a, "pending")]
    # Matching the same stories again (an update, a second load) writes nothing new.
    async with store.transaction() as tx:
        assert await alerts.match_articles(tx, [a, b]) == 0
    assert len(outbox(store)) == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sql_matching_agrees_with_the_rules(store: Store, seed: int) -> None:
    """match_articles (SQL for most subscriptions) ≡ `matches` over every pair."""
    rng = random.Random(seed)
    topics = ["AI", "Computer Vision", "Robotics", "Law"]
    words_ = ["camera", "robots", "court", "chips", "vision"]
    now = time.time()
    early = await add_stories(store, article("Before all", topics=topics), match_now=False)
    for i in range(40):
        await subs.subscribe(
            store,
            topic=rng.choice(topics),
            user_id=i,
            guild_id=None,
            channel_id=None,
            keywords=" ".join(rng.sample(words_, rng.randint(0, 2))),
            min_quality=rng.choice([0, 0, 50, 90]),
            now=now - rng.choice([10 * HOUR, 0.5 * HOUR]),
        )
    arts = [
        article(
            f"Story {i} " + " ".join(rng.sample(words_, 2)),
            hours_ago=rng.choice([0.2, 5, 60]),
            topics=rng.sample(topics, rng.randint(1, 3)),
            quality=rng.choice([None, 40.0, 70.0, 95.0]),
        )
        for i in range(30)
    ]
    async with store.transaction() as tx:
        res = await tx.upsert_articles(arts, now=now - HOUR)
        ids = [*early, *res.added]
        written = await alerts.match_articles(tx, ids, now=now)
        rules = [r for rs in (await tx.active_rules()).values() for r in rs]
        stories = await tx.story_facts(ids, since_ts=0)
    expected = {
        (r.id, s.id)
        for r in rules
        for s in stories
        if alerts.matches(r, s, now=now, max_age=48 * HOUR)
    }
    got = {(sid, aid) for sid, aid, _ in outbox(store)}
    assert got == expected and written == len(expected)
    assert expected  # the case is not vacuous


async def test_paused_subscription_matches_nothing(store: Store) -> None:
    sub = await subscribe(store)
    await subs.set_status(store, sub.id, "paused", "test")
    await asyncio.sleep(0.01)
    await add_stories(store, article("While paused"))
    assert outbox(store) == []


async def test_load_hook_matches_in_the_load_transaction(tmp_path: Path, store: Store) -> None:
    sub = await subscribe(store)
    await asyncio.sleep(0.01)
    folder = tmp_path / "records"
    now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_record(
        folder, "a.md", title="Vision story", publishedDateTime=now, topics=["Computer Vision"]
    )
    write_record(folder, "b.md", title="Other story", publishedDateTime=now, topics=["Robotics"])
    hook = alerts.match_hook(max_age=48 * HOUR)
    report = await load_paths(store, [folder], on_stored=[hook])
    assert report.added == 2
    rows = outbox(store)
    assert [(s, st) for s, _, st in rows] == [(sub.id, "pending")]
    await load_paths(store, [folder], on_stored=[hook])  # unchanged: nothing new
    (folder / "a.md").write_text((folder / "a.md").read_text() + "\nMore body.\n")
    await load_paths(store, [folder], on_stored=[hook])  # updated: matched again, ignored
    assert outbox(store) == rows


async def test_failed_load_leaves_no_outbox_rows(tmp_path: Path, store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    folder = tmp_path / "records"
    now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in range(3):
        write_record(
            folder, f"{i}.md", title=f"Story {i}", publishedDateTime=now, topics=["Computer Vision"]
        )

    async def fail_after_matching(
        tx: StoreTransaction, added: list[int], updated: list[int]
    ) -> None:
        assert len(added) == 3  # every story was written, and matched by the hook before
        raise RuntimeError("injected failure after matching")

    with pytest.raises(RuntimeError, match="injected"):
        await load_paths(store, [folder], on_stored=[alerts.match_hook(), fail_after_matching])
    assert outbox(store) == [] and (await store.stats())["stories"] == 0


async def test_outbox_pair_is_unique(store: Store) -> None:
    sub = await subscribe(store)
    [a] = await add_stories(store, article("One"), match_now=False)
    insert = "INSERT INTO outbox (subscription_id, article_id, created_at) VALUES (?, ?, 0)"
    sql_execute(store, insert, (sub.id, a))
    with pytest.raises(INTEGRITY_ERRORS):
        sql_execute(store, insert, (sub.id, a))


async def test_migration_from_version_1_keeps_rows(tmp_path: Path) -> None:
    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    for stmt in script_statements(MIGRATIONS[0]):
        conn.execute(stmt)
    conn.execute(
        "INSERT INTO articles (id, url, link, title, content_hash, first_stored_at, "
        "updated_at) VALUES (1, 'u', 'u', 't', 'h', 0, 0)"
    )
    conn.execute(
        "INSERT INTO subscriptions (id, user_id, target, topic_key, topic, created_at) "
        "VALUES (1, 5, 'user:5', 'ai', 'AI', 0)"
    )
    conn.execute("INSERT INTO outbox (subscription_id, article_id, created_at) VALUES (1, 1, 0)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    s = await open_store(db)
    await s.close()
    assert SCHEMA_VERSION >= 2
    assert db_query(db, "SELECT state, batch FROM outbox") == [("pending", None)]


# ------------------------------------------------------------------------ subscriptions


async def test_subscribe_twice_says_so_and_filters_make_another(store: Store) -> None:
    first = await subscribe(store, keywords="Robots, arms")
    assert first.keywords == ("robots", "arms") and first.target == f"channel:{CHANNEL}"
    with pytest.raises(subs.AlreadySubscribed, match="Already subscribed") as err:
        await subscribe(store, keywords="robots ARMS")
    assert err.value.subscription.id == first.id
    other = await subscribe(store, keywords="robots arms", min_quality=70)
    assert other.id != first.id and other.filters() == "keywords: robots arms · quality ≥ 70"


async def test_paused_or_disabled_subscription_resumes_on_subscribe(store: Store) -> None:
    sub = await subscribe(store)
    for status in ("paused", "disabled"):
        await subs.set_status(store, sub.id, status, "why")  # type: ignore[arg-type]
        done = await subs.subscribe(
            store, topic="computer vision", user_id=USER + 1, guild_id=GUILD, channel_id=CHANNEL
        )
        again, outcome = done.subscription, done.outcome
        assert (again.id, again.status, again.status_reason, outcome) == (
            sub.id,
            "active",
            None,
            "resumed",
        )


async def test_limits_per_server_and_per_user(store: Store) -> None:
    limits = subs.Limits(per_guild=2, per_user=1)
    await subscribe(store, "A", limits=limits)
    b = await subscribe(store, "B", limits=limits)
    with pytest.raises(subs.LimitReached, match="limit is 2"):
        await subscribe(store, "C", limits=limits)
    # A disabled subscription (its channel is gone) does not use up the quota.
    await subs.set_status(store, b.id, "disabled", "gone")
    await subscribe(store, "C", limits=limits)
    await subscribe(store, "A", channel=None, limits=limits)
    with pytest.raises(subs.LimitReached, match="personal subscriptions"):
        await subscribe(store, "B", channel=None, limits=limits)
    await subscribe(store, "B", channel=None, user=USER + 1, limits=limits)  # another user


async def test_bad_filters_refused(store: Store) -> None:
    with pytest.raises(subs.SubscriptionError, match="at most 10 keywords"):
        await subscribe(store, keywords=" ".join(f"w{i}" for i in range(11)))
    with pytest.raises(subs.SubscriptionError, match="0 to 100"):
        await subscribe(store, min_quality=101)


async def test_remove_ownership_rules(store: Store) -> None:
    mine = await subscribe(store, channel=None)
    chan = await subscribe(store)
    nobody = lambda s: False  # noqa: E731
    anybody = lambda s: True  # noqa: E731
    with pytest.raises(subs.NotAllowed):  # someone else's DM subscription, even as a manager
        await subs.remove(
            store, mine.id, user_id=USER + 1, guild_id=GUILD, may_manage_channel=anybody
        )
    with pytest.raises(subs.NotAllowed):  # its creator without channel rights now
        await subs.remove(store, chan.id, user_id=USER, guild_id=GUILD, may_manage_channel=nobody)
    with pytest.raises(subs.NotAllowed):  # from another server
        await subs.remove(
            store, chan.id, user_id=USER, guild_id=GUILD + 1, may_manage_channel=anybody
        )
    assert [
        s.id
        for s in await subs.removable(
            store, user_id=USER, guild_id=GUILD, may_manage_channel=nobody
        )
    ] == [mine.id]
    await subs.remove(store, chan.id, user_id=USER + 1, guild_id=GUILD, may_manage_channel=anybody)
    await subs.remove(store, mine.id, user_id=USER, guild_id=None, may_manage_channel=nobody)
    with pytest.raises(subs.UnknownSubscription):
        await subs.remove(store, mine.id, user_id=USER, guild_id=None, may_manage_channel=nobody)


# ------------------------------------------------------------------------- planning


def pending(
    row: int,
    article: int,
    published: float,
    *,
    batch: str | None = None,
    target: str = "channel:1",
    topic: str = "AI",
) -> PendingAlert:
    return PendingAlert(row, 1, article, target, topic, published, batch, 0, 0.0)


def test_next_batch_oldest_first_and_at_most_ten() -> None:
    rows = [pending(i, 100 + i, published=1000.0 - i) for i in range(12)]
    batch = next_batch(rows)
    assert batch is not None and not batch.claimed
    assert batch.article_ids == [100 + i for i in range(11, 1, -1)]  # the 10 oldest, oldest first
    assert len(batch.article_ids) == MAX_BATCH
    assert batch.nonce == alerts.nonce_for(batch.row_ids)


def test_next_batch_resends_a_claim_exactly() -> None:
    claimed = [pending(5, 50, 2000.0, batch="nbX"), pending(9, 90, 3000.0, batch="nbX")]
    batch = next_batch([pending(1, 10, 1.0), *claimed])
    assert batch is not None and batch.claimed and batch.nonce == "nbX"
    assert batch.row_ids == [5, 9]


def test_next_batch_one_story_for_two_subscriptions() -> None:
    rows = [pending(1, 10, 1.0, topic="AI"), pending(2, 10, 1.0, topic="Computer Vision")]
    batch = next_batch(rows)
    assert batch is not None
    assert batch.article_ids == [10] and batch.row_ids == [1, 2]
    assert batch.topic == "AI · Computer Vision"


def test_nonce_is_deterministic_short_and_order_free() -> None:
    n = alerts.nonce_for([3, 1, 2])
    assert n == alerts.nonce_for([1, 2, 3]) and len(n) <= 25
    assert n != alerts.nonce_for([1, 2])


# --------------------------------------------------------------------------- pacing


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def windows_ok(times: list[float], limit: int, per: float) -> bool:
    """No `per`-second window holds more than `limit` of `times`."""
    times = sorted(times)
    return all(times[i + limit] - times[i] >= per for i in range(len(times) - limit))


async def test_pacer_per_target_and_overall() -> None:
    t = FakeTime()
    pacer = Pacer(per_target=(5, 5.0), overall=(40, 1.0), margin=0.2, clock=t.clock, sleep=t.sleep)
    sent: dict[str, list[float]] = {}

    async def one(key: str) -> None:
        await pacer.acquire(key)
        sent.setdefault(key, []).append(t.now)

    for _ in range(12):
        await one("channel:1")
    assert windows_ok(sent["channel:1"], 5, 5.2)
    assert sent["channel:1"][5] == pytest.approx(5.2)
    t.now = 100.0
    for i in range(100):
        await one(f"channel:{1000 + i}")
    overall = [x for k, v in sent.items() if k != "channel:1" for x in v]
    assert windows_ok(overall, 40, 1.0)
    assert max(overall) - 100.0 == pytest.approx(2.0)  # 100 sends at 40/s: 0-39, 1 s, 2 s


async def test_pacer_block_and_cost() -> None:
    t = FakeTime()
    pacer = Pacer(per_target=(5, 5.0), overall=(4, 1.0), clock=t.clock, sleep=t.sleep)
    pacer.block("user:1", 2.5)
    await pacer.acquire("user:1", cost=2)
    assert t.now == pytest.approx(2.5)
    await pacer.acquire("user:2", cost=2)
    await pacer.acquire("user:3", cost=2)  # the overall budget (4/s) is spent: waits
    assert t.now == pytest.approx(3.5)


# ---------------------------------------------------------------------- the dispatcher


@dataclass
class Sent:
    target: str
    article_ids: tuple[int, ...]
    topic: str
    nonce: str
    message_id: int
    at: float


@dataclass
class FakeSender:
    """Delivers like Discord: a nonce seen before returns the message it made."""

    per_message: int = MAX_BATCH  # how many stories fit a message
    script: list[DeliveryError | None] = field(default_factory=list)  # next outcomes
    bad_articles: set[int] = field(default_factory=set)  # a 400 for any message with these
    fail_targets: dict[str, DeliveryError] = field(default_factory=dict)  # always refused
    messages: list[Sent] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    by_nonce: dict[tuple[str, str], Sent] = field(default_factory=dict)
    notices: list[FailureNotice] = field(default_factory=list)

    async def send(
        self,
        target: Target,
        articles: Sequence[Article],
        *,
        topic: str,
        nonce: str,
        delivery: Delivery = PLAIN_DELIVERY,
    ) -> SendResult:
        self.attempts.append(nonce)
        assert len(nonce) <= 25
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        if str(target) in self.fail_targets:
            raise self.fail_targets[str(target)]
        if self.bad_articles & {a.id for a in articles}:
            raise DeliveryError("bad_request", "Invalid Form Body", code=50035, status=400)
        key = (str(target), nonce)
        if key not in self.by_nonce:
            ids = tuple(a.id for a in articles[: self.per_message])  # type: ignore[misc]
            msg = Sent(str(target), ids, topic, nonce, 9000 + len(self.messages), time.monotonic())
            self.messages.append(msg)
            self.by_nonce[key] = msg
        msg = self.by_nonce[key]
        return SendResult(msg.message_id, msg.article_ids)

    async def find_thread(self, target: Target, name: str) -> int | None:
        return None

    async def notify(self, notice: FailureNotice) -> None:
        self.notices.append(notice)

    def delivered(self) -> list[int]:
        return [a for m in self.messages for a in m.article_ids]


def fast_dispatcher(store: Store, sender: FakeSender, **kw: object) -> Dispatcher:
    options: dict[str, object] = dict(
        pacer=Pacer(per_target=(50, 0.1), overall=(500, 0.1), margin=0.0),
        backoff=0.01,
        max_backoff=0.05,
        park=0.2,
        idle=0.5,
    )
    options.update(kw)
    return Dispatcher(store, sender, **options)  # type: ignore[arg-type]


async def deliver_all(d: Dispatcher, *, rounds: int = 50, horizon: float = 1.0) -> None:
    """run_once until nothing is pending, or nothing is due within `horizon` seconds."""
    for _ in range(rounds):
        await d.run_once()
        targets = await d.store.pending_targets()
        if not targets:
            return
        soonest = min(targets.values()) - time.time()
        if soonest > horizon:
            return
        await asyncio.sleep(max(0.0, soonest) + 0.005)


def states(store: Store) -> dict[str, int]:
    return dict(sql_rows(store, "SELECT state, count(*) FROM outbox GROUP BY state"))


async def test_burst_becomes_digests_in_publication_order(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    ids = await add_stories(store, *[article(f"Story {i}", hours_ago=i) for i in range(12)])
    sender = FakeSender()
    await deliver_all(fast_dispatcher(store, sender))
    assert [len(m.article_ids) for m in sender.messages] == [10, 2]
    assert sender.delivered() == ids[::-1]  # oldest (largest hours_ago) first
    assert states(store) == {"sent": 12}


async def test_stories_that_do_not_fit_lead_the_next_message(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    ids = await add_stories(store, *[article(f"Long {i}", hours_ago=10 - i) for i in range(7)])
    sender = FakeSender(per_message=3)
    await deliver_all(fast_dispatcher(store, sender))
    assert [len(m.article_ids) for m in sender.messages] == [3, 3, 1]
    assert sender.delivered() == ids
    assert len(set(sender.attempts)) == 3


async def test_two_subscriptions_of_one_channel_post_a_story_once(store: Store) -> None:
    await subscribe(store, "AI")
    await subscribe(store, "Computer Vision")
    await asyncio.sleep(0.01)
    [a] = await add_stories(store, article("Both topics", topics=("AI", "Computer Vision")))
    sender = FakeSender()
    await deliver_all(fast_dispatcher(store, sender))
    assert [m.article_ids for m in sender.messages] == [(a,)]
    assert sender.messages[0].topic == "AI · Computer Vision"
    assert states(store) == {"sent": 2}
    # Later, a third subscription to the same channel matching an updated story...
    await subscribe(store, "Robotics")
    await asyncio.sleep(0.01)
    sub = await subs.get(store, 3)
    assert sub is not None
    sql_execute(
        store,
        "INSERT INTO outbox (subscription_id, article_id, created_at) VALUES (?, ?, 0)",
        (sub.id, a),
    )
    await deliver_all(fast_dispatcher(store, sender))
    assert len(sender.messages) == 1  # ...is marked sent by the message it already got
    assert sql_rows(store, "SELECT DISTINCT message_id FROM outbox") == [(9000,)]


async def test_targets_are_independent(store: Store) -> None:
    for ch in (1, 2):
        await subscribe(store, channel=ch)
    await subscribe(store, channel=None)
    await asyncio.sleep(0.01)
    await add_stories(store, article("Everyone gets it"))
    sender = FakeSender(fail_targets={"channel:2": DeliveryError("forbidden", code=50001)})
    await deliver_all(fast_dispatcher(store, sender))
    assert sorted(m.target for m in sender.messages) == ["channel:1", f"user:{USER}"]
    assert states(store) == {"sent": 2, "pending": 1}


async def test_rate_limited_waits_retry_after_then_sends(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    await add_stories(store, article("Limited"))
    sender = FakeSender(script=[DeliveryError("rate_limited", "429", retry_after=0.2)])
    d = fast_dispatcher(store, sender)
    started = time.monotonic()
    await deliver_all(d)
    assert len(sender.messages) == 1 and sender.messages[0].at - started >= 0.2
    assert sender.attempts[0] == sender.attempts[1]  # the same claim, the same nonce
    assert sql_rows(store, "SELECT state, attempts FROM outbox") == [("sent", 0)]


async def test_server_errors_back_off_then_deliver(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    await add_stories(store, article("Flaky"))
    errors = [DeliveryError("server_error", "500", status=500) for _ in range(3)]
    sender = FakeSender(script=list(errors))
    d = fast_dispatcher(store, sender)
    await d.run_once()
    [(state, attempts, err)] = sql_rows(store, "SELECT state, attempts, last_error FROM outbox")
    assert (state, attempts) == ("pending", 1) and "500" in err
    await deliver_all(d)
    assert len(sender.messages) == 1 and len(sender.attempts) == 4
    assert len(set(sender.attempts)) == 1
    assert states(store) == {"sent": 1}


async def test_server_errors_past_the_limit_park_never_drop(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    await add_stories(store, article("Down"))
    sender = FakeSender(script=[DeliveryError("timeout") for _ in range(3)])
    d = fast_dispatcher(store, sender, max_attempts=3, park=0.3)
    await deliver_all(d, horizon=0.2)  # three quick tries, then parked until "the next cycle"
    [(state, attempts, due)] = sql_rows(
        store, "SELECT state, attempts, next_attempt_at FROM outbox"
    )
    assert (state, attempts) == ("pending", 0) and due > time.time() + 0.1
    assert sender.messages == []
    await asyncio.sleep(0.35)
    await deliver_all(d)
    assert len(sender.messages) == 1 and states(store) == {"sent": 1}


async def test_unexpected_sender_exception_is_retried_not_dropped(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    await add_stories(store, article("Bug"))

    class Buggy(FakeSender):
        calls = 0

        async def send(self, *a: object, **kw: object) -> SendResult:
            Buggy.calls += 1
            if Buggy.calls == 1:
                raise KeyError("oops")
            return await super().send(*a, **kw)  # type: ignore[arg-type]

    sender = Buggy()
    await deliver_all(fast_dispatcher(store, sender))
    assert len(sender.messages) == 1 and states(store) == {"sent": 1}


@pytest.mark.parametrize(
    ("error", "channel", "status", "reason"),
    [
        (
            DeliveryError("forbidden", "Missing Permissions", code=50013),
            CHANNEL,
            "paused",
            "lack permission",
        ),
        (DeliveryError("forbidden", "Missing Access", code=50001), CHANNEL, "paused", "can't see"),
        (
            DeliveryError("unknown_target", "Unknown Channel", code=10003),
            CHANNEL,
            "disabled",
            "no longer exists",
        ),
        (
            DeliveryError("dm_closed", "Cannot send messages to this user", code=50007),
            None,
            "paused",
            "DMs are closed",
        ),
    ],
)
async def test_target_failures_pause_or_disable(
    store: Store, error: DeliveryError, channel: int | None, status: str, reason: str
) -> None:
    sub = await subscribe(store, channel=channel)
    await asyncio.sleep(0.01)
    await add_stories(store, article("Undeliverable"))
    sender = FakeSender(script=[error])
    await deliver_all(fast_dispatcher(store, sender))
    after = await subs.get(store, sub.id)
    assert after is not None and after.status == status and reason in (after.status_reason or "")
    assert states(store) == {"pending": 1}  # kept, not lost
    [(batch,)] = sql_rows(store, "SELECT batch FROM outbox")
    assert batch is None
    # Paused and disabled subscriptions match nothing new.
    await add_stories(store, article("Meanwhile"))
    assert states(store) == {"pending": 1}
    # Subscribing again resumes it and delivers what was held back.
    await subs.subscribe(
        store, topic="Computer Vision", user_id=USER, guild_id=GUILD, channel_id=channel
    )
    await deliver_all(fast_dispatcher(store, sender))
    assert [len(m.article_ids) for m in sender.messages] == [1]
    assert states(store) == {"sent": 1}


async def test_bad_request_fails_that_alert_only(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    ids = await add_stories(store, *[article(f"Item {i}", hours_ago=5 - i) for i in range(4)])
    sender = FakeSender(bad_articles={ids[2]})
    await deliver_all(fast_dispatcher(store, sender))
    assert sorted(sender.delivered()) == sorted(ids[:2] + ids[3:])
    assert all(len(m.article_ids) == 1 for m in sender.messages)  # split after the refusal
    rows = sql_rows(store, "SELECT article_id, state, last_error FROM outbox ORDER BY article_id")
    assert [(a, s) for a, s, _ in rows] == [(i, "failed" if i == ids[2] else "sent") for i in ids]
    assert "Invalid Form Body" in rows[2][2]


async def test_pacing_through_the_dispatcher(store: Store) -> None:
    for ch in (1, 2):
        await subscribe(store, channel=ch)
    await asyncio.sleep(0.01)
    await add_stories(store, *[article(f"Paced {i}", hours_ago=i) for i in range(8)])
    sender = FakeSender()
    d = fast_dispatcher(
        store, sender, max_batch=1, pacer=Pacer(per_target=(3, 0.3), overall=(4, 0.2), margin=0.02)
    )
    started = time.monotonic()
    await d.run_once()
    assert len(sender.messages) == 16 and states(store) == {"sent": 16}
    for ch in ("channel:1", "channel:2"):
        assert windows_ok([m.at for m in sender.messages if m.target == ch], 3, 0.3)
    # The overall window has no margin of its own (its margin is the 40 of Discord's 50
    # it allows), so the event loop's lateness between the pacer letting a message go
    # and the send shows at the sender: up to 50 ms of it is tolerated here.
    assert windows_ok([m.at for m in sender.messages], 4, 0.2 - 0.05)
    assert time.monotonic() - started >= 0.6  # 16 at 4 per 0.2 s


async def test_restart_resumes_pending_and_paused_state_survives(store_target: StoreTarget) -> None:
    db = store_target
    store = await open_at(db)
    await subscribe(store, channel=1)
    paused = await subscribe(store, channel=2)
    await asyncio.sleep(0.01)
    await add_stories(store, *[article(f"R {i}", hours_ago=i) for i in range(3)])
    await subs.set_status(store, paused.id, "paused", "Missing Permissions")
    sender = FakeSender(script=[DeliveryError("server_error", "502")])
    await fast_dispatcher(store, sender, backoff=60).run_once()  # fails, backs off a minute
    await store.close()

    store = await open_at(db)  # "restart"
    try:
        sql_execute(db, "UPDATE outbox SET next_attempt_at = 0")  # time passes
        again = FakeSender()
        await deliver_all(fast_dispatcher(store, again))
        assert [len(m.article_ids) for m in again.messages] == [3]
        still = await subs.get(store, paused.id)
        assert still is not None and still.status == "paused"
        assert states(store) == {"sent": 3, "pending": 3}
    finally:
        await store.close()


async def test_crash_between_accept_and_mark_sends_no_duplicate(store_target: StoreTarget) -> None:
    db = store_target
    store = await open_at(db)
    await subscribe(store)
    await asyncio.sleep(0.01)
    await add_stories(store, *[article(f"C {i}", hours_ago=i) for i in range(3)])
    discord_side = FakeSender()  # one "Discord" across both lives of the bot

    class DiesAfterAccept:
        async def send(self, *a: object, **kw: object) -> SendResult:
            await discord_side.send(*a, **kw)  # type: ignore[arg-type]
            raise asyncio.CancelledError  # killed before marking

    d = fast_dispatcher(store, DiesAfterAccept())  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await d.run_once()
    assert len(discord_side.messages) == 1
    assert states(store) == {"pending": 3}  # not marked...
    [(batch,)] = sql_rows(db, "SELECT DISTINCT batch FROM outbox")
    assert batch == discord_side.messages[0].nonce  # ...but the claim was committed first
    await store.close()

    store = await open_at(db)
    try:
        await deliver_all(fast_dispatcher(store, discord_side))
        assert len(discord_side.messages) == 1  # the retry got the same message back
        assert states(store) == {"sent": 3}
        assert sql_rows(db, "SELECT DISTINCT message_id FROM outbox") == [(9000,)]
    finally:
        await store.close()


async def test_background_loop_wakes_on_new_stories(store: Store) -> None:
    await subscribe(store)
    await asyncio.sleep(0.01)
    sender = FakeSender()
    d = fast_dispatcher(store, sender, idle=30.0)
    d.start()
    try:
        await asyncio.sleep(0.05)
        await add_stories(store, article("Wake up"))
        await d.notify()
        for _ in range(100):
            if sender.messages:
                break
            await asyncio.sleep(0.01)
        assert len(sender.messages) == 1
        # Deferred rows are picked up when due, without another wake.
        sender.script.append(DeliveryError("rate_limited", retry_after=0.1))
        await add_stories(store, article("Later"))
        d.wake()
        for _ in range(100):
            if len(sender.messages) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(sender.messages) == 2
    finally:
        await d.stop(grace=1.0)
    assert not d.running
