"""How alerts land on Discord: `DiscordSender` with each `Delivery`, through the stand-in.

A real discord.py client logged into the stand-in; what counts is what the
stand-in received and recorded (who was pinged, which threads exist, what was
crossposted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from http import HTTPStatus

import discord
import pytest

from bot.core.alerts.delivery import Delivery, DeliveryError, FailureNotice, Target
from bot.core.records import Article
from bot.discord_app.sender import DiscordSender
from bot.replies.alerts import alert_message, preview_reply
from bot.replies.sanitize import unescape
from tests.helpers import make_article
from tests.standin import StandIn, run_bot
from tests.standin.protocol import (
    ANNOUNCEMENT_THREAD,
    CROSSPOSTED,
    CROSSPOSTS_PER_HOUR,
    HAS_THREAD,
    PUBLIC_THREAD,
)


def story(i: int = 0, **kw: object) -> Article:
    return dataclasses.replace(make_article(i, **kw), id=100 + i)


@pytest.fixture
async def sender(standin: StandIn) -> AsyncIterator[DiscordSender]:
    client = discord.Client(intents=discord.Intents.default())
    async with run_bot(client, standin):
        yield DiscordSender(client, timeout=5.0, publish_timeout=0.5)


def channel(standin: StandIn, name: str) -> Target:
    return Target("channel", int(standin.world.channel(name)["id"]))


def role_id(standin: StandIn, name: str) -> int:
    return int(standin.world.role(name)["id"])


# ------------------------------------------------------------------------ mentions


async def test_role_ping_allows_exactly_that_role(standin: StandIn, sender: DiscordSender) -> None:
    fans = role_id(standin, "Vision fans")
    result = await sender.send(
        channel(standin, "alerts"),
        [story(1)],
        topic="Computer Vision",
        nonce="n-role",
        delivery=Delivery(mention_role_id=fans),
    )
    msg = standin.messages[str(result.message_id)]
    assert msg["content"] == f"<@&{fans}>"
    assert msg["mention_roles"] == [str(fans)]  # it pinged
    assert msg["mention_everyone"] is False and msg["mentions"] == []
    allowed = standin.allowed_mentions[msg["id"]]
    assert allowed["parse"] == [] and [str(r) for r in allowed["roles"]] == [str(fans)]
    assert "users" not in allowed and not allowed.get("replied_user")


async def test_article_text_never_pings(standin: StandIn, sender: DiscordSender) -> None:
    quiet, fans = role_id(standin, "Quiet role"), role_id(standin, "Vision fans")
    alice = standin.world.user("alice")["id"]
    hostile = story(
        2,
        title=f"@everyone <@&{quiet}> look <@{alice}> @here",
        excerpt=f"Breaking: @everyone <@&{fans}> <@&{quiet}> <@!{alice}>",
    )
    # Even the bot's right to ping everyone must not leak through article text.
    bot_role = standin.world.bot_member()["roles"][0]
    standin.world.role(bot_role)["permissions"] = str(discord.Permissions.all().value)
    result = await sender.send(
        channel(standin, "alerts"),
        [hostile],
        topic="@everyone",
        nonce="n-hostile",
        delivery=Delivery(mention_role_id=fans),
    )
    msg = standin.messages[str(result.message_id)]
    assert msg["mention_roles"] == [str(fans)]  # only the subscription's role
    assert msg["mention_everyone"] is False and msg["mentions"] == []
    assert unescape(msg["embeds"][0]["title"]).replace("\u200b", "").startswith("@everyone")


async def test_no_role_means_no_content_and_no_mentions(
    standin: StandIn, sender: DiscordSender
) -> None:
    result = await sender.send(channel(standin, "alerts"), [story(3)], topic="AI", nonce="n-plain")
    msg = standin.messages[str(result.message_id)]
    assert msg["content"] == "" and msg["mention_roles"] == []
    assert standin.allowed_mentions[msg["id"]] == {"parse": []}


# ------------------------------------------------------------------------- threads


async def test_thread_named_after_the_story_within_100_chars(
    standin: StandIn, sender: DiscordSender
) -> None:
    title = "A very long headline about cameras " * 6
    target = channel(standin, "alerts")
    result = await sender.send(
        target,
        [story(4, title=title)],
        topic="AI",
        nonce="n-thread",
        delivery=Delivery(thread_name=title),
    )
    [thread] = standin.world.threads_of("alerts")
    assert result.thread_id == int(thread["id"]) == result.message_id  # shares the id
    assert thread["type"] == PUBLIC_THREAD
    assert len(thread["name"]) <= 100 and thread["name"].endswith("…")
    assert " ".join(title.split()).startswith(thread["name"].rstrip("…").rstrip())
    assert standin.messages[str(result.message_id)]["flags"] & HAS_THREAD
    assert await sender.find_thread(target, title) == result.thread_id
    assert await sender.find_thread(target, "Some other story") is None


async def test_retry_after_a_crash_finds_the_message_and_its_thread(
    standin: StandIn, sender: DiscordSender
) -> None:
    target = channel(standin, "alerts")
    delivery = Delivery(thread_name="Shelf-counting cameras")
    first = await sender.send(target, [story(5)], topic="AI", nonce="n-again", delivery=delivery)
    again = await sender.send(target, [story(5)], topic="AI", nonce="n-again", delivery=delivery)
    assert (again.message_id, again.thread_id) == (first.message_id, first.thread_id)
    assert len(standin.messages_in("alerts")) == 1
    assert len(standin.world.threads_of("alerts")) == 1
    [second_try] = standin.find_requests("POST", r"/channels/\d+/messages/\d+/threads")[1:]
    assert second_try.status == HTTPStatus.BAD_REQUEST and second_try.error_code == 160004


async def test_forum_post_with_matching_tags(standin: StandIn, sender: DiscordSender) -> None:
    target = channel(standin, "discussions")
    tags = {t["name"]: t["id"] for t in standin.world.channel("discussions")["available_tags"]}
    fans = role_id(standin, "Vision fans")
    result = await sender.send(
        target,
        [story(6, title="Robots that see")],
        topic="Computer Vision",
        nonce="n-forum",
        delivery=Delivery(
            mention_role_id=fans,
            thread_name="Robots that see",
            forum_tags=("computer vision", "Robotics", "Quantum Computing"),
        ),
    )
    [post] = standin.world.threads_of("discussions")
    assert post["name"] == "Robots that see"
    assert post["applied_tags"] == [tags["Computer Vision"], tags["Robotics"]]
    assert result.thread_id == int(post["id"]) == result.message_id
    [starter] = standin.messages_in(post["id"])
    assert starter["id"] == post["id"] and starter["mention_roles"] == [str(fans)]
    assert unescape(starter["embeds"][0]["title"]) == "Robots that see"
    [create] = standin.find_requests("POST", r"/channels/\d+/threads")
    assert "nonce" not in create.json["message"]  # thread creation takes none
    assert await sender.find_thread(target, "Robots that see") == result.thread_id
    # Editing a forum alert edits the post's starter message, in the thread.
    edited = await sender.send(
        target,
        [story(6, title="Robots that see better")],
        topic="Computer Vision",
        nonce="n-forum-edit",
        delivery=Delivery(edit_message_id=result.message_id),
    )
    assert edited.message_id == result.message_id
    assert unescape(starter["embeds"][0]["title"]) == "Robots that see better"
    assert len(standin.world.threads_of("discussions")) == 1


# ---------------------------------------------------------------------- crossposts


async def test_crosspost_then_the_eleventh_within_the_hour_is_posted_unpublished(
    standin: StandIn, sender: DiscordSender
) -> None:
    target = channel(standin, "announcements")
    results = [
        await sender.send(
            target,
            [story(10 + i)],
            topic="AI",
            nonce=f"n-pub-{i}",
            delivery=Delivery(publish=True),
        )
        for i in range(CROSSPOSTS_PER_HOUR + 1)
    ]
    assert [r.published for r in results] == [True] * CROSSPOSTS_PER_HOUR + [False]
    msgs = standin.messages_in("announcements")
    assert len(msgs) == CROSSPOSTS_PER_HOUR + 1  # never dropped
    assert [bool(m["flags"] & CROSSPOSTED) for m in msgs] == [True] * 10 + [False]
    posts = standin.find_requests("POST", r"/channels/\d+/messages/\d+/crosspost")
    assert posts[-1].status == HTTPStatus.TOO_MANY_REQUESTS
    # An hour later the channel may publish again.
    later = standin.crosspost_clock() + 3601
    standin.crosspost_clock = lambda: later
    again = await sender.send(
        target, [story(30)], topic="AI", nonce="n-pub-late", delivery=Delivery(publish=True)
    )
    assert again.published is True


async def test_publish_is_ignored_outside_announcement_channels(
    standin: StandIn, sender: DiscordSender
) -> None:
    result = await sender.send(
        channel(standin, "alerts"),
        [story(31)],
        topic="AI",
        nonce="n-nopub",
        delivery=Delivery(publish=True),
    )
    assert result.published is False
    assert standin.find_requests("POST", r"/channels/\d+/messages/\d+/crosspost") == []


async def test_thread_in_an_announcement_channel_is_an_announcement_thread(
    standin: StandIn, sender: DiscordSender
) -> None:
    result = await sender.send(
        channel(standin, "announcements"),
        [story(32)],
        topic="AI",
        nonce="n-annthread",
        delivery=Delivery(thread_name="Announced", publish=True),
    )
    [thread] = standin.world.threads_of("announcements")
    assert thread["type"] == ANNOUNCEMENT_THREAD and result.published


# --------------------------------------------------------------------------- edits


async def test_edit_changes_the_message_and_posts_nothing(
    standin: StandIn, sender: DiscordSender
) -> None:
    target = channel(standin, "alerts")
    fans = role_id(standin, "Vision fans")
    first = await sender.send(
        target,
        [story(40, title="Old title")],
        topic="AI",
        nonce="n-e1",
        delivery=Delivery(mention_role_id=fans),
    )
    result = await sender.send(
        target,
        [story(40, title="New title")],
        topic="AI",
        nonce="n-e2",
        delivery=Delivery(mention_role_id=fans, edit_message_id=first.message_id),
    )
    assert result.message_id == first.message_id
    [msg] = standin.messages_in("alerts")
    assert unescape(msg["embeds"][0]["title"]) == "New title"
    assert msg["edited_timestamp"] is not None and msg["mention_roles"] == [str(fans)]
    standin.deleted_messages.add(msg["id"])
    with pytest.raises(DeliveryError) as gone:
        await sender.send(
            target,
            [story(40)],
            topic="AI",
            nonce="n-e3",
            delivery=Delivery(edit_message_id=first.message_id),
        )
    assert gone.value.kind == "bad_request"  # that alert's problem, not the channel's


# ------------------------------------------------------------------------- preview


async def test_preview_is_what_is_sent(standin: StandIn, sender: DiscordSender) -> None:
    fans = role_id(standin, "Vision fans")
    delivery = Delivery(mention_role_id=fans, thread_name="Glasses read signs")
    articles = [story(50, title="Glasses read signs")]
    preview = preview_reply(
        alert_message(articles, topic="AI", delivery=delivery), delivery, where="in #alerts"
    )
    result = await sender.send(
        channel(standin, "alerts"), articles, topic="AI", nonce="n-prev", delivery=delivery
    )
    sent = standin.messages[str(result.message_id)]
    assert preview.content == sent["content"] == f"<@&{fans}>"
    assert [e.to_dict() for e in preview.embeds[:1]] == [
        {k: v for k, v in e.items() if k not in ("type", "content_scan_version")} | {"type": "rich"}
        for e in sent["embeds"]
    ]
    assert [b.url for b in preview.buttons] == [
        c["url"] for row in sent["components"] for c in row["components"]
    ]
    assert preview.send_kwargs()["allowed_mentions"].to_dict() == {"parse": []}  # shown, not sent


# ----------------------------------------------------------------- failure notices


async def test_notice_goes_to_the_system_channel(standin: StandIn, sender: DiscordSender) -> None:
    gid = int(standin.world.guild()["id"])
    await sender.notify(
        FailureNotice(gid, int(standin.world.user("owner")["id"]), 7, "Paused: @everyone", "system")
    )
    [msg] = standin.messages_in("general")
    assert "Paused" in msg["embeds"][0]["description"] and msg["mention_everyone"] is False


async def test_notice_falls_back_to_the_creator_by_dm(
    standin: StandIn, sender: DiscordSender
) -> None:
    gid = int(standin.world.guild()["id"])
    general = standin.world.channel("general")["id"]
    standin.faults.missing_permissions(rf"/channels/{general}/messages", method="POST")
    owner = standin.world.user("owner")
    await sender.notify(FailureNotice(gid, int(owner["id"]), 7, "Paused.", "system"))
    dm = standin.world.dm_channels[owner["id"]]
    [msg] = standin.messages_in(dm["id"])
    assert msg["embeds"][0]["description"] == "Paused."
    standin.world.closed_dms.add(owner["id"])  # nobody reachable: logged, never raised
    await sender.notify(FailureNotice(gid, int(owner["id"]), 7, "Paused again.", "creator"))
    assert len(standin.messages_in(dm["id"])) == 1


async def test_a_digest_gets_one_thread_named_for_topic_and_date(
    standin: StandIn, sender: DiscordSender
) -> None:
    name = "Computer Vision · 2026-12-02"
    result = await sender.send(
        channel(standin, "alerts"),
        [story(60), story(61), story(62)],
        topic="Computer Vision",
        nonce="n-digest",
        delivery=Delivery(thread_name=name),
    )
    [msg] = standin.messages_in("alerts")
    assert len(msg["embeds"]) == 3 and result.article_ids == (160, 161, 162)
    [thread] = standin.world.threads_of("alerts")
    assert thread["name"] == name and int(thread["id"]) == result.thread_id == int(msg["id"])
