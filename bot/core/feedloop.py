"""The loop a running bot polls its feeds with: each feed when it is due, until cancelled.

`FeedPoller.run` asks the feed service when the next feed is due, sleeps until
then (or until `wake` is called, e.g. right after a feed is added) and polls
what is due; the service's own `on_change` hears of new stories. An exception
in one round is logged and the loop carries on: a broken feed, a failing
listener or a busy store must not stop every other feed.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.core.feeds import FeedService
from bot.core.waiting import wait_event

log = logging.getLogger(__name__)


class FeedPoller:
    """Polls `feeds` on their schedule; `run` is the task, `wake` cuts a sleep short."""

    def __init__(
        self,
        feeds: FeedService,
        *,
        idle: float = 60.0,
        gap: float = 1.0,
        retry: float = 30.0,
    ) -> None:
        # `idle` bounds every sleep, so feeds added by another process (`newsbot feeds
        # add` beside the bot) are noticed; `gap` keeps a feed that stays due (a host
        # still waiting out its politeness gap) from spinning the loop.
        self.feeds = feeds
        self.idle = idle
        self.gap = gap
        self.retry = retry
        self.rounds = 0  # polling rounds finished, with or without an error
        self.polling = False  # a round is running (its stories may not be searchable yet)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Poll what is due now instead of at the end of the current sleep."""
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await wait_event(self._wake, seconds)
        self._wake.clear()

    async def _delay(self) -> float:
        due = await self.feeds.next_due()
        if due is None:
            return self.idle
        return min(self.idle, max(self.gap, due - time.time()))

    async def run(self) -> None:
        """Sleep until the next feed is due, poll, repeat; stops only when cancelled."""
        delay = 0.0
        while True:
            await self._sleep(delay)
            self.polling = True
            try:
                await self.feeds.poll_due()
                delay = await self._delay()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("polling the feeds failed; trying again in %.0f s", self.retry)
                delay = self.retry
            finally:
                self.polling = False
                self.rounds += 1
