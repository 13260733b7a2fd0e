"""Jobs that run in one process of those sharing a store (`bot.core.jobs`), and the
one bot process a SQLite store allows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.jobs import ANOTHER_BOT, AnotherBotRunning, Elections, hold_bot, run_when_elected
from bot.core.store import open_store
from tests.drivers import StoreTarget


class Ticks:
    """A job that counts its ticks while it runs and notes when it was cancelled."""

    def __init__(self) -> None:
        self.ticks = 0
        self.started = 0
        self.cancelled = 0

    async def run(self) -> None:
        self.started += 1
        try:
            while True:
                self.ticks += 1
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def until(check: object, within: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not check():  # type: ignore[operator]
        if loop.time() > end:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_one_of_two_stores_on_a_file_runs_the_job_and_the_other_takes_over(
    store_target: StoreTarget,
) -> None:
    first, second = await open_store(store_target), await open_store(store_target)
    a, b = Ticks(), Ticks()
    ea, eb = Elections(first, retry_every=0.05), Elections(second, retry_every=0.05)
    ta = asyncio.create_task(ea.run("feeds", a.run))
    tb: asyncio.Task[None] | None = None
    try:
        await until(lambda: a.ticks > 0)
        tb = asyncio.create_task(eb.run("feeds", b.run))
        await asyncio.sleep(0.3)  # several of b's tries
        assert b.started == 0 and eb.running == set() and ea.running == {"feeds"}
        # Its holder goes away (as a process that dies: the lock goes with its store).
        await asyncio.wait_for(stop(ta), 10)
        await first.close()
        assert a.cancelled == 1
        await until(lambda: b.ticks > 0, within=10)
        assert eb.running == {"feeds"}
        await asyncio.wait_for(stop(tb), 10)
        assert eb.running == set()
    finally:
        # A failure above must not leave a job retrying against a dropped database.
        for task in (ta, tb):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (ta, tb) if t is not None), return_exceptions=True)
        await first.close()
        await second.close()


class AnswerLater:
    """A connection whose next query answers when the test says so."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def is_closed(self) -> bool:
        return False

    async def fetchval(self, *_: object) -> int:
        return await self.answer


async def test_a_cancel_that_arrives_as_the_lock_check_answers_still_cancels() -> None:
    # With asyncio.wait_for around the ping (Python 3.11), this cancel was dropped:
    # the job kept running and the shutdown that cancelled it waited for ever.
    from bot.core.store.postgres.jobs import SessionLocks

    locks = SessionLocks("postgresql://127.0.0.1/unused")
    conn = AnswerLater()
    locks._conn = conn  # type: ignore[assignment]
    locks._held.add("feeds")
    task = asyncio.create_task(locks.holds("feeds"))
    await asyncio.sleep(0)
    conn.answer.set_result(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_jobs_are_held_separately(store_target: StoreTarget) -> None:
    async with await open_store(store_target) as first, await open_store(store_target) as second:
        assert await first.try_hold("feeds")
        assert await first.try_hold("feeds")  # held already: still True
        assert not await second.try_hold("feeds")
        assert await second.try_hold("rescan")
        assert not await first.try_hold("rescan")
        await first.let_go("feeds")
        assert not await first.holds("feeds")
        assert await second.try_hold("feeds")


class FlakyLock:
    """A store whose lock is lost (say, its connection dropped) after `lose_after` checks."""

    multi_process = True

    def __init__(self, lose_after: int) -> None:
        self.lose_after = lose_after
        self.checks = 0
        self.let_go_calls = 0
        self.tries = 0

    async def try_hold(self, job: str) -> bool:
        self.tries += 1
        return True

    async def holds(self, job: str) -> bool:
        self.checks += 1
        return self.checks <= self.lose_after

    async def let_go(self, job: str) -> None:
        self.let_go_calls += 1


async def test_a_lost_lock_stops_the_job_and_it_is_sought_again() -> None:
    store = FlakyLock(lose_after=2)
    job = Ticks()
    task = asyncio.create_task(
        run_when_elected(store, "feeds", job.run, retry_every=0.03)  # type: ignore[arg-type]
    )
    await until(lambda: job.cancelled >= 1 and job.started >= 2)
    await stop(task)
    assert store.tries >= 2 and store.let_go_calls >= 1


async def test_a_job_that_ends_lets_its_lock_go(store_target: StoreTarget) -> None:
    async with await open_store(store_target) as first, await open_store(store_target) as second:
        ran = asyncio.Event()

        async def once() -> None:
            ran.set()
            raise RuntimeError("broken job")  # logged; the lock is let go

        let_go = first.let_go
        released: list[str] = []

        async def noting_let_go(job: str) -> None:
            await let_go(job)
            released.append(job)

        first.let_go = noting_let_go  # type: ignore[method-assign]

        task = asyncio.create_task(run_when_elected(first, "once", once, retry_every=5.0))
        await asyncio.wait_for(ran.wait(), 2.0)
        await until(lambda: released == ["once"])
        assert await second.try_hold("once")
        await stop(task)


async def test_a_second_bot_on_a_sqlite_store_is_refused_and_cli_loads_are_not(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    bot = await open_store(db)
    await hold_bot(bot, str(db))
    # What `newsbot load` does beside a bot: open, write, close; no bot lock taken.
    async with await open_store(db) as cli:
        assert await cli.generation() >= 0
        async with cli.transaction() as tx:
            await tx.set_meta("cli_was_here", "1")
    other = await open_store(db)
    with pytest.raises(AnotherBotRunning) as err:
        await hold_bot(other, str(db))
    assert str(err.value) == ANOTHER_BOT.format(store=db)
    assert "PostgreSQL" in str(err.value) and "Running at scale" in str(err.value)
    await bot.close()  # the first bot stops: the next may start
    await hold_bot(other, str(db))
    await other.close()


async def test_a_multi_process_store_takes_no_bot_lock() -> None:
    store = FlakyLock(lose_after=0)
    await hold_bot(store, "postgresql://h/db")  # type: ignore[arg-type]
    assert store.tries == 0
