"""`newsbot load` (says what awaits), `newsbot embed`, `load --embed` and `stats --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.core.embeddings.models import MINILM, Encoder
from tests.helpers import write_record


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("NEWSBOT_DB", "NEWSBOT_DATA_DIR", "NEWSBOT_EMBEDDINGS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "r"
    for n, title in enumerate(["Tesla recalls cars over brakes", "Bank raises interest rates"]):
        write_record(folder, f"{n}.md", title=title, webUrl=f"https://news.example/{n}")
    return folder


def stats(capsys: pytest.CaptureFixture[str], db: Path) -> dict[str, object]:
    code, out, _ = run(capsys, "--db", str(db), "stats", "--json")
    assert code == 0
    return json.loads(out)


def test_load_does_not_wait_and_embed_backfills(
    records: Path, capsys: pytest.CaptureFixture[str], minilm: Encoder
) -> None:
    db = records.parent / "a.db"
    code, out, _ = run(capsys, "--db", str(db), "load", str(records))
    assert code == 0
    assert "2 stories await embeddings" in out
    found = stats(capsys, db)
    assert (found["embedded"], found["embedding_model"], found["embedding_error"]) == (
        0,
        MINILM,
        None,
    )
    code, out, _ = run(capsys, "--db", str(db), "embed")
    assert code == 0 and out.startswith(f"embedded 2 stories with {MINILM} in ")
    assert out.rstrip().endswith("0 awaiting")
    assert stats(capsys, db)["embedded"] == 2


def test_load_embed_does_both_and_keeps_json_alone_on_stdout(
    records: Path, capsys: pytest.CaptureFixture[str], minilm: Encoder
) -> None:
    db = records.parent / "b.db"
    code, out, err = run(capsys, "--db", str(db), "load", "--embed", "--json", str(records))
    assert code == 0
    assert json.loads(out)["added"] == 2
    assert "embedded 2 stories" in err
    assert stats(capsys, db)["embedded"] == 2


def test_a_model_that_cannot_load_is_named_in_stats_and_embed_refuses(
    records: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = records.parent / "c.db"
    monkeypatch.setenv("NEWSBOT_EMBEDDINGS", "no-such-model")
    assert run(capsys, "--db", str(db), "load", str(records))[0] == 0
    found = stats(capsys, db)
    assert found["embedding_model"] == "no-such-model"
    assert "unknown model 'no-such-model'" in str(found["embedding_error"])
    code, _, err = run(capsys, "--db", str(db), "embed")
    assert code == 2 and "no-such-model" in err
    code, out, _ = run(capsys, "--db", str(db), "ask", "tesla brakes")
    assert code == 0 and "Tesla recalls cars over brakes" in out  # lexical search answers
