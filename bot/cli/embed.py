"""`newsbot embed`: give every story awaiting one its sentence vector, with a progress bar.

The running bot does the same in the background; this is the on-demand
backfill (and what `newsbot load --embed` runs after its load).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.core.embeddings.backfill import embed_pending
from bot.core.embeddings.models import EmbeddingUnavailable, load_encoder
from bot.core.settings import Settings
from bot.core.store import Store, open_store


async def embed_store(
    store: Store, settings: Settings, *, limit: int | None = None, summary: TextIO | None = None
) -> int:
    """Embed what awaits in `store`, a bar on a terminal's stderr and a summary on
    `summary` (stdout); the exit code (2: the model cannot load)."""
    try:
        # Every core: nothing else runs in this process meanwhile.
        encoder = load_encoder(settings.embeddings, threads=os.cpu_count() or 1)
    except EmbeddingUnavailable as exc:
        print(f"newsbot embed: {exc}", file=sys.stderr)
        return 2
    bar: Progress | None = None
    if sys.stderr.isatty():
        bar = Progress(
            TextColumn("embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            console=Console(stderr=True),
        )
    task = bar.add_task("embedding", total=None) if bar is not None else None

    def progress(done: int, total: int) -> None:
        if bar is not None and task is not None:
            bar.update(task, completed=done, total=total)

    started = time.perf_counter()
    with bar if bar is not None else contextlib.nullcontext():
        done = await embed_pending(store, encoder, progress=progress, limit=limit)
    seconds = time.perf_counter() - started
    left = (await store.embedding_counts(encoder.name)).awaiting
    rate = f" ({done / seconds:.0f}/s)" if done and seconds > 0 else ""
    print(
        f"embedded {done} stories with {encoder.name} in {seconds:.1f}s{rate}; {left} awaiting",
        file=summary or sys.stdout,
    )
    return 0


async def cmd_embed(args: argparse.Namespace, settings: Settings) -> int:
    """`newsbot embed [--limit N]`: 0 done, 2 the model cannot load."""
    # As it is, like `newsbot load`: embedding is about the stories already stored.
    store = await open_store(settings.store_target, pool_size=settings.db_pool)
    try:
        return await embed_store(store, settings, limit=args.limit)
    finally:
        await store.close()
