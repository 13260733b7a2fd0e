"""How alerts land, in the console: subscribing to a topic with no stories yet and to
keywords alone, alert options, `/subscriptions preview` and `/subscriptions why`, and an
edited story printed as an update instead of a second alert."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bot.console.session import ConsoleSession
from bot.core.newsroom import Newsroom
from bot.core.settings import Settings
from tests.helpers import DATA_DIR, write_record


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


def _fresh(settings: Settings, name: str, **fields: object) -> None:
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    fields.setdefault("publishedDateTime", now)
    write_record(settings.data_dir, name, **fields)


def _said(console: Console) -> str:
    return " ".join(console.export_text(clear=True).split())


async def test_topic_without_stories_is_followed_and_alerts_when_one_arrives(
    room: Newsroom, settings: Settings
) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe Quantum Computing")
    said = _said(console)
    assert "No Quantum Computing stories yet; you will be alerted when one arrives" in said
    _fresh(
        settings,
        "qc.md",
        title="A quantum computer factors a big number",
        webUrl="https://news.example.com/qc",
        topics=["Quantum Computing"],
    )
    await session.run_line("/admin reload")
    assert "A quantum computer factors a big number" in _said(console)


async def test_keyword_only_alert_and_why_and_preview(room: Newsroom, settings: Settings) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe keywords=quorbit")
    assert "New stories naming quorbit will be posted here" in _said(console)
    await session.run_line("/subscriptions preview #1")
    assert "No stored story matches #1 keywords: quorbit yet" in _said(console)
    _fresh(
        settings,
        "q.md",
        title="Quorbit maps streets",
        webUrl="https://news.example.com/quorbit",
        topics=["Cars"],
    )
    _fresh(
        settings,
        "other.md",
        title="Chip maker posts record quarter",
        webUrl="https://news.example.com/chips",
        topics=["AI Hardware"],
    )
    await session.run_line("/admin reload")
    said = _said(console)
    assert said.count("🔔 Alert") == 1 and "Quorbit maps streets" in said
    await session.run_line("/subscriptions preview #1")
    said = _said(console)
    assert "Preview" in said and "Quorbit maps streets" in said
    await session.run_line("/subscriptions why #1 Quorbit maps streets")
    assert "Sent" in _said(console)
    await session.run_line("/subscriptions why #1 Chip maker posts record quarter")
    said = _said(console)
    assert "Not sent" in said and "names quorbit" in said


async def test_bad_options_are_named(room: Newsroom) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe AI digest_hour=25 digest=daily")
    assert "digest_hour is an hour of the day in UTC, 0 to 23" in _said(console)
    await session.run_line("/subscribe AI thread=yes")
    assert "Unknown option thread=" in _said(console)
    await session.run_line("/subscribe AI max_per_hour=many")
    assert "max_per_hour must be a whole number" in _said(console)
    await session.run_line("/subscriptions")
    assert "None yet" in _said(console)


async def test_edited_story_prints_an_update_not_a_second_alert(
    room: Newsroom, settings: Settings
) -> None:
    session, console = _session(room)
    await session.run_line("/subscribe keywords=lidar on_update=edit")
    assert "edits on update" in _said(console)
    record = dict(webUrl="https://news.example.com/lidar", topics=["Cars"])
    _fresh(settings, "l.md", title="Lidar start-up raises money", **record)
    await session.run_line("/admin reload")
    assert "🔔 Alert" in _said(console)
    _fresh(settings, "l.md", title="Lidar start-up raises more money", **record)
    await session.run_line("/admin reload")
    said = _said(console)
    assert "🔔 Alert" not in said
    assert "Alert updated" in said and "Lidar start-up raises more money" in said
