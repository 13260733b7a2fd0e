"""What the store raises on purpose: `StoreError` and its `StoreBusy`."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says why and where."""


class StoreBusy(StoreError):
    """Another write (a reload) is running in this process."""
