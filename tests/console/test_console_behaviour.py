"""The console as a new user meets it: plain questions, alerts from other processes,
Ctrl-C, compact panels, unbroken links, and a word for every refusal."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from bot.console.prompt import make_prompt
from bot.console.session import ConsoleSession
from bot.core.newsroom import Newsroom, load_stories
from bot.core.settings import Settings
from bot.core.store import open_store
from tests.helpers import DATA_DIR, write_record

SEED_TITLE = "IBM stops work on facial recognition over human rights concerns"


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


def _session(room: Newsroom, width: int = 3000) -> tuple[ConsoleSession, Console]:
    console = Console(record=True, width=width, no_color=True, file=open(os.devnull, "w"))  # noqa: SIM115
    return ConsoleSession(room, console), console


@pytest.mark.parametrize(
    "line",
    [
        "ibm facial recognition",
        "what is new in facial recognition?",
        "next generation facial recognition",
        "exit polls and facial recognition",
    ],
)
async def test_a_plain_line_is_a_question(room: Newsroom, line: str) -> None:
    session, console = _session(room)
    await session.run_line(line)
    out = console.export_text()
    assert "Unknown command" not in out
    assert session.pager is not None and session.pager.hits


async def test_a_mistyped_command_still_gets_did_you_mean(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("topcs")
    await session.run_line("/admin relaod")
    out = console.export_text()
    assert "did you mean /topics?" in out
    assert "Did you mean /admin reload?" in out
    assert "sync" not in out.split("Did you mean /admin reload?")[1]


def _fresh_story(data: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    write_record(
        data,
        "fresh.md",
        title="Lidar start-up Quorbit maps city streets in 3D",
        webUrl="https://news.example.com/quorbit-lidar",
        publishedDateTime=now.isoformat().replace("+00:00", "Z"),
        topics=["Computer Vision"],
    )


async def test_alerts_from_a_load_by_another_process_are_printed(
    room: Newsroom, settings: Settings, tmp_path: Path
) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe Computer Vision")
    assert await session.check_store() is False  # the first look only notes the generation
    extra = tmp_path / "elsewhere"
    _fresh_story(extra)
    # `newsbot load` in another shell: its own connection to the same file.
    other = await open_store(settings.db_path)
    try:
        await load_stories(other, settings, [extra])
    finally:
        await other.close()
    assert await session.check_store() is True
    out = console.export_text(clear=False)
    assert out.count("🔔 Alert") == 1 and "Quorbit" in out
    assert await session.check_store() is False
    assert console.export_text().count("🔔 Alert") == 1


async def test_reload_with_no_changes_delivers_what_is_pending(
    room: Newsroom, settings: Settings, tmp_path: Path
) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe Computer Vision")
    extra = tmp_path / "elsewhere"
    _fresh_story(extra)
    other = await open_store(settings.db_path)
    try:
        await load_stories(other, settings, [extra])
    finally:
        await other.close()
    await session.run_line("/admin reload")  # the data folder itself has not changed
    assert console.export_text().count("🔔 Alert") == 1


async def test_ctrl_c_clears_a_typed_line_and_leaves_on_an_empty_one(tmp_path: Path) -> None:
    with create_pipe_input() as pipe:
        prompt, _patch = make_prompt(tmp_path / "history", input=pipe, output=DummyOutput())
        pipe.send_text("half a question\x03/help\r")
        assert await prompt.prompt_async("> ") == "/help"
        pipe.send_text("\x03")
        with pytest.raises(KeyboardInterrupt):
            await prompt.prompt_async("> ")


async def test_reload_is_one_line_and_stats_a_small_table(room: Newsroom) -> None:
    session, console = _session(room, width=100)
    await session.run_line("/admin reload")
    reload_out = console.export_text(clear=True)
    assert any(
        "Added" in line and "Unchanged" in line and "Rejected" in line
        for line in reload_out.splitlines()
    )
    await session.run_line("/admin stats")
    stats_lines = console.export_text(clear=True).splitlines()
    assert len(stats_lines) <= 12, "\n".join(stats_lines)
    await session.run_line("/topics")
    topics = console.export_text(clear=True)
    assert "\n│" + " " * 98 + "│\n│" + " " * 98 + "│" not in topics  # no double blank lines


async def test_latest_is_a_table_with_unbroken_links(room: Newsroom) -> None:
    session, console = _session(room, width=80)
    await session.run_line("/latest 5")
    out = console.export_text()
    rows = [
        line for line in out.splitlines() if line.lstrip("│ ")[:2] in {f"{n}." for n in range(1, 6)}
    ]
    assert len(rows) == 5, out


async def test_long_title_has_an_ellipsis_and_is_shown_whole(
    room: Newsroom, settings: Settings
) -> None:
    long_title = "A very long headline " + "about facial recognition and many other things " * 3
    write_record(
        settings.data_dir,
        "long.md",
        title=long_title.strip(),
        webUrl="https://news.example.com/" + "very-long-path-segment-" * 5 + "end",
        topics=["Computer Vision"],
    )
    await room.reload()
    session, console = _session(room, width=80)
    await session.run_line("/news " + long_title)
    lines = console.export_text().splitlines()
    assert lines[0].startswith("╭─ A very long headline") and "…" in lines[0]
    assert any("very-long-path-segment-" * 5 + "end" in line for line in lines)


async def test_paging_past_the_ends_says_so(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/news facial recognition")
    assert session.pager is not None and session.pager.total > 1
    await session.run_line("prev")
    for _ in range(session.pager.total - 1):
        await session.run_line("next")
    await session.run_line("next")
    out = console.export_text()
    assert "This is the first story" in out
    assert f"That was the last story ({session.pager.total} of {session.pager.total})" in out


async def test_help_shows_the_console_syntax(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/help")
    out = console.export_text()
    assert "keywords=a,b" in out
    assert "[channel]" not in out


async def test_unsubscribe_from_an_unknown_id_says_so(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/unsubscribe 7")
    assert "no subscription #7" in console.export_text()


@pytest.mark.parametrize(("count", "shown"), [("0", 1), ("-5", 1), ("100", 20)])
async def test_latest_count_out_of_range_is_said(room: Newsroom, count: str, shown: int) -> None:
    session, console = _session(room)
    await session.run_line(f"/latest computer vision {count}")
    out = console.export_text()
    assert f"Showing {shown}: /latest shows 1 to 20 stories, not {int(count)}." in out
    assert "Latest in Computer Vision" in out


async def test_empty_store_gives_loading_advice(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "e.db", data_dir=tmp_path / "none", rescan_seconds=0)
    room = await Newsroom.open(settings, autoload=False)
    try:
        session, console = _session(room)
        await session.run_line("/news ibm")
        out = console.export_text()
    finally:
        await room.close()
    assert "newsbot load PATH" in out and "/admin reload" in out
    assert "fewer or different words" not in out


async def test_latest_pages_like_news(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/latest 2")
    first = console.export_text()
    assert "Page 1 of" in first and "next" in first
    await session.run_line("next")
    second = console.export_text()
    assert "Page 2 of" in second
    await session.run_line("prev")
    assert "Page 1 of" in console.export_text()
    await session.run_line("prev")
    assert "This is the first page" in console.export_text()
