"""tests/drivers.py itself: PostgreSQL tests skip loudly, or fail when required; markers.

Each case runs a small pytest session in a subprocess with the plugin loaded, pointed
at a server that is not there (port 1 on 127.0.0.1), so no PostgreSQL is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import PROJECT_ROOT

PROBE = """
import pytest

async def test_probe(pg_url):
    assert pg_url

def test_both(store_target):
    assert store_target

@pytest.mark.sqlite_only
def test_sqlite_only(store_target):
    assert store_target
"""
PYTEST = [
    sys.executable,
    "-m",
    "pytest",
    "-q",
    "-rs",
    "-p",
    "tests.drivers",
    "-p",
    "no:cacheprovider",
]
PYTEST += ["-o", "asyncio_mode=auto"]
NOWHERE = "postgresql://postgres:pw-kept-secret@127.0.0.1:1/postgres"


def session(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_TEST_")}
    return subprocess.run(
        [*PYTEST, "--rootdir", str(tmp_path), *args, str(probe)],
        cwd=PROJECT_ROOT,
        env={**clean, "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unavailable_postgres_skips_loudly_and_hides_the_password(tmp_path: Path) -> None:
    proc = session(tmp_path, "-vv", "-m", "postgres", NEWSBOT_TEST_PG_URL=NOWHERE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "POSTGRESQL NOT AVAILABLE" in proc.stdout
    skipped = sorted(
        line.split("::")[1].split()[0]
        for line in proc.stdout.splitlines()
        if "SKIPPED" in line and "::" in line
    )
    # The `postgres` marker is on pg_url's test and on the [postgres] store_target only;
    # sqlite_only's [postgres] variant is not there at all.
    assert skipped == ["test_both[postgres]", "test_probe"]
    assert "2 skipped, 3 deselected" in proc.stdout
    assert "pw-kept-secret" not in proc.stdout + proc.stderr


def test_required_postgres_fails_instead(tmp_path: Path) -> None:
    proc = session(tmp_path, NEWSBOT_TEST_PG_URL=NOWHERE, NEWSBOT_TEST_REQUIRE_PG="1")
    assert proc.returncode != 0
    assert "NEWSBOT_TEST_REQUIRE_PG=1 but PostgreSQL is unavailable" in proc.stdout
    # The SQLite variants still pass; sqlite_only's [postgres] variant is left out.
    assert "2 passed, 1 deselected, 2 errors" in proc.stdout
    assert "pw-kept-secret" not in proc.stdout + proc.stderr
