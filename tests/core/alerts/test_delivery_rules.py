"""How alerts land, the rules side: topics the store does not know yet, keyword-only
subscriptions, alert options, `explain` (one function that decides and explains),
"why wasn't this sent?" for each reason, and the preview."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.alerts import matching as alerts
from bot.core.alerts import subscriptions as subs
from bot.core.alerts.delivery import THREAD_NAME_LIMIT
from bot.core.alerts.matching import StoryFacts, SubscriptionRule
from bot.core.store import Store, open_store
from bot.core.store.sqlite import MIGRATIONS, SCHEMA_VERSION, script_statements
from bot.core.store.types import AlertOptions
from tests.core.alerts.test_alerts import CHANNEL, GUILD, USER, add_stories, article
from tests.drivers import sql_execute, sql_rows
from tests.helpers import db_query

NOW = 1_750_000_000.0
HOUR = 3600.0


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


# -- explain: the one rule function ------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "story", "code"),
    [
        (rule(topic_key="robotics"), facts(), "topic"),
        (rule(guild_id=5), facts(visible_to=frozenset({6})), "visibility"),
        (rule(created_at=NOW), facts(first_stored_at=NOW - 1), "before_subscription"),
        (rule(), facts(published_ts=None), "no_date"),
        (rule(), facts(published_ts=NOW - 49 * HOUR), "too_old"),
        (rule(), facts(published_ts=NOW + 3 * 86400), "future"),
        (rule(min_quality=90), facts(), "quality"),
        (rule(keywords=("lidar",)), facts(), "keywords"),
        (rule(topic_key="", keywords=("drone",)), facts(), "keywords"),
    ],
)
def test_explain_names_the_rule_that_stops_a_story(
    r: SubscriptionRule, story: StoryFacts, code: str
) -> None:
    reason = alerts.explain(r, story, now=NOW, max_age=48 * HOUR)
    assert reason is not None and reason.code == code
    assert reason.text
    assert not alerts.matches(r, story, now=NOW, max_age=48 * HOUR)


def test_keyword_only_rule_matches_any_topic() -> None:
    r = rule(topic_key="", keywords=("camera",))
    assert (
        alerts.explain(r, facts(topic_keys=frozenset({"retail"})), now=NOW, max_age=HOUR * 48)
        is None
    )
    assert alerts.explain(r, facts(topic_keys=frozenset()), now=NOW, max_age=HOUR * 48) is None


@pytest.mark.parametrize("seed", range(3))
def test_matches_is_exactly_explain_finding_nothing(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(300):
        r = rule(
            topic_key=rnd.choice(["", "ai", "robotics"]),
            keywords=rnd.choice([(), ("camera",), ("lidar", "arms")]) or ("x",),
            min_quality=rnd.choice([0, 50, 90]),
            created_at=NOW - rnd.choice([0, HOUR, 10 * HOUR]),
        )
        s = facts(
            published_ts=rnd.choice([None, NOW - HOUR, NOW - 60 * HOUR]),
            quality=rnd.choice([None, 40.0, 95.0]),
            first_stored_at=NOW - rnd.choice([30, 5 * HOUR]),
        )
        reason = alerts.explain(r, s, now=NOW, max_age=48 * HOUR)
        assert alerts.matches(r, s, now=NOW, max_age=48 * HOUR) is (reason is None)


# -- subscribing: unknown topics, keyword-only, options -----------------------------------


async def test_unknown_topic_is_accepted_with_a_suggestion_and_alerts_later(
    store: Store,
) -> None:
    await add_stories(store, article("Qubits now", topics=("Quantum Physics",)))
    done = await subs.subscribe(
        store, topic="Quantum Computing", user_id=USER, guild_id=GUILD, channel_id=CHANNEL
    )
    assert (done.outcome, done.known_topic, done.suggestion) == (
        "created",
        False,
        "Quantum Physics",
    )
    assert done.subscription.topic == "Quantum Computing"
    await asyncio.sleep(0.01)
    [new] = await add_stories(store, article("A quantum computer", topics=("Quantum Computing",)))
    assert sql_rows(store, "SELECT subscription_id, article_id FROM outbox") == [
        (done.subscription.id, new)
    ]
    known = await subs.subscribe(
        store, topic="Quantum Physics", user_id=USER, guild_id=GUILD, channel_id=CHANNEL
    )
    assert (known.known_topic, known.suggestion) == (True, None)


async def test_keyword_only_subscription_matches_title_or_excerpt_of_any_topic(
    store: Store,
) -> None:
    done = await subs.subscribe(
        store, topic=None, keywords="lidar", user_id=USER, guild_id=None, channel_id=None
    )
    sub = done.subscription
    assert (sub.topic_key, sub.keyword_only, sub.label) == ("", True, "keywords: lidar")
    await asyncio.sleep(0.01)
    ids = await add_stories(
        store,
        article("Lidar maps streets", topics=("Cars",)),
        article("Chips", topics=("AI",), excerpt="A lidar sensor inside."),
        article("Nothing here", topics=("AI",)),
    )
    rows = sql_rows(store, "SELECT article_id FROM outbox ORDER BY article_id")
    assert [r[0] for r in rows] == sorted(ids[:2])


async def test_subscribe_needs_a_topic_or_keywords(store: Store) -> None:
    with pytest.raises(subs.SubscriptionError, match="topic, keywords"):
        await subs.subscribe(store, topic="  ", user_id=USER, guild_id=None, channel_id=None)


@pytest.mark.parametrize(
    ("options", "personal", "words"),
    [
        (AlertOptions(thread=True), True, "channel alerts"),
        (AlertOptions(mention_role_id=5), True, "channel alerts"),
        (AlertOptions(digest_hour=24), False, "digest_hour"),
        (AlertOptions(max_per_hour=0), False, "max_per_hour"),
        (AlertOptions(digest="weekly"), False, "digest"),  # type: ignore[arg-type]
        (AlertOptions(on_update="repost"), False, "on_update"),  # type: ignore[arg-type]
    ],
)
async def test_bad_options_are_refused_by_name(
    store: Store, options: AlertOptions, personal: bool, words: str
) -> None:
    with pytest.raises(subs.SubscriptionError, match=words):
        await subs.subscribe(
            store,
            topic="AI",
            user_id=USER,
            guild_id=GUILD,
            channel_id=None if personal else CHANNEL,
            options=options,
        )
    assert sql_rows(store, "SELECT count(*) FROM subscriptions") == [(0,)]


async def test_same_filters_new_options_update_the_subscription(store: Store) -> None:
    first = await subs.subscribe(
        store, topic="AI", user_id=USER, guild_id=GUILD, channel_id=CHANNEL
    )
    opts = AlertOptions(mention_role_id=77, thread=True, publish=True, max_per_hour=3)
    again = await subs.subscribe(
        store, topic="AI", user_id=USER, guild_id=GUILD, channel_id=CHANNEL, options=opts
    )
    assert (again.outcome, again.subscription.id) == ("updated", first.subscription.id)
    stored = await subs.get(store, first.subscription.id)
    assert stored is not None and stored.options == opts
    assert "ping <@&77>" in stored.options.describe()
    with pytest.raises(subs.AlreadySubscribed):
        await subs.subscribe(
            store, topic="AI", user_id=USER, guild_id=GUILD, channel_id=CHANNEL, options=opts
        )


async def test_migration_from_the_version_before_keeps_subscriptions_and_rows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    for script in MIGRATIONS[: SCHEMA_VERSION - 1]:
        for stmt in script_statements(script):
            conn.execute(stmt)
    conn.execute(
        "INSERT INTO articles (id, url, link, title, content_hash, first_stored_at, "
        "updated_at) VALUES (1, 'u', 'u', 't', 'h', 0, 0)"
    )
    conn.execute(
        "INSERT INTO subscriptions (id, user_id, target, topic_key, topic, created_at) "
        "VALUES (1, 5, 'user:5', 'ai', 'AI', 0)"
    )
    conn.execute(
        "INSERT INTO outbox (subscription_id, article_id, created_at, state, message_id) "
        "VALUES (1, 1, 0, 'sent', 42)"
    )
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.commit()
    conn.close()
    s = await open_store(db)
    try:
        sub = await subs.get(s, 1)
        assert sub is not None and sub.options == AlertOptions() and sub.options.plain
    finally:
        await s.close()
    assert db_query(db, "SELECT state, message_id, folded FROM outbox") == [("sent", 42, 0)]


# -- why ------------------------------------------------------------------------------


async def _sub(store: Store, **kw: object) -> subs.Subscription:
    args: dict[str, object] = dict(
        topic="Computer Vision", user_id=USER, guild_id=GUILD, channel_id=CHANNEL
    )
    args.update(kw)
    return (await subs.subscribe(store, **args)).subscription  # type: ignore[arg-type]


async def test_why_a_story_stored_before_the_subscription(store: Store) -> None:
    [old] = await add_stories(store, article("Old news"))
    await asyncio.sleep(0.01)
    sub = await _sub(store)
    answer = await subs.why(store, sub.id, old)
    assert answer is not None and answer.verdict == "stopped"
    assert answer.reason is not None and answer.reason.code == "before_subscription"


@pytest.mark.parametrize(
    ("story", "sub_kw", "code"),
    [
        (dict(topics=("Retail",)), {}, "topic"),
        (dict(), dict(keywords="lidar"), "keywords"),
        (dict(quality=40.0), dict(min_quality=70), "quality"),
        (dict(hours_ago=100), {}, "too_old"),
    ],
)
async def test_why_each_rule(
    store: Store, story: dict[str, object], sub_kw: dict[str, object], code: str
) -> None:
    sub = await _sub(store, **sub_kw)
    await asyncio.sleep(0.01)
    [aid] = await add_stories(store, article("Built to be stopped", **story))  # type: ignore[arg-type]
    answer = await subs.why(store, sub.id, aid)
    assert answer is not None and answer.verdict == "stopped", answer
    assert answer.reason is not None and answer.reason.code == code


async def test_why_undated_and_other_servers_stories(store: Store) -> None:
    sub = await _sub(store)
    await asyncio.sleep(0.01)
    undated, foreign = await add_stories(
        store, replace(article("No date"), published=None), article("Their feed"), match_now=False
    )
    async with store.transaction() as tx:
        await tx.add_story_sources([foreign], "feed:9", GUILD + 1)
        await alerts.match_articles(tx, [undated, foreign])
    no_date = await subs.why(store, sub.id, undated)
    other = await subs.why(store, sub.id, foreign)
    assert no_date is not None and no_date.reason is not None
    assert no_date.reason.code == "no_date"
    assert other is not None and other.reason is not None
    assert other.reason.code == "visibility"


async def test_why_sent_pending_held_failed_and_paused(store: Store) -> None:
    sub = await _sub(store)
    daily = await _sub(store, keywords="daily", options=AlertOptions(digest="daily"))
    await asyncio.sleep(0.01)
    sent, pending, failed, daily_story = await add_stories(
        store,
        article("Sent one"),
        article("Waiting one"),
        article("Refused one"),
        article("The daily one"),
    )
    sql_execute(
        store,
        "UPDATE outbox SET state = 'sent', sent_at = 100, message_id = 555 WHERE article_id = ?",
        (sent,),
    )
    sql_execute(
        store,
        "UPDATE outbox SET state = 'failed', last_error = 'bad_request: Invalid Form Body' "
        "WHERE article_id = ?",
        (failed,),
    )
    got = {aid: await subs.why(store, sub.id, aid) for aid in (sent, pending, failed)}
    assert got[sent] is not None and got[sent].verdict == "sent"
    assert got[sent].message_link == f"https://discord.com/channels/{GUILD}/{CHANNEL}/555"
    assert got[pending] is not None and got[pending].verdict == "pending"
    assert got[failed] is not None and got[failed].verdict == "failed"
    assert "Invalid Form Body" in got[failed].text
    held = await subs.why(store, daily.id, daily_story)
    assert held is not None and held.verdict == "held" and held.due_at is not None
    assert held.due_at > time.time()

    await subs.set_status(store, sub.id, "paused", "I lack permission to post there")
    paused = await subs.why(store, sub.id, pending)
    assert paused is not None and paused.verdict == "inactive"
    assert "I lack permission" in paused.text
    assert await subs.why(store, sub.id, 999_999) is None


# -- preview ----------------------------------------------------------------------------


async def test_preview_is_the_newest_matching_story_as_it_would_land(store: Store) -> None:
    long_title = "Cameras " + "very " * 40 + "long title"
    await add_stories(
        store,
        article("Older camera story", hours_ago=200),
        article(long_title, hours_ago=150),
        article("Newest but off topic", hours_ago=1, topics=("Retail",)),
    )
    sub = await _sub(store, options=AlertOptions(mention_role_id=42, thread=True, publish=True))
    shown = await subs.preview(store, sub.id)
    assert shown is not None
    assert [a.title for a in shown.articles] == [long_title]
    assert shown.topic == "Computer Vision"
    d = shown.delivery
    assert d.mention_role_id == 42 and d.publish
    assert d.thread_name is not None and len(d.thread_name) <= THREAD_NAME_LIMIT
    assert d.thread_name.startswith("Cameras very") and d.thread_name.endswith("…")
    assert d.forum_tags == ("Computer Vision",)
    nothing = await _sub(store, topic="Gardening")
    assert await subs.preview(store, nothing.id) is None
