"""A process for tests/test_crash.py to SIGKILL at chosen moments.

Modes (each prints marker lines on stdout, flushed, so the test can pick its moment):

``load DB PATH...``
    `loader.load_paths` with the alert matching hook, as `newsbot load` runs it;
    prints ``start``, then ``progress DONE TOTAL`` after each chunk is written
    (inside the load's one transaction), then ``done SUMMARY`` after the commit.
``cli DB PATH...``
    The real `newsbot load` entry point (`bot.cli.main`); prints ``start`` first.
``alerts DB DISCORD_LOG [PAUSE [PAUSE_AT]]``
    The alert `Dispatcher` with a fake Discord: every accepted message is appended
    to DISCORD_LOG (one JSON line, one write: a kill cannot leave half of one), a
    repeated nonce gets the same message back (Discord's ``enforce_nonce``); then
    ``accepted NONCE`` is printed and the sender waits PAUSE seconds (after the
    PAUSE_AT-th message only, when given) before it returns, so a kill can land
    after Discord accepted and before the bot marked the rows sent. A message that
    starts a thread is a forum post, which takes no nonce: every send makes a new
    post (its log line has ``thread``), and `find_thread` finds one in the log
    (printing ``found NONCE``). At most 10 crossposts an hour are ``published``.
    Prints ``drained`` when nothing is pending.
``newsbot API_BASE GATEWAY_URL ARG...``
    The real `newsbot` command line (`bot.cli.main(ARG...)`, e.g. ``run``) with
    discord.py pointed at a Discord stand-in; DB is ignored (use NEWSBOT_DB).
``hold DB SECONDS``
    Another writer, as a long `newsbot load` is: takes the store's write lock
    (``BEGIN IMMEDIATE``), prints ``locked``, holds it SECONDS, commits, prints
    ``released``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def load(db: str, paths: list[str]) -> int:
    from bot.core.alerts.matching import match_hook
    from bot.core.loader import load_paths
    from bot.core.store import open_store

    store = await open_store(db)
    try:
        say("start")
        report = await load_paths(
            store,
            paths,
            on_stored=[match_hook()],
            progress=lambda _phase, done, total: say(f"progress {done} {total}"),
        )
    finally:
        await store.close()
    say(f"done {report.summary()}")
    return 0


class FakeDiscord:
    """Accepts every message; the log file is Discord's memory of them."""

    def __init__(self, log_path: str, pause: float, pause_at: int = 0) -> None:
        self.path = log_path
        self.pause = pause
        self.pause_at = pause_at
        self.accepted = 0
        self.by_nonce: dict[str, tuple[int, bool]] = {}
        self.threads: dict[tuple[str, str], tuple[int, str]] = {}
        self.published = 0
        lines = 0
        if os.path.exists(log_path):
            with open(log_path, encoding="utf-8") as fh:
                for line in fh:
                    msg = json.loads(line)
                    lines += 1
                    self.by_nonce[msg["nonce"]] = (msg["message_id"], msg.get("published", False))
                    self.published += msg.get("published", False)
                    if msg.get("thread"):
                        key = (msg["target"], msg["thread"])
                        self.threads[key] = (msg["message_id"], msg["nonce"])
        self.next_id = 1000 + lines

    async def find_thread(self, target: object, name: str) -> int | None:
        found = self.threads.get((str(target), name))
        if found is None:
            return None
        say(f"found {found[1]}")
        return found[0]

    async def notify(self, notice: object) -> None:
        say("notice")

    async def send(
        self,
        target: object,
        articles: Sequence[object],
        *,
        topic: str,
        nonce: str,
        delivery: object = None,
    ) -> object:
        from bot.core.alerts.delivery import PLAIN_DELIVERY, SendResult

        d = delivery or PLAIN_DELIVERY
        ids = tuple(a.id for a in articles)  # type: ignore[attr-defined]
        thread = d.thread_name  # type: ignore[attr-defined]
        if nonce in self.by_nonce and not thread:
            say(f"deduplicated {nonce}")
            message_id, published = self.by_nonce[nonce]
            return SendResult(message_id, ids, published=published)
        self.next_id += 1
        published = bool(d.publish) and self.published < 10  # type: ignore[attr-defined]
        self.published += published
        line = (
            json.dumps(
                {
                    "nonce": nonce,
                    "message_id": self.next_id,
                    "target": str(target),
                    "articles": list(ids),
                    "thread": thread,
                    "published": published,
                }
            )
            + "\n"
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())  # one write: the message exists, or it does not
        finally:
            os.close(fd)
        self.by_nonce[nonce] = (self.next_id, published)
        if thread:
            self.threads[(str(target), thread)] = (self.next_id, nonce)
        self.accepted += 1
        say(f"accepted {nonce}")
        if self.pause_at in (0, self.accepted):
            await asyncio.sleep(self.pause)  # the window between "accepted" and "marked sent"
        return SendResult(
            self.next_id, ids, thread_id=self.next_id if thread else None, published=published
        )


async def dispatch(db: str, log_path: str, pause: float, pause_at: int) -> int:
    from bot.core.alerts.dispatch import Dispatcher
    from bot.core.alerts.pacing import Pacer
    from bot.core.store import open_store

    store = await open_store(db)
    try:
        fast = Pacer(per_target=(10_000, 1.0), overall=(10_000, 1.0), margin=0.0)
        dispatcher = Dispatcher(store, FakeDiscord(log_path, pause, pause_at), pacer=fast)  # type: ignore[arg-type]
        say("start")
        for _ in range(1000):  # a fake that always accepts drains in a few rounds
            if not await store.pending_targets():
                break
            await dispatcher.run_once()
        say("drained")
    finally:
        await store.close()
    return 0


def hold(db: str, seconds: float) -> int:
    import sqlite3
    import time

    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('held_by_test', '1')")
    say("locked")
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()
    say("released")
    return 0


def newsbot_against(api_base: str, gateway: str, argv: list[str]) -> int:
    import discord
    import yarl

    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    from bot.cli.main import main as cli_main

    return cli_main(argv)


def main(argv: list[str]) -> int:
    mode, db, *rest = argv
    if mode == "newsbot":
        return newsbot_against(db, rest[0], rest[1:])
    if mode == "hold":
        return hold(db, float(rest[0]))
    if mode == "load":
        return asyncio.run(load(db, rest))
    if mode == "cli":
        from bot.cli.main import main as cli_main

        say("start")
        return cli_main(["load", *rest, "--db", db])
    if mode == "alerts":
        pause = float(rest[1]) if len(rest) > 1 else 0.0
        pause_at = int(rest[2]) if len(rest) > 2 else 0
        return asyncio.run(dispatch(db, rest[0], pause, pause_at))
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
