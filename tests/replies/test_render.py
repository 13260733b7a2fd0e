"""How stories look (`bot.replies.embeds`, `sanitize`, `truncate`, `enforce`, `limits`),
and that nothing escapes Discord's limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.records import Article, Image, Provider, Related, canonical_url, parse_file
from bot.core.summary import summary
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
from bot.replies.enforce import enforce_limits
from bot.replies.limits import embed_chars
from bot.replies.sanitize import NO_MENTIONS, escape, safe_url, unescape
from bot.replies.truncate import truncate
from tests.helpers import SEED, make_article

GUARDIAN = (
    "https://www.theguardian.com/technology/2020/jun/09/"
    "ibm-quits-facial-recognition-market-over-law-enforcement-concerns"
)

# A mention Discord would resolve: not broken by a zero-width space or a backslash.
LIVE_MENTION = re.compile(r"(?<!\\)<[@#][!&]?\d+>|(?<!\\)@(everyone|here)\b", re.IGNORECASE)
INVISIBLE = re.compile("[\u200c-\u200f\u202a-\u202e\u2066-\u2069\ufeff\x00-\x08\x0b-\x1f\x7f]")
LINK = re.compile(r"\[(?:[^\[\]\\\n]|\\.)*\]\(([^()\s]*)\)")


@pytest.fixture(scope="module")
def seed() -> Article:
    return parse_file(SEED)


def dump(embeds: list[discord.Embed]) -> str:
    return json.dumps([e.to_dict() for e in embeds], ensure_ascii=False)


def assert_within_limits(embeds: list[discord.Embed]) -> None:
    """Every Discord embed limit, checked on what is actually sent (to_dict)."""
    assert len(embeds) <= 10
    total = 0
    for e in embeds:
        d = e.to_dict()
        assert len(d.get("title") or "") <= 256
        assert len(d.get("description") or "") <= 4096
        fields = d.get("fields") or []
        assert len(fields) <= 25
        for f in fields:
            assert 0 < len(f["name"]) <= 256
            assert 0 < len(f["value"]) <= 1024
        assert len((d.get("footer") or {}).get("text") or "") <= 2048
        assert len((d.get("author") or {}).get("name") or "") <= 256
        for url in (
            d.get("url"),
            (d.get("author") or {}).get("url"),
            (d.get("image") or {}).get("url"),
            (d.get("thumbnail") or {}).get("url"),
        ):
            assert url is None or (url.startswith(("http://", "https://")) and len(url) <= 2048)
        text = [d.get("description") or ""] + [f["value"] for f in fields]
        for t in text:
            for m in LINK.finditer(t):
                assert m.group(1).startswith(("http://", "https://")), m.group(0)
        total += embed_chars(e)
    assert total <= 6000


def related_lines(e: discord.Embed) -> list[str]:
    return [
        line
        for f in e.fields
        if (f.name or "").startswith("Related coverage")
        for line in (f.value or "").split("\n")
    ]


def hostile_article() -> Article:
    nasty = (
        "@everyone @here <@123> <@!789> <@&456> <#42> [click](javascript:alert(1)) "
        "a\u200bb\u200e\u202e\ufeff\u2066 **bold** `code` ||spoiler|| # heading \x07bell "
    )
    return Article(
        title=("T" * 300) + " " + nasty + ("word " * 2000),
        url="https://example.com/a(b)c",
        excerpt=nasty + ("lorem ipsum " * 900),
        provider=Provider("<@123> @everyone " + "P" * 300, "evil.example"),
        topics=("@everyone", "[x](javascript:alert(1))", "t" * 200),
        images=(
            Image("javascript:alert(1)", width=600),
            Image("data:image/png;base64,AAAA", width=600),
            Image("/relative/image.png", width=600),
        ),
        related=(
            Related(
                title="] [click](javascript:alert(1)) @here <@123>" + "x" * 300,
                url="https://example.com/rel)](javascript:alert(1))",
                provider=Provider("@everyone", ""),
            ),
        ),
        amp_url="javascript:alert(1)",
    )


# ---------------------------------------------------------------------------
# The seed record


def test_seed_story_embed(seed: Article) -> None:
    e = story_embed(seed, footer="Result 1 of 7 · quality 89")
    d = e.to_dict()
    assert d["title"] == "IBM stops work on facial recognition over human rights concerns"
    assert d["url"] == seed.url
    assert d["author"]["name"] == "Engadget · engadget.com"
    assert d["author"]["url"] == "https://engadget.com"
    assert e.timestamp == datetime(2020, 6, 9, 1, 8, tzinfo=UTC)
    assert d["description"] == seed.excerpt
    assert d["image"]["url"] == seed.images[0].url
    assert "thumbnail" not in d
    assert d["footer"]["text"] == "Result 1 of 7 · quality 89"
    topics = [f for f in e.fields if f.name == "Topics"]
    assert len(topics) == 1 and topics[0].inline
    assert "Computer Vision" in topics[0].value and "AI" in topics[0].value
    lines = related_lines(e)
    assert len(lines) == 5
    for r in seed.related:
        assert sum(r.url in line for line in lines) == 1
    assert lines[0].startswith("The Verge — [IBM will no longer offer")
    assert lines[0].endswith("· 9 Jun 2020")
    assert not any("📚" in line for line in lines)
    assert_within_limits([e])


def test_seed_archive_related_first(seed: Article) -> None:
    e = story_embed(seed, stored_urls={canonical_url(GUARDIAN)})
    lines = related_lines(e)
    assert len(lines) == 5
    assert lines[0].startswith("📚 The Guardian — ")
    assert GUARDIAN in lines[0]
    assert sum("📚" in line for line in lines) == 1


def test_also_articles_are_related_coverage(seed: Article) -> None:
    other = make_article(
        1, title="Same event, other outlet", provider=Provider("Wired", "wired.com")
    )
    dup_of_self = make_article(2, url=seed.url + "?utm_source=x")
    e = story_embed(seed, also=[other, dup_of_self])
    lines = related_lines(e)
    assert len(lines) == 6
    assert lines[0].startswith(
        "📚 Wired — [Same event, other outlet](https://news.example.com/story/1)"
    )


def test_small_image_becomes_thumbnail() -> None:
    a = make_article(images=(Image("https://img.example.com/a.png", width=50, height=50),))
    d = story_embed(a).to_dict()
    assert d["thumbnail"]["url"] == "https://img.example.com/a.png"
    assert "image" not in d


def test_seed_buttons(seed: Article) -> None:
    buttons = story_buttons(seed)
    assert [b.label for b in buttons] == ["Read on Engadget", "AMP version"]
    assert [b.url for b in buttons] == [seed.url, seed.amp_url]
    assert all(b.style is discord.ButtonStyle.link for b in buttons)


# ---------------------------------------------------------------------------
# Summaries (the text itself: tests/core/test_summary.py)


def test_summary_empty_when_nothing() -> None:
    assert summary(make_article(excerpt="", body="")) == ""
    e = story_embed(make_article(excerpt="", body=""))
    assert e.description is None


# ---------------------------------------------------------------------------
# Escaping and URLs


def test_escape_mentions_links_and_invisibles() -> None:
    out = escape(
        "@everyone @here <@123> <@&456> <#789> [click](javascript:alert(1)) a\u200bb\u202ec\u2066d"
    )
    assert not LIVE_MENTION.search(out)
    assert "@\u200beveryone" in out and "@\u200bhere" in out
    assert "javascript" not in out and "](" not in out
    assert "click" in out
    assert "abcd" in out
    assert not INVISIBLE.search(out)


def test_escape_markdown_and_whitespace() -> None:
    assert escape("**bold**  _it_\n\n`code` ||s||") == r"\*\*bold\*\* \_it\_ \`code\` \|\|s\|\|"
    assert escape("# Title") == r"\# Title"
    assert escape("-# small") == r"\-# small"
    assert escape("1. first") == r"1\. first"
    assert escape("> quote") == r"\> quote"
    assert escape("[not a link]") == r"\[not a link\]"
    # Bare URLs keep their underscores so they still work.
    assert escape("see https://x.com/a_b_c now") == "see https://x.com/a_b_c now"
    assert escape("a\nb", keep_newlines=True) == "a\nb"
    assert escape(None) == ""


def test_unescape_reverses_escape() -> None:
    text = "**Big** news: @everyone *must* read [this] — 1_000 <@123>"
    assert unescape(escape(text)) == text


def test_safe_url() -> None:
    assert safe_url("https://a.example/x") == "https://a.example/x"
    assert safe_url("http://a.example") == "http://a.example"
    for bad in (
        None,
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "/relative",
        "ftp://a.example/x",
        "https://a.example/ x",
        "https://a.example/" + "x" * 2048,
    ):
        assert safe_url(bad) is None, bad
    assert safe_url("https://a.example/" + "x" * 600, max_len=512) is None


def test_link_urls_cannot_break_out() -> None:
    a = make_article(
        related=(Related(title="a]b[c", url="https://ex.com/p(1)?q=)](javascript:x)"),)
    )
    lines = related_lines(story_embed(a))
    assert len(lines) == 1
    m = LINK.search(lines[0])
    assert m is not None
    assert m.group(0).startswith("[a)b(c](https://ex.com/p%281%29")
    assert lines[0].count("](") == 1


# ---------------------------------------------------------------------------
# Hostile input


def test_hostile_article_is_safe_and_within_limits() -> None:
    a = hostile_article()
    e = story_embed(a, footer="@everyone " + "f" * 3000)
    d = e.to_dict()
    assert_within_limits([e])
    blob = dump([e])
    assert not LIVE_MENTION.search(blob)
    assert "javascript:" not in blob.lower()
    assert "data:" not in blob.lower()
    assert "image" not in d and "thumbnail" not in d
    assert not INVISIBLE.search(blob)
    assert len(d["title"]) <= 256 and d["title"].endswith("…")
    assert d["url"].startswith("https://example.com/")
    buttons = story_buttons(a)
    assert [b.label for b in buttons] == [
        truncate("Read on <\u200b@123> @\u200beveryone " + "P" * 300, 80)
    ]
    for b in buttons:
        assert b.url and b.url.startswith(("http://", "https://"))
        assert len(b.label or "") <= 80


def test_hostile_article_in_every_builder() -> None:
    a = hostile_article()
    embeds = [
        latest_embed([a] * 30, title="Latest @everyone <@1>"),
        no_match_embed(
            "<@123> @here " + "q" * 5000, ["@everyone " + "s" * 5000] * 50, notice="<#1>"
        ),
        topics_embed([(t, 3) for t in a.topics]),
        info_embed("@here", [("<@1>", "[x](javascript:alert(1))\n" + "v" * 3000)] * 40),
        *alert_embeds([a] * 12, topic="@everyone"),
    ]
    for e in embeds:
        assert_within_limits([e])
    blob = dump(embeds)
    assert not LIVE_MENTION.search(blob)
    assert "javascript:" not in blob.lower()


def test_buttons_only_http() -> None:
    bad = make_article(url="javascript:alert(1)", amp_url="data:text/html,x")
    assert story_buttons(bad) == []
    long_url = make_article(url="https://ex.com/" + "x" * 600, amp_url="https://ex.com/amp")
    assert [b.url for b in story_buttons(long_url)] == ["https://ex.com/amp"]
    no_amp = make_article()
    assert [b.label for b in story_buttons(no_amp)] == ["Read on Example News"]


# ---------------------------------------------------------------------------
# Many related items, many alerts


def test_thirty_related_items_within_limits() -> None:
    related = tuple(
        Related(
            title=f"Related story {i} " + "with a rather long headline " * 5,
            url=f"https://outlet{i}.example.com/" + "path/" * 30 + str(i),
            provider=Provider(f"Outlet {i}", f"outlet{i}.example.com"),
            published=datetime(2021, 1, 1, tzinfo=UTC) + timedelta(days=i),
        )
        for i in range(30)
    )
    stored = {canonical_url(related[29].url)}
    e = story_embed(make_article(related=related), stored_urls=stored, max_related=30)
    assert_within_limits([e])
    lines = related_lines(e)
    assert lines[0].startswith("📚 Outlet 29 — ")
    assert lines[-1].startswith("…and ")
    shown = len(lines) - 1
    assert lines[-1] == f"…and {30 - shown} more"
    for f in e.fields:
        assert len(f.value or "") <= 1024
    assert embed_chars(e) <= 6000


def long_article(i: int) -> Article:
    return make_article(
        i,
        title=f"Headline {i} " + "very long words in a title " * 20,
        excerpt="A summary sentence that goes on. " * 40,
        url=f"https://n{i}.example.com/" + "p/" * 100,
        topics=("AI", "Robots"),
        related=tuple(
            Related(title=f"rel {j} " * 20, url=f"https://r{j}.example.com/{i}") for j in range(8)
        ),
    )


def test_alert_batches_lose_nothing() -> None:
    articles = [long_article(i) for i in range(25)]
    batches = alert_batches(articles, topic="AI")
    assert len(batches) >= 3
    seen = []
    for batch in batches:
        assert 1 <= len(batch) <= 10
        assert sum(embed_chars(e) for e in batch) <= 6000
        assert_within_limits(batch)
        seen.extend(e.url for e in batch)
    assert seen == [a.url for a in articles]


def test_alert_embeds_one_message() -> None:
    articles = [long_article(i) for i in range(12)]
    embeds = alert_embeds(articles, topic="AI")
    assert 1 <= len(embeds) <= 10
    assert_within_limits(embeds)
    assert [e.url for e in embeds] == [a.url for a in articles[: len(embeds)]]
    assert all("AI" in (e.footer.text or "") for e in embeds)
    small = alert_embeds([make_article(i) for i in range(3)], topic="AI")
    assert len(small) == 3


def test_alert_batches_empty() -> None:
    assert alert_batches([], topic="AI") == []
    assert alert_embeds([], topic="AI") == []


# ---------------------------------------------------------------------------
# Other builders


def test_latest_embed() -> None:
    articles = [make_article(i) for i in range(3)]
    e = latest_embed(articles, title="Latest")
    lines = (e.description or "").split("\n")
    assert lines[0] == (
        "**[Story number 0 about something](https://news.example.com/story/0)**"
        " — Example News · 4 Mar 2021"
    )
    assert len(lines) == 3
    rel = latest_embed(articles, title="Latest", relative=True)
    ts = int(datetime(2021, 3, 4, 5, 6, tzinfo=UTC).timestamp())
    assert f"<t:{ts}:R>" in (rel.description or "")
    empty = latest_embed([], title="Latest", empty_text="Nothing here.")
    assert empty.description == "Nothing here."


def test_latest_embed_many_within_limits() -> None:
    articles = [long_article(i) for i in range(100)]
    e = latest_embed(articles, title="Latest")
    assert_within_limits([e])
    last = (e.description or "").split("\n")[-1]
    assert re.fullmatch(r"…and \d+ more", last)


def test_topics_embed_sorted_and_within_limits() -> None:
    e = topics_embed([("Robots", 3), ("AI", 10), ("Vision", 5)], total_stories=12)
    values = "\n".join(f.value or "" for f in e.fields)
    assert values.index("AI") < values.index("Vision") < values.index("Robots")
    assert "12 stories" in (e.description or "")
    many = topics_embed([(f"Topic {i} " + "z" * 40, i) for i in range(2000)])
    assert_within_limits([many])
    assert "Topic 1999" in (many.fields[0].value or "")
    assert "Showing the top" in (many.footer.text or "")
    assert topics_embed([]).description == "No topics yet."


def test_no_match_embed() -> None:
    e = no_match_embed("ibm **face**", ["IBM facial recognition", "Facebook"])
    assert e.title == r"No story matches “ibm \*\*face\*\*”"
    assert "Did you mean:\n• IBM facial recognition\n• Facebook" in (e.description or "")
    none = no_match_embed("zzz", [], notice="Index is reloading.")
    assert (none.description or "").startswith("Index is reloading.")
    assert "Did you mean" not in (none.description or "")


def test_info_embed() -> None:
    e = info_embed(
        "Stats", [("Stories", "1,234"), ("Errors", "a_b.md: bad\nc.md: worse"), ("Empty", "")]
    )
    assert [f.name for f in e.fields] == ["Stories", "Errors", "Empty"]
    assert e.fields[0].inline and not e.fields[1].inline
    assert e.fields[1].value == "a\\_b.md: bad\nc.md: worse"
    assert e.fields[2].value == "—"


# ---------------------------------------------------------------------------
# enforce_limits


def test_enforce_limits_truncates_everything() -> None:
    e = discord.Embed(title="t " * 300, description="d " * 3000, url="javascript:alert(1)")
    for i in range(30):
        e.add_field(name="n" * 300, value="v " * 800 + str(i))
    e.set_footer(text="f " * 1500, icon_url="data:x")
    e.set_author(name="a " * 200, url="/rel", icon_url="https://ok.example/i.png")
    e.set_image(url="javascript:x")
    e.set_thumbnail(url="https://ok.example/t.png")
    before = e.to_dict()
    [out] = enforce_limits([e])
    assert_within_limits([out])
    d = out.to_dict()
    assert "url" not in d and "image" not in d
    assert d["thumbnail"]["url"] == "https://ok.example/t.png"
    assert d["author"]["icon_url"] == "https://ok.example/i.png"
    assert "url" not in d["author"] and "icon_url" not in d["footer"]
    assert d["title"].endswith("…") and not d["title"].endswith(" …")
    assert e.to_dict() == before  # the input is not modified


def test_enforce_limits_drops_lines_not_links() -> None:
    line = "[A linked headline here](https://example.com/" + "x" * 60 + ")"
    e = discord.Embed(title="x").add_field(name="Related coverage", value="\n".join([line] * 20))
    [out] = enforce_limits([e])
    value = out.fields[0].value or ""
    assert len(value) <= 1024
    body = value.split("\n")
    assert body[-1] == "…"
    assert all(seg == line for seg in body[:-1])


def test_enforce_limits_description_keeps_links_whole() -> None:
    link = "[headline](https://example.com/abc)"
    desc = "word " * 810 + link + " tail " * 50
    [out] = enforce_limits([discord.Embed(description=desc)])
    d = out.description or ""
    assert len(d) <= 4096
    assert "[headline" not in d or link in d


def test_enforce_limits_total_and_count() -> None:
    embeds = [discord.Embed(title=f"e{i} " + "t" * 250, description="d " * 2000) for i in range(15)]
    out = enforce_limits(embeds)
    assert 1 <= len(out) <= 10
    assert_within_limits(out)
    assert (out[0].title or "").startswith("e0 ")
    # Descriptions were shortened before any embed was dropped.
    assert len(out) > 1


def test_enforce_limits_unlinks_unsafe_markdown_links() -> None:
    e = discord.Embed(description="see [x](javascript:alert(1)) and [y](https://ok.example/)")
    [out] = enforce_limits([e])
    assert out.description == "see x and [y](https://ok.example/)"


def test_embed_chars() -> None:
    e = discord.Embed(title="ab", description="cde").add_field(name="f", value="gh")
    e.set_footer(text="ij").set_author(name="k")
    assert embed_chars(e) == 11
    assert embed_chars(e.to_dict()) == 11


def test_no_mentions_constant() -> None:
    m = NO_MENTIONS
    assert not m.everyone and not m.users and not m.roles and not m.replied_user


# ---------------------------------------------------------------------------
# Property tests

_text = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(
            ["@everyone", "@here", "<@123>", "<#1>", "](", "[", "javascript:", "\u200b", "*", "\\"]
        ),
    ),
    max_size=100,
).map("".join)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(_text)
def test_escape_properties(text: str) -> None:
    out = escape(text)
    assert "\n" not in out
    assert not LIVE_MENTION.search(out)
    assert not INVISIBLE.search(out)
    assert "javascript:" not in out.lower()
    # Every '[' left is escaped: no masked link can start.
    assert not re.search(r"(?<!\\)(?:\\\\)*\[", out)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(max_size=400),
    desc=st.text(max_size=5000),
    fields=st.lists(st.tuples(st.text(max_size=300), st.text(max_size=1500)), max_size=30),
    footer=st.text(max_size=2500),
    n=st.integers(min_value=1, max_value=12),
)
def test_enforce_limits_properties(
    title: str, desc: str, fields: list[tuple[str, str]], footer: str, n: int
) -> None:
    embeds = []
    for _ in range(n):
        e = discord.Embed(title=title or None, description=desc or None)
        for name, value in fields:
            e.add_field(name=name, value=value)
        if footer:
            e.set_footer(text=footer)
        embeds.append(e)
    out = enforce_limits(embeds)
    assert 1 <= len(out) <= 10
    assert_within_limits(out)


@settings(max_examples=100)
@given(st.text(max_size=800), st.integers(min_value=1, max_value=500))
def test_truncate_properties(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
