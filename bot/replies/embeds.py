"""How a story looks: core objects → ``discord.Embed`` objects and link buttons.

Slash commands send what is built here, and the terminal console renders the
very same objects (through ``embed.to_dict()`` and the buttons), so everything
a user should see lives in these embeds and buttons. Text is escaped with
`bot.replies.sanitize`, and every builder finishes with
:func:`~bot.replies.enforce.enforce_limits`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import discord

from bot.core.records import Article, Related, canonical_url
from bot.core.summary import SUMMARY_CHARS, summary
from bot.replies.enforce import enforce_limits
from bot.replies.limits import (
    BLANK,
    MAX_BUTTON_URL,
    MAX_DESCRIPTION,
    MAX_EMBEDS,
    MAX_FIELD_VALUE,
    MAX_FIELDS,
    MAX_LABEL,
    MAX_TITLE,
    MAX_TOTAL,
    embed_chars,
)
from bot.replies.sanitize import escape, markdown_link, plain, safe_url, url_host
from bot.replies.truncate import fit_lines, join_fitting, lines_within, pack_lines, truncate

COLOUR_STORY = 0x3B82F6
COLOUR_INFO = 0x64748B
COLOUR_WARN = 0xF59E0B
COLOUR_ALERT = 0xEF4444

ALERT_SUMMARY_CHARS = 200
# Related-coverage titles are cut here so several fit in one 1024-char field.
_RELATED_TITLE_CHARS = 100
_RELATED_BUDGET = 3000
_LATEST_TITLE_CHARS = 150
_SMALL_IMAGE_WIDTH = 300

# ---------------------------------------------------------------------------
# Pieces of a story


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _date(dt: datetime | None, *, relative: bool = False) -> str:
    dt = _utc(dt)
    if dt is None:
        return ""
    if relative:
        return f"<t:{int(dt.timestamp())}:R>"
    return f"{dt.day} {dt:%b %Y}"


def _provider_name(item: Article | Related) -> str:
    if item.provider and item.provider.name.strip():
        return item.provider.name
    return url_host(item.url)


def _author(article: Article) -> tuple[str, str | None]:
    p = article.provider
    if p is None:
        host = url_host(article.url)
        root = safe_url(f"https://{host}") if host else None
        return host, root
    name, domain = p.name.strip(), p.domain.strip()
    text = (
        f"{name} · {domain}" if domain and domain.casefold() != name.casefold() else name or domain
    )
    return text, safe_url(p.url)


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def _related_line(item: Article | Related, stored: bool) -> str:
    provider = escape(truncate(plain(_provider_name(item)), 60))
    link = markdown_link(item.title, item.url, _RELATED_TITLE_CHARS)
    line = f"{provider} — {link}" if provider else link
    if stored:
        line = f"📚 {line}"
    when = _date(item.published)
    return f"{line} · {when}" if when else line


def _related_lines(
    article: Article,
    also: Sequence[Article],
    stored_urls: Collection[str],
    max_related: int,
) -> list[str]:
    """Lines of related coverage: archived stories first, then the rest, each
    group in the order given; duplicates and the story itself left out."""
    seen = {_canonical(article.url)}
    entries: list[tuple[bool, Article | Related]] = []
    # Records of the same event (`also`) are in the archive by definition.
    candidates = [(a, True) for a in also] + [(r, False) for r in article.related]
    for obj, archived in candidates:
        key = _canonical(obj.url)
        if key in seen:
            continue
        seen.add(key)
        stored = archived or obj.url in stored_urls or key in stored_urls
        entries.append((stored, obj))
    entries.sort(key=lambda e: not e[0])  # stable sort keeps the given order
    lines: list[str] = []
    used = 0
    for stored, obj in entries[: max(0, max_related)]:
        line = _related_line(obj, stored)
        if used + len(line) > _RELATED_BUDGET:
            break
        lines.append(line)
        used += len(line) + 1
    if len(lines) < len(entries):
        lines.append(f"…and {len(entries) - len(lines)} more")
    return lines


# ---------------------------------------------------------------------------
# Builders


def story_embed(
    article: Article,
    *,
    also: Sequence[Article] = (),
    stored_urls: Collection[str] = (),
    footer: str | None = None,
    colour: int | None = None,
    summary_chars: int = SUMMARY_CHARS,
    max_related: int = 10,
    show_topics: bool = True,
) -> discord.Embed:
    """One story: linked title, summary, provider, image, topics, related coverage.

    ``also``: other records of the same event (shown as archive coverage).
    ``stored_urls``: URLs (raw or canonical) of stories in the archive; those
    related items are listed first and marked 📚.
    """
    embed = discord.Embed(
        title=escape(truncate(plain(article.title), MAX_TITLE)),
        url=safe_url(article.url),
        description=escape(summary(article, summary_chars)) or None,
        colour=COLOUR_STORY if colour is None else colour,
        timestamp=_utc(article.published),
    )
    name, site = _author(article)
    if name:
        embed.set_author(name=plain(name), url=site)
    for img in article.images:
        url = safe_url(img.url)
        if url is None:
            continue
        if img.width is not None and img.width < _SMALL_IMAGE_WIDTH:
            embed.set_thumbnail(url=url)
        else:
            embed.set_image(url=url)
        break
    if show_topics and article.topics:
        topics = join_fitting((escape(t) for t in article.topics), " · ", MAX_FIELD_VALUE)
        if topics:
            embed.add_field(name="Topics", value=topics, inline=True)
    lines = _related_lines(article, also, stored_urls, max_related)
    for i, value in enumerate(pack_lines(lines)):
        embed.add_field(
            name="Related coverage" if i == 0 else "Related coverage (cont.)",
            value=value,
            inline=False,
        )
    if footer:
        embed.set_footer(text=plain(footer))
    return enforce_limits([embed])[0]


def story_buttons(article: Article) -> list[discord.ui.Button]:
    """Link buttons: "Read on <provider>" and, when there is one, "AMP version"."""
    buttons: list[discord.ui.Button] = []
    url = safe_url(article.url, max_len=MAX_BUTTON_URL)
    if url:
        label = truncate(plain(f"Read on {_provider_name(article) or 'the web'}"), MAX_LABEL)
        buttons.append(discord.ui.Button(style=discord.ButtonStyle.link, label=label, url=url))
    amp = safe_url(article.amp_url, max_len=MAX_BUTTON_URL) or safe_url(
        article.cdn_amp_url, max_len=MAX_BUTTON_URL
    )
    if amp and amp != url:
        buttons.append(
            discord.ui.Button(style=discord.ButtonStyle.link, label="AMP version", url=amp)
        )
    return buttons


def latest_embed(
    articles: Sequence[Article],
    *,
    title: str,
    empty_text: str = "No stories yet.",
    relative: bool = False,
    footer: str | None = None,
    colour: int | None = None,
) -> discord.Embed:
    """A compact list, one line per story: linked title — provider · date.

    ``relative=True`` shows Discord relative timestamps (``<t:…:R>``) instead
    of dates.
    """
    lines: list[str] = []
    for a in articles:
        link = markdown_link(a.title, a.url, _LATEST_TITLE_CHARS)
        line = f"**{link}**"
        meta = " · ".join(
            p
            for p in (
                escape(truncate(plain(_provider_name(a)), 60)),
                _date(a.published, relative=relative),
            )
            if p
        )
        lines.append(f"{line} — {meta}" if meta else line)
    desc = lines_within(lines, MAX_DESCRIPTION) if lines else escape(empty_text)
    embed = discord.Embed(
        title=escape(truncate(plain(title), MAX_TITLE)) or None,
        description=desc or None,
        colour=COLOUR_STORY if colour is None else colour,
    )
    if footer:
        embed.set_footer(text=plain(footer))
    return enforce_limits([embed])[0]


def topics_embed(
    topics: Sequence[tuple[str, int]],
    *,
    total_stories: int | None = None,
    title: str = "Topics",
    columns: int = 3,
    per_column: int = 20,
) -> discord.Embed:
    """Topic names with story counts, busiest first, in inline columns."""
    ordered = sorted(topics, key=lambda t: (-t[1], plain(t[0]).casefold()))
    n = len(ordered)
    desc = f"{n:,} topic{'s' if n != 1 else ''}"
    if total_stories is not None:
        desc += f" across {total_stories:,} stor{'ies' if total_stories != 1 else 'y'}"
    embed = discord.Embed(title=escape(title), description=desc + ".", colour=COLOUR_INFO)
    if not ordered:
        embed.description = "No topics yet."
        return enforce_limits([embed])[0]
    lines = [f"{escape(truncate(plain(name), 60))} · **{count:,}**" for name, count in ordered]
    rows = min(per_column, max(1, math.ceil(len(lines) / columns)))
    budget = MAX_TOTAL - 500  # title, description and footer need room too
    shown = 0
    used = 0
    while shown < len(lines) and len(embed.fields) < MAX_FIELDS - 1:
        chunk: list[str] = []
        size = 0
        for line in lines[shown : shown + rows]:
            if size + len(line) + 1 > MAX_FIELD_VALUE:
                break
            chunk.append(line)
            size += len(line) + 1
        if not chunk or used + size + 1 > budget:
            break
        embed.add_field(
            name="Topics" if not embed.fields else BLANK, value="\n".join(chunk), inline=True
        )
        shown += len(chunk)
        used += size + 1
    if shown < len(lines):
        embed.set_footer(text=f"Showing the top {shown:,} of {len(lines):,} topics")
    return enforce_limits([embed])[0]


def no_match_embed(
    query: str, suggestions: Sequence[str], notice: str | None = None
) -> discord.Embed:
    """A "No story matches …" reply: optional notice, then "Did you mean:" suggestions."""
    q = escape(truncate(plain(query), 200))
    parts: list[str] = []
    if notice:
        parts.append(escape(notice, keep_newlines=True))
    items = [s for s in (escape(truncate(plain(s), 200)) for s in suggestions) if s][:10]
    if items:
        parts.append("Did you mean:\n" + "\n".join(f"• {s}" for s in items))
    else:
        parts.append("Try fewer or different words.")
    embed = discord.Embed(
        title=f"No story matches “{q}”" if q else "No story matches",
        description="\n\n".join(parts),
        colour=COLOUR_WARN,
    )
    return enforce_limits([embed])[0]


def info_embed(
    title: str,
    fields: Sequence[tuple[str, str]],
    *,
    description: str | None = None,
    colour: int | None = None,
    footer: str | None = None,
    inline: bool | None = None,
) -> discord.Embed:
    """Stats, reload and subscription replies. All text is escaped (it can hold
    topic names or record errors); newlines in values are kept. ``inline=None``
    puts short single-line values side by side."""
    embed = discord.Embed(
        title=escape(title) or None,
        description=escape(description, keep_newlines=True) or None,
        colour=COLOUR_INFO if colour is None else colour,
    )
    for name, value in fields[:MAX_FIELDS]:
        v = escape(str(value), keep_newlines=True) or "—"
        side = inline if inline is not None else (len(v) <= 40 and "\n" not in v)
        embed.add_field(
            name=escape(str(name)) or BLANK, value=fit_lines(v, MAX_FIELD_VALUE), inline=side
        )
    if footer:
        embed.set_footer(text=plain(footer))
    return enforce_limits([embed])[0]


def _alert_embed(article: Article, topic: str) -> discord.Embed:
    return story_embed(
        article,
        footer=f"🔔 New in {topic}" if plain(topic) else "🔔 New story",
        colour=COLOUR_ALERT,
        summary_chars=ALERT_SUMMARY_CHARS,
        max_related=3,
        show_topics=False,
    )


def alert_embeds(articles: Sequence[Article], *, topic: str) -> list[discord.Embed]:
    """One compact embed per article, for one message: at most 10 and 6000
    characters in all (descriptions and fields shrink first, then embeds go)."""
    return enforce_limits([_alert_embed(a, topic) for a in articles[:MAX_EMBEDS]])


def alert_batches(articles: Sequence[Article], *, topic: str) -> list[list[discord.Embed]]:
    """All articles as compact embeds, split into messages within Discord's
    per-message limits (≤10 embeds, ≤6000 chars). None is lost."""
    batches: list[list[discord.Embed]] = []
    cur: list[discord.Embed] = []
    size = 0
    for a in articles:
        e = _alert_embed(a, topic)  # already within limits on its own
        n = embed_chars(e)
        if cur and (len(cur) >= MAX_EMBEDS or size + n > MAX_TOTAL):
            batches.append(cur)
            cur, size = [], 0
        cur.append(e)
        size += n
    if cur:
        batches.append(cur)
    return batches
