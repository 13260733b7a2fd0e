"""The PostgreSQL driver of the store (being built for issue 16)."""

from __future__ import annotations

from bot.core.store.errors import StoreError
from bot.core.storeurl import redacted


class PostgresStore:
    """Placeholder until the driver lands: opening one says so."""

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10) -> PostgresStore:
        raise StoreError(f"{redacted(url)}: the PostgreSQL driver is not built yet")
