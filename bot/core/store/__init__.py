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
from bot.core.store.postgres import PostgresStore
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
from bot.core.storeurl import is_postgres_url, is_url, redacted


async def open_store(target: str | os.PathLike[str], *, pool_size: int = 10) -> Store:
    """Open (creating and migrating as needed) the store at `target`: a
    `postgresql://` URL (a pool of `pool_size` connections) or a SQLite file path.

    Raises StoreError when it cannot be used; the store is then left untouched.
    A URL is never taken for a file path.
    """
    if is_postgres_url(target):
        return await PostgresStore.open(str(target).strip(), pool_size=pool_size)
    if is_url(target):
        raise StoreError(f"{redacted(target)}: not a postgresql:// URL nor a file path")
    return await SQLiteStore.open(target)


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
