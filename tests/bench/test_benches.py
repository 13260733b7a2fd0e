"""Every benchmark runs at a small size and prints its figures (CI proves they work;
the big sizes are run by hand, see README)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.core.store.sqlite import SCHEMA_VERSION
from tests.helpers import CORPUS, PROJECT_ROOT

# The benches cache generated stores (NEWSBOT_BENCH_CACHE). One cache per checkout and
# schema: a store another checkout built with a newer schema is unreadable here.
_CHECKOUT = hashlib.blake2b(str(PROJECT_ROOT).encode(), digest_size=4).hexdigest()
BENCH_ENV = {
    **os.environ,
    "NEWSBOT_BENCH_CACHE": str(
        Path(tempfile.gettempdir()) / f"newsbot-bench-{_CHECKOUT}-schema{SCHEMA_VERSION}"
    ),
}

CASES = [
    (["bench.load", "--sizes", "500", "--cache", "{tmp}"], ["stories/s", "x floor"]),
    (["bench.search", "--legacy", "--sizes", "1000", "--questions", "60"], ["p99", "WRatio"]),
    (["bench.alerts", "--small"], ["msg/s", "429"]),
    (["bench.discord", "--stories", "500"], ["news during reload", "autocomplete"]),
    (["bench.feeds", "--feeds", "5", "--per-feed", "10"], ["stories/s", "ratio to the loader"]),
    (["bench.grouping"], ["precision", "chosen"]),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[c[0][0] for c in CASES])
def test_benchmark_runs_small(argv: list[str], expected: list[str], tmp_path) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=BENCH_ENV,
    )
    # A bench exits 1 when a target is missed; targets are set for big stores, so at
    # this size only a crash (traceback, other codes) is a failure.
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for text in expected:
        assert text in proc.stdout, f"{text!r} missing from {args[0]} output"


REAL_CASES = [
    (
        ["bench.relevance", "--generated", "200"],
        ["store real:", "store real+200:", "bm25f", "newsbot[off]", "synonym", "targets on test"],
    ),
    (["bench.relevance", "--legacy", "--distractors", "200"], ["NOT THE JUDGE", "wratio"]),
    (
        ["bench.search", "--generated", "200", "--random-vectors"],
        ["bm25 (a)", "newsbot[off]: ask p50", "autocomplete"],
    ),
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real corpus not found at {CORPUS}")
@pytest.mark.parametrize(("argv", "expected"), REAL_CASES, ids=["relevance", "legacy", "search"])
def test_real_question_benchmark_runs_small(
    argv: list[str], expected: list[str], real_bench_cache: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NEWSBOT_BENCH_CACHE": str(real_bench_cache)},
    )
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for text in expected:
        assert text in proc.stdout, f"{text!r} missing from {argv[0]} output"
