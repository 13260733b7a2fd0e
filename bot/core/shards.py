"""Which Discord shards this process holds, and so which alerts it sends.

Discord routes a guild to shard `(guild_id >> 22) % shard_count`. A process
that runs a set of shards sends the channel alerts of the guilds on them, and
the process holding shard 0 also sends the DM alerts, so no alert has two
senders. `ALL_SHARDS` (one process, every shard) owns everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ShardSpecError(ValueError):
    """A shard list or count that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """The shards one process holds: `ids` out of `count`. `count` None: every shard
    (a single process with Discord's recommended count)."""

    ids: frozenset[int] = frozenset()
    count: int | None = None

    @property
    def everything(self) -> bool:
        """True for a process that holds every shard."""
        return self.count is None

    @property
    def share(self) -> float:
        """The part of all shards this process runs (1.0 for every shard)."""
        return 1.0 if self.count is None else len(self.ids) / self.count

    def owns_guild(self, guild_id: int | None) -> bool:
        """True when this process sends the alerts of `guild_id` (None: a DM)."""
        if self.count is None:
            return True
        shard = 0 if guild_id is None else (guild_id >> 22) % self.count
        return shard in self.ids

    def __str__(self) -> str:
        if self.count is None:
            return "all shards"
        return f"shards {','.join(map(str, sorted(self.ids)))} of {self.count}"


ALL_SHARDS = ShardSpec()


def target_guild(target: str, guild_id: int | None) -> int | None:
    """The guild whose shard sends alerts to `target` (`channel:<id>` in `guild_id`),
    None for a DM (`user:<id>`), which shard 0 sends."""
    return None if target.startswith("user:") else guild_id


def parse_shard_ids(text: str, *, source: str = "shards") -> frozenset[int]:
    """`0-3`, `0,1,2,3` or a mix (`0-1,4`) as a set of shard ids."""
    ids: set[int] = set()
    for part in re.split(r"\s*,\s*", text.strip()):
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m:
            raise ShardSpecError(f"{source}: {part!r} is not a shard id or range such as 0-3")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise ShardSpecError(f"{source}: range {part!r} runs backwards")
        ids.update(range(lo, hi + 1))
    return frozenset(ids)


def shard_spec(ids: str | None, count: int | None, *, source: str = "shards") -> ShardSpec:
    """The spec for `--shards IDS --shard-count N`; both unset: every shard."""
    if ids is None and count is None:
        return ShardSpec()
    if ids is None or count is None:
        raise ShardSpecError(f"{source}: give both the shard ids and the shard count")
    if count < 1:
        raise ShardSpecError(f"{source}: the shard count must be at least 1, not {count}")
    parsed = parse_shard_ids(ids, source=source)
    if not parsed:
        raise ShardSpecError(f"{source}: no shard ids given")
    if max(parsed) >= count:
        raise ShardSpecError(
            f"{source}: shard {max(parsed)} does not exist with a shard count of {count} "
            f"(ids run 0 to {count - 1})"
        )
    return ShardSpec(parsed, count)
