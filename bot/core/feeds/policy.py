"""Which addresses a feed may be fetched from: public ones, unless the operator allows more.

A feed URL comes from a server's admin, so it must not reach what only the
bot's machine can: loopback, private networks, link-local (a cloud's metadata
service at 169.254.169.254), multicast, reserved. The check runs on every
address a host name resolves to, at connection time (`PolicyResolver`, so a
name that resolves elsewhere on the second lookup gains nothing), and on
literal addresses before any request, for every redirect hop.

The name resolver is injectable (`Resolver`): tests map names to private
addresses without any network; `NEWSBOT_FEEDS_ALLOW_PRIVATE` lists the
networks allowed although not public (`Settings.feeds_allow_private`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

# host name → the IP addresses it resolves to (as text).
Resolver = Callable[[str], Awaitable[Sequence[str]]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(OSError):
    """A feed URL that policy forbids fetching; the message says why."""


async def system_resolver(host: str) -> list[str]:
    """The machine's own resolver (getaddrinfo), without blocking the event loop."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _kind(ip: IPAddress) -> str | None:
    """What makes an address not public ('loopback', 'private'…), or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return None


class AddressPolicy:
    """The rule for feed addresses: public, or inside an allowed network."""

    def __init__(self, allowed: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)
        self.resolver: Resolver = resolver or system_resolver

    def refusal(self, address: str) -> str | None:
        """Why `address` may not be fetched from, or None when it may."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        kind = _kind(ip)
        if kind is None or any(ip in net for net in self.allowed if net.version == ip.version):
            return None
        return f"{address} is a {kind} address (set NEWSBOT_FEEDS_ALLOW_PRIVATE to allow it)"

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s), has no host, or names a forbidden address.

        Host names are checked when they are resolved (`PolicyResolver`).
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # a malformed port raises here
        except ValueError as exc:
            raise AddressRefused(f"{url!r} is not a valid URL ({exc})") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise AddressRefused(f"{url!r}: only http and https feeds can be fetched")
        if not host:
            raise AddressRefused(f"{url!r} has no host name")
        if _is_ip(host):
            why = self.refusal(host)
            if why:
                raise AddressRefused(f"{host}: {why}")

    async def resolve(self, host: str) -> list[str]:
        """The addresses of `host`, all of them allowed; AddressRefused otherwise."""
        try:
            addresses = list(await self.resolver(host))
        except OSError as exc:
            raise AddressRefused(f"{host}: cannot resolve ({exc.strerror or exc})") from None
        if not addresses:
            raise AddressRefused(f"{host}: resolves to no address")
        for address in addresses:
            why = self.refusal(address)
            if why:
                raise AddressRefused(f"{host} resolves to {why}")
        return addresses


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver hook: connections go only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Every address of `host` (each one checked), as aiohttp wants them."""
        out: list[ResolveResult] = []
        for address in await self.policy.resolve(host):
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            entry: dict[str, Any] = {
                "hostname": host,
                "host": address,
                "port": port,
                "family": fam,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            out.append(entry)  # type: ignore[arg-type]
        return out

    async def close(self) -> None:
        """Nothing to release."""
