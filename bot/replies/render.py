"""How a story looks: core objects → ``discord.Embed`` objects and link buttons.

This is the only module that knows the presentation. Slash commands send what
it builds, and the terminal console renders the very same objects (through
``embed.to_dict()`` and the buttons), so everything a user should see lives in
the embeds and buttons built here.

Article text is untrusted: it goes through :func:`escape` (markdown contexts:
title, description, field names/values) or :func:`plain` (contexts Discord
does not render as markdown: author name, footer, button labels). Every URL
goes through :func:`safe_url`. Every builder finishes with
:func:`enforce_limits`, so what leaves this module is within Discord's limits.
"""

from __future__ import annotations

import copy
import html
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import discord

from bot.core.records import Article, Related, canonical_url, is_http_url

__all__ = [
    "COLOUR_INFO",
    "COLOUR_STORY",
    "COLOUR_WARN",
    "MAX_BUTTON_URL",
    "MAX_URL",
    "NO_MENTIONS",
    "SUMMARY_CHARS",
    "alert_batches",
    "alert_embeds",
    "embed_chars",
    "enforce_limits",
    "escape",
    "info_embed",
    "latest_embed",
    "no_match_embed",
    "plain",
    "safe_url",
    "story_buttons",
    "story_embed",
    "summary",
    "topics_embed",
    "truncate",
    "unescape",
]

# ---------------------------------------------------------------------------
# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)

MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256
MAX_TOTAL = 6000
MAX_EMBEDS = 10
MAX_URL = 2048
# Link buttons are stricter than embeds: a longer URL fails the whole message.
MAX_BUTTON_URL = 512
MAX_LABEL = 80

SUMMARY_CHARS = 350
ALERT_SUMMARY_CHARS = 200
ELLIPSIS = "…"
# A blank field name: Discord rejects an empty one.
BLANK = "\u200b"

COLOUR_STORY = 0x3B82F6
COLOUR_INFO = 0x64748B
COLOUR_WARN = 0xF59E0B
COLOUR_ALERT = 0xEF4444

# Embeds are built from article text, so never let one ping anybody.
NO_MENTIONS = discord.AllowedMentions.none()

# Below this a description stops saying anything; shorten fields instead.
_DESCRIPTION_FLOOR = 120
# Related-coverage titles are cut here so several fit in one 1024-char field.
_RELATED_TITLE_CHARS = 100
_RELATED_BUDGET = 3000
_LATEST_TITLE_CHARS = 150
_SMALL_IMAGE_WIDTH = 300

# ---------------------------------------------------------------------------
# Text cleaning

# Invisible characters that can hide or reorder text (spoofing, "Trojan Source").
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Markdown image/link with a target that may itself hold one level of parens:
# `[click](javascript:alert(1))`.
_MD_TARGET = r"[^()\s]*(?:\([^()\s]*\)[^()\s]*)*"
_MD_IMAGE = re.compile(r"!\[([^\[\]]*)\]\(\s*<?" + _MD_TARGET + r">?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?" + _MD_TARGET + r">?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
# Discord's bare-URL autolink; markdown characters inside it must stay as-is.
_BARE_URL = r"https?://[^\s<]+[^<.,:;\"'\]\s)]"
_ESCAPE_RE = re.compile(rf"(?P<url>{_BARE_URL})|(?P<md>[\\*_~|`\[\]])")
_LINE_START_RE = re.compile(r"^(\s*)(?:([>#\-+])|(\d+)([.)])(?=\s|$))", re.MULTILINE)
# `<@123>`, `<@!1>`, `<@&1>`, `<#1>`, `</cmd:1>`, `<t:…>`, `<id:…>`, `<:e:1>`, `<a:e:1>`.
_MENTION_RE = re.compile(r"<(?=[@#/]|a?:|t:|id:)", re.IGNORECASE)
# No word boundary: "@everyone's" must not ping either.
_EVERYONE_RE = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
# A scheme Discord will not link but a careless client might: keep it inert as text.
_SCHEME_RE = re.compile(r"(javascript|vbscript|data|file)(?=:)", re.IGNORECASE)
_UNESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _strip_invisible(text: str) -> str:
    text = _INVISIBLE.sub("", text)
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            # Tabs/newlines become spaces here; whitespace is collapsed later.
            out.append(" " if ch.isspace() else "")
        elif cat == "Cs":
            continue  # a lone surrogate cannot even be sent as UTF-8
        else:
            out.append(ch)
    return "".join(out)


def _strip_invisible_keep_lines(text: str) -> str:
    return "\n".join(_strip_invisible(line) for line in text.replace("\r", "\n").split("\n"))


def _defang(text: str) -> str:
    """Break mention and dangerous-scheme syntax without visibly changing text."""
    text = _EVERYONE_RE.sub("@\u200b", text)
    text = _MENTION_RE.sub("<\u200b", text)
    return _SCHEME_RE.sub("\\1\u200b", text)


def plain(text: str | None) -> str:
    """Clean text for places Discord shows verbatim (author, footer, labels).

    No markdown escaping there (it would show as backslashes); just invisible
    and control characters removed, whitespace collapsed, mentions broken.
    """
    if not text:
        return ""
    return _defang(" ".join(_strip_invisible(str(text)).split()))


def _escape_line(line: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return m.group("url") or "\\" + m.group("md")

    line = _ESCAPE_RE.sub(repl, line)

    def line_start(m: re.Match[str]) -> str:
        if m.group(2):
            return f"{m.group(1)}\\{m.group(2)}"
        return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"

    return _LINE_START_RE.sub(line_start, line)


def escape(text: str | None, *, keep_newlines: bool = False) -> str:
    """Make untrusted text inert in Discord markdown.

    Removes invisible/bidi/control characters, turns masked links and images
    into their text, collapses whitespace (per line with ``keep_newlines``),
    backslash-escapes markdown (leaving bare URLs intact so they still work),
    and breaks ``@everyone``/``@here``/``<@id>``/``<#id>`` syntax with a
    zero-width space.
    """
    if not text:
        return ""
    text = _strip_invisible_keep_lines(str(text)) if keep_newlines else _strip_invisible(str(text))
    # Repeat: removing one link can expose another (`[[a](b)](c)`).
    for _ in range(5):
        new = _MD_LINK.sub(r"\1", _MD_IMAGE.sub(r"\1", text))
        if new == text:
            break
        text = new
    if keep_newlines:
        lines = [" ".join(line.split()) for line in text.splitlines()]
        text = "\n".join(_escape_line(line) for line in lines).strip("\n")
    else:
        text = _escape_line(" ".join(text.split()))
    return _defang(text)


def unescape(text: str) -> str:
    """Undo :func:`escape` for a terminal: drop escape backslashes and the
    zero-width spaces that break mentions."""
    return _UNESCAPE_RE.sub(r"\1", text).replace("\u200b", "")


# ---------------------------------------------------------------------------
# URLs

_NETLOC_OK = re.compile(r"^[A-Za-z0-9.\-:@\[\]%_~!$&'*+,;=]+$")
_SCHEME_IN_URL = re.compile(r"(javascript|vbscript|data|file):", re.IGNORECASE)
# Characters that would end or confuse a markdown link target.
_LINK_UNSAFE = '()<>[]\\`" '


def safe_url(url: str | None, *, max_len: int = MAX_URL) -> str | None:
    """The URL if it is an absolute http(s) URL of at most ``max_len`` chars, else None."""
    if not isinstance(url, str):
        return None
    # Bidi overrides and zero-width characters are valid in a URL but can make
    # the link Discord shows on hover spell something else: percent-encode them.
    url = _INVISIBLE.sub(lambda m: quote(m.group(), safe=""), url.strip())
    if len(url) > max_len or not is_http_url(url):
        return None
    return url


def _link_url(url: str | None) -> str | None:
    """A URL that can sit inside ``[text](…)`` without ending it early."""
    u = safe_url(url)
    if u is None:
        return None
    parts = urlsplit(u)
    if not _NETLOC_OK.match(parts.netloc):
        return None
    enc = {c: quote(c, safe="") for c in _LINK_UNSAFE}

    def q(s: str) -> str:
        # A scheme-like "javascript:" inside a path is harmless, but keep even
        # the text of one out of what we send.
        s = "".join(enc.get(c, c) for c in s)
        return _SCHEME_IN_URL.sub(r"\1%3A", s)

    out = urlunsplit((parts.scheme, parts.netloc, q(parts.path), q(parts.query), q(parts.fragment)))
    return out if len(out) <= MAX_URL else None


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _link_text(text: str, limit: int) -> str:
    """Escaped text fit for the inside of ``[…]``: no brackets at all."""
    t = truncate(plain(text).replace("[", "(").replace("]", ")"), limit)
    return escape(t)


def _link(text: str, url: str | None, limit: int, *, max_url: int = 600) -> str:
    """``[text](url)``, or just the text when the URL is unsafe or so long
    that the line would not fit in a field."""
    label = _link_text(text, limit) or escape(_host(url)) or "link"
    target = _link_url(url)
    return f"[{label}]({target})" if target and len(target) <= max_url else label


# ---------------------------------------------------------------------------
# Truncation

# Units never cut in half: our markdown links and Discord timestamps.
_ATOM_RE = re.compile(r"\[(?:[^\[\]\\\n]|\\.)*\]\([^()\s]*\)|<t:-?\d+(?::[a-zA-Z])?>")


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """Cut ``text`` to at most ``limit`` chars, ending in ``ellipsis``.

    Cuts at a word boundary when one is in the second half, never inside a
    markdown link or timestamp when avoidable, and never leaves a dangling
    escape backslash (it would escape the ellipsis).
    """
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[: max(limit, 0)]
    cut = limit - len(ellipsis)
    for m in _ATOM_RE.finditer(text):
        if m.start() >= cut:
            break
        if m.end() > cut:
            cut = m.start()
            break
    head = text[:cut]
    if cut < len(text) and not text[cut].isspace():
        sp = max(head.rfind(" "), head.rfind("\n"))
        if sp >= cut // 2:
            head = head[:sp]
    head = head.rstrip()
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:
        head = head[:-1]
    # A cut between a zero-width space and what it protects is harmless, but
    # a bare one left at the end is clutter.
    head = head.rstrip("\u200b").rstrip()
    return head + ellipsis


def _fit_lines(value: str, limit: int, *, marker: str = ELLIPSIS) -> str:
    """Keep whole lines of ``value`` (ending with a ``marker`` line) within ``limit``."""
    if len(value) <= limit:
        return value
    lines = value.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines:
        extra = len(line) + (1 if kept else 0)
        if size + extra + len(marker) + 1 > limit:
            break
        kept.append(line)
        size += extra
    if not kept:
        return truncate(lines[0], limit)
    return "\n".join([*kept, marker])


# ---------------------------------------------------------------------------
# Summaries

_SENTENCE_END = re.compile(r"[.!?…][\"'’”)\]]*(?=\s)")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "no",
        "gen",
        "sen",
        "rep",
        "gov",
        "u.s",
        "u.k",
        "e.g",
        "i.e",
    ]
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_QUOTE = re.compile(r"^\s*(>\s?)+")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^<>\s]*>", re.IGNORECASE)
_REF_IMAGE = re.compile(r"!\[([^\[\]]*)\]\[[^\[\]]*\]")
_REF_LINK = re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]")
_FOOTNOTE = re.compile(r"\[\^[^\]]*\]")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPH = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CODE = re.compile(r"(`+)(.+?)\1")
_MD_BACKSLASH = re.compile(r"\\([!-/:-@\[-`{-~])")


def _inline_text(text: str) -> str:
    text = _HTML_COMMENT.sub(" ", text)
    text = _AUTOLINK.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _MD_IMAGE.sub(" ", text)
    text = _REF_IMAGE.sub(" ", text)
    for _ in range(5):
        new = _REF_LINK.sub(r"\1", _MD_LINK.sub(r"\1", text))
        if new == text:
            break
        text = new
    text = _FOOTNOTE.sub("", text)
    text = _CODE.sub(r"\2", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPH.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _MD_BACKSLASH.sub(r"\1", text)
    return " ".join(html.unescape(text).split())


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", s.casefold()).split())

    return bool(a) and norm(a) == norm(b)


def markdown_to_text(body: str, *, title: str = "", max_chars: int | None = None) -> str:
    """The prose of a Markdown body as one line of plain text.

    Code blocks, rules, tables' rules and reference definitions are dropped;
    a heading that repeats the title is dropped, other headings become a
    sentence of their own. With ``max_chars``, stops once that much text is
    collected (a summary needs only the opening of a long body).
    """
    body = _HTML_COMMENT.sub("\n", body.replace("\r", "\n"))
    blocks: list[str] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            text = _inline_text(" ".join(para))
            if text:
                blocks.append(text)
            para.clear()

    for line in body.split("\n"):
        if max_chars is not None and sum(len(b) + 1 for b in blocks) > max_chars:
            break
        raw = _strip_invisible(line)
        if _FENCE.match(raw):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if not raw.strip():
            flush()
            continue
        if _SETEXT.match(raw) and para:
            # The paragraph so far was a setext heading.
            heading = _inline_text(" ".join(para))
            para.clear()
            _add_heading(blocks, heading, title)
            continue
        if _RULE.match(raw) or _REF_DEF.match(raw) or _TABLE_RULE.match(raw):
            flush()
            continue
        h = _HEADING.match(raw)
        if h:
            flush()
            _add_heading(blocks, _inline_text(h.group(1)), title)
            continue
        line = _LIST.sub("", _QUOTE.sub("", raw))
        if line.strip().startswith("|"):
            line = " ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        para.append(line)
    flush()
    return " ".join(blocks)


def _add_heading(blocks: list[str], heading: str, title: str) -> None:
    if not heading or _same(heading, title):
        return
    blocks.append(heading if heading[-1] in ".!?:…" else heading + ".")


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period ending at ``end`` closes an abbreviation or initial."""
    start = max(text.rfind(" ", 0, end) + 1, 0)
    word = text[start:end].rstrip(".\"'’”)]").casefold().strip("(\"'‘“")
    return len(word) == 1 or word in _ABBREVIATIONS


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # Whole sentences read better than an ellipsis, if little is lost.
    best = 0
    for m in _SENTENCE_END.finditer(text, 0, limit + 1):
        if m.end() > limit:
            break
        if text[m.start()] == "." and _is_abbreviation(text, m.start()):
            continue
        best = m.end()
    if best >= limit * 0.6:
        return text[:best]
    head = text[: limit - len(ELLIPSIS) + 1]
    sp = head.rfind(" ")
    head = head[:sp] if sp > 0 else head[: limit - len(ELLIPSIS)]
    return head.rstrip(" ,;:—–-") + ELLIPSIS


def summary(article: Article, limit: int = SUMMARY_CHARS) -> str:
    """Plain-text excerpt, or the body's opening when there is no excerpt.

    Cut at a sentence end in the last 40% of ``limit``, otherwise at a word
    boundary with "…". Not escaped: pass it through :func:`escape` for Discord.
    """
    text = _inline_text(_strip_invisible(article.excerpt or ""))
    if not text:
        text = markdown_to_text(article.body or "", title=article.title, max_chars=2 * limit + 100)
    return _cut(text, limit)


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
    return _host(item.url)


def _author(article: Article) -> tuple[str, str | None]:
    p = article.provider
    if p is None:
        host = _host(article.url)
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
    link = _link(item.title, item.url, _RELATED_TITLE_CHARS)
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


def _pack_lines(lines: Sequence[str], limit: int = MAX_FIELD_VALUE) -> list[str]:
    """Group lines into field values of at most ``limit`` chars, never splitting one."""
    values: list[str] = []
    cur = ""
    for line in lines:
        line = _fit_lines(line, limit)
        if cur and len(cur) + 1 + len(line) > limit:
            values.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        values.append(cur)
    return values


def _join_fitting(items: Iterable[str], sep: str, limit: int) -> str:
    """Join whole items within ``limit``, ending with "+N" for those left out."""
    items = list(items)
    out: list[str] = []
    size = 0
    for i, item in enumerate(items):
        add = len(item) + (len(sep) if out else 0)
        rest = len(items) - i - 1
        tail = len(f"{sep}+{rest}") if rest else 0
        if size + add + tail > limit:
            if not out:
                return truncate(item, limit)
            out.append(f"+{len(items) - i}")
            break
        out.append(item)
        size += add
    return sep.join(out)


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
        topics = _join_fitting((escape(t) for t in article.topics), " · ", MAX_FIELD_VALUE)
        if topics:
            embed.add_field(name="Topics", value=topics, inline=True)
    lines = _related_lines(article, also, stored_urls, max_related)
    for i, value in enumerate(_pack_lines(lines)):
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
        link = _link(a.title, a.url, _LATEST_TITLE_CHARS)
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
    desc = _lines_within(lines, MAX_DESCRIPTION) if lines else escape(empty_text)
    embed = discord.Embed(
        title=escape(truncate(plain(title), MAX_TITLE)) or None,
        description=desc or None,
        colour=COLOUR_STORY if colour is None else colour,
    )
    if footer:
        embed.set_footer(text=plain(footer))
    return enforce_limits([embed])[0]


def _lines_within(lines: Sequence[str], limit: int) -> str:
    """Whole lines up to ``limit``, then an "…and N more" line."""
    out: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        rest = len(lines) - i - 1
        tail = len(f"\n…and {rest} more") if rest else 0
        if size + len(line) + 1 + tail > limit:
            more = len(lines) - i
            if not out:
                return truncate(line, limit)
            out.append(f"…and {more} more")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


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
            name=escape(str(name)) or BLANK, value=_fit_lines(v, MAX_FIELD_VALUE), inline=side
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


# ---------------------------------------------------------------------------
# Limits


def embed_chars(embed: discord.Embed | Mapping[str, Any]) -> int:
    """Characters Discord counts toward the 6000 total: title, description,
    field names and values, footer text, author name."""
    d = embed.to_dict() if isinstance(embed, discord.Embed) else embed
    n = len(d.get("title") or "") + len(d.get("description") or "")
    for f in d.get("fields") or ():
        n += len(f.get("name") or "") + len(f.get("value") or "")
    n += len((d.get("footer") or {}).get("text") or "")
    n += len((d.get("author") or {}).get("name") or "")
    return n


_ANY_LINK = re.compile(r"(?<!\\)\[((?:[^\[\]\\\n]|\\.)*)\]\(\s*<?(" + _MD_TARGET + r")>?\s*\)")


def _unlink_unsafe(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return m.group(0) if safe_url(m.group(2)) else m.group(1)

    return _ANY_LINK.sub(repl, text)


def _limit_one(d: dict[str, Any]) -> None:
    d.pop("video", None)
    d.pop("provider", None)
    for key in ("url",):
        if key in d and not safe_url(d[key]):
            del d[key]
    if d.get("title"):
        d["title"] = truncate(str(d["title"]), MAX_TITLE)
    else:
        d.pop("title", None)
    if d.get("description"):
        d["description"] = truncate(_unlink_unsafe(str(d["description"])), MAX_DESCRIPTION)
    else:
        d.pop("description", None)
    fields = []
    for f in (d.get("fields") or [])[:MAX_FIELDS]:
        name = truncate(str(f.get("name") or "").strip(), MAX_FIELD_NAME) or BLANK
        value = (
            _fit_lines(_unlink_unsafe(str(f.get("value") or "").strip()), MAX_FIELD_VALUE) or BLANK
        )
        fields.append({"name": name, "value": value, "inline": bool(f.get("inline", True))})
    if fields:
        d["fields"] = fields
    else:
        d.pop("fields", None)
    for key, limit in (("footer", MAX_FOOTER), ("author", MAX_AUTHOR)):
        part = d.get(key)
        if not isinstance(part, dict):
            d.pop(key, None)
            continue
        textkey = "text" if key == "footer" else "name"
        text = truncate(str(part.get(textkey) or "").strip(), limit)
        if not text:
            d.pop(key, None)
            continue
        part[textkey] = text
        for urlkey in ("url", "icon_url", "proxy_icon_url"):
            if urlkey in part and not safe_url(part[urlkey]):
                del part[urlkey]
    for key in ("image", "thumbnail"):
        part = d.get(key)
        if not isinstance(part, dict) or not safe_url(part.get("url")):
            d.pop(key, None)


def _fit_total(ds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def excess() -> int:
        return sum(embed_chars(d) for d in ds) - MAX_TOTAL

    ex = excess()
    if ex <= 0:
        return ds
    # 1. Shorten descriptions, longest first, down to a floor.
    for d in sorted(ds, key=lambda d: len(d.get("description") or ""), reverse=True):
        desc = d.get("description") or ""
        if ex <= 0:
            break
        if len(desc) <= _DESCRIPTION_FLOOR:
            continue
        d["description"] = truncate(desc, max(_DESCRIPTION_FLOOR, len(desc) - ex))
        ex = excess()
    # 2. Drop field lines, then fields, from the end (related coverage goes first).
    for d in reversed(ds):
        fields = d.get("fields") or []
        while ex > 0 and fields:
            last = fields[-1]
            lines = last["value"].split("\n")
            if len(lines) > 1:
                last["value"] = "\n".join(lines[:-1])
            else:
                fields.pop()
            ex = excess()
        if not fields:
            d.pop("fields", None)
        if ex <= 0:
            break
    # 3. Drop whole embeds from the end.
    while ex > 0 and len(ds) > 1:
        ds.pop()
        ex = excess()
    # 4. One embed still too long: cut its text parts.
    if ex > 0:
        d = ds[0]
        for path in (("description",), ("footer", "text"), ("author", "name"), ("title",)):
            holder: Any = d
            for k in path[:-1]:
                holder = holder.get(k) or {}
            text = holder.get(path[-1]) if isinstance(holder, dict) else None
            if not text:
                continue
            holder[path[-1]] = truncate(text, max(1, len(text) - ex))
            ex = excess()
            if ex <= 0:
                break
    return ds


def enforce_limits(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """Copies of ``embeds`` (at most 10) within all of Discord's embed limits,
    with unsafe URLs removed. Text is cut with "…" at word boundaries and
    whole lines of a field are dropped rather than a link cut in half."""
    ds = [copy.deepcopy(e.to_dict()) for e in embeds[:MAX_EMBEDS]]
    for d in ds:
        _limit_one(d)
    return [discord.Embed.from_dict(d) for d in _fit_total(ds)]
