"""`newsbot feeds …` end to end (in-process `main`), against a feed server on 127.0.0.1
run in a thread of its own."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.feedserver import Entry, FeedServer, rss2


class ThreadedFeedServer:
    """A FeedServer on its own event loop, for code that runs `asyncio.run` itself."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = FeedServer()

    def __enter__(self) -> FeedServer:
        self.thread.start()
        self._call(self.server.start())
        return self.server

    def __exit__(self, *exc: object) -> None:
        self._call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def _call(self, coro: object) -> None:
        fut: Future[None] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        fut.result(10)


@pytest.fixture
def srv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FeedServer]:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("NEWSBOT_FEEDS_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("NEWSBOT_FEED_HOST_GAP", "0")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "none"))
    with ThreadedFeedServer() as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["feeds", *args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_poll_list_remove(
    srv: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    srv.serve("/ok", rss2("Outlet", [Entry("A fine story for the CLI", "https://o.example/1")]))
    srv.status("/gone", 404)
    code, out, _ = run(capsys, db, "add", srv.url("/ok"), "--topic", "AI", "--every", "30m")
    assert code == 0 and out.strip() == "1"
    code, out, _ = run(capsys, db, "add", srv.url("/gone"))
    assert out.strip() == "2"
    code, out, _ = run(capsys, db, "poll", "--json")
    assert code == 3
    by_id = {r["feed_id"]: r for r in json.loads(out)}
    assert (by_id[1]["added"], by_id[1]["state"]) == (1, "ok")
    assert by_id[2]["state"] == "error" and "404" in by_id[2]["reason"]
    code, out, _ = run(capsys, db, "list", "--json")
    listed = {f["id"]: f for f in json.loads(out)}
    assert listed[1]["title"] == "Outlet" and listed[1]["stories"] == 1
    assert listed[1]["topics"] == ["AI"] and listed[1]["every"] == 1800
    assert listed[1]["last_fetch"] and listed[1]["next_fetch"]
    code, out, _ = run(capsys, db, "list")
    assert "#2" in out and "404" in out
    code, out, _ = run(capsys, db, "remove", "2")
    assert code == 0 and "removed feed #2" in out
    code, out, _ = run(capsys, db, "poll")
    assert code == 0 and "#1 ok" in out


def test_bad_requests_exit_2_with_the_reason(
    srv: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    code, _, err = run(capsys, db, "add", "ftp://x.example/rss")
    assert code == 2 and "not an http(s) URL" in err
    code, _, err = run(capsys, db, "add", "https://x.example/rss", "--every", "soon")
    assert code == 2 and "--every" in err
    code, _, err = run(capsys, db, "remove", "99")
    assert code == 2 and "no feed #99" in err


def test_export_then_import(
    srv: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    run(capsys, one, "add", "https://a.example/rss", "--topic", "Robots")
    run(capsys, one, "add", "https://b.example/rss")
    opml = tmp_path / "feeds.opml"
    code, _, _ = run(capsys, one, "export", str(opml))
    assert code == 0 and b"xmlUrl" in opml.read_bytes()
    code, out, _ = run(capsys, two, "import", str(opml))
    assert code == 0 and out.count("#") == 2
    code, out, _ = run(capsys, two, "list", "--json")
    assert [(f["url"], f["topics"]) for f in json.loads(out)] == [
        ("https://a.example/rss", ["Robots"]),
        ("https://b.example/rss", []),
    ]
    code, _, err = run(capsys, two, "import", str(opml))  # all already there
    assert code == 3 and "already feed #1" in err
