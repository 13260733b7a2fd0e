"""OPML, the file format feed readers move subscriptions with: reading and writing it.

Reading goes through the same hostile-XML guard as feeds (`guard`) and then
the standard library's ElementTree; each `<outline xmlUrl=…>` is one feed,
its `category` attribute (comma- or slash-separated) gives topics.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.feeds.guard import HostileDocument, check_document

MAX_OPML_BYTES = 2 * 1024 * 1024


class OPMLError(ValueError):
    """A file that is not usable OPML; the message says why."""


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of an OPML file."""

    url: str
    title: str = ""
    topics: tuple[str, ...] = ()


def read_opml(raw: bytes, name: str = "<opml>") -> list[Outline]:
    """The feeds listed in an OPML document, in order. Raises OPMLError."""
    if len(raw) > MAX_OPML_BYTES:
        raise OPMLError(f"{name}: larger than {MAX_OPML_BYTES:,} bytes")
    try:
        check_document(raw)
        root = ET.fromstring(raw)
    except HostileDocument as exc:
        raise OPMLError(f"{name}: {exc}") from None
    except ET.ParseError as exc:
        raise OPMLError(f"{name}: not well-formed XML ({exc})") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"{name}: the root element is <{root.tag}>, not <opml>")
    out: list[Outline] = []
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not url:
            continue  # a folder of outlines, not a feed
        raw_topics = (node.get("category") or "").replace("/", ",")
        topics = tuple(t.strip() for t in raw_topics.split(",") if t.strip())
        title = (node.get("title") or node.get("text") or "").strip()
        # Readers (newsbot too) put the URL in `text` when a feed has no title.
        out.append(Outline(url, "" if title == url else title, topics))
    return out


def write_opml(outlines: Iterable[Outline], title: str = "newsbot feeds") -> bytes:
    """An OPML 2.0 document listing these feeds."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for o in outlines:
        attrs = {"type": "rss", "text": o.title or o.url, "xmlUrl": o.url}
        if o.title:
            attrs["title"] = o.title
        if o.topics:
            attrs["category"] = ",".join(o.topics)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
