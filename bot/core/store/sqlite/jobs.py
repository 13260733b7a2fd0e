"""`JobLocks` for SQLite: an exclusive `flock` on a file beside the database per job.

The kernel drops the lock when the process dies, so the next process that
tries takes the job over; no stale lock survives a crash.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path


def lock_path(db: Path, job: str) -> Path:
    """The lock file of `job` for the database `db`."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", job)
    return db.with_name(f"{db.name}.{safe}.lock")


class JobLockQueries:
    """`JobLocks` on `_path` (the database file)."""

    _path: Path
    _held: dict[str, int]

    async def try_hold(self, job: str) -> bool:
        if job in self._held:
            return True
        fd = os.open(lock_path(self._path, job), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._held[job] = fd
        return True

    async def holds(self, job: str) -> bool:
        return job in self._held

    async def let_go(self, job: str) -> None:
        fd = self._held.pop(job, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock

    def _let_go_all(self) -> None:
        for fd in self._held.values():
            os.close(fd)
        self._held.clear()
