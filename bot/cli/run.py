"""`newsbot run` options: which Discord shards this process runs.

`--shards 0-3 --shard-count 8` (or `0,1,2,3`) run a share of the shards, so several
processes (on one PostgreSQL store) split a large bot; each flag overrides its
variable (NEWSBOT_SHARD_IDS, NEWSBOT_SHARD_COUNT). Neither: one process with every
shard of Discord's recommended count.
"""

from __future__ import annotations

import argparse
import dataclasses

from bot.cli.errors import UsageError
from bot.core.settings import Settings
from bot.core.shards import ShardSpecError, shard_spec


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The shard flags of `newsbot run`."""
    p.add_argument(
        "--shards",
        metavar="IDS",
        default=None,
        help="the shards this process runs, e.g. 0-3 or 0,1,2,3 "
        "(default: $NEWSBOT_SHARD_IDS, else every shard); needs --shard-count",
    )
    p.add_argument(
        "--shard-count",
        type=int,
        metavar="N",
        default=None,
        help="how many shards in all, across processes "
        "(default: $NEWSBOT_SHARD_COUNT, else Discord's recommended count)",
    )


def with_shard_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """`settings` with the shards the flags name (each flag overriding its variable).
    Raises UsageError naming the flag when they cannot be used."""
    ids_flag: str | None = getattr(args, "shards", None)
    count_flag: int | None = getattr(args, "shard_count", None)
    if ids_flag is None and count_flag is None:
        return settings
    env = settings.shards
    ids = ids_flag if ids_flag is not None else ",".join(map(str, sorted(env.ids))) or None
    count = count_flag if count_flag is not None else env.count
    given = [f for f, v in (("--shards", ids_flag), ("--shard-count", count_flag)) if v is not None]
    source = "/".join(given)
    if len(given) == 1 and (ids if ids_flag is None else count) is not None:
        source += " (with NEWSBOT_SHARD_IDS/NEWSBOT_SHARD_COUNT)"
    try:
        spec = shard_spec(ids, count, source=source)
    except ShardSpecError as exc:
        raise UsageError(str(exc)) from None
    return dataclasses.replace(settings, shards=spec)
