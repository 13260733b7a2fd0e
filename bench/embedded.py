"""Newsbot's searcher with semantic search off or on, for the benches.

With a model, the bench store is embedded first (newsbot's own backfill,
`embed_pending`), into a cached copy of the store file keyed by the model, the
text embedded and the vectors the model gives, so a second run reuses the
vectors and a change that changes them re-embeds. A newsbot without embeddings
(before issue 12) still runs the benches: only the "off" variant is measured then.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.realset import checkpoint
from bot.core.search.searcher import Searcher
from bot.core.store import Store, open_store

PROBE_TITLE = "IBM stops work on facial recognition over human rights concerns"
PROBE_EXCERPT = "IBM is exiting its facial recognition business over concerns of racial bias. "

try:
    import numpy as np

    from bot.core.embeddings.backfill import embed_pending
    from bot.core.embeddings.models import OFF, EmbeddingUnavailable, load_encoder
    from bot.core.embeddings.vectors import pack, story_text
    from bot.core.settings import Settings
    from bot.core.store.types import EmbeddingRow, SearchText

    DEFAULT_MODEL: str | None = Settings.embeddings
except ImportError:  # a newsbot from before semantic search: lexical only
    OFF = "off"
    DEFAULT_MODEL = None


def supported() -> bool:
    """Whether this newsbot has semantic search at all."""
    return DEFAULT_MODEL is not None


def variants(requested: str | None) -> list[str]:
    """The embedding settings to measure: "off", then the default model (or the
    comma-separated list asked for), as far as this newsbot has them."""
    if not supported():
        return [OFF]
    if requested:
        names = [n.strip().lower() for n in requested.split(",") if n.strip()]
    else:
        names = [OFF] + ([DEFAULT_MODEL] if DEFAULT_MODEL and DEFAULT_MODEL != OFF else [])
    return list(dict.fromkeys(names))


def make_searcher(store: Store, model: str) -> Searcher:
    """A Searcher with NEWSBOT_EMBEDDINGS = `model` (only "off" on an older newsbot)."""
    if not supported():
        if model != OFF:
            raise SystemExit(f"this newsbot has no semantic search; cannot measure {model!r}")
        return Searcher(store)
    return Searcher(store, embeddings=model)


def _vector_tag(encoder: Any) -> str:
    # A vector is fixed by the text embedded, by what the model makes of a text and by
    # the stored layout: probes of all three stand for them, so an edit of the code that
    # changes none of them (a docstring, the loader) re-embeds nothing.
    probe = SearchText(PROBE_TITLE, "AI, Computer Vision", "Engadget", PROBE_EXCERPT * 20, "")
    text = story_text(probe)
    vec = np.round(np.asarray(encoder.encode([text])[0], dtype=np.float32), 4)
    return hashlib.sha1(text.encode() + pack(vec)).hexdigest()[:8]


async def embedded_copy(
    base: Path, model: str, *, random_vectors: bool = False, quiet: bool = True
) -> tuple[Path, str | None]:
    """(a store file with every story of `base` embedded by `model`, cached; the reason
    when the model cannot load, in which case `base` itself is returned).

    `random_vectors`: random unit vectors of the model's size instead, for timing only
    (the cost of the dense search does not depend on the values; embedding 100,000
    stories for real takes an hour of this machine's CPU). Never for relevance."""
    if model == OFF or not supported():
        return base, None
    try:
        encoder = load_encoder(model)
    except EmbeddingUnavailable as exc:
        return base, str(exc)
    kind = "rnd" if random_vectors else "emb"
    path = base.with_name(f"{base.stem}-{kind}-{model}-{_vector_tag(encoder)}.db")
    partial = path.with_suffix(".partial")
    if not path.exists():
        shutil.copyfile(base, partial)
    else:
        partial = path  # cached: only stories without a current vector are embedded
    store = await open_store(partial)
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not quiet and total:
            print(f"\r  embedding with {model}: {done:,}/{total:,}", end="", file=sys.stderr)

    try:
        if random_vectors:
            done = await random_fill(store, model, encoder.dim)
        else:
            done = await embed_pending(store, encoder, progress=progress)
    finally:
        await store.close()
    checkpoint(partial)
    if partial != path:
        partial.replace(path)
    if not quiet and done:
        rate = done / max(time.perf_counter() - t0, 1e-9)
        print(f"\r  embedded {done:,} stories with {model} ({rate:.0f}/s)", file=sys.stderr)
    return path, None


async def random_fill(store: Store, model: str, dim: int) -> int:
    """Give every story awaiting a `model` vector a random unit one (speed runs that
    need a store's worth of vectors, not their meaning). Returns how many."""
    rng = np.random.default_rng(1)
    done = 0
    while tasks := await store.stories_awaiting_embedding(model, 5000):
        vecs = rng.standard_normal((len(tasks), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        rows = [
            EmbeddingRow(t.article_id, t.content_hash, pack(v))
            for t, v in zip(tasks, vecs, strict=True)
        ]
        async with store.transaction() as tx:
            await tx.put_embeddings(model, rows)
        done += len(rows)
    return done
