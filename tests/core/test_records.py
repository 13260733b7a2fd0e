"""bot.core.records: record files → Article, bad fields dropped, bad records rejected."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.records import (
    Article,
    Image,
    Provider,
    RecordError,
    canonical_url,
    is_http_url,
    parse_bytes,
    parse_file,
    parse_text,
    scan_paths,
)
from tests.helpers import CORPUS, SEED, needs_corpus, record_text, write_raw, write_record

# -- the real corpus and the seed record ---------------------------------------------


@needs_corpus
def test_every_corpus_file_parses_cleanly() -> None:
    files = sorted(CORPUS.glob("*.md"))
    assert len(files) >= 50  # the folder holds the real corpus, not a stub
    problems = []
    for path in files:
        try:
            article = parse_file(path)
        except RecordError as exc:
            problems.append(str(exc))
            continue
        problems.extend(article.warnings)
        assert article.title and is_http_url(article.url)
        assert article.published is not None and article.published.tzinfo is not None
    assert problems == []


def test_seed_record_fields_exactly() -> None:
    a = parse_file(SEED)
    assert a.title == "IBM stops work on facial recognition over human rights concerns"
    assert a.url == "https://www.engadget.com/ibm-exits-facial-recognition-business-012915316.html"
    assert a.excerpt.startswith("IBM is exiting its facial recognition business")
    assert a.provider == Provider(name="Engadget", domain="engadget.com")
    assert a.topics == ("Computer Vision", "AI")
    assert a.published == datetime(2020, 6, 9, 1, 8, tzinfo=UTC)
    assert a.published.utcoffset().total_seconds() == 0
    assert a.quality == 89
    assert a.heat == 139
    assert a.is_published is True
    assert a.amp_url == (
        "https://www.engadget.com/amp/ibm-exits-facial-recognition-business-012915316.html"
    )
    assert a.cdn_amp_url == (
        "https://www-engadget-com.cdn.ampproject.org/c/s/www.engadget.com/amp/"
        "ibm-exits-facial-recognition-business-012915316.html"
    )
    assert a.original_url is None
    assert len(a.images) == 1
    assert a.images[0].url.startswith("https://o.aolcdn.com/images/dims?thumbnail=600%2C350")
    assert (a.images[0].width, a.images[0].height) == (600, 350)
    assert a.images[0].title == a.title
    assert a.secured and a.secured.startswith("2SzAyrZHa6jG")
    assert a.body == ""
    assert a.warnings == ()

    assert [(r.provider.name, r.provider.domain) for r in a.related if r.provider] == [
        ("The Verge", "theverge.com"),
        ("PC Magazine", "pcmag.com"),
        ("Forbes", "forbes.com"),
        ("Business Insider", "businessinsider.com"),
        ("The Guardian", "theguardian.com"),
    ]
    verge = a.related[0]
    assert verge.title == (
        "IBM will no longer offer, develop, or research facial recognition technology"
    )
    assert verge.url == (
        "https://www.theverge.com/2020/6/8/21284683/"
        "ibm-no-longer-general-purpose-facial-recognition-analysis-software"
    )
    assert verge.published == datetime(2020, 6, 9, 0, 55, tzinfo=UTC)
    assert verge.quality == 86
    assert verge.amp_url and verge.amp_url.startswith("https://www.theverge.com/platform/amp/")
    assert (verge.images[0].width, verge.images[0].height) == (1400, 933)
    assert [r.quality for r in a.related] == [86, 74, 70, 65, 43]
    # Quotes and typographic apostrophes survive inside related titles.
    assert a.related[2].title.endswith("After George Floyd’s Death")


# -- messy fields: dropped with a warning, the story still loads ---------------------


def test_negative_heat_is_kept() -> None:
    a = parse_text(record_text(heat=-1), "neg.md")
    assert a.heat == -1
    assert a.warnings == ()


@pytest.mark.parametrize(
    ("field", "value", "attr"),
    [
        ("publishedDateTime", "next Tuesday-ish", "published"),
        ("publishedDateTime", "2020-13-45T99:00:00Z", "published"),
        ("quality", "high", "quality"),
        ("heat", "very", "heat"),
        ("ampWebUrl", "javascript:alert(1)", "amp_url"),
    ],
)
def test_bad_field_is_dropped_with_warning(field: str, value: str, attr: str) -> None:
    a = parse_text(record_text(title="Still a story", **{field: value}), "messy/one.md")
    assert a.title == "Still a story"
    assert getattr(a, attr) is None
    assert len(a.warnings) == 1
    w = a.warnings[0]
    assert "messy/one.md" in w and repr(field) in w and repr(value) in w


@pytest.mark.parametrize(
    ("line", "field", "attr"),
    [
        ("publishedDateTime: 2020-02-30T10:00:00Z", "publishedDateTime", "published"),
        ("publishedDateTime: 2020-06-31", "publishedDateTime", "published"),
        ("quality: " + "9" * 5000, "quality", "quality"),
    ],
    ids=["feb-30", "june-31", "5000-digit-int"],
)
def test_unquoted_yaml_value_that_cannot_be_built_is_a_bad_field(
    line: str, field: str, attr: str
) -> None:
    # A plain scalar YAML resolves as a timestamp or int but cannot build must cost
    # the field, not the story.
    text = f"---\ntitle: Odd values\nwebUrl: https://e.com/odd\n{line}\n---\n"
    a = parse_text(text, "odd.md")
    assert a.title == "Odd values"
    assert getattr(a, attr) is None
    (warning,) = a.warnings
    assert "odd.md" in warning and repr(field) in warning


def test_non_http_image_url_is_dropped_other_images_kept() -> None:
    a = parse_text(
        record_text(
            images=[
                {"url": "ftp://cdn.example.com/a.jpg", "width": 10, "height": 10},
                {"url": "https://cdn.example.com/b.jpg", "width": 640, "height": 480},
            ]
        ),
        "img.md",
    )
    assert a.images == (Image(url="https://cdn.example.com/b.jpg", width=640, height=480),)
    assert len(a.warnings) == 1
    assert "img.md" in a.warnings[0]
    assert "images[0].url" in a.warnings[0]
    assert "ftp://cdn.example.com/a.jpg" in a.warnings[0]


def test_good_fields_beside_bad_ones_are_kept() -> None:
    a = parse_text(
        record_text(quality="high", heat=12, publishedDateTime="2021-03-04T05:06:07+02:00"),
        "mixed.md",
    )
    assert a.quality is None
    assert a.heat == 12
    # An offset is converted to UTC, not dropped.
    assert a.published == datetime(2021, 3, 4, 3, 6, 7, tzinfo=UTC)
    assert a.published.tzinfo is not None and a.published.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "title",
    [
        'IBM\'s "AI" bet: café, Zürich — 東京 ☕',
        "'Single quotes' and \"double quotes\"",
        "Ünïcödé: naïve façade ﬁ ligature",
    ],
)
def test_non_ascii_and_quotes_in_titles_preserved(title: str) -> None:
    a = parse_bytes(record_text(title=title).encode("utf-8"), "t.md")
    assert a.title == title


def test_hand_written_yaml_escapes_in_title() -> None:
    text = "---\ntitle: 'It''s \"quoted\" — ok'\nwebUrl: https://example.com/x\n---\n"
    assert parse_text(text, "q.md").title == 'It\'s "quoted" — ok'


def test_body_kept_and_crlf_normalised() -> None:
    text = (
        "---\r\ntitle: CRLF story\r\nwebUrl: https://example.com/crlf\r\n---\r\n"
        "\r\n# Body\r\nText\r\n"
    )
    a = parse_text(text, "crlf.md")
    assert a.title == "CRLF story"
    assert a.body == "# Body\nText"


def test_topics_case_insensitive_unique_display_name_kept() -> None:
    a = parse_text(record_text(topics=["Computer Vision", "computer vision", "AI", "ai "]), "t.md")
    assert a.topics == ("Computer Vision", "AI")


def test_original_url_used_when_web_url_absent() -> None:
    a = parse_text(record_text(webUrl=None, originalUrl="https://orig.example.com/s"), "o.md")
    assert a.url == "https://orig.example.com/s"


# -- bad records: rejected with path and reason ---------------------------------------

GOOD = record_text(title="Good")

BAD_RECORDS: dict[str, tuple[bytes, str]] = {
    "no_front_matter.md": (b"# Just Markdown\n\nNo front matter here.\n", r"no YAML front matter"),
    "syntax.md": (
        b"---\ntitle: ok\nwebUrl: https://example.com/s\nexcerpt: a: b\n---\n",
        r"YAML syntax error at line 4\b",
    ),
    "title_number.md": (record_text(title=42).encode(), r"'title' is a int, not text"),
    "title_list.md": (record_text(title=["a", "b"]).encode(), r"'title' is a list, not text"),
    "title_empty.md": (
        record_text(title="   ", webUrl="https://e.com/x").encode(),
        r"'title' is empty",
    ),
    "title_missing.md": (
        record_text(title=None, webUrl="https://e.com/y").encode(),
        r"missing 'title'",
    ),
    "no_url.md": (record_text(webUrl=None).encode(), r"no absolute http\(s\) URL"),
    "ftp_url.md": (
        record_text(webUrl="ftp://example.com/f").encode(),
        r"no absolute http\(s\) URL",
    ),
    "relative_url.md": (record_text(webUrl="/news/story").encode(), r"no absolute http\(s\) URL"),
    "bad_utf8.md": (b"---\ntitle: caf\xe9\nwebUrl: https://e.com/c\n---\n", r"not valid UTF-8"),
    "nul.md": (GOOD.encode().replace(b"Good", b"Go\x00od"), r"NUL bytes"),
    "tag.md": (
        b'---\ntitle: !!python/object/apply:os.system ["echo hi"]\nwebUrl: https://e.com/t\n---\n',
        r"YAML tag .*python/object/apply:os\.system.* not allowed",
    ),
    "alias_bomb.md": (
        b"---\ntitle: lol\nwebUrl: https://e.com/b\n"
        b"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        b"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\n",
        r"too many YAML aliases",
    ),
    "unclosed.md": (b"---\ntitle: Open\nwebUrl: https://e.com/u\n", r"not closed"),
    "list.md": (b"---\n- title: a\n- webUrl: https://e.com/l\n---\n", r"front matter is a list"),
    "scalar.md": (b"---\njust a string\n---\n", r"front matter is a str"),
    "empty_front.md": (b"---\n---\nbody only\n", r"front matter is empty"),
}


@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
def test_bad_record_rejected_with_path_and_reason(name: str) -> None:
    raw, reason = BAD_RECORDS[name]
    with pytest.raises(RecordError) as info:
        parse_bytes(raw, f"folder/{name}")
    err = info.value
    assert err.path == f"folder/{name}"
    assert re.search(reason, err.reason), err.reason
    assert str(err) == f"folder/{name}: {err.reason}"


def test_oversized_record_rejected(tmp_path: Path) -> None:
    path = write_record(tmp_path, "big.md", body="x" * 5000)
    with pytest.raises(RecordError, match=r"over the 1,000-byte limit") as info:
        parse_file(path, max_bytes=1000)
    assert info.value.path == str(path)
    # The same file under a larger limit is a fine story.
    assert parse_file(path, max_bytes=10_000).body == "x" * 5000


def test_yaml_tag_is_never_executed(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "executed"
    call = f'!!python/object/apply:os.system ["echo hi; touch {marker}"]'
    for text in (
        f"---\ntitle: {call}\nwebUrl: https://e.com/1\n---\n",
        f"---\ntitle: Fine\nwebUrl: https://e.com/2\nexcerpt: {call}\n---\n",
        f"---\ntitle: Fine\nwebUrl: https://e.com/3\nrelated:\n  - {call}\n---\n",
    ):
        with pytest.raises(RecordError, match="YAML tag"):
            parse_text(text, "evil.md")
    assert not marker.exists()
    assert "hi" not in capfd.readouterr().out


def test_unreadable_file_is_a_record_error_not_oserror(tmp_path: Path) -> None:
    path = tmp_path / "folder.md"
    path.mkdir()  # open() of a folder fails for root too
    with pytest.raises(RecordError, match="cannot read") as info:
        parse_file(path)
    assert info.value.path == str(path)


# -- canonical URLs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.example.com/news/story-1",
        "https://WWW.Example.COM/news/story-1",
        "HTTPS://www.example.com/news/story-1/",
        "https://www.example.com:443/news/story-1",
        "https://www.example.com/news/story-1#comments",
        "https://www.example.com/news/story-1?utm_source=twitter&utm_medium=social",
        "https://www.example.com/news/story-1/?UTM_Campaign=x#top",
        "  https://www.example.com/news/story-1  ",
    ],
)
def test_canonical_url_variants_are_one_identity(variant: str) -> None:
    assert canonical_url(variant) == "https://www.example.com/news/story-1"


def test_canonical_url_keeps_what_identifies_a_page() -> None:
    base = canonical_url("https://example.com/story?id=1")
    assert base == "https://example.com/story?id=1"
    assert canonical_url("https://example.com/story?id=2") != base
    assert canonical_url("https://example.com:8443/story?id=1") != base
    assert canonical_url("https://example.com/Story?id=1") != base  # paths are case-sensitive
    assert canonical_url("https://example.com/story?id=1&utm_term=x") == base


# -- scanning folders --------------------------------------------------------------


def test_scan_finds_record_suffixes_recursively_and_skips_others(tmp_path: Path) -> None:
    for name in ("a.md", "b.markdown", "sub/c.yml", "sub/deeper/d.YAML"):
        write_record(tmp_path, name, title=name)
    write_raw(tmp_path, "notes.txt", "not a record")
    write_raw(tmp_path, ".hidden.md", GOOD)
    scan = scan_paths([tmp_path])
    assert scan.errors == []
    assert [os.path.relpath(f, tmp_path) for f in scan.files] == [
        "a.md",
        "b.markdown",
        "sub/c.yml",
        "sub/deeper/d.YAML",
    ]


def test_scan_symlink_loops_and_missing_paths_are_errors(tmp_path: Path) -> None:
    root = tmp_path / "records"
    write_record(root, "a.md")
    os.symlink(root, root / "loop")  # a folder that contains itself
    os.symlink(root / "self.md", root / "self.md")  # a link to itself
    missing = tmp_path / "nowhere"
    scan = scan_paths([root, missing])
    assert scan.files == [str(root / "a.md")]
    reasons = {Path(e.path).name: e.reason for e in scan.errors}
    assert set(reasons) == {"loop", "self.md", "nowhere"}
    assert "loop" in reasons["loop"]
    assert "symbolic link" in reasons["self.md"]
    assert reasons["nowhere"] == "no such file or folder"


def test_scan_loads_a_file_reached_twice_once(tmp_path: Path) -> None:
    path = write_record(tmp_path, "a.md")
    os.symlink(path, tmp_path / "alias.md")
    scan = scan_paths([tmp_path, path])
    assert len(scan.files) == 1


def test_parsed_article_equality_ignores_warnings_and_id() -> None:
    a = parse_text(record_text(quality="high"), "x.md")
    b = parse_text(record_text(), "x.md")
    assert a.warnings and not b.warnings
    assert a == b
    assert isinstance(a, Article)
    assert a.content_hash() == b.content_hash()
