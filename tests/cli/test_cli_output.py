"""The command line as a new user meets it: which store fills itself, empty-store advice,
pipes, `ask -` line for line, scores, load warnings as JSON, usage and wording."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import discord
import pytest
from rich.console import Console

from bot.cli import main as cli
from bot.cli.ask import score
from bot.cli.load import progress_bar
from bot.core.loader import PROCESS_THRESHOLD
from bot.core.search.searcher import Hit
from bot.core.settings import Settings
from bot.core.text import format_duration
from bot.discord_app.run import run_bot
from tests.cli.test_cli_load import records, run
from tests.helpers import DATA_DIR, PROJECT_ROOT, write_raw, write_record
from tests.standin import StandIn

# -- which store fills itself ---------------------------------------------------------------


def test_named_store_that_does_not_exist_starts_empty_and_says_so(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = env / "articles"
    records(data, 3)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data))
    typo = env / "newsbto.db"
    code, out, err = run(capsys, "--db", str(typo), "stats", "--json")
    assert code == 0
    assert json.loads(out)["stories"] == 0  # no demo data behind the user's back
    assert str(typo) in err and "empty" in err and "newsbot load" in err
    # NEWSBOT_DB is as explicit as --db.
    monkeypatch.setenv("NEWSBOT_DB", str(env / "other.db"))
    code, out, err = run(capsys, "stats", "--json")
    assert json.loads(out)["stories"] == 0 and "empty" in err


def test_named_store_in_a_missing_folder_is_an_error_and_makes_no_folder(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = env / "no-such-folder" / "x.db"
    code, _out, err = run(capsys, "--db", str(target), "stats")
    assert code == 2
    assert "no-such-folder" in err and "does not exist" in err
    assert not target.parent.exists()


def test_default_store_named_by_flag_still_fills_itself(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSBOT_DB")
    monkeypatch.delenv("NEWSBOT_DATA_DIR")
    records(Path.cwd() / "data" / "articles", 2)
    code, out, _err = run(capsys, "--db", "data/newsbot.db", "stats", "--json")
    assert code == 0 and json.loads(out)["stories"] == 2


# -- an empty store -------------------------------------------------------------------------


def test_empty_store_says_so_and_how_to_load(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = env / "empty.db"
    code, out, _err = run(capsys, "--db", str(db), "ask", "ibm")
    assert code == 0
    assert "no stories" in out and "newsbot load PATH" in out
    assert "fewer or different words" not in out
    code, out, _err = run(capsys, "--db", str(db), "stats")
    assert "None" not in out
    assert "newest: — (no stories yet)" in out


# -- pipes ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the demo records (loaded in this process: no interpreter to start)."""
    db = tmp_path_factory.mktemp("cli-demo") / "demo.db"
    assert cli.main(["--db", str(db), "load", str(DATA_DIR)]) == 0
    return db


def test_reader_going_away_is_a_quiet_exit(demo_db: Path) -> None:
    db = demo_db
    # `ask -` answers line by line: read one answer, close the pipe, send more.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(db), "ask", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert proc.stdin and proc.stdout and proc.stderr
    proc.stdin.write(b"ibm\n")
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["query"] == "ibm"
    proc.stdout.close()
    proc.stdin.write(b"robots\n" * 50)
    proc.stdin.close()
    err = proc.stderr.read().decode()
    proc.wait(60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == cli.BROKEN_PIPE


# -- ask ------------------------------------------------------------------------------------


def test_ask_stdin_one_line_per_input_line_with_the_keys_of_ask_json(
    demo_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", StringIO("ibm facial recognition\n\n   \nrobots\n"))
    code, out, err = run(capsys, "--db", str(demo_db), "ask", "-")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["query"].strip() for x in lines] == ["ibm facial recognition", "", "", "robots"]
    assert lines[1]["hits"] == [] and lines[1]["notice"]
    _code, out, _err = run(capsys, "--db", str(demo_db), "ask", "--json", "robots")
    single = json.loads(out)
    assert set(single) == set(lines[0]) == set(lines[1])
    assert all(isinstance(x["took_ms"], float | int) and x["took_ms"] >= 0 for x in lines)
    for answer in [*lines, single]:
        assert all(0.0 <= h["score"] <= 1.0 for h in answer["hits"])


def test_shown_score_stays_within_0_and_1() -> None:
    hit = Hit(1, 1.142, "t", "https://e.example/x", None, None, ())
    assert score(hit) == 1.0
    assert score(Hit(2, -0.2, "t", "https://e.example/y", None, None, ())) == 0.0


# -- load: warnings -------------------------------------------------------------------------


def test_load_json_lists_field_warnings_and_prints_them(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = env / "w"
    write_raw(
        root,
        "w.md",
        "---\ntitle: Warned story\nwebUrl: https://news.example.com/w\n"
        'topics: "not a list"\nquality: lots\n---\nBody.\n',
    )
    code, out, err = run(capsys, "--db", str(env / "w.db"), "load", "--json", str(root))
    assert code == 0
    warnings = json.loads(out)["warnings"]
    by_field = {w["field"]: w for w in warnings}
    assert set(by_field) == {"topics", "quality"}
    assert by_field["topics"]["reason"] == "is not a list"
    assert by_field["topics"]["value"] == "'not a list'"
    assert by_field["topics"]["path"].endswith("w.md")
    assert "topics" in err and "quality" in err  # and a person sees them too


def test_duplicate_names_the_kept_file_and_a_reload_still_counts_it(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = env / "d"
    for name in ("a.md", "b.md"):
        write_record(root, name, title=f"Same story {name}", webUrl="https://news.example.com/same")
    db = str(env / "d.db")
    _code, out, _err = run(capsys, "--db", db, "load", "--json", str(root))
    first = json.loads(out)
    assert (first["added"], first["duplicates"]) == (1, 1)
    (dup,) = first["warnings"]
    assert dup["path"].endswith("b.md") and "a.md" in dup["reason"] and "kept" in dup["reason"]
    _code, out, _err = run(capsys, "--db", db, "load", "--json", str(root))
    again = json.loads(out)
    assert (again["unchanged"], again["duplicates"]) == (1, 1)


# -- usage and wording ----------------------------------------------------------------------


def test_version_and_a_mistyped_sub_option_shows_that_subcommands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("newsbot ")
    with pytest.raises(SystemExit) as done:
        cli.main(["stats", "--jsn"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "usage: newsbot stats" in err and "--jsn" in err


def test_one_file_is_singular(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records(env / "one", 1)
    _code, out, _err = run(capsys, "--db", str(env / "o.db"), "load", str(env / "one"))
    assert out.startswith("1 file: 1 added")


def test_console_history_and_log_are_git_ignored() -> None:
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert "data/.console_history" in ignored
    assert "data/*.log" in ignored


# -- Discord: no token accepted, no network -------------------------------------------------


def test_unreachable_discord_is_one_line_and_no_voice_warnings(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 (discard) on 127.0.0.1 is closed here: the connection is refused, as
    # with no network; nothing leaves the machine.
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token-for-a-test")
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "WARNING")
    code, _out, err = run(capsys, "--db", str(env / "r.db"), "run")
    assert code == 1
    assert "Traceback" not in err
    assert "PyNaCl" not in err and "davey" not in err
    lines = [line for line in err.splitlines() if "Discord" in line]
    assert len(lines) == 1 and lines[0].startswith("newsbot: cannot reach Discord")


def test_progress_bar_shows_a_percentage_and_thousands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar, update = progress_bar()
    assert bar is not None and update is not None
    update("parse", 1_500, 3_000)
    screen = Console(file=StringIO(), width=120, record=True)
    screen.print(bar.make_tasks_table(bar.tasks))
    shown = screen.export_text()
    assert "50%" in shown and "1,500/3,000" in shown


def test_one_format_for_durations() -> None:
    assert [format_duration(s) for s in (0.04, 9.96, 42, 185, 7380, 93_600)] == [
        "0.0 s",
        "10 s",
        "42 s",
        "3 min 5 s",
        "2 h 3 min",
        "1 d 2 h",
    ]


def test_console_logs_go_to_a_file_not_between_the_answers(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = env / "articles"
    records(data, 2)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data))
    monkeypatch.setenv("NEWSBOT_RESCAN_SECONDS", "0")
    db = env / "c.db"
    code, out, err = run(capsys, "--db", str(db), "console", "-c", "/admin reload")
    assert code == 0 and "Reload finished" in out
    log = (env / "newsbot.log").read_text()
    assert "reload of" in log
    assert "reload of" not in out and "reload of" not in err


async def test_a_refused_token_is_one_line(
    standin: StandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standin.expected_token = "the-real-token"
    settings = Settings(token="a-revoked-token", db_path=tmp_path / "t.db", rescan_seconds=0)
    code = await run_bot(settings, autoload=False)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("newsbot: Discord refused the token")
    assert "Traceback" not in err and "PyNaCl" not in err


def test_warnings_from_worker_processes_reach_the_json(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = env / "many"
    records(root, PROCESS_THRESHOLD + 10)
    write_raw(
        root,
        "zz-warned.md",
        "---\ntitle: Warned\nwebUrl: https://news.example.com/warned\nheat: hot\n---\n",
    )
    code, out, _err = run(
        capsys, "--db", str(env / "m.db"), "load", "--json", "--workers", "2", str(root)
    )
    assert code == 0
    (warning,) = json.loads(out)["warnings"]
    assert warning["field"] == "heat" and warning["path"].endswith("zz-warned.md")
