"""SIGKILL in the middle of a 10,000-record load, and in the middle of alert dispatch.

Family "crashes" of the hostile suite (issue 7; counted by bench/faults.py).
A real subprocess (tests/crash_worker.py) is killed at random points, some of
them chosen by the progress markers it prints so the kill certainly lands
inside the write transaction (or between Discord accepting an alert and the
bot marking it sent). Afterwards the store must open, pass SQLite's and FTS5's
integrity checks, and hold exactly the old or exactly the new content; alerts
must arrive exactly once after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.corpusgen import generate_records, write_records
from bot.core.alerts.matching import match_hook
from bot.core.alerts.subscriptions import subscribe
from bot.core.loader import load_paths
from bot.core.store import open_store
from bot.core.store.types import AlertOptions
from tests.helpers import PROJECT_ROOT, write_record

FAMILY = "crashes"

WORKER = Path(__file__).parents[1] / "crash_worker.py"
N_RECORDS = 10_000
RUN_TIMEOUT = 120.0


# -- running and killing the worker ------------------------------------------------


@dataclass
class Run:
    lines: list[str]
    returncode: int
    killed: bool
    stderr: str


def run_worker(
    *args: str,
    kill_when: Callable[[str, list[str]], bool] | None = None,
    kill_after: float | None = None,
    then_sleep: float = 0.0,
) -> Run:
    """Run crash_worker.py; SIGKILL it when `kill_when(line, lines)` first holds, or after
    `kill_after` seconds, whichever comes first.

    The kill takes its whole process group (its parser processes too, as when the
    machine dies): an orphaned parser would otherwise hold the output pipe open.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            cwd=PROJECT_ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
        killed = threading.Event()
        lines: list[str] = []

        def kill() -> None:
            if proc.poll() is None and not killed.is_set():
                killed.set()
                os.kill(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        def read() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                lines.append(raw.rstrip("\n"))
                if kill_when is not None and not killed.is_set() and kill_when(lines[-1], lines):
                    if then_sleep:
                        time.sleep(then_sleep)
                    kill()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        timer = threading.Timer(kill_after, kill) if kill_after is not None else None
        if timer is not None:
            timer.start()
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            kill()
            proc.wait()
            raise AssertionError(f"crash_worker {args[0]} hung for {RUN_TIMEOUT:.0f}s") from None
        finally:
            if timer is not None:
                timer.cancel()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # leftovers of a normal exit, if any
            reader.join(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
        errors.seek(0)
        return Run(lines, proc.returncode, killed.is_set(), errors.read())


# -- what a store holds --------------------------------------------------------------

_CONTENT = [
    "SELECT url, link, content_hash, title, excerpt, published_at FROM articles ORDER BY url",
    "SELECT a.url, r.position, r.url, r.title FROM related r "
    "JOIN articles a ON a.id = r.article_id ORDER BY 1, 2",
    "SELECT a.url, t.key, at.position FROM article_topics at "
    "JOIN articles a ON a.id = at.article_id JOIN topics t ON t.id = at.topic_id ORDER BY 1, 2",
    "SELECT a.url, f.title, f.topics, f.provider, f.excerpt FROM articles_fts f "
    "JOIN articles a ON a.id = f.rowid ORDER BY 1",
    "SELECT path, file_hash, url FROM sources ORDER BY path",
    "SELECT value FROM meta WHERE key = 'generation'",
]
_COUNTED = [
    "articles",
    "related",
    "article_topics",
    "articles_fts",
    "sources",
    "topics",
    "providers",
    "outbox",
]


@dataclass(frozen=True)
class State:
    counts: tuple[tuple[str, int], ...]
    checksum: str

    @property
    def articles(self) -> int:
        return dict(self.counts)["articles"]


def state_of(db: Path) -> State:
    """Open the store as the app does (WAL recovery, migrations), check it, fingerprint it."""

    async def app_open() -> int:
        async with await open_store(db) as store:
            return (await store.stats())["stories"]

    asyncio.run(app_open())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # FTS5's own check: the index agrees with its content, row for row.
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        counts = tuple(
            (t, conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in _COUNTED
        )
        assert dict(counts)["articles_fts"] == dict(counts)["articles"]
        h = hashlib.sha256()
        for q in _CONTENT:
            for row in conn.execute(q):
                h.update(repr(row).encode())
    return State(counts, h.hexdigest())


# -- the corpus: generated once per session --------------------------------------------


@dataclass(frozen=True)
class Corpus:
    root: Path
    new_dir: Path
    old_db: Path
    old: State
    new: State


def generated_folder(factory: pytest.TempPathFactory, n: int = N_RECORDS, seed: int = 101) -> Path:
    """A folder of `n` generated records, written once per test session (shared by modules)."""
    folder = factory.getbasetemp() / f"generated-{n}-{seed}"
    done = folder / ".complete"  # hidden: the scanner skips dot-files
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_records(generate_records(n, seed=seed), folder)
        done.touch()
    return folder


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("crash-corpus")
    new_dir = generated_folder(tmp_path_factory)
    # The old content: 1,000 of the same stories as they were before (other titles:
    # the load updates them) and 1,000 stories the new folder does not have.
    old_versions = generate_records(1_000, seed=101)
    for rec in old_versions:
        rec.front["title"] = "Earlier: " + rec.front["title"]
    write_records(old_versions, root / "old" / "edited")
    write_records(generate_records(1_000, seed=202), root / "old" / "other")

    async def build_old() -> None:
        async with await open_store(root / "old.db") as store:
            await load_paths(store, [root / "old"])

    asyncio.run(build_old())
    assert not (root / "old.db-wal").exists()  # closed cleanly: one file to copy
    old = state_of(root / "old.db")

    ref = root / "reference.db"
    shutil.copyfile(root / "old.db", ref)
    done = run_worker("load", str(ref), str(new_dir))
    assert done.returncode == 0 and done.lines[-1].startswith("done "), done.stderr[-2000:]
    new = state_of(ref)
    assert new.checksum != old.checksum and new.articles > old.articles >= 1_900
    return Corpus(root, new_dir, root / "old.db", old, new)


def fresh_copy(corpus: Corpus, name: str) -> Path:
    db = corpus.root / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(corpus.old_db, db)
    return db


def _progress(line: str) -> tuple[int, int] | None:
    if not line.startswith("progress "):
        return None
    done, total = line.split()[1:3]
    return int(done), int(total)


# -- loads ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_inside_the_write_transaction_keeps_all_the_old(corpus: Corpus, seed: int) -> None:
    rng = random.Random(seed)
    # Kill after the k-th chunk was written (of 50): the transaction is open and
    # holds thousands of uncommitted rows; the commit is chunks away.
    k = rng.randint(2, 40) * 200
    db = fresh_copy(corpus, f"kill-tx-{seed}")
    run = run_worker(
        "load",
        str(db),
        str(corpus.new_dir),
        kill_when=lambda line, _: (p := _progress(line)) is not None and p[0] >= k,
        then_sleep=rng.uniform(0, 0.05),
    )
    assert run.killed and not any(line.startswith("done") for line in run.lines), run.lines[-3:]
    assert any(line.startswith("progress") for line in run.lines)
    assert Path(f"{db}-wal").exists()  # the uncommitted pages were on disk when it died
    after = state_of(db)
    assert after == corpus.old, f"seed {seed}: killed after {k} records, store is not the old one"
    if seed == 1:
        # Restarted, the same load completes and gives exactly the new content.
        again = run_worker("load", str(db), str(corpus.new_dir))
        assert again.returncode == 0, again.stderr[-2000:]
        assert state_of(db) == corpus.new


@pytest.mark.parametrize("seed", [4, 5])
def test_kill_at_a_random_moment_keeps_old_or_new_never_a_mix(corpus: Corpus, seed: int) -> None:
    delay = random.Random(seed).uniform(0.3, 5.0)
    db = fresh_copy(corpus, f"kill-random-{seed}")
    run = run_worker("load", str(db), str(corpus.new_dir), kill_after=delay)
    after = state_of(db)
    assert after in (corpus.old, corpus.new), f"seed {seed}: killed at {delay:.2f}s: a mix"
    if any(line.startswith("done") for line in run.lines):
        assert after == corpus.new  # it said it committed: it did


def test_kill_newsbot_load_cli_keeps_old_or_new(corpus: Corpus) -> None:
    delay = random.Random(6).uniform(1.0, 4.0)
    db = fresh_copy(corpus, "kill-cli")
    run = run_worker("cli", str(db), str(corpus.new_dir), kill_after=delay)
    assert run.lines[:1] == ["start"]
    after = state_of(db)
    assert after in (corpus.old, corpus.new), f"killed at {delay:.2f}s: a mix"
    if not run.killed:
        assert run.returncode == 0 and after == corpus.new


# -- alert dispatch ------------------------------------------------------------------

TARGETS = ("channel:1001", "channel:1002", "user:2001")
N_ALERT_STORIES = 45


@pytest.fixture(scope="session")
def alert_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[int]]]:
    """A store with three targets' subscriptions and 45 matching stories pending for each."""
    root = tmp_path_factory.mktemp("crash-alerts")
    folder = root / "articles"
    now = datetime.now(UTC)

    async def build() -> dict[str, set[int]]:
        async with await open_store(root / "alerts.db") as store:
            created = time.time() - 60
            await subscribe(
                store, topic="Quokkas", user_id=1, guild_id=10, channel_id=1001, now=created
            )
            # A second subscription of the same channel: shared stories are posted once.
            await subscribe(
                store,
                topic="Quokkas",
                user_id=1,
                guild_id=10,
                channel_id=1001,
                keywords="quokka",
                now=created,
            )
            # A forum post per story (no nonce: found after a crash, never made twice),
            # published while the crosspost budget lasts.
            await subscribe(
                store,
                topic="Quokkas",
                user_id=1,
                guild_id=10,
                channel_id=1002,
                now=created,
                options=AlertOptions(thread=True, publish=True),
            )
            await subscribe(
                store, topic="Quokkas", user_id=2001, guild_id=10, channel_id=None, now=created
            )
            for i in range(N_ALERT_STORIES):
                write_record(
                    folder,
                    f"q{i:02d}.md",
                    title=f"Quokka sighting number {i}",
                    webUrl=f"https://alerts.example.com/q{i}",
                    topics=["Quokkas"],
                    publishedDateTime=(now - timedelta(minutes=90 - i)).isoformat(),
                )
            report = await load_paths(store, [folder], on_stored=[match_hook()])
            assert report.added == N_ALERT_STORIES
            ids = set(report.added_ids)
            return {t: ids for t in TARGETS}

    expected = asyncio.run(build())
    with sqlite3.connect(root / "alerts.db") as conn:
        pending = conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    assert pending == 4 * N_ALERT_STORIES
    return root / "alerts.db", expected


def _delivered(log: Path) -> dict[str, Counter[int]]:
    out: dict[str, Counter[int]] = {}
    if not log.exists():
        return out
    nonces = []
    for line in log.read_text().splitlines():
        msg = json.loads(line)
        if not msg.get("thread"):  # a forum post takes no nonce: a repeat is a duplicate
            nonces.append(msg["nonce"])
        out.setdefault(msg["target"], Counter()).update(msg["articles"])
    assert len(nonces) == len(set(nonces))  # the fake dedupes nonces, as Discord does
    return out


def _check_exactly_once(db: Path, log: Path, expected: dict[str, set[int]]) -> None:
    delivered = _delivered(log)
    for target, ids in expected.items():
        got = delivered.get(target, Counter())
        dupes = {a: n for a, n in got.items() if n > 1}
        assert not dupes, f"{target}: stories posted twice: {dupes}"
        assert set(got) == ids, f"{target}: lost {sorted(ids - set(got))}"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        states = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        assert states == {"sent": 4 * N_ALERT_STORIES}, states
        assert conn.execute("SELECT count(*) FROM outbox WHERE message_id IS NULL").fetchone() == (
            0,
        )
        booked = conn.execute("SELECT count(*) FROM crossposts").fetchone()[0]
    # Every crosspost booked went out published, and no more than the hourly 10.
    published = sum(
        json.loads(line).get("published", False) for line in log.read_text().splitlines()
    )
    assert booked == published == 10, (booked, published)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_between_discord_accepting_and_marking_sent(
    alert_db: tuple[Path, dict[str, set[int]]], tmp_path: Path, seed: int
) -> None:
    source, expected = alert_db
    db = tmp_path / "alerts.db"
    shutil.copyfile(source, db)
    log = tmp_path / "discord.jsonl"
    j = random.Random(seed).randint(1, 54)  # of the 55 messages the three targets get
    killed_nonce: list[str] = []

    def at_accept(line: str, lines: list[str]) -> bool:
        accepted = [x for x in lines if x.startswith("accepted ")]
        if len(accepted) >= j:
            killed_nonce.append(accepted[-1].split()[1])
            return True
        return False

    # The sender pauses 5 s after Discord accepted the j-th: the kill lands before the mark.
    run = run_worker("alerts", str(db), str(log), "5.0", str(j), kill_when=at_accept)
    assert run.killed and "drained" not in run.lines
    restart = run_worker("alerts", str(db), str(log), "0")
    assert restart.returncode == 0 and restart.lines[-1] == "drained", restart.stderr[-2000:]
    # The message in flight was sent again with its nonce and recognised (a forum post,
    # which has no nonce, was looked for and found), not posted twice.
    n = killed_nonce[0]
    assert f"deduplicated {n}" in restart.lines or f"found {n}" in restart.lines
    _check_exactly_once(db, log, expected)


def test_kill_dispatch_at_a_random_moment(
    alert_db: tuple[Path, dict[str, set[int]]], tmp_path: Path
) -> None:
    source, expected = alert_db
    db = tmp_path / "alerts.db"
    shutil.copyfile(source, db)
    log = tmp_path / "discord.jsonl"
    delay = random.Random(7).uniform(0.4, 1.5)
    run_worker("alerts", str(db), str(log), "0.05", kill_after=delay)
    restart = run_worker("alerts", str(db), str(log), "0")
    assert restart.returncode == 0 and restart.lines[-1] == "drained", restart.stderr[-2000:]
    _check_exactly_once(db, log, expected)


def test_the_checks_see_a_mix_a_duplicate_and_a_loss(
    corpus: Corpus, alert_db: tuple[Path, dict[str, set[int]]], tmp_path: Path
) -> None:
    """The assertions above can fail: one changed story is neither old nor new content,
    and a story posted twice or never is caught."""
    db = fresh_copy(corpus, "mixed")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE articles SET title = 'half-written' WHERE id = (SELECT min(id) FROM articles)"
        )
    mixed = state_of(db)
    assert mixed not in (corpus.old, corpus.new) and mixed.articles == corpus.old.articles

    source, expected = alert_db
    target = TARGETS[0]
    ids = sorted(expected[target])
    log = tmp_path / "discord.jsonl"

    def write(messages: list[list[int]]) -> None:
        log.write_text(
            "".join(
                json.dumps({"nonce": f"n{i}", "message_id": i, "target": t, "articles": a}) + "\n"
                for i, (t, a) in enumerate(
                    [(target, m) for m in messages]
                    + [(t, sorted(expected[t])) for t in TARGETS[1:]]
                )
            )
        )

    write([ids, ids[:1]])  # one story twice
    with pytest.raises(AssertionError, match="twice"):
        _check_exactly_once(source, log, expected)
    write([ids[1:]])  # one story never
    with pytest.raises(AssertionError, match="lost"):
        _check_exactly_once(source, log, expected)
