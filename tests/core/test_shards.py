"""Which shards a process runs (`ShardSpec`, `shard_spec`), which alerts it owns, how the
`run` flags and NEWSBOT_SHARD_* combine, and its share of the global rate budget."""

from __future__ import annotations

import argparse

import pytest

from bot.cli.errors import UsageError
from bot.cli.run import with_shard_flags
from bot.core.alerts.pacing import OVERALL, overall_share
from bot.core.settings import ConfigError, Settings
from bot.core.shards import ALL_SHARDS, ShardSpec, ShardSpecError, shard_spec, target_guild


def guild_on(shard: int, count: int, k: int = 7) -> int:
    """A guild id Discord routes to `shard` of `count` (`(id >> 22) % count`)."""
    return ((k * count + shard) << 22) | 12345


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0-3", {0, 1, 2, 3}), ("0,1,2,3", {0, 1, 2, 3}), ("0-1, 4", {0, 1, 4}), ("5", {5})],
)
def test_shard_ids_parse_as_ranges_and_lists(text: str, ids: set[int]) -> None:
    spec = shard_spec(text, 8)
    assert spec.ids == frozenset(ids) and spec.count == 8
    assert not spec.everything


@pytest.mark.parametrize(
    ("ids", "count", "says"),
    [
        ("0-3", None, "give both"),
        (None, 4, "give both"),
        ("a", 4, "'a' is not a shard id"),
        ("3-1", 4, "runs backwards"),
        ("0-4", 4, "shard 4 does not exist"),
        ("0", 0, "at least 1"),
        ("0,,1", 4, "'' is not a shard id"),
    ],
)
def test_bad_shard_specs_say_what_and_where(ids: str | None, count: int | None, says: str) -> None:
    with pytest.raises(ShardSpecError) as err:
        shard_spec(ids, count, source="--shards")
    assert str(err.value).startswith("--shards: ") and says in str(err.value)


def test_nothing_given_is_every_shard() -> None:
    spec = shard_spec(None, None)
    assert spec is ALL_SHARDS or spec == ALL_SHARDS
    assert spec.everything and spec.share == 1.0
    assert spec.owns_guild(guild_on(3, 8)) and spec.owns_guild(None)
    assert str(spec) == "all shards"


def test_each_guild_and_each_dm_has_exactly_one_owner_among_disjoint_sets() -> None:
    count = 8
    sets = [shard_spec("0-2", count), shard_spec("3,4", count), shard_spec("5-7", count)]
    for shard in range(count):
        for k in range(5):
            gid = guild_on(shard, count, k)
            owners = [s for s in sets if s.owns_guild(gid)]
            assert owners == [next(s for s in sets if shard in s.ids)]
    assert [s.owns_guild(None) for s in sets] == [True, False, False]  # DMs: shard 0


def test_a_dm_target_belongs_to_shard_0_whatever_guild_it_came_from() -> None:
    gid = guild_on(1, 2)
    assert target_guild("user:42", gid) is None
    assert target_guild("channel:9", gid) == gid
    holder_of_1 = shard_spec("1", 2)
    assert holder_of_1.owns_guild(target_guild("channel:9", gid))
    assert not holder_of_1.owns_guild(target_guild("user:42", gid))


def test_settings_read_the_shard_variables_and_name_them_when_wrong() -> None:
    s = Settings.from_env({"NEWSBOT_SHARD_IDS": "2-3", "NEWSBOT_SHARD_COUNT": "4"}, dotenv=False)
    assert s.shards == ShardSpec(frozenset({2, 3}), 4)
    with pytest.raises(ConfigError, match="NEWSBOT_SHARD_IDS/NEWSBOT_SHARD_COUNT"):
        Settings.from_env({"NEWSBOT_SHARD_IDS": "0-5", "NEWSBOT_SHARD_COUNT": "4"}, dotenv=False)


def flags(shards: str | None = None, count: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(shards=shards, shard_count=count)


def test_flags_override_the_variables_one_by_one() -> None:
    env = Settings.from_env({"NEWSBOT_SHARD_IDS": "0-1", "NEWSBOT_SHARD_COUNT": "4"}, dotenv=False)
    assert with_shard_flags(env, flags()).shards == env.shards
    assert with_shard_flags(env, flags("2-3")).shards == ShardSpec(frozenset({2, 3}), 4)
    assert with_shard_flags(env, flags(count=2)).shards == ShardSpec(frozenset({0, 1}), 2)
    both = with_shard_flags(Settings(), flags("1", 3)).shards
    assert both == ShardSpec(frozenset({1}), 3) and str(both) == "shards 1 of 3"


def test_bad_flags_are_a_usage_error_naming_the_flag() -> None:
    with pytest.raises(UsageError, match=r"^--shards: give both"):
        with_shard_flags(Settings(), flags("0-3"))
    with pytest.raises(UsageError, match=r"^--shards/--shard-count: shard 3 does not exist"):
        with_shard_flags(Settings(), flags("0-3", 2))
    env = Settings.from_env({"NEWSBOT_SHARD_IDS": "0-5", "NEWSBOT_SHARD_COUNT": "8"}, dotenv=False)
    with pytest.raises(UsageError, match=r"^--shard-count \(with NEWSBOT_SHARD_IDS"):
        with_shard_flags(env, flags(count=4))


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8, 16, 64])
def test_processes_budgets_never_add_up_past_the_whole(count: int) -> None:
    total, per = OVERALL
    # One process per shard, the most a count allows: each gets at least one request.
    parts = [overall_share(shard_spec(str(i), count).share) for i in range(count)]
    assert all(p[1] == per and p[0] >= 1 for p in parts)
    if count <= total:
        assert sum(p[0] for p in parts) <= total
    if count >= 2:
        half = count // 2
        halves = [shard_spec(f"0-{half - 1}", count), shard_spec(f"{half}-{count - 1}", count)]
        assert sum(overall_share(h.share)[0] for h in halves) <= total
    assert overall_share(ALL_SHARDS.share) == OVERALL
