"""Record text → `Article`: the front-matter split, PyYAML's safe loading with its checks
against tags, alias bombs and node floods, and the `parse_*` entry points."""

from __future__ import annotations

import os
from typing import Any

import yaml

from bot.core.records.fields import FieldReader, as_text
from bot.core.records.model import Article, RecordError
from bot.core.records.urls import is_http_url
from bot.core.settings import Settings

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

DEFAULT_MAX_RECORD_BYTES = Settings.max_record_bytes  # NEWSBOT_MAX_RECORD_BYTES's default
# Aliases let a tiny file expand into gigabytes ("billion laughs"); real
# records never use them, so their count is capped before anything is built.
MAX_ALIASES = 10
# PyYAML builds a Node (with two Marks) per value before any object: a 1 MiB
# flow list of 500,000 numbers peaks at ~200 MB. Real records hold < 300 nodes.
MAX_NODES = 20_000
_ALWAYS_CHECK_CHARS = 64 * 1024  # front matter this long is counted before it is built


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
    """A story from loaded front matter. Raises RecordError without a title or a URL."""
    title = data.get("title")
    if title is None:
        raise RecordError(path, "missing 'title'")
    if not isinstance(title, str):
        raise RecordError(path, f"'title' is a {type(title).__name__}, not text")
    title = " ".join(title.replace("\x00", "").split())
    if not title:
        raise RecordError(path, "'title' is empty")

    f = FieldReader(path)
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
        secured=as_text(data.get("secured")) or None,
        source=path,
        warnings=tuple(f.warnings),
    )


def parse_bytes(raw: bytes, path: str = "<bytes>", max_bytes: int | None = None) -> Article:
    """Parse one record's raw bytes (UTF-8, no NULs, within the size limit)."""
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
