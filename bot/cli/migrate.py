"""`newsbot migrate --to postgresql://…`: copy the SQLite store into PostgreSQL.

The copy itself is `bot.core.store.transfer` (one transaction, counts verified,
the SQLite file opened read-only). The store copied is the SQLite file `--db`
or NEWSBOT_DB names (the default one otherwise); the URL is only ever printed
redacted. A password can stay out of the URL (and the process list): asyncpg
reads PGPASSWORD and ~/.pgpass as libpq does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.errors import UsageError
from bot.core.settings import Settings
from bot.core.store.transfer import migrate_to_postgres
from bot.core.storeurl import is_postgres_url, is_url, redacted
from bot.core.text import format_duration


def add_migrate_options(p: argparse.ArgumentParser) -> None:
    """`newsbot migrate`'s arguments."""
    p.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the PostgreSQL database to copy into (postgresql://user@host:5432/db); "
        "empty, or already holding exactly this store",
    )


def source_of(args: argparse.Namespace, settings: Settings) -> Path:
    """The SQLite file to copy: `--db`, else NEWSBOT_DB's file; UsageError for a URL."""
    named = getattr(args, "db", None)
    if named and is_url(named):
        raise UsageError(
            f"--db {redacted(named)}: migrate copies from a SQLite file; give the file with "
            "--db and the PostgreSQL URL with --to"
        )
    if not named and settings.db_url:
        raise UsageError(
            f"NEWSBOT_DB is a URL ({settings.store_label}): give the SQLite file to copy "
            "with --db FILE"
        )
    return Path(named) if named else settings.db_path


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Run `newsbot migrate`; exit code 0 (copied, or already there) or 2 (refused)."""
    if not is_postgres_url(args.to):
        raise UsageError(f"--to {redacted(args.to)}: not a postgresql:// URL")
    source = source_of(args, settings)
    report = await migrate_to_postgres(source, args.to.strip())
    counts = ", ".join(f"{name} {n:,}" for name, n in sorted(report.counts.items()))
    if not report.copied:
        print(f"already there: {report.target} holds exactly the store {source}; nothing changed")
        print(f"rows: {counts}")
        return 0
    took = format_duration(report.seconds)
    print(f"copied {source} into {report.target} in {took}, in one transaction")
    print(f"rows (checked on the target): {counts}")
    print(f"{source} was not changed; point NEWSBOT_DB at the URL to use the copy", file=sys.stderr)
    return 0
