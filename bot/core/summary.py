"""Markdown → plain text: the one-paragraph summary of a story.

Domain logic, no Discord: :func:`markdown_to_text` turns a record's Markdown
body into prose, and :func:`summary` cuts an excerpt (or that prose) to a
length at a sentence end when little is lost. The result is plain, unescaped
text; a front end escapes it for wherever it shows it.
"""

from __future__ import annotations

import html
import re

from bot.core.records import Article
from bot.core.text import ELLIPSIS, strip_invisible

SUMMARY_CHARS = 350

# Markdown image/link with a target that may itself hold one level of parens:
# `[click](javascript:alert(1))`.
LINK_TARGET = r"[^()\s]*(?:\([^()\s]*\)[^()\s]*)*"
MARKDOWN_IMAGE = re.compile(
    r"!\[([^\[\]]*)\]\(\s*<?" + LINK_TARGET + r">?(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)
MARKDOWN_LINK = re.compile(
    r"\[([^\[\]]*)\]\(\s*<?" + LINK_TARGET + r">?(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)

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
    text = MARKDOWN_IMAGE.sub(" ", text)
    text = _REF_IMAGE.sub(" ", text)
    for _ in range(5):
        new = _REF_LINK.sub(r"\1", MARKDOWN_LINK.sub(r"\1", text))
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
        raw = strip_invisible(line)
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
    text = _inline_text(strip_invisible(article.excerpt or ""))
    if not text:
        text = markdown_to_text(article.body or "", title=article.title, max_chars=2 * limit + 100)
    return _cut(text, limit)
