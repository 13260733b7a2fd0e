"""Generated benchmark stores, cached on disk by (n, seed) so re-runs are quick.

Building a 100,000-story store takes minutes; the search benchmark only reads
it, so it is built once under the temp folder and reused while its recipe
(this module's RECIPE tag) is unchanged.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from bench.corpusgen import generate_records
from bot.core.store import open_store

RECIPE = "v1"
CHUNK = 2_000


def cache_dir() -> Path:
    return Path(
        os.environ.get("NEWSBOT_BENCH_CACHE", Path(tempfile.gettempdir()) / "newsbot-bench")
    )


def store_path(n: int, seed: int) -> Path:
    return cache_dir() / f"generated-{RECIPE}-n{n}-s{seed}.db"


async def build_store(path: Path, n: int, seed: int, *, quiet: bool = False) -> None:
    """Fill a fresh store at `path` with `n` generated stories (background + twins)."""
    tmp = path.with_suffix(".partial")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    store = await open_store(tmp)
    try:
        done = 0
        async with store.transaction() as tx:
            # Generated in chunks of one seeded stream would change the stories;
            # one call keeps "same (n, seed), same store" true.
            records = generate_records(n, seed)
            for i in range(0, len(records), CHUNK):
                arts = [
                    r.to_article(f"<generated:{j}>")
                    for j, r in enumerate(records[i : i + CHUNK], start=i)
                ]
                await tx.upsert_articles(arts)
                done += len(arts)
                if not quiet:
                    print(f"\r  building {n:,}-story store: {done:,}", end="", file=sys.stderr)
            await tx.bump_generation()
        with closing(sqlite3.connect(tmp)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await store.close()
    tmp.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    if not quiet:
        print(
            f"\r  built {n:,}-story store in {time.perf_counter() - t0:.0f}s: {path}",
            file=sys.stderr,
        )


async def cached_store(n: int, seed: int = 1, *, quiet: bool = False) -> Path:
    """Path of a generated store of `n` stories, building it on first use."""
    path = store_path(n, seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        await build_store(path, n, seed, quiet=quiet)
    return path


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [1000]:
        asyncio.run(cached_store(size))
