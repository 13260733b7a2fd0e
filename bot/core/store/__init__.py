"""The article store: one interface, one package per backend.

`Store` (reads on committed data, lifecycle, `transaction()`) and
`StoreTransaction` (the writes, and the reads that must see them) are the
interface (`base`, split by area into `articles`, `loading`, `search`,
`subscriptions`, `outbox`); `types` holds the named values they take and
return, `prepared` a story turned into values to write, `errors` what they
raise. `sqlite` is the one backend today. Open a store with `open_store`.
Only this package holds SQL.
"""

from __future__ import annotations

import os

from bot.core.store.base import Store, StoreTransaction
from bot.core.store.errors import StoreBusy, StoreError, StoreUnavailable
from bot.core.store.prepared import Prepared, prepare
from bot.core.store.sqlite import SQLiteStore
from bot.core.store.types import (
    FieldWeights,
    PendingAlert,
    SourceFile,
    StoryFacts,
    Subscription,
    SubscriptionRule,
    TextQuery,
    UpsertResult,
)


async def open_store(path: str | os.PathLike[str]) -> Store:
    """Open (creating and migrating as needed) the store at `path`.

    Raises StoreError when it cannot be used; the file is then left untouched.
    """
    # Another backend is one more line here, chosen by the form of `path` (a URL).
    return await SQLiteStore.open(path)


__all__ = [
    "FieldWeights",
    "PendingAlert",
    "Prepared",
    "SQLiteStore",
    "SourceFile",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreTransaction",
    "StoreUnavailable",
    "StoryFacts",
    "Subscription",
    "SubscriptionRule",
    "TextQuery",
    "UpsertResult",
    "open_store",
    "prepare",
]
