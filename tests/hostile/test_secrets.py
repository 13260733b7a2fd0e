"""The bot token never shows: not in logs, reprs, error messages or crash output.

Family "secrets" of the hostile suite (issue 7; counted by bench/faults.py).
A recognisable token is used everywhere and every captured byte is searched
for it (and for its distinctive parts, in case something cut or reformatted it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.core.settings import ConfigError, Settings
from tests.botfixtures import StandInNewsBot
from tests.helpers import DATA_DIR, PROJECT_ROOT
from tests.standin import StandIn, run_bot
from tests.standin.protocol import CLOSE_UNKNOWN_ERROR

FAMILY = "secrets"

# Shaped like a real bot token (id.timestamp.hmac) and found nowhere else.
TOKEN = "MTE5OTk5OTk5OTk5OTk5OTk5.GsEcRt.sEcReT-tOkEn-4-nEwSbOt-tEsTs_QqQqQqQqQq"
PIECES = [TOKEN, TOKEN.split(".")[0], TOKEN.split(".")[2], "sEcReT-tOkEn"]
WORKER = Path(__file__).parents[1] / "crash_worker.py"


def assert_secret_absent(text: str, where: str) -> None:
    for piece in PIECES:
        assert piece not in text, f"the token ({piece[:8]}…) appeared in {where}"


def _no_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


# -- settings --------------------------------------------------------------------------


def test_settings_repr_and_str_hide_the_token() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": TOKEN}, dotenv=False)
    assert settings.token == TOKEN  # it is there…
    for shown in (
        repr(settings),
        str(settings),
        f"{settings!r}",
        f"{[settings]}",
        repr(dataclasses.replace(settings, db_path=Path("x.db"))),
    ):
        assert_secret_absent(shown, "repr(Settings)")  # …and never shown
        assert "token=<set>" in shown


@pytest.mark.parametrize(
    "bad",
    [
        {"NEWSBOT_LOG_LEVEL": "LOUD"},
        {"NEWSBOT_MAX_RECORD_BYTES": "big"},
        {"NEWSBOT_DEV_GUILD": "x"},
        {"NEWSBOT_ADMIN_IDS": "1,two"},
        {"NEWSBOT_RESCAN_SECONDS": "soon"},
        {"NEWSBOT_MAX_QUERY_CHARS": "1"},
    ]
    # The token pasted into the wrong variable: the error about it must not echo it.
    + [
        {var: TOKEN}
        for var in (
            "NEWSBOT_LOG_LEVEL",
            "NEWSBOT_MAX_RECORD_BYTES",
            "NEWSBOT_DEV_GUILD",
            "NEWSBOT_ADMIN_IDS",
            "NEWSBOT_RESCAN_SECONDS",
            "NEWSBOT_ALERT_MAX_AGE",
            "NEWSBOT_MAX_SUBS_PER_USER",
            "NEWSBOT_PAGE_TIMEOUT",
        )
    ],
)
def test_configuration_errors_do_not_quote_the_token(bad: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"DISCORD_TOKEN": TOKEN, **bad}, dotenv=False)
    assert_secret_absent(str(err.value), "a configuration error")
    assert_secret_absent(repr(err.value), "a configuration error")


def test_token_in_the_wrong_variable_is_not_echoed(tmp_path: Path) -> None:
    """A token pasted into the wrong variable shows up in its error: it must not."""
    env = {**_no_env(), "NEWSBOT_DEV_GUILD": TOKEN, "NEWSBOT_ADMIN_IDS": TOKEN}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "stats"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "configuration error" in done.stderr
    assert_secret_absent(done.stdout + done.stderr, "the configuration error output")


def test_dotenv_is_ignored_by_git_and_the_example_holds_no_token() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    ignored = subprocess.run([git, "check-ignore", "-q", ".env"], cwd=PROJECT_ROOT, timeout=30)
    assert ignored.returncode == 0, ".env is not ignored by git"
    tracked = subprocess.run(
        [git, "ls-files", "--", ".env"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert tracked.stdout.strip() == "", ".env is committed"
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    for line in example.splitlines():
        if line.startswith("DISCORD_TOKEN="):
            assert line == "DISCORD_TOKEN=", "the example carries a token"


# -- a running bot, DEBUG logs captured --------------------------------------------------


async def test_a_busy_bot_never_logs_the_token(
    standin: StandIn,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin.expected_token = TOKEN  # a wrong token would be refused: this one is really used
    data = tmp_path / "articles"
    shutil.copytree(DATA_DIR, data)
    settings = Settings(token=TOKEN, db_path=tmp_path / "s.db", data_dir=data, rescan_seconds=0)
    caplog.set_level(logging.DEBUG)  # root: discord.*, aiohttp, asyncio, bot.* and commands.*
    bot = StandInNewsBot(settings)
    async with run_bot(bot, standin, token=settings.token or ""):
        await bot.tree.sync()
        for command, options, user in [
            ("news", {"query": "ibm facial recognition"}, "alice"),
            ("news", {"query": "zzzz qqqq"}, "alice"),
            ("admin reload", {}, "admin"),
            ("admin stats", {}, "admin"),
            ("admin stats", {}, "alice"),
            ("subscribe", {"topic": "AI"}, "alice"),
        ]:
            it = await standin.dispatch_interaction(standin.slash(command, options, user=user))
            await it.wait_callback(timeout=3.0)

        # A command that fails with an exception: its traceback goes to the log.
        async def broken(*_: Any, **__: Any) -> Any:
            raise RuntimeError(f"boom with settings {settings!r}")

        monkeypatch.setattr(bot.room, "topics", broken)
        it = await standin.dispatch_interaction(standin.slash("topics"))
        cb = await it.wait_callback(timeout=3.0)
        assert "went wrong" in cb.json["data"]["content"]
        await standin.force_close(CLOSE_UNKNOWN_ERROR)  # a reconnect logs the session too
        await standin.wait_for_resume()
    assert any(r.exc_info for r in caplog.records)  # the failure was logged with a traceback
    assert any(r.name.startswith("discord") and r.levelno == logging.DEBUG for r in caplog.records)
    assert_secret_absent(caplog.text, "the log output")
    for record in caplog.records:
        assert_secret_absent(record.getMessage(), f"log record {record.name}")
        assert_secret_absent(repr(record.args), f"log record args {record.name}")
    # What the bot sent to "Discord": the token only ever as the Authorization header.
    for req in standin.requests:
        assert_secret_absent(repr(req.json) + req.path, f"request {req.method} {req.path}")


# -- the real command line, in a process -------------------------------------------------


async def _newsbot(
    standin: StandIn, tmp_path: Path, *args: str, token: str = TOKEN, until: Any = None
) -> tuple[int, str]:
    data = tmp_path / "articles"
    if not data.exists():
        shutil.copytree(DATA_DIR, data)
    env = {
        **_no_env(),
        "DISCORD_TOKEN": token,
        "NEWSBOT_DB": str(tmp_path / "run.db"),
        "NEWSBOT_DATA_DIR": str(data),
        "NEWSBOT_RESCAN_SECONDS": "0",
        "NEWSBOT_LOG_LEVEL": "DEBUG",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        "newsbot",
        standin.api_base,
        standin.gateway_url,
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    # Read all along: DEBUG logs fill a pipe's buffer in a moment, and a writer
    # blocked on a full pipe would look like a hung bot.
    output = asyncio.create_task(proc.stdout.read())
    try:
        if until is not None:
            await until()
            proc.send_signal(signal.SIGINT)  # Ctrl-C: the way a person stops it
        await asyncio.wait_for(proc.wait(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    out = await asyncio.wait_for(output, timeout=10)
    return proc.returncode or 0, out.decode(errors="replace")


async def test_refused_token_exits_2_without_showing_it(standin: StandIn, tmp_path: Path) -> None:
    standin.expected_token = "the-right-token"  # ours is refused with 401
    code, out = await _newsbot(standin, tmp_path, "run")
    assert code == 2 and "refused the token" in out, out[-2000:]
    assert "Traceback" not in out
    assert_secret_absent(out, "the output of a refused `newsbot run`")
    assert standin.find_requests("GET", "/users/@me")  # it really tried, and was told 401


async def test_running_bot_process_output_never_shows_the_token(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.expected_token = TOKEN

    async def work() -> None:
        await standin.wait_for_identify(timeout=30)
        it = await standin.dispatch_interaction(standin.slash("news", {"query": "ibm"}))
        await it.wait_callback(timeout=5.0)

    code, out = await _newsbot(standin, tmp_path, "-v", "run", until=work)
    assert "DEBUG" in out  # verbose logs were on
    assert_secret_absent(out, "the DEBUG output of `newsbot -v run`")
    assert code in (0, 130, -signal.SIGINT), out[-2000:]


async def test_crashing_bot_output_never_shows_the_token(standin: StandIn, tmp_path: Path) -> None:
    (tmp_path / "run.db").mkdir()  # the store path is a folder: start-up fails
    code, out = await _newsbot(standin, tmp_path, "-v", "run")
    assert code != 0, out[-2000:]
    assert_secret_absent(out, "the output of a crashing `newsbot run`")
