"""The Discord side end to end: the real `NewsBot` and discord.py against the stand-in.

Every test drives the bot the way Discord does (INTERACTION_CREATE over the
gateway) and asserts on what the bot sent back over REST: callback types, flags,
embed JSON, components, followups, allowed mentions. The stand-in rejects what
Discord would (late or double acknowledgements, over-limit embeds, bad URLs).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import bot.discord_app.bot as bot_app
import commands.common
from bot.core.loader import load_paths
from bot.core.records import RecordError, parse_file
from bot.core.search.searcher import Answer, Searcher
from bot.core.store import open_store
from bot.core.store.sqlite import SQLiteTransaction
from bot.replies.limits import embed_chars
from bot.replies.reply import NewsPager
from bot.replies.sanitize import escape, unescape
from tests.helpers import PROJECT_ROOT, write_raw
from tests.standin.protocol import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    EPHEMERAL,
    LINK,
    UPDATE_MESSAGE,
)

if TYPE_CHECKING:
    from tests.botfixtures import BotHarness, StartNewsBot
    from tests.standin import RecordedRequest, StandIn

pytest_plugins = ["tests.botfixtures"]

IBM_QUERY = "ibm facial recognition"
IBM_TITLE = "IBM stops work on facial recognition over human rights concerns"
IBM_URL = "https://www.engadget.com/ibm-exits-facial-recognition-business-012915316.html"
IBM_AMP = "https://www.engadget.com/amp/ibm-exits-facial-recognition-business-012915316.html"
IBM_IMAGE_HOST = "https://o.aolcdn.com/images/dims?"
PREV, NEXT = "newsbot:news:prev", "newsbot:news:next"
STORIES = len(list((PROJECT_ROOT / "data" / "articles").glob("*.md")))
# What must never reach a user: Python's own error output.
LEAK_MARKERS = ("Traceback", "Error:", "Exception", 'File "', "line ")


# ----------------------------------------------------------------------------- helpers


def embed(request: RecordedRequest, index: int = 0) -> dict[str, Any]:
    """Embed ``index`` of a callback (``data.embeds``) or a webhook body (``embeds``)."""
    body = request.json.get("data", request.json) if "type" in request.json else request.json
    return body["embeds"][index]


def fields(e: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in e.get("fields", [])}


def buttons(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for row in components for c in row["components"]]


def by_custom_id(components: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {b["custom_id"]: b for b in buttons(components) if "custom_id" in b}


def assert_no_leak(text: str) -> None:
    for marker in LEAK_MARKERS:
        assert marker not in text, f"{marker!r} reached the user: {text!r}"


def make_answers_slow(h: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer takes the defer-then-followup path, as with a slow store."""
    ask = h.room.ask

    async def slow_ask(question: str, **kw: Any) -> Any:
        await asyncio.sleep(0.05)
        return await ask(question, **kw)

    monkeypatch.setattr(commands.common, "DEFER_AFTER", 0.01)
    monkeypatch.setattr(h.room, "ask", slow_ask)


async def expected_story(h: BotHarness, query: str, index: int) -> dict[str, Any]:
    """Embed JSON of hit ``index`` for ``query``, built outside the Discord path."""
    answer = await h.room.ask(query, limit=10)
    pager = NewsPager(h.room, answer, owner_id=None)
    pager.index = index
    reply = await pager.render()
    return reply.embeds[0].to_dict()


# ------------------------------------------------------------------------------ /news


async def test_news_answers_with_the_story_embed_and_link_buttons(newsbot: BotHarness) -> None:
    it, cb = await newsbot.answer("news", {"query": IBM_QUERY})
    assert cb.status == HTTPStatus.OK and cb.json["type"] == CHANNEL_MESSAGE
    data = cb.json["data"]
    assert "flags" not in data or not data["flags"] & EPHEMERAL  # everyone sees the answer
    e = embed(cb)
    assert e["title"] == IBM_TITLE
    assert e["url"] == IBM_URL
    assert e["author"] == {"name": "Engadget · engadget.com", "url": "https://engadget.com"}
    assert e["timestamp"] == "2020-06-09T01:08:00+00:00"
    assert e["description"].startswith("IBM is exiting its facial recognition business")
    assert e["image"]["url"].startswith(IBM_IMAGE_HOST)
    f = fields(e)
    assert f["Topics"] == "Computer Vision · AI"
    related = f["Related coverage"]
    assert related.startswith("The Verge — [IBM will no longer offer, develop, or research")
    assert "(https://www.theverge.com/2020/6/8/21284683/" in related
    assert "PC Magazine — [IBM Ditches Facial Recognition Tech" in related
    assert e["footer"]["text"].startswith("Result 1 of ")
    links = [b for b in buttons(data["components"]) if b["style"] == LINK]
    assert [(b["label"], b["url"]) for b in links] == [
        ("Read on Engadget", IBM_URL),
        ("AMP version", IBM_AMP),
    ]
    assert data["allowed_mentions"] == {"parse": []}
    assert newsbot.standin.allowed_mentions[it.original_message_id] == {"parse": []}
    await asyncio.sleep(0.05)
    assert len(it.attempts) == 1 and it.followup_ids == []  # answered once, nothing after


async def test_news_pages_with_next_and_previous(newsbot: BotHarness) -> None:
    query = "facial recognition"
    answer = await newsbot.room.ask(query, limit=10)
    assert len(answer.hits) >= 2, "the demo data should have several facial-recognition stories"
    page1, page2 = await expected_story(newsbot, query, 0), await expected_story(newsbot, query, 1)
    assert page1["title"] != page2["title"]

    it, cb = await newsbot.answer("news", {"query": query})
    assert cb.json["type"] == CHANNEL_MESSAGE
    assert embed(cb) == page1
    pager = by_custom_id(cb.json["data"]["components"])
    assert set(pager) == {PREV, NEXT}
    assert pager[PREV]["disabled"] is True and pager[NEXT]["disabled"] is False
    message_id = it.original_message_id
    assert message_id is not None

    _, pressed = await newsbot.press(message_id, NEXT)
    assert pressed.json["type"] == UPDATE_MESSAGE  # the same message, edited in place
    assert embed(pressed) == page2
    assert embed(pressed)["footer"]["text"].startswith(f"Result 2 of {min(10, len(answer.hits))}")
    pager = by_custom_id(pressed.json["data"]["components"])
    assert pager[PREV]["disabled"] is False
    second = await newsbot.room.story(answer.hits[1])
    assert second is not None
    links = [b["url"] for b in buttons(pressed.json["data"]["components"]) if b["style"] == LINK]
    assert links[0] == second.article.url  # the link buttons follow the page
    assert pressed.json["data"]["allowed_mentions"] == {"parse": []}
    assert newsbot.standin.messages[message_id]["embeds"][0]["title"] == page2["title"]

    # Someone else presses Next: told privately, and the page does not move.
    _, refused = await newsbot.press(message_id, NEXT, user="mod")
    assert refused.json["type"] == CHANNEL_MESSAGE
    assert refused.json["data"]["flags"] == EPHEMERAL
    assert "Only the person who asked" in refused.json["data"]["content"]
    assert newsbot.standin.messages[message_id]["embeds"][0]["title"] == page2["title"]

    _, back = await newsbot.press(message_id, PREV)
    assert back.json["type"] == UPDATE_MESSAGE and embed(back) == page1
    assert by_custom_id(back.json["data"]["components"])[PREV]["disabled"] is True


async def test_paging_to_a_story_deleted_since_the_question_tells_only_the_presser(
    newsbot: BotHarness,
) -> None:
    query = "facial recognition"
    answer = await newsbot.room.ask(query, limit=10)
    page1 = await expected_story(newsbot, query, 0)
    it, _ = await newsbot.answer("news", {"query": query})
    gone = await newsbot.room.story(answer.hits[1])
    assert gone is not None and gone.article.source
    Path(gone.article.source).unlink()
    assert (await newsbot.room.reload(prune=True)).pruned == 1

    _, pressed = await newsbot.press(it.original_message_id, NEXT)
    assert pressed.json["type"] == CHANNEL_MESSAGE and pressed.json["data"]["flags"] == EPHEMERAL
    assert embed(pressed)["title"] == "Story gone"
    assert newsbot.standin.messages[it.original_message_id]["embeds"][0]["title"] == page1["title"]


async def test_pager_buttons_are_disabled_after_the_timeout(start_newsbot: StartNewsBot) -> None:
    async with start_newsbot(page_timeout=0.3) as h:
        it, cb = await h.answer("news", {"query": "facial recognition"})
        assert by_custom_id(cb.json["data"]["components"])[NEXT]["disabled"] is False
        edit = await h.standin.wait_for_request(
            "PATCH", r"/webhooks/\d+/[^/]+/messages/@original", timeout=3.0
        )
    assert edit.ok
    parts = buttons(edit.json["components"])
    assert {b["custom_id"]: b["disabled"] for b in parts if "custom_id" in b} == {
        PREV: True,
        NEXT: True,
    }
    # The links still work after the timeout.
    assert [b["disabled"] for b in parts if b["style"] == LINK] == [False, False]
    message = h.standin.messages[it.original_message_id]
    assert all(b["disabled"] for b in by_custom_id(message["components"]).values())


async def test_a_pager_from_before_a_restart_says_it_expired(
    start_newsbot: StartNewsBot, standin: StandIn
) -> None:
    async with start_newsbot() as first:
        it, cb = await first.answer("news", {"query": "facial recognition"})
        assert by_custom_id(cb.json["data"]["components"])[NEXT]["disabled"] is False
        shown = standin.messages[it.original_message_id]["embeds"][0]["title"]
        _, turned = await first.press(it.original_message_id, NEXT)
        assert turned.json["type"] == UPDATE_MESSAGE  # live: the page turns
    async with start_newsbot() as second:  # the same message, a new bot process
        _, pressed = await second.press(it.original_message_id, NEXT)
        # A live pager keeps working beside the dead one.
        fresh, _ = await second.answer("news", {"query": "facial recognition"})
        _, turned = await second.press(fresh.original_message_id, NEXT)
    assert pressed.json["type"] == CHANNEL_MESSAGE and pressed.json["data"]["flags"] == EPHEMERAL
    assert (
        "expired" in pressed.json["data"]["content"] and "/news" in pressed.json["data"]["content"]
    )
    assert turned.json["type"] == UPDATE_MESSAGE
    assert standin.messages[it.original_message_id]["embeds"][0]["title"] != shown  # page 2 stays


async def test_a_pager_whose_buttons_could_not_be_disabled_says_it_expired(
    start_newsbot: StartNewsBot, standin: StandIn
) -> None:
    # Tokens live 0.2 s here (Discord: 15 min), so disabling the buttons at the
    # 0.5 s timeout fails and they stay pressable: a press must still get an answer.
    standin.followup_ttl = 0.2
    async with start_newsbot(page_timeout=0.5) as h:
        it, _ = await h.answer("news", {"query": "facial recognition"})
        await asyncio.sleep(1.0)
        assert (
            by_custom_id(standin.messages[it.original_message_id]["components"])[NEXT]["disabled"]
            is False
        )
        _, pressed = await h.press(it.original_message_id, NEXT)
        assert not h.bot.live_pagers
    assert pressed.json["type"] == CHANNEL_MESSAGE and pressed.json["data"]["flags"] == EPHEMERAL
    assert "expired" in pressed.json["data"]["content"]


async def test_buttons_are_disabled_even_when_the_question_token_expired(
    start_newsbot: StartNewsBot, standin: StandIn
) -> None:
    # Scaled down: interaction tokens live 1 s (Discord: 15 min), the pager 0.8 s
    # (default 5 min). A press at 0.5 s restarts the pager's clock, so it times out
    # after the question's token is dead and must use the press's token instead.
    standin.followup_ttl = 1.0
    async with start_newsbot(page_timeout=0.8) as h:
        it, _ = await h.answer("news", {"query": "facial recognition"})
        await asyncio.sleep(0.5)
        press, pressed = await h.press(it.original_message_id, NEXT)
        assert pressed.json["type"] == UPDATE_MESSAGE
        edit = await standin.wait_for_request(
            "PATCH", r"/webhooks/\d+/[^/]+/messages/@original", timeout=3.0
        )
    assert edit.ok, edit.response
    assert edit.params["token"] == press.token
    message = standin.messages[it.original_message_id]
    assert all(b["disabled"] for b in by_custom_id(message["components"]).values())


async def test_slow_answers_are_deferred_and_each_pager_keeps_its_own_message(
    newsbot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_answers_slow(newsbot, monkeypatch)
    first, cb1 = await newsbot.answer("news", {"query": "facial recognition"})
    second, cb2 = await newsbot.answer("news", {"query": "warehouse robots"})
    assert cb1.json["type"] == DEFERRED_CHANNEL_MESSAGE
    assert not (cb1.json.get("data") or {}).get("flags", 0) & EPHEMERAL  # public "thinking…"
    follow1 = await first.wait_followup()
    await second.wait_followup()
    assert embed(follow1) == await expected_story(newsbot, "facial recognition", 0)
    assert follow1.json["allowed_mentions"] == {"parse": []}
    assert cb2.json["type"] == DEFERRED_CHANNEL_MESSAGE

    # Next under the FIRST answer pages the first answer, not the latest one.
    _, pressed = await newsbot.press(first.original_message_id, NEXT)
    assert pressed.json["type"] == UPDATE_MESSAGE
    assert embed(pressed) == await expected_story(newsbot, "facial recognition", 1)
    assert (
        newsbot.standin.messages[second.original_message_id]["embeds"][0]["title"]
        == (await expected_story(newsbot, "warehouse robots", 0))["title"]
    )


async def test_news_without_a_match_answers_privately_with_suggestions(
    newsbot: BotHarness,
) -> None:
    query = "zzqx vlorp"
    answer = await newsbot.room.ask(query, limit=10)
    assert answer.hits == []
    _, cb = await newsbot.answer("news", {"query": query})
    assert cb.json["type"] == CHANNEL_MESSAGE
    assert cb.json["data"]["flags"] == EPHEMERAL
    e = embed(cb)
    assert e["title"] == "No story matches “zzqx vlorp”"
    if answer.suggestions:
        assert e["description"].startswith("Did you mean:") or "Did you mean:" in e["description"]
        for s in answer.suggestions:
            assert escape(s)[:50] in e["description"]
    else:
        assert "Try fewer or different words." in e["description"]
    assert "components" not in cb.json["data"] or cb.json["data"]["components"] == []
    assert newsbot.standin.messages_in("general") == []  # nothing public


async def test_slow_answer_without_a_match_replaces_the_public_thinking_message(
    newsbot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_answers_slow(newsbot, monkeypatch)
    it, cb = await newsbot.answer("news", {"query": "zzqx vlorp"})
    assert cb.json["type"] == DEFERRED_CHANNEL_MESSAGE
    assert not (cb.json.get("data") or {}).get("flags")
    follow = await it.wait_followup(timeout=3.0)
    deleted = newsbot.standin.find_requests("DELETE", r"/webhooks/\d+/[^/]+/messages/@original")
    assert len(deleted) == 1 and deleted[0].ok and deleted[0].at <= follow.at
    assert follow.json["flags"] == EPHEMERAL  # the "no match" stays private
    assert embed(follow)["title"] == "No story matches “zzqx vlorp”"
    assert it.original_message_id in newsbot.standin.deleted_messages


async def test_no_match_shows_the_searchers_suggestions_escaped(
    newsbot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which questions miss is the searcher's business; showing its suggestions is ours.
    suggestions = [IBM_TITLE, "AI_Ethics *draft*", "@everyone Computer Vision"]

    async def no_hits(question: str, **_: object) -> Answer:
        return Answer(query=question, cleaned=question, hits=[], suggestions=suggestions)

    monkeypatch.setattr(newsbot.room, "ask", no_hits)
    it, cb = await newsbot.answer("news", {"query": "ibm facail recogntion"})
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    e = embed(cb)
    assert e["title"] == "No story matches “ibm facail recogntion”"
    assert e["description"] == (
        "Did you mean:\n"
        f"• {IBM_TITLE}\n"
        "• AI\\_Ethics \\*draft\\*\n"
        "• @\u200beveryone Computer Vision"
    )
    assert newsbot.standin.allowed_mentions[it.original_message_id] == {"parse": []}


async def test_news_autocomplete_suggests_titles(newsbot: BotHarness) -> None:
    cb, choices = await newsbot.choices("news", {"query": "ibm fa"}, focused="query")
    assert cb.status == HTTPStatus.OK and cb.json["type"] == AUTOCOMPLETE_RESULT
    assert 1 <= len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 and len(str(c["value"])) <= 100 for c in choices)
    assert any(c["value"] == IBM_TITLE and c["name"].startswith(IBM_TITLE) for c in choices)

    # An empty box (the user just picked the option) still answers, within the limits.
    cb, choices = await newsbot.choices("news", {"query": ""}, focused="query")
    assert cb.json["type"] == AUTOCOMPLETE_RESULT and len(choices) <= 25


async def test_autocomplete_never_offers_more_than_25_or_long_names(
    newsbot: BotHarness,
) -> None:
    long_words = " ".join(["Regulators"] * 20)
    for i in range(40):
        newsbot.write_record(
            f"zz-bulk-{i:02d}.md",
            title=f"Regulators probe chip makers round {i} {long_words}",
            webUrl=f"https://bulk.example.com/story-{i}",
            topics=["Chips"],
        )
    report = await newsbot.room.reload()
    assert report.added == 40
    cb, choices = await newsbot.choices("news", {"query": "regulators probe chip"})
    assert cb.ok and cb.json["type"] == AUTOCOMPLETE_RESULT
    assert 1 <= len(choices) <= 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)


async def test_autocomplete_of_an_unknown_command_answers_with_no_choices(
    newsbot: BotHarness,
) -> None:
    newsbot.standin.strict_commands = False
    payload = newsbot.standin.autocomplete("nosuchcommand", {"query": "x"})
    it = await newsbot.standin.dispatch_interaction(payload)
    cb = await it.wait_callback()
    assert cb.ok
    assert cb.json == {"type": AUTOCOMPLETE_RESULT, "data": {"choices": []}}


# ------------------------------------------------------------------- /latest, /topics, /help


async def test_latest_lists_the_newest_stories(newsbot: BotHarness) -> None:
    _, newest = await newsbot.room.latest(None, 5)
    _, cb = await newsbot.answer("latest")
    assert cb.json["type"] == CHANNEL_MESSAGE and not cb.json["data"].get("flags", 0) & EPHEMERAL
    e = embed(cb)
    assert e["title"] == "Latest stories"
    lines = e["description"].split("\n")
    assert len(lines) == 5
    for line, article in zip(lines, newest, strict=True):
        assert f"]({article.url})" in line
    assert cb.json["data"]["allowed_mentions"] == {"parse": []}

    _, cb = await newsbot.answer("latest", {"count": 2})
    assert len(embed(cb)["description"].split("\n")) == 2


async def test_latest_of_a_topic(newsbot: BotHarness) -> None:
    name, articles = await newsbot.room.latest("computer vision", 20)
    assert name == "Computer Vision" and articles
    _, cb = await newsbot.answer("latest", {"topic": "computer vision", "count": 20})
    assert cb.json["type"] == CHANNEL_MESSAGE
    e = embed(cb)
    assert e["title"] == "Latest in Computer Vision"
    lines = e["description"].split("\n")
    assert len(lines) == len(articles)
    assert all(f"]({a.url})" in line for line, a in zip(lines, articles, strict=True))


async def test_latest_topic_autocomplete_and_unknown_topic(newsbot: BotHarness) -> None:
    cb, choices = await newsbot.choices("latest", {"topic": "comp"}, focused="topic")
    assert cb.json["type"] == AUTOCOMPLETE_RESULT and len(choices) <= 25
    assert "Computer Vision" in [c["name"] for c in choices]

    _, cb = await newsbot.answer("latest", {"topic": "qqqq no such topic"})
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    assert embed(cb)["title"].startswith("No story matches")


async def test_topics_lists_topics_with_counts(newsbot: BotHarness) -> None:
    topics = await newsbot.room.topics()
    _, cb = await newsbot.answer("topics")
    assert cb.json["type"] == CHANNEL_MESSAGE
    e = embed(cb)
    assert e["title"] == "Topics"
    assert e["description"] == f"{len(topics)} topics across {STORIES} stories."
    shown = "\n".join(f["value"] for f in e["fields"])
    top_name, top_count = topics[0]
    assert f"{escape(top_name)} · **{top_count}**" in shown


async def test_help_lists_the_commands_privately(newsbot: BotHarness) -> None:
    _, cb = await newsbot.answer("help")
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    e = embed(cb)
    assert e["title"] == "newsbot commands"
    names = [unescape(n) for n in fields(e)]
    assert "/news <question>" in names
    assert "/admin reload | stats | sync | feeds" in names


# ----------------------------------------------------------------------------- /admin


@pytest.mark.parametrize("user", ["alice", "mod"])
async def test_admin_commands_refuse_members_without_manage_server(
    newsbot: BotHarness, user: str
) -> None:
    member = newsbot.standin.world.member(user)
    perms = newsbot.standin.world.permissions_for(member)
    assert not perms & 0x20  # no Manage Server, yet Discord delivered the command (override)
    reloaded_at = newsbot.room.last_reload_at
    for command in ("admin stats", "admin reload", "admin sync"):
        _, cb = await newsbot.answer(command, user=user)
        assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
        assert cb.json["data"]["content"] == (
            "You need the Manage Server permission to use this command."
        )
    assert not newsbot.standin.find_requests("PUT", route="bulk_overwrite_guild_commands")
    assert newsbot.room.last_reload_at == reloaded_at  # no reload ran


async def test_admin_commands_are_limited_by_default_permissions(newsbot: BotHarness) -> None:
    [admin] = [c for c in newsbot.standin.global_commands.values() if c["name"] == "admin"]
    assert str(admin["default_member_permissions"]) == str(0x20)  # Manage Server
    assert admin["contexts"] == [0]  # servers only


async def test_admin_ids_and_administrators_may_use_admin_commands(
    start_newsbot: StartNewsBot, standin: StandIn
) -> None:
    alice = int(standin.world.user("alice")["id"])
    async with start_newsbot(admin_ids=frozenset({alice})) as h:
        for user in ("alice", "admin", "owner"):
            _, cb = await h.answer("admin stats", user=user)
            assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
            assert embed(cb)["title"] == "newsbot stats", user
        _, cb = await h.answer("admin stats", user="mod")
        assert "Manage Server" in cb.json["data"]["content"]


async def test_admin_in_a_dm_gets_a_clean_error(newsbot: BotHarness) -> None:
    _, cb = await newsbot.answer("admin stats", user="admin", dm=True)
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    assert cb.json["data"]["content"] == "This command only works in a server."


async def test_admin_ids_user_in_a_dm_cannot_sync_here(
    start_newsbot: StartNewsBot, standin: StandIn
) -> None:
    alice = int(standin.world.user("alice")["id"])
    async with start_newsbot(admin_ids=frozenset({alice})) as h:
        _, stats = await h.answer("admin stats", user="alice", dm=True)
        assert embed(stats)["title"] == "newsbot stats"  # admin ids are trusted anywhere
        _, cb = await h.answer("admin sync", user="alice", dm=True)
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    assert cb.json["data"]["content"].startswith("There is no server here")
    # Only the fixture's own sync: "here" did not turn into a global publish.
    assert len(standin.find_requests("PUT", route="bulk_overwrite_global_commands")) == 1


async def test_admin_sync_here_publishes_to_the_guild(newsbot: BotHarness) -> None:
    it, cb = await newsbot.answer("admin sync", {"scope": "here"}, user="owner")
    assert cb.json["type"] == DEFERRED_CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    follow = await it.wait_followup(timeout=3.0)
    guild_id = newsbot.standin.world.guild()["id"]
    assert {c["name"] for c in newsbot.standin.guild_commands[guild_id].values()} >= {
        "news",
        "latest",
        "topics",
        "help",
        "admin",
    }
    assert embed(follow)["title"] == "Commands synced"
    assert "this server" in embed(follow)["description"]


async def test_admin_reload_reports_added_updated_unchanged_and_rejections(
    newsbot: BotHarness,
) -> None:
    newsbot.write_record(
        "2024-05-01-quokka-robotics-opens-a-lab.md",
        title="Quokka Robotics opens a research lab in Perth",
        webUrl="https://news.example.com/quokka-robotics-lab",
        excerpt="The start-up will hire forty engineers.",
        publishedDateTime="2024-05-01T09:00:00Z",
        topics=["Robotics"],
    )
    bad = write_raw(newsbot.data_dir, "zz-broken.md", "---\nexcerpt: no title here\n---\n")
    with pytest.raises(RecordError) as why:
        parse_file(bad)
    seed = sorted(newsbot.data_dir.glob("2020-06-09-ibm-*.md"))[0]
    seed.write_text(
        seed.read_text(encoding="utf-8").replace("quality: 89", "quality: 91"), encoding="utf-8"
    )

    it, cb = await newsbot.answer("admin reload", user="admin")
    assert cb.json == {"type": DEFERRED_CHANNEL_MESSAGE, "data": {"flags": EPHEMERAL}}
    follow = await it.wait_followup(timeout=5.0)
    e = embed(follow)
    assert e["title"] == "Reload finished"
    f = {k: unescape(v) for k, v in fields(e).items()}
    assert (f["Added"], f["Updated"], f["Unchanged"], f["Rejected"]) == (
        "1",
        "1",
        str(STORIES - 1),
        "1",
    )
    assert f"zz-broken.md: {why.value.reason}" in f["First rejections"]
    assert str(newsbot.data_dir) not in f["First rejections"]  # names, not server paths
    message = newsbot.standin.messages[it.original_message_id]
    assert message["flags"] & EPHEMERAL

    # The new story answers questions right away.
    _, cb = await newsbot.answer("news", {"query": "quokka robotics lab"})
    assert embed(cb)["title"] == "Quokka Robotics opens a research lab in Perth"


async def test_reload_while_one_runs_is_refused_and_news_keeps_answering(
    newsbot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    newsbot.write_record(
        "2024-06-01-new.md",
        title="Harbour city trials driverless ferries",
        webUrl="https://news.example.com/driverless-ferries",
        topics=["Autonomous Vehicles"],
    )
    store = newsbot.room.store
    inside = asyncio.Event()
    release = asyncio.Event()
    upsert = SQLiteTransaction.upsert_prepared

    async def slow_upsert(tx: Any, items: Any) -> Any:
        # The write transaction is open here: the worst moment for readers.
        inside.set()
        await release.wait()
        return await upsert(tx, items)

    monkeypatch.setattr(SQLiteTransaction, "upsert_prepared", slow_upsert)
    first, cb = await newsbot.answer("admin reload", user="admin")
    assert cb.json["type"] == DEFERRED_CHANNEL_MESSAGE
    await asyncio.wait_for(inside.wait(), 5.0)
    assert newsbot.room.reloading and store.writing

    _, busy = await newsbot.answer("admin reload", user="owner")
    assert busy.json["type"] == CHANNEL_MESSAGE and busy.json["data"]["flags"] == EPHEMERAL
    assert embed(busy)["title"] == "Reload already running"

    it, cb = await newsbot.answer("news", {"query": IBM_QUERY})
    assert cb.json["type"] == CHANNEL_MESSAGE and embed(cb)["title"] == IBM_TITLE
    assert cb.at - it.created_at < 1.0
    _, stats = await newsbot.answer("admin stats", user="admin")
    assert stats.json["type"] == CHANNEL_MESSAGE
    _, choices = await newsbot.choices("news", {"query": "ibm"})
    assert choices
    assert not first.followup_ids  # still running

    release.set()
    follow = await first.wait_followup(timeout=5.0)
    assert unescape(fields(embed(follow))["Added"]) == "1"
    assert not newsbot.room.reloading


async def test_search_index_is_rebuilt_once_per_change_and_outside_loads_are_noticed(
    start_newsbot: StartNewsBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rebuilds: list[bool] = []
    refresh = Searcher.refresh

    async def counting_refresh(self: Searcher, *, force: bool = False) -> bool:
        rebuilt = await refresh(self, force=force)
        rebuilds.append(rebuilt)
        return rebuilt

    monkeypatch.setattr(Searcher, "refresh", counting_refresh)
    monkeypatch.setattr(bot_app, "GENERATION_POLL_SECONDS", 0.05)
    async with start_newsbot() as h:
        woken = asyncio.Event()

        async def listener() -> None:
            woken.set()

        h.bot.new_story_listeners.append(listener)
        h.write_record(
            "2024-08-01-kelp.md",
            title="Kelp farmers adopt underwater drones",
            webUrl="https://news.example.com/kelp-drones",
        )
        rebuilds.clear()
        await h.room.reload()
        await asyncio.sleep(0.4)  # several polls of the store's generation
        # The reload rebuilt the index; the watcher saw the new generation but had
        # nothing left to rebuild (a forced rebuild costs seconds at 100,000 stories).
        assert rebuilds.count(True) == 1

        # A `newsbot load` by another process: noticed, searchable, alerts woken.
        outside = tmp_path / "outside"
        h.write_record(
            "../outside/2024-08-02-owls.md",
            title="Night owls tracked by radar network",
            webUrl="https://news.example.com/owl-radar",
        )
        woken.clear()
        async with await open_store(h.settings.db_path) as other:
            assert (await load_paths(other, [outside])).added == 1
        await asyncio.wait_for(woken.wait(), 3.0)
        _, cb = await h.answer("news", {"query": "owls radar"})
        assert embed(cb)["title"] == "Night owls tracked by radar network"


async def test_admin_stats_fields(newsbot: BotHarness) -> None:
    await newsbot.room.reload()
    _, cb = await newsbot.answer("admin stats", user="owner")
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    e = embed(cb)
    assert e["title"] == "newsbot stats"
    f = {k: unescape(v) for k, v in fields(e).items()}
    stats = await newsbot.room.store.stats()
    assert f["Stories"] == str(STORIES)
    assert f["Topics"] == str(stats["topics"])
    assert f["Providers"] == str(stats["providers"])
    assert f["Subscriptions"] == "0 (none)"
    assert f["Pending alerts"] == "0"
    assert f["DB size"].endswith(("KiB", "MiB"))
    assert f["Newest story"] == str(stats["newest"])
    assert f["Last reload"].startswith(f"0 added, 0 updated, {STORIES} unchanged, 0 rejected")
    assert f["Last reload"].endswith("s ago)")
    assert f["Uptime"].endswith(" s") and "h" not in f["Uptime"]  # text.format_duration
    assert f["Gateway latency"].endswith(" ms")


# --------------------------------------------------------------------------- failures


async def test_unknown_command_gets_a_clean_ephemeral_error(newsbot: BotHarness) -> None:
    newsbot.standin.strict_commands = False
    _, cb = await newsbot.answer("frobnicate")
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    text = cb.json["data"]["content"]
    assert text.startswith("I don't know that command")
    assert_no_leak(text)


async def test_command_with_missing_options_gets_a_clean_ephemeral_error(
    newsbot: BotHarness,
) -> None:
    _, cb = await newsbot.answer("news", {})  # `query` is required
    assert cb.json["type"] == CHANNEL_MESSAGE and cb.json["data"]["flags"] == EPHEMERAL
    text = cb.json["data"]["content"]
    assert text.startswith("I don't know that command")  # Discord's copy is out of date
    assert_no_leak(text)


async def test_a_failing_command_is_logged_and_answered_without_internals(
    newsbot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database exploded at /secret/path.db")

    monkeypatch.setattr(newsbot.room, "topics", broken)
    _, cb = await newsbot.answer("topics")
    text = cb.json["data"]["content"]
    assert cb.json["data"]["flags"] == EPHEMERAL
    assert "secret" not in text and "exploded" not in text
    assert_no_leak(text)
    assert any(r.exc_info and "exploded" in str(r.exc_info[1]) for r in caplog.records)


async def test_hostile_article_renders_within_limits_and_pings_nobody(
    newsbot: BotHarness,
) -> None:
    title = "@everyone Zorblat quokkas **seize** the harbour " + " ".join(
        f"word{i}" for i in range(60)
    )
    assert len(title) >= 300
    newsbot.write_record(
        "2024-07-01-hostile.md",
        title=title[:300],
        webUrl="https://news.example.com/hostile",
        excerpt="Ping @here and <@123456789> and [click](javascript:alert(1)).",
        images=[{"url": "javascript:alert(1)", "width": 600}, {"url": "https://bad host/x.png"}],
        provider={"name": "@everyone Daily", "domain": "hostile.example.com"},
        topics=["Security"],
    )
    report = await newsbot.room.reload()
    assert report.added == 1

    it, cb = await newsbot.answer("news", {"query": "zorblat quokkas seize harbour"})
    assert cb.status == HTTPStatus.OK, cb.response  # the stand-in validates every limit and URL
    e = embed(cb)
    assert len(e["title"]) <= 256 and e["title"].endswith("…")
    assert "@everyone" not in e["title"] and "@\u200beveryone" in e["title"]
    assert "\\*\\*seize\\*\\*" in e["title"]
    assert "image" not in e and "thumbnail" not in e
    assert "javascript:" not in e.get("description", "")
    assert "@everyone" not in e["author"]["name"]
    assert cb.json["data"]["allowed_mentions"] == {"parse": []}
    assert newsbot.standin.allowed_mentions[it.original_message_id] == {"parse": []}
    message = newsbot.standin.messages[it.original_message_id]
    assert message["mention_everyone"] is False and message["mentions"] == []
    assert embed_chars(e) <= 6000


# ------------------------------------------------------------------------- newsbot run


def test_run_without_a_token_exits_2_and_points_to_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "NEWSBOT_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run"],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "DISCORD_TOKEN" in done.stderr
    assert "newsbot console" in done.stderr
    assert "Traceback" not in done.stderr
