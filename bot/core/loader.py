"""Loading record files into the store: scan → parse (in parallel) → one transaction.

Files are read, hashed and parsed by worker processes (both cores on a big
load; a thread on a small one), which also turn each story into the rows the
store writes, so the parent only moves bytes and runs SQL. A file whose bytes
hash matches the last load is not parsed at all.

All writes of a load are one store transaction (`store.transaction()`), opened
at the first changed story and streamed into chunk by chunk (memory stays flat
at 100,000 records). It also records sources, prunes on request and runs the
`on_stored` hooks (alert matching writes its outbox rows there). Killed half-way,
the store holds exactly what it held before.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import pickle
import select
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from bot.core.records import (
    DEFAULT_MAX_RECORD_BYTES,
    FieldWarning,
    RecordError,
    parse_bytes,
    scan_paths,
)
from bot.core.store import Prepared, SourceFile, Store, StoreBusy, StoreTransaction, prepare

CHUNK = 200  # files per worker task: big enough to amortise pickling, small for progress
PROCESS_THRESHOLD = 400  # below this many files a worker process costs more than it saves

Progress = Callable[[str, int, int], None]  # (phase, done, total)
# (the load's transaction, ids added, ids updated), run before it commits.
StoredHook = Callable[[StoreTransaction, list[int], list[int]], Awaitable[Any]]


class LoadError(RuntimeError):
    """The load as a whole cannot go ahead (nothing changed)."""


@dataclass(slots=True)
class LoadReport:
    """What a load did: counts by outcome, rejected files, warnings, the ids added and updated."""

    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    pruned: int = 0
    rejected: list[RecordError] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)
    added_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def loaded(self) -> int:
        """Records read without error: added, updated, unchanged and duplicates."""
        return self.added + self.updated + self.unchanged + self.duplicates

    @property
    def changed(self) -> bool:
        """True when the stored stories changed (any added, updated or pruned)."""
        return bool(self.added or self.updated or self.pruned)

    @property
    def exit_code(self) -> int:
        """0 all loaded, 3 some rejected (the rest loaded), 2 nothing could be read."""
        if self.rejected and not self.loaded:
            return 2
        return 3 if self.rejected else 0

    def summary(self) -> str:
        """The counts as one line ('3 added, 1 updated, 40 unchanged, 0 rejected')."""
        parts = [
            f"{self.added} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{len(self.rejected)} rejected",
        ]
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate")
        if self.pruned:
            parts.append(f"{self.pruned} pruned")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data: rejections as strings, warnings as
        {path, field, value, reason}; no ids."""
        return {
            "files": self.files,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "pruned": self.pruned,
            "rejected": [str(e) for e in self.rejected],
            "warnings": [w.as_dict() for w in self.warnings],
            "seconds": round(self.seconds, 3),
        }


# -- phase 1: parse (runs in workers; module-level so it pickles) ------------
# NamedTuples: one per file crosses back to the parent (see `store.prepared`).


class RejectedFile(NamedTuple):
    """A file that cannot become a story (`shown`: its path as the user gave it)."""

    shown: str
    reason: str


class SameFile(NamedTuple):
    """A file whose bytes hash is the one recorded by the last load: not parsed."""

    path: str  # absolute
    digest: str


class ParsedFile(NamedTuple):
    """A file parsed into a story, prepared for the store and pickled."""

    path: str  # absolute
    digest: str
    url: str  # the story's canonical URL
    warnings: tuple[FieldWarning, ...]
    prepared: bytes  # a pickled `Prepared`, unpickled by the parent only when it is kept


FileResult = RejectedFile | SameFile | ParsedFile


def parse_chunk(items: Sequence[tuple[str, str, str | None]], max_bytes: int) -> list[FileResult]:
    """What became of each (shown path, absolute path, known bytes hash).

    Stories go back already turned into rows and pickled, so the parent only
    moves bytes and runs SQL: all per-story Python work happens here, in parallel.
    """
    out: list[FileResult] = []
    for shown, path, known in items:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as exc:
            out.append(RejectedFile(shown, f"cannot read: {exc.strerror or exc}"))
            continue
        if len(raw) > max_bytes:
            # Only limit+1 bytes were read: parse_bytes would state that as the size.
            out.append(RejectedFile(shown, f"file is over the {max_bytes:,}-byte limit"))
            continue
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        if digest == known:
            out.append(SameFile(path, digest))
            continue
        try:
            article = parse_bytes(raw, shown, max_bytes)
        except RecordError as exc:
            out.append(RejectedFile(shown, exc.reason))
            continue
        except Exception as exc:
            out.append(RejectedFile(shown, f"unexpected parser error: {type(exc).__name__}"))
            continue
        prepared = prepare(replace(article, source=path))
        out.append(
            ParsedFile(
                path=path,
                digest=digest,
                url=prepared.url,
                warnings=article.warnings,
                prepared=pickle.dumps(prepared, protocol=5),
            )
        )
    return out


def parse_executor(n_files: int, workers: int | None) -> Executor | None:
    """The worker-process pool a load of `n_files` parses with; None: parse in a thread."""
    cpus = os.cpu_count() or 1
    # One more parser than cores: the parent's SQL leaves gaps a spare parser fills.
    n = workers if workers is not None else min(cpus + 1, 5)
    if n <= 1 or n_files < PROCESS_THRESHOLD or not _main_is_importable():
        return None
    # forkserver: forking a process that runs threads (the store driver's) can deadlock the child.
    ctx = multiprocessing.get_context("forkserver")
    # Workers run `parse_chunk` from this module: preloaded, each fork starts with it imported.
    ctx.set_forkserver_preload(["bot.core.loader"])
    return ProcessPoolExecutor(
        max_workers=n, mp_context=ctx, initializer=watch_parent, initargs=(os.getpid(),)
    )


def watch_parent(pid: int) -> None:
    """Worker initializer: the worker exits as soon as process `pid` (the load) is gone.

    However the load dies: a SIGKILL gives the pool no chance to stop its workers,
    and an idle worker blocked on the task queue would otherwise wait forever
    (reparented to init), holding the forkserver and resource tracker alive too.
    """
    threading.Thread(target=_exit_when_gone, args=(pid,), name="watch-parent", daemon=True).start()


def _exit_when_gone(pid: int) -> None:
    try:
        # Linux: a pidfd turns readable when the process exits; no polling.
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while _alive(pid):
            time.sleep(0.5)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process took the id: ours is gone
    return True


def _main_is_importable() -> bool:
    """Worker processes re-import __main__; from `python -` or a REPL they cannot."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


# -- the whole load ------------------------------------------------------------


async def load_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    prune: bool = False,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    progress: Progress | None = None,
    on_stored: Sequence[StoredHook] = (),
    workers: int | None = None,
    wait: bool = True,
) -> LoadReport:
    """Load record files and folders into `store`. See the module docstring.

    `on_stored` hooks run in the load's transaction, after its writes, with
    (the transaction, ids added, ids updated). `wait=False` raises StoreBusy
    when another load of this store is running.
    """
    if not wait and store.load_lock.locked():
        raise StoreBusy("a reload is already running")
    async with store.load_lock:
        return await _load(store, paths, prune, max_bytes, progress, on_stored, workers)


async def _load(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    prune: bool,
    max_bytes: int,
    progress: Progress | None,
    on_stored: Sequence[StoredHook],
    workers: int | None,
) -> LoadReport:
    started = time.perf_counter()
    report = LoadReport()
    scan = await asyncio.to_thread(scan_paths, paths)
    report.rejected.extend(scan.errors)
    report.files = len(scan.files)
    if prune and not scan.files:
        raise LoadError(
            "refusing to prune: the scan found no record files in "
            + ", ".join(str(p) for p in paths)
            + " (an unmounted or empty folder would otherwise empty the store)"
        )
    known = await store.known_sources()
    # A file unchanged since the last load is not parsed, but it may still be a
    # duplicate of a file earlier in this scan: its stored URL says so.
    known_urls = await store.source_urls()
    items = [(f, os.path.abspath(f)) for f in scan.files]
    work = [(shown, path, known.get(path)) for shown, path in items]

    async with AsyncExitStack() as stack:
        open_tx: StoreTransaction | None = None

        async def writer() -> StoreTransaction:
            # Opened at the first changed story: a reload that finds nothing
            # new holds the write lock only for its final bookkeeping.
            nonlocal open_tx
            if open_tx is None:
                open_tx = await stack.enter_async_context(store.transaction())
            return open_tx

        applied = 0
        # story URL → the file that holds it: the first in scan order wins, on the
        # first load and on every reload alike.
        kept: dict[str, str] = {}

        def is_duplicate(path: str, url: str | None) -> bool:
            if url is None:
                return False
            first = kept.setdefault(url, path)
            if first == path:
                return False
            report.duplicates += 1
            report.warnings.append(
                FieldWarning(
                    path,
                    "webUrl",
                    url,
                    f"has the same story URL as {first}, which was kept",
                    dropped=False,
                )
            )
            return True

        async for results in _parsed_chunks(work, max_bytes, workers):
            prepared: list[Prepared] = []
            sources: list[SourceFile] = []
            for res in results:
                if isinstance(res, RejectedFile):
                    report.rejected.append(RecordError(res.shown, res.reason))
                elif isinstance(res, SameFile):
                    if not is_duplicate(res.path, known_urls.get(res.path)):
                        report.unchanged += 1
                else:
                    report.warnings.extend(res.warnings)
                    sources.append(SourceFile(res.path, res.digest, res.url))
                    if is_duplicate(res.path, res.url):
                        continue
                    # Our own pickle, made by our own worker a moment ago.
                    prepared.append(pickle.loads(res.prepared))
            if sources:
                tx = await writer()
                result = await tx.upsert_prepared(prepared)
                report.added += len(result.added)
                report.updated += len(result.updated)
                report.unchanged += result.unchanged
                report.added_ids.extend(result.added)
                report.updated_ids.extend(result.updated)
                if result.updated:
                    # A story a server's feed stored first is now also the operator's record:
                    # every server sees it (a new story has no sources, so it needs no row).
                    await tx.add_story_sources(result.updated, "folder", None)
                await tx.record_sources(sources)
            applied += len(results)
            if progress:
                progress("load", applied, len(work))

        tx = await writer()
        if prune:
            present = {path for _, path in items}
            report.pruned = await tx.prune([os.fspath(r) for r in paths], present)
        for hook in on_stored:
            await hook(tx, report.added_ids, report.updated_ids)
        if report.changed:
            await tx.bump_generation()
        report.seconds = time.perf_counter() - started
        summary = {
            **report.as_dict(),
            "rejected": len(report.rejected),
            "warnings": len(report.warnings),
            "at": time.time(),
        }
        await tx.set_meta("last_load", summary)
    return report


async def _parsed_chunks(
    work: list[tuple[str, str, str | None]], max_bytes: int, workers: int | None
) -> AsyncIterator[list[FileResult]]:
    """Results of `parse_chunk`, chunk by chunk, in file order, a few chunks ahead."""
    chunks = [work[i : i + CHUNK] for i in range(0, len(work), CHUNK)]
    executor = parse_executor(len(work), workers)
    loop = asyncio.get_running_loop()
    ahead = 2 * (getattr(executor, "_max_workers", 1) or 1) if executor else 1
    pending: list[asyncio.Future[list[FileResult]]] = []
    try:
        for chunk in chunks:
            if executor is None:
                pending.append(
                    asyncio.ensure_future(asyncio.to_thread(parse_chunk, chunk, max_bytes))
                )
            else:
                pending.append(loop.run_in_executor(executor, parse_chunk, chunk, max_bytes))
            while len(pending) > ahead:
                yield await pending.pop(0)
        while pending:
            yield await pending.pop(0)
    finally:
        for fut in pending:
            fut.cancel()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
