"""The SQLite driver of the store: `SQLiteStore` and its schema.

Modules: `schema` (migrations, `PRAGMA user_version`), `connection`
(connections and the write transaction), `store` (the `Store` and
`StoreTransaction` classes), and one module of queries per area:
`articles`, `loading`, `search`, `subscriptions`, `outbox`.
"""

from bot.core.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, script_statements
from bot.core.store.sqlite.store import SQLiteStore, SQLiteTransaction

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "SQLiteTransaction", "script_statements"]
