"""Permissions and forged interactions, through the stand-in with the real NewsBot.

Family "permissions" of the hostile suite (issue 7; counted by bench/faults.py).
Discord delivers a command to anyone a server admin made it visible to, and
anyone can forge option values (ids typed instead of picked): every check
that matters is made by the bot at run time, and every refusal is a short
private sentence, never internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import discord
import pytest

from bot.replies.sanitize import unescape
from tests.helpers import db_query
from tests.standin import StandIn
from tests.standin import payloads as p
from tests.standin.protocol import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    EPHEMERAL,
)

if TYPE_CHECKING:
    from tests.botfixtures import BotHarness

FAMILY = "permissions"

pytest_plugins = ["tests.botfixtures"]

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
MANAGE_CHANNELS = discord.Permissions(manage_channels=True).value
# What a traceback or an exception's repr would put in front of a user.
LEAK = re.compile(
    r"Traceback \(most recent|File \"|line \d+, in |\w+Error: |sqlite3\.|discord\.\w|NoneType|"
    r"object at 0x|CommandInvokeError|/work/|site-packages|\.py\b"
)
ADMIN_COMMANDS = [
    ("admin reload", {}),
    ("admin stats", {}),
    ("admin sync", {}),
    ("admin sync", {"scope": "global"}),
    ("admin sync", {"scope": "here"}),
]
NOT_ADMINS = ["alice", "mod", "chanmgr", "rolemgr"]


@pytest.fixture
def world(standin: StandIn) -> Iterator[StandIn]:
    """The default world plus two channel managers who are not server managers:
    chanmgr may manage #news only (a member overwrite), rolemgr every channel (a role)."""
    w = standin.world
    g = w.guild()
    w.add_user("chanmgr")
    w.add_member(g, "chanmgr")
    news = w.channel("news")
    news["permission_overwrites"].append(
        p.overwrite(w.user("chanmgr")["id"], member=True, allow=MANAGE_CHANNELS)
    )
    w.add_role(g, "Channel Manager", permissions=p.DEFAULT_EVERYONE_PERMISSIONS | MANAGE_CHANNELS)
    w.add_user("rolemgr")
    w.add_member(g, "rolemgr", roles=["Channel Manager"])
    for name in NOT_ADMINS:
        assert not w.permissions_for(name) & MANAGE_GUILD, name
    yield standin


def raw_text(data: dict[str, Any]) -> str:
    """Everything a message shows, as sent (escapes and mention breakers included)."""
    parts = [data.get("content") or ""]
    for e in data.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in e.get("fields") or []]
        parts += [
            (e.get("footer") or {}).get("text") or "",
            (e.get("author") or {}).get("name") or "",
        ]
    return " ".join(x for x in parts if x)


def said(cb: Any) -> str:
    """What the user reads in a callback (content and embed text)."""
    return unescape(raw_text(cb.json.get("data") or {}))


def assert_harmless(data: dict[str, Any]) -> None:
    """No internals and no live mention in what a message shows."""
    raw = raw_text(data)
    leak = LEAK.search(unescape(raw))
    assert leak is None, f"{leak.group()!r} reached the user: {raw!r}"
    assert not re.search(r"@(everyone|here)|<@[!&]?\d|<#\d", raw), raw


def assert_clean_refusal(cb: Any, *, contains: str | None = None) -> str:
    assert cb.ok, (cb.status, cb.response)
    assert cb.json["type"] == CHANNEL_MESSAGE, cb.json
    assert cb.json["data"].get("flags") == EPHEMERAL, cb.json
    text = said(cb)
    assert text.strip()
    assert_harmless(cb.json["data"])
    if contains is not None:
        assert contains in text, text
    return text


def channel_option(h: BotHarness, name: str, user: str) -> dict[str, Any]:
    """A channel option as Discord resolves it, with the invoker's permissions there."""
    w = h.standin.world
    return {**w.channel(name), "permissions": str(w.permissions_for(user, channel=name))}


def subscriptions(h: BotHarness) -> list[tuple[Any, ...]]:
    return db_query(
        h.settings.db_path, "SELECT id, target, user_id, topic FROM subscriptions ORDER BY id"
    )


async def final_text(h: BotHarness, it: Any) -> str:
    msg = await h.final_message(it)
    parts = [msg.get("content") or ""]
    for e in msg.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
    return unescape(" ".join(parts)).strip()


# -- admin commands -------------------------------------------------------------------


@pytest.mark.parametrize("user", NOT_ADMINS)
async def test_admin_commands_refused_at_run_time_even_when_visible(
    world: StandIn, start_newsbot: Any, user: str
) -> None:
    # A server admin "overrode" default_permissions: Discord delivers the command to them.
    async with start_newsbot(admin_ids=frozenset({int(world.world.user("owner")["id"])})) as h:
        h.write_record(
            "9999-new.md",
            title="A story the refused reload must not load",
            webUrl="https://news.example.com/refused",
        )
        stories = db_query(h.settings.db_path, "SELECT count(*) FROM articles")
        syncs = len(world.find_requests("PUT"))
        reloaded_at = h.room.last_reload_at
        for command, options in ADMIN_COMMANDS:
            _, cb = await h.answer(command, options, user=user)
            assert_clean_refusal(cb, contains="Manage Server")
        await asyncio.sleep(0.2)  # room for a reload or sync that should not happen
        assert db_query(h.settings.db_path, "SELECT count(*) FROM articles") == stories
        assert len(world.find_requests("PUT")) == syncs  # nothing was published
        assert h.room.last_reload_at == reloaded_at


@pytest.mark.parametrize("user", ["owner", "admin", "ids"])
async def test_server_managers_and_admin_ids_may(
    world: StandIn, start_newsbot: Any, user: str
) -> None:
    """The control: the same commands work for those allowed (so refusals mean something)."""
    who = "alice" if user == "ids" else user
    ids = frozenset({int(world.world.user("alice")["id"])}) if user == "ids" else frozenset()
    async with start_newsbot(admin_ids=ids) as h:
        _, cb = await h.answer("admin stats", user=who)
        assert cb.ok and said(cb).startswith("newsbot stats"), said(cb)
        it, cb = await h.answer("admin reload", user=who)
        assert cb.ok and "Reload finished" in await final_text(h, it)


async def test_admin_command_from_a_dm_is_refused_cleanly(
    world: StandIn, start_newsbot: Any
) -> None:
    async with start_newsbot() as h:
        reloaded_at = h.room.last_reload_at
        for command, options in ADMIN_COMMANDS:
            _, cb = await h.answer(command, options, user="admin", dm=True)
            assert_clean_refusal(cb, contains="server")
        assert h.room.last_reload_at == reloaded_at


# -- subscriptions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "channel", "allowed"),
    [
        ("alice", "alerts", False),
        ("mod", "alerts", False),
        ("chanmgr", "alerts", False),
        ("chanmgr", "news", True),
        ("rolemgr", "alerts", True),
        ("admin", "alerts", True),
        ("alice", "staff", False),
    ],
)
async def test_channel_subscriptions_need_manage_channels_there(
    world: StandIn, start_newsbot: Any, user: str, channel: str, allowed: bool
) -> None:
    async with start_newsbot() as h:
        options = {"topic": "AI", "channel": channel_option(h, channel, user)}
        it, cb = await h.answer("subscribe", options, user=user)
        rows = subscriptions(h)
        if allowed:
            assert cb.ok and (await final_text(h, it)).startswith("Subscribed")
            assert [r[1] for r in rows] == [f"channel:{world.world.channel(channel)['id']}"]
        else:
            assert_clean_refusal(cb, contains="Manage Channels")
            assert rows == []


async def test_personal_subscription_needs_no_permission(
    world: StandIn, start_newsbot: Any
) -> None:
    async with start_newsbot() as h:
        it, cb = await h.answer("subscribe", {"topic": "AI"}, user="alice")
        assert cb.ok and (await final_text(h, it)).startswith("Subscribed")
        assert [r[1] for r in subscriptions(h)] == [f"user:{world.world.user('alice')['id']}"]


async def test_only_the_owner_removes_a_personal_subscription(
    world: StandIn, start_newsbot: Any
) -> None:
    async with start_newsbot() as h:
        it, _ = await h.answer("subscribe", {"topic": "AI"}, user="alice")
        await h.final_message(it)
        [(sub_id, *_)] = subscriptions(h)
        for intruder, dm in (("mod", False), ("admin", False), ("owner", False), ("mod", True)):
            # The id is forged: typed, not picked from the intruder's own autocomplete list.
            _, cb = await h.answer(
                "unsubscribe", {"subscription": str(sub_id)}, user=intruder, dm=dm
            )
            assert_clean_refusal(cb, contains="your own")
            assert len(subscriptions(h)) == 1, intruder
            _, choices = await h.choices("unsubscribe", {"subscription": ""}, user=intruder)
            assert str(sub_id) not in [c["value"] for c in choices], intruder
        _, choices = await h.choices("unsubscribe", {"subscription": ""}, user="alice")
        assert [c["value"] for c in choices] == [str(sub_id)]
        it, cb = await h.answer("unsubscribe", {"subscription": str(sub_id)}, user="alice")
        assert cb.ok and (await final_text(h, it)).startswith("Unsubscribed")
        assert subscriptions(h) == []


async def test_channel_subscription_removal_needs_manage_channels_there(
    world: StandIn, start_newsbot: Any
) -> None:
    async with start_newsbot() as h:
        it, _ = await h.answer(
            "subscribe",
            {"topic": "AI", "channel": channel_option(h, "alerts", "admin")},
            user="admin",
        )
        await h.final_message(it)
        [(sub_id, *_)] = subscriptions(h)
        for intruder in ("alice", "mod", "chanmgr"):  # chanmgr manages #news, not #alerts
            _, cb = await h.answer("unsubscribe", {"subscription": f"#{sub_id}"}, user=intruder)
            assert_clean_refusal(cb)
            assert len(subscriptions(h)) == 1, intruder
        it, cb = await h.answer("unsubscribe", {"subscription": str(sub_id)}, user="rolemgr")
        assert cb.ok and (await final_text(h, it)).startswith("Unsubscribed")
        assert subscriptions(h) == []


@pytest.mark.parametrize(
    "forged",
    ["0", "999999", "-1", "1 OR 1=1", "'; DELETE FROM subscriptions; --", "#", "9" * 40, "١٢"],
)
async def test_forged_subscription_ids_are_refused_cleanly(
    world: StandIn, start_newsbot: Any, forged: str
) -> None:
    async with start_newsbot() as h:
        it, _ = await h.answer("subscribe", {"topic": "AI"}, user="alice")
        await h.final_message(it)
        _, cb = await h.answer("unsubscribe", {"subscription": forged}, user="mod")
        text = assert_clean_refusal(cb)
        assert "went wrong" not in text  # understood as a bad pick, not an internal failure
        assert len(subscriptions(h)) == 1


# -- payloads the bot did not expect ----------------------------------------------------


def _raw_slash(
    h: BotHarness, name: str, options: list[dict[str, Any]], **context: Any
) -> dict[str, Any]:
    h.standin.strict_commands = False
    payload = h.standin.slash(name, None, **context)
    payload["data"]["options"] = options
    return payload


@pytest.mark.parametrize(
    ("name", "options", "context"),
    [
        ("frobnicate", [], {}),
        ("frobnicate", [{"name": "x", "type": p.STRING, "value": "y"}], {"dm": True}),
        ("news", [], {}),  # required query missing
        ("news", [{"name": "nope", "type": p.STRING, "value": "x"}], {}),
        ("news", [{"name": "query", "type": p.INTEGER, "value": 5}], {}),  # wrong type
        ("latest", [{"name": "count", "type": p.INTEGER, "value": "many"}], {}),
        ("latest", [{"name": "count", "type": p.INTEGER, "value": 10**30}], {}),
        ("subscribe", [], {}),
        (
            "subscribe",
            [
                {"name": "topic", "type": p.STRING, "value": "AI"},
                {"name": "channel", "type": p.CHANNEL, "value": "123"},
            ],
            {},
        ),  # unresolved channel
        (
            "subscribe",
            [
                {"name": "topic", "type": p.STRING, "value": "AI"},
                {"name": "channel", "type": p.CHANNEL, "value": "123"},
            ],
            {"dm": True},
        ),
        ("subscribe", [{"name": "topic", "type": p.STRING, "value": "@everyone <@&1>"}], {}),
        ("unsubscribe", [], {}),
        (
            "admin",
            [{"name": "frobnicate", "type": p.SUB_COMMAND, "options": []}],
            {"user": "admin"},
        ),
        ("admin", [], {"user": "admin"}),
    ],
    ids=lambda v: str(v)[:40] if not isinstance(v, dict) else "",
)
async def test_unexpected_payloads_get_a_clean_private_error(
    world: StandIn,
    start_newsbot: Any,
    name: str,
    options: list[dict[str, Any]],
    context: dict[str, Any],
) -> None:
    """Answered once, in time: either a normal answer (the value was usable after all)
    or a private error sentence; never internals, never a live mention."""
    async with start_newsbot() as h:
        reloaded_at = h.room.last_reload_at
        it = await world.dispatch_interaction(_raw_slash(h, name, options, **context))
        cb = await it.wait_callback(timeout=3.0)
        assert cb.ok, (cb.status, cb.response)
        # Deferred: what the user reads arrives as a followup.
        if cb.json["type"] == DEFERRED_CHANNEL_MESSAGE:
            follow = await it.wait_followup(timeout=3.0)
            shown = follow.json
        else:
            shown = cb.json["data"]
        assert_harmless(shown)
        if not shown.get("embeds") or shown.get("flags") == EPHEMERAL:
            assert shown.get("flags") == EPHEMERAL, shown  # an error is private
        await asyncio.sleep(0.1)
        assert len(it.attempts) == 1  # one response, no second try
        assert subscriptions(h) == []
        assert h.room.last_reload_at == reloaded_at


async def test_forged_button_and_autocomplete_are_harmless(
    world: StandIn, start_newsbot: Any
) -> None:
    async with start_newsbot() as h:
        it, _ = await h.answer("news", {"query": "AI"}, user="alice")
        message = await h.final_message(it)
        # Someone else presses the pager of alice's answer: told, and her message is unchanged.
        ids = [
            c.get("custom_id") for row in message.get("components", []) for c in row["components"]
        ]
        assert "newsbot:news:next" in ids, ids
        _, press = await h.press(message["id"], "newsbot:news:next", user="mod")
        assert_clean_refusal(press, contains="Only the person who asked")
        assert world.messages[message["id"]]["embeds"] == message["embeds"]
        # Autocomplete for commands and options that do not exist answers with nothing.
        world.strict_commands = False
        for payload in (
            world.autocomplete("frobnicate", {"x": "y"}),
            world.autocomplete("news", {"nope": "ibm"}),
            world.autocomplete("admin", {"x": "y"}),
        ):
            auto = await world.dispatch_interaction(payload)
            # No answer at all is fine too (discord.py drops a stale signature):
            # Discord then shows its own "loading options failed".
            with contextlib.suppress(TimeoutError):
                acb = await auto.wait_callback(timeout=1.5)
                assert (
                    acb.ok
                    and acb.json["type"] == AUTOCOMPLETE_RESULT
                    and acb.json["data"]["choices"] == []
                )
