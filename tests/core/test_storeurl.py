"""Store locations: a SQLite path or a PostgreSQL URL, and the only form of a URL shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import ConfigError, Settings
from bot.core.storeurl import is_postgres_url, is_url, redacted


@pytest.mark.parametrize(
    ("target", "url", "postgres"),
    [
        ("postgresql://u:p@h:5432/db", True, True),
        ("postgres://h/db", True, True),
        ("  POSTGRESQL://h/db", True, True),
        ("mysql://h/db", True, False),
        ("data/newsbot.db", False, False),
        ("/tmp/postgresql:/x.db", False, False),
        (Path("postgresql://h/db"), False, False),  # a Path is a file, whatever its name
    ],
)
def test_urls_are_told_from_paths(target: str | Path, url: bool, postgres: bool) -> None:
    assert is_url(target) is url
    assert is_postgres_url(target) is postgres


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("postgresql://bot:s3cret@db.local:5432/news", "postgresql://bot:***@db.local:5432/news"),
        (
            "postgresql://bot:s3cret@db.local/news?sslmode=require",
            "postgresql://bot:***@db.local/news?sslmode=require",
        ),
        ("postgresql://:pw@[::1]:5432/x", "postgresql://:***@[::1]:5432/x"),
        ("postgresql://bot@db.local/news", "postgresql://bot@db.local/news"),
        ("data/newsbot.db", "data/newsbot.db"),
    ],
)
def test_redacted_hides_only_the_password(target: str, shown: str) -> None:
    assert redacted(target) == shown


def test_settings_keep_a_url_out_of_the_path_and_out_of_repr() -> None:
    url = "postgresql://bot:hunter2hunter2@127.0.0.1:5432/news"
    s = Settings.from_env({"NEWSBOT_DB": url}, dotenv=False)
    assert s.db_url == url and s.store_target == url
    assert "hunter2" not in s.store_label and "hunter2" not in repr(s)
    assert "postgresql" not in str(s.db_path)


def test_another_scheme_is_refused_without_its_password() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"NEWSBOT_DB": "mysql://bot:hunter2hunter2@h/db"}, dotenv=False)
    assert "NEWSBOT_DB" in str(err.value) and "hunter2" not in str(err.value)
