"""Jobs that run in one process only, and the one bot process a SQLite store allows.

Several bot processes (shard sets) may share a PostgreSQL store. Each sends its
own shards' alerts, but feed polling, folder rescans and the embedding backfill
must run once, whichever process does it: `run_when_elected` runs a job only
while this process holds the job's lock (`Store.try_hold`), tries again every
few seconds while another holds it, and cancels its job when it loses the lock.
A lock is released by the database (PostgreSQL: the session's advisory lock) or
the kernel (SQLite: a `flock`) when its holder dies, so the next try elsewhere
takes the job over; nothing is left stale.

On SQLite (`not store.multi_process`) a second bot process is refused at start
(`hold_bot`): one bot per file; CLI loads beside it take no such lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bot.core.store import Store, StoreError

log = logging.getLogger(__name__)

BOT_JOB = "bot"
RETRY_SECONDS = 5.0

JobFactory = Callable[[], Coroutine[Any, Any, object]]

ANOTHER_BOT = (
    "another newsbot bot process already uses {store}; several bot processes (shard sets) "
    "need a PostgreSQL store: see README, Running at scale"
)


class AnotherBotRunning(StoreError):
    """A SQLite store already served by another bot process."""


async def hold_bot(store: Store, label: str) -> None:
    """On a single-process store, take the bot's lock or raise AnotherBotRunning
    (`label`: the store as it may be shown). A multi-process store takes nothing."""
    if store.multi_process:
        return
    if not await store.try_hold(BOT_JOB):
        raise AnotherBotRunning(ANOTHER_BOT.format(store=label))


class Elections:
    """This process's elected jobs: `running` names those it runs now (for logs and
    tests). One `Elections` per store; `run` is the coroutine to start per job."""

    def __init__(self, store: Store, *, retry_every: float = RETRY_SECONDS) -> None:
        self.store = store
        self.retry_every = retry_every
        self.running: set[str] = set()

    async def run(self, job: str, factory: JobFactory) -> None:
        """Run `factory()` whenever this process holds `job`'s lock; until cancelled."""
        await run_when_elected(
            self.store,
            job,
            factory,
            retry_every=self.retry_every,
            on_change=lambda held: self._note(job, held),
        )

    def _note(self, job: str, held: bool) -> None:
        if held:
            self.running.add(job)
        else:
            self.running.discard(job)


async def _try_hold(store: Store, job: str) -> bool:
    try:
        return await store.try_hold(job)
    except asyncio.CancelledError:
        raise
    except Exception:
        # The store is unreachable: nobody can be sure to hold it, so do not run.
        log.warning("job %s: cannot ask the store for its lock", job, exc_info=True)
        return False


async def _still_holds(store: Store, job: str) -> bool:
    try:
        return await store.holds(job)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("job %s: cannot tell whether its lock is still held", job, exc_info=True)
        return False


async def run_when_elected(
    store: Store,
    job: str,
    factory: JobFactory,
    *,
    retry_every: float = RETRY_SECONDS,
    on_change: Callable[[bool], object] | None = None,
) -> None:
    """Hold `job`'s lock and run `factory()` for as long as it is held; stops only
    when cancelled. Checks the lock every `retry_every` seconds: lost (the store's
    connection dropped, say) → the job is cancelled and the lock sought again; the
    job ends by itself → the lock is let go, so another process may take it."""
    while True:
        if not await _try_hold(store, job):
            await asyncio.sleep(retry_every)
            continue
        log.info("job %s: this process runs it", job)
        if on_change is not None:
            on_change(True)
        task = asyncio.create_task(factory(), name=f"job {job}")
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=retry_every)
                if not task.done() and not await _still_holds(store, job):
                    log.warning("job %s: lost its lock; stopping it here", job)
                    break
        finally:
            if on_change is not None:
                on_change(False)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await task
                except Exception:
                    log.exception("job %s failed", job)
            # Stopped here (shutdown, lost, or done): let another process take it now.
            with contextlib.suppress(Exception):
                await store.let_go(job)
        await asyncio.sleep(retry_every)
