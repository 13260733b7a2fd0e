"""`newsbot console`: the same replies as Discord, printed in a terminal."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli.main import main
from bot.console.session import ConsoleSession
from bot.core.newsroom import Newsroom
from bot.core.settings import Settings
from bot.replies.news import news_reply
from bot.replies.sanitize import unescape
from tests.helpers import DATA_DIR, PROJECT_ROOT, SEED_NAME, write_record

SEED_TITLE = "IBM stops work on facial recognition over human rights concerns"
_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "articles"
    shutil.copytree(DATA_DIR, data)
    return Settings(db_path=tmp_path / "news.db", data_dir=data, rescan_seconds=0)


@pytest.fixture
async def room(settings: Settings):
    room = await Newsroom.open(settings)
    yield room
    await room.close()


def _session(room: Newsroom) -> tuple[ConsoleSession, Console]:
    console = Console(record=True, width=3000, no_color=True, file=open(os.devnull, "w"))  # noqa: SIM115
    return ConsoleSession(room, console), console


def _flat(text: str) -> str:
    return " ".join(text.split())


async def test_console_news_shows_every_field_of_the_discord_payload(room: Newsroom) -> None:
    question = "ibm facial recognition human rights"
    reply = await news_reply(room, question, owner_id=0)
    payload = reply.embeds[0].to_dict()
    assert payload["title"]  # the question does find a story

    session, console = _session(room)
    await session.run_line(f"/news {question}")
    shown = _flat(console.export_text())

    def visible(value: str) -> str:
        return _flat(unescape(_LINK.sub(r"\1 <\2>", value)).replace("**", ""))

    expected = [
        visible(payload["title"]),
        payload["url"],
        payload["author"]["name"],
        payload["author"]["url"],
        visible(payload["description"]),
        payload["footer"]["text"],
        datetime.fromisoformat(payload["timestamp"]).strftime("%Y-%m-%d %H:%M UTC"),
    ]
    if payload.get("image"):
        expected.append(payload["image"]["url"])
    for field in payload["fields"]:
        expected.append(visible(field["name"]))
        for text, url in _LINK.findall(field["value"]):
            expected.extend([_flat(unescape(text)), url])
    for button in reply.buttons:
        expected.extend([button.label, button.url])
    missing = [e for e in expected if e and e not in shown]
    assert not missing, f"console output lacks {missing!r}"
    assert any(f["name"].startswith("Related coverage") for f in payload["fields"])


async def test_console_pages_with_next_and_prev(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/news facial recognition")
    assert session.pager is not None and session.pager.total > 1
    first = session.pager.hits[0].title
    await session.run_line("next")
    assert session.pager.index == 1
    await session.run_line("prev")
    assert session.pager.index == 0
    assert first in console.export_text()


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("/lates computer vision", "did you mean /latest?"),
        ("/nwes ibm", "did you mean /news?"),
        ("/news", "Usage: /news <question>"),
        ("/admin", "Usage: /admin reload"),
        ("/frobnicate", "Unknown command"),
        ("open 99", "No links to open"),
    ],
)
async def test_console_hints_instead_of_tracebacks(room: Newsroom, line: str, hint: str) -> None:
    session, console = _session(room)
    assert await session.run_line(line) is True
    out = console.export_text()
    assert hint in out
    assert "Traceback" not in out


async def test_console_latest_topics_and_admin(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/latest computer visoin 3")
    await session.run_line("/topics")
    await session.run_line("/admin stats")
    await session.run_line("/admin reload")
    out = console.export_text()
    assert "Latest in Computer Vision" in out
    assert "Topics" in out or "topics" in out
    assert "newsbot stats" in out
    assert "Reload finished" in out
    assert await session.run_line("quit") is False


def test_console_one_shot_command(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSBOT_RESCAN_SECONDS", "0")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    # A store named with --db does not fill itself: load it first.
    assert main(["--db", str(settings.db_path), "load", str(settings.data_dir)]) == 0
    capsys.readouterr()
    code = main(["--db", str(settings.db_path), "console", "-c", "/news ibm face recognition"])
    out = capsys.readouterr().out
    assert code == 0
    assert SEED_TITLE in out
    assert "\x1b[" not in out  # no colour codes when not a terminal


def test_main_job_without_token_runs_the_console_demo(tmp_path: Path) -> None:
    """`newsbot` with no token (the README's first command) shows a full answer and exits."""
    exe = Path(sys.executable).with_name("newsbot")
    if not exe.exists():
        pytest.skip("newsbot console script not installed in this environment")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "NEWSBOT_"))}
    # The default store (data/newsbot.db in the current folder) fills itself.
    shutil.copytree(PROJECT_ROOT / "data" / "articles", tmp_path / "data" / "articles")
    proc = subprocess.run(
        [str(exe)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert SEED_TITLE in proc.stdout
    assert "Related coverage" in proc.stdout
    assert "newsbot console" in proc.stdout  # how to go on
    assert (PROJECT_ROOT / "data" / "articles" / SEED_NAME).exists()


async def test_console_subscription_prints_a_new_story_once(
    room: Newsroom, settings: Settings
) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe computer visoin")
    assert "New Computer Vision stories will be posted here" in console.export_text()
    await session.run_line("/subscribe Computer Vision")
    assert "Already subscribed" in console.export_text()

    now = datetime.now(UTC).replace(microsecond=0)
    write_record(
        settings.data_dir,
        "fresh.md",
        title="Lidar start-up Quorbit maps city streets in 3D",
        webUrl="https://news.example.com/quorbit-lidar",
        excerpt="A new computer vision system.",
        publishedDateTime=now.isoformat().replace("+00:00", "Z"),
        topics=["Computer Vision"],
        provider={"name": "Example News", "domain": "example.com"},
    )
    write_record(
        settings.data_dir,
        "other.md",
        title="Chip maker posts record quarter",
        webUrl="https://news.example.com/chips",
        publishedDateTime=now.isoformat(),
        topics=["AI Hardware"],
    )
    await session.run_line("/admin reload")
    await session.run_line("/admin reload")  # nothing new: nothing printed again
    out = console.export_text()
    assert out.count("🔔 Alert") == 1
    assert out.count("Lidar start-up Quorbit maps city streets in 3D") == 1
    assert "Chip maker posts record quarter" not in out
    await session.run_line("/subscriptions")
    # The list Discord shows: destination, then state and "since … · #id".
    listed = console.export_text()
    assert "Computer Vision → this console" in listed
    assert re.search(r"since \d{4}-\d{2}-\d{2} · #1\b", listed)
    await session.run_line("/unsubscribe computer vision")
    assert "Unsubscribed" in console.export_text()
