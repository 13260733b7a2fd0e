"""bench.scale runs at a small size on the tests' PostgreSQL server and prints its figures."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import CORPUS, PROJECT_ROOT


@pytest.mark.postgres
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"real corpus not found at {CORPUS}")
def test_scale_bench_runs_small(pg_admin_url: str) -> None:
    argv = ["bench.scale", "--stories", "100", "--models", "off", "--split", "test"]
    argv += ["--pg", pg_admin_url]
    proc = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )
    # Targets are for 100,000 stories: at this size only a crash is a failure.
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for text in (
        "load (upserts, one transaction): SQLite",
        "migrate SQLite -> PostgreSQL",
        "ask [off]: SQLite p50",
        "held-out hit@1",
    ):
        assert text in proc.stdout, f"{text!r} missing from bench.scale output"
