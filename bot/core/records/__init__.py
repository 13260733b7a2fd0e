"""Story records: Markdown files with YAML front matter → typed `Article` objects.

One file is one story. A bad *field* is dropped with a warning and the story
still loads; a bad *record* is rejected with a reason and never stops a load.
Only PyYAML's safe loaders are used: a YAML tag such as ``!!python/object``
is a rejection, never an object.

This package's public API is what it re-exports here: ``model`` (the types),
``urls`` (link checks and canonical form), ``fields`` (per-field validation),
``frontmatter`` (safe YAML and the ``parse_*`` functions) and ``scan`` (finding files).
The loader's worker processes preload this package (``bot.core.loader``).
"""

from bot.core.records.fields import MAX_IMAGES, MAX_RELATED, MAX_TOPICS
from bot.core.records.frontmatter import (
    DEFAULT_MAX_RECORD_BYTES,
    MAX_ALIASES,
    MAX_NODES,
    SafeLoader,
    article_from_mapping,
    parse_bytes,
    parse_file,
    parse_text,
    split_front_matter,
)
from bot.core.records.model import (
    Article,
    FieldWarning,
    Image,
    Provider,
    RecordError,
    Related,
)
from bot.core.records.scan import NOT_REGULAR, RECORD_SUFFIXES, Scan, scan_paths
from bot.core.records.urls import canonical_url, is_http_url

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "MAX_ALIASES",
    "MAX_IMAGES",
    "MAX_NODES",
    "MAX_RELATED",
    "MAX_TOPICS",
    "NOT_REGULAR",
    "RECORD_SUFFIXES",
    "Article",
    "FieldWarning",
    "Image",
    "Provider",
    "RecordError",
    "Related",
    "SafeLoader",
    "Scan",
    "article_from_mapping",
    "canonical_url",
    "is_http_url",
    "parse_bytes",
    "parse_file",
    "parse_text",
    "scan_paths",
    "split_front_matter",
]
