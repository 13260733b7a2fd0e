"""The summary of a story: Markdown → plain text, cut at a sentence end (`bot.core.summary`)."""

from __future__ import annotations

from bot.core.summary import summary
from tests.helpers import make_article


def test_summary_cuts_at_sentence_boundary() -> None:
    first = "The first sentence is here and it runs on for a good while to fill space. "
    text = (
        first * 4 + "The last sentence is long and would cross the limit by a wide margin indeed."
    )
    s = summary(make_article(excerpt=text), limit=350)
    assert len(s) <= 350
    assert s.endswith("space.")
    assert text.startswith(s)
    assert len(s) >= 350 * 0.6


def test_summary_cuts_at_word_boundary_never_mid_word() -> None:
    text = " ".join(f"word{i}" for i in range(200))  # no sentence ends at all
    s = summary(make_article(excerpt=text), limit=100)
    assert len(s) <= 100
    assert s.endswith("…")
    head = s[:-1]
    assert text.startswith(head)
    assert text[len(head)] == " "  # the next character is a space: no word was split


def test_summary_skips_abbreviations() -> None:
    text = (
        "Officials in the U.S. said a lot of things about it " * 3
    ) + "and then more words go on " * 20
    s = summary(make_article(excerpt=text), limit=120)
    assert not s.endswith("U.S.")
    assert s.endswith("…")


def test_summary_short_text_untouched() -> None:
    assert summary(make_article(excerpt="Short.")) == "Short."


def test_summary_from_body_markdown_stripped() -> None:
    body = (
        "# Story number 0 about something\n\n"
        "![a photo](https://img.example.com/x.png)\n\n"
        "**IBM** said on _Monday_ that it [would stop](https://example.com/l) selling "
        "`facial` recognition ~~software~~.\n\n"
        "## Background\n\n"
        "- It was a *big* decision.\n"
    )
    s = summary(make_article(excerpt="", body=body))
    assert s == (
        "IBM said on Monday that it would stop selling facial recognition software. "
        "Background. It was a big decision."
    )
    for junk in ("#", "*", "_", "`", "~", "](", "![", "http", "a photo"):
        assert junk not in s
