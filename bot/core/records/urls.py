"""Story URLs: which strings count as an http(s) link, and the canonical form that is a
story's identity."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PREFIXES = ("utm_",)
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})


# scheme://host/path… with a plain host (no user, no port): most URLs, checked fast.
_PLAIN_HTTP_URL = re.compile(r"(?i)(https?)://([a-z0-9](?:[a-z0-9.-]*[a-z0-9.])?)(/\S*)?")
_BAD_URL_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")


def is_http_url(value: object) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        return False
    if _BAD_URL_CHAR.search(value):
        return False
    if _PLAIN_HTTP_URL.fullmatch(value):
        return True  # the common shape, without urlsplit's cost
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def canonical_url(url: str) -> str:
    """The identity of a story: same story, same string.

    Scheme and host lower-cased, default port dropped, fragment and tracking
    parameters (``utm_*``, click ids) dropped, trailing slash removed from the
    path (``/a/`` and ``/a`` are one page on every news site we have seen).
    """
    url = url.strip()
    plain = _PLAIN_HTTP_URL.fullmatch(url)
    if plain and "?" not in url and "#" not in url:
        return f"{plain[1].lower()}://{plain[2].lower().rstrip('.')}{(plain[3] or '').rstrip('/')}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    path = parts.path.rstrip("/") or ""
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_KEYS
        ]
    )
    return urlunsplit((scheme, netloc, path, query, ""))
