"""The application core behind every front end: store + search + reloads + stats.

Discord cogs (`commands/`) and the terminal console (`bot/console/`) both
hold one `Newsroom` and call it; nothing here imports discord.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.alerts.matching import match_hook
from bot.core.embeddings.status import embedding_stats
from bot.core.feeds import FeedService
from bot.core.loader import LoadReport, load_paths
from bot.core.records import Article
from bot.core.search.searcher import Answer, Hit, Searcher
from bot.core.settings import Settings
from bot.core.store import Store, StoreBusy, open_store
from bot.core.store.types import OPERATOR, Audience

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Story:
    """A hit ready to show: the article, its collapsed twins, which related links are stored."""

    article: Article
    also: tuple[Article, ...]
    stored_urls: frozenset[str]


class Newsroom:
    """A store and its searcher, with reloads and stats: what every front end calls."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.searcher = Searcher(
            store, max_query_chars=settings.max_query_chars, embeddings=settings.embeddings
        )
        # Front ends set `feeds.on_change` (the bot refreshes search and wakes alerts there).
        self.feeds = FeedService(store, settings)
        self.started_at = time.time()
        self.last_reload: LoadReport | None = None
        self.last_reload_at: float | None = None
        self._reload_started: float | None = None

    @classmethod
    async def open(cls, settings: Settings, *, autoload: bool = True) -> Newsroom:
        """Open the store (creating it, and filling a new one from the data folder)."""
        store, report = await open_and_fill(settings, autoload=autoload)
        room = cls(settings, store)
        if report is not None:
            room.last_reload, room.last_reload_at = report, time.time()
        try:
            await room.searcher.refresh(force=True)
        except BaseException:
            await store.close()
            raise
        room.searcher.semantic.preload(store)
        return room

    async def close(self) -> None:
        """Stop search's background work, close the feeds' HTTP session and the store."""
        try:
            await self.searcher.close()
            await self.feeds.close()
        finally:
            await self.store.close()

    # -- loading -------------------------------------------------------------

    @property
    def reloading(self) -> bool:
        """True while a load into this store is running."""
        return self.store.load_lock.locked()

    @property
    def reload_running_for(self) -> float | None:
        """Seconds the current `reload` has been running, or None when none is."""
        return time.time() - self._reload_started if self._reload_started else None

    async def reload(self, *, wait: bool = True, prune: bool = False) -> LoadReport:
        """Rescan the data folder into the store; alert matching runs in the same transaction.

        With `wait=False` a reload already running raises `store.StoreBusy`.
        """
        if not wait and self.reloading:
            raise StoreBusy("a reload is already running")
        self._reload_started = time.time()
        try:
            report = await load_stories(
                self.store, self.settings, [self.settings.data_dir], prune=prune, wait=wait
            )
        finally:
            self._reload_started = None
        self.last_reload, self.last_reload_at = report, time.time()
        if report.changed:
            await self.searcher.refresh()
        log.info("reload of %s: %s", self.settings.data_dir, report.summary())
        return report

    # -- questions -----------------------------------------------------------

    async def ask(self, question: str, *, limit: int = 10, audience: Audience = OPERATOR) -> Answer:
        """Search the stories `audience` may see for `question`: at most `limit` hits."""
        return await self.searcher.ask(question, limit=limit, audience=audience)

    async def story(self, hit: Hit) -> Story | None:
        """The hit's article, its collapsed twins and which related links are stored;
        None when a reload deleted it."""
        found = await self.store.get_articles([hit.article_id, *hit.also])
        if not found or found[0].id != hit.article_id:
            return None  # deleted by a reload since the question was asked
        main, also = found[0], tuple(found[1:])
        stored = await self.store.stored_urls([r.url for r in main.related])
        return Story(main, also, frozenset(stored))

    async def latest(
        self, topic: str | None = None, count: int = 5, *, audience: Audience = OPERATOR
    ) -> tuple[str | None, list[Article]]:
        """(resolved topic name, newest stories `audience` may see). An unknown topic
        gives (None, [])."""
        name = None
        if topic and topic.strip():
            name = await self.searcher.resolve_topic(topic)
            if name is None:
                return None, []
        ids = await self.store.latest_ids(topic=name, limit=count, audience=audience)
        return name, await self.store.get_articles(ids)

    async def topics(self) -> list[tuple[str, int]]:
        """Every topic that has stories, with their count, most stories first."""
        return await self.store.topics()

    async def stats(self) -> dict[str, Any]:
        """The store's counts for /stats, with subscriptions, outbox, uptime and the last reload."""
        stats = await self.store.stats()
        subs = await self.store.subscription_counts()
        outbox = await self.store.outbox_counts()
        last = self.last_reload
        stats.update(
            subscriptions=sum(subs.values()),
            subscriptions_by_status=subs,
            outbox=outbox,
            uptime=time.time() - self.started_at,
            last_reload=last.summary() if last else None,
            last_reload_at=self.last_reload_at,
            last_load=await self.store.get_meta("last_load"),
        )
        semantic = self.searcher.semantic
        stats.update(await embedding_stats(self.store, semantic.model, semantic.error))
        return stats


async def load_stories(
    store: Store,
    settings: Settings,
    paths: Sequence[str | os.PathLike[str]],
    **options: Any,
) -> LoadReport:
    """`load_paths` as every front end loads: the configured record size limit, and alert
    matching inside the load's transaction. `options` go to `load_paths` (prune, wait…)."""
    return await load_paths(
        store,
        paths,
        max_bytes=settings.max_record_bytes,
        on_stored=[match_hook(max_age=settings.alert_max_age)],
        **options,
    )


async def open_and_fill(
    settings: Settings, *, autoload: bool = True
) -> tuple[Store, LoadReport | None]:
    """Open the store; one that was never loaded is first filled from the data folder.

    Returns the store and the report of that first load (None when there was none).
    """
    fresh = settings.db_url is None and not settings.db_path.exists()
    store = await open_store(settings.store_target, pool_size=settings.db_pool)
    try:
        if not autoload or not (fresh or await store.get_meta("last_load") is None):
            return store, None
        if not settings.data_dir.is_dir():
            log.warning("data folder %s not found; the store starts empty", settings.data_dir)
            return store, None
        report = await load_stories(store, settings, [settings.data_dir])
        log.info(
            "new store %s: loaded %s (%s)",
            settings.store_label,
            settings.data_dir,
            report.summary(),
        )
        return store, report
    except BaseException:
        await store.close()
        raise


async def rescan_forever(room: Newsroom, interval: float, *, on_change: Any = None) -> None:
    """Reload the data folder every `interval` seconds; survives errors; stops when cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            if room.reloading:
                continue
            report = await room.reload(wait=False)
            if report.changed and on_change is not None:
                await on_change(report)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic rescan of %s failed", room.settings.data_dir)
