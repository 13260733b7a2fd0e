"""What the store raises on purpose: `StoreError` and the kinds callers act on."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says why and where.

    A driver raises only these: its database library's own errors never reach
    callers, so the core and the front ends are the same for every backend.
    """


class StoreBusy(StoreError):
    """Another write (a reload) is running in this process."""


class StoreUnavailable(StoreError):
    """The database did not answer: locked by another process past the timeout,
    gone, unreadable, or out of space. Retrying later may work."""
