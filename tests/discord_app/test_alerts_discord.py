"""Alerts end to end: the real `NewsBot`, its dispatcher and discord.py against the stand-in.

Records are written into the bot's data folder and loaded the ways a running
bot sees new stories (/admin reload, the periodic rescan, `newsbot load` in
another process); what counts is what the stand-in received.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import bot.discord_app.bot as bot_app
import bot.discord_app.sender as bot_sender
from bot.core.alerts.delivery import PLAIN_DELIVERY, Delivery, SendResult, Target
from bot.core.alerts.dispatch import Dispatcher
from bot.core.records import Article
from bot.discord_app.sender import DiscordSender
from bot.replies.sanitize import plain, unescape
from tests.helpers import PROJECT_ROOT, db_query
from tests.standin.protocol import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, EPHEMERAL

if TYPE_CHECKING:
    from tests.botfixtures import BotHarness, StartNewsBot
    from tests.standin import StandIn

pytest_plugins = ["tests.botfixtures"]

MESSAGES = r"/channels/\d+/messages"


@pytest.fixture(autouse=True)
def fast_dispatcher(monkeypatch: pytest.MonkeyPatch) -> list[Dispatcher]:
    """The bot's real dispatcher and sender, with test-sized timeouts and backoffs."""
    made: list[Dispatcher] = []

    def build(b: bot_app.NewsBot) -> Dispatcher:
        d = Dispatcher(
            b.room.store,
            DiscordSender(b, timeout=0.6),
            backoff=0.05,
            max_backoff=0.2,
            park=0.5,
            idle=0.5,
            grace=0.5,
        )
        made.append(d)
        return d

    monkeypatch.setattr(bot_sender, "build_dispatcher", build)
    return made


# ----------------------------------------------------------------------------- helpers


def iso(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(tz=UTC) - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_record(
    h: BotHarness,
    title: str,
    *,
    topics: Sequence[str] = ("Computer Vision",),
    age: timedelta = timedelta(hours=1),
    **fields: Any,
) -> None:
    fields.setdefault("excerpt", f"What happened: {title.lower()}.")
    fields.setdefault("quality", 80)
    fields.setdefault("provider", {"name": "Example News", "domain": "example.com"})
    h.write_record(
        f"new-{plain(title).lower().replace(' ', '-')}.md",
        title=title,
        publishedDateTime=iso(age),
        topics=list(topics),
        **fields,
    )


async def reload(h: BotHarness) -> None:
    """/admin reload, as a server admin would."""
    it, cb = await h.answer("admin reload", user="admin")
    assert cb.json["type"] == DEFERRED_CHANNEL_MESSAGE
    await it.wait_followup(timeout=5.0)


def said(cb: Any) -> str:
    """What an interaction answer says: its content, or its embeds' text."""
    return said_in(cb.json["data"])


def said_in(data: dict[str, Any]) -> str:
    """What a message body says: its content, or its embeds' text."""
    if data.get("content"):
        return str(data["content"])
    parts = []
    for e in data["embeds"]:
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return unescape("\n".join(parts))


async def ask(
    h: BotHarness,
    command: str,
    options: dict[str, Any] | None = None,
    *,
    user: str = "admin",
    **context: Any,
) -> str:
    it, cb = await h.answer(command, options, user=user, **context)
    if cb.json["type"] == DEFERRED_CHANNEL_MESSAGE:
        # A busy machine: the answer took longer than DEFER_AFTER, so the bot deferred
        # (privately) and followed up, as `commands.common.deliver` does.
        assert cb.json["data"]["flags"] == EPHEMERAL
        body = (await it.wait_followup(timeout=5.0)).json
    else:
        assert cb.json["type"] == CHANNEL_MESSAGE, cb.json
        body = cb.json["data"]
    assert body["flags"] == EPHEMERAL
    return said_in(body)


def channel_option(h: BotHarness, name: str, user: str = "admin") -> dict[str, Any]:
    """A channel option as Discord resolves it: with the invoker's permissions there."""
    world = h.standin.world
    return {**world.channel(name), "permissions": str(world.permissions_for(user, channel=name))}


async def subscribe_channel(h: BotHarness, channel: str = "alerts", **options: Any) -> str:
    text = await ask(
        h,
        "subscribe",
        {"topic": "Computer Vision", "channel": channel_option(h, channel), **options},
    )
    assert text.startswith("Subscribed"), text
    return text


async def wait_messages(standin: StandIn, channel: str | int, n: int, within: float = 5.0) -> list:
    return await standin.wait_until(
        lambda: (m := standin.messages_in(channel)) and len(m) >= n and m,
        timeout=within,
        what=f"{n} message(s) in {channel}",
    )


async def settle(h: BotHarness, seconds: float = 0.4) -> None:
    """Give the dispatcher time to do what it should not (a second message)."""
    await asyncio.sleep(seconds)


def outbox(h: BotHarness) -> list[tuple]:
    return db_query(
        h.settings.db_path, "SELECT state, message_id, last_error FROM outbox ORDER BY id"
    )


async def poll(predicate: Callable[[], object], what: str, within: float = 5.0) -> None:
    """Wait for a condition outside the stand-in (which only wakes its own waiters)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


async def wait_outbox(h: BotHarness, states: list[str]) -> None:
    await poll(lambda: [s for s, _, _ in outbox(h)] == states, f"outbox states {states}")


def status(h: BotHarness) -> list[str]:
    return [s for (s,) in db_query(h.settings.db_path, "SELECT status FROM subscriptions")]


def alert_posts(standin: StandIn, channel: str) -> list:
    cid = standin.world.channel(channel)["id"]
    return standin.find_requests("POST", rf"/channels/{cid}/messages")


# ------------------------------------------------------------------------- delivery


async def test_one_story_one_message_even_after_reload_and_restart(
    start_newsbot: StartNewsBot,
) -> None:
    title = "Retail cameras learn to count shelves"
    async with start_newsbot() as h:
        await subscribe_channel(h)
        new_record(h, title)
        await reload(h)
        [msg] = await wait_messages(h.standin, "alerts", 1)
        [e] = msg["embeds"]
        assert unescape(e["title"]) == title
        assert e["footer"]["text"] == "🔔 New in Computer Vision"
        assert h.standin.allowed_mentions[msg["id"]] == {"parse": []}
        [post] = alert_posts(h.standin, "alerts")
        assert post.json["enforce_nonce"] is True and len(post.json["nonce"]) <= 25
        # The embed is the /news story embed (compact: alerts carry fewer details).
        _, cb = await h.answer("news", {"query": title})
        news = cb.json["data"]["embeds"][0]
        for key in ("title", "url", "author", "timestamp"):
            assert e[key] == news[key], key
        assert news["description"].startswith(e["description"].rstrip("…"))
        buttons = [c for row in msg["components"] for c in row["components"]]
        assert [b["url"] for b in buttons][:1] == [news["url"]]
        await wait_outbox(h, ["sent"])
        assert outbox(h) == [("sent", int(msg["id"]), None)]
        await reload(h)  # nothing changed
        h.write_record("unrelated.md", title="Unrelated", publishedDateTime=iso(), topics=["Law"])
        await reload(h)
        await settle(h)
        assert len(h.standin.messages_in("alerts")) == 1
    async with start_newsbot() as h:  # a restart
        await settle(h)
        assert len(h.standin.messages_in("alerts")) == 1
        assert len(alert_posts(h.standin, "alerts")) == 1


async def test_non_matching_and_old_records_send_nothing(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe_channel(h, keywords="shelves", min_quality=50)
    new_record(h, "A robotics story", topics=("Robotics",), excerpt="Shelves and robots.")
    new_record(h, "Old vision story about shelves", age=timedelta(days=5))
    new_record(h, "Vision story without the keyword")
    new_record(h, "Low quality vision story about shelves", quality=20)
    await reload(h)
    await settle(h)
    assert h.standin.messages_in("alerts") == []
    assert outbox(h) == []


async def test_ten_new_records_make_one_digest(newsbot: BotHarness) -> None:
    h = newsbot
    h.standin.ratelimits.enable_defaults()
    await subscribe_channel(h)
    titles = [f"Vision item number {i}" for i in range(10)]
    for i, t in enumerate(titles):
        new_record(h, t, age=timedelta(hours=10 - i))  # item 0 is the oldest
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    assert [unescape(e["title"]) for e in msg["embeds"]] == titles  # by publication
    await settle(h)
    assert len(h.standin.messages_in("alerts")) == 1
    assert h.standin.ratelimits.hits == 0
    await wait_outbox(h, ["sent"] * 10)


async def test_personal_subscription_arrives_by_dm(newsbot: BotHarness) -> None:
    h = newsbot
    text = await ask(h, "subscribe", {"topic": "computer visoin"}, user="alice")  # a typo
    assert "New Computer Vision stories will be posted to you by DM" in text
    new_record(h, "Glasses that read street signs aloud")
    await reload(h)
    alice = str(h.user_id("alice"))
    dm = await h.standin.wait_until(lambda: h.standin.world.dm_channels.get(alice), what="a DM")
    [msg] = await wait_messages(h.standin, dm["id"], 1)
    assert unescape(msg["embeds"][0]["title"]) == "Glasses that read street signs aloud"


async def test_stories_from_rescan_and_from_newsbot_load_in_another_process(
    start_newsbot: StartNewsBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bot_app, "GENERATION_POLL_SECONDS", 0.2)
    async with start_newsbot(rescan_seconds=0.3) as h:
        await subscribe_channel(h)
        new_record(h, "Found by the periodic rescan")
        [first] = await wait_messages(h.standin, "alerts", 1)
        assert unescape(first["embeds"][0]["title"]) == "Found by the periodic rescan"

        elsewhere = tmp_path / "incoming"
        elsewhere.mkdir()
        from tests.helpers import write_record

        write_record(
            elsewhere,
            "cli.md",
            title="Loaded by newsbot load",
            publishedDateTime=iso(),
            topics=["Computer Vision"],
        )
        env = {**os.environ, "NEWSBOT_DB": str(h.settings.db_path), "PYTHONPATH": str(PROJECT_ROOT)}
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli.main", "load", str(elsewhere)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        msgs = await wait_messages(h.standin, "alerts", 2)
        assert unescape(msgs[1]["embeds"][0]["title"]) == "Loaded by newsbot load"


# --------------------------------------------------------------------------- failures


async def test_429_then_success_is_one_message_after_retry_after(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe_channel(h)
    cid = h.standin.world.channel("alerts")["id"]
    h.standin.faults.rate_limit(rf"/channels/{cid}/messages", method="POST", retry_after=0.3)
    new_record(h, "Rate limited story")
    await reload(h)
    await wait_messages(h.standin, "alerts", 1)
    first, second = alert_posts(h.standin, "alerts")
    assert (first.status, second.status) == (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.OK)
    assert second.at - first.at >= 0.3
    assert first.json["nonce"] == second.json["nonce"]
    await settle(h)
    assert len(h.standin.messages_in("alerts")) == 1


async def test_429_past_discord_py_retries_is_deferred_by_the_dispatcher(
    newsbot: BotHarness,
) -> None:
    h = newsbot
    await subscribe_channel(h)
    cid = h.standin.world.channel("alerts")["id"]
    # discord.py tries 5 times; a 429 on the last one reaches the dispatcher.
    h.standin.faults.rate_limit(
        rf"/channels/{cid}/messages", method="POST", retry_after=0.05, times=5
    )
    new_record(h, "Stubbornly limited story")
    await reload(h)
    await wait_messages(h.standin, "alerts", 1)
    posts = alert_posts(h.standin, "alerts")
    assert [p.status for p in posts] == [HTTPStatus.TOO_MANY_REQUESTS] * 5 + [HTTPStatus.OK]
    assert len({p.json["nonce"] for p in posts}) == 1
    await wait_outbox(h, ["sent"])


async def test_500_three_times_is_still_delivered(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe_channel(h)
    cid = h.standin.world.channel("alerts")["id"]
    h.standin.faults.server_error(rf"/channels/{cid}/messages", method="POST", times=3)
    new_record(h, "Delivered despite a flaky Discord")
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1, within=10.0)
    posts = alert_posts(h.standin, "alerts")
    assert [p.status for p in posts] == [HTTPStatus.INTERNAL_SERVER_ERROR] * 3 + [HTTPStatus.OK]
    assert len({p.json["nonce"] for p in posts}) == 1
    await settle(h)
    assert len(h.standin.messages_in("alerts")) == 1
    await wait_outbox(h, ["sent"])
    assert outbox(h) == [("sent", int(msg["id"]), None)]


async def test_403_pauses_visibly_and_subscribing_again_resumes(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe_channel(h)
    cid = h.standin.world.channel("alerts")["id"]
    h.standin.faults.missing_permissions(rf"/channels/{cid}/messages", method="POST")
    new_record(h, "Held back by permissions")
    await reload(h)
    await poll(lambda: status(h) == ["paused"], "the subscription to be paused")
    text = await ask(h, "subscriptions list", user="admin")
    assert "Computer Vision → #alerts" in text
    assert "paused: I lack permission to post there" in text
    assert h.standin.messages_in("alerts") == []
    assert [s for s, _, _ in outbox(h)] == ["pending"]  # kept
    text = await ask(
        h, "subscribe", {"topic": "Computer Vision", "channel": channel_option(h, "alerts")}
    )
    assert text.startswith("Subscription resumed")
    [msg] = await wait_messages(h.standin, "alerts", 1)
    assert unescape(msg["embeds"][0]["title"]) == "Held back by permissions"


async def test_404_unknown_channel_disables(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe_channel(h)
    cid = h.standin.world.channel("alerts")["id"]
    h.standin.faults.unknown_channel(rf"/channels/{cid}/messages", method="POST", times=None)
    new_record(h, "Nowhere to go")
    await reload(h)
    await poll(lambda: status(h) == ["disabled"], "the subscription to be disabled")
    text = await ask(h, "subscriptions list")
    assert "disabled: the channel no longer exists" in text
    assert len(alert_posts(h.standin, "alerts")) == 1  # tried once, not hammered
    assert [s for s, _, _ in outbox(h)] == ["pending"]  # never deleted


async def test_dm_closed_pauses_the_personal_subscription(newsbot: BotHarness) -> None:
    h = newsbot
    h.standin.world.closed_dms.add(str(h.user_id("alice")))
    await ask(h, "subscribe", {"topic": "Computer Vision"}, user="alice")
    new_record(h, "Cannot reach alice")
    await reload(h)
    await poll(lambda: status(h) == ["paused"], "the subscription to be paused")
    text = await ask(h, "subscriptions list", user="alice")
    assert "Computer Vision → DM" in text and "paused: your DMs are closed to me" in text


async def test_killed_between_acceptance_and_marking_no_duplicate_nothing_lost(
    start_newsbot: StartNewsBot, monkeypatch: pytest.MonkeyPatch, fast_dispatcher: list
) -> None:
    accepted: list[SendResult] = []
    real_build = bot_sender.build_dispatcher

    class DiesAfterAccept(DiscordSender):
        async def send(
            self,
            target: Target,
            articles: Sequence[Article],
            *,
            topic: str,
            nonce: str,
            delivery: Delivery = PLAIN_DELIVERY,
        ) -> SendResult:
            if accepted:  # the process is dead: nothing more happens
                await asyncio.Event().wait()
            accepted.append(
                await super().send(target, articles, topic=topic, nonce=nonce, delivery=delivery)
            )
            raise asyncio.CancelledError  # killed before the outbox is marked

    def build_dying(b: bot_app.NewsBot) -> Dispatcher:
        d = real_build(b)
        d.sender = DiesAfterAccept(b, timeout=0.6)
        return d

    monkeypatch.setattr(bot_sender, "build_dispatcher", build_dying)
    async with start_newsbot() as h:
        await subscribe_channel(h)
        for i in range(3):
            new_record(h, f"Crash story {i}", age=timedelta(hours=3 - i))
        await reload(h)
        await poll(lambda: accepted, "Discord to accept")
        assert len(h.standin.messages_in("alerts")) == 1
        assert [s for s, _, _ in outbox(h)] == ["pending"] * 3
    monkeypatch.setattr(bot_sender, "build_dispatcher", real_build)
    async with start_newsbot() as h:  # restarted
        await wait_outbox(h, ["sent"] * 3)
        [msg] = h.standin.messages_in("alerts")
        assert len(msg["embeds"]) == 3
        posts = alert_posts(h.standin, "alerts")
        assert len(posts) == 2 and posts[0].json["nonce"] == posts[1].json["nonce"]
        assert posts[0].response["id"] == posts[1].response["id"]  # Discord deduplicated
        assert {m for _, m, _ in outbox(h)} == {int(msg["id"])}


# --------------------------------------------------------------------------- commands


async def test_subscribe_checks_permissions_up_front(newsbot: BotHarness) -> None:
    h = newsbot
    alerts_ch = channel_option(h, "alerts", "alice")
    text = await ask(
        h, "subscribe", {"topic": "Computer Vision", "channel": alerts_ch}, user="alice"
    )
    assert "You need the Manage Channels permission in #alerts" in text
    for name, missing in (("muted", "Send Messages"), ("locked", "View Channel")):
        text = await ask(
            h, "subscribe", {"topic": "Computer Vision", "channel": channel_option(h, name)}
        )
        assert f"I can't post alerts in #{name}" in text and missing in text
    assert db_query(h.settings.db_path, "SELECT count(*) FROM subscriptions") == [(0,)]


async def test_subscribe_twice_and_limits(start_newsbot: StartNewsBot) -> None:
    async with start_newsbot(max_subs_per_user=1, max_subs_per_guild=1) as h:
        await subscribe_channel(h)
        text = await ask(
            h, "subscribe", {"topic": "Computer Vision", "channel": channel_option(h, "alerts")}
        )
        assert "Already subscribed to Computer Vision in that channel" in text
        text = await ask(
            h, "subscribe", {"topic": "Computer Vision", "channel": channel_option(h, "news")}
        )
        assert "This server already has 1 channel subscriptions (the limit is 1)" in text
        await ask(h, "subscribe", {"topic": "Computer Vision"}, user="alice")
        text = await ask(h, "subscribe", {"topic": "AI"}, user="alice")
        assert "You already have 1 personal subscriptions (the limit is 1)" in text


async def test_topic_autocomplete(newsbot: BotHarness) -> None:
    _, choices = await newsbot.choices("subscribe", {"topic": "comp"})
    assert "Computer Vision" in [c["name"] for c in choices]


async def test_unsubscribe_offers_and_allows_only_what_the_user_may_remove(
    newsbot: BotHarness,
) -> None:
    h = newsbot
    await subscribe_channel(h)
    await ask(h, "subscribe", {"topic": "AI"}, user="alice")
    _, alice_sees = await h.choices("unsubscribe", {"subscription": ""}, user="alice")
    assert [c["name"] for c in alice_sees] == ["AI → DM"]
    _, admin_sees = await h.choices("unsubscribe", {"subscription": "vision"}, user="admin")
    assert [c["name"] for c in admin_sees] == ["Computer Vision → #alerts"]
    channel_sub = admin_sees[0]["value"]
    text = await ask(h, "unsubscribe", {"subscription": channel_sub}, user="alice")
    assert "You can remove your own subscriptions" in text
    text = await ask(h, "unsubscribe", {"subscription": alice_sees[0]["value"]}, user="admin")
    assert "You can remove your own subscriptions" in text  # a DM subscription is alice's alone
    text = await ask(h, "unsubscribe", {"subscription": channel_sub}, user="admin")
    assert text.startswith("Unsubscribed") and "Computer Vision → #alerts" in text
    new_record(h, "After unsubscribing")
    await reload(h)
    await settle(h)
    assert h.standin.messages_in("alerts") == []


async def test_subscriptions_lists_the_servers_and_your_own(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe_channel(h, keywords="Shelves cameras", min_quality=70)
    await ask(h, "subscribe", {"topic": "AI"}, user="alice")
    text = await ask(h, "subscriptions list", user="alice")
    assert "Alerts in this server" in text and "Your DM alerts" in text
    assert "Computer Vision → #alerts: active\nkeywords: shelves cameras · quality ≥ 70" in text
    assert "AI → DM: active" in text
    text = await ask(h, "subscriptions list", user="mod")
    assert "AI → DM" not in text and "None yet" in text
