"""Embedding the stories that await it, in batches, after loads: never inside one.

`embed_pending` reads a batch of stories without a current vector, encodes
them in a worker thread (the event loop keeps answering meanwhile) and writes
the vectors in a short transaction of their own, until none await. Memory is
bounded by the batch. `embed_forever` is the running bot's loop around it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.core.embeddings.models import Encoder
from bot.core.embeddings.vectors import pack, story_text
from bot.core.store import Store
from bot.core.store.types import EmbeddingRow

log = logging.getLogger(__name__)

BATCH = 64  # stories per encode and per write transaction
IDLE_SECONDS = 5.0  # between looks for new stories when none await
START_AFTER = 20.0  # seconds after start before the first look

Progress = Callable[[int, int], None]  # (done, total)


async def embed_pending(
    store: Store,
    encoder: Encoder,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
    limit: int | None = None,
) -> int:
    """Embed every story awaiting a vector of `encoder`'s model (at most `limit`);
    returns how many were embedded."""
    total = (await store.embedding_counts(encoder.name)).awaiting
    if limit is not None:
        total = min(total, limit)
    done = 0
    if progress is not None:
        progress(done, total)
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        tasks = await store.stories_awaiting_embedding(encoder.name, size)
        if not tasks:
            break
        texts = [story_text(t.text) for t in tasks]
        vectors = await asyncio.to_thread(encoder.encode, texts)
        rows = [
            EmbeddingRow(t.article_id, t.content_hash, pack(v))
            for t, v in zip(tasks, vectors, strict=True)
        ]
        async with store.transaction() as tx:
            await tx.put_embeddings(encoder.name, rows)
        done += len(rows)
        if progress is not None:
            progress(done, max(total, done))
    return done


async def embed_forever(
    store: Store,
    encoder: Callable[[], Encoder | None],
    model: str,
    *,
    idle: float = IDLE_SECONDS,
    start_after: float = START_AFTER,
) -> None:
    """Keep every story embedded with `model`: the running bot's background task.
    `encoder` loads it (blocking; None: it cannot load, so nothing is done). Survives
    errors; stops when cancelled."""
    # Loading the model takes seconds of a core: the bot connects and answers first.
    await asyncio.sleep(start_after)
    while True:
        try:
            awaiting = (await store.embedding_counts(model)).awaiting
            loaded = await asyncio.to_thread(encoder) if awaiting else None
            if loaded is not None:
                done = await embed_pending(store, loaded)
                if done:
                    log.info("embedded %d stories with %s", done, loaded.name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("embedding stories failed; trying again later")
        await asyncio.sleep(idle)
