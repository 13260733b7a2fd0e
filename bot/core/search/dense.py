"""The semantic half of search: the question's embedding against every story's.

`Semantic` holds one model (loaded on first use, in a thread) and the matrix
of the store's vectors of that model, reloaded when vectors are written
(`Store.embedding_version`), in the background once it exists so that a
backfill never stalls questions. Nothing is loaded while the store holds no
vector of the model: a store never embedded answers lexically at no cost.
Where the model cannot load, `error` says why and search stays lexical.

Up to `ann.EXACT_UP_TO` stories the vectors are one exact matrix, rebuilt at
every reload; above, an HNSW graph (`ann.AnnIndex`) that each reload updates in
place with what changed, so that `ask` at 100,000 stories does not pay a
100,000-row product per question.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.embeddings.ann import EXACT_UP_TO, AnnIndex
from bot.core.embeddings.models import OFF, EmbeddingUnavailable, Encoder, load_encoder, probe
from bot.core.embeddings.vectors import Matrix, MatrixBuilder
from bot.core.store import Store
from bot.core.store.types import EmbeddingRow

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds between looks for new vectors
QUESTION_CACHE = 256  # question vectors kept (autocomplete and pagers ask again)
PAGE = 10_000  # stored vectors read at a time


Vectors = Matrix | AnnIndex  # what the stories' vectors are searched in


@dataclass(frozen=True, slots=True)
class Dense:
    """One question against every embedded story: the nearest, and any story's cosine."""

    top: list[tuple[int, float]]  # the nearest stories: (article id, cosine), best first
    cosine_of: Callable[[int], float | None]  # article id → cosine, None when not embedded

    def cosine(self, article_id: int) -> float | None:
        """The question's cosine with that story, None when it has no vector yet."""
        return self.cosine_of(article_id)


class Semantic:
    """One model and the store's vectors of it, for a `Searcher`."""

    def __init__(self, model: str, *, exact_up_to: int = EXACT_UP_TO) -> None:
        self.model = model
        self.exact_up_to = exact_up_to  # stories searched exactly; above, through a graph
        self._error = probe(model)
        self._encoder: Encoder | None = None
        self._matrix: Vectors | None = None
        self._loading = asyncio.Lock()  # one reload at a time: a graph is updated in place
        self._version = 0
        self._checked = -float("inf")
        self._next_reload = 0.0
        self._reload: asyncio.Task[None] | None = None
        self._first: asyncio.Task[None] | None = None
        self._questions: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def error(self) -> str | None:
        """Why semantic search is not available (None while it is, or may be)."""
        return self._error

    @property
    def approximate(self) -> bool:
        """Whether the nearest stories come from a graph (a big store) or exact search."""
        return isinstance(self._matrix, AnnIndex)

    @property
    def embedded(self) -> int:
        """Stories in the vectors in memory."""
        return len(self._matrix) if self._matrix is not None else 0

    def encoder(self) -> Encoder | None:
        """The loaded model, loading it on first call (blocking: call in a thread);
        None when it cannot load."""
        if self._encoder is None and self._error is None:
            try:
                self._encoder = load_encoder(self.model)
            except EmbeddingUnavailable as exc:
                self._error = str(exc)
                log.warning("semantic search off, answering lexically: %s", exc)
        return self._encoder

    def preload(self, store: Store) -> None:
        """Load the model and the vectors in the background (a running bot: the model
        takes seconds, and the first questions must not wait for it; they are answered
        lexically meanwhile). Without it, the first question waits for the load."""
        if self.model != OFF and self._error is None and self._first is None:
            self._first = asyncio.create_task(self._background_load(store, None))

    def forget_questions(self) -> None:
        """Drop the cached question vectors (a bench timing every question's encode)."""
        self._questions.clear()

    async def search(self, store: Store, question: str, k: int) -> Dense | None:
        """The question against every embedded story; None when there is no model or
        no vector of it yet."""
        if self.model == OFF or self._error is not None:
            return None
        matrix = await self._current(store)
        if matrix is None or not len(matrix) or self._encoder is None:
            return None
        cached = self._questions.get(question)
        try:
            # In one worker thread: the encode (torch) and the product (numpy) release
            # the GIL, so they run while the lexical half waits on SQLite.
            vec, dense = await asyncio.to_thread(
                _nearest, self._encoder, matrix, question, cached, k
            )
        except Exception:  # the model failing on one question must not fail the question
            log.exception("semantic search failed for %r; answering lexically", question[:80])
            return None
        # The cache is touched on the event loop only, never from two threads at once.
        self._questions[question] = vec
        self._questions.move_to_end(question)
        if len(self._questions) > QUESTION_CACHE:
            self._questions.popitem(last=False)
        return dense

    async def _current(self, store: Store) -> Vectors | None:
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY:
            return self._matrix
        self._checked = now
        version = await store.embedding_version(self.model)
        if version == 0 or version == self._version:
            return self._matrix
        if self._matrix is None:
            if self._first is not None and not self._first.done():
                return None  # being loaded in the background: lexical meanwhile
            await self._load(store, version)  # nothing else to answer from: wait
        elif self._reload is None and now >= self._next_reload:
            self._reload = asyncio.create_task(self._background_load(store, version))
        return self._matrix

    async def close(self) -> None:
        """Stop loading vectors in the background: the store is about to close, and a
        read of a closed store would only log a traceback."""
        tasks = [t for t in (self._first, self._reload) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _background_load(self, store: Store, version: int | None) -> None:
        try:
            await self._load(store, version)
        except Exception:
            log.exception("reloading the story vectors failed; using the previous ones")
        finally:
            if self._reload is asyncio.current_task():
                self._reload = None

    async def _load(self, store: Store, version: int | None) -> None:
        async with self._loading:
            await self._load_once(store, version)

    async def _load_once(self, store: Store, version: int | None) -> None:
        started = time.monotonic()
        if version is None:
            version = await store.embedding_version(self.model)
            if version == 0:
                return  # nothing embedded: no model to load yet
        encoder = await asyncio.to_thread(self.encoder)
        if encoder is None:
            return
        count = (await store.embedding_counts(self.model)).embedded
        current = self._matrix
        # Once a graph, always a graph: it is updated in place, never rebuilt.
        if isinstance(current, AnnIndex) or count > self.exact_up_to:
            graph = current if isinstance(current, AnnIndex) else AnnIndex(encoder.dim, count)
            graph.begin()
            await self._pages(store, graph.add)
            await asyncio.to_thread(graph.end)
            matrix: Vectors = graph
        else:
            builder = MatrixBuilder(encoder.dim, count)
            await self._pages(store, builder.add)
            matrix = builder.build()
        self._matrix, self._version = matrix, version
        took = time.monotonic() - started
        # While a backfill writes vectors every second, reload at most every ten
        # loads' time, so reloading costs at most a tenth of a core. A graph's first
        # build (a minute at 100,000) is paid once: its later passes add only the new.
        built = isinstance(matrix, AnnIndex) and not isinstance(current, AnnIndex)
        spacing = CHECK_EVERY if built else max(CHECK_EVERY, 10 * took)
        self._next_reload = time.monotonic() + spacing
        log.debug("story vectors of %s: %d in %.2fs", self.model, len(matrix), took)

    async def _pages(self, store: Store, take: Callable[[Sequence[EmbeddingRow]], None]) -> None:
        after = 0
        while page := await store.embedding_matrix(self.model, after=after, limit=PAGE):
            await asyncio.to_thread(take, page)
            after = page[-1].article_id


def _nearest(
    encoder: Encoder, vectors: Vectors, question: str, vec: np.ndarray | None, k: int
) -> tuple[np.ndarray, Dense]:
    if vec is None:
        vec = encoder.encode([question])[0]
    query = vec
    if isinstance(vectors, AnnIndex):
        top = vectors.nearest(query, k)
        # The rerank asks for each candidate's cosine more than once; the graph's answer
        # is a copy of the story's vector, so keep the cosines got.
        known: dict[int, float | None] = dict(top)

        def graph_cosine(article_id: int) -> float | None:
            if article_id not in known:
                known[article_id] = vectors.cosine(article_id, query)
            return known[article_id]

        return vec, Dense(top, graph_cosine)
    sims = vectors.rows @ query
    row_of = vectors.row_of

    def cosine(article_id: int) -> float | None:
        row = row_of.get(article_id)
        return None if row is None else float(sims[row])

    return vec, Dense(vectors.top(sims, k), cosine)
