"""The stand-in's threads, forum posts, crossposts and mentions, through discord.py's own
models (``TextChannel.create_thread``, ``ForumChannel.create_thread``, ``Message.publish``),
answered the way Discord answers them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from tests.standin import StandIn, run_bot
from tests.standin.protocol import (
    ALREADY_CROSSPOSTED,
    CANNOT_SEND_IN_NON_TEXT_CHANNEL,
    CROSSPOSTS_PER_HOUR,
    INVALID_CHANNEL_TYPE,
    INVALID_FORM_BODY,
    MISSING_PERMISSIONS,
    THREAD_ALREADY_CREATED,
)


@pytest.fixture
async def client(standin: StandIn) -> AsyncIterator[discord.Client]:
    bot = discord.Client(intents=discord.Intents.default())
    async with run_bot(bot, standin):
        yield bot


def channel_of(client: discord.Client, standin: StandIn, name: str) -> discord.abc.GuildChannel:
    found = client.get_channel(int(standin.world.channel(name)["id"]))
    assert isinstance(found, discord.abc.GuildChannel), name
    return found


async def test_channel_types_reach_discord_py(standin: StandIn, client: discord.Client) -> None:
    news = channel_of(client, standin, "announcements")
    forum = channel_of(client, standin, "discussions")
    assert isinstance(news, discord.TextChannel) and news.is_news()
    assert isinstance(forum, discord.ForumChannel)
    assert [t.name for t in forum.available_tags] == ["Computer Vision", "AI", "Robotics"]
    guild = client.get_guild(int(standin.world.guild()["id"]))
    assert guild is not None and guild.system_channel is not None
    assert guild.system_channel.name == "general"


async def test_thread_from_a_message_shares_its_id_and_only_once(
    standin: StandIn, client: discord.Client
) -> None:
    alerts = channel_of(client, standin, "alerts")
    assert isinstance(alerts, discord.TextChannel)
    msg = await alerts.send("a story")
    thread = await msg.create_thread(name="A story")
    assert thread.id == msg.id and thread.parent_id == alerts.id
    await standin.wait_until(lambda: client.get_channel(thread.id), what="THREAD_CREATE")
    with pytest.raises(discord.HTTPException) as again:
        await msg.create_thread(name="A story")
    assert again.value.status == 400 and again.value.code == THREAD_ALREADY_CREATED
    with pytest.raises(discord.HTTPException) as long_name:
        await (await alerts.send("another")).create_thread(name="x" * 101)
    assert long_name.value.code == INVALID_FORM_BODY
    await thread.send("discussing it")
    assert [m["content"] for m in standin.messages_in(thread.id)] == ["discussing it"]
    active = await alerts.guild.active_threads()
    assert [t.id for t in active] == [thread.id] and active[0].name == "A story"


async def test_forum_post_with_tags_and_its_refusals(
    standin: StandIn, client: discord.Client
) -> None:
    forum = channel_of(client, standin, "discussions")
    assert isinstance(forum, discord.ForumChannel)
    vision = next(t for t in forum.available_tags if t.name == "Computer Vision")
    made = await forum.create_thread(name="Cameras", content="a post", applied_tags=[vision])
    assert made.thread.id == made.message.id and made.thread.parent_id == forum.id
    [post] = standin.world.threads_of("discussions")
    assert post["applied_tags"] == [str(vision.id)]
    assert [m["content"] for m in standin.messages_in(post["id"])] == ["a post"]
    unknown = discord.ForumTag(name="Nope")
    unknown.id = 42
    with pytest.raises(discord.HTTPException) as bad_tag:
        await forum.create_thread(name="Bad", content="x", applied_tags=[unknown])
    assert bad_tag.value.code == INVALID_FORM_BODY and "applied_tags.0" in bad_tag.value.text
    with pytest.raises(discord.HTTPException) as direct:
        await client.http.send_message(forum.id, params=_content("not a post"))
    assert direct.value.code == CANNOT_SEND_IN_NON_TEXT_CHANNEL
    with pytest.raises(discord.HTTPException) as wrong:
        await client.http.start_thread_with_message(
            forum.id, made.message.id, name="x", auto_archive_duration=1440
        )
    assert wrong.value.code == INVALID_CHANNEL_TYPE


async def test_crosspost_ten_an_hour_then_429(standin: StandIn, client: discord.Client) -> None:
    news = channel_of(client, standin, "announcements")
    assert isinstance(news, discord.TextChannel)
    client.http.max_ratelimit_timeout = 60.0  # the 429's wait is ~an hour: raise, don't sleep
    for i in range(CROSSPOSTS_PER_HOUR):
        msg = await news.send(f"news {i}")
        await msg.publish()
    with pytest.raises(discord.HTTPException) as twice:
        await msg.publish()
    assert twice.value.code == ALREADY_CROSSPOSTED
    eleventh = await news.send("news 11")
    with pytest.raises(discord.RateLimited) as limited:
        await eleventh.publish()
    assert 3500 < limited.value.retry_after <= 3600
    assert [s for _, s in standin.crossposts[str(news.id)]][-1] == str(msg.id)
    alerts = channel_of(client, standin, "alerts")
    assert isinstance(alerts, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as not_news:
        await (await alerts.send("x")).publish()
    assert not_news.value.code == INVALID_CHANNEL_TYPE


async def test_roles_ping_only_as_allowed_and_when_mentionable(
    standin: StandIn, client: discord.Client
) -> None:
    alerts = channel_of(client, standin, "alerts")
    assert isinstance(alerts, discord.TextChannel)
    fans, quiet = standin.world.role("Vision fans"), standin.world.role("Quiet role")
    text = f"<@&{fans['id']}> <@&{quiet['id']}> @everyone"
    everything = await alerts.send(text, allowed_mentions=discord.AllowedMentions.all())
    only_fans = await alerts.send(
        text,
        allowed_mentions=discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(int(fans["id"]))]
        ),
    )
    nothing = await alerts.send(text, allowed_mentions=discord.AllowedMentions.none())
    record = standin.messages
    # The bot lacks Mention Everyone: the quiet role and @everyone never ping.
    assert record[str(everything.id)]["mention_roles"] == [fans["id"]]
    assert record[str(everything.id)]["mention_everyone"] is False
    assert record[str(only_fans.id)]["mention_roles"] == [fans["id"]]
    assert record[str(nothing.id)]["mention_roles"] == []


async def test_threads_need_their_permission(standin: StandIn, client: discord.Client) -> None:
    threads = discord.Permissions(create_public_threads=True).value
    everyone = standin.world.role(standin.world.guild()["id"])
    everyone["permissions"] = str(int(everyone["permissions"]) & ~threads)
    bot_role = standin.world.role(standin.world.bot_member()["roles"][0])
    assert not int(bot_role["permissions"]) & threads  # the bot had it through @everyone
    alerts = channel_of(client, standin, "alerts")
    assert isinstance(alerts, discord.TextChannel)
    msg = await alerts.send("no threads here")
    with pytest.raises(discord.Forbidden) as refused:
        await msg.create_thread(name="Nope")
    assert refused.value.code == MISSING_PERMISSIONS


def _content(text: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=text)
