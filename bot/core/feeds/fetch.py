"""Fetching feed documents politely with aiohttp: conditional GET, caps, redirects.

One `Fetcher` per service holds one aiohttp session. Each fetch:

* sends `If-None-Match` / `If-Modified-Since` from the last answer, a
  `User-Agent` naming newsbot and its version, and accepts gzip/deflate;
* takes its host's turn: one request at a time per host, `host_gap` seconds
  apart (per host, so a hundred outlets are still fetched side by side);
* follows up to `MAX_REDIRECTS` redirects itself, checking each hop against
  the address policy; when every hop was permanent (301/308) the result
  names the new URL for the feed to keep;
* reads the body in chunks and stops at `max_bytes` (decompressed bytes, so a
  gzip bomb stops there too), within a connect and a total timeout.

It never raises for what a server does: every outcome is a `Fetched`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from importlib import metadata
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.core.feeds.policy import AddressPolicy, AddressRefused, PolicyResolver

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)


def _version() -> str:
    try:
        return metadata.version("newsbot")
    except metadata.PackageNotFoundError:
        return "0.1.0"  # running from a checkout that was never installed


USER_AGENT = f"newsbot/{_version()} (RSS/Atom reader of a Discord news bot)"


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one fetch got. `status` 0: no HTTP answer (`error` says why)."""

    status: int
    url: str  # where the document was finally fetched from
    body: bytes | None = None  # a 200's body
    moved_to: str | None = None  # the new URL, when every redirect was permanent
    etag: str | None = None
    last_modified: str | None = None
    max_age: float | None = None  # Cache-Control: max-age, seconds
    retry_after: float | None = None  # Retry-After, seconds from now
    error: str | None = None
    refused: bool = False  # the address policy forbade it
    content_type: str | None = None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError):
        return None


def max_age_seconds(cache_control: str | None) -> float | None:
    """The `max-age` of a Cache-Control header, in seconds."""
    for part in (cache_control or "").split(","):
        name, _, arg = part.strip().partition("=")
        if name.lower() == "max-age" and arg.strip().strip('"').isdigit():
            return float(arg.strip().strip('"'))
    return None


class _HostGate:
    """One request at a time to a host, at least `gap` seconds apart."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.last = 0.0


class Fetcher:
    """Fetches feed documents (see the module docstring). Close with `close()`."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        max_bytes: int,
        connect_timeout: float,
        total_timeout: float,
        host_gap: float,
    ) -> None:
        self.policy = policy
        self.max_bytes = max_bytes
        self.timeout = aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout)
        self.host_gap = host_gap
        self._gates: dict[str, _HostGate] = {}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=PolicyResolver(self.policy), limit=100, limit_per_host=1, ttl_dns_cache=60
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
                timeout=self.timeout,
                trust_env=False,  # an HTTP(S)_PROXY would route around the address policy
            )
        return self._session

    async def close(self) -> None:
        """Close the session (open connections included)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """Fetch `url`, conditionally on the last answer's validators."""
        current, permanent = url, True
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                self.policy.check_url(current)
            except AddressRefused as exc:
                return Fetched(0, current, error=str(exc), refused=True)
            result, location = await self._one(current, etag, last_modified)
            if location is None:
                if permanent and current != url:
                    return replace(result, moved_to=current)
                return result
            permanent = permanent and result.status in _PERMANENT
            current = urljoin(current, location)
        return Fetched(0, current, error=f"more than {MAX_REDIRECTS} redirects")

    async def _one(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> tuple[Fetched, str | None]:
        """One request: (its outcome, the redirect's Location or None)."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = (urlsplit(url).hostname or "").lower()
        gate = self._gates.setdefault(host, _HostGate())
        async with gate.lock:
            wait = gate.last + self.host_gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._request(url, headers)
            finally:
                gate.last = time.monotonic()

    async def _request(self, url: str, headers: dict[str, str]) -> tuple[Fetched, str | None]:
        try:
            async with self._client().get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in _REDIRECTS:
                    location = resp.headers.get("Location")
                    if not location:
                        return Fetched(resp.status, url, error="redirect without a Location"), None
                    return Fetched(resp.status, url), location
                common = {
                    "etag": resp.headers.get("ETag"),
                    "last_modified": resp.headers.get("Last-Modified"),
                    "max_age": max_age_seconds(resp.headers.get("Cache-Control")),
                    "retry_after": retry_after_seconds(
                        resp.headers.get("Retry-After"), time.time()
                    ),
                }
                if resp.status != 200:
                    return Fetched(resp.status, url, **common), None
                body = await self._read_capped(resp)
                if body is None:
                    cap = f"{self.max_bytes / 1024 / 1024:g} MiB"
                    error = f"the document is larger than the {cap} limit (cut off there)"
                    return Fetched(200, url, error=error), None
                return Fetched(200, url, body=body, **common), None
        except AddressRefused as exc:
            return Fetched(0, url, error=str(exc), refused=True), None
        except aiohttp.ClientConnectorError as exc:
            refused = _refusal(exc)
            if refused is not None:
                return Fetched(0, url, error=str(refused), refused=True), None
            return Fetched(0, url, error=f"cannot connect: {exc.os_error or exc}"), None
        except TimeoutError:
            return Fetched(0, url, error=f"timed out (limit {self.timeout.total:g} s)"), None
        except aiohttp.ClientError as exc:
            return Fetched(0, url, error=f"{type(exc).__name__}: {exc}"[:300]), None

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes | None:
        """The body, or None as soon as it passes `max_bytes` (the rest is never read)."""
        declared = resp.content_length
        if (
            declared is not None
            and declared > self.max_bytes
            and not resp.headers.get("Content-Encoding")
        ):
            return None
        parts: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                resp.close()  # drop the connection: the rest is never downloaded
                return None
            parts.append(chunk)
        return b"".join(parts)


def _refusal(exc: BaseException) -> AddressRefused | None:
    """The policy refusal behind a connection error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressRefused):
            return seen
        inner = getattr(seen, "os_error", None)
        if isinstance(inner, AddressRefused):
            return inner
        seen = seen.__cause__ or seen.__context__
    return None
