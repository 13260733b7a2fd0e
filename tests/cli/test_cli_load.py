"""`newsbot load` and `newsbot stats`: output, exit codes, --db, auto-load, progress bar."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.cli.load import progress_bar
from bot.core.store.sqlite import SCHEMA_VERSION
from tests.helpers import db_dump, db_query, write_raw, write_record

KEYS = {"stories", "topics", "providers", "related", "newest", "db_bytes"}
KEYS |= {"embedded", "embedding_model", "embedding_error"}  # issue 12


def records(root: Path, n: int, prefix: str = "s") -> list[Path]:
    return [
        write_record(
            root,
            f"{prefix}{i}.md",
            title=f"CLI story {prefix}{i}",
            topics=["Testing", f"T{i % 2}"],
            provider={"name": "Example Times", "domain": "example.com"},
            publishedDateTime=f"2022-05-{i % 28 + 1:02d}T08:00:00Z",
            related=[{"title": f"Other take {i}", "webUrl": f"https://o.example.org/{prefix}{i}"}],
        )
        for i in range(n)
    ]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- load -----------------------------------------------------------------------------------


def test_load_all_good_exit_0_then_unchanged(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = env / "a.db"
    records(env / "r", 3)
    code, out, _err = run(capsys, "--db", str(db), "load", str(env / "r"))
    assert code == 0
    assert out.startswith("3 files: 3 added, 0 updated, 0 unchanged, 0 rejected in ")
    assert "rejected " + str(env) not in out
    code, out, _err = run(capsys, "--db", str(db), "load", str(env / "r"))
    assert code == 0
    assert out.startswith("3 files: 0 added, 0 updated, 3 unchanged, 0 rejected in ")
    assert not (env / "default.db").exists()


def test_load_some_rejected_exit_3_lists_each(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = env / "r"
    records(root, 2)
    bad1 = write_raw(root, "bad1.md", "no front matter at all")
    bad2 = write_raw(root, "bad2.md", "---\ntitle: [unclosed\n---\n")
    missing = env / "missing-folder"
    code, out, _err = run(capsys, "--db", str(env / "a.db"), "load", str(root), str(missing))
    assert code == 3
    assert "2 added, 0 updated, 0 unchanged, 3 rejected" in out
    lines = out.splitlines()
    assert f"rejected {bad1}: no YAML front matter (file must start with '---')" in lines
    assert any(line.startswith(f"rejected {bad2}: YAML syntax error at line ") for line in lines)
    assert f"rejected {missing}: no such file or folder" in lines


def test_load_nothing_readable_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_raw(env / "r", "bad.md", b"\xff\xfe garbage")
    code, out, _err = run(capsys, "--db", str(env / "a.db"), "load", str(env / "r"))
    assert code == 2
    assert f"rejected {bad}: " in out


def test_load_missing_path_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", str(env / "a.db"), "load", str(env / "nope"))
    assert code == 2
    assert f"rejected {env / 'nope'}: no such file or folder" in out
    assert "no record files found" in err


def test_load_empty_folder_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "empty").mkdir()
    write_raw(env / "empty", "notes.txt", "not a record")
    code, _out, err = run(capsys, "--db", str(env / "a.db"), "load", str(env / "empty"))
    assert code == 2
    assert "no record files found" in err


def test_load_without_paths_is_a_usage_error(env: Path) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--db", str(env / "a.db"), "load"])
    assert info.value.code == 2


def test_load_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = env / "r"
    records(root, 2)
    bad = write_raw(root, "bad.md", "nothing")
    code, out, _err = run(capsys, "load", "--db", str(env / "a.db"), "--json", str(root))
    assert code == 3
    (line,) = out.splitlines()
    data = json.loads(line)
    assert (data["files"], data["added"], data["updated"], data["unchanged"]) == (3, 2, 0, 0)
    assert data["rejected"] == [f"{bad}: no YAML front matter (file must start with '---')"]


def test_max_record_bytes_from_environment(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = env / "r"
    records(root, 1)
    big = write_record(root, "big.md", title="Big", body="word " * 1000)
    monkeypatch.setenv("NEWSBOT_MAX_RECORD_BYTES", "2000")
    code, out, _err = run(capsys, "--db", str(env / "a.db"), "load", str(root))
    assert code == 3
    assert f"rejected {big}: file is over the 2,000-byte limit" in out


def test_prune(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = env / "a.db"
    files = records(env / "r", 3)
    records(env / "other", 1, prefix="o")
    assert run(capsys, "--db", str(db), "load", str(env / "r"), str(env / "other"))[0] == 0
    files[0].unlink()
    code, out, _err = run(capsys, "--db", str(db), "load", "--prune", str(env / "r"))
    assert code == 0
    assert "1 pruned" in out
    titles = sorted(t for (t,) in db_query(db, "SELECT title FROM articles"))
    assert titles == ["CLI story o0", "CLI story s1", "CLI story s2"]


def test_prune_refuses_on_empty_scan(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = env / "a.db"
    files = records(env / "r", 2)
    assert run(capsys, "--db", str(db), "load", str(env / "r"))[0] == 0
    before = db_dump(db)
    for f in files:
        f.unlink()
    code, _out, err = run(capsys, "--db", str(db), "load", "--prune", str(env / "r"))
    assert code == 2
    assert "refusing to prune" in err
    assert db_dump(db) == before


def test_newer_store_is_a_clear_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    db = env / "future.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = db.read_bytes()
    records(env / "r", 1)
    code, _out, err = run(capsys, "--db", str(db), "load", str(env / "r"))
    assert code == 2
    assert "999" in err and "newer" in err
    assert "Traceback" not in err
    assert db.read_bytes() == before


# -- stats ------------------------------------------------------------------------------------


def test_stats_json_keys_exactly(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = env / "a.db"
    records(env / "r", 3)
    run(capsys, "--db", str(db), "load", str(env / "r"))
    code, out, _err = run(capsys, "--db", str(db), "stats", "--json")
    assert code == 0
    (line,) = out.splitlines()
    stats = json.loads(line)
    assert set(stats) == KEYS
    assert stats["stories"] == 3
    assert stats["topics"] == 3  # Testing, T0, T1
    assert stats["providers"] == 1
    assert stats["related"] == 3
    assert stats["newest"] == "2022-05-03T08:00:00+00:00"
    assert stats["db_bytes"] >= db.stat().st_size > 0


def test_stats_text(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = env / "a.db"
    records(env / "r", 2)
    run(capsys, "--db", str(db), "load", str(env / "r"))
    code, out, _err = run(capsys, "stats", "--db", str(db))
    assert code == 0
    assert "   stories: 2" in out.splitlines()
    assert str(db) in out


def test_db_option_respected_in_both_positions(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = env / "one.db", env / "two.db"
    records(env / "r", 2)
    records(env / "q", 1, prefix="q")
    assert run(capsys, "--db", str(one), "load", str(env / "r"))[0] == 0
    assert run(capsys, "load", "--db", str(two), str(env / "q"))[0] == 0
    assert json.loads(run(capsys, "stats", "--json", "--db", str(one))[1])["stories"] == 2
    assert json.loads(run(capsys, "--db", str(two), "stats", "--json")[1])["stories"] == 1
    assert not (env / "default.db").exists()
    # Without --db, NEWSBOT_DB decides.
    monkeypatch.setenv("NEWSBOT_DB", str(two))
    assert json.loads(run(capsys, "stats", "--json")[1])["stories"] == 1


def test_new_store_autoloads_data_dir_on_first_stats(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default store (data/newsbot.db under the current folder) fills itself.
    monkeypatch.delenv("NEWSBOT_DB")
    monkeypatch.delenv("NEWSBOT_DATA_DIR")
    data = Path.cwd() / "data" / "articles"
    records(data, 4)
    db = Path("data") / "newsbot.db"
    code, out, err = run(capsys, "stats", "--json")
    assert code == 0
    assert json.loads(out)["stories"] == 4
    assert "new store" in err and "data/articles" in err
    assert db.exists()
    # Only a brand-new store loads on its own: a later file waits for `newsbot load`.
    records(data, 5)
    code, out, err = run(capsys, "--db", str(db), "stats", "--json")
    assert json.loads(out)["stories"] == 4
    assert "new store" not in err


# -- progress bar -------------------------------------------------------------------------------


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress_bar() == (None, None)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar, update = progress_bar()
    assert bar is not None and callable(update)
    # The bar draws on stderr, the stream that was checked, never into stdout.
    assert bar.console.file is sys.stderr


# -- the installed console script, for real -------------------------------------------------------


def newsbot_script() -> str:
    found = shutil.which("newsbot") or str(Path(sys.executable).parent / "newsbot")
    if not Path(found).exists():
        pytest.skip("the newsbot console script is not installed")
    return found


def script_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.pop("DISCORD_TOKEN", None)
    env["NEWSBOT_DATA_DIR"] = str(tmp / "no-data-dir")
    env["NEWSBOT_DB"] = str(tmp / "default.db")
    env["TERM"] = "xterm-256color"  # a bar would show if the tty check were wrong
    return env


def test_console_script_load_and_stats_piped(env: Path) -> None:
    exe = newsbot_script()
    root = env / "r"
    records(root, 450)  # past the worker-process threshold, and long enough for a bar
    bad = write_raw(root, "zz-bad.md", "---\ntitle: x\n")
    db = env / "script.db"
    proc = subprocess.run(
        [exe, "--db", str(db), "load", str(root)],
        capture_output=True,
        cwd=env / "cwd",
        env=script_env(env),
        timeout=120,
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 3, err
    assert out.startswith("451 files: 450 added, 0 updated, 0 unchanged, 1 rejected in ")
    assert f"rejected {bad}: front matter is not closed (no second '---' line)\n" in out
    # Piped: no progress bar, no terminal control codes anywhere.
    assert "\x1b" not in out + err and "\r" not in out + err
    assert "storing" not in err and "parsing" not in err

    proc = subprocess.run(
        [exe, "stats", "--json", "--db", str(db)],
        capture_output=True,
        cwd=env / "cwd",
        env=script_env(env),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert set(stats) == KEYS and stats["stories"] == 450
    assert not (env / "default.db").exists()
    assert db_query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_console_script_bar_on_terminal_stderr_not_in_piped_stdout(env: Path) -> None:
    import pty

    exe = newsbot_script()
    records(env / "r", 450)
    main_fd, term_fd = pty.openpty()
    try:
        proc = subprocess.Popen(
            [exe, "--db", str(env / "tty.db"), "load", "--workers", "1", str(env / "r")],
            stdout=subprocess.PIPE,
            stderr=term_fd,
            cwd=env / "cwd",
            env=script_env(env),
        )
        os.close(term_fd)
        term = b""
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            term += chunk
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(main_fd)
    assert b"storing" in term  # the bar was drawn on the terminal
    assert out.startswith(b"450 files: 450 added,")  # and stdout holds only the report
    assert b"\x1b" not in out
