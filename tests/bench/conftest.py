"""Fixtures of the bench tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_bench_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bench cache for the real-question benches of this test run (of this worker):
    they build and embed the same small real store, so it is made once, never read from
    an earlier run of other code."""
    return tmp_path_factory.mktemp("real-bench-cache")
