"""Hostile record files: fuzzed front matter, tags, alias bombs, oversize, bad folders.

Family "records" of the hostile suite (issue 7; counted by bench/faults.py).
The property everywhere: a bad file is rejected with ``path: reason`` (or
loads, when the mutation happened to leave it valid), nothing else is raised,
nothing in it is executed, memory stays bounded, and good files beside it load.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.core import loader as loader_mod
from bot.core.loader import load_paths
from bot.core.records import (
    MAX_ALIASES,
    Article,
    RecordError,
    Scan,
    is_http_url,
    parse_bytes,
    split_front_matter,
)
from bot.core.store import open_store
from tests.helpers import PROJECT_ROOT, SEED, db_query, write_raw, write_record

FAMILY = "records"

SEED_BYTES = SEED.read_bytes()
SEED_FRONT: dict[str, Any] = yaml.safe_load(split_front_matter(SEED.read_text("utf-8"), "seed")[0])
CAP = 1024 * 1024  # the default NEWSBOT_MAX_RECORD_BYTES
# Python-side peak while parsing one record of at most CAP bytes. A fair parse
# needs a few copies of the text; the node flood this guards against took ~200 MB.
PARSE_PEAK_BYTES = 48 * 1024 * 1024

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

# A tag an unsafe loader would run creates this file. Made at import: the
# parametrized cases below need the path when they are collected.
_SENTINEL_DIR = Path(tempfile.mkdtemp(prefix="newsbot-hostile-"))
atexit.register(shutil.rmtree, _SENTINEL_DIR, ignore_errors=True)
SENTINEL = _SENTINEL_DIR / "executed"


def _dangerous_tags() -> list[str]:
    s = str(SENTINEL)
    return [
        f'!!python/object/apply:os.system ["touch {s}"]',
        f'!!python/object/apply:builtins.open ["{s}", "w"]',
        f'!!python/object/apply:subprocess.call [["touch", "{s}"]]',
        f'!!python/object/new:pathlib.Path ["{s}"]',
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/tuple [1, 2]",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!str 5",
        "!custom value",
        "!<tag:example.com,2024:x> value",
    ]


@pytest.fixture(autouse=True)
def _nothing_executed() -> Iterator[None]:
    yield
    assert not SENTINEL.exists(), "a YAML tag was executed"


# -- what "handled" means --------------------------------------------------------


def check_outcome(raw: bytes, path: str = "fuzz/record.md") -> Article | RecordError:
    """Parse `raw` the way the loader does; assert the contract; return what came out."""
    tracemalloc.start()
    try:
        try:
            outcome: Article | RecordError = parse_bytes(raw, path, CAP)
        except RecordError as exc:
            outcome = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PARSE_PEAK_BYTES, f"parsing {len(raw):,} bytes peaked at {peak:,} bytes"
    if isinstance(outcome, RecordError):
        assert outcome.path == path
        assert str(outcome) == f"{path}: {outcome.reason}"
        assert outcome.reason.strip() and "\n" not in outcome.reason
        return outcome
    a = outcome
    # A story that loads is a well-formed one: bad fields were dropped, not kept.
    assert isinstance(a.title, str) and a.title.strip() and "\x00" not in a.title
    assert is_http_url(a.url)
    for u in (a.amp_url, a.cdn_amp_url, a.original_url):
        assert u is None or is_http_url(u)
    assert (
        a.published is None
        or a.published.tzinfo is UTC
        or a.published.utcoffset().total_seconds() == 0
    )
    assert all(isinstance(t, str) and t for t in a.topics)
    assert len({t.casefold() for t in a.topics}) == len(a.topics)
    assert all(is_http_url(i.url) for i in a.images)
    for r in a.related:
        assert r.title and is_http_url(r.url)
        assert all(is_http_url(i.url) for i in r.images)
    for q in (a.quality, a.heat):
        assert q is None or (isinstance(q, float) and q == q and abs(q) != float("inf"))
    assert all(w.startswith(f"{path}: ") for w in a.warnings)
    return a


# -- strategies ------------------------------------------------------------------

_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "javascript:alert(1)",
            "2020-02-30",
            "9" * 5000,
            "https://",
            "http://[::1",
            "null",
        ]
    ),
)
wrong_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEY_PATHS: list[tuple[Any, ...]] = [(k,) for k in SEED_FRONT] + [
    ("provider", "name"),
    ("provider", "domain"),
    ("provider", "images"),
    ("images", 0, "url"),
    ("images", 0, "width"),
    ("related", 0, "title"),
    ("related", 0, "webUrl"),
    ("related", 0, "publishedDateTime"),
    ("related", 0, "provider"),
    ("related", 1, "images"),
    ("topics", 0),
]


def _set(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    for step in path[:-1]:
        try:
            doc = doc[step]
        except (KeyError, IndexError, TypeError):
            return
    try:
        if delete:
            del doc[path[-1]]
        else:
            doc[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass


def _nested(depth: int, mapping: bool) -> str:
    return ("{a: " * depth + "1" + "}" * depth) if mapping else ("[" * depth + "]" * depth)


BOMB = "\n".join(
    ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
)


def _text_mutation(kind: str, text: str, data: st.DataObject) -> str | bytes:
    """One textual mutation of a record's whole text (front matter and all)."""
    lines = text.split("\n")
    # Earlier mutations may have removed or mangled the fences: then insert at the end.
    fences = [i for i, line in enumerate(lines) if line.rstrip("\r") == "---"]
    close = fences[-1] if len(fences) >= 2 else len(lines)
    inner = data.draw(st.integers(min(1, close), close), label="line")

    def insert(line: str) -> str:
        return "\n".join([*lines[:inner], line, *lines[inner:]])

    if kind == "duplicate":
        key = data.draw(st.sampled_from(["title", "webUrl", "topics", "related", "provider"]))
        value = data.draw(
            st.sampled_from(
                ["'Second title'", "https://dup.example.com/x", "[]", "{}", "null", "7"]
            )
        )
        return "\n".join([*lines[:close], f"{key}: {value}", *lines[close:]])
    if kind == "tag":
        tag = data.draw(st.sampled_from(_dangerous_tags()))
        key = data.draw(st.sampled_from(["title", "excerpt", "injected", "quality"]))
        return "\n".join([*lines[:close], f"{key}: {tag}", *lines[close:]])
    if kind == "directive":
        return "%TAG !p! tag:yaml.org,2002:python/object/apply:\n" + text
    if kind == "bomb":
        return "\n".join([*lines[:close], BOMB, *lines[close:]])
    if kind == "few_aliases":
        return "\n".join([*lines[:close], "x: &x shared", "y: *x", "z: [*x, *x]", *lines[close:]])
    if kind == "deep":
        depth = data.draw(st.integers(1, 1200))
        mapping = data.draw(st.booleans())
        return "\n".join([*lines[:close], f"deep: {_nested(depth, mapping)}", *lines[close:]])
    if kind == "huge":
        size = data.draw(st.sampled_from([10_000, 300_000, CAP - 200, CAP + 10]))
        key = data.draw(st.sampled_from(["excerpt", "title", "padding"]))
        return "\n".join([*lines[:close], f"{key}: {'x' * size}", *lines[close:]])
    if kind == "flood":
        n = data.draw(st.sampled_from([5_000, 30_000, 200_000]))
        return "\n".join([*lines[:close], "flood: [" + "1," * n + "1]", *lines[close:]])
    if kind == "bom":
        return "\ufeff" + text
    if kind == "crlf":
        return text.replace("\n", "\r\n")
    if kind == "cr":
        return text.replace("\n", "\r")
    if kind == "no_close":
        return "\n".join(lines[:close] + lines[close + 1 :])
    if kind == "no_open":
        return "\n".join(lines[1:])
    if kind == "indent":
        at = min(inner, len(lines) - 1)
        return "\n".join([*lines[:at], "   " + lines[at], *lines[at + 1 :]])
    if kind == "tabs":
        return text.replace("  ", "\t")
    if kind == "control":
        ch = data.draw(
            st.sampled_from(["\x01", "\x07", "\x1b", "\x7f", "\u2028", "\ufffe", "\x85"])
        )
        at = data.draw(st.integers(0, len(text)))
        return text[:at] + ch + text[at:]
    raw = text.encode("utf-8")
    at = data.draw(st.integers(0, len(raw)))
    if kind == "nul":
        return raw[:at] + b"\x00" + raw[at:]
    if kind == "bad_utf8":
        junk = data.draw(
            st.sampled_from(
                [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80", b"\xc0\xaf", b"\xe9t\xe9"]
            )
        )
        return raw[:at] + junk + raw[at:]
    if kind == "truncate":
        return raw[:at]
    if kind == "flip":
        if not raw:
            return raw
        at = min(at, len(raw) - 1)
        return raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
    raise AssertionError(kind)


TEXT_MUTATIONS = [
    "duplicate",
    "tag",
    "directive",
    "bomb",
    "few_aliases",
    "deep",
    "huge",
    "flood",
    "bom",
    "crlf",
    "cr",
    "no_close",
    "no_open",
    "indent",
    "tabs",
    "control",
    "nul",
    "bad_utf8",
    "truncate",
    "flip",
]


def mutated_seed(data: st.DataObject) -> bytes:
    """The seed record, with wrong types at some keys, then 1-3 textual mutations."""
    front = copy.deepcopy(SEED_FRONT)
    for _ in range(data.draw(st.integers(0, 4), label="field mutations")):
        path = data.draw(st.sampled_from(KEY_PATHS), label="key")
        delete = data.draw(st.booleans(), label="delete")
        _set(front, path, None if delete else data.draw(wrong_value, label="value"), delete)
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=200)
    text = f"---\n{dumped}---\n\nBody text.\n"
    out: str | bytes = text
    for kind in data.draw(
        st.lists(st.sampled_from(TEXT_MUTATIONS), min_size=1, max_size=3), label="text mutations"
    ):
        if isinstance(out, bytes):
            try:
                out = out.decode("utf-8")
            except UnicodeDecodeError:
                break  # already undecodable: that is the mutation
        out = _text_mutation(kind, out, data)
    return out if isinstance(out, bytes) else out.encode("utf-8")


# -- fuzzed properties -----------------------------------------------------------


@FUZZ
@given(st.data())
def test_mutated_seed_is_rejected_with_reason_or_loads_clean(data: st.DataObject) -> None:
    outcome = check_outcome(mutated_seed(data))
    kind = re.sub(r"[\d,]+", "N", outcome.reason)[:40] if isinstance(outcome, RecordError) else ""
    event(f"rejected: {kind}" if kind else "loaded")  # --hypothesis-show-statistics shows the mix


KNOWN_KEYS = [
    "title",
    "webUrl",
    "originalUrl",
    "excerpt",
    "publishedDateTime",
    "quality",
    "heat",
    "published",
    "provider",
    "topics",
    "images",
    "related",
    "ampWebUrl",
    "secured",
]


@FUZZ
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10)), wrong_value, max_size=10
    ),
    st.one_of(st.none(), st.text(max_size=30)),
    st.sampled_from(["https://ok.example.com/a", "ftp://x", "javascript:alert(1)", "", None, 5]),
)
def test_random_front_matter_never_crashes(front: dict[str, Any], title: Any, url: Any) -> None:
    if title is not None:
        front["title"] = title
    if url is not None:
        front["webUrl"] = url
    dumped = yaml.safe_dump(front, allow_unicode=True)
    outcome = check_outcome(f"---\n{dumped}---\n".encode())
    if isinstance(outcome, Article):
        assert outcome.title == " ".join(str(front["title"]).replace("\x00", "").split())


@FUZZ
@given(st.one_of(st.binary(max_size=600), st.text(max_size=600).map(str.encode)))
def test_random_bytes_between_fences_never_crash(body: bytes) -> None:
    check_outcome(b"---\n" + body + b"\n---\n")
    check_outcome(body)


def _good_pair(folder: Path) -> list[str]:
    urls = [f"https://good.example.com/story-{i}" for i in (1, 2)]
    for i, url in enumerate(urls, 1):
        write_record(
            folder,
            f"good-{i}.md",
            title=f"Good story {i}",
            webUrl=url,
            topics=["Widgets"],
            excerpt="Fine.",
        )
    return urls


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_bad_file_beside_good_ones_in_a_real_load(data: st.DataObject) -> None:
    raw = mutated_seed(data)
    with tempfile.TemporaryDirectory(prefix="newsbot-hostile-load-") as tmp:
        root = Path(tmp)
        folder = root / "articles"
        urls = _good_pair(folder)
        bad = write_raw(folder, "bad.md", raw)

        async def go() -> Any:
            async with await open_store(root / "store.db") as store:
                return await load_paths(store, [folder], max_bytes=CAP)

        report = asyncio.run(go())
        stored = {u for (u,) in db_query(root / "store.db", "SELECT link FROM articles")}
        assert set(urls) <= stored, report.rejected
        assert [e.path for e in report.rejected] in ([], [str(bad)])
        assert report.loaded + len(report.rejected) == 3
        for e in report.rejected:
            assert str(e).startswith(f"{bad}: ") and e.reason
        assert len(stored) == 3 - len(report.rejected)


# -- named attacks ---------------------------------------------------------------


# Ids without the temporary path: pytest-xdist workers must collect the same names.
@pytest.mark.parametrize("tag", _dangerous_tags(), ids=lambda t: t.replace(str(SENTINEL), "FILE"))
def test_yaml_tags_refused_and_never_executed(tag: str) -> None:
    for line in (
        f"title: {tag}",
        f"title: x\nwebUrl: https://a.example.com/x\nextra: {tag}",
        f"title: x\nwebUrl: https://a.example.com/x\nlist:\n  - {tag}",
    ):
        outcome = check_outcome(f"---\n{line}\n---\n".encode())
        assert isinstance(outcome, RecordError) and "tag" in outcome.reason.lower()
    assert not SENTINEL.exists()


def test_billion_laughs_refused_fast_and_small() -> None:
    raw = f"---\ntitle: x\nwebUrl: https://a.example.com/x\n{BOMB}\n---\n".encode()
    started = time.perf_counter()
    outcome = check_outcome(raw)
    assert time.perf_counter() - started < 1.0
    assert isinstance(outcome, RecordError) and "alias" in outcome.reason


def test_a_few_aliases_are_fine() -> None:
    body = "\n".join(f"k{i}: *a" for i in range(MAX_ALIASES))
    raw = f"---\ntitle: x\nwebUrl: https://a.example.com/x\nv: &a 1\n{body}\n---\n".encode()
    assert isinstance(check_outcome(raw), Article)
    one_more = raw.replace(b"\n---\n", f"\nk{MAX_ALIASES}: *a\n---\n".encode(), 1)
    outcome = check_outcome(one_more)
    assert isinstance(outcome, RecordError) and "alias" in outcome.reason


def test_aliases_within_the_cap_are_shared_not_copied() -> None:
    """Ten aliases fanned out 3x3x4 over a 20,000-node anchor: 36 copies if each alias
    were built anew (~55 MB from a 40 KB file); shared, it costs the anchor once."""
    anchor = "a0: &a0 [" + ",".join(["[1]"] * 9_900) + "]"
    fan = "a1: &a1 [*a0, *a0, *a0]\na2: &a2 [*a1, *a1, *a1]\na3: [*a2, *a2, *a2, *a2]"
    raw = f"---\ntitle: x\nwebUrl: https://a.example.com/x\n{anchor}\n{fan}\n---\n".encode()
    tracemalloc.start()
    try:
        article = parse_bytes(raw, "fan.md")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert article.title == "x"
    assert peak < 20 * 1024 * 1024, f"{peak:,} bytes for {len(raw):,}"


@pytest.mark.parametrize(
    "flood",
    [
        "[" + "1," * 400_000 + "1]",
        "[" + "[]," * 300_000 + "[]]",
        "\n" + "".join(f"  k{i}: v\n" for i in range(60_000)),
    ],
)
def test_node_flood_refused_within_memory(flood: str) -> None:
    raw = f"---\ntitle: x\nwebUrl: https://a.example.com/x\nflood: {flood}\n---\n".encode()
    assert len(raw) <= CAP
    outcome = check_outcome(raw)  # asserts the tracemalloc peak
    assert isinstance(outcome, RecordError) and "too many values" in outcome.reason


@pytest.mark.parametrize("depth", [50, 999, 1000, 5000])
@pytest.mark.parametrize("mapping", [False, True])
def test_deep_nesting_loads_or_is_refused(depth: int, mapping: bool) -> None:
    raw = f"---\ntitle: x\nwebUrl: https://a.example.com/x\nd: {_nested(depth, mapping)}\n---\n"
    outcome = check_outcome(raw.encode())
    if depth >= 1000:
        assert isinstance(outcome, RecordError) and "nest" in outcome.reason
    else:
        assert isinstance(outcome, Article)


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("bom", b"\xef\xbb\xbf" + SEED_BYTES, None),
        ("crlf", SEED_BYTES.replace(b"\n", b"\r\n"), None),
        ("nul", SEED_BYTES.replace(b"IBM", b"I\x00BM", 1), "NUL"),
        ("latin1", SEED_BYTES.replace(b"IBM stops", b"IBM \xe9tops", 1), "UTF-8"),
        ("utf16", SEED.read_text("utf-8").encode("utf-16"), "NUL"),
        ("no-close", SEED_BYTES.replace(b"\n---\n", b"\n", 1), "not closed"),
        ("no-open", SEED_BYTES[4:], "front matter"),
        ("empty", b"", "front matter"),
        ("fences-only", b"---\n---\n", "empty"),
        ("a-list", b"---\n- a\n- b\n---\n", "not a mapping"),
        ("bad-date", SEED_BYTES.replace(b"2020-06-09T01:08:00Z", b"2020-02-30", 1), None),
        (
            "tz-99",
            SEED_BYTES.replace(b"2020-06-09T01:08:00Z", b"2020-06-09T01:08:00+99:00", 1),
            None,
        ),
        ("huge-int", SEED_BYTES.replace(b"quality: 89", b"quality: " + b"9" * 5000, 1), None),
        (
            "duplicate-title",
            SEED_BYTES.replace(b"\ncategory:", b"\ntitle: 'Dup'\ncategory:", 1),
            None,
        ),
    ],
)
def test_named_encoding_and_structure_cases(name: str, raw: bytes, reason: str | None) -> None:
    outcome = check_outcome(raw, f"named/{name}.md")
    if reason is None:
        assert isinstance(outcome, Article), outcome
        assert outcome.url.startswith("https://www.engadget.com/")
    else:
        assert isinstance(outcome, RecordError) and reason in outcome.reason, outcome


def test_bad_dates_and_numbers_drop_the_field_not_the_story() -> None:
    raw = SEED_BYTES.replace(b"2020-06-09T01:08:00Z", b"2020-02-30", 1).replace(
        b"quality: 89", b"quality: " + b"9" * 5000, 1
    )
    a = check_outcome(raw, "x.md")
    assert isinstance(a, Article)
    assert a.published is None and a.quality is None and a.heat == 139
    assert any("publishedDateTime" in w for w in a.warnings)
    assert any("'quality'" in w for w in a.warnings)


# -- files and folders -----------------------------------------------------------


async def test_size_cap_is_exact(tmp_path: Path) -> None:
    cap = 4096

    def record(name: str, size: int) -> Path:
        head = f"---\ntitle: {name}\nwebUrl: https://cap.example.com/{name}\n---\n".encode()
        return write_raw(tmp_path / "in", f"{name}.md", head + b"x" * (size - len(head)))

    fits, over = record("fits", cap), record("over", cap + 1)
    assert (fits.stat().st_size, over.stat().st_size) == (cap, cap + 1)
    async with await open_store(tmp_path / "s.db") as store:
        report = await load_paths(store, [tmp_path / "in"], max_bytes=cap)
    assert report.added == 1
    [err] = report.rejected
    assert err.path == str(over) and "limit" in err.reason


async def test_hostile_folder_loads_the_good_and_names_the_bad(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    urls = _good_pair(folder)
    write_record(
        folder / "nested.md",
        "inside.md",
        title="Inside a folder named like a record",
        webUrl="https://good.example.com/inside",
    )
    urls.append("https://good.example.com/inside")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..")  # folder loop
    (folder / "self.md").symlink_to("self.md")  # file link loop
    (folder / "ping.md").symlink_to("pong.md")
    (folder / "pong.md").symlink_to("ping.md")
    (folder / "broken.md").symlink_to("nowhere.md")
    os.mkfifo(folder / "fifo.md")  # opening it would block forever
    # A regular file that cannot be read, even by root (reading address 0 is EIO).
    (folder / "unreadable.md").symlink_to("/proc/self/mem")
    write_raw(
        folder, "tag.md", f"---\ntitle: !!python/object/apply:os.system ['touch {SENTINEL}']\n---\n"
    )
    write_raw(folder, "binary.md", b"\x89PNG\r\n\x1a\n\x00\x00")
    write_raw(folder, "big.md", b"---\ntitle: x\n" + b"y" * (CAP + 1))
    async with await open_store(tmp_path / "s.db") as store:
        report = await asyncio.wait_for(load_paths(store, [folder], max_bytes=CAP), timeout=30)
    stored = {u for (u,) in db_query(tmp_path / "s.db", "SELECT link FROM articles")}
    assert stored == set(urls)
    reasons = {Path(e.path).name: e.reason for e in report.rejected}
    assert "symbolic link" in reasons["up"]
    for name in ("self.md", "ping.md", "pong.md", "broken.md"):
        assert name in reasons, (name, reasons)
    assert "cannot read" in reasons["unreadable.md"]
    assert "tag" in reasons["tag.md"]
    assert "NUL" in reasons["binary.md"]
    assert "limit" in reasons["big.md"]
    assert "not a regular file" in reasons["fifo.md"]  # named, never opened
    # Scanned: the 2 good, inside.md, and the 4 regular bad files; never the FIFO.
    assert report.files == 7
    assert all(str(e) == f"{e.path}: {e.reason}" for e in report.rejected)
    assert report.exit_code == 3


async def test_file_removed_between_scan_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "articles"
    urls = _good_pair(folder)
    gone = write_record(folder, "gone.md", title="Gone soon")
    real_scan = loader_mod.scan_paths

    def scan_then_delete(paths: Any) -> Scan:
        found = real_scan(paths)
        gone.unlink()  # the race: listed, then deleted before it is read
        return found

    monkeypatch.setattr(loader_mod, "scan_paths", scan_then_delete)
    async with await open_store(tmp_path / "s.db") as store:
        report = await load_paths(store, [folder])
    stored = {u for (u,) in db_query(tmp_path / "s.db", "SELECT link FROM articles")}
    assert stored == set(urls)
    [err] = report.rejected
    assert err.path == str(gone) and "cannot read" in err.reason


def test_process_workers_survive_hostile_files(tmp_path: Path) -> None:
    """≥400 files go to worker processes: a hostile one must not break the pool."""
    folder = tmp_path / "articles"
    for i in range(420):
        write_record(
            folder, f"s{i:03d}.md", title=f"Story {i}", webUrl=f"https://w.example.com/{i}"
        )
    write_raw(folder, "flood.md", "---\ntitle: x\nflood: [" + "1," * 200_000 + "1]\n---\n")
    write_raw(folder, "bomb.md", f"---\ntitle: x\nwebUrl: https://a.example.com/b\n{BOMB}\n---\n")
    write_raw(
        folder, "tag.md", f"---\ntitle: !!python/object/apply:os.system ['touch {SENTINEL}']\n---\n"
    )

    async def go() -> Any:
        async with await open_store(tmp_path / "s.db") as store:
            return await load_paths(store, [folder], workers=2)

    report = asyncio.run(go())
    assert report.added == 420
    assert sorted(Path(e.path).name for e in report.rejected) == ["bomb.md", "flood.md", "tag.md"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_load_names_each_rejection_and_exits_3_then_2(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    _good_pair(folder)
    bad = {
        "tag.md": f"---\ntitle: !!python/object/apply:os.system ['touch {SENTINEL}']\n---\n",
        "bomb.md": f"---\ntitle: x\nwebUrl: https://a.example.com/b\n{BOMB}\n---\n",
        "open.md": "---\ntitle: x\nwebUrl: https://a.example.com/o\n",
    }
    for name, text in bad.items():
        write_raw(folder, name, text)
    write_raw(folder, "latin.md", b"---\ntitle: caf\xe9\n---\n")
    done = _cli("load", str(folder), "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    for name in [*bad, "latin.md"]:
        assert f"rejected {folder / name}: " in done.stdout
    assert "2 added" in done.stdout
    assert db_query(tmp_path / "s.db", "SELECT count(*) FROM articles") == [(2,)]

    only_bad = tmp_path / "only-bad"
    for name, text in bad.items():
        write_raw(only_bad, name, text)
    done = _cli("load", str(only_bad), "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert db_query(tmp_path / "s.db", "SELECT count(*) FROM articles") == [(2,)]
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_pipe_given_by_name_is_named_not_read(tmp_path: Path) -> None:
    pipe = tmp_path / "incoming.md"
    os.mkfifo(pipe)
    async with await open_store(tmp_path / "s.db") as store:
        report = await asyncio.wait_for(load_paths(store, [pipe]), timeout=30)
    [err] = report.rejected
    assert err.path == str(pipe) and "not a regular file" in err.reason
    assert report.added == 0 and report.exit_code != 0
