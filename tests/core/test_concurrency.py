"""Concurrency: answers during a big reload, two reloads at once, the CLI beside the bot.

Family "concurrency" of the hostile suite (issue 7; counted by bench/faults.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.core.alerts import subscriptions as subs
from bot.core.loader import LoadReport, load_paths
from bot.core.newsroom import Newsroom
from bot.core.settings import Settings
from bot.core.store import Store, StoreBusy, open_store
from bot.replies.sanitize import unescape
from tests.core.test_crash import generated_folder
from tests.helpers import DATA_DIR, PROJECT_ROOT, db_query
from tests.standin.protocol import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE

FAMILY = "concurrency"

pytest_plugins = ["tests.botfixtures"]

BIG = 4_000  # records in the in-process reloads: a few seconds of writing


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_folder(tmp_path_factory, BIG, seed=303)


@pytest.fixture(scope="module")
def huge_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_folder(tmp_path_factory)  # the crash tests' 10,000, shared


@pytest.fixture
async def room(tmp_path: Path) -> Any:
    data = tmp_path / "articles"
    shutil.copytree(DATA_DIR, data)
    settings = Settings(db_path=tmp_path / "c.db", data_dir=data, rescan_seconds=0)
    r = await Newsroom.open(settings)
    try:
        yield r
    finally:
        await r.close()


async def _until_writing(store: Store, limit_s: float = 30.0) -> None:
    """Until a write transaction of this process is open (a reload is writing)."""
    for _ in range(int(limit_s / 0.005)):
        if store.writing:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("no write transaction started")


def _add_records(src: Path, dest: Path) -> None:
    sub = dest / "generated"
    sub.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.md"):
        os.link(f, sub / f.name)  # hard links: instant, and a reload reads them all


# -- in-process ---------------------------------------------------------------------


async def test_questions_and_autocomplete_keep_answering_during_a_big_reload(
    room: Newsroom, big_folder: Path
) -> None:
    _add_records(big_folder, room.settings.data_dir)
    reload = asyncio.create_task(room.reload())
    latencies: list[float] = []
    during_write = 0
    questions = ["ibm facial recognition", "computer vision", "quantum", "ibm", "ai ethics"]
    while not reload.done():
        q = questions[len(latencies) % len(questions)]
        started = time.perf_counter()
        answer = await room.ask(q)
        choices = await room.searcher.autocomplete(q[:4])
        latencies.append(time.perf_counter() - started)
        during_write += room.store.writing
        assert "unavailable" not in (answer.notice or "")
        if q.startswith("ibm"):
            assert answer.hits and "IBM" in answer.hits[0].title
            assert choices and "IBM" in choices[0][0]
        await asyncio.sleep(0.01)
    report = reload.result()
    assert report.added == BIG and not report.rejected
    # Answers kept coming while the load's transaction was open, and quickly.
    assert during_write >= 5, (during_write, len(latencies))
    assert max(latencies) < 1.0, max(latencies)
    assert statistics.median(latencies) < 0.25, statistics.median(latencies)
    # …and the new stories are searchable once it committed.
    title = db_query(
        room.settings.db_path, "SELECT title FROM articles WHERE source LIKE '%generated%' LIMIT 1"
    )[0][0]
    assert (await room.ask(title)).hits


async def test_two_reloads_at_once_one_runs_the_other_is_told(
    room: Newsroom, big_folder: Path
) -> None:
    _add_records(big_folder, room.settings.data_dir)
    first, second = await asyncio.gather(
        room.reload(wait=False), room.reload(wait=False), return_exceptions=True
    )
    outcomes = sorted(type(x).__name__ for x in (first, second))
    assert outcomes == ["LoadReport", "StoreBusy"], (first, second)
    report = first if isinstance(first, LoadReport) else second
    assert isinstance(report, LoadReport) and report.added == BIG
    # The same at the loader level, and a waiting reload runs after the first.
    store = room.store
    running = asyncio.create_task(load_paths(store, [room.settings.data_dir], wait=False))
    await asyncio.sleep(0)
    with pytest.raises(StoreBusy):
        await load_paths(store, [room.settings.data_dir], wait=False)
    waited = await load_paths(store, [room.settings.data_dir])  # wait=True queues
    assert (await running).unchanged >= BIG and waited.unchanged >= BIG


async def test_a_subscription_written_during_a_reload_waits_and_lands(
    room: Newsroom, big_folder: Path
) -> None:
    _add_records(big_folder, room.settings.data_dir)
    reload = asyncio.create_task(room.reload())
    await _until_writing(room.store)
    done = await subs.subscribe(room.store, topic="AI", user_id=7, guild_id=None, channel_id=None)
    sub = done.subscription
    assert done.outcome == "created"
    report = await reload
    assert report.added == BIG
    assert db_query(
        room.settings.db_path, "SELECT topic FROM subscriptions WHERE id = ?", (sub.id,)
    ) == [("AI",)]


# -- the CLI beside the bot ------------------------------------------------------------


def _cli_load(db: Path, folder: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "load", str(folder), "--db", str(db)],
        cwd=PROJECT_ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _until_write_locked(db: Path, proc: subprocess.Popen[str], limit_s: float = 60) -> None:
    """Wait until another process holds the store's write lock (probe: BEGIN IMMEDIATE)."""
    for _ in range(int(limit_s / 0.02)):
        assert proc.poll() is None, "the CLI finished before it was seen writing"
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return
        finally:
            probe.close()
        await asyncio.sleep(0.02)
    raise AssertionError("the CLI never took the write lock")


def _hold_write_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the write lock, says ``locked``, and keeps it `seconds`."""
    return subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parents[1] / "crash_worker.py"),
            "hold",
            str(db),
            str(seconds),
        ],
        cwd=PROJECT_ROOT,
        text=True,
        stdout=subprocess.PIPE,
    )


async def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = await asyncio.to_thread(proc.communicate, timeout=120)
    return proc.returncode, out, err


async def test_cli_load_beside_the_running_bot_nobody_sees_locked(
    start_newsbot: Any, huge_folder: Path
) -> None:
    async with start_newsbot() as h:
        db = h.settings.db_path
        before = db_query(db, "SELECT count(*) FROM articles")[0][0]
        proc = _cli_load(db, huge_folder)
        try:
            await _until_write_locked(db, proc)
            # The bot writes while the CLI holds the lock: it must wait, not fail,
            # and the user must still get an answer (Discord allows 3 s for the first).
            sub_it = await h.invoke("subscribe", {"topic": "AI"}, user="alice")
            reload_it = await h.invoke("admin reload", user="admin")
            news_it, news_cb = await h.answer("news", {"query": "ibm facial recognition"})
            assert news_cb.ok
            assert news_cb.json["type"] in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE)
            assert news_cb.at - news_it.created_at < 1.5  # reads never wait for a writer
            for it in (sub_it, reload_it):
                cb = await it.wait_callback(timeout=5.0)
                assert cb.ok, (it.payload["data"]["name"], cb.status, cb.response)
            code, out, err = await _finish(proc)
            sub_msg = await h.final_message(sub_it)
            reload_msg = await h.final_message(reload_it)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert code == 0, err[-2000:]
    assert "locked" not in (out + err).lower()
    assert f"{len(list(huge_folder.glob('*.md')))} added" in out
    for msg in (sub_msg, reload_msg):
        shown = str(msg.get("content")) + str(msg.get("embeds"))
        assert "locked" not in shown.lower() and "went wrong" not in shown.lower(), shown
    assert unescape(sub_msg["embeds"][0]["title"]) == "Subscribed"
    assert unescape(reload_msg["embeds"][0]["title"]) == "Reload finished"
    assert db_query(db, "SELECT count(*) FROM subscriptions WHERE topic = 'AI'") == [(1,)]
    assert db_query(db, "SELECT count(*) FROM articles")[0][0] == before + 10_000


async def test_bot_commands_answer_in_time_while_another_process_holds_the_lock(
    start_newsbot: Any,
) -> None:
    """A 100,000-record `newsbot load` holds the write lock for about a minute; Discord
    gives 3 s for the first response. Writes from commands must wait, and say so in time."""
    async with start_newsbot() as h:
        db = h.settings.db_path
        holder = _hold_write_lock(db, 4.5)
        try:
            assert holder.stdout is not None
            assert (await asyncio.to_thread(holder.stdout.readline)).strip() == "locked"
            sub_it = await h.invoke("subscribe", {"topic": "AI"}, user="alice")
            reload_it = await h.invoke("admin reload", user="admin")
            for it in (sub_it, reload_it):
                cb = await it.wait_callback(timeout=5.0)
                assert cb.ok, (it.payload["data"]["name"], cb.status, cb.response)
            sub_msg = await h.final_message(sub_it)
            reload_msg = await h.final_message(reload_it)
            assert (await asyncio.to_thread(holder.communicate, timeout=30))[
                0
            ].strip() == "released"
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
    assert unescape(sub_msg["embeds"][0]["title"]) == "Subscribed"
    assert unescape(reload_msg["embeds"][0]["title"]) == "Reload finished"
    assert db_query(db, "SELECT count(*) FROM subscriptions WHERE topic = 'AI'") == [(1,)]


async def test_cli_load_and_the_bots_own_reload_both_succeed(
    tmp_path: Path, big_folder: Path, huge_folder: Path
) -> None:
    data = tmp_path / "articles"
    shutil.copytree(DATA_DIR, data)
    _add_records(big_folder, data)
    settings = Settings(db_path=tmp_path / "w.db", data_dir=data, rescan_seconds=0)
    room = await Newsroom.open(dataclasses.replace(settings), autoload=False)
    try:
        reload = asyncio.create_task(room.reload())
        await _until_writing(room.store)
        proc = _cli_load(settings.db_path, huge_folder)
        code, _, err = await _finish(proc)
        report = await reload
    finally:
        await room.close()
    assert code == 0 and "locked" not in err.lower(), err[-2000:]
    assert report.added >= BIG
    async with await open_store(settings.db_path) as store:
        assert (await store.stats())["stories"] >= BIG + 10_000
