"""`newsbot migrate --to URL`: output, exit codes, the password never shown, --db as a URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.cli import main as cli
from tests.cli.test_cli_load import records, run
from tests.drivers import sql_rows

PASSWORD = "pw-n0t-t0-be-shown"


def with_password(url: str) -> str:
    """`url` with a password (the test server trusts 127.0.0.1, so any password works)."""
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    netloc = f"{parts.username}:{PASSWORD}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def loaded(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = env / "bot.db"
    records(env / "r", 4)
    assert run(capsys, "--db", str(db), "load", str(env / "r"))[0] == 0
    return db


def test_migrate_copies_then_finds_it_already_there(
    env: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = loaded(env, capsys)
    url = with_password(pg_url)
    code, out, err = run(capsys, "--db", str(db), "migrate", "--to", url)
    assert code == 0, err
    assert out.startswith(f"copied {db} into ")
    assert "articles 4," in out and "one transaction" in out
    assert "***" in out and PASSWORD not in out + err
    assert sql_rows(pg_url, "SELECT count(*) FROM articles") == [(4,)]

    code, out, err = run(capsys, "migrate", "--db", str(db), "--to", url)
    assert code == 0, err
    assert out.startswith("already there: ") and "nothing changed" in out
    assert PASSWORD not in out + err
    # The copy is a store like any other: `--db URL` opens it.
    code, out, err = run(capsys, "--db", url, "stats", "--json")
    assert code == 0, err
    assert '"stories": 4' in out and PASSWORD not in out + err


def test_migrate_refuses_a_target_with_other_data(
    env: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = loaded(env, capsys)
    other = env / "other"
    records(other, 2, prefix="x")
    assert run(capsys, "--db", pg_url, "load", str(other))[0] == 0
    code, out, err = run(capsys, "--db", str(db), "migrate", "--to", with_password(pg_url))
    assert code == 2
    assert "other data" in err and "Nothing was changed" in err
    assert PASSWORD not in out + err
    assert sql_rows(pg_url, "SELECT count(*) FROM articles") == [(2,)]


def test_migrate_usage_errors_name_the_option(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = loaded(env, capsys)
    code, _out, err = run(capsys, "--db", str(db), "migrate", "--to", str(env / "x.db"))
    assert code == 2 and "--to" in err and "postgresql://" in err
    secret = f"postgresql://u:{PASSWORD}@127.0.0.1:1/db"
    code, out, err = run(capsys, "--db", secret, "migrate", "--to", secret)
    assert code == 2 and "--db" in err and "SQLite file" in err
    assert PASSWORD not in out + err
    with pytest.raises(SystemExit):
        cli.main(["--db", str(db), "migrate"])  # --to is required


def test_a_db_url_is_never_taken_for_a_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = f"postgresql://u:{PASSWORD}@127.0.0.1:1/db"
    code, out, err = run(capsys, "--db", secret, "stats")
    assert code == 2 and "127.0.0.1" in err
    assert PASSWORD not in out + err
    assert not list(env.rglob("*127.0.0.1*")) and not (env / "cwd" / "postgresql:").exists()
    code, _out, err = run(capsys, "--db", "mysql://u@h/db", "stats")
    assert code == 2 and "postgresql://" in err
