"""`FeedService`: what front ends call to add, list, remove and poll feeds.

A poll of one feed is: fetch (conditional GET, `fetch`), and unless the
server said 304 or the body's hash is the last one, parse (`parse`, in
worker processes when many feeds are polled at once), then ONE store
transaction that writes the changed entries through the load path
(`upsert_prepared`: content hashes, FTS), records the story sources
(`feed:<id>`, owned by the feed's server), links same-event coverage
(`grouping`), runs alert matching (`match_hook`) unless it is the feed's
first poll, and saves the feed's new state (`schedule`).

Ownership: a feed added with a `guild_id` is that server's; its stories are
seen by that server only (`Audience`), and only it (or the operator) lists
or removes it. The operator's feeds serve every server.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from bot.core.alerts.matching import match_hook
from bot.core.feeds import schedule
from bot.core.feeds.fetch import Fetched, Fetcher
from bot.core.feeds.grouping import EventIndex, Headline
from bot.core.feeds.parse import ParsedFeed, parse_document
from bot.core.feeds.policy import AddressPolicy, AddressRefused, Resolver
from bot.core.records import canonical_url, is_http_url
from bot.core.settings import Settings
from bot.core.store import Store, StoreTransaction
from bot.core.store.feeds import FeedEntry, FeedRow
from bot.core.store.types import OPERATOR, Audience

log = logging.getLogger(__name__)

CONCURRENCY = 32  # feeds fetched at once (each host still one at a time)
EVENT_HORIZON = 7 * 86400.0  # stories this recent are what new ones are grouped with
PROCESS_THRESHOLD = 8  # documents to parse in one poll before worker processes pay off
MAX_TOPICS = 10


class FeedError(Exception):
    """A request about feeds that cannot be done; the message is for the user."""


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as front ends show it."""

    id: int
    url: str
    title: str
    guild_id: int | None  # None: the operator's (serves every server)
    topics: tuple[str, ...]
    every: float  # seconds between fetches
    state: str  # 'new', 'ok', 'error', 'paused', 'disabled' or 'refused'
    reason: str | None
    last_fetch: float | None  # epoch seconds
    next_fetch: float | None
    stories: int

    @classmethod
    def of(cls, row: FeedRow) -> Feed:
        """The public view of a stored feed."""
        return cls(
            id=row.id,
            url=row.url,
            title=row.title,
            guild_id=row.guild_id,
            topics=row.topics,
            every=row.every,
            state=row.state,
            reason=row.reason,
            last_fetch=row.last_fetch,
            next_fetch=row.next_fetch,
            stories=row.stories,
        )


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    added: int
    updated: int
    unchanged: int
    state: str
    reason: str | None

    @property
    def ok(self) -> bool:
        """The fetch worked (whatever it brought)."""
        return self.state == "ok"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "feed_id": self.feed_id,
            "url": self.url,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "state": self.state,
            "reason": self.reason,
        }


OnChange = Callable[[list[PollReport]], Awaitable[Any]]


def _owned(row: FeedRow, audience: Audience) -> bool:
    return audience.operator or (
        audience.guild_id is not None and row.guild_id == audience.guild_id
    )


def _body_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def _topics(topics: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for t in topics:
        name = " ".join(str(t).split())[:100]
        if name:
            seen.setdefault(name.casefold(), name)
    if len(seen) > MAX_TOPICS:
        raise FeedError(f"a feed takes at most {MAX_TOPICS} topics ({len(seen)} given)")
    return tuple(seen.values())


class FeedService:
    """Feeds of one store: add, list, remove, poll (see the module docstring).

    `resolver` replaces the system's name resolver (tests); `on_change` is awaited
    with the reports of a poll that added or updated stories.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.on_change = on_change
        self.policy = AddressPolicy(settings.feeds_allow_private, resolver)
        self.fetcher = Fetcher(
            self.policy,
            max_bytes=settings.feed_max_bytes,
            connect_timeout=settings.feed_connect_timeout,
            total_timeout=settings.feed_timeout,
            host_gap=settings.feed_host_gap,
        )
        self._match = match_hook(max_age=settings.alert_max_age)
        self._polling: dict[int, asyncio.Lock] = {}
        self._events = EventIndex()
        self._events_stale = True

    # -- managing feeds --------------------------------------------------------

    async def add(
        self,
        url: str,
        *,
        topics: Sequence[str] = (),
        every: float | None = None,
        guild_id: int | None = None,
        added_by: int | None = None,
    ) -> Feed:
        """Add a feed (fetched at the next poll). Raises FeedError with the reason."""
        url = (url or "").strip()
        if not is_http_url(url):
            raise FeedError(f"{url[:200]!r} is not an http(s) URL")
        try:
            self.policy.check_url(url)
        except AddressRefused as exc:
            raise FeedError(f"refused: {exc}") from None
        every = self.settings.feed_interval if every is None else float(every)
        if every < schedule.MIN_EVERY:
            raise FeedError(
                f"a feed is fetched at most every {schedule.MIN_EVERY / 60:g} minutes "
                f"({every:g} s asked)"
            )
        names = _topics(topics)
        url = canonical_url(url)
        async with self.store.transaction() as tx:
            same = await tx.find_feed(url, guild_id)
            if same is not None:
                raise FeedError(f"{url} is already feed #{same.id}")
            cap = self.settings.max_feeds_per_guild
            if guild_id is not None and await tx.count_feeds(guild_id) >= cap:
                raise FeedError(
                    f"this server already has {cap} feeds, the most it may have "
                    "(NEWSBOT_MAX_FEEDS_PER_GUILD); remove one first"
                )
            row = await tx.add_feed(
                url=url,
                guild_id=guild_id,
                added_by=added_by,
                topics=names,
                every=every,
                created_at=time.time(),
            )
        log.info("feed #%d added: %s (server %s)", row.id, url, guild_id)
        return Feed.of(row)

    async def list(self, audience: Audience) -> list[Feed]:
        """The feeds `audience` owns: the operator all, a server its own."""
        return [Feed.of(r) for r in await self.store.feeds(audience)]

    async def get(self, feed_id: int, audience: Audience) -> Feed:
        """One feed `audience` owns; FeedError when there is none such."""
        return Feed.of(await self._owned_row(feed_id, audience))

    async def _owned_row(self, feed_id: int, audience: Audience) -> FeedRow:
        row = await self.store.feed(feed_id)
        if row is None or not _owned(row, audience):
            # Another server's feed gets the same answer as none: ids say nothing.
            raise FeedError(f"there is no feed #{feed_id} here")
        return row

    async def remove(self, feed_id: int, audience: Audience) -> Feed:
        """Delete a feed `audience` owns, and the stories only it carried."""
        row = await self._owned_row(feed_id, audience)
        async with self.store.transaction() as tx:
            deleted = await tx.delete_feed(row.id)
            if deleted:
                await tx.bump_generation()
        log.info("feed #%d removed (%d stories deleted)", row.id, deleted)
        return Feed.of(row)

    async def resume(self, feed_id: int, audience: Audience) -> Feed:
        """Fetch a paused, disabled or failing feed again at the next poll."""
        row = await self._owned_row(feed_id, audience)
        fresh = replace(row, state="new", reason=None, failures=0, gone=0, next_fetch=time.time())
        async with self.store.transaction() as tx:
            await tx.save_feed(fresh)
        return Feed.of(fresh)

    # -- polling ---------------------------------------------------------------

    async def poll(self, *, audience: Audience = OPERATOR) -> list[PollReport]:
        """Fetch now every feed `audience` owns that is neither paused nor disabled,
        whatever its schedule or backoff."""
        rows = [
            r for r in await self.store.feeds(audience) if r.state not in ("paused", "disabled")
        ]
        return await self._poll_rows(rows)

    async def poll_due(self) -> list[PollReport]:
        """Fetch the feeds whose next fetch is due (what the bot's loop calls)."""
        return await self._poll_rows(await self.store.due_feeds(time.time()))

    async def next_due(self) -> float | None:
        """When `poll_due` has work next (epoch seconds; None: no feed to fetch)."""
        return await self.store.next_feed_due()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.fetcher.close()

    async def _poll_rows(self, rows: Sequence[FeedRow]) -> list[PollReport]:
        if not rows:
            return []
        gate = asyncio.Semaphore(CONCURRENCY)
        self._events_stale = True  # reloaded by the run's first feed that stores stories
        saves: list[FeedRow] = []  # feeds whose poll stored nothing: their new state
        executor = _parse_executor(len(rows))
        if executor is not None:
            # Workers start on the first task; starting them blocks, so not on the loop.
            await asyncio.to_thread(lambda: executor.submit(int).result())
        try:
            reports = await asyncio.gather(
                *(self._poll_one(r, gate, executor, saves) for r in rows)
            )
        finally:
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        # Feeds that brought no stories only changed their own state: one transaction.
        if saves:
            async with self.store.transaction() as tx:
                for row in saves:
                    await tx.save_feed(row)
        done = [r for r in reports if r is not None]
        if self.on_change is not None and any(r.added or r.updated for r in done):
            await self.on_change(done)
        return done

    async def _poll_one(
        self,
        row: FeedRow,
        gate: asyncio.Semaphore,
        executor: Executor | None,
        saves: list[FeedRow],
    ) -> PollReport | None:
        lock = self._polling.setdefault(row.id, asyncio.Lock())
        if lock.locked():
            return None  # being polled right now (the loop and a manual poll met)
        async with lock:
            try:
                async with gate:
                    fetched = await self.fetcher.fetch(
                        row.url, etag=row.etag, last_modified=row.last_modified
                    )
                return await self._apply(row, fetched, executor, saves)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("poll of feed #%d (%s) failed", row.id, row.url)
                reason = f"internal error: {type(exc).__name__}: {exc}"[:300]
                # Backed off like any failure, so a loop does not retry it at once.
                saves.append(schedule.failed(row, Fetched(0, row.url, error=reason), time.time()))
                return PollReport(row.id, row.url, 0, 0, 0, "error", reason)

    async def _apply(
        self, row: FeedRow, fetched: Fetched, executor: Executor | None, saves: list[FeedRow]
    ) -> PollReport | None:
        now = time.time()
        current = await self.store.feed(row.id)
        if current is None:
            return None  # removed while it was being fetched
        row = current
        if fetched.status == 304 or (
            fetched.body is not None and _body_hash(fetched.body) == row.body_hash
        ):
            new = schedule.succeeded(row, fetched, now, parsed=False)
            saves.append(new)
            return PollReport(row.id, new.url, 0, 0, row.stories, new.state, new.reason)
        if fetched.body is None:
            new = schedule.failed(row, fetched, now)
            saves.append(new)
            return PollReport(row.id, new.url, 0, 0, 0, new.state, new.reason)
        loop = asyncio.get_running_loop()
        parsed: ParsedFeed = await loop.run_in_executor(
            executor, _parse, fetched.body, fetched.url, row.topics, now, fetched.content_type
        )
        if parsed.error is not None:
            new = schedule.failed(row, fetched, now, error=parsed.error)
            saves.append(new)
            return PollReport(row.id, new.url, 0, 0, 0, new.state, new.reason)
        for warning in parsed.warnings[:20]:
            log.info("feed #%d: %s", row.id, warning)
        warning = next((w for w in parsed.warnings if "malformed" in w), "")
        new = schedule.succeeded(
            row, fetched, now, parsed=True, title=parsed.title, warning=warning
        )
        new = replace(new, body_hash=_body_hash(fetched.body))
        async with self.store.transaction() as tx:
            added, updated, unchanged = await self._store_entries(tx, row, parsed, now)
            await tx.save_feed(new)
        return PollReport(row.id, new.url, added, updated, unchanged, new.state, new.reason)

    async def _store_entries(
        self, tx: StoreTransaction, feed: FeedRow, parsed: ParsedFeed, now: float
    ) -> tuple[int, int, int]:
        """The load path for one document's entries, inside the poll's transaction."""
        entries = list({e.key: e for e in reversed(parsed.entries)}.values())[::-1]
        known = await tx.feed_entries(feed.id)
        changed = [
            e for e in entries if e.key not in known or known[e.key].entry_hash != e.entry_hash
        ]
        # A story this feed never carried but another source did: that source's row
        # stays as it is; this feed is only recorded as carrying it too.
        elsewhere = await tx.stories_by_url([e.key for e in changed if e.key not in known])
        writes = [e.prepared for e in changed if e.key not in elsewhere]
        result = await tx.upsert_prepared(writes, now=now)
        ids = await tx.stories_by_url([e.key for e in entries])
        if elsewhere:
            await tx.keep_shared(elsewhere.values())
        await tx.add_story_sources(ids.values(), f"feed:{feed.id}", feed.guild_id)
        first = feed.polls == 0  # a new feed's backlog is stored, never alerted
        silent = {e.key for e in changed if e.key in known and known[e.key].silent}
        await tx.save_feed_entries(
            feed.id,
            [
                FeedEntry(e.key, e.entry_hash, ids.get(e.key), first or e.key in silent)
                for e in changed
            ],
        )
        fresh = set(result.added) | set(result.updated)
        if fresh:
            await self._link_events(tx, [e for e in changed if ids.get(e.key) in fresh], ids)
            if not first:
                quiet = {ids.get(k) for k in silent}
                await self._match(tx, result.added, [i for i in result.updated if i not in quiet])
            await tx.bump_generation()
        return len(result.added), len(result.updated), len(entries) - len(fresh)

    async def _link_events(
        self, tx: StoreTransaction, entries: list[Any], ids: dict[str, int]
    ) -> None:
        heads = [
            Headline(
                ids[e.key],
                e.prepared.title,
                e.prepared.published_ts,
                e.prepared.provider.name if e.prepared.provider else None,
                e.words,
            )
            for e in entries
        ]
        if self._events_stale:
            now = time.time()
            recent = await tx.event_candidates(now - EVENT_HORIZON, now + 86400)
            self._events.replace(
                Headline(c.id, c.title, c.published_ts, c.provider) for c in recent
            )
            self._events_stale = False
        pairs = self._events.pairs(heads)
        if pairs:
            await tx.link_related(pairs)


def _parse(
    body: bytes, url: str, topics: Sequence[str], now: float, content_type: str | None
) -> ParsedFeed:
    """`parse_document` as a worker runs it (module-level, so it pickles)."""
    return parse_document(body, url=url, topics=topics, fetched_at=now, content_type=content_type)


def _parse_executor(n_feeds: int) -> Executor | None:
    """Worker processes for a poll of many feeds; None: parse in a thread."""
    if n_feeds < PROCESS_THRESHOLD or (multiprocessing.cpu_count() or 1) < 2:
        return None
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None and not os.path.exists(path):
        return None  # from `python -` or a REPL: workers could not re-import __main__
    # forkserver: forking a process that runs threads (the store driver's) can deadlock.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["bot.core.feeds.parse"])
    # One parser per core: unlike the loader's, a spare one measured slower here (the
    # parent's event loop, its SQL thread and the HTTP work already share the cores).
    workers = min(multiprocessing.cpu_count(), 4)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
