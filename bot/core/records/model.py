"""The story record's types: `Article` and the `Related`, `Provider` and `Image` it holds,
and `RecordError`, the reason a file could not become one."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from bot.core.records.urls import canonical_url


class RecordError(ValueError):
    """A file that cannot become a story. ``str()`` is ``"path: reason"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class Provider:
    """The outlet that published a story (``domain`` may be empty)."""

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
    """A picture attached to a story, with its size when the record gives one."""

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


class FieldWarning(str):
    """A warning about one record file: reads as its message (a `str`), and carries the
    file's `path`, the `field`, a short repr of its `value` and the `reason`, for JSON."""

    path: str
    field: str
    value: str
    reason: str

    def __new__(
        cls, path: str, field: str, value: str, reason: str, *, dropped: bool = True
    ) -> FieldWarning:
        """`dropped`: the message ends '; dropped' (the field was left out of the story)."""
        message = f"{path}: field {field!r} {reason} ({value})" + ("; dropped" if dropped else "")
        self = super().__new__(cls, message)
        self.path, self.field, self.value, self.reason = path, field, value, reason
        self._dropped = dropped
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Warnings cross from the loader's worker processes in a pickle.
        return (_field_warning, (self.path, self.field, self.value, self.reason, self._dropped))

    def as_dict(self) -> dict[str, str]:
        """The warning as JSON-ready data (`newsbot load --json`)."""
        return {"path": self.path, "field": self.field, "value": self.value, "reason": self.reason}


def _field_warning(path: str, field: str, value: str, reason: str, dropped: bool) -> FieldWarning:
    return FieldWarning(path, field, value, reason, dropped=dropped)


@dataclass(frozen=True, slots=True)
class Article:
    """One story, as loaded from one record file."""

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
    warnings: tuple[FieldWarning, ...] = field(default=(), compare=False)
    id: int | None = field(default=None, compare=False)  # row id once stored

    @property
    def canonical_url(self) -> str:
        """The story's identity (see `canonical_url`)."""
        return canonical_url(self.url)

    @property
    def image(self) -> Image | None:
        """The story's lead image, if it has any."""
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
