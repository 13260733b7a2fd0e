"""Fixtures of the core's tests: the real embedding model, loaded once (it takes seconds)."""

from __future__ import annotations

import pytest

from bot.core.embeddings.models import MINILM, Encoder, load_encoder


@pytest.fixture(scope="session")
def minilm() -> Encoder:
    """all-MiniLM-L6-v2 from its package, offline, on one CPU thread."""
    return load_encoder(MINILM)
