"""Untrusted text and URLs made safe for Discord.

Article text goes through :func:`escape` (markdown contexts: title,
description, field names/values) or :func:`plain` (contexts Discord does not
render as markdown: author name, footer, button labels). Every URL goes
through :func:`safe_url`; links we build go through :func:`markdown_link`.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

import discord

from bot.core.records import is_http_url
from bot.core.summary import LINK_TARGET, MARKDOWN_IMAGE, MARKDOWN_LINK
from bot.core.text import INVISIBLE, strip_invisible
from bot.replies.limits import MAX_URL
from bot.replies.truncate import truncate

# Embeds are built from article text, so never let one ping anybody.
NO_MENTIONS = discord.AllowedMentions.none()

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


def _strip_invisible_keep_lines(text: str) -> str:
    return "\n".join(strip_invisible(line) for line in text.replace("\r", "\n").split("\n"))


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
    return _defang(" ".join(strip_invisible(str(text)).split()))


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
    text = _strip_invisible_keep_lines(str(text)) if keep_newlines else strip_invisible(str(text))
    # Repeat: removing one link can expose another (`[[a](b)](c)`).
    for _ in range(5):
        new = MARKDOWN_LINK.sub(r"\1", MARKDOWN_IMAGE.sub(r"\1", text))
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
# URLs and links

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
    url = INVISIBLE.sub(lambda m: quote(m.group(), safe=""), url.strip())
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


def url_host(url: str | None) -> str:
    """The URL's host name, lower case and without ``www.``; "" when it has none."""
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


def markdown_link(text: str, url: str | None, limit: int, *, max_url: int = 600) -> str:
    """``[text](url)``, or just the text when the URL is unsafe or so long
    that the line would not fit in a field."""
    label = _link_text(text, limit) or escape(url_host(url)) or "link"
    target = _link_url(url)
    return f"[{label}]({target})" if target and len(target) <= max_url else label


_ANY_LINK = re.compile(r"(?<!\\)\[((?:[^\[\]\\\n]|\\.)*)\]\(\s*<?(" + LINK_TARGET + r")>?\s*\)")


def unlink_unsafe(text: str) -> str:
    """``text`` with every markdown link to an unsafe URL replaced by its label."""

    def repl(m: re.Match[str]) -> str:
        return m.group(0) if safe_url(m.group(2)) else m.group(1)

    return _ANY_LINK.sub(repl, text)
