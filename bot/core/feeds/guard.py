"""Refusing hostile XML before a parser sees it: entity declarations and attribute floods.

The body is already capped in size while it is downloaded (`fetch`). What a
small document can still do to a parser:

* entity expansion ("billion laughs") and external entities: real feeds never
  declare entities, so any `<!ENTITY` in the DOCTYPE is refused outright;
* one element with a flood of attributes: feedparser's handling of them is
  quadratic (20,000 attributes take ~4 s, 300,000 several minutes), while a real
  feed's elements carry a handful, so a tag with more than `MAX_ATTRIBUTES` is
  refused.

Both checks are linear scans of the bytes.
"""

from __future__ import annotations

import re

MAX_ATTRIBUTES = 200
_LONG_TAG = 2_000  # a start tag shorter than this cannot hold MAX_ATTRIBUTES attributes
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
# A start or empty-element tag (not a comment, CDATA, declaration or instruction).
_TAG = re.compile(rb"<[A-Za-z_][^<>]{%d,}" % _LONG_TAG)
_ROOT = re.compile(rb"<[A-Za-z_]")


class HostileDocument(ValueError):
    """A document refused before parsing; the message says what was wrong."""


def check_document(body: bytes) -> None:
    """Raise HostileDocument for entity declarations or attribute floods."""
    doctype = _DOCTYPE.search(body)
    if doctype is not None:
        root = _ROOT.search(body, doctype.end())
        prolog = body[doctype.start() : root.start() if root else len(body)]
        if _ENTITY.search(prolog):
            raise HostileDocument(
                "the document declares XML entities (refused: entity expansion and external "
                "entities are how XML exhausts memory or reads local files)"
            )
    for tag in _TAG.finditer(body):
        # Attributes are name="value" pairs: the '=' signs bound their number.
        count = tag.group().count(b"=")
        if count > MAX_ATTRIBUTES:
            line = body.count(b"\n", 0, tag.start()) + 1
            raise HostileDocument(
                f"an element on line {line} has about {count:,} attributes "
                f"(more than {MAX_ATTRIBUTES}; refused as an attribute flood)"
            )
