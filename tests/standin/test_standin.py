"""The Discord stand-in, exercised through the real discord.py client.

Each test starts a small ``commands.Bot`` against the ``standin`` fixture and checks both what
discord.py sent and that the stand-in answered the way Discord would.
"""

from __future__ import annotations

import asyncio
import io
from http import HTTPStatus
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.standin import StandIn, error_paths, payloads, run_bot
from tests.standin import validation as v
from tests.standin.protocol import (
    ACTION_ROW,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    BUTTON,
    CANNOT_SEND_TO_USER,
    CHANNEL_MESSAGE,
    CLOSE_UNKNOWN_ERROR,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    INTERACTION_ALREADY_ACKNOWLEDGED,
    INVALID_FORM_BODY,
    INVALID_WEBHOOK_TOKEN,
    LINK,
    LOADING,
    MESSAGE_COMPONENT,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    PRIMARY,
    UNKNOWN_CHANNEL,
    UNKNOWN_INTERACTION,
    UNKNOWN_WEBHOOK,
    UPDATE_MESSAGE,
)

STORY_URL = "https://example.com/story"


class PanelView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Refresh", custom_id="panel:refresh")
    async def refresh(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="refreshed", view=self)

    @discord.ui.button(label="Ack", custom_id="panel:ack")
    async def ack(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()


class DemoBot(commands.Bot):
    """Just enough of a bot to drive every stand-in code path."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True  # makes discord.py chunk, so the member cache gets filled
        super().__init__(command_prefix=commands.when_mentioned, intents=intents)
        self.errors: list[discord.HTTPException] = []
        self.late_delay = 0.0
        self.seen: list[str] = []
        _register_commands(self)

    async def capture(self, coro: Any) -> None:
        """Await an API call; keep the HTTP error so the test can inspect it."""
        try:
            await coro
        except discord.HTTPException as exc:
            self.errors.append(exc)


class DemoShardedBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())

        @self.tree.command(description="Ping")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s between shard IDENTIFYs (max_concurrency 1); not needed here.
        return None


def _register_commands(bot: DemoBot) -> None:
    tree = bot.tree

    @tree.command(description="Look up the news")
    @app_commands.describe(query="What to look for")
    async def news(interaction: discord.Interaction, query: str) -> None:
        embed = discord.Embed(title=f"News: {query}", description="Rates rise.", url=STORY_URL)
        embed.set_footer(text="newsbot")
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Read", url=STORY_URL))
        await interaction.response.send_message(
            embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
        )

    @news.autocomplete("query")
    async def news_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=f"{current} rates", value=f"{current}-rates"),
            app_commands.Choice(name=f"{current} jobs", value=f"{current}-jobs"),
        ]

    @tree.command(description="Slow answer")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("done", embed=discord.Embed(title="Result"))

    @tree.command(description="Private answer")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("psst", ephemeral=True)

    @tree.command(description="Buttons")
    async def panel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("panel", view=PanelView())

    @tree.command(description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @tree.command(description="Answers too late")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(bot.late_delay)
        await bot.capture(interaction.response.send_message("too late"))

    @tree.command(description="Oversized embed")
    async def big(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Big", description="x" * 5000)
        await bot.capture(interaction.response.send_message(embed=embed))

    @tree.command(description="Bad link button")
    async def badlink(interaction: discord.Interaction) -> None:
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Click", url="javascript:alert(1)"))
        await bot.capture(interaction.response.send_message("link", view=view))

    @tree.command(description="Upload a file")
    async def report(interaction: discord.Interaction) -> None:
        file = discord.File(io.BytesIO(b"headline,score\n"), filename="report.csv")
        await interaction.response.send_message("attached", file=file)

    @tree.command(description="Respond, edit, follow up, edit the followup")
    async def draft(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("draft")
        await interaction.edit_original_response(content="final")
        original = await interaction.original_response()
        extra = await interaction.followup.send("extra", ephemeral=True, wait=True)
        await extra.edit(content="extra edited")
        bot.seen.append(original.content)

    admin = app_commands.Group(name="admin", description="Admin tools")

    @admin.command(description="Reload something")
    async def reload(interaction: discord.Interaction, target: str) -> None:
        await interaction.response.send_message(f"reloaded {target}")

    tree.add_command(admin)


def _text_channel(bot: discord.Client, standin: StandIn, name: str) -> discord.TextChannel:
    channel = bot.get_channel(int(standin.world.channel(name)["id"]))
    assert isinstance(channel, discord.TextChannel)
    return channel


# ------------------------------------------------------------------------------ gateway


async def test_login_ready_and_guild_cache(standin: StandIn) -> None:
    world = standin.world
    async with run_bot(DemoBot(), standin) as bot:
        assert bot.user is not None and bot.user.id == int(world.bot_user["id"])
        assert bot.application_id == int(world.application_id)
        guild = bot.get_guild(int(world.guild()["id"]))
        assert guild is not None
        assert {"general", "news", "alerts", "staff"} <= {c.name for c in guild.text_channels}
        assert {"@everyone", "newsbot", "Moderator", "Admin"} <= {r.name for r in guild.roles}
        # The bot's own member arrives with its managed role, other members via chunking.
        assert [r.name for r in guild.me.roles if not r.is_default()] == ["newsbot"]
        assert guild.me.guild_permissions.embed_links
        alice = guild.get_member(int(world.user("alice")["id"]))
        mod = guild.get_member(int(world.user("mod")["id"]))
        assert alice is not None and mod is not None
        staff = _text_channel(bot, standin, "staff")
        assert not staff.permissions_for(alice).view_channel
        assert staff.permissions_for(mod).view_channel
        assert not _text_channel(bot, standin, "locked").permissions_for(guild.me).view_channel
    identify = standin.identifies[0]
    assert identify.shard is None and identify.intents == bot.intents.value
    assert standin.connections[0].compression == "zlib-stream"
    assert [r.route for r in standin.requests[:2]] == ["get_current_user", "get_application"]
    assert standin.heartbeats >= 1


async def test_autosharded_bot_uses_gateway_bot_and_shards(standin: StandIn) -> None:
    standin.shard_count = 2
    async with run_bot(DemoShardedBot(), standin) as bot:
        assert bot.shard_count == 2
        assert sorted(i.shard for i in standin.identifies) == [(0, 2), (1, 2)]
        assert standin.find_requests("GET", "/gateway/bot")
        guild_id = int(standin.world.guild()["id"])
        assert bot.get_guild(guild_id) is not None
        it = await standin.dispatch_interaction(standin.slash("ping"))
        callback = await it.wait_callback()
        assert callback.json == {"type": CHANNEL_MESSAGE, "data": {"content": "pong", "tts": False}}
        owner = standin._session_for(str(guild_id))
        assert owner is not None and owner.shard_id == (guild_id >> 22) % 2


async def test_force_close_resumes_and_replays(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        standin.hold_gateway()
        assert await standin.force_close(CLOSE_UNKNOWN_ERROR) == 1
        # Dispatched while the bot is disconnected: must be replayed on RESUME.
        it = await standin.dispatch_interaction(standin.slash("ping"))
        standin.release_gateway()
        resume = await standin.wait_for_resume()
        assert resume.path == "/gateway-resume"  # discord.py used resume_gateway_url
        assert resume.replayed == 1
        callback = await it.wait_callback()
        assert callback.ok and callback.json["data"]["content"] == "pong"
        assert len(standin.identifies) == 1
        # And the bot keeps answering on the resumed socket.
        again = await standin.dispatch_interaction(standin.slash("ping"))
        assert (await again.wait_callback()).ok


# -------------------------------------------------------------------------- commands


async def test_tree_sync_stores_commands(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        synced = await bot.tree.sync()
        put = standin.find_requests("PUT", route="bulk_overwrite_global_commands")
        assert len(put) == 1 and put[0].ok
        stored = {c["name"]: c for c in standin.global_commands.values()}
        assert {"news", "slow", "secret", "panel", "admin"} <= set(stored)
        assert {c.name: c.id for c in synced} == {n: int(c["id"]) for n, c in stored.items()}
        assert stored["admin"]["options"][0]["type"] == payloads.SUB_COMMAND
        assert stored["news"]["options"][0]["autocomplete"] is True

        guild = discord.Object(int(standin.world.guild()["id"]))
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)
        guild_cmds = standin.guild_commands[str(guild.id)]
        assert "news" in {c["name"] for c in guild_cmds.values()}
        # Interactions now target the guild command, as Discord would.
        payload = standin.slash("news", {"query": "x"})
        assert payload["data"]["guild_id"] == str(guild.id)
        assert payload["data"]["id"] in guild_cmds

        first_ids = set(standin.global_commands)
        await bot.tree.sync()
        assert set(standin.global_commands) == first_ids  # ids survive re-syncs


async def test_slash_command_embed_and_link_button(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        await bot.tree.sync()
        it = await standin.dispatch_interaction(standin.slash("news", {"query": "rates"}))
        callback = await it.wait_callback()
        await asyncio.sleep(0.1)  # leave room for an unwanted second response
    assert len(it.attempts) == 1 and callback.status == HTTPStatus.OK
    body = callback.json
    assert body["type"] == CHANNEL_MESSAGE
    embed = body["data"]["embeds"][0]
    assert embed["title"] == "News: rates" and embed["url"] == STORY_URL
    assert embed["footer"] == {"text": "newsbot"}
    assert body["data"]["components"] == [
        {
            "type": ACTION_ROW,
            "components": [
                {
                    "type": BUTTON,
                    "style": LINK,
                    "disabled": False,
                    "label": "Read",
                    "url": STORY_URL,
                }
            ],
        }
    ]
    assert body["data"]["allowed_mentions"] == {"parse": []}
    assert callback.query == {"with_response": "1"}
    [message] = standin.messages_in("general")
    assert message["id"] == callback.response["interaction"]["response_message_id"]
    assert message["interaction_metadata"]["name"] == "news"
    assert standin.allowed_mentions[message["id"]] == {"parse": []}


async def test_subcommand_group_invocation(standin: StandIn) -> None:
    payload = standin.slash("admin reload", {"target": "feeds"})
    assert payload["data"]["name"] == "admin"
    assert payload["data"]["options"] == [
        {
            "type": payloads.SUB_COMMAND,
            "name": "reload",
            "options": [{"name": "target", "type": payloads.STRING, "value": "feeds"}],
        }
    ]
    assert payload["member"]["permissions"] == str(payloads.DEFAULT_EVERYONE_PERMISSIONS)
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(payload)
        callback = await it.wait_callback()
    assert callback.json["data"]["content"] == "reloaded feeds"


async def test_deferred_then_followup(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(standin.slash("slow"))
        callback = await it.wait_callback()
        followup = await it.wait_followup()
    assert callback.json == {"type": DEFERRED_CHANNEL_MESSAGE}
    assert callback.response["interaction"]["response_message_loading"] is True
    assert followup.ok and followup.json["content"] == "done"
    assert followup.json["embeds"][0]["title"] == "Result"
    # The first followup after a defer resolves the "thinking" message, not a new one.
    [message] = standin.messages_in("general")
    assert message["id"] == it.original_message_id == followup.response["id"]
    assert message["content"] == "done" and message["flags"] & LOADING == 0


async def test_ephemeral_flag(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(standin.slash("secret"))
        callback = await it.wait_callback()
    assert callback.json["type"] == CHANNEL_MESSAGE and callback.json["data"]["flags"] == EPHEMERAL
    assert callback.response["interaction"]["response_message_ephemeral"] is True
    assert standin.messages_in("general") == []
    assert len(standin.messages_in("general", include_ephemeral=True)) == 1


async def test_autocomplete_returns_choices(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        payload = standin.autocomplete("news", {"query": "oil"})
        assert payload["type"] == APPLICATION_COMMAND_AUTOCOMPLETE
        assert payload["data"]["options"] == [
            {"name": "query", "type": payloads.STRING, "value": "oil", "focused": True}
        ]
        it = await standin.dispatch_interaction(payload)
        callback = await it.wait_callback()
    assert callback.json == {
        "type": AUTOCOMPLETE_RESULT,
        "data": {
            "choices": [
                {"name": "oil rates", "value": "oil-rates"},
                {"name": "oil jobs", "value": "oil-jobs"},
            ]
        },
    }


async def test_button_press_update_and_deferred_update(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(standin.slash("panel"))
        await it.wait_callback()
        message_id = it.original_message_id
        assert message_id is not None

        press = standin.button(message_id, "panel:refresh")
        assert press["type"] == MESSAGE_COMPONENT and press["message"]["id"] == message_id
        assert press["data"] == {"custom_id": "panel:refresh", "component_type": BUTTON}
        pressed = await standin.dispatch_interaction(press)
        update = await pressed.wait_callback()

        acked = await standin.dispatch_interaction(standin.button(message_id, "panel:ack"))
        ack = await acked.wait_callback()
    assert update.json["type"] == UPDATE_MESSAGE and update.json["data"]["content"] == "refreshed"
    assert standin.messages[message_id]["content"] == "refreshed"
    assert ack.json == {"type": DEFERRED_UPDATE_MESSAGE}
    assert len(standin.messages_in("general")) == 1


async def test_dm_interaction_has_user_not_member(standin: StandIn) -> None:
    payload = standin.slash("ping", dm=True)
    assert "guild_id" not in payload and "member" not in payload
    assert payload["user"]["username"] == "alice" and payload["context"] == 1
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(payload)
        callback = await it.wait_callback()
    assert callback.ok and callback.json["data"]["content"] == "pong"


async def test_interaction_response_with_file_is_multipart(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(standin.slash("report"))
        callback = await it.wait_callback()
    assert callback.ok
    assert callback.json["type"] == CHANNEL_MESSAGE
    assert callback.json["data"]["attachments"] == [{"id": 0, "filename": "report.csv"}]
    [upload] = callback.files
    assert upload.field == "files[0]" and upload.data == b"headline,score\n"
    assert standin.messages[it.original_message_id]["attachments"][0]["filename"] == "report.csv"


async def test_original_response_edits_and_followup_webhooks(standin: StandIn) -> None:
    bot = DemoBot()
    async with run_bot(bot, standin):
        it = await standin.dispatch_interaction(standin.slash("draft"))
        await standin.wait_until(lambda: bot.seen, what="the draft command to finish")
    routes = [(r.route, r.params.get("message_id")) for r in standin.requests if r.params]
    followup_id = it.followup_ids[0]
    assert routes[-5:] == [
        ("interaction_callback", None),
        ("webhook_edit_message", "@original"),
        ("webhook_get_message", "@original"),
        ("webhook_execute", None),
        ("webhook_edit_message", followup_id),
    ]
    assert bot.seen == ["final"]
    assert [m["content"] for m in standin.messages_in("general")] == ["final"]
    extra = standin.messages[followup_id]
    assert extra["content"] == "extra edited" and extra["flags"] == EPHEMERAL


async def test_webhook_token_lifetime(standin: StandIn) -> None:
    bot = DemoBot()
    bot.late_delay = 0.3
    async with run_bot(bot, standin), aiohttp.ClientSession() as http:
        it = await standin.dispatch_interaction(standin.slash("late"))
        url = f"{standin.api_base}/webhooks/{standin.world.application_id}/{it.token}"
        async with http.post(url, json={"content": "too early"}) as resp:
            before_ack = (resp.status, (await resp.json())["code"])
        assert (await it.wait_callback()).ok
        async with http.post(url, json={"content": "in time"}) as resp:
            in_time = resp.status
        standin.followup_ttl = 0.0
        async with http.post(url, json={"content": "expired"}) as resp:
            expired = (resp.status, (await resp.json())["code"])
    assert before_ack == (HTTPStatus.NOT_FOUND, UNKNOWN_WEBHOOK)
    assert in_time == HTTPStatus.OK
    assert expired == (HTTPStatus.UNAUTHORIZED, INVALID_WEBHOOK_TOKEN)


# -------------------------------------------------------------------- strictness


async def test_late_callback_gets_unknown_interaction(standin: StandIn) -> None:
    standin.interaction_deadline = 0.3
    bot = DemoBot()
    bot.late_delay = 0.45
    async with run_bot(bot, standin):
        it = await standin.dispatch_interaction(standin.slash("late"))
        callback = await it.wait_callback(timeout=3.0)
        await standin.wait_until(lambda: bot.errors, what="the bot to see the error")
    assert callback.status == HTTPStatus.NOT_FOUND
    assert callback.response["code"] == UNKNOWN_INTERACTION
    assert it.callback is None and it.expired
    [error] = bot.errors
    assert isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION


async def test_second_callback_gets_already_acknowledged(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin):
        it = await standin.dispatch_interaction(standin.slash("ping"))
        first = await it.wait_callback()
        url = f"{standin.api_base}/interactions/{it.id}/{it.token}/callback"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"type": CHANNEL_MESSAGE, "data": {"content": "again"}}) as resp,
        ):
            assert resp.headers["Content-Type"] == "application/json"
            body = await resp.json()
            status = resp.status
    assert first.ok
    assert status == HTTPStatus.BAD_REQUEST and body["code"] == INTERACTION_ALREADY_ACKNOWLEDGED
    assert len(it.attempts) == 2


async def test_oversized_embed_is_rejected(standin: StandIn) -> None:
    bot = DemoBot()
    async with run_bot(bot, standin):
        it = await standin.dispatch_interaction(standin.slash("big"))
        callback = await it.wait_callback()
        await standin.wait_until(lambda: bot.errors, what="the bot to see the error")
    assert callback.status == HTTPStatus.BAD_REQUEST
    assert callback.response["code"] == INVALID_FORM_BODY
    assert error_paths(callback.response["errors"]) == ["data.embeds.0.description"]
    assert bot.errors[0].code == INVALID_FORM_BODY
    assert it.callback is None  # a rejected body does not acknowledge the interaction


async def test_javascript_link_button_is_rejected(standin: StandIn) -> None:
    bot = DemoBot()
    async with run_bot(bot, standin):
        it = await standin.dispatch_interaction(standin.slash("badlink"))
        callback = await it.wait_callback()
        await standin.wait_until(lambda: bot.errors, what="the bot to see the error")
    assert callback.status == HTTPStatus.BAD_REQUEST
    assert callback.response["code"] == INVALID_FORM_BODY
    assert error_paths(callback.response["errors"]) == ["data.components.0.components.0.url"]
    assert isinstance(bot.errors[0], discord.HTTPException)


async def test_unknown_route_is_reported(standin: StandIn) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{standin.api_base}/nope/123", headers={"Authorization": "Bot x"}) as resp,
    ):
        assert resp.status == HTTPStatus.NOT_FOUND
    assert standin.unknown_routes == ["GET /api/v10/nope/123"]
    with pytest.raises(AssertionError, match="unknown route"):
        standin.assert_clean()
    standin.unknown_routes.clear()  # reported as intended; let the fixture teardown pass


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"content": "x" * 2001}, ["content"]),
        ({"embeds": [{"title": "t" * 257}]}, ["embeds.0.title"]),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, ["embeds.0.fields"]),
        ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, ["embeds.0.fields.0.name"]),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
            ["embeds.0.fields.0.value"],
        ),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, ["embeds.0.footer.text"]),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, ["embeds.0.author.name"]),
        ({"embeds": [{"description": "d" * 3001}] * 2}, ["embeds"]),
        ({"embeds": [{"title": "t"}] * 11}, ["embeds"]),
        ({"embeds": [{"thumbnail": {"url": "javascript:x"}}]}, ["embeds.0.thumbnail.url"]),
        ({"embeds": [{"author": {"name": "a", "url": "ftp://x"}}]}, ["embeds.0.author.url"]),
        ({"embeds": [{"image": {"url": "attachment://chart.png"}}]}, []),
        ({"embeds": [{"url": "attachment://chart.png"}]}, ["embeds.0.url"]),
        (
            {"components": [{"type": ACTION_ROW, "components": [{"type": BUTTON, "style": LINK}]}]},
            ["components.0.components.0.url"],
        ),
        (
            {
                "components": [
                    {
                        "type": ACTION_ROW,
                        "components": [
                            {"type": BUTTON, "style": PRIMARY, "label": "l", "custom_id": "c" * 101}
                        ],
                    }
                ]
            },
            ["components.0.components.0.custom_id"],
        ),
        (
            {
                "components": [
                    {
                        "type": ACTION_ROW,
                        "components": [
                            {"type": BUTTON, "style": PRIMARY, "label": "l" * 81, "custom_id": "c"}
                        ],
                    }
                ]
            },
            ["components.0.components.0.label"],
        ),
        (
            {
                "components": [
                    {
                        "type": ACTION_ROW,
                        "components": [
                            {"type": BUTTON, "style": PRIMARY, "label": "l", "custom_id": f"c{i}"}
                            for i in range(6)
                        ],
                    }
                ]
            },
            ["components.0.components"],
        ),
        (
            {
                "components": [
                    {
                        "type": ACTION_ROW,
                        "components": [
                            {"type": BUTTON, "style": LINK, "label": "l", "url": "https://x.y"}
                        ],
                    }
                ]
                * 6
            },
            ["components"],
        ),
        ({"allowed_mentions": {"parse": ["users"], "users": ["1"]}}, ["allowed_mentions"]),
    ],
)
def test_message_validation_rules(body: dict[str, Any], expected: list[str]) -> None:
    assert error_paths(v.validate_message(body)) == expected


# ------------------------------------------------------------------ channel messages


async def test_rate_limit_retry_after_is_honoured(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        channel = _text_channel(bot, standin, "alerts")
        path = rf"/channels/{channel.id}/messages"
        rule = standin.faults.add(
            method="POST", path_pattern=path, status=HTTPStatus.TOO_MANY_REQUESTS, retry_after=0.3
        )
        sent = await channel.send("storm warning")
    first, second = standin.find_requests("POST", path)
    assert (first.status, second.status) == (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.OK)
    assert first.response_headers["Via"] and first.response_headers["X-RateLimit-Scope"] == "user"
    assert second.at - first.at >= 0.3
    assert rule.hits == 1
    assert [m["id"] for m in standin.messages_in("alerts")] == [str(sent.id)]


async def test_global_rate_limit_blocks_then_succeeds(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        channel = _text_channel(bot, standin, "alerts")
        standin.faults.rate_limit(r"/channels/\d+/messages", retry_after=0.2, is_global=True)
        await channel.send("hello")
    first, second = standin.find_requests("POST", r"/channels/\d+/messages")
    assert first.response == {
        "message": "You are being rate limited.",
        "retry_after": 0.2,
        "global": True,
    }
    assert first.response_headers["X-RateLimit-Global"] == "true"
    assert second.ok and second.at - first.at >= 0.2


async def test_enforced_rate_limit_is_respected_by_discord_py(standin: StandIn) -> None:
    standin.ratelimits.add(path_pattern=r"/channels/(?P<major>\d+)/messages", limit=2, per=0.4)
    async with run_bot(DemoBot(), standin) as bot:
        channel = _text_channel(bot, standin, "news")
        for i in range(5):
            await channel.send(f"update {i}")
    sends = standin.find_requests("POST", rf"/channels/{channel.id}/messages")
    assert [r.status for r in sends] == [HTTPStatus.OK] * 5
    assert standin.ratelimits.hits == 0
    assert sends[1].response_headers["X-RateLimit-Remaining"] == "0"
    assert sends[2].at - sends[0].at >= 0.35  # discord.py waited for the bucket to reset

    # The limiter does bite when a client ignores the headers (fresh bucket: another channel).
    url = f"{standin.api_base}/channels/{standin.world.channel('alerts')['id']}/messages"
    async with aiohttp.ClientSession(headers={"Authorization": "Bot t"}) as http:
        statuses = []
        for _ in range(3):
            async with http.post(url, json={"content": "spam"}) as resp:
                statuses.append(resp.status)
    assert statuses == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert standin.ratelimits.hits == 1


async def test_server_error_is_retried(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        channel = _text_channel(bot, standin, "general")
        standin.faults.server_error(
            rf"/channels/{channel.id}/messages", status=HTTPStatus.INTERNAL_SERVER_ERROR, times=1
        )
        await channel.send("after a hiccup")  # discord.py sleeps 1 s before retrying a 500
    assert [r.status for r in standin.find_requests("POST", r"/channels/\d+/messages")] == [
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.OK,
    ]


async def test_permission_and_dm_errors(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        with pytest.raises(discord.Forbidden) as locked:
            await _text_channel(bot, standin, "locked").send("x")
        with pytest.raises(discord.Forbidden) as muted:
            await _text_channel(bot, standin, "muted").send("x")
        with pytest.raises(discord.NotFound) as missing:
            await bot.http.send_message(123456789, params=_params("x"))
        fetched = await bot.fetch_channel(int(standin.world.channel("news")["id"]))
        assert isinstance(fetched, discord.TextChannel) and fetched.name == "news"
        alice = await bot.fetch_user(int(standin.world.user("alice")["id"]))
        dm = await alice.create_dm()
        await dm.send("hello")
        standin.world.closed_dms.add(str(alice.id))
        with pytest.raises(discord.Forbidden) as closed:
            await dm.send("hello again")
        standin.faults.missing_permissions(r"/channels/\d+/messages")
        with pytest.raises(discord.Forbidden) as injected:
            await _text_channel(bot, standin, "general").send("x")
    assert (locked.value.code, muted.value.code, missing.value.code) == (
        MISSING_ACCESS,
        MISSING_PERMISSIONS,
        UNKNOWN_CHANNEL,
    )
    assert (closed.value.code, injected.value.code) == (CANNOT_SEND_TO_USER, MISSING_PERMISSIONS)
    assert [m["content"] for m in standin.messages_in(dm.id)] == ["hello"]


def _params(content: str) -> Any:
    return discord.http.handle_message_parameters(content=content)


async def test_nonce_deduplicates_channel_messages(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        channel = _text_channel(bot, standin, "alerts")
        first = await channel.send("alert 42", nonce="alert-42")
        second = await channel.send("alert 42", nonce="alert-42")
        third = await channel.send("alert 43", nonce="alert-43")
    assert first.id == second.id != third.id
    assert len(standin.messages_in("alerts")) == 2
    sent = await standin.wait_for_message("alerts", index=1)
    assert sent.json["enforce_nonce"] is True and sent.json["nonce"] == "alert-42"


async def test_channel_message_is_a_full_message_object(standin: StandIn) -> None:
    async with run_bot(DemoBot(), standin) as bot:
        channel = _text_channel(bot, standin, "general")
        alice_id = standin.world.user("alice")["id"]
        message = await channel.send(
            f"hi <@{alice_id}> @everyone",
            embed=discord.Embed(title="t"),
            allowed_mentions=discord.AllowedMentions(everyone=False, users=True),
        )
        recorded = await standin.wait_for_message("general")
        await message.edit(content="edited")
        fetched = await channel.fetch_message(message.id)
    assert message.author == bot.user and message.embeds[0].title == "t"
    assert [u.id for u in message.mentions] == [int(alice_id)]
    assert message.mention_everyone is False
    assert recorded.json["allowed_mentions"] == {"parse": ["users", "roles"], "replied_user": True}
    assert fetched.content == "edited" and fetched.edited_at is not None
