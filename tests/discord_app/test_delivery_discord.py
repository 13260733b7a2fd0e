"""How alerts land, end to end: `/subscribe` options, the real `NewsBot`, its dispatcher
and `DiscordSender`, discord.py against the stand-in. What counts is what the stand-in
received: who was pinged, which threads and forum posts exist, what was crossposted,
which messages were edited, which notices were posted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

import bot.discord_app.bot as bot_app
import bot.discord_app.sender as bot_sender
from bot.core.alerts.delivery import PLAIN_DELIVERY, Delivery, SendResult, Target
from bot.core.alerts.dispatch import Dispatcher
from bot.core.records import Article
from bot.discord_app.sender import DiscordSender
from bot.replies.sanitize import unescape
from tests.helpers import db_query
from tests.standin.protocol import (
    CHANNEL_MESSAGE,
    CROSSPOSTED,
    CROSSPOSTS_PER_HOUR,
    DEFERRED_CHANNEL_MESSAGE,
    EPHEMERAL,
)

if TYPE_CHECKING:
    from tests.botfixtures import BotHarness, StartNewsBot
    from tests.standin import StandIn

pytest_plugins = ["tests.botfixtures"]

THREADS = r"/channels/\d+/messages/\d+/threads"
FORUM_POSTS = r"/channels/\d+/threads"
CROSSPOSTS = r"/channels/\d+/messages/\d+/crosspost"


@pytest.fixture(autouse=True)
def fast_dispatcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's real dispatcher and sender, with test-sized timeouts and backoffs."""

    def build(b: bot_app.NewsBot) -> Dispatcher:
        return Dispatcher(
            b.room.store,
            DiscordSender(b, timeout=0.6, publish_timeout=0.3),
            backoff=0.05,
            max_backoff=0.2,
            park=0.5,
            idle=0.5,
            grace=0.5,
        )

    monkeypatch.setattr(bot_sender, "build_dispatcher", build)


# ----------------------------------------------------------------------------- helpers


def iso(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(tz=UTC) - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_record(
    h: BotHarness,
    title: str,
    *,
    topics: Sequence[str] = ("Computer Vision",),
    age: timedelta = timedelta(hours=1),
    name: str | None = None,
    **fields: Any,
) -> None:
    fields.setdefault("excerpt", f"What happened: {title.lower()}.")
    fields.setdefault("quality", 80)
    fields.setdefault("provider", {"name": "Example News", "domain": "example.com"})
    h.write_record(
        name or f"new-{abs(hash(title))}.md",
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


async def reply(
    h: BotHarness, command: str, options: dict[str, Any] | None = None, *, user: str = "admin"
) -> dict[str, Any]:
    """The private answer to a command (the message data, whether deferred or not)."""
    it, cb = await h.answer(command, options, user=user)
    if cb.json["type"] == DEFERRED_CHANNEL_MESSAGE:
        followup = await it.wait_followup(timeout=5.0)
        data = followup.json
    else:
        assert cb.json["type"] == CHANNEL_MESSAGE, cb.json
        data = cb.json["data"]
    assert data["flags"] & EPHEMERAL
    return data


def said(data: dict[str, Any]) -> str:
    parts = [data.get("content") or ""]
    for e in data.get("embeds", []):
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return unescape("\n".join(p for p in parts if p))


def bare(embed: dict[str, Any]) -> dict[str, Any]:
    """An embed without the fields Discord fills in when it stores one."""
    return {k: v for k, v in embed.items() if k not in ("type", "content_scan_version")}


def channel_option(h: BotHarness, name: str, user: str = "admin") -> dict[str, Any]:
    """A channel option as Discord resolves it: with the invoker's permissions there."""
    world = h.standin.world
    return {**world.channel(name), "permissions": str(world.permissions_for(user, channel=name))}


async def subscribe(h: BotHarness, channel: str | None = "alerts", **options: Any) -> str:
    opts: dict[str, Any] = {"topic": "Computer Vision", **options}
    if channel is not None:
        opts["channel"] = channel_option(h, channel)
    text = said(await reply(h, "subscribe", opts))
    assert text.startswith("Subscri"), text
    return text


async def wait_messages(standin: StandIn, channel: str | int, n: int, within: float = 5.0) -> list:
    return await standin.wait_until(
        lambda: (m := standin.messages_in(channel)) and len(m) >= n and m,
        timeout=within,
        what=f"{n} message(s) in {channel}",
    )


async def poll(predicate: Callable[[], object], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


def outbox_states(h: BotHarness) -> list[str]:
    return [s for (s,) in db_query(h.settings.db_path, "SELECT state FROM outbox ORDER BY id")]


def status(h: BotHarness) -> list[str]:
    return [s for (s,) in db_query(h.settings.db_path, "SELECT status FROM subscriptions")]


def role(h: BotHarness, name: str) -> dict[str, Any]:
    return h.standin.world.role(name)


# ------------------------------------------------------------------------- mentions


async def test_role_ping_allows_only_that_role_and_article_text_never_pings(
    newsbot: BotHarness,
) -> None:
    h = newsbot
    fans, quiet = role(h, "Vision fans"), role(h, "Quiet role")
    await subscribe(h, mention=fans)
    new_record(
        h,
        f"@everyone look: <@&{quiet['id']}> cameras",
        excerpt=f"@here <@&{fans['id']}> <@{h.user_id('alice')}> read this",
    )
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    assert msg["content"] == f"<@&{fans['id']}>"
    assert msg["mention_roles"] == [fans["id"]]
    assert msg["mention_everyone"] is False and msg["mentions"] == []
    allowed = h.standin.allowed_mentions[msg["id"]]
    assert allowed["parse"] == [] and [str(r) for r in allowed["roles"]] == [fans["id"]]


async def test_mention_refuses_roles_that_cannot_be_pinged(newsbot: BotHarness) -> None:
    h = newsbot
    text = said(
        await reply(
            h,
            "subscribe",
            {
                "topic": "AI",
                "channel": channel_option(h, "alerts"),
                "mention": role(h, "Quiet role"),
            },
        )
    )
    assert "@Quiet role is not mentionable, and I lack the Mention Everyone" in text
    everyone = h.standin.world.role(h.standin.world.guild()["id"])
    text = said(
        await reply(
            h,
            "subscribe",
            {"topic": "AI", "channel": channel_option(h, "alerts"), "mention": everyone},
        )
    )
    assert "never ping @everyone" in text
    text = said(await reply(h, "subscribe", {"topic": "AI", "mention": role(h, "Vision fans")}))
    assert "`mention` is for channel alerts" in text
    assert db_query(h.settings.db_path, "SELECT count(*) FROM subscriptions") == [(0,)]


# -------------------------------------------------------------------------- threads


async def test_thread_per_story_named_after_it_within_100_chars(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe(h, thread=True)
    title = "Cameras that count shelves in every supermarket aisle " * 3
    new_record(h, title)
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    await h.standin.wait_until(lambda: h.standin.world.threads_of("alerts"), what="a thread")
    [thread] = h.standin.world.threads_of("alerts")
    assert thread["id"] == msg["id"]  # started from the alert
    assert len(thread["name"]) <= 100
    assert " ".join(title.split()).startswith(thread["name"].rstrip("…").rstrip())
    await poll(lambda: outbox_states(h) == ["sent"], "the alert marked sent")


async def test_forum_post_per_story_with_matching_tags(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe(h, "discussions")
    tags = {t["name"]: t["id"] for t in h.standin.world.channel("discussions")["available_tags"]}
    new_record(h, "Robots learn to see", topics=("Computer Vision", "Robotics", "Law"))
    await reload(h)
    await h.standin.wait_until(lambda: h.standin.world.threads_of("discussions"), what="a post")
    [post] = h.standin.world.threads_of("discussions")
    assert post["name"] == "Robots learn to see"
    assert sorted(post["applied_tags"]) == sorted([tags["Computer Vision"], tags["Robotics"]])
    [starter] = await wait_messages(h.standin, post["id"], 1)
    assert unescape(starter["embeds"][0]["title"]) == "Robots learn to see"
    forum_id = h.standin.world.channel("discussions")["id"]
    assert h.standin.find_requests("POST", rf"/channels/{forum_id}/messages") == []
    await poll(lambda: outbox_states(h) == ["sent"], "the post marked sent")


# ----------------------------------------------------------------------- crossposts


async def test_crosspost_then_the_eleventh_within_the_hour_unpublished_across_a_restart(
    start_newsbot: StartNewsBot,
) -> None:
    n = CROSSPOSTS_PER_HOUR
    async with start_newsbot() as h:
        await subscribe(h, "announcements", publish=True)
        for i in range(n):  # one load each: stories loaded together share a digest
            new_record(h, f"Announced vision story {i}", age=timedelta(minutes=n - i))
            await reload(h)
            await wait_messages(h.standin, "announcements", i + 1, within=10.0)  # paced: 5 in 5 s
        await poll(lambda: outbox_states(h) == ["sent"] * n, "all sent")
        assert all(m["flags"] & CROSSPOSTED for m in h.standin.messages_in("announcements"))
    async with start_newsbot() as h:  # restarted: the hour's count is remembered
        new_record(h, "The eleventh announced story")
        await reload(h)
        msgs = await wait_messages(h.standin, "announcements", n + 1)
        await poll(lambda: outbox_states(h) == ["sent"] * (n + 1), "the 11th sent")
        assert unescape(msgs[-1]["embeds"][0]["title"]) == "The eleventh announced story"
        assert not msgs[-1]["flags"] & CROSSPOSTED  # posted, not dropped, not published
        crossposts = h.standin.find_requests("POST", CROSSPOSTS)
        assert len(crossposts) == n  # the bot knew its budget: it did not even try
        assert all(r.status == HTTPStatus.OK for r in crossposts)


async def test_publish_is_refused_outside_announcement_channels(newsbot: BotHarness) -> None:
    text = said(
        await reply(
            newsbot,
            "subscribe",
            {"topic": "AI", "channel": channel_option(newsbot, "alerts"), "publish": True},
        )
    )
    assert "#alerts is not one" in text


# -------------------------------------------------------------------------- preview


async def test_preview_is_private_and_equals_what_is_later_sent(newsbot: BotHarness) -> None:
    h = newsbot
    fans = role(h, "Vision fans")
    await subscribe(h, mention=fans, thread=True)
    [(sub_id,)] = db_query(h.settings.db_path, "SELECT id FROM subscriptions")
    cid = h.standin.world.channel("alerts")["id"]
    h.standin.faults.missing_permissions(rf"/channels/{cid}/messages", method="POST")
    new_record(h, "Glasses that read street signs aloud")
    await reload(h)
    await poll(lambda: status(h) == ["paused"], "the subscription paused")
    _, offered = await h.choices("subscriptions preview", {"subscription": "vision"})
    assert [c["value"] for c in offered] == [str(sub_id)]
    preview = await reply(h, "subscriptions preview", {"subscription": str(sub_id)})
    assert preview["content"] == f"<@&{fans['id']}>"  # shown ...
    assert preview["allowed_mentions"] == {"parse": []}  # ... but it pings nobody
    assert "Starts a thread" in said(preview)
    await subscribe(h, mention=fans, thread=True)  # resumes it
    [msg] = await wait_messages(h.standin, "alerts", 1)
    assert msg["content"] == preview["content"]
    sent = [bare(e) for e in msg["embeds"]]
    assert [bare(e) for e in preview["embeds"][: len(sent)]] == sent
    assert preview["components"] == msg["components"]


async def test_preview_with_nothing_to_show_and_only_to_who_may_see_it(
    newsbot: BotHarness,
) -> None:
    h = newsbot
    await subscribe(h, "staff", topic="Quantum Computing Tomorrow")
    [(sub_id,)] = db_query(h.settings.db_path, "SELECT id FROM subscriptions")
    text = said(await reply(h, "subscriptions preview", {"subscription": str(sub_id)}))
    assert "Nothing to preview yet" in text
    # alice cannot see #staff: neither offered nor shown.
    _, offered = await h.choices("subscriptions preview", {"subscription": ""}, user="alice")
    assert offered == []
    text = said(
        await reply(h, "subscriptions preview", {"subscription": str(sub_id)}, user="alice")
    )
    assert "Pick a subscription from the list" in text


# ------------------------------------------------------------------ failure notices


async def test_pause_posts_one_notice_and_a_second_403_none(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe(h)
    await subscribe(h, topic="AI")  # two subscriptions of one channel: one state change
    cid = h.standin.world.channel("alerts")["id"]
    h.standin.faults.missing_permissions(rf"/channels/{cid}/messages", method="POST", times=None)
    new_record(h, "Held back by permissions", topics=("Computer Vision", "AI"))
    await reload(h)
    await poll(lambda: status(h) == ["paused", "paused"], "both subscriptions paused")
    [notice] = await wait_messages(h.standin, "general", 1)  # the system channel
    text = unescape(notice["embeds"][0]["description"])
    assert "paused" in text and "Computer Vision" in text and "AI" in text
    assert f"<#{cid}>" in notice["embeds"][0]["description"]  # a link to the channel
    assert notice["mention_everyone"] is False and notice["mention_roles"] == []
    # More stories, more refusals queued: no second notice, no hammering.
    new_record(h, "Another story while paused")
    await reload(h)
    await asyncio.sleep(1.0)  # two of the dispatcher's idle re-checks
    assert len(h.standin.messages_in("general")) == 1
    assert len(h.standin.find_requests("POST", rf"/channels/{cid}/messages")) == 1


async def test_notice_goes_to_the_creator_when_the_server_has_no_system_channel(
    start_newsbot: StartNewsBot, standin: StandIn
) -> None:
    standin.world.set_system_channel(standin.world.guild(), None)
    async with start_newsbot() as h:
        await subscribe(h)
        cid = h.standin.world.channel("alerts")["id"]
        h.standin.faults.unknown_channel(rf"/channels/{cid}/messages", method="POST", times=None)
        new_record(h, "Nowhere to go")
        await reload(h)
        await poll(lambda: status(h) == ["disabled"], "the subscription disabled")
        admin = str(h.user_id("admin"))
        dm = await h.standin.wait_until(lambda: h.standin.world.dm_channels.get(admin), what="DM")
        [notice] = await wait_messages(h.standin, dm["id"], 1)
        assert "no longer exists" in unescape(notice["embeds"][0]["description"])


# -------------------------------------------------------------------------- edits


async def test_an_edited_story_edits_its_alert_and_posts_nothing_new(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe(h, on_update="edit")
    new_record(h, "First version of the headline", name="edited.md", webUrl="https://example.com/e")
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    await poll(lambda: outbox_states(h) == ["sent"], "sent")
    new_record(
        h,
        "Second version of the headline",
        name="edited.md",
        webUrl="https://example.com/e",
        excerpt="Now with more detail.",
    )
    await reload(h)
    await h.standin.wait_until(
        lambda: unescape(msg["embeds"][0]["title"]) == "Second version of the headline",
        what="the alert edited",
    )
    await asyncio.sleep(0.3)
    assert len(h.standin.messages_in("alerts")) == 1
    cid = h.standin.world.channel("alerts")["id"]
    assert len(h.standin.find_requests("POST", rf"/channels/{cid}/messages")) == 1
    assert msg["edited_timestamp"] is not None


async def test_without_on_update_an_edited_story_is_left_alone(newsbot: BotHarness) -> None:
    h = newsbot
    await subscribe(h)
    new_record(h, "Original headline", name="same.md", webUrl="https://example.com/s")
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    await poll(lambda: outbox_states(h) == ["sent"], "sent")
    new_record(h, "Changed headline", name="same.md", webUrl="https://example.com/s")
    await reload(h)
    await asyncio.sleep(0.4)
    assert h.standin.messages_in("alerts") == [msg]
    assert msg["edited_timestamp"] is None
    assert h.standin.find_requests("PATCH", r"/channels/\d+/messages/\d+") == []


# -------------------------------------------------------------- exactly once, crashes


class DiesAfterAccept(DiscordSender):
    """A sender whose process dies once Discord accepted the first message (and started
    its thread or post), before the outbox is marked."""

    accepted: ClassVar[list[SendResult]] = []

    async def send(
        self,
        target: Target,
        articles: Sequence[Article],
        *,
        topic: str,
        nonce: str,
        delivery: Delivery = PLAIN_DELIVERY,
    ) -> SendResult:
        if self.accepted:  # the process is dead: nothing more happens
            await asyncio.Event().wait()
        result = await super().send(target, articles, topic=topic, nonce=nonce, delivery=delivery)
        self.accepted.append(result)
        raise asyncio.CancelledError  # killed before the outbox is marked

    async def find_thread(self, target: Target, name: str) -> int | None:
        if self.accepted:
            await asyncio.Event().wait()
        return await super().find_thread(target, name)


@pytest.mark.parametrize("channel", ["alerts", "discussions"])
async def test_killed_after_the_thread_was_made_no_second_thread_or_post(
    start_newsbot: StartNewsBot, monkeypatch: pytest.MonkeyPatch, channel: str
) -> None:
    real_build = bot_sender.build_dispatcher
    DiesAfterAccept.accepted = []

    def build_dying(b: bot_app.NewsBot) -> Dispatcher:
        d = real_build(b)
        d.sender = DiesAfterAccept(b, timeout=0.6)
        return d

    monkeypatch.setattr(bot_sender, "build_dispatcher", build_dying)
    async with start_newsbot() as h:
        await subscribe(h, channel, thread=True)
        new_record(h, "A story worth a thread")
        await reload(h)
        await poll(lambda: DiesAfterAccept.accepted, "Discord to accept")
        assert len(h.standin.world.threads_of(channel)) == 1
        assert outbox_states(h) == ["pending"]
    monkeypatch.setattr(bot_sender, "build_dispatcher", real_build)
    async with start_newsbot() as h:  # restarted
        await poll(lambda: outbox_states(h) == ["sent"], "the alert marked sent")
        await asyncio.sleep(0.3)
        [thread] = h.standin.world.threads_of(channel)
        assert thread["name"] == "A story worth a thread"
        made = h.standin.find_requests("POST", FORUM_POSTS if channel == "discussions" else THREADS)
        assert len([r for r in made if r.ok]) == 1
        # It looked for the thread before making another (threads take no nonce).
        assert h.standin.find_requests("GET", r"/guilds/\d+/threads/active")
        [(message_id,)] = db_query(h.settings.db_path, "SELECT message_id FROM outbox")
        assert str(message_id) == thread["id"]


# ------------------------------------------------------------------- why, subscribing


async def test_why_says_when_it_was_sent_with_a_link_and_what_stopped_another(
    newsbot: BotHarness,
) -> None:
    h = newsbot
    await subscribe(h, keywords="shelves")
    [(sub_id,)] = db_query(h.settings.db_path, "SELECT id FROM subscriptions")
    new_record(h, "Cameras count shelves")
    new_record(h, "Cameras count cars")
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    await poll(lambda: outbox_states(h) == ["sent"], "sent")
    _, offered = await h.choices(
        "subscriptions why",
        {"subscription": str(sub_id), "story": "cameras count"},
        focused="story",
    )
    titles = [c["value"] for c in offered]
    assert "Cameras count shelves" in titles and "Cameras count cars" in titles
    text = said(
        await reply(
            h, "subscriptions why", {"subscription": str(sub_id), "story": "Cameras count shelves"}
        )
    )
    gid, cid = h.standin.world.guild()["id"], h.standin.world.channel("alerts")["id"]
    assert (
        text.startswith("Sent") and f"https://discord.com/channels/{gid}/{cid}/{msg['id']}" in text
    )
    text = said(
        await reply(
            h, "subscriptions why", {"subscription": str(sub_id), "story": "Cameras count cars"}
        )
    )
    assert text.startswith("Not sent") and "keyword" in text.lower()


async def test_subscribe_to_an_unknown_topic_and_to_keywords_alone(newsbot: BotHarness) -> None:
    h = newsbot
    text = await subscribe(h, topic="Quantum Computing")
    assert "No Quantum Computing stories yet; you will be alerted when one arrives" in text
    text = said(await reply(h, "subscribe", {"keywords": "lidar"}, user="alice"))
    assert text.startswith("Subscribed") and "naming lidar" in text
    text = said(await reply(h, "subscribe", {}, user="alice"))
    assert "Give a `topic`, `keywords`, or both" in text
    text = said(await reply(h, "subscribe", {"topic": "Quantum <@&1> @here"}, user="alice"))
    assert "A topic is a plain name" in text
    new_record(h, "Quantum chips get a camera", topics=("Quantum Computing",))
    new_record(h, "Lidar on every bicycle", topics=("Transport",))
    await reload(h)
    [msg] = await wait_messages(h.standin, "alerts", 1)
    assert unescape(msg["embeds"][0]["title"]) == "Quantum chips get a camera"
    alice = str(h.user_id("alice"))
    dm = await h.standin.wait_until(lambda: h.standin.world.dm_channels.get(alice), what="a DM")
    [personal] = await wait_messages(h.standin, dm["id"], 1)
    assert unescape(personal["embeds"][0]["title"]) == "Lidar on every bicycle"


async def test_subscriptions_is_a_group(newsbot: BotHarness) -> None:
    synced = {c["name"]: c for c in newsbot.standin.global_commands.values()}
    group = synced["subscriptions"]
    assert sorted(o["name"] for o in group["options"]) == ["list", "preview", "why"]
    subscribe_opts = {o["name"] for o in synced["subscribe"]["options"]}
    assert {
        "mention",
        "thread",
        "publish",
        "max_per_hour",
        "digest",
        "digest_hour",
        "on_update",
    } <= subscribe_opts
    assert not next(o for o in synced["subscribe"]["options"] if o["name"] == "topic")["required"]
