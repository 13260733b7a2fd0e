"""Pacing alert messages: sliding-window limits per target and overall (`Pacer`).

Discord's global limit is per bot token, so processes that split the shards
share it: each paces itself to its share of `OVERALL` (`overall_share`), its
shards out of all, and together they stay under what one process would use.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

#: Requests per second every process of one bot token may make together
#: (Discord allows 50 a second; the margin absorbs clock skew and other calls).
OVERALL = (40, 1.0)


def overall_share(share: float, overall: tuple[int, float] = OVERALL) -> tuple[int, float]:
    """The overall budget of a process that runs `share` (0..1] of the shards: its
    part of `overall`, rounded down (at least one request per window), so the parts
    of processes with disjoint shard sets never add up to more than the whole."""
    n, per = overall
    return max(1, int(n * min(1.0, share) + 1e-9)), per


class Pacer:
    """Sliding-window limits: `per_target` = (n, seconds) per target, `overall` for all.

    A sliding window is stricter than Discord's fixed windows (any 5 s holds at
    most 5 messages, so no fixed window can hold more), and `margin` covers the
    delay between our clock and Discord's. Callers wait their target's turn first
    and only then queue (FIFO) for the shared budget, so a busy channel never
    holds up the others.
    """

    def __init__(
        self,
        *,
        per_target: tuple[int, float] = (5, 5.0),
        overall: tuple[int, float] = OVERALL,
        margin: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.per_target = per_target
        self.overall = overall
        self.margin = margin
        self.clock = clock
        self.sleep = sleep
        self._target_log: dict[str, deque[float]] = {}
        self._overall_log: deque[float] = deque()
        self._blocked: dict[str, float] = {}
        self._overall_lock = asyncio.Lock()

    @staticmethod
    def _wait(log_: deque[float], limit: int, per: float, now: float) -> float:
        while log_ and log_[0] <= now - per:
            log_.popleft()
        if len(log_) < limit:
            return 0.0
        return log_[-limit] + per - now

    def block(self, key: str, seconds: float) -> None:
        """Send nothing to `key` for `seconds` (a 429's retry_after)."""
        until = self.clock() + max(0.0, seconds)
        self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    def target_wait(self, key: str) -> float:
        """Seconds until `key` may get another message (its window, or a 429 block); ≤ 0: now."""
        now = self.clock()
        n, per = self.per_target
        log_ = self._target_log.setdefault(key, deque())
        wait = self._wait(log_, n, per + self.margin, now)
        return max(wait, self._blocked.get(key, 0.0) - now)

    async def acquire(self, key: str, cost: int = 1) -> None:
        """Wait until one message to `key` (costing `cost` requests) may go, and book it."""
        while (wait := self.target_wait(key)) > 0:
            await self.sleep(wait)
        n, per = self.overall
        async with self._overall_lock:
            for _ in range(cost):
                while (wait := self._wait(self._overall_log, n, per, self.clock())) > 0:
                    await self.sleep(wait)
                self._overall_log.append(self.clock())
        self._target_log.setdefault(key, deque()).append(self.clock())
