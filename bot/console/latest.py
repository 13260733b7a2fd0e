"""/latest in the console, paged as /news is: `count` stories a page, `next`/`prev` for more.

Discord shows one list; a terminal user reads on, so the console fetches a few
pages' worth at once and pages through them with the same words as /news.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.core.records import Article
from bot.replies.embeds import latest_embed
from bot.replies.reply import Reply

PAGES = 5  # pages fetched at once
MAX_STORIES = 100


class LatestPages:
    """The newest stories, `per_page` at a time (`index`, `total`, `move` as a news pager)."""

    def __init__(self, title: str, articles: Sequence[Article], per_page: int) -> None:
        self.title = title
        self.articles = list(articles)
        self.per_page = max(1, per_page)
        self.index = 0

    @property
    def total(self) -> int:
        """Number of pages (at least one, which may be empty)."""
        return max(1, math.ceil(len(self.articles) / self.per_page))

    def render(self) -> Reply:
        """The current page as a reply."""
        start = self.index * self.per_page
        shown = self.articles[start : start + self.per_page]
        footer = f"Page {self.index + 1} of {self.total}" if self.total > 1 else None
        return Reply([latest_embed(shown, title=self.title, footer=footer)])

    async def move(self, step: int) -> Reply:
        """Go `step` pages on (or back), within the pages there are."""
        self.index = max(0, min(self.total - 1, self.index + step))
        return self.render()
