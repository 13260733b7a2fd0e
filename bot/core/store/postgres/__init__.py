"""The PostgreSQL driver of the store (asyncpg): `PostgresStore` and its schema.

Modules: `schema` (numbered migrations in `schema_version`), `connection`
(the pool, the write transaction, asyncpg's errors as the store's), `store`
(the `Store` and `StoreTransaction` classes), `jobs` (job locks) and
`listen` (LISTEN/NOTIFY of the generation), `fulltext` (words, tsvectors
and bm25), `ranking` (bm25 as one SQL statement), and one module of queries
per area: `articles`, `loading`, `search`, `subscriptions`, `outbox`,
`feeds`, `embeddings`.
"""

from bot.core.store.postgres.fulltext import FTS_COLUMNS, fts_record
from bot.core.store.postgres.loading import settle_after_copy
from bot.core.store.postgres.schema import MIGRATIONS, SCHEMA_VERSION, sync_identities
from bot.core.store.postgres.store import PostgresStore, PostgresTransaction

__all__ = [
    "FTS_COLUMNS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "PostgresStore",
    "PostgresTransaction",
    "fts_record",
    "settle_after_copy",
    "sync_identities",
]
