"""The store's interface, jobs area: electing the one process that runs a job.

Feed polling, folder rescans, digests and the embedding backfill must run in
exactly one process of those sharing a store. A process holds a job's lock
for as long as it lives (SQLite: a lock on a file beside the database;
PostgreSQL: a session advisory lock); when it dies the lock passes to the
next process that tries (`bot.core.jobs`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class JobLocks(ABC):
    """Per-job locks held by a process, released when it closes the store or dies."""

    @abstractmethod
    async def try_hold(self, job: str) -> bool:
        """Take `job`'s lock if no other process holds it; True when this process holds
        it now (including when it already did). Never waits."""

    @abstractmethod
    async def holds(self, job: str) -> bool:
        """True while this process still holds `job`'s lock (False once its connection
        to the store was lost, say)."""

    @abstractmethod
    async def let_go(self, job: str) -> None:
        """Release `job`'s lock if this process holds it."""
