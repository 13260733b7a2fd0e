"""A feed server on 127.0.0.1 for tests and benchmarks (aiohttp), and feed documents to serve.

Usage::

    from tests.feedserver import FeedServer, Entry, rss2, atom, rdf

    async with FeedServer() as srv:                      # 127.0.0.1, a free port
        srv.serve("/news.xml", rss2("Example News", [Entry("First", "https://ex.com/1")]))
        url = srv.url("/news.xml")                       # http://127.0.0.1:PORT/news.xml
        ... FeedService(...).add(url) / poll() ...
        srv.hits("/news.xml")                            # requests made to that path
        srv.requests[-1].headers["If-None-Match"]        # what the client sent

Every served document gets an `ETag` (hash of the body) and a `Last-Modified`
(the time it was served first); a request whose `If-None-Match` or
`If-Modified-Since` matches gets a 304 with no body. `serve` again with a
new body changes both. Other behaviours, per path:

* ``srv.status("/gone", 404)``: answer with that status (``headers=`` e.g. Retry-After);
* ``srv.redirect("/old", "/new", status=301)``: a redirect (absolute URLs too);
* ``srv.stream("/huge", total_bytes)``: a chunked body of that many bytes, sent
  as the client reads it (for size caps: nothing is built in memory);
* ``srv.serve(..., delay=5)``: wait before answering (timeouts);
* ``srv.serve(..., gzip=True)``: a gzip-encoded body.

``FeedServer(hosts=["127.0.0.2", "127.0.0.3"])`` listens on several loopback
addresses (one port each); ``srv.url(path, host=...)`` names one. 14b's Discord
tests use it the same way.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import hashlib
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web


@dataclass
class Entry:
    """One entry of a sample feed (all three formats can carry every field)."""

    title: str
    link: str
    summary: str = ""
    published: datetime | None = None
    categories: Sequence[str] = ()
    image: str | None = None  # media:content in RSS/RDF, an enclosure link in Atom
    thumbnail: str | None = None  # media:thumbnail
    enclosure: str | None = None  # an image enclosure (RSS) / rel=enclosure (Atom)
    guid: str | None = None


def _when(e: Entry) -> datetime:
    return e.published or datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def rss2(title: str, entries: Sequence[Entry], *, link: str = "https://outlet.example") -> bytes:
    """An RSS 2.0 document with Media RSS extensions."""
    items = []
    for e in entries:
        parts = [
            f"<title>{escape(e.title)}</title>",
            f"<link>{escape(e.link)}</link>",
            f"<guid>{escape(e.guid or e.link)}</guid>",
            f"<description>{escape(e.summary)}</description>",
        ]
        if e.published is not None:
            parts.append(f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate>")
        parts += [f"<category>{escape(c)}</category>" for c in e.categories]
        if e.image:
            parts.append(f'<media:content url={quoteattr(e.image)} width="640" height="360"/>')
        if e.thumbnail:
            parts.append(f"<media:thumbnail url={quoteattr(e.thumbnail)}/>")
        if e.enclosure:
            parts.append(
                f'<enclosure url={quoteattr(e.enclosure)} type="image/jpeg" length="1000"/>'
            )
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(title)}</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def atom(title: str, entries: Sequence[Entry], *, link: str = "https://outlet.example") -> bytes:
    """An Atom 1.0 document."""
    items = []
    for e in entries:
        stamp = _when(e).isoformat().replace("+00:00", "Z")
        parts = [
            f"<title>{escape(e.title)}</title>",
            f'<link rel="alternate" href={quoteattr(e.link)}/>',
            f"<id>{escape(e.guid or e.link)}</id>",
            f"<updated>{stamp}</updated>",
            f'<summary type="html">{escape(e.summary)}</summary>',
        ]
        if e.published is not None:
            parts.append(f"<published>{stamp}</published>")
        parts += [f"<category term={quoteattr(c)}/>" for c in e.categories]
        for img in (e.image, e.enclosure):
            if img:
                parts.append(f'<link rel="enclosure" type="image/jpeg" href={quoteattr(img)}/>')
        if e.thumbnail:
            parts.append(f"<media:thumbnail url={quoteattr(e.thumbnail)}/>")
        items.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<title>{escape(title)}</title><link href={quoteattr(link)}/>"
        f"<id>{escape(link)}/feed</id><updated>2026-12-01T12:00:00Z</updated>"
        + "".join(items)
        + "</feed>"
    ).encode()


def rdf(title: str, entries: Sequence[Entry], *, link: str = "https://outlet.example") -> bytes:
    """An RSS 1.0 (RDF) document with Dublin Core dates and subjects."""
    items = []
    for e in entries:
        parts = [
            f"<title>{escape(e.title)}</title>",
            f"<link>{escape(e.link)}</link>",
            f"<description>{escape(e.summary)}</description>",
        ]
        if e.published is not None:
            parts.append(f"<dc:date>{e.published.isoformat()}</dc:date>")
        parts += [f"<dc:subject>{escape(c)}</dc:subject>" for c in e.categories]
        if e.image:
            parts.append(f"<media:content url={quoteattr(e.image)}/>")
        items.append(f"<item rdf:about={quoteattr(e.link)}>" + "".join(parts) + "</item>")
    seq = "".join(f"<rdf:li rdf:resource={quoteattr(e.link)}/>" for e in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel rdf:about={quoteattr(link)}><title>{escape(title)}</title>"
        f"<link>{escape(link)}</link><description>{escape(title)}</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>" + "".join(items) + "</rdf:RDF>"
    ).encode()


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: datetime | None = None
    delay: float = 0.0
    gzip: bool = False
    redirect_to: str | None = None
    stream_bytes: int | None = None


@dataclass(frozen=True)
class Request:
    """A request the server received."""

    host: str
    path: str
    headers: dict[str, str]
    status: int  # what it was answered with
    started: float = 0.0  # time.monotonic() when it arrived
    finished: float = 0.0  # … and when its answer was ready


class FeedServer:
    """An aiohttp server on loopback addresses; see the module docstring."""

    def __init__(self, hosts: Sequence[str] = ("127.0.0.1",)) -> None:
        self.hosts = tuple(hosts)
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.ports: dict[str, int] = {}
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on every host (a free port each)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # No access log: a benchmark's 10,000 requests would flood the output.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for host in self.hosts:
            # Our own socket, so the free port the system picked is known.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, 0))
            self.ports[host] = sock.getsockname()[1]
            await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str, host: str | None = None) -> str:
        """The absolute URL of `path` on `host` (default: the first host)."""
        host = host or self.hosts[0]
        return f"http://{host}:{self.ports[host]}{path}"

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/xml",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        gzip: bool = False,
        etag: bool = True,
        last_modified: bool = True,
    ) -> Route:
        """Serve `body` at `path`, with an ETag and Last-Modified (unless turned off)."""
        old = self.routes.get(path)
        same = old is not None and old.body == body
        route = Route(
            body=body,
            content_type=content_type,
            headers=dict(headers or {}),
            etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"' if etag else None,
            delay=delay,
            gzip=gzip,
        )
        if last_modified:
            # A new body is newer by at least a second (HTTP dates have no fractions).
            stamp = datetime.fromtimestamp(int(time.time()), UTC)
            if old and old.last_modified and not same and stamp <= old.last_modified:
                stamp = datetime.fromtimestamp(old.last_modified.timestamp() + 1, UTC)
            route.last_modified = old.last_modified if same and old else stamp
        self.routes[path] = route
        return route

    def status(self, path: str, status: int, *, headers: dict[str, str] | None = None) -> Route:
        """Answer `path` with `status` and no feed."""
        route = Route(body=b"no feed here", status=status, content_type="text/plain")
        route.headers.update(headers or {})
        self.routes[path] = route
        return route

    def redirect(self, path: str, to: str, *, status: int = 301) -> Route:
        """Redirect `path` to `to` (a path on the same host, or an absolute URL)."""
        route = Route(status=status, redirect_to=to)
        self.routes[path] = route
        return route

    def stream(self, path: str, total_bytes: int) -> Route:
        """A chunked body of `total_bytes` (an endless-looking feed), sent as it is read."""
        route = Route(stream_bytes=total_bytes)
        self.routes[path] = route
        return route

    def hits(self, path: str) -> list[Request]:
        """The requests made to `path`."""
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        route = self.routes.get(request.path)
        response = await self._answer(request, route)
        self.requests.append(
            Request(
                host=request.host.rsplit(":", 1)[0],
                path=request.path,
                headers=dict(request.headers),
                status=response.status,
                started=started,
                finished=time.monotonic(),
            )
        )
        return response

    async def _answer(self, request: web.Request, route: Route | None) -> web.StreamResponse:
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.redirect_to is not None:
            return web.Response(status=route.status, headers={"Location": route.redirect_to})
        if route.stream_bytes is not None:
            return await self._stream(request, route.stream_bytes)
        if route.status != 200:
            return web.Response(status=route.status, text="error", headers=route.headers)
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = format_datetime(route.last_modified, usegmt=True)
        if self._not_modified(request, route):
            return web.Response(status=304, headers=headers)
        body = route.body
        if route.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = route.content_type
        return web.Response(body=body, headers=headers)

    @staticmethod
    def _not_modified(request: web.Request, route: Route) -> bool:
        inm = request.headers.get("If-None-Match")
        if inm is not None:
            return route.etag is not None and route.etag in [t.strip() for t in inm.split(",")]
        ims = request.headers.get("If-Modified-Since")
        if ims and route.last_modified:
            try:
                return route.last_modified <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False

    @staticmethod
    async def _stream(request: web.Request, total: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<rss><channel><title>" + b"x" * 65_000
        sent = 0
        try:
            while sent < total:
                part = chunk[: total - sent]
                await response.write(part)
                sent += len(part)
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the client stopped reading at its cap, as it should
        return response


def feed_document(kind: str, title: str, entries: Sequence[Entry], **kw: Any) -> bytes:
    """`rss2`, `atom` or `rdf` by name."""
    return {"rss2": rss2, "atom": atom, "rdf": rdf}[kind](title, entries, **kw)
