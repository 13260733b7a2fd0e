"""The address policy's rules, NEWSBOT_FEEDS_ALLOW_PRIVATE, and per-host politeness."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.core.feeds import AddressPolicy, AddressRefused, FeedService
from bot.core.settings import ALL_NETWORKS, ConfigError, Settings
from bot.core.store import Store
from tests.core.feeds.conftest import feed_settings
from tests.feedserver import Entry, FeedServer, rss2


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert AddressPolicy().refusal(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert AddressPolicy().refusal(address) is None


def test_allowed_networks_open_exactly_those() -> None:
    policy = AddressPolicy(["192.168.1.0/24"])
    assert policy.refusal("192.168.1.20") is None
    assert policy.refusal("192.168.2.20") is not None
    assert policy.refusal("127.0.0.1") is not None
    assert AddressPolicy(ALL_NETWORKS).refusal("::1") is None


async def test_a_name_with_one_bad_address_among_good_ones_is_refused() -> None:
    async def resolver(host: str) -> list[str]:
        return ["93.184.216.34", "10.0.0.9"]

    with pytest.raises(AddressRefused, match="private"):
        await AddressPolicy(resolver=resolver).resolve("mixed.test")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ()),
        ("0", ()),
        ("1", ALL_NETWORKS),
        ("yes", ALL_NETWORKS),
        ("192.168.1.0/24, 127.0.0.1", ("192.168.1.0/24", "127.0.0.1/32")),
    ],
)
def test_allow_private_setting(raw: str, expected: tuple[str, ...]) -> None:
    env = {"NEWSBOT_FEEDS_ALLOW_PRIVATE": raw}
    assert Settings.from_env(env).feeds_allow_private == expected


def test_allow_private_setting_names_a_bad_value() -> None:
    with pytest.raises(ConfigError, match=r"NEWSBOT_FEEDS_ALLOW_PRIVATE.*'lan'"):
        Settings.from_env({"NEWSBOT_FEEDS_ALLOW_PRIVATE": "lan"})


def test_feed_settings_defaults_and_durations() -> None:
    s = Settings.from_env({"NEWSBOT_FEED_INTERVAL": "30m", "NEWSBOT_MAX_FEEDS_PER_GUILD": "3"})
    assert (s.feed_interval, s.max_feeds_per_guild) == (1800, 3)
    assert Settings.from_env({}).feed_max_bytes == 5 * 1024 * 1024
    with pytest.raises(ConfigError, match="NEWSBOT_MAX_FEEDS_PER_GUILD"):
        Settings.from_env({"NEWSBOT_MAX_FEEDS_PER_GUILD": "0"})


async def test_one_request_at_a_time_per_host_with_the_gap(store: Store, tmp_path: Path) -> None:
    gap = 0.3
    service = FeedService(store, feed_settings(tmp_path, feed_host_gap=gap))
    body = rss2("Outlet", [Entry("A story on one host", "https://o.example/1")])
    try:
        async with FeedServer(["127.0.0.1", "127.0.0.2"]) as srv:
            for n in range(3):
                srv.serve(f"/f{n}", body, delay=0.1)
                await service.add(srv.url(f"/f{n}", host="127.0.0.1"))
            srv.serve("/other", body, delay=0.1)
            await service.add(srv.url("/other", host="127.0.0.2"))
            await service.poll()
            same = sorted(
                (r for r in srv.requests if r.host == "127.0.0.1"), key=lambda r: r.started
            )
            other = [r for r in srv.requests if r.host == "127.0.0.2"]
    finally:
        await service.close()
    assert len(same) == 3
    for before, after in itertools.pairwise(same):
        assert after.started >= before.finished + gap * 0.9  # never overlapping, gap apart
    # Another host is not kept waiting behind the first one's queue.
    assert other[0].started < same[-1].started
