"""bench.dense at a small size: both variants measured, and the graph answering the dev
questions as exact search does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import CORPUS, PROJECT_ROOT


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real corpus not found at {CORPUS}")
def test_the_dense_bench_compares_exact_and_graph(real_bench_cache: Path) -> None:
    argv = ["bench.dense", "--generated", "200", "--quality-generated", "0", "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NEWSBOT_BENCH_CACHE": str(real_bench_cache)},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    speed, quality = out["speed"], out["quality"]
    assert speed["exact"]["approximate"] is False and speed["graph"]["approximate"] is True
    assert speed["stories"] > 200 and speed["x_ask_p99_ms"] > 0
    assert quality["graph"]["approximate"] and not quality["exact"]["approximate"]
    # A small store's graph reaches every story: it must rank exactly as exact search.
    assert quality["same_first_answer"] == 1.0
    assert quality["graph"]["hit@1"] == quality["exact"]["hit@1"] > 0.5
