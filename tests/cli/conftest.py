"""Fixtures of the command-line tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: no `.env`, no stray NEWSBOT_* settings, nothing in the repo touched."""
    for name in list(os.environ):
        if name.startswith("NEWSBOT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    # A command that forgot --db would land here, where tests can see it.
    monkeypatch.setenv("NEWSBOT_DB", str(tmp_path / "default.db"))
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "no-data-dir"))
    return tmp_path
