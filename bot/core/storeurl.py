"""Where the store lives: a SQLite file path or a PostgreSQL URL, and how to show it.

`NEWSBOT_DB` (or `--db`) holds either. A URL is never treated as a file path, and
`redacted` is the only form of it that reaches output or logs.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

_SCHEMES = ("postgresql", "postgres")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(target: str | os.PathLike[str]) -> bool:
    """True when `target` is written as a URL (`scheme://…`), whatever the scheme."""
    return isinstance(target, str) and bool(_URL.match(target.strip()))


def is_postgres_url(target: str | os.PathLike[str]) -> bool:
    """True for a `postgresql://` (or `postgres://`) URL."""
    return is_url(target) and urlsplit(str(target).strip()).scheme.lower() in _SCHEMES


def redacted(target: str | os.PathLike[str]) -> str:
    """`target` as it may be shown: a URL's password replaced by `***`."""
    text = os.fspath(target)
    if not is_url(text):
        return text
    parts = urlsplit(text.strip())
    if parts.password is None:
        return text.strip()
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
