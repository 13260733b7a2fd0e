"""bot.core.loader: scan → parse → one transaction; reports, reloads, prune, failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.core import loader as loader_mod
from bot.core.loader import LoadError, LoadReport, load_paths
from bot.core.records import parse_file
from bot.core.store import Store, StoreBusy, open_store
from bot.core.store.sqlite import SQLiteTransaction
from tests.core.test_records import BAD_RECORDS
from tests.helpers import (
    CORPUS,
    PROJECT_ROOT,
    SEED,
    db_dump,
    db_query,
    needs_corpus,
    record_text,
    write_raw,
    write_record,
)


def make_folder(root: Path, n: int, *, prefix: str = "story") -> list[Path]:
    """n distinct valid records, with topics and related links, in `root`."""
    return [
        write_record(
            root,
            f"{prefix}-{i:04d}.md",
            title=f"{prefix.title()} number {i} about widgets",
            webUrl=f"https://news.example.com/{prefix}/{i}",
            excerpt=f"Excerpt {i}.",
            topics=["Widgets", f"Topic {i % 3}"],
            publishedDateTime=f"2021-01-{1 + i % 28:02d}T10:00:00Z",
            related=[{"title": f"Coverage of {i}", "webUrl": f"https://other.example.org/{i}"}],
        )
        for i in range(n)
    ]


async def fts(store: Store, query: str) -> list[int]:
    rows = db_query(
        store.path, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (query,)
    )
    return sorted(r for (r,) in rows)


def content(store: Store) -> list[str]:
    """Everything stored except the bookkeeping row saying when the last load ran."""
    return db_dump(store.path, skip_meta=("last_load",))


def rejected(report: LoadReport) -> dict[str, str]:
    return {Path(e.path).name: e.reason for e in report.rejected}


# -- the real corpus -------------------------------------------------------------------


@needs_corpus
async def test_every_corpus_file_loads(store: Store) -> None:
    files = sorted(CORPUS.glob("*.md"))
    report = await load_paths(store, [CORPUS])
    assert report.rejected == []
    assert report.files == len(files)
    assert report.added + report.duplicates == len(files)
    assert report.warnings == []
    assert (await store.stats())["stories"] == report.added
    assert report.exit_code == 0


@needs_corpus
async def test_corpus_with_process_workers_matches_thread(tmp_path: Path) -> None:
    # Enough files to cross PROCESS_THRESHOLD: the corpus under several names.
    root = tmp_path / "many"
    root.mkdir()
    files = sorted(CORPUS.glob("*.md"))
    copies = loader_mod.PROCESS_THRESHOLD // len(files) + 1
    for k in range(copies):
        for f in files:
            text = f.read_text(encoding="utf-8")
            # A distinct story URL per copy, so every copy is its own row.
            text = text.replace('webUrl: "https://', f'webUrl: "https://copy{k}.', 1)
            (root / f"{k}-{f.name}").write_text(text, encoding="utf-8")
    n_files = copies * len(files)
    pool = loader_mod.parse_executor(n_files, 2)
    assert isinstance(pool, ProcessPoolExecutor)  # the path under test really uses processes
    pool.shutdown()
    dumps = []
    for workers in (1, 2):
        s = await open_store(tmp_path / f"w{workers}.db")
        try:
            report = await load_paths(s, [root], workers=workers)
        finally:
            await s.close()
        assert report.rejected == []
        assert report.added + report.duplicates == copies * len(files)
        dumps.append(
            db_query(
                tmp_path / f"w{workers}.db",
                "SELECT url, title, content_hash, published_at FROM articles ORDER BY url",
            )
        )
    assert dumps[0] == dumps[1]
    assert len(dumps[0]) > loader_mod.PROCESS_THRESHOLD


async def test_seed_from_data_folder_loads_exactly(store: Store) -> None:
    report = await load_paths(store, [SEED])
    assert (report.added, report.rejected) == (1, [])
    (got,) = await store.get_articles(report.added_ids)
    assert got == parse_file(SEED.absolute())
    assert got.source == str(SEED.absolute())


# -- messy fields through a load ----------------------------------------------------------


async def test_field_warnings_reach_the_report(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "messy"
    write_record(root, "q.md", title="Quality words", quality="high", heat=-1)
    write_record(root, "d.md", title="Bad date", publishedDateTime="31/02/2020 25:61")
    write_record(root, "i.md", title="Bad image", images=[{"url": "data:image/png;base64,AAAA"}])
    report = await load_paths(store, [root])
    assert (report.added, report.rejected) == (3, [])
    assert len(report.warnings) == 3
    for name, field, value in (
        ("q.md", "quality", "high"),
        ("d.md", "publishedDateTime", "31/02/2020 25:61"),
        ("i.md", "images[0].url", "data:image/png;base64,AAAA"),
    ):
        (w,) = [w for w in report.warnings if name in w]
        assert str(root / name) in w and repr(field) in w and value in w
    arts = {a.title: a for a in await store.get_articles(report.added_ids)}
    assert arts["Quality words"].quality is None
    assert arts["Quality words"].heat == -1
    assert arts["Bad date"].published is None
    assert arts["Bad image"].images == ()


async def test_non_ascii_titles_stored_and_searchable(store: Store, tmp_path: Path) -> None:
    title = 'Zürich’s “Robotik” start-up says "no" — 東京 next'
    write_record(tmp_path / "r", "u.md", title=title, webUrl="https://e.com/ü")
    report = await load_paths(store, [tmp_path / "r"])
    (got,) = await store.get_articles(report.added_ids)
    assert got.title == title
    assert await fts(store, "robotik") == report.added_ids
    assert await fts(store, "zurich") == report.added_ids


# -- bad records beside good ones ------------------------------------------------------


def write_bad_folder(root: Path) -> None:
    for name, (raw, _reason) in BAD_RECORDS.items():
        write_raw(root, name, raw)
    write_record(root, "big.md", title="Too big", body="x" * 3000)
    os.symlink(root, root / "loop")
    os.symlink(root / "self.md", root / "self.md")


async def test_each_bad_record_rejected_good_ones_load(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    good = [
        write_record(root, "good-1.md", title="Good one"),
        write_record(root, "zz/good-2.md", title="Good two", topics=["AI"]),
    ]
    write_bad_folder(root)
    missing = tmp_path / "not-there"
    report = await load_paths(store, [root, missing], max_bytes=2000)

    reasons = rejected(report)
    expected = {name: reason for name, (_raw, reason) in BAD_RECORDS.items()}
    expected |= {
        "big.md": r"over the 2,000-byte limit",
        "loop": r"symbolic link loop",
        "self.md": r"symbolic link",
        "not-there": r"no such file or folder",
    }
    assert set(reasons) == set(expected)
    for name, pattern in expected.items():
        assert re.search(pattern, reasons[name]), (name, reasons[name])
    # Every rejection names the file as it was found.
    paths = {e.path for e in report.rejected}
    assert str(root / "syntax.md") in paths and str(missing) in paths
    assert (report.added, report.updated, report.unchanged) == (len(good), 0, 0)
    got = await store.get_articles(report.added_ids)
    assert sorted(a.title for a in got) == ["Good one", "Good two"]
    assert report.exit_code == 3


@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
async def test_one_bad_record_beside_a_good_one(store: Store, tmp_path: Path, name: str) -> None:
    root = tmp_path / "r"
    write_raw(root, name, BAD_RECORDS[name][0])
    write_record(root, "good.md", title="Good")
    report = await load_paths(store, [root])
    assert list(rejected(report)) == [name]
    assert re.search(BAD_RECORDS[name][1], report.rejected[0].reason)
    assert report.rejected[0].path == str(root / name)
    assert report.added == 1


async def test_yaml_tag_in_load_executes_nothing(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    root = tmp_path / "r"
    write_raw(
        root,
        "evil.md",
        f'---\ntitle: !!python/object/apply:os.system ["touch {marker}"]\n'
        "webUrl: https://e.com/evil\n---\n",
    )
    write_record(root, "good.md")
    report = await load_paths(store, [root])
    assert "YAML tag" in rejected(report)["evil.md"]
    assert report.added == 1
    assert not marker.exists()


async def test_only_bad_records_exit_code_2(store: Store, tmp_path: Path) -> None:
    write_raw(tmp_path / "r", "bad.md", b"no front matter")
    report = await load_paths(store, [tmp_path / "r"])
    assert report.loaded == 0
    assert report.exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
async def test_unreadable_file_rejected_chmod(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    locked = write_record(root, "locked.md", title="Locked")
    write_record(root, "open.md", title="Open")
    locked.chmod(0)
    try:
        report = await load_paths(store, [root])
    finally:
        locked.chmod(0o644)
    assert "cannot read" in rejected(report)["locked.md"]
    assert report.added == 1


async def test_unreadable_file_rejected(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root chmod 000 blocks nothing, so the permission error is injected where
    # the loader opens files (a module global shadows the builtin).
    root = tmp_path / "r"
    locked = write_record(root, "locked.md", title="Locked")
    write_record(root, "open.md", title="Open")

    def guarded_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(path) == str(locked.absolute()):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(loader_mod, "open", guarded_open, raising=False)
    report = await load_paths(store, [root], workers=1)
    assert rejected(report) == {"locked.md": "cannot read: Permission denied"}
    assert report.rejected[0].path == str(locked)
    assert report.added == 1


# -- identity and reloads ---------------------------------------------------------------


async def test_url_variants_in_one_load_make_one_row(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    for i, url in enumerate(
        [
            "https://www.example.com/a/story",
            "https://www.example.com/a/story?utm_source=rss&utm_medium=feed",
            "https://WWW.EXAMPLE.COM/a/story",
            "https://www.example.com/a/story/",
            "https://www.example.com/a/story#section-2",
        ]
    ):
        write_record(root, f"{i}.md", title="The story", webUrl=url)
    report = await load_paths(store, [root])
    assert (report.added, report.duplicates) == (1, 4)
    assert (await store.stats())["stories"] == 1
    assert all("same story URL" in w for w in report.warnings)
    # And in a later load, a variant finds the same row.
    write_record(
        tmp_path / "later",
        "x.md",
        title="The story, updated",
        webUrl="https://www.example.com/a/story/?utm_campaign=z",
    )
    again = await load_paths(store, [tmp_path / "later"])
    assert (again.added, again.updated) == (0, 1)
    assert (await store.stats())["stories"] == 1


async def test_second_load_changes_nothing(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_folder(root, 12)
    first = await load_paths(store, [root])
    assert (first.added, first.updated, first.unchanged) == (12, 0, 0)
    before = content(store)
    generation = await store.generation()
    second = await load_paths(store, [root])
    assert (second.added, second.updated, second.unchanged, second.rejected) == (0, 0, 12, [])
    assert not second.changed
    assert content(store) == before
    assert await store.generation() == generation


async def test_editing_one_file_updates_one_row_and_fts(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    files = make_folder(root, 10)
    await load_paths(store, [root])
    rows_before = dict(
        (r[0], r[1:])
        for r in db_query(store.path, "SELECT id, title, content_hash, updated_at FROM articles")
    )
    (old_id,) = await fts(store, '"number 4"')
    assert await fts(store, "gadgets") == []

    text = files[4].read_text(encoding="utf-8")
    files[4].write_text(text.replace("Story number 4 about widgets", "Gadgets galore"), "utf-8")
    report = await load_paths(store, [root])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 9)
    assert report.updated_ids == [old_id]

    rows_after = dict(
        (r[0], r[1:])
        for r in db_query(store.path, "SELECT id, title, content_hash, updated_at FROM articles")
    )
    changed = {aid for aid in rows_before if rows_before[aid] != rows_after[aid]}
    assert changed == {old_id}
    assert rows_after[old_id][0] == "Gadgets galore"
    assert await fts(store, "gadgets") == [old_id]
    assert await fts(store, '"number 4"') == []
    assert len(await fts(store, "title: widgets")) == 9


async def test_comment_only_change_is_unchanged(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    files = make_folder(root, 3)
    await load_paths(store, [root])
    before = content(store)
    text = files[1].read_text(encoding="utf-8")
    files[1].write_text(text.replace("---\n", "---\n# an editor's note\n", 1), "utf-8")
    report = await load_paths(store, [root])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    after = content(store)
    # Only the remembered bytes hash of that one file moved.
    diff = [line for line in after if line not in before]
    assert len(diff) == 1 and diff[0].startswith('INSERT INTO "sources"')
    assert str(files[1]) in diff[0]


async def test_related_link_to_a_stored_story(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    write_record(
        root,
        "a.md",
        title="Story A",
        webUrl="https://a.example.com/story",
        related=[
            {"title": "Elsewhere", "webUrl": "https://x.example.com/1"},
            {"title": "Story B", "webUrl": "https://B.example.com/story/?utm_source=a"},
        ],
    )
    write_record(root, "b.md", title="Story B", webUrl="https://b.example.com/story")
    report = await load_paths(store, [root])
    ids = dict(zip(["a", "b"], report.added_ids, strict=True))
    (a,) = await store.get_articles([ids["a"]])
    assert [r.title for r in a.related] == ["Elsewhere", "Story B"]
    assert await store.ids_by_url([r.url for r in a.related]) == {
        "https://b.example.com/story": ids["b"]
    }


async def test_topics_case_insensitive_across_files(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    write_record(root, "1.md", title="One", topics=["Computer Vision"])
    write_record(root, "2.md", title="Two", topics=["computer vision", "AI"])
    write_record(root, "3.md", title="Three", topics=["COMPUTER  VISION"])
    await load_paths(store, [root])
    assert await store.topics() == [("Computer Vision", 3), ("AI", 1)]


# -- one transaction: failures leave the store as it was ---------------------------------


async def seeded_store_and_changes(store: Store, root: Path) -> list[str]:
    """Load 250 stories, then change the folder so a reload would touch every chunk."""
    files = make_folder(root, 250)
    await load_paths(store, [root])
    for f in files[::7]:
        f.write_text(f.read_text("utf-8").replace("about widgets", "about sprockets"), "utf-8")
    make_folder(root, 300, prefix="fresh")
    return content(store)


def integrity(store: Store) -> list[tuple[str]]:
    return db_query(store.path, "PRAGMA integrity_check")


async def test_injected_failure_mid_load_leaves_store_unchanged(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "r"
    before = await seeded_store_and_changes(store, root)
    full_before = db_dump(store.path)
    applied: list[int] = []
    record_sources = SQLiteTransaction.record_sources

    async def fail_after_first_chunk(tx: SQLiteTransaction, files: Any) -> None:
        await record_sources(tx, files)  # the first chunk is written in the transaction...
        raise RuntimeError("injected failure after the first chunk")  # ...then the load fails

    with (
        pytest.MonkeyPatch.context() as patch,
        pytest.raises(RuntimeError, match="injected failure"),
    ):
        patch.setattr(SQLiteTransaction, "record_sources", fail_after_first_chunk)
        await load_paths(
            store,
            [root],
            workers=1,
            progress=lambda _phase, done, _total: applied.append(done),
        )
    assert applied == []  # it failed after the first chunk, before reporting progress
    assert db_dump(store.path) == full_before
    assert integrity(store) == [("ok",)]
    # Still usable: the same load without the failure goes through.
    report = await load_paths(store, [root], workers=1)
    assert report.added == 300 and report.updated == len(range(0, 250, 7))
    assert content(store) != before


async def test_failure_in_a_hook_rolls_back_everything(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    await seeded_store_and_changes(store, root)
    full_before = db_dump(store.path)

    async def failing_hook(conn: Any, added: list[int], updated: list[int]) -> None:
        assert added and updated  # it really ran after the writes
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        await load_paths(store, [root], workers=1, on_stored=[failing_hook])
    assert db_dump(store.path) == full_before
    assert integrity(store) == [("ok",)]


async def test_cancelled_load_leaves_store_unchanged(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    await seeded_store_and_changes(store, root)
    full_before = db_dump(store.path)
    first_chunk = asyncio.Event()

    def progress(_phase: str, done: int, _total: int) -> None:
        first_chunk.set()

    task = asyncio.create_task(load_paths(store, [root], workers=1, progress=progress))
    await first_chunk.wait()
    assert store.writing  # the write transaction is open, with a chunk in it
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not store.writing
    assert db_dump(store.path) == full_before
    assert integrity(store) == [("ok",)]
    report = await load_paths(store, [root], workers=1)
    assert report.added == 300


async def test_cancel_while_hook_runs_before_commit(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    await seeded_store_and_changes(store, root)
    full_before = db_dump(store.path)
    in_hook = asyncio.Event()

    async def slow_hook(conn: Any, added: list[int], updated: list[int]) -> None:
        in_hook.set()
        await asyncio.sleep(60)

    task = asyncio.create_task(load_paths(store, [root], on_stored=[slow_hook]))
    await asyncio.wait_for(in_hook.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert db_dump(store.path) == full_before
    assert integrity(store) == [("ok",)]
    assert (await load_paths(store, [root])).added == 300


async def test_cancel_while_waiting_for_another_writer(store: Store, tmp_path: Path) -> None:
    # Another process holds the write lock, so the load's BEGIN waits on
    # aiosqlite's thread; cancelling must not leave that BEGIN behind, holding
    # the connection inside a transaction (and the lock) for good.
    root = tmp_path / "r"
    make_folder(root, 3)
    before = db_dump(store.path)
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        task = asyncio.create_task(load_paths(store, [root]))
        # The write lock offers no event to wait on; poll it.
        while not store.writing:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.sleep(0.05)
        other.execute("ROLLBACK")
    finally:
        other.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    # Not left inside a transaction: BEGIN would fail there (and StoreBusy if still locked).
    async with store.transaction(wait=False):
        pass
    assert db_dump(store.path) == before
    # Usable by this process and by others.
    assert (await load_paths(store, [root])).added == 3
    other = sqlite3.connect(store.path, timeout=2, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


KILLED_LOAD = textwrap.dedent(
    """
    import asyncio, sys
    from bot.core.store import open_store
    from bot.core.loader import load_paths

    async def hook(conn, added, updated):
        print("in-hook", flush=True)
        await asyncio.sleep(60)

    async def main():
        store = await open_store(sys.argv[1])
        await load_paths(store, [sys.argv[2]], workers=1, on_stored=[hook])

    asyncio.run(main())
    """
)


async def test_killed_process_leaves_store_unchanged(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    await seeded_store_and_changes(store, root)
    await store.close()
    full_before = db_dump(store.path)
    # subprocess.Popen, not asyncio's: asyncio's child watcher (a process-wide
    # waitpid thread) lost this child under load and reported returncode 255.
    proc = subprocess.Popen(  # noqa: ASYNC220 (starting it does not block; waits run in threads)
        [sys.executable, "-c", KILLED_LOAD, str(store.path), str(root)],
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        assert line.strip() == b"in-hook"  # every write done, COMMIT not yet
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        await asyncio.to_thread(proc.wait, 60)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert db_dump(store.path) == full_before
    assert integrity(store) == [("ok",)]


ORPHANED_LOAD = textwrap.dedent(
    """
    import asyncio, sys, time
    from bot.core.store import open_store
    from bot.core.loader import load_paths

    def stall(phase, done, total):
        # Blocks the event loop with the parser processes up and idle.
        print("parsing", flush=True)
        time.sleep(120)

    async def main():
        store = await open_store(sys.argv[1])
        await load_paths(store, [sys.argv[2]], workers=2, progress=stall)

    asyncio.run(main())
    """
)


def _marked_processes(mark: str) -> set[int]:
    """Processes whose environment carries `mark` (a load's workers inherit it)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if mark.encode() in fh.read():
                    found.add(int(entry))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_sigkilled_load_leaves_no_parser_processes(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_folder(root, loader_mod.PROCESS_THRESHOLD + 50)
    mark = f"NEWSBOT_TEST_ORPHAN_MARK=load-{os.getpid()}-{tmp_path.name}"
    env = {**os.environ, mark.split("=")[0]: mark.split("=")[1]}
    proc = subprocess.Popen(
        [sys.executable, "-c", ORPHANED_LOAD, str(tmp_path / "o.db"), str(root)],
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"parsing"
        helpers = _marked_processes(mark) - {proc.pid}
        # Parser workers and the forkserver at least (the resource tracker too).
        assert len(helpers) >= 3, helpers
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        left = helpers
        for _ in range(100):
            left = _marked_processes(mark)
            if not left:
                break
            time.sleep(0.1)
        assert not left, f"{len(left)} processes outlived their load: {sorted(left)}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _marked_processes(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()


async def test_concurrent_load_without_wait_is_refused(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_folder(root, 3)
    release = asyncio.Event()
    in_hook = asyncio.Event()

    async def hold(conn: Any, added: list[int], updated: list[int]) -> None:
        in_hook.set()
        await release.wait()

    first = asyncio.create_task(load_paths(store, [root], on_stored=[hold]))
    await in_hook.wait()
    with pytest.raises(StoreBusy):
        await load_paths(store, [root], wait=False)
    release.set()
    assert (await first).added == 3


# -- prune ---------------------------------------------------------------------------------


async def test_prune_deletes_gone_files_keeps_others(store: Store, tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_files = make_folder(a_dir, 4, prefix="alpha")
    make_folder(b_dir, 2, prefix="beta")
    await load_paths(store, [a_dir])
    await load_paths(store, [b_dir])
    a_files[1].unlink()
    a_files[2].unlink()

    plain = await load_paths(store, [a_dir])  # without --prune nothing is removed
    assert plain.pruned == 0 and (await store.stats())["stories"] == 6

    report = await load_paths(store, [a_dir], prune=True)
    assert report.pruned == 2
    titles = sorted(t for (t,) in db_query(store.path, "SELECT title FROM articles"))
    assert titles == [
        "Alpha number 0 about widgets",
        "Alpha number 3 about widgets",
        "Beta number 0 about widgets",
        "Beta number 1 about widgets",
    ]
    # Pruned stories leave no index entries or related rows behind.
    assert db_query(store.path, "SELECT count(*) FROM articles_fts") == [(4,)]
    assert db_query(store.path, "SELECT count(*) FROM related") == [(4,)]
    assert db_query(store.path, "SELECT count(*) FROM sources") == [(4,)]


async def test_prune_keeps_story_still_carried_by_another_file(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "r"
    one = write_record(root, "one.md", title="Shared", webUrl="https://e.com/shared")
    write_record(root, "two.md", title="Shared", webUrl="https://e.com/shared?utm_source=x")
    write_record(root, "other.md", title="Other")
    await load_paths(store, [root])
    one.unlink()
    report = await load_paths(store, [root], prune=True)
    assert report.pruned == 0
    assert (await store.stats())["stories"] == 2


async def test_prune_follows_a_file_moved_to_another_folder(store: Store, tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    moving = write_record(a_dir, "moving.md", title="Moving", webUrl="https://e.com/moving")
    write_record(a_dir, "stay-a.md", title="Stays in A")
    write_record(b_dir, "stay-b.md", title="Stays in B")
    await load_paths(store, [a_dir, b_dir])
    moved = moving.rename(b_dir / "moving.md")  # unchanged content, new folder
    assert (await load_paths(store, [b_dir])).unchanged == 2
    assert (await load_paths(store, [a_dir], prune=True)).pruned == 0  # B still carries it
    moved.unlink()
    report = await load_paths(store, [b_dir], prune=True)
    assert report.pruned == 1
    titles = sorted(t for (t,) in db_query(store.path, "SELECT title FROM articles"))
    assert titles == ["Stays in A", "Stays in B"]


@pytest.mark.parametrize("make", ["empty", "missing", "only-other-files"])
async def test_prune_refuses_when_scan_finds_no_files(
    store: Store, tmp_path: Path, make: str
) -> None:
    root = tmp_path / "r"
    make_folder(root, 3)
    await load_paths(store, [root])
    before = db_dump(store.path)
    for f in root.iterdir():
        f.unlink()
    if make == "missing":
        root.rmdir()
    elif make == "only-other-files":
        write_raw(root, "README.txt", "not a record")
    with pytest.raises(LoadError, match="refusing to prune"):
        await load_paths(store, [root], prune=True)
    assert db_dump(store.path) == before


async def test_prune_with_a_rejected_file_keeps_its_story(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "r"
    files = make_folder(root, 2)
    await load_paths(store, [root])
    files[0].write_text("no longer a record", "utf-8")
    report = await load_paths(store, [root], prune=True)
    assert list(rejected(report)) == [files[0].name]
    assert report.pruned == 0
    assert (await store.stats())["stories"] == 2


async def test_record_text_helper_round_trips() -> None:
    # The helper other tests rely on writes exactly what it was given.
    from bot.core.records import parse_text

    a = parse_text(record_text(title="T", heat=3, topics=["X"], body="Body"), "h.md")
    assert (a.title, a.heat, a.topics, a.body) == ("T", 3, ("X",), "Body")
