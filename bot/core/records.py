"""Story records: Markdown files with YAML front matter → typed `Article` objects.

One file is one story. A bad *field* is dropped with a warning and the story
still loads; a bad *record* is rejected with a reason and never stops a load.
Only PyYAML's safe loaders are used: a YAML tag such as ``!!python/object``
is a rejection, never an object.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import reprlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

# The C loader is ~10x faster; both are "safe": they build only plain types.
_BaseSafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_BaseSafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, but a plain scalar that only looks like a timestamp or a
    number (``2020-02-30``, a 5,000-digit integer) stays a string, so it is a
    bad *field* (dropped with a warning), not a ValueError that loses the record."""


def _lenient(construct: Any) -> Any:
    def build(loader: Any, node: Any) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError):
            return loader.construct_scalar(node)

    return build


for _tag in ("timestamp", "int", "float"):
    _full = f"tag:yaml.org,2002:{_tag}"
    SafeLoader.add_constructor(_full, _lenient(SafeLoader.yaml_constructors[_full]))

DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
RECORD_SUFFIXES = (".md", ".markdown", ".yml", ".yaml")
# Aliases let a tiny file expand into gigabytes ("billion laughs"); real
# records never use them, so their count is capped before anything is built.
MAX_ALIASES = 10
# PyYAML builds a Node (with two Marks) per value before any object: a 1 MiB
# flow list of 500,000 numbers peaks at ~200 MB. Real records hold < 300 nodes.
MAX_NODES = 20_000
_ALWAYS_CHECK_CHARS = 64 * 1024  # front matter this long is counted before it is built
MAX_RELATED = 50
MAX_TOPICS = 50
MAX_IMAGES = 20


class RecordError(ValueError):
    """A file that cannot become a story. ``str()`` is ``"path: reason"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    domain: str = ""

    @property
    def url(self) -> str | None:
        """The provider's home page, when its domain looks like a host name."""
        d = self.domain.strip().lower()
        if d and "." in d and all(c.isalnum() or c in ".-" for c in d):
            return f"https://{d}"
        return None


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None
    title: str = ""


@dataclass(frozen=True, slots=True)
class Related:
    """Another outlet's coverage of the same story."""

    title: str
    url: str
    excerpt: str = ""
    published: datetime | None = None
    provider: Provider | None = None
    quality: float | None = None
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    images: tuple[Image, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    url: str  # the story's own link (webUrl, or originalUrl when webUrl is absent)
    excerpt: str = ""
    body: str = ""
    published: datetime | None = None  # always UTC-aware when present
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    original_url: str | None = None
    quality: float | None = None
    heat: float | None = None
    is_published: bool | None = None
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()
    secured: str | None = None
    source: str | None = None  # the file it came from
    warnings: tuple[str, ...] = field(default=(), compare=False)
    id: int | None = field(default=None, compare=False)  # row id once stored

    @property
    def canonical_url(self) -> str:
        return canonical_url(self.url)

    @property
    def image(self) -> Image | None:
        return self.images[0] if self.images else None

    def content_hash(self) -> str:
        """Hash of everything stored about the story except where it came from."""
        # repr of frozen dataclasses of plain values is deterministic, and ~5x
        # cheaper than asdict()+json; it only has to be stable within one version.
        blob = repr(tuple(getattr(self, name) for name in _HASHED_FIELDS))
        return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


_HASHED_FIELDS = tuple(
    f.name for f in fields(Article) if f.name not in ("source", "warnings", "id")
)

# ---------------------------------------------------------------------------
# URLs

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


# ---------------------------------------------------------------------------
# Field coercion: each returns (value, warning-or-None)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        s = value.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            return None
    else:
        # A bare YAML date (2020-06-09) is a date, not a time: midnight UTC.
        from datetime import date

        if isinstance(value, date):
            dt = datetime(value.year, value.month, value.day)
        else:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value <= 100_000:
        return value
    if isinstance(value, float) and value.is_integer() and 0 <= value <= 100_000:
        return int(value)
    return None


_short_repr = reprlib.Repr()
_short_repr.maxlevel, _short_repr.maxstring, _short_repr.maxother = 2, 60, 60
_short_repr.maxlist = _short_repr.maxdict = 4


class _Fields:
    """Collects per-field warnings for one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.warnings: list[str] = []

    def warn(self, name: str, value: Any, why: str) -> None:
        shown = _short_repr.repr(value)
        self.warnings.append(f"{self.path}: field {name!r} {why} ({shown}); dropped")

    def text(self, d: dict, key: str, name: str | None = None) -> str:
        if key not in d or d[key] is None:
            return ""
        v = _text(d[key])
        if v is None:
            self.warn(name or key, d[key], "is not text")
            return ""
        return v

    def url(self, d: dict, key: str, name: str | None = None) -> str | None:
        v = d.get(key)
        if v is None or v == "":
            return None
        if isinstance(v, str) and is_http_url(v.strip()):
            return v.strip()
        self.warn(name or key, v, "is not an http(s) URL")
        return None

    def number(self, d: dict, key: str, name: str | None = None) -> float | None:
        if key not in d or d[key] is None:
            return None
        v = _number(d[key])
        if v is None:
            self.warn(name or key, d[key], "is not a number")
        return v

    def when(self, d: dict, key: str, name: str | None = None) -> datetime | None:
        if key not in d or d[key] is None or d[key] == "":
            return None
        v = _datetime(d[key])
        if v is None:
            self.warn(name or key, d[key], "is not a date-time")
        return v

    def flag(self, d: dict, key: str) -> bool | None:
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no"):
            return v.strip().lower() in ("true", "yes")
        self.warn(key, v, "is not true/false")
        return None

    def provider(self, d: dict, key: str = "provider") -> Provider | None:
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, str) and v.strip():
            return Provider(name=v.strip()[:200])
        if not isinstance(v, dict):
            self.warn(key, v, "is not a mapping")
            return None
        name = _text(v.get("name")) or ""
        domain = _text(v.get("domain")) or ""
        if not name and not domain:
            self.warn(key, v, "has no name or domain")
            return None
        return Provider(name=(name or domain)[:200], domain=domain.lower()[:200])

    def images(self, d: dict, key: str = "images", name: str = "images") -> tuple[Image, ...]:
        v = d.get(key)
        if v is None:
            return ()
        if not isinstance(v, list):
            self.warn(name, v, "is not a list")
            return ()
        out: list[Image] = []
        for i, item in enumerate(v[: MAX_IMAGES * 2]):
            if isinstance(item, str):
                item = {"url": item}
            if not isinstance(item, dict):
                self.warn(f"{name}[{i}]", item, "is not a mapping")
                continue
            url = item.get("url")
            if not (isinstance(url, str) and is_http_url(url.strip())):
                self.warn(f"{name}[{i}].url", url, "is not an http(s) URL")
                continue
            out.append(
                Image(
                    url=url.strip(),
                    width=_int_or_none(item.get("width")),
                    height=_int_or_none(item.get("height")),
                    title=_text(item.get("title")) or "",
                )
            )
            if len(out) >= MAX_IMAGES:
                break
        return tuple(out)

    def topics(self, d: dict) -> tuple[str, ...]:
        v = d.get("topics")
        if v is None:
            return ()
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            self.warn("topics", v, "is not a list")
            return ()
        seen: dict[str, str] = {}
        for i, t in enumerate(v):
            name = _text(t)
            if not name:
                self.warn(f"topics[{i}]", t, "is not a topic name")
                continue
            name = " ".join(name.split())[:100]
            seen.setdefault(name.casefold(), name)
            if len(seen) >= MAX_TOPICS:
                break
        return tuple(seen.values())

    def related(self, d: dict) -> tuple[Related, ...]:
        v = d.get("related")
        if v is None:
            return ()
        if not isinstance(v, list):
            self.warn("related", v, "is not a list")
            return ()
        out: list[Related] = []
        for i, item in enumerate(v[:MAX_RELATED]):
            where = f"related[{i}]"
            if not isinstance(item, dict):
                self.warn(where, item, "is not a mapping")
                continue
            title = _text(item.get("title"))
            url = item.get("webUrl") or item.get("originalUrl") or item.get("url")
            if not title:
                self.warn(f"{where}.title", item.get("title"), "is missing or not text")
                continue
            if not (isinstance(url, str) and is_http_url(url.strip())):
                self.warn(f"{where}.webUrl", url, "is not an http(s) URL")
                continue
            out.append(
                Related(
                    title=" ".join(title.split()),
                    url=url.strip(),
                    excerpt=self.text(item, "excerpt", f"{where}.excerpt"),
                    published=self.when(item, "publishedDateTime", f"{where}.publishedDateTime"),
                    provider=self.provider(item, "provider"),
                    quality=self.number(item, "quality", f"{where}.quality"),
                    amp_url=self.url(item, "ampWebUrl", f"{where}.ampWebUrl"),
                    cdn_amp_url=self.url(item, "cdnAmpWebUrl", f"{where}.cdnAmpWebUrl"),
                    images=self.images(item, "images", f"{where}.images"),
                )
            )
        return tuple(out)


# ---------------------------------------------------------------------------
# Parsing


def split_front_matter(text: str, path: str) -> tuple[str, str]:
    """Return (yaml_text, body). Raises RecordError when there is no front matter."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.startswith("---"):
        raise RecordError(path, "no YAML front matter (file must start with '---')")
    first_nl = text.find("\n")
    if first_nl == -1 or text[3:first_nl].strip():
        raise RecordError(path, "no YAML front matter (file must start with a '---' line)")
    rest = text[first_nl + 1 :]
    # The closing fence is a line that is exactly '---' (or '...').
    pos = 0
    while True:
        end = rest.find("\n", pos)
        line = rest[pos:] if end == -1 else rest[pos:end]
        if line.rstrip() in ("---", "..."):
            return rest[:pos], ("" if end == -1 else rest[end + 1 :])
        if end == -1:
            raise RecordError(path, "front matter is not closed (no second '---' line)")
        pos = end + 1


def _check_events(src: str, path: str) -> None:
    """Refuse explicit tags, alias bombs and node floods before anything is built.

    Only run when the text could hold one ('!', '*', or long), so the common
    record pays for one parse, not two.
    """
    aliases = nodes = 0
    try:
        for ev in yaml.parse(src, Loader=SafeLoader):
            if isinstance(ev, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                nodes += 1
                if nodes > MAX_NODES:
                    raise RecordError(
                        path, f"front matter has too many values (more than {MAX_NODES:,})"
                    )
            tag = getattr(ev, "tag", None)
            if tag is not None:
                line = ev.start_mark.line + 2 if ev.start_mark else "?"
                raise RecordError(path, f"YAML tag {tag!r} not allowed (line {line})")
            if isinstance(ev, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise RecordError(path, f"too many YAML aliases (more than {MAX_ALIASES})")
    except yaml.YAMLError:
        return  # the real load below reports syntax errors with their line


_SCALAR_CONSTRUCTORS = SafeLoader.yaml_constructors
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR_TAG = "tag:yaml.org,2002:str"


def _build(node: yaml.Node) -> Any:
    """Python values from composed YAML nodes, as SafeLoader would make them.

    Scalars go through the (safe, lenient) constructors of `SafeLoader`; only
    the generic recursion is ours, because PyYAML's generator-based
    construct_document is half the cost of a load. Aliases were counted before
    composing, so expanding shared nodes here stays bounded.
    """
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR_TAG:
            return node.value
        make = _SCALAR_CONSTRUCTORS.get(node.tag)
        return node.value if make is None else make(_CONSTRUCTOR, node)
    if isinstance(node, yaml.MappingNode):
        return {_build(k): _build(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_build(n) for n in node.value]
    return None


def _load_yaml(src: str, path: str) -> Any:
    if "!" in src or "*" in src or len(src) > _ALWAYS_CHECK_CHARS:
        _check_events(src, path)
    try:
        if "*" in src:
            # Aliases: PyYAML's builder makes one object per anchor; `_build` would
            # copy it at every alias (36x a 20,000-node anchor from a 26 KB file).
            return yaml.load(src, Loader=SafeLoader)
        node = yaml.compose(src, Loader=SafeLoader)
        if node is None:
            return None
        try:
            return _build(node)
        except RecursionError:
            # Deeper than our recursion allows; PyYAML's own builder is not recursive.
            return yaml.load(src, Loader=SafeLoader)
    except TypeError:  # a list or mapping used as a mapping key
        raise RecordError(path, "YAML mapping key is not a plain value") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # +2: the opening '---' line is not part of the YAML text.
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise RecordError(path, f"YAML syntax error{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise RecordError(path, f"YAML error: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise RecordError(path, "YAML nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # a constructor's own error: still a bad record
        raise RecordError(path, f"YAML value error: {exc}"[:200]) from None


def parse_text(text: str, path: str = "<text>") -> Article:
    """Parse one record's text. Raises RecordError for a bad record."""
    fm, body = split_front_matter(text, path)
    data = _load_yaml(fm, path)
    if data is None:
        raise RecordError(path, "front matter is empty")
    if not isinstance(data, dict):
        raise RecordError(path, f"front matter is a {type(data).__name__}, not a mapping")
    return article_from_mapping(data, path, body)


def article_from_mapping(data: dict, path: str, body: str = "") -> Article:
    title = data.get("title")
    if title is None:
        raise RecordError(path, "missing 'title'")
    if not isinstance(title, str):
        raise RecordError(path, f"'title' is a {type(title).__name__}, not text")
    title = " ".join(title.replace("\x00", "").split())
    if not title:
        raise RecordError(path, "'title' is empty")

    f = _Fields(path)
    web = data.get("webUrl")
    original = data.get("originalUrl")
    url: str | None = None
    for key, candidate in (("webUrl", web), ("originalUrl", original)):
        if candidate is None or candidate == "":
            continue
        if isinstance(candidate, str) and is_http_url(candidate.strip()):
            url = url or candidate.strip()
        else:
            f.warn(key, candidate, "is not an http(s) URL")
    if url is None:
        raise RecordError(path, "no absolute http(s) URL in 'webUrl' or 'originalUrl'")

    return Article(
        title=title,
        url=url,
        excerpt=f.text(data, "excerpt"),
        body=body.strip("\n").replace("\x00", ""),
        published=f.when(data, "publishedDateTime"),
        amp_url=f.url(data, "ampWebUrl"),
        cdn_amp_url=f.url(data, "cdnAmpWebUrl"),
        original_url=f.url(data, "originalUrl"),
        quality=f.number(data, "quality"),
        heat=f.number(data, "heat"),
        is_published=f.flag(data, "published"),
        provider=f.provider(data),
        topics=f.topics(data),
        images=f.images(data),
        related=f.related(data),
        secured=_text(data.get("secured")) or None,
        source=path,
        warnings=tuple(f.warnings),
    )


def parse_bytes(raw: bytes, path: str = "<bytes>", max_bytes: int | None = None) -> Article:
    limit = DEFAULT_MAX_RECORD_BYTES if max_bytes is None else max_bytes
    if len(raw) > limit:
        raise RecordError(path, f"file is {len(raw):,} bytes, over the {limit:,}-byte limit")
    if b"\x00" in raw:
        raise RecordError(path, "file contains NUL bytes (binary, not a record)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(path, f"not valid UTF-8 (byte {exc.start})") from None
    return parse_text(text, path)


def parse_file(path: str | os.PathLike[str], max_bytes: int | None = None) -> Article:
    """Read and parse one file. Raises RecordError (never OSError) for a bad one."""
    p = os.fspath(path)
    limit = DEFAULT_MAX_RECORD_BYTES if max_bytes is None else max_bytes
    try:
        with open(p, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise RecordError(p, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise RecordError(p, f"file is over the {limit:,}-byte limit")
    return parse_bytes(raw, p, limit)


# ---------------------------------------------------------------------------
# Finding files


NOT_REGULAR = "not a regular file (a pipe, socket or device); skipped"


@dataclass(slots=True)
class Scan:
    files: list[str]
    errors: list[RecordError]


def scan_paths(paths: Iterable[str | os.PathLike[str]]) -> Scan:
    """Expand files and folders (recursively) into record files, sorted.

    Symlink loops, unreadable folders and missing paths become errors, not
    exceptions. A file given by name is taken whatever its suffix.
    """
    files: list[str] = []
    errors: list[RecordError] = []
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        p = Path(raw)
        try:
            if p.is_dir():
                files.extend(_walk(p, seen_dirs, errors))
            elif p.is_file():
                files.append(str(p))
            elif p.is_symlink():
                errors.append(RecordError(p, "broken or looping symbolic link"))
            elif p.exists():
                errors.append(RecordError(p, NOT_REGULAR))
            else:
                errors.append(RecordError(p, "no such file or folder"))
        except OSError as exc:
            errors.append(RecordError(p, f"cannot read: {exc.strerror or exc}"))
    # One file reached twice (two arguments, or a link) is loaded once.
    unique: dict[str, str] = {}
    for f in files:
        # Folders are deduplicated by inode in _walk; only a file link needs resolving.
        try:
            key = os.path.realpath(f) if os.path.islink(f) else os.path.abspath(f)
        except OSError:
            key = f
        unique.setdefault(key, f)
    return Scan(sorted(unique.values()), errors)


def _walk(root: Path, seen: set[tuple[int, int]], errors: list[RecordError]) -> Iterator[str]:
    try:
        st = root.stat()
    except OSError as exc:
        errors.append(RecordError(root, f"cannot read: {exc.strerror or exc}"))
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        errors.append(RecordError(root, "folder reached twice (symbolic link loop)"))
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        errors.append(RecordError(root, f"cannot list folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                yield from _walk(Path(entry.path), seen, errors)
            elif entry.is_file():
                if entry.name.lower().endswith(RECORD_SUFFIXES):
                    yield entry.path
            elif entry.is_symlink():
                errors.append(RecordError(entry.path, "broken or looping symbolic link"))
            elif entry.name.lower().endswith(RECORD_SUFFIXES):
                # Named like a record but a pipe, socket or device: opening it could
                # block the load forever, so it is reported, never read.
                errors.append(RecordError(entry.path, NOT_REGULAR))
        except OSError as exc:
            errors.append(RecordError(entry.path, f"cannot read: {exc.strerror or exc}"))
