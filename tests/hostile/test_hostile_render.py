"""Content that attacks the reader: mentions, masked links, markdown breakouts,
invisible characters, 10,000-character titles, javascript:/data: URLs.

Family "content" of the hostile suite (issue 7; counted by bench/faults.py).
Stories are rendered by every builder of `bot.replies.embeds` and checked against
Discord's limits (the stand-in's own validator), for inert text, and for
URLs that are http(s) only; one hostile story goes through the real bot and
the stand-in end to end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.records import Article, Image, Provider, RecordError, Related, parse_text
from bot.replies.embeds import (
    alert_batches,
    alert_embeds,
    info_embed,
    latest_embed,
    no_match_embed,
    story_buttons,
    story_embed,
    topics_embed,
)
from bot.replies.limits import BLANK
from bot.replies.sanitize import NO_MENTIONS, safe_url, unescape
from tests.helpers import record_text
from tests.standin import error_paths
from tests.standin import validation as v
from tests.standin.protocol import CHANNEL_MESSAGE, LINK

FAMILY = "content"

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ATTACKS = [
    "@everyone",
    "@here",
    "@EveryOne's",
    "@\u200beveryone",
    "<@123>",
    "<@!123>",
    "<@&456>",
    "<#789>",
    "</news:1>",
    "<t:0:R>",
    "<a:pwn:1>",
    "[x](javascript:alert(1))",
    "[click](https://evil.example/phish)",
    "![i](data:image/png;base64,AAAA)",
    "[[a](b)](javascript:c)",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "```",
    "```js\nalert(1)\n```",
    "||spoiler||",
    "||",
    "**bold**",
    "__under__",
    "~~gone~~",
    "*",
    "_",
    "`code`",
    "> quote",
    ">>> all",
    "# heading",
    "## h2",
    "-# small",
    "- item",
    "1. item",
    "\\",
    "\\*",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u00ad",
    "\u2028",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox",
    "file:///etc/passwd",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x1b[2J",
    "🔥",
    "e\u0301\u0301",
    "https://ok.example.com/a_b*c",
    "<script>",
    "&lt;b&gt;",
]
URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "javascript://x.com/%0aalert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:x",
    "file:///etc/passwd",
    "ftp://x.example/y",
    "//evil.example/x",
    "https://ok.example.com/a",
    "https://ok.example.com/a?x=javascript:alert(1)",
    'https://ok.example.com/(a)[b]<c>"d"',
    "https://ok.example.com/a)](javascript:alert(1)",
    "http://x",
    "https://" + "a" * 3000 + ".com",
    "https://ok.example.com/" + "p" * 600,
    "https://ex ample.com",
    "https://a.example/\u202e",
    "https://@/",
    "",
    "https://[::1",
]

piece = st.one_of(st.sampled_from(ATTACKS), st.text(max_size=12))
hostile = st.lists(piece, max_size=8).flatmap(
    lambda parts: st.sampled_from(["", " ", "\n"]).map(lambda sep: sep.join(parts))
)
huge = st.sampled_from(ATTACKS).map(lambda a: (a + " word ") * (10_000 // (len(a) + 6) + 1))
# Mostly short hostile text; now and then a 10,000-character one (it costs ~50x more to render).
text = st.one_of(hostile, hostile, hostile, huge)
url = st.one_of(st.sampled_from(URLS), st.text(max_size=30))
when = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)))


@st.composite
def articles(draw: st.DrawFn) -> Article:
    def provider() -> Provider | None:
        if draw(st.booleans()):
            return None
        return Provider(
            name=draw(text) or "p", domain=draw(st.one_of(text, st.just("ok.example.com")))
        )

    def images() -> tuple[Image, ...]:
        return tuple(
            Image(url=draw(url), width=draw(st.one_of(st.none(), st.integers(0, 5000))))
            for _ in range(draw(st.integers(0, 1)))
        )

    related = tuple(
        Related(
            title=draw(hostile) or "r",
            url=draw(url),
            excerpt=draw(hostile),
            published=draw(when),
            provider=provider(),
            images=images(),
        )
        for _ in range(draw(st.integers(0, 4)))
    )
    return Article(
        title=draw(text) or "t",
        url=draw(url),
        excerpt=draw(text),
        body=draw(hostile),
        published=draw(when),
        amp_url=draw(st.one_of(st.none(), url)),
        cdn_amp_url=draw(st.one_of(st.none(), url)),
        quality=draw(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))),
        provider=provider(),
        topics=tuple(draw(st.lists(hostile.filter(bool), max_size=4))),
        images=images(),
        related=related,
    )


# -- what "inert and within limits" means ------------------------------------------

# (`<t:…>` timestamps are left out: harmless, and the list embeds use them on purpose.)
_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d|<#\d|</[\w-]+:\d|<a?:\w+:\d", re.I)
_SCHEME = re.compile(r"(javascript|vbscript|data|file)\s*:", re.I)
_HIDDEN = re.compile(
    "[\u00ad\u061c\u180e\u200c-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_OUR_LINK = re.compile(r"\]\((https?://[^()\s]*)\)")
_BARE_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"'\]\s)]")


def _texts(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) of every place Discord shows an embed's text."""
    for key in ("title", "description"):
        if d.get(key):
            yield key, d[key]
    for i, f in enumerate(d.get("fields") or ()):
        yield f"fields.{i}.name", f["name"]
        yield f"fields.{i}.value", f["value"]
    if d.get("footer"):
        yield "footer", d["footer"].get("text") or ""
    if d.get("author"):
        yield "author", d["author"].get("name") or ""


def _urls(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if "url" in d:
        yield "url", d["url"]
    for key, sub in (
        ("author", "url"),
        ("author", "icon_url"),
        ("footer", "icon_url"),
        ("thumbnail", "url"),
        ("image", "url"),
    ):
        if d.get(key) and sub in d[key]:
            yield f"{key}.{sub}", d[key][sub]


def unescaped_markdown(text: str) -> str:
    """The markdown characters of `text` that Discord would act on."""
    text = _OUR_LINK.sub("]", text)  # our own link targets are URL-encoded
    text = _BARE_URL.sub("", text)  # Discord does not format inside an autolink
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in "*_~|`":
            out.append(text[i])
        i += 1
    return "".join(out)


def check_inert(
    embeds: list[discord.Embed], *, buttons: list[discord.ui.Button] = (), our_bold: bool = False
) -> None:
    """Within every Discord limit, nothing pings, no script URL, nothing hidden or breaking out."""
    body: dict[str, Any] = {
        "embeds": [e.to_dict() for e in embeds],
        "allowed_mentions": NO_MENTIONS.to_dict(),
    }
    if buttons:
        view = discord.ui.View()
        for b in buttons:
            view.add_item(b)
        body["components"] = view.to_components()
    errors = v.validate_message(body)
    assert not errors, error_paths(errors)
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["embeds"]) <= 10
    for d in body["embeds"]:
        for where, value in _urls(d):
            assert safe_url(value) == value, (where, value)
        for where, value in _texts(d):
            assert not _MENTION.search(value), (where, value[:200])
            assert not _SCHEME.search(value), (where, value[:200])
            assert not _HIDDEN.search(value), (where, value[:200])
            visible = re.sub(r"@\u200b|<\u200b|\u200b:", "", value)
            if value != BLANK:
                assert "\u200b" not in visible, (where, value[:200])
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value), (where, value[:200])
            if where in ("title", "description") or (
                where.startswith("fields.") and where.endswith("value")
            ):
                marks = unescaped_markdown(value)
                if our_bold:  # list embeds bold parts of each line themselves: **[title](url)**
                    marks = marks.replace("**", "")
                assert marks == "", (where, marks, value[:300])
                for line in value.split("\n"):
                    stripped = line.lstrip()
                    assert not re.match(r"(>|#{1,3}\s|-#\s|[-+]\s|\d+[.)]\s)", stripped), (
                        where,
                        line,
                    )
    for comp in body.get("components", []):
        for b in comp["components"]:
            assert b["style"] == LINK and safe_url(b["url"], max_len=512) == b["url"]
            assert not _MENTION.search(b.get("label") or "")


# -- fuzzed ------------------------------------------------------------------------


@FUZZ
@given(articles(), st.lists(articles(), max_size=2))
def test_story_embed_and_buttons_are_inert_and_within_limits(
    a: Article, also: list[Article]
) -> None:
    embed = story_embed(
        a,
        also=also,
        stored_urls={r.url for r in a.related[:2]},
        footer="Result 1 of 3 · " + a.title[:50],
    )
    check_inert([embed], buttons=story_buttons(a))
    title = embed.to_dict().get("title", "")
    assert len(title) <= 256
    if len(a.title) > 256:
        assert title.endswith("…")


@FUZZ
@given(st.lists(articles(), min_size=1, max_size=4), text)
def test_lists_alerts_and_no_match_are_inert_and_within_limits(
    items: list[Article], q: str
) -> None:
    check_inert([latest_embed(items, title=q or "Latest")], our_bold=True)
    check_inert([latest_embed(items, title="Latest", relative=True)], our_bold=True)
    check_inert(alert_embeds(items, topic=q))
    batches = alert_batches(items, topic=q)
    assert sum(len(b) for b in batches) == len(items)  # none lost to the limits
    for batch in batches:
        check_inert(batch)
    check_inert([no_match_embed(q, [a.title for a in items], notice=q[:100])])
    check_inert([topics_embed([(a.title, i) for i, a in enumerate(items)])], our_bold=True)
    check_inert([info_embed(q or "x", [(a.title, a.excerpt) for a in items], description=q)])


# -- named -------------------------------------------------------------------------


def _attack_article(**changes: Any) -> Article:
    base: dict[str, Any] = dict(
        title="@everyone @here <@123> <@&456> <#789> ```||spoiler|| **bold** > quote # heading "
        "[x](javascript:alert(1)) \u202eevil\u200b",
        url="https://news.example.com/attack",
        excerpt="> quote\n# heading\n```\ncode\n``` ||spoiler|| [click](javascript:alert(1)) "
        "![img](data:image/png;base64,AA) @everyone",
        provider=Provider(name="@everyone <@123> [p](javascript:x)", domain="evil.example"),
        topics=("@here", "**AI**", "<#1>"),
        images=(Image(url="javascript:alert(1)"), Image(url="data:image/png;base64,AA")),
        related=(
            Related(title="<@&456> [r](javascript:alert(1))", url="javascript:alert(1)"),
            Related(
                title="||hidden|| @everyone",
                url="https://other.example.com/r",
                provider=Provider(name="```", domain="x"),
            ),
        ),
        amp_url="data:text/html,x",
    )
    base.update(changes)
    return Article(**base)


def test_every_attack_at_once_is_inert() -> None:
    a = _attack_article()
    embed = story_embed(a)
    check_inert([embed], buttons=story_buttons(a))
    d = embed.to_dict()
    assert "image" not in d and "thumbnail" not in d  # both image URLs were scripts
    assert [b.url for b in story_buttons(a)] == ["https://news.example.com/attack"]
    # The words are still there for the reader, just harmless.
    assert "everyone" in d["title"] and "spoiler" in d["title"]


@pytest.mark.parametrize("size", [257, 10_000, 100_000])
def test_very_long_title_and_excerpt_fit(size: int) -> None:
    a = _attack_article(title="Long " * (size // 5 + 1), excerpt="word " * (size // 5 + 1))
    embed = story_embed(a)
    check_inert([embed])
    d = embed.to_dict()
    assert len(d["title"]) <= 256 and d["title"].endswith("…")
    assert not d["title"][:-1].endswith(" ")  # cut at a word boundary, not mid-space


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "data:text/html,x", "vbscript:x", "ftp://x/y"]
)
def test_script_urls_in_a_record_never_load_or_render(bad: str) -> None:
    # As the story's own URL the record is refused…
    with pytest.raises(RecordError, match="http"):
        parse_text(record_text(title="Attack", webUrl=bad), "attack.md")
    # …elsewhere the field is dropped with a warning and the story loads.
    a = parse_text(
        record_text(
            title="Attack",
            ampWebUrl=bad,
            images=[{"url": bad}],
            related=[
                {"title": "r", "webUrl": bad},
                {"title": "ok", "webUrl": "https://ok.example.com/"},
            ],
        ),
        "attack.md",
    )
    assert a.amp_url is None and a.images == () and [r.title for r in a.related] == ["ok"]
    assert len(a.warnings) == 3
    check_inert([story_embed(a)], buttons=story_buttons(a))


def test_markdown_that_would_break_out_stays_text() -> None:
    for attack in ["```", "||", "**", "__", "~~", "`"]:
        title = f"before {attack} middle {attack} after"
        d = story_embed(_attack_article(title=title, excerpt=title)).to_dict()
        assert unescaped_markdown(d["title"]) == "" and unescaped_markdown(d["description"]) == ""
        assert unescape(d["title"]) == title  # nothing lost, only escaped


def test_naive_renderer_would_fail_these_checks() -> None:
    """The checks themselves bite: an unescaped title is caught."""
    raw = discord.Embed(title="@everyone ```x``` [a](javascript:alert(1))")
    with pytest.raises(AssertionError):
        check_inert([raw])
    with pytest.raises(AssertionError):
        check_inert([discord.Embed(title="ok", url="javascript:alert(1)")])
    with pytest.raises(AssertionError):
        check_inert([discord.Embed(title="x" * 300)])


# -- end to end through the stand-in --------------------------------------------

pytest_plugins = ["tests.botfixtures"]


def _hostile_record(folder: Path) -> None:
    text = record_text(
        title="@everyone zyzzyva quokka <@123> <@&456> <#789> ```||spoiler|| **loud** "
        "[x](javascript:alert(1)) " + "long " * 2000,
        webUrl="https://news.example.com/zyzzyva-quokka",
        excerpt="@here > quote\n# heading\n[click](javascript:alert(1)) \u202e\u200b",
        publishedDateTime="2024-05-01T10:00:00Z",
        topics=["@everyone", "Quokkas"],
        provider={"name": "<@&456> Evil Press", "domain": "evil.example"},
        images=[
            {"url": "javascript:alert(1)"},
            {"url": "https://img.example.com/q.png", "width": 800},
        ],
        related=[
            {
                "title": "||x|| @here",
                "webUrl": "https://other.example.com/q",
                "provider": {"name": "@everyone", "domain": "o.example"},
            }
        ],
    )
    (folder / "hostile.md").write_text(text, encoding="utf-8")


async def test_hostile_story_through_the_bot_and_the_standin(
    bot_data_dir: Path, start_newsbot: Any
) -> None:
    _hostile_record(bot_data_dir)
    async with start_newsbot() as h:
        it, callback = await h.answer("news", {"query": "zyzzyva quokka"})
        assert callback.ok, callback.response  # the stand-in validates limits and URLs
        message = await h.final_message(it)
        latest_it, latest_cb = await h.answer("latest", {"count": 20})
        assert latest_cb.ok, latest_cb.response
        latest = await h.final_message(latest_it)
    body = callback.json["data"] if callback.json["type"] == CHANNEL_MESSAGE else None
    if body is not None:
        assert body["allowed_mentions"] == {"parse": []}
    assert h.standin.allowed_mentions[message["id"]] == {"parse": []}
    assert h.standin.allowed_mentions[latest["id"]] == {"parse": []}
    [embed] = message["embeds"]
    assert "zyzzyva" in embed["title"] and embed["url"] == "https://news.example.com/zyzzyva-quokka"
    check_inert([discord.Embed.from_dict(e) for e in message["embeds"]])
    check_inert([discord.Embed.from_dict(e) for e in latest["embeds"]], our_bold=True)
    assert embed["image"]["url"] == "https://img.example.com/q.png"
    buttons = [b for row in message.get("components", []) for b in row["components"]]
    assert all(b.get("url", "https://").startswith("https://") for b in buttons)
    assert datetime.fromisoformat(embed["timestamp"]) == datetime(2024, 5, 1, 10, tzinfo=UTC)
